"""The jobs table as a queue: enqueue, claim, renew (heartbeat), finish, retry or fail.

Every state change of a claimed job is fenced by `locked_by`: a worker whose job was
taken over (its heartbeat went stale) can no longer renew, finish or fail it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update

from portal.billing.vocabulary import JobStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Job
from portal.services.job_queue import enqueue  # noqa: F401  (the queue's write side)

CLAIM_CANDIDATES = 5  # SQLite: ids tried per claim when other workers race for the first
PURGE_BATCH = 1000  # done jobs deleted per transaction by `purge_done`
RETRY_BASE_SECONDS = 5  # a failed attempt waits 5 s, 10 s, 20 s ... before the next


class LeaseLost(Exception):
    """The job is no longer this worker's: another worker took it over."""


def _claimable(now: datetime, stale_before: datetime, max_attempts: int):
    """Due waiting jobs, and running jobs of dead workers that have attempts left."""
    return or_(
        and_(Job.status == JobStatus.WAITING, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale_before, Job.attempts < max_attempts),
    )


def claim(worker_id: str, stale_seconds: int, max_attempts: int) -> Job | None:
    """Claim the oldest claimable job for `worker_id`; commits. None when there is none.

    :param worker_id: who claims (host:pid:random), written to `locked_by`.
    :param stale_seconds: a running job without a heartbeat for this long is taken over.
    :param max_attempts: a job is claimed at most this many times.
    """
    now = utcnow()
    condition = _claimable(now, now - timedelta(seconds=stale_seconds), max_attempts)
    query = select(Job.id).where(condition).order_by(Job.run_after, Job.id)
    if db.engine.dialect.name == "postgresql":
        # Rows another worker is claiming are skipped, not waited for.
        candidates = list(db.session.scalars(query.limit(1).with_for_update(skip_locked=True)))
    else:
        candidates = list(db.session.scalars(query.limit(CLAIM_CANDIDATES)))
    for job_id in candidates:
        # One conditional UPDATE: on SQLite it is the claim itself (the condition is checked
        # again under the write lock); on PostgreSQL the row is already locked.
        claimed = db.session.execute(
            update(Job).where(Job.id == job_id, condition)
            .values(status=JobStatus.RUNNING, locked_by=worker_id, heartbeat_at=now,
                    attempts=Job.attempts + 1, started_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if claimed == 1:
            db.session.commit()
            return db.session.get(Job, job_id, populate_existing=True)
    db.session.commit()
    return None


def fail_abandoned(stale_seconds: int, max_attempts: int) -> list[Job]:
    """Fail the running jobs of dead workers that used all their attempts; commits.

    :returns: the jobs failed now (their handlers' `failed` hooks still have to run).
    """
    now = utcnow()
    stale = and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < now - timedelta(seconds=stale_seconds),
                 Job.attempts >= max_attempts)
    jobs = list(db.session.scalars(select(Job).where(stale).order_by(Job.id)))
    failed = []
    for job in jobs:
        message = (f"The worker running it stopped responding (no heartbeat for {stale_seconds} s) "
                   f"after {job.attempts} attempt(s).")
        done = db.session.execute(
            update(Job).where(Job.id == job.id, stale)
            .values(status=JobStatus.FAILED, error=message, finished_at=now, locked_by=None)
            .execution_options(synchronize_session=False)).rowcount
        if done:
            failed.append(job)
    db.session.commit()
    for job in failed:
        db.session.refresh(job)
    return failed


def renew(job_id: int, worker_id: str, connection=None) -> None:
    """Renew the heartbeat of a job this worker holds, in the current transaction (so a
    handler's commit carries its work and the proof it still owned the job together).

    :param connection: a connection of its own (the heartbeat thread); default the session.
    :raises LeaseLost: the job was taken over (or finished) by another worker.
    """
    statement = (update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING,
                                   Job.locked_by == worker_id)
                 .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
    executor = connection if connection is not None else db.session
    if executor.execute(statement).rowcount != 1:
        raise LeaseLost(f"job {job_id} is no longer held by {worker_id}")


def finish(job_id: int, worker_id: str) -> bool:
    """Mark a held job done; commits. False when it was taken over meanwhile."""
    done = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.locked_by == worker_id)
        .values(status=JobStatus.DONE, finished_at=utcnow(), locked_by=None, error=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return done == 1


def retry_or_fail(job_id: int, worker_id: str, error: str, max_attempts: int) -> str | None:
    """After a failed attempt: wait and retry (backoff), or fail once attempts are used;
    commits. Returns the new status, or None when the job was no longer held."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.status != JobStatus.RUNNING or job.locked_by != worker_id:
        db.session.rollback()
        return None
    now = utcnow()
    if job.attempts >= max_attempts:
        job.status, job.finished_at = JobStatus.FAILED, now
    else:
        job.status = JobStatus.WAITING
        job.run_after = now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (job.attempts - 1))
    job.error, job.locked_by = error[:4000], None
    db.session.commit()
    return job.status


def purge_done(keep_days: int, now: datetime | None = None) -> int:
    """Delete jobs finished `done` more than `keep_days` ago; commits. Failed jobs stay (they
    explain a failure and the dashboard counts them); waiting and running ones are live.
    Returns how many were deleted.

    Deletes in batches of PURGE_BATCH, each its own transaction: the first purge of a long
    queue is not one huge statement holding its locks and WAL until the end.

    :param keep_days: days a done job is kept (for the job list and debugging); at least
        1, so that a setting of 0 or less cannot delete the jobs that just finished.
    :param now: the instant (default: now).
    """
    cutoff = (now or utcnow()) - timedelta(days=max(1, keep_days))
    deleted = 0
    while True:
        batch = select(Job.id).where(Job.status == JobStatus.DONE, Job.finished_at < cutoff).limit(PURGE_BATCH)
        count = db.session.execute(delete(Job).where(Job.id.in_(batch))
                                   .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        deleted += count
        if count < PURGE_BATCH:
            return deleted


def queue_counts() -> dict[str, int]:
    """How many jobs are waiting, running and failed (for health and the dashboard)."""
    from sqlalchemy import func

    rows = db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    counts = {"waiting": 0, JobStatus.RUNNING: 0, JobStatus.FAILED: 0}
    counts.update({status: n for status, n in rows if status in counts})
    return counts
