"""Billing benchmark (PostgreSQL): the run, its cost per invoice and in month 12, PDFs, e-mail.

Every figure is printed with a baseline measured in the same run, and with the load
average, because the machine is shared:

- **run**: `--packages` monthly packages (one metered line, `--rows` usage rows each in
  September 2015) billed as of 2015-10-01 by `--workers` processes (`run_billing_parallel`,
  as `flask billing run --workers N` does). Baseline: the same invoice and line rows inserted
  by plain SQL (executemany of Core inserts) into scratch tables.
- **CPU per invoice**: user+system CPU of the billing processes (Meterbill) and of their
  PostgreSQL backends (`/proc/<pid>/stat`), per invoice; round trips = statements sent.
  Baseline: the CPU of the pure pricing (`compute_invoice_lines`) inside that run.
- **month 1 vs month 12**: `--history` packages billed monthly for 12 months, each month's
  usage inserted before its run (so history grows as in production); per-invoice CPU of the
  first and the twelfth run.
- **PDFs/s**: `--pdfs` invoices rendered by the process pool (`portal.jobs.pdf_pool`);
  baseline: the same PDFs rendered one after the other in this process.
- **mail**: every invoice of the run e-mailed with its PDF through the mail job
  (`send_due_deliveries`, parallel, rate-limited by the setting) to an aiosmtpd server on
  loopback; mails/min and the time to e-mail them all.

    .venv/bin/python bench/billing.py                      # full size (~10 minutes)
    .venv/bin/python bench/billing.py --packages 1000 --history 200 --mail 1000 --pdfs 100
    .venv/bin/python bench/billing.py --profile            # cProfile of one worker's run
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))  # the test kit's factories seed the bench

from billing_measure import (  # noqa: E402
    bill_month, load, mail_all, pdf_rates, raw_insert_baseline, seed, seed_usage,
)

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
# `$BENCH_DB_NAME` names the bench databases, so that two benches can run side by side.
DB_NAME = os.environ.get("BENCH_DB_NAME", "mb_engine_bench")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def fresh_database(name: str) -> str:
    """A new, empty PostgreSQL database `name` (dropped first); its URL."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG_SERVER}/{name}"


def month_start(k: int) -> datetime:
    """The first of the k-th month after September 2015 (k = 0: September)."""
    return utc(2015 + (8 + k) // 12, (8 + k) % 12 + 1, 1)


def history_run(url: str, packages: int, rows: int, workers: int) -> list[dict]:
    """Twelve monthly runs of the same packages, each month's usage inserted before its run."""
    seed(url, packages, 0)
    figures = []
    for k in range(12):
        seed_usage(url, packages, rows, month_start(k), month_start(k + 1))
        figures.append(bill_month(url, month_start(k + 1), workers))
    return figures


def per(stats: dict, key: str, unit: float = 1000) -> float:
    return stats[key] * unit / max(stats["invoices"], 1)


def bill_run(args) -> None:
    """Seed, bill as of 2015-10-01 and print the run's figures."""
    url = fresh_database(DB_NAME)
    started = time.perf_counter()
    seed(url, args.packages, args.rows, utc(2015, 9, 1), utc(2015, 10, 1))
    print(f"seeded in {time.perf_counter() - started:.0f} s; load average {load()}", flush=True)
    run = bill_month(url, utc(2015, 10, 1), 1 if args.profile else args.workers, profile=args.profile)
    base = raw_insert_baseline(url)
    print(f"\nrun            {run['seconds']:8.1f} s  for {run['invoices']} invoices "
          f"(target <= 30 s); baseline raw SQL insert of the same rows {base['seconds']:.1f} s; "
          f"load average {run['load']}")
    print(f"CPU/invoice    {per(run, 'cpu'):8.2f} ms Meterbill + {per(run, 'pg_cpu'):.2f} ms PostgreSQL "
          f"(target <= 6 ms); baseline pricing only {per(run, 'pricing_cpu'):.2f} ms, "
          f"raw insert {base['cpu'] * 1000 / max(run['invoices'], 1):.2f} ms")
    print(f"round trips    {per(run, 'statements', 1):8.1f} per invoice; baseline raw insert "
          f"{base['statements'] / max(run['invoices'], 1):.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=200, help="usage rows per package and month")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--history", type=int, default=500, help="packages of the 12-month run")
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--mail", type=int, default=None, help="invoices e-mailed (default: all)")
    parser.add_argument("--profile", action="store_true", help="cProfile one worker; print the top")
    parser.add_argument("--skip", default="",
                        help="comma list of parts to skip: run (reuse the last run's invoices),history,pdf,mail")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"Billing benchmark (PostgreSQL): {args.packages} packages x {args.rows} usage rows, "
          f"{os.cpu_count()} CPUs, {args.workers} worker(s); load average {load()}", flush=True)
    url = f"{PG_SERVER}/{DB_NAME}"  # the run's database: its invoices are e-mailed below
    if "run" in skip:  # PDFs and mail of the invoices an earlier run left in the database
        skip.add("history")
    else:
        bill_run(args)
    if "history" not in skip:
        months = history_run(fresh_database(f"{DB_NAME}_hist"), args.history, args.rows,
                             args.workers)
        first, last = months[0], months[-1]
        print(f"month 1 / 12   {per(first, 'cpu'):8.2f} / {per(last, 'cpu'):.2f} ms Meterbill CPU per "
              f"invoice = {per(last, 'cpu') / per(first, 'cpu'):.2f}x (target <= 1.1x); PostgreSQL "
              f"{per(first, 'pg_cpu'):.2f} / {per(last, 'pg_cpu'):.2f} ms; round trips "
              f"{per(first, 'statements', 1):.1f} / {per(last, 'statements', 1):.1f}; "
              f"load average {last['load']}", flush=True)
        # Every month, so that a trend can be told from one noisy month on a shared machine.
        print("  by month     " + " ".join(f"{per(m, 'cpu'):.2f}+{per(m, 'pg_cpu'):.2f}" for m in months)
              + " ms (Meterbill+PostgreSQL)", flush=True)
    if "pdf" not in skip:
        pdf = pdf_rates(url, args.pdfs)
        print(f"PDFs/s         {pdf['pool']:8.1f} in a pool of {pdf['processes']} (target >= 35); "
              f"baseline one process {pdf['serial']:.1f}; load average {pdf['load']}", flush=True)
    if "mail" not in skip:
        mail = mail_all(url, args.mail)
        print(f"mail           {mail['per_minute']:8.0f} mails/min; all {mail['sent']} invoices e-mailed "
              f"with PDF in {mail['seconds']:.0f} s (target <= 600 s); rate limit "
              f"{mail['limit']}/min; load average {mail['load']}", flush=True)


if __name__ == "__main__":
    main()
