"""Usage graph and dashboard benchmark on PostgreSQL: rollups + open remainder vs raw rows.

Not a test (pytest only collects tests/). From a fresh clone:  make install  then
    .venv/bin/python bench/graphs.py [--rows 10000000] [--reuse]
See bench/README.md for what each figure means and the targets.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAYS = 300  # of history, ending now
LINES = 1000  # 100 packages of 10 lines (10 items); line 1 is the busiest
BUSY_SHARE = 0.3  # of all rows: 10 M rows give the busiest line ~300 k rows a month


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="usage rows generated")
    parser.add_argument("--runs", type=int, default=40, help="timed calls per figure")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an existing PostgreSQL database used to create the bench database")
    parser.add_argument("--db-name", default="mb_rollups_bench")
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    return parser.parse_args()


def database_url(args) -> str:
    """The bench database (dropped and re-created unless --reuse)."""
    import psycopg

    if not args.reuse:
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.db_name}")
    base = args.pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{args.db_name}"


def seed(start: datetime) -> list[int]:
    """10 metered items, 100 monthly packages of 10 lines; returns the line ids."""
    from portal.billing.pricing import PriceModel
    from portal.extensions import db
    from portal.services.catalog import create_item, unit_price
    from portal.services.customers import create_customer
    from portal.services.packages import LineDraft, create_package

    items = [create_item(name=f"Item {n:02}", is_metered=True, units="minute", pricing=PriceModel(
        pricemodel="uni", base=Decimal("10.00"), tiers=unit_price("0.05"))) for n in range(10)]
    lines = []
    for n in range(LINES // 10):
        customer = create_customer(company=f"Bench {n}")
        package = create_package(customer, [LineDraft(item=item) for item in items], start_at=start)
        lines += [line.id for line in package.line_items]
    db.session.commit()
    return lines


def generate(rows: int, lines: list[int], start: datetime, end: datetime) -> float:
    """Insert the usage rows with generate_series in chunks; returns the seconds taken."""
    from sqlalchemy import text

    from portal.extensions import db

    span = (end - start).total_seconds()
    busy = int(rows * BUSY_SHARE)
    began = time.monotonic()
    db.session.execute(text("ALTER TABLE usage_records DISABLE TRIGGER USER"))  # history: no change log
    chunk = 1_000_000
    for first in range(0, rows, chunk):
        last = min(rows, first + chunk) - 1
        # Rows [0, busy) belong to the busiest line, the others go round the other lines;
        # `from` spreads each group evenly over the history; values 0-49.75 in quarters.
        db.session.execute(text("""
            INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, source, created_at)
            SELECT line, ((g * 7919) % 200) * 250000, at, at, 'api', at
            FROM (SELECT g,
                    CASE WHEN g < :busy THEN :first_line ELSE :first_line + 1 + (g % :others) END AS line,
                    CAST(:start AS timestamp) + make_interval(secs => CASE WHEN g < :busy
                        THEN g * :span / :busy ELSE (g - :busy) * :span / (:rows - :busy) END) AS at
                  FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) AS g) AS s"""),
            dict(busy=busy, first_line=lines[0], others=len(lines) - 1, span=span, rows=rows,
                 start=start.replace(tzinfo=None), a=first, b=last))
        db.session.commit()
        print(f"  {last + 1:>11,} rows", flush=True)
    db.session.execute(text("ALTER TABLE usage_records ENABLE TRIGGER USER"))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return time.monotonic() - began


def timed(call, runs: int) -> tuple[float, float, float]:
    """(p50, p95, CPU per call) in milliseconds."""
    call()  # warm up
    wall, cpu = [], time.process_time()
    for _ in range(runs):
        began = time.perf_counter()
        call()
        wall.append((time.perf_counter() - began) * 1000)
    cpu = (time.process_time() - cpu) * 1000 / runs
    wall.sort()
    return statistics.median(wall), wall[min(len(wall) - 1, int(len(wall) * 0.95))], cpu


def figures(lines: list[int], now: datetime, runs: int) -> dict[str, tuple]:
    """The graph of the busiest line's last full period, the current one, and the dashboard."""
    from portal.extensions import db
    from portal.models import LineItem
    from portal.services.charts import choose_period, usage_series
    from portal.services.reports import dashboard, usage_by_item

    line = db.session.get(LineItem, lines[0])
    current = choose_period(line, now=now).period
    full = choose_period(line, current.index - 1, now=now).period
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Early in a month "this month" holds a day or two: the dashboard is also timed as it is
    # on the last day of the previous, full month (its last instant; that day read raw).
    month_end = month_start - timedelta(microseconds=1)
    last_month = month_end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = {
        "graph, busiest line, last full month": timed(lambda: usage_series(line, full), runs),
        "graph, busiest line, current month": timed(lambda: usage_series(line, current), runs),
        "dashboard usage by item (month)": timed(lambda: usage_by_item(month_start, now), runs),
        "dashboard page figures": timed(lambda: dashboard(now), runs),
        "dashboard usage by item, full month": timed(lambda: usage_by_item(last_month, month_end), runs),
        "dashboard page figures, full month": timed(lambda: dashboard(month_end), runs),
    }
    db.session.rollback()
    records = usage_series(line, full).records
    return {"records": records, **out}


def raw_figures(lines, now, runs) -> dict[str, tuple]:
    """The same figures with nothing counted as rolled (the raw queries), then rolled back."""
    from sqlalchemy import update

    from portal.extensions import db
    from portal.models import UsageRollupState

    db.session.execute(update(UsageRollupState).values(rolled_before=None))
    try:
        return figures(lines, now, max(5, runs // 4))
    finally:
        db.session.rollback()


def late_usage(lines: list[int], now: datetime) -> tuple[int, float]:
    """1,000 late records over past days of 100 lines; seconds the job takes to apply them."""
    from sqlalchemy import text

    from portal.extensions import db
    from portal.jobs.rollups import roll_usage

    db.session.execute(text("""
        INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, source, created_at)
        SELECT :first + (g % 100) * 7, 1000000, CAST(:now AS timestamp) - make_interval(days => 2 + g % 200),
               CAST(:now AS timestamp), 'api', CAST(:now AS timestamp)
        FROM generate_series(1, 1000) AS g"""), dict(first=lines[0], now=now.replace(tzinfo=None)))
    db.session.commit()
    began = time.monotonic()
    run = roll_usage(now)
    return run.late, time.monotonic() - began


def vacuum() -> None:
    """What autovacuum does soon after the job writes: the visibility map (index-only scans)."""
    from sqlalchemy import text

    from portal.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE usage_day_rollups"))


def report(rolled: dict, raw: dict) -> None:
    print(f"\nbusiest line's last full month: {rolled['records']:,} records")
    print(f"{'figure':<40} {'rollups p50/p95 (cpu)':>26} {'raw p50/p95 (cpu)':>26}")
    for name in (name for name in rolled if name != "records"):
        (p50, p95, cpu), (r50, r95, rcpu) = rolled[name], raw[name]
        print(f"{name:<40} {p50:>8.1f} /{p95:>7.1f} ms ({cpu:5.1f}) {r50:>8.1f} /{r95:>7.1f} ms ({rcpu:5.1f})")


def main() -> int:
    args = parse_args()
    from portal import create_app
    from portal.extensions import db
    from portal.jobs.rollups import roll_usage
    from portal.models import LineItem

    url = database_url(args)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TIMEZONE": "UTC"})
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    with app.app_context():
        if not args.reuse:
            from flask_migrate import upgrade
            upgrade()
            lines = seed(start)
            print(f"generating {args.rows:,} usage rows over {DAYS} days ...", flush=True)
            print(f"generated in {generate(args.rows, lines, start, now):.0f} s")
        lines = sorted(db.session.scalars(db.select(LineItem.id)))
        began = time.monotonic()
        run = roll_usage(now)
        print(f"rollup job: {run.days} days, {run.rows:,} rollup rows in {time.monotonic() - began:.1f} s")
        late, seconds = late_usage(lines, now)
        print(f"late usage: {late} (line, day) recomputed in {seconds * 1000:.0f} ms")
        vacuum()
        load_before = os.getloadavg()
        rolled = figures(lines, now, args.runs)
        raw = raw_figures(lines, now, args.runs)
        report(rolled, raw)
        print(f"\nload average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f} "
              f"({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
