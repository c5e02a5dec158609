"""Pulled usage URLs in the background process: plan the pulls of due packages, run each.

A transaction owner. The planner writes the pull rows of each due package's next boundary
and queues one job per pull, one transaction per package (two planners collide on the
unique (line, boundary) key: the second rolls back). A pull job POSTs to the merchant's
URL with no transaction open, then, still holding the job, stores the usage and marks the
pull done in one commit — or records the error and queues the next attempt after a
backoff. The billing run bills the package once every pull of its boundary is done.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.extensions import db
from portal.jobs.runner import JobContext
from portal.models import Package, UsagePull
from portal.billing.errors import Conflict
from portal.services.usage_pulls import (
    PullError, due_pull_packages, fetch_usage, note_failure, plan_package_pulls, pull_request_body,
    pull_url, schedule_attempt, store_pulled,
)

log = logging.getLogger("meterbill.usage_pulls")


def plan_usage_pulls(now: datetime | None = None) -> int:
    """Write and queue the pulls of every package due by `now`; returns how many were queued."""
    queued = 0
    for package_id in due_pull_packages(now or utcnow()):
        try:
            pending = plan_package_pulls(db.session.get(Package, package_id))
            for pull in pending:
                schedule_attempt(pull)
            db.session.commit()
            queued += len(pending)
        except IntegrityError:  # another planner wrote them first
            db.session.rollback()
    db.session.commit()
    return queued


def run_pull_job(context: JobContext) -> None:
    """Job handler: one attempt of one pull (a no-op when that attempt was already made)."""
    pull_id, attempt = context.payload["pull_id"], context.payload.get("attempt", 1)
    pull = db.session.get(UsagePull, pull_id)
    if pull is None or pull.status == "done" or pull.attempts >= attempt:
        return
    source = pull_url(pull.line_item_id)
    if source is None:  # the URL was removed: the line's usage is what was sent otherwise
        pull.status, pull.last_error = "done", "the usage URL was removed before the pull"
        db.session.commit()
        return
    url, body = source.url, pull_request_body(pull)
    db.session.rollback()  # no transaction stays open while the endpoint answers
    try:
        amounts, error = fetch_usage(url, body), None
    except PullError as failure:
        amounts, error = None, str(failure)
    context.renew()  # still ours? (LeaseLost: the new owner pulls again; nothing stored)
    pull = db.session.get(UsagePull, pull_id)
    if pull.status == "done" or pull.attempts >= attempt:
        db.session.rollback()
        return
    if error is None:
        try:
            store_pulled(pull, amounts)
        except (ValidationError, Conflict) as refused:  # e.g. the line was cancelled meanwhile
            db.session.rollback()
            pull, error = db.session.get(UsagePull, pull_id), f"the usage was refused: {refused}"
    if error is not None:
        log.warning("Usage pull %s (line %s) failed: %s", pull_id, pull.line_item_id, error)
        note_failure(pull, error)
    db.session.commit()


def pull_job_failed(payload: dict, error: str) -> None:
    """The queue gave a pull job up (it kept crashing): record why and queue a later
    attempt, so the package never waits without a pull on its way."""
    pull = db.session.get(UsagePull, payload.get("pull_id"))
    if pull is not None and pull.status == "pending":
        note_failure(pull, f"the pull job failed: {error}")


def usage_pulls_job(app) -> int:
    """The scheduler's pull planner: one pass in an app context."""
    with app.app_context():
        try:
            queued = plan_usage_pulls()
        finally:
            db.session.remove()
    if queued:
        log.info("Usage pulls: %s queued", queued)
    return queued
