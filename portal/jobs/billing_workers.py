"""A billing run split over worker processes (PostgreSQL; SQLite has a single writer).

Each worker bills the packages whose id falls in its shard, so the workers never wait on
each other; the row locks and the unique (package, boundary) key still make any overlap
with another run harmless.
"""
from __future__ import annotations

import multiprocessing
from datetime import datetime

from portal.jobs.billing import RunSummary, run_billing


def _worker(config: dict, now: datetime, shard: tuple[int, int]) -> tuple[int, list[int], int]:
    from portal import create_app

    app = create_app(config)
    with app.app_context():
        summary = run_billing(now, shard)
        return summary.packages, summary.invoice_ids, summary.failures


def run_billing_parallel(config: dict, now: datetime, workers: int) -> RunSummary:
    """Run billing as of `now` in `workers` processes and add up their summaries.

    :param config: settings for the workers' apps (at least SQLALCHEMY_DATABASE_URI).
    :param now: the run's instant.
    :param workers: number of processes (1 runs in this process).
    """
    if workers <= 1:
        return run_billing(now)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no shared connections
    with context.Pool(workers) as pool:
        results = pool.starmap(_worker, [(config, now, (k, workers)) for k in range(workers)])
    total = RunSummary()
    for packages, invoice_ids, failures in results:
        total.packages += packages
        total.invoice_ids += invoice_ids
        total.failures += failures
    return total
