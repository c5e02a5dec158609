"""Asking for background work: a `jobs` row written in the caller's transaction.

This is the queue's write side, which every service may use (it only flushes); claiming and
running jobs, which commit, belong to `portal.jobs`.
"""
from __future__ import annotations

from datetime import datetime

from portal.billing.vocabulary import JobStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Job


def enqueue(kind: str, payload: dict, run_after: datetime | None = None) -> Job:
    """Add a waiting job in the caller's transaction; flushes (the caller commits).

    :param kind: the handler's name in the dispatch table.
    :param payload: JSON arguments of the handler.
    :param run_after: not before this instant (default: now).
    """
    job = Job(kind=kind, payload=payload, status=JobStatus.WAITING, attempts=0,
              run_after=run_after or utcnow())
    db.session.add(job)
    db.session.flush()
    return job
