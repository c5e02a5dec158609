"""Runs claimed jobs: the dispatch table of handlers, the heartbeat, the outcome."""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from collections.abc import Callable

from portal.extensions import db
from portal.jobs import queue

log = logging.getLogger("meterbill.jobs")


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job's id and payload, its attempt, and who runs it."""

    job_id: int
    worker_id: str
    payload: dict
    attempt: int

    @property
    def resumed(self) -> bool:
        """Whether an earlier attempt ran (and may have done part of the work)."""
        return self.attempt > 1

    def renew(self) -> None:
        """Renew the heartbeat in the session's transaction; commit right after it.

        :raises LeaseLost: another worker took the job over: stop without committing.
        """
        queue.renew(self.job_id, self.worker_id)


@dataclass(frozen=True)
class Handler:
    """`run(context)` does the work (resumable: it may run again after a crash);
    `failed(payload, error)` records the final failure where users look for it."""

    run: Callable[[JobContext], None]
    failed: Callable[[dict, str], None] | None = None


HANDLERS: dict[str, Handler] = {}


def register(kind: str, run: Callable[[JobContext], None],
             failed: Callable[[dict, str], None] | None = None) -> None:
    """Add the handler of a job kind to the dispatch table."""
    HANDLERS[kind] = Handler(run, failed)


def new_worker_id() -> str:
    """host:pid:random: unique per runner, readable in the jobs table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_pending(app, worker_id: str | None = None, limit: int = 100) -> dict[str, int]:
    """Claim and run due jobs one after the other until none is left (at most `limit`).

    :param app: the Flask app (each call runs in an app context of its own).
    :param worker_id: who claims; default a new id for this call.
    :returns: counts by outcome (done, retry, failed, lost).
    """
    from portal.jobs.handlers import register_all

    register_all()
    worker_id = worker_id or new_worker_id()
    counts: dict[str, int] = {}
    with app.app_context():
        try:
            stale, attempts = app.config["JOBS_STALE_SECONDS"], app.config["JOBS_MAX_ATTEMPTS"]
            for job in queue.fail_abandoned(stale, attempts):
                _call_failed(job.kind, job.payload, job.error)
                counts["failed"] = counts.get("failed", 0) + 1
            for _ in range(limit):
                job = queue.claim(worker_id, stale, attempts)
                if job is None:
                    break
                outcome = _run_one(app, job, worker_id)
                counts[outcome] = counts.get(outcome, 0) + 1
        finally:
            db.session.remove()
    return counts


def _run_one(app, job, worker_id: str) -> str:
    """Run one claimed job with a heartbeat; record its outcome."""
    context = JobContext(job.id, worker_id, dict(job.payload or {}), job.attempts)
    handler = HANDLERS.get(job.kind)
    beat = _Heartbeat(app, context)
    beat.start()
    try:
        if handler is None:
            raise LookupError(f"no handler for jobs of kind '{job.kind}'")
        handler.run(context)
    except queue.LeaseLost:
        db.session.rollback()
        log.warning("Job %s (%s): taken over by another worker; this one stops", job.id, job.kind)
        return "lost"
    except Exception as error:  # a handler's failure is the job's, never the runner's
        db.session.rollback()
        log.exception("Job %s (%s) failed (attempt %s)", job.id, job.kind, job.attempts)
        message = f"{type(error).__name__}: {error}"
        status = queue.retry_or_fail(job.id, worker_id, message, app.config["JOBS_MAX_ATTEMPTS"])
        if status == "failed":
            _call_failed(job.kind, context.payload, message)
        return "failed" if status == "failed" else "retry"
    finally:
        beat.stop()
    return "done" if queue.finish(job.id, worker_id) else "lost"


def _call_failed(kind: str, payload: dict, error: str | None) -> None:
    handler = HANDLERS.get(kind)
    if handler is None or handler.failed is None:
        return
    try:
        handler.failed(payload, error or "failed")
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("Recording the failure of a %s job failed", kind)


class _Heartbeat:
    """A thread renewing a job's heartbeat every JOBS_HEARTBEAT_SECONDS on its own
    connection, so a handler busy in one long step still shows it is alive."""

    def __init__(self, app, context: JobContext):
        self.app, self.context = app, context
        self.period = app.config["JOBS_HEARTBEAT_SECONDS"]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True,
                                       name=f"heartbeat-{context.job_id}")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(self.period):
                try:
                    with db.engine.begin() as connection:
                        queue.renew(self.context.job_id, self.context.worker_id, connection)
                except queue.LeaseLost:
                    return
                except Exception:  # a busy database: the next beat tries again
                    log.warning("Heartbeat of job %s failed", self.context.job_id, exc_info=True)
