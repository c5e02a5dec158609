"""Pulled usage URLs against a real HTTP endpoint on loopback: the invoice waits for the
usage, failures are retried with backoff and visible, garbage answers are clear errors."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select, update

from support.factories import make_package, utc
from portal.db_types import utcnow
from portal.jobs import run_pending
from portal.jobs.usage_pulls import plan_usage_pulls
from portal.models import Invoice, Job, Package, UsagePull, UsageRecord
from portal.jobs.billing import run_billing
from portal.services.usage_pulls import parse_answer, PullError, pull_url, set_pull_url

OCTOBER = utc(2015, 10, 1)


class Endpoint:
    """The merchant's usage endpoint: answers from `script` in order (the last repeats)."""

    def __init__(self, script):
        self.script, self.received = list(script), []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.received.append(json.loads(body))
                status, answer = endpoint.script[min(len(endpoint.received), len(endpoint.script)) - 1]
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/usage"


@pytest.fixture
def endpoint_for():
    started = []

    def start(script):
        started.append(Endpoint(script))
        return started[-1]
    yield start
    for endpoint in started:
        endpoint.server.shutdown()
        endpoint.server.server_close()


def pulled_package(db, url):
    """ChargeOver's VoIP package (10.00 base + 0.05/minute) with a pulled usage URL,
    its September invoice issued (nothing to pull at the start boundary)."""
    package = make_package()
    set_pull_url(package.line_items[0], url)
    db.session.commit()
    assert len(run_billing(utc(2015, 9, 1)).invoice_ids) == 1
    return package


def october_invoices(db, package_id):
    return db.session.scalars(select(Invoice).where(Invoice.package_id == package_id,
                                                    Invoice.date == OCTOBER.date())).all()


def make_due(db):
    db.session.execute(update(Job).where(Job.status == "waiting").values(run_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_the_invoice_waits_for_the_pull_then_bills_the_pulled_usage_once(app, db, endpoint_for):
    endpoint = endpoint_for([(200, {"line_items": [{"usage_amount": 361}]})])
    package = pulled_package(db, endpoint.url)
    package_id, line_id = package.id, package.line_items[0].id
    assert run_billing(OCTOBER).invoice_ids == []  # nothing planned yet: not billed
    assert plan_usage_pulls(OCTOBER) == 1 and plan_usage_pulls(OCTOBER) == 0
    assert run_billing(OCTOBER).invoice_ids == []
    assert run_pending(app, "w1") == {"done": 1}
    (sent,) = endpoint.received
    assert sent["from_datetime"] == "2015-09-01 00:00:00" and sent["to_datetime"] == "2015-10-01 00:00:00"
    assert sent["this_line_item"]["line_item_id"] == line_id
    assert sent["package"]["package_id"] == package_id and sent["customer"]["company"] == "Acme Telephony"
    assert sent["security_token"] == pull_url(line_id).security_token
    pull = db.session.scalars(select(UsagePull)).one()
    assert (pull.status, pull.usage_amount, pull.attempts) == ("done", Decimal(361), 0)
    (invoice_id,) = run_billing(OCTOBER).invoice_ids
    assert db.session.get(Invoice, invoice_id).total_minor == 2805  # 10.00 + 361 × 0.05
    assert run_billing(OCTOBER).invoice_ids == [] and plan_usage_pulls(OCTOBER) == 0
    assert run_pending(app, "w1") == {}
    assert db.session.scalar(select(func.count()).select_from(UsageRecord)) == 1
    assert len(endpoint.received) == 1


def test_a_failing_endpoint_delays_the_invoice_until_it_recovers(app, db, endpoint_for):
    endpoint = endpoint_for([(500, b"down"), (503, b"still down"),
                             (200, {"line_items": [{"usage_amount": "100.5"}, {"usage_amount": 0.5}]})])
    package = pulled_package(db, endpoint.url)
    package_id = package.id
    plan_usage_pulls(OCTOBER)
    assert run_pending(app, "w1") == {"done": 1}  # the attempt ran; its failure is recorded
    pull = db.session.scalars(select(UsagePull)).one()
    assert (pull.status, pull.attempts, pull.last_error) == ("pending", 1, "the usage URL answered HTTP 500")
    assert pull.next_attempt_at > utcnow() + timedelta(seconds=50)  # backoff: not retried at once
    assert run_pending(app, "w1") == {}
    assert run_billing(OCTOBER).invoice_ids == [] and october_invoices(db, package_id) == []
    make_due(db)
    run_pending(app, "w1")
    db.session.expire_all()
    pull = db.session.scalars(select(UsagePull)).one()
    assert (pull.attempts, pull.last_error) == (2, "the usage URL answered HTTP 503")
    assert pull.next_attempt_at - pull.updated_at == timedelta(seconds=120)
    assert run_billing(OCTOBER).invoice_ids == []
    make_due(db)
    run_pending(app, "w1")
    db.session.expire_all()
    assert db.session.scalars(select(UsagePull)).one().status == "done"
    (invoice_id,) = run_billing(OCTOBER).invoice_ids
    assert db.session.get(Invoice, invoice_id).total_minor == 1505  # 10.00 + 101 × 0.05
    assert len(october_invoices(db, package_id)) == 1 and len(endpoint.received) == 3


@pytest.mark.parametrize("answer, message", [
    (b"<html>oops</html>", "the answer is not JSON"),
    ({"usage": 3}, 'the answer must be {"line_items": [{"usage_amount": N}]}'),
    ({"line_items": [{"usage_amount": -3}]}, "line_items[0].usage_amount"),
    ({"line_items": [{"quantity": 3}]}, "line_items[0].usage_amount is missing"),
])
def test_a_garbage_answer_is_a_clear_error_and_bills_nothing(app, db, endpoint_for, answer, message):
    endpoint = endpoint_for([(200, answer)])
    package = pulled_package(db, endpoint.url)
    plan_usage_pulls(OCTOBER)
    run_pending(app, "w1")
    pull = db.session.scalars(select(UsagePull)).one()
    assert pull.status == "pending" and message in pull.last_error
    assert run_billing(OCTOBER).invoice_ids == [] and october_invoices(db, package.id) == []
    assert db.session.scalar(select(func.count()).select_from(UsageRecord)) == 0


def test_parse_answer_is_exact_and_the_url_is_validated(db):
    assert parse_answer(b'{"line_items": [{"usage_amount": 0.1}, {"usage_amount": "2"}]}') == [
        Decimal("0.1"), Decimal(2)]
    with pytest.raises(PullError):
        parse_answer(b'{"line_items": []}')
    package = make_package()
    from portal.billing.errors import ValidationError

    with pytest.raises(ValidationError) as error:
        set_pull_url(package.line_items[0], "ftp://example.com/usage")
    assert error.value.field == "usage_url"
    assert set_pull_url(package.line_items[0], "") is None


def test_a_crashing_pull_job_still_leaves_a_later_attempt(app, db, endpoint_for, monkeypatch):
    endpoint = endpoint_for([(200, {"line_items": [{"usage_amount": 1}]})])
    pulled_package(db, endpoint.url)
    plan_usage_pulls(OCTOBER)

    def crash(url, body):
        raise RuntimeError("boom")
    monkeypatch.setattr("portal.jobs.usage_pulls.fetch_usage", crash)
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 1)
    assert run_pending(app, "w1") == {"failed": 1}
    pull = db.session.scalars(select(UsagePull)).one()
    assert pull.status == "pending" and pull.last_error == "the pull job failed: RuntimeError: boom"
    waiting = db.session.scalars(select(Job).where(Job.kind == "usage_pull", Job.status == "waiting")).all()
    assert len(waiting) == 1 and waiting[0].payload == {"pull_id": pull.id, "attempt": 2}


def test_a_cancelled_line_is_pulled_up_to_its_cancel_then_never_again(app, db, endpoint_for):
    from portal.services.packages import cancel_line

    endpoint = endpoint_for([(200, {"line_items": [{"usage_amount": 10}]})])
    package = pulled_package(db, endpoint.url)
    package_id = package.id
    cancel_line(package.line_items[0], utc(2015, 9, 16))
    db.session.commit()
    plan_usage_pulls(OCTOBER)
    run_pending(app, "w1")
    assert endpoint.received[0]["to_datetime"] == "2015-09-16 00:00:00"
    assert len(run_billing(OCTOBER).invoice_ids) == 1
    assert plan_usage_pulls(utc(2015, 11, 1)) == 0 and plan_usage_pulls(utc(2015, 12, 1)) == 0
    run_billing(utc(2015, 12, 1))
    assert db.session.scalar(select(func.count()).select_from(UsagePull)) == 1
    # Not held by its cancelled line: the package went past its later boundaries.
    assert db.session.get(Package, package_id).next_invoice_at == utc(2016, 1, 1)
