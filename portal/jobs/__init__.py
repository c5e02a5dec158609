"""Background jobs: one queue in the database, run by the scheduler process(es).

- `enqueue(kind, payload)` writes a `jobs` row in the caller's transaction (flushes; the
  caller commits), so a job exists exactly when the change that asked for it does.
- `register(kind, run, failed=None)` puts a handler in the dispatch table `HANDLERS`.
- `run_pending(app, worker_id)` (the scheduler's job-runner job, and `flask jobs run`)
  claims due jobs one at a time and runs them with a heartbeat.

Claiming: PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED` (several workers on several
machines never claim the same job); SQLite a single conditional UPDATE. A running job
whose heartbeat is older than JOBS_STALE_SECONDS belongs to a dead worker: the next
worker claims it again and its handler resumes it; after JOBS_MAX_ATTEMPTS it is failed.
Delivery is at-least-once, so handlers are written to be resumed (see `csv_import`).
"""
from portal.jobs.queue import LeaseLost, enqueue
from portal.jobs.runner import HANDLERS, JobContext, register, run_pending
from portal.jobs.schedule import interval_seconds

__all__ = ["HANDLERS", "JobContext", "LeaseLost", "enqueue", "interval_seconds", "register",
           "run_pending"]
