"""Webhooks in a real browser: an admin adds an endpoint (URL, event checkboxes), a change
is delivered by the job runner to a receiver on loopback, the delivery log shows it, and
Resend sends it again with the same event id."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.factories import make_customer
from portal.services.accounts import create_staff_user
from scheduler_process import wait_until
from support.http_receiver import start_receiver, stop_receiver

pytestmark = pytest.mark.slow
EMAIL, PASSWORD = "hooks@shop.example", "browser-test-password"


def test_an_endpoint_added_in_the_portal_receives_events_and_resends(page, shot, db):
    create_staff_user(email=EMAIL, password=PASSWORD, role="admin")
    db.session.commit()
    receiver = start_receiver([200])
    try:
        page.goto("/merchant/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.click("nav >> text=Webhooks")
        expect(page.locator("h1")).to_contain_text("Webhooks")
        page.fill("#url", receiver.url)
        page.check("input[value='customer.*']")
        page.check("input[value='invoice.paid']")
        page.click("text=Add the endpoint")
        expect(page.locator(".webhook-endpoints")).to_contain_text("customer.*, invoice.paid")
        shot("webhooks-endpoints")
        make_customer(company="Browser Hooked Ltd")
        db.session.commit()
        wait_until(lambda: receiver.received, 30, "the delivery (job runner)")
        page.click("text=Delivery log")
        expect(page.locator(".webhook-deliveries")).to_contain_text("customer.insert")
        expect(page.locator(".webhook-deliveries")).to_contain_text("HTTP 200")
        shot("webhooks-delivery-log")
        page.locator(".webhook-deliveries tbody tr", has_text="customer.insert").locator("text=Resend").click()
        expect(page.locator("body")).to_contain_text("will be sent again")
        wait_until(lambda: len(receiver.received) >= 2, 30, "the resent delivery")
        ids = {r.headers["X-Meterbill-Event-Id"] for r in receiver.received if b"customer" in r.body}
        assert len(ids) == 1
    finally:
        stop_receiver(receiver)
