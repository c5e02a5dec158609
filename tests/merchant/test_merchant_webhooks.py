"""The webhooks pages: endpoints (admins add, edit, remove; viewers read) and the delivery log."""
from __future__ import annotations

from sqlalchemy import select

from support.factories import make_customer
from portal.jobs import run_pending
from portal.models import WebhookDelivery, WebhookEndpoint
from support.http_receiver import start_receiver, stop_receiver


def test_an_admin_adds_edits_and_removes_an_endpoint(admin, db):
    page = admin.get("/merchant/webhooks")
    assert page.status_code == 200 and "No webhook endpoint yet" in page.get_data(as_text=True)
    added = admin.post("/merchant/webhooks", data={
        "url": "https://hooks.example.com/mb", "events": ["invoice.paid", "customer.*"], "enabled": "y"})
    assert added.status_code == 303
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == (
        "https://hooks.example.com/mb", ["invoice.paid", "customer.*"], True)
    listing = admin.get("/merchant/webhooks").get_data(as_text=True)
    assert "https://hooks.example.com/mb" in listing and endpoint.secret in listing
    edited = admin.post(f"/merchant/webhooks/{endpoint.id}", data={
        "url": "https://hooks.example.com/v2", "events": ["*"]})
    assert edited.status_code == 303
    db.session.expire_all()
    assert (endpoint.url, endpoint.events, endpoint.enabled) == ("https://hooks.example.com/v2", ["*"], False)
    old = endpoint.secret
    assert admin.post(f"/merchant/webhooks/{endpoint.id}/secret").status_code == 303
    db.session.expire_all()
    assert endpoint.secret != old
    assert admin.post(f"/merchant/webhooks/{endpoint.id}/delete").status_code == 303
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_bad_input_is_shown_under_its_field(admin, db):
    answer = admin.post("/merchant/webhooks", data={"url": "ftp://x.example", "events": ["invoice.paid"]})
    assert answer.status_code == 422
    assert "must be an http:// or https:// URL" in answer.get_data(as_text=True)
    answer = admin.post("/merchant/webhooks", data={"url": "https://x.example/h"})
    assert answer.status_code == 422 and "must name at least one event" in answer.get_data(as_text=True)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_a_viewer_reads_without_secrets_and_cannot_change(viewer, db):
    db.session.add(WebhookEndpoint(url="https://v.example/h", events=["*"], secret="whsec_hidden", enabled=True))
    db.session.commit()
    page = viewer.get("/merchant/webhooks").get_data(as_text=True)
    assert "https://v.example/h" in page and "whsec_hidden" not in page
    assert viewer.post("/merchant/webhooks", data={"url": "https://x.example", "events": ["*"]}).status_code == 403


def test_the_delivery_log_shows_attempts_and_resends(app, admin, db):
    receiver = start_receiver([500, 200])
    try:
        db.session.add(WebhookEndpoint(url=receiver.url, events=["customer.insert"], secret="k", enabled=True))
        make_customer(company="Logged Ltd")
        db.session.commit()
        app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
        run_pending(app, "w1")
        log = admin.get("/merchant/webhooks/deliveries").get_data(as_text=True)
        assert "customer.insert" in log and "HTTP 500" in log and "receiver is down" in log
        assert "Logged Ltd" in log  # the request body
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == "failed"
        fragment = admin.get("/merchant/webhooks/deliveries?status=failed", htmx=True)
        assert "HX-Request" in fragment.headers["Vary"] and "<html" not in fragment.get_data(as_text=True)
        resent = admin.post(f"/merchant/webhooks/deliveries/{delivery.id}/resend")
        assert resent.status_code == 303
        app.config["WEBHOOK_MAX_ATTEMPTS"] = 8
        run_pending(app, "w1")
        db.session.expire_all()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
        assert "HTTP 200" in admin.get("/merchant/webhooks/deliveries").get_data(as_text=True)
    finally:
        app.config["WEBHOOK_MAX_ATTEMPTS"] = 8
        stop_receiver(receiver)


def test_the_portal_shows_the_refusal_under_the_url_field(app, admin, db, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)  # the install's default
    answer = admin.post("/merchant/webhooks", data={"url": "http://192.168.0.10/hook",
                                                    "events": ["invoice.paid"], "enabled": "y"})
    assert answer.status_code == 422
    assert "must reach a public address: 192.168.0.10" in answer.get_data(as_text=True)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []
