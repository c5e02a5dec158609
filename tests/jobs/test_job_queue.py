"""The jobs queue: claims, heartbeats, takeover of a dead worker's job, retries, failure."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from portal.db_types import utcnow
from portal.jobs import HANDLERS, enqueue, register, run_pending
from portal.jobs import queue
from portal.models import Job


@pytest.fixture
def handlers():
    """Register test kinds for one test; the table is restored after it."""
    saved = dict(HANDLERS)
    yield register
    HANDLERS.clear()
    HANDLERS.update(saved)


def reload(db, job_id) -> Job:
    db.session.rollback()
    return db.session.get(Job, job_id, populate_existing=True)


def test_a_job_runs_once_and_is_done(app, db, handlers):
    seen = []
    handlers("note", lambda context: seen.append((context.payload, context.attempt)))
    job_id = enqueue("note", {"n": 1}).id
    db.session.commit()
    assert run_pending(app, "w1") == {"done": 1}
    assert run_pending(app, "w1") == {}
    job = reload(db, job_id)
    assert (job.status, job.attempts, job.locked_by, seen) == ("done", 1, None, [({"n": 1}, 1)])
    assert job.finished_at is not None


def test_a_failing_job_is_retried_later_then_failed_with_its_error(app, db, handlers, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 2)
    failures = []

    def broken(context):
        raise ValueError(f"attempt {context.attempt} broke")

    handlers("broken", broken, failed=lambda payload, error: failures.append((payload, error)))
    job_id = enqueue("broken", {"x": 1}).id
    db.session.commit()
    assert run_pending(app, "w1") == {"retry": 1}
    job = reload(db, job_id)
    assert (job.status, job.attempts, job.error) == ("waiting", 1, "ValueError: attempt 1 broke")
    assert job.run_after > utcnow()  # backoff: not claimable at once
    assert run_pending(app, "w1") == {}
    job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert run_pending(app, "w1") == {"failed": 1}
    job = reload(db, job_id)
    assert (job.status, job.attempts, job.error) == ("failed", 2, "ValueError: attempt 2 broke")
    assert failures == [({"x": 1}, "ValueError: attempt 2 broke")]


def test_the_heartbeat_thread_renews_a_long_job(app, db, handlers, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_HEARTBEAT_SECONDS", 0.2)
    beats = []

    def slow(context):
        first = db.session.scalar(select(Job.heartbeat_at).where(Job.id == context.job_id))
        db.session.rollback()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # bounded wait for a beat
            db.session.rollback()
            beat = db.session.scalar(select(Job.heartbeat_at).where(Job.id == context.job_id))
            if beat > first:
                beats.append(beat)
                return
            time.sleep(0.1)

    handlers("slow", slow)
    enqueue("slow", {})
    db.session.commit()
    assert run_pending(app, "w1") == {"done": 1}
    assert beats, "the heartbeat was never renewed while the job ran"


def test_a_stale_job_is_taken_over_and_its_old_worker_fenced_off(app, db, handlers):
    attempts = []
    handlers("note", lambda context: attempts.append((context.worker_id, context.resumed)))
    job_id = enqueue("note", {}).id
    db.session.commit()
    claimed = queue.claim("dead-worker", stale_seconds=60, max_attempts=3)
    assert claimed.id == job_id
    assert run_pending(app, "w2") == {}  # its heartbeat is fresh: not taken over
    db.session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    assert run_pending(app, "w2") == {"done": 1}
    assert attempts == [("w2", True)]
    with pytest.raises(queue.LeaseLost):
        queue.renew(job_id, "dead-worker")
    db.session.rollback()
    assert queue.finish(job_id, "dead-worker") is False


def test_a_dead_workers_job_without_attempts_left_is_failed(app, db, handlers, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 1)
    failed = []
    handlers("note", lambda context: None, failed=lambda payload, error: failed.append(error))
    job_id = enqueue("note", {"n": 7}).id
    db.session.commit()
    queue.claim("dead-worker", stale_seconds=60, max_attempts=1)
    db.session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    assert run_pending(app, "w2") == {"failed": 1}
    job = reload(db, job_id)
    assert job.status == "failed" and "stopped responding" in job.error
    assert failed == [job.error]


def test_two_runners_at_once_run_each_job_exactly_once(app, db, handlers):
    ran, lock = [], threading.Lock()

    def sleepy(context):
        with lock:
            ran.append((context.job_id, context.worker_id))
        time.sleep(0.5)

    handlers("sleepy", sleepy)
    ids = sorted(enqueue("sleepy", {"n": n}).id for n in range(4))
    db.session.commit()
    runners = [threading.Thread(target=run_pending, args=(app, f"w{n}")) for n in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(60)
    assert sorted(job_id for job_id, _ in ran) == ids  # each once
    db.session.rollback()
    assert set(db.session.scalars(select(Job.status))) == {"done"}


def test_on_postgresql_a_claim_skips_the_job_another_worker_is_claiming(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite claims with one conditional UPDATE")
    first, second = (enqueue("note", {"n": n}).id for n in range(2))
    db.session.commit()
    with db.engine.connect() as other:  # another worker, in the middle of its claim
        other.begin()
        locked = other.execute(text("SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")).scalar()
        assert locked == first
        claimed = queue.claim("w2", stale_seconds=60, max_attempts=3)
        assert claimed.id == second and claimed.locked_by == "w2"
        other.rollback()
    assert queue.claim("w3", stale_seconds=60, max_attempts=3).id == first


def test_done_jobs_are_purged_after_the_keep_days_and_others_stay(app, db):
    from portal.jobs.scheduled import purge_job
    from scheduler import build_scheduler

    now = utcnow()
    finished = {"old done": ("done", now - timedelta(days=8)), "recent done": ("done", now - timedelta(days=6)),
                "old failed": ("failed", now - timedelta(days=30)), "waiting": ("waiting", None)}
    for name, (status, at) in finished.items():
        db.session.add(Job(kind=name, payload={}, status=status, finished_at=at))
    db.session.commit()
    assert app.config["JOBS_KEEP_DAYS"] == 7
    assert purge_job(app) == 1
    kinds = set(db.session.scalars(select(Job.kind)))
    assert kinds == {"recent done", "old failed", "waiting"}
    assert queue.purge_done(1) == 1  # a shorter keep deletes the recent one too
    assert build_scheduler(app, "w1").get_job("purge").trigger.interval.total_seconds() == 3600


def test_a_long_queue_is_purged_in_batches_and_a_keep_below_one_day_is_one_day(app, db, monkeypatch):
    now = utcnow()
    for n in range(5):
        db.session.add(Job(kind=f"old {n}", payload={}, status="done", finished_at=now - timedelta(days=3)))
    db.session.add(Job(kind="an hour ago", payload={}, status="done", finished_at=now - timedelta(hours=1)))
    db.session.commit()
    monkeypatch.setattr(queue, "PURGE_BATCH", 2)
    assert queue.purge_done(0) == 5  # batches of 2, 2 and 1; keep 0 days counts as 1
    assert list(db.session.scalars(select(Job.kind))) == ["an hour ago"]
