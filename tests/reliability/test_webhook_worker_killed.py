"""A worker process SIGKILLed in the middle of a webhook delivery loses nothing: another
worker takes the job over and the receiver gets the event again, with the same event id."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from support.factories import make_customer
from portal.db_types import utcnow
from portal.jobs import run_pending
from portal.models import Job, WebhookDelivery, WebhookEndpoint, WebhookEvent
from scheduler_process import wait_until
from support.http_receiver import start_receiver, stop_receiver

ROOT = Path(__file__).resolve().parents[2]


def _worker(app, log_path: Path) -> subprocess.Popen:
    """`flask jobs run` in its own process: the job runner the scheduler runs."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               JOBS_HEARTBEAT_SECONDS="1", WEBHOOK_TIMEOUT_SECONDS="60", PYTHONUNBUFFERED="1",
               OUTBOUND_ALLOW_PRIVATE="1")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"],
                            cwd=ROOT, env=env, stdout=open(log_path, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_delivers_again_with_the_same_event_id(app, db, tmp_path):
    receiver = start_receiver(["hang", 200])  # the first POST never gets its answer
    try:
        db.session.add(WebhookEndpoint(url=receiver.url, events=["customer.*"], secret="k", enabled=True))
        make_customer(company="Killed Mid-Delivery Ltd")  # records customer.insert
        db.session.commit()
        event_id = db.session.scalars(select(WebhookEvent)).one().uuid
        victim = _worker(app, tmp_path / "worker.log")
        arrived = receiver.arrived.wait(60)
        assert arrived, (tmp_path / "worker.log").read_text()
        victim.send_signal(signal.SIGKILL)  # mid-delivery: posted, no answer recorded
        victim.wait(30)
        db.session.rollback()
        job = db.session.scalars(select(Job)).one()
        pending = db.session.scalars(select(WebhookDelivery)).one()
        assert (job.status, job.attempts) == ("running", 1)
        assert (pending.status, pending.attempts) == ("pending", 0)
        # The dead worker's heartbeat stops; a second worker takes its job over.
        db.session.execute(update(Job).values(heartbeat_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
        assert run_pending(app, "second-worker") == {"done": 1}
        db.session.rollback()
        delivered = db.session.scalars(select(WebhookDelivery)).one()
        assert (delivered.status, delivered.attempts, delivered.response_code) == ("delivered", 1, 200)
        assert db.session.scalars(select(Job)).one().attempts == 2
        wait_until(lambda: len(receiver.received) >= 2, 10, "the second POST")
        ids = [r.headers["X-Meterbill-Event-Id"] for r in receiver.received]
        assert ids == [event_id, event_id]
        assert json.loads(receiver.received[1].body)["event_id"] == event_id
        assert receiver.received[0].body == receiver.received[1].body
    finally:
        stop_receiver(receiver)
