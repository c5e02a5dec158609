"""CSV export of many usage records: rows per second and peak Python memory (tracemalloc).

    .venv/bin/python bench/exports.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/DB
    .venv/bin/python bench/exports.py --rows 200000            # SQLite in a temporary folder

The database is emptied and migrated (use a database of its own), one package line gets
`--rows` usage records (PostgreSQL: one INSERT … SELECT generate_series), then the usage
export is streamed to nowhere twice, at two sizes, so the peak memory can be compared: it
must not grow with the number of rows.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def _reset(app) -> None:
    from flask_migrate import upgrade

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade()


def _seed(rows: int) -> int:
    """A customer, an item and a package; `rows` usage records on its line (one per second)."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from portal.billing.pricing import PriceModel
    from portal.services.catalog import create_item, unit_price
    from portal.services.customers import create_customer
    from portal.services.packages import LineDraft, create_package

    item = create_item(name="Minutes", is_metered=True,
                       pricing=PriceModel(pricemodel="uni", base=Decimal("1"), tiers=unit_price("0.01")))
    customer = create_customer(company="=Bench Corp")
    package = create_package(customer, [LineDraft(item=item)], start_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    db.session.commit()
    line_id = package.line_items[0].id
    params = {"line": line_id, "n": rows}
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(
            "INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, external_key, source, created_at) "
            "SELECT :line, 1500000 + g, TIMESTAMP '2020-01-02' + g * INTERVAL '1 second', "
            "TIMESTAMP '2020-01-02' + g * INTERVAL '1 second', '-key' || g, 'api', now() "
            "FROM generate_series(1, :n) AS g"), params)
    else:
        db.session.execute(text(
            "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n) "
            "INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, external_key, source, created_at) "
            "SELECT :line, 1500000 + i, datetime('2020-01-02', '+' || i || ' seconds'), "
            "datetime('2020-01-02', '+' || i || ' seconds'), '-key' || i, 'api', datetime('now') FROM g"), params)
    db.session.commit()
    return line_id


def _measure(filters) -> tuple[int, int, float, int]:
    """(rows, bytes, seconds, peak bytes of Python allocations) of one streamed export."""
    from portal.services.exports import stream_csv

    tracemalloc.start()
    started = time.perf_counter()
    size = lines = 0
    for chunk in stream_csv("usage", filters, date.today()):
        size += len(chunk)
        lines += chunk.count("\r\n")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.session.rollback()
    return lines - 1, size, elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="")
    args = parser.parse_args()
    url = args.pg_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        from portal.services.exports import ExportFilters

        _reset(app)
        started = time.perf_counter()
        line_id = _seed(args.rows)
        print(f"{db.engine.dialect.name}: {args.rows:,} usage records written in "
              f"{time.perf_counter() - started:.1f} s")
        small = ExportFilters(line_id=line_id, date_to=date(2020, 1, 2))  # the first day's rows
        for name, filters in (("first day", small), ("all", ExportFilters(line_id=line_id))):
            rows, size, seconds, peak = _measure(filters)
            print(f"  {name:>9}: {rows:>9,} rows, {size / 1e6:7.1f} MB of CSV in {seconds:6.1f} s "
                  f"({rows / max(seconds, 1e-9):,.0f} rows/s), peak Python memory {peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
