"""Every page of the merchant portal, the customer portal and the public site, on a desktop
(1280 px) and a phone (390 px): each answers, shows its heading, and nothing is wider than
the screen (tables scroll inside their frame). A screenshot of each goes to
tests/browser/screenshots/tour-<area>-<page>-<width>.png for a person to look at.

One world of demo data, one login per portal, the same tab for both widths: fast."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.db_types import utcnow
from portal.extensions import db as _db
from portal.models import CsvImport, Customer, Invoice, LineItem, UsageAlert, WebhookEndpoint
from portal.services.apikeys import create_api_key
from portal.jobs.billing import run_billing
from portal.services.demo import (
    DEMO_CONTACT_EMAIL,
    DEMO_CONTACT_PASSWORD,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    seed_demo,
)
from portal.services.payments import pay_invoice
from portal.services.usage_urls import issue_url

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = (1280, 390)
# The layout (widths, overflow) comes from the templates and CSS, not from the database: on
# PostgreSQL the tour checks every page at the phone width only (the narrow one, where overflow
# shows), still proving each page answers with its heading on that database; both widths and
# the screenshots (the same pictures; the PostgreSQL run would only overwrite them) are SQLite's.
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")
TOUR_WIDTHS = WIDTHS[1:] if ON_POSTGRESQL else WIDTHS
MERCHANT_PAGES = [  # (name, path template); ids come from the world
    ("dashboard", "/merchant/"), ("items", "/merchant/items"), ("item-new", "/merchant/items/new"),
    ("item", "/merchant/items/{item}"), ("customers", "/merchant/customers"),
    ("customer-new", "/merchant/customers/new"), ("customer", "/merchant/customers/{customer}"),
    ("customer-edit", "/merchant/customers/{customer}/edit"),
    ("package-new", "/merchant/customers/{customer}/packages/new"), ("package", "/merchant/packages/{package}"),
    ("usage", "/merchant/lines/{line}/usage"), ("usage-url", "/merchant/lines/{line}/usage-url"),
    ("invoices", "/merchant/invoices"), ("invoice", "/merchant/invoices/{invoice}"),
    ("invoice-partly-paid", "/merchant/invoices/{partly}"), ("imports", "/merchant/imports"),
    ("import", "/merchant/imports/{csv_import}"), ("developers", "/merchant/developers"),
    ("settings", "/merchant/settings"), ("not-found", "/merchant/no-such-page"),
    ("webhooks", "/merchant/webhooks"), ("webhook-deliveries", "/merchant/webhooks/deliveries"),
    ("usage-alerts", "/merchant/packages/{package}/alerts"),
]
CUSTOMER_PAGES = [
    ("dashboard", "/portal/"), ("invoices", "/portal/invoices"), ("invoice", "/portal/invoices/{invoice}"),
    ("invoice-partly-paid", "/portal/invoices/{partly}"), ("payments", "/portal/payments"),
    ("packages", "/portal/packages"), ("package", "/portal/packages/{package}"),
    ("usage", "/portal/lines/{line}/usage"), ("not-found", "/portal/invoices/999999"),
]
PUBLIC_PAGES = [("landing", "/"), ("merchant-login", "/merchant/login"), ("customer-login", "/portal/login"),
                ("customer-forgot", "/portal/forgot-password"), ("api-docs", "/api/docs"), ("not-found", "/no-such-page")]
NOT_FOUND = {"not-found"}


@pytest.fixture
def world(db, tmp_path) -> dict:
    """The demo data billed at its month boundary (one invoice paid in part, one overdue),
    a finished CSV import, an API key and a usage URL; the ids the pages need."""
    _db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/hooks", events=["*"], secret="whsec_tour"))
    seed_demo()
    _db.session.commit()
    run_billing(utcnow())
    invoices = _db.session.query(Invoice).order_by(Invoice.id).all()
    partly = invoices[-1]
    pay_invoice(partly, paid_on=utcnow().date(), amount="5.00", method="ach")
    line = _db.session.query(LineItem).first()
    imp = CsvImport(filename="usage-october.csv", stored_path=str(tmp_path / "x.csv"), status="done",
                    size_bytes=2048, rows_total=40, rows_done=40, bytes_done=2048, stored=38, error_count=2,
                    errors=[{"row": 7, "field": "usage_value", "message": "must be a number"}])
    _db.session.add(imp)
    create_api_key("Usage sender")
    issue_url(line)
    _db.session.add(UsageAlert(package_id=line.package_id, metric="cost", threshold=Decimal("250")))
    _db.session.commit()
    return {"item": line.item_id, "customer": _db.session.query(Customer).first().id, "package": line.package_id,
            "line": line.id, "invoice": invoices[0].id, "partly": partly.id, "csv_import": imp.id}


def log_in(page, path: str, email: str, password: str):
    page.goto(path)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_be_visible()


def visit(page, area: str, pages: list, world: dict, width: int) -> list[str]:
    """Each page at this width: status, a heading, no page-wide horizontal scroll, a screenshot.
    Returns the problems found (all pages are visited before the test fails)."""
    problems = []
    page.set_viewport_size({"width": width, "height": 900})
    for name, template in pages:
        response = page.goto(template.format(**world))
        if page.locator("[data-usage-chart], [data-plotly]").count():
            expect(page.locator(".main-svg").first).to_be_visible()  # drawn before the picture
        expected = 404 if name in NOT_FOUND else 200
        if response.status != expected:
            problems.append(f"{area}/{name}: status {response.status}")
        if not page.locator("h1").count():
            problems.append(f"{area}/{name}: no heading")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"{area}/{name} at {width}px is {overflow}px wider than the screen")
        if not ON_POSTGRESQL:
            page.screenshot(path=str(SCREENSHOTS / f"tour-{area}-{name}-{width}.png"), full_page=True)
    return problems


def test_every_page_fits_desktop_and_phone(browser, live_server, world):
    """One context per area (its login reused for both widths); 4xx pages are expected here."""
    SCREENSHOTS.mkdir(exist_ok=True)
    problems = []
    for area, pages, login in (("public", PUBLIC_PAGES, None),
                               ("merchant", MERCHANT_PAGES, ("/merchant/login", DEMO_STAFF_EMAIL, DEMO_PASSWORD)),
                               ("customer", CUSTOMER_PAGES, ("/portal/login", DEMO_CONTACT_EMAIL, DEMO_CONTACT_PASSWORD))):
        context = browser.new_context(base_url=live_server, viewport={"width": WIDTHS[0], "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors = []
        page.on("pageerror", lambda error, found=errors: found.append(str(error)))
        try:
            if login:
                log_in(page, *login)
            for width in TOUR_WIDTHS:
                problems += visit(page, area, pages, world, width)
        finally:
            context.close()
        problems += [f"{area}: JavaScript error {e}" for e in errors]
    assert not problems, "\n".join(problems)
