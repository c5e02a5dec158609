"""Billing benchmark: 10,000 active packages with 2,000,000 usage records in the period.

Prints, for SQLite and PostgreSQL: seconds for the whole run, invoices per second, PDFs per
second, and the peak memory (max RSS) of the process that ran the billing. The billing
run is `flask billing run --now "2015-10-01 00:00:00"` in a child process, exactly as the
scheduler would run it; seeding is excluded from the figures.

    .venv/bin/python bench/billing.py                 # both databases, full size
    .venv/bin/python bench/billing.py --packages 1000 --records 200000 --db sqlite
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "meterbill_bench_billing"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def database_url(kind: str, workdir: Path) -> str:
    """A fresh, empty database of `kind`."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench-billing.db'}"
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


def seed(url: str, packages: int, records: int) -> None:
    """Customers, one metered item ($10 base + $0.05/minute), packages, usage in September."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from portal import create_app
    from portal.extensions import db
    from portal.models import Contact, Customer, LineItem, Package, QuantityChange, UsageRecord
    from tests.factories import make_voip_item

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        item = make_voip_item()
        db.session.commit()
        start, due = utc(2015, 9, 1), utc(2015, 10, 1)
        db.session.execute(insert(Customer), [
            {"id": n, "company": f"Customer {n}", "currency": "USD", "custom_fields": {}}
            for n in range(1, packages + 1)])
        db.session.execute(insert(Contact), [
            {"id": n, "customer_id": n, "email": f"billing{n}@example.com", "is_billing_contact": True}
            for n in range(1, packages + 1)])
        db.session.execute(insert(Package), [
            {"id": n, "customer_id": n, "paycycle": "mon", "status": "active-current",
             "start_at": start, "next_invoice_at": due} for n in range(1, packages + 1)])
        db.session.execute(insert(LineItem), [
            {"id": n, "package_id": n, "item_id": item.id, "line_quantity": 1, "trial_days": 0,
             "subscribe_at": start} for n in range(1, packages + 1)])
        db.session.execute(insert(QuantityChange), [
            {"line_item_id": n, "effective_at": start, "quantity": 1} for n in range(1, packages + 1)])
        db.session.commit()
        _seed_usage(db, UsageRecord, packages, records, start)
        if db.engine.dialect.name == "postgresql":
            for table in ("customers", "contacts", "packages", "line_items"):
                db.session.execute(db.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {packages})"))
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()


def _seed_usage(db, model, packages: int, records: int, start: datetime) -> None:
    """`records` usage rows spread over the lines and September, inserted in batches."""
    from sqlalchemy import insert

    per_line = records // packages
    batch = []
    for line in range(1, packages + 1):
        for k in range(per_line):
            when = start + timedelta(seconds=(k * 86400 * 29) // per_line)
            batch.append({"line_item_id": line, "usage_value": 1 + k % 5, "from_at": when,
                          "to_at": when, "source": "api", "created_at": start})
        if len(batch) >= 50_000:
            db.session.execute(insert(model), batch)
            db.session.commit()
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
        db.session.commit()


def timed_billing_run(url: str, workers: int) -> tuple[float, int, float]:
    """Run the billing in a child process: (seconds, invoices created, peak RSS in MB)."""
    env = dict(os.environ, DATABASE_URL=url)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "billing", "run",
                          "--now", "2015-10-01 00:00:00", "--workers", str(workers)],
                         cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    created = int(run.stdout.split("due, ")[1].split(" invoice")[0])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, created, peak_mb


def pdfs_per_second(url: str, count: int) -> float:
    """Render `count` invoice PDFs in this process and return the rate."""
    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.models import Invoice
    from portal.services.pdf import render_invoice_pdf

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        invoices = db.session.scalars(select(Invoice).limit(count)).all()
        render_invoice_pdf(invoices[0])  # warm-up: fonts and templates
        started = time.perf_counter()
        for invoice in invoices:
            render_invoice_pdf(invoice)
        return len(invoices) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="billing worker processes on PostgreSQL (SQLite uses one)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"Billing benchmark: {args.packages} packages, {args.records} usage records, "
          f"{os.cpu_count()} CPUs, {args.workers} billing worker(s) on PostgreSQL")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            url = database_url(kind, Path(workdir))
            started = time.perf_counter()
            seed(url, args.packages, args.records)
            print(f"  {kind}: seeded in {time.perf_counter() - started:.1f} s", flush=True)
            seconds, created, peak = timed_billing_run(url, args.workers if kind == "postgresql" else 1)
            rate = pdfs_per_second(url, args.pdfs)
            rows.append((kind, seconds, created, created / seconds, rate, peak))
    print(f"\n{'database':<11}{'run (s)':>9}{'invoices':>10}{'inv/s':>9}{'PDF/s':>8}{'peak MB':>9}")
    for kind, seconds, created, inv_rate, pdf_rate, peak in rows:
        print(f"{kind:<11}{seconds:>9.1f}{created:>10}{inv_rate:>9.0f}{pdf_rate:>8.1f}{peak:>9.0f}")
    print("targets: 10,000 invoices in <= 60 s, >= 30 PDF/s, <= 500 MB")


if __name__ == "__main__":
    main()
