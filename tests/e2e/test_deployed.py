"""Meterbill as deployed: `make run`'s own commands (migrations, the gunicorn web server,
the scheduler process) on the test database (a temporary SQLite file, or PostgreSQL from
DATABASE_URL), driven through HTTP only, with short scheduler intervals.

One merchant month end: an API key made with the flask command; item, customer, package
and usage through the API; the package is then cancelled a few seconds ahead (its final
invoice falls due then, the route a merchant has) and nothing else is done: the scheduler
must issue the invoice, the mail job must write its e-mail (outbox), and the PDF
downloaded over HTTP must show the amount.
"""
from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import socket
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from scheduler_process import Process, ROOT, scheduler_env, wait_until

pytestmark = pytest.mark.slow
FORMAT = "%Y-%m-%d %H:%M:%S"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Http:
    """A tiny HTTP client for the API (Basic auth, exact JSON)."""

    def __init__(self, base: str, key: str):
        self.base = base
        self.auth = "Basic " + base64.b64encode(key.encode()).decode()

    def call(self, method: str, path: str, payload=None) -> tuple[int, dict]:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": self.auth, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read(), parse_float=Decimal)

    def ok(self, method: str, path: str, payload=None, code: int = 201):
        status, answer = self.call(method, path, payload)
        assert status == code, answer
        return answer["response"]


def run_command(args, env) -> str:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def deployed(app, db, tmp_path):
    """`make run` without make: migrate, then gunicorn and scheduler.py side by side."""
    port = free_port()
    env = scheduler_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "outbox",
                        SECRET_KEY="e2e-secret-key", TIMEZONE="UTC",
                        IMPORTS_DIR=tmp_path / "imports", PUBLIC_URL=f"http://127.0.0.1:{port}")
    run_command(["db", "upgrade"], env)
    web = Process([sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
                   "--threads", "4", "--timeout", "900",
                   "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app"],
                  env, tmp_path / "web.log")
    scheduler = Process([sys.executable, "scheduler.py"], env, tmp_path / "scheduler.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base + "/health"), 90, "the web server")
        scheduler.wait_for_output("Scheduler started", 90)
        yield base, env, tmp_path / "outbox", lambda: scheduler.output()[-4000:]
    finally:
        logs = {"scheduler": scheduler.stop(), "web": web.stop()}
        assert logs == {"scheduler": 0, "web": 0}, scheduler.output() + web.output()
        assert "Traceback" not in scheduler.output() + web.output()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_one_month_end_billed_mailed_and_downloadable(deployed):
    base, env, outbox, scheduler_log = deployed
    key = run_command(["apikeys", "create", "--name", "e2e"], env).strip().splitlines()[-1]
    api = Http(base, key)
    item = api.ok("POST", "/api/v3/item", {
        "name": "VoIP minutes", "type": "service", "units": "minute", "units_plural": "minutes",
        "is_metered": True, "pricemodel": {"pricemodel": "uni", "base": 0, "paycycle": "mon",
                                           "tiers": [{"unit_from": 0, "unit_to": None, "amount": 0.05}]}})
    customer = api.ok("POST", "/api/v3/customer", {
        "company": "Deployed Telephony", "superuser_email": "ops@deployed.example",
        "superuser_first_name": "Dee", "superuser_last_name": "Ployed"})
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0)
    package = api.ok("POST", "/api/v3/package", {
        "customer_id": customer["id"], "paycycle": "mon", "start_datetime": start.strftime(FORMAT),
        "line_items": [{"item_id": item["id"], "line_quantity": 1}]})
    line_id = api.ok("GET", f"/api/v3/package/{package['id']}", code=200)["line_items"][0]["line_item_id"]
    for n, minutes in enumerate((120, 241)):
        api.ok("POST", "/api/v3/usage", {
            "line_item_id": line_id, "usage_value": minutes, "external_key": f"calls-{n}",
            "from": (now - timedelta(hours=2 - n)).strftime(FORMAT)})
    # The scheduler bills the package's first boundary (yesterday, nothing to charge in
    # advance); once it did, the period is ended a few seconds from now (cancel): its final
    # invoice falls due then. (Cancelling while a run bills the same package can lose the
    # cancel's due date: a race reported to the lead, outside this test's subject.)
    first_billed = lambda: api.ok("GET", f"/api/v3/package/{package['id']}", code=200)[
        "next_invoice_datetime"] > now.strftime(FORMAT)
    wait_until(first_billed, 45, "the scheduler to bill the first boundary", every=0.5)
    ends = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=5)
    api.ok("POST", f"/api/v3/package/{package['id']}/_action/cancel",
           {"cancel_datetime": ends.strftime(FORMAT)}, code=200)

    def final_invoice():
        invoices = api.ok("GET", f"/api/v3/invoice?where=package_id:EQUALS:{package['id']}", code=200)
        return next((i for i in invoices if i["total"] > 0), None)

    try:
        invoice = wait_until(final_invoice, 45, "the scheduler to issue the invoice", every=1)
    except AssertionError as error:
        raise AssertionError(f"{error}; the scheduler's log ends:\n{scheduler_log()}") from None
    assert invoice["total"] == Decimal("18.05")  # 361 minutes at $0.05
    assert [(line["line_quantity"], line["line_total"]) for line in invoice["line_items"]
            if line["line_total"]] == [(Decimal(361), Decimal("18.05"))]

    def invoice_mail():
        for path in outbox.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if f"#{invoice['refnumber']}" in message["Subject"]:
                return message
        return None

    mail = wait_until(invoice_mail, 30, "the invoice e-mail in the outbox", every=0.5)
    assert mail["To"] == "ops@deployed.example"
    attached = next(mail.iter_attachments()).get_content()
    assert "18.05" in PdfReader(io.BytesIO(attached)).pages[0].extract_text()

    assert invoice["url_pdflink"].startswith(base + "/r/invoice/")  # built from PUBLIC_URL
    with urllib.request.urlopen(invoice["url_pdflink"], timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/pdf")
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.read())).pages)
    assert "18.05 USD" in text and str(invoice["refnumber"]) in text
