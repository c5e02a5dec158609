"""A customer's contact in a real browser: accepts the invitation e-mail, sets a password,
logs in, reads an invoice and downloads its PDF, sees the usage graph and the estimate; a
contact of another customer reaches none of it. Screenshots go to tests/browser/screenshots/."""
from __future__ import annotations

import io
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from support.factories import make_customer, make_package
from support.factories import make_october_invoice
from portal.models import Contact, EmailDelivery, Package
from portal.services import merchant_tz
from portal.services.charts import choose_period
from portal.services.contact_access import invite_contact, set_contact_password
from portal.services.mail import send_due_deliveries
from portal.services.usage import record_usage

pytestmark = pytest.mark.slow
JANE, BOB = "jane@acme.example", "bob@bravo.example"
JANE_PASSWORD, BOB_PASSWORD = "jane-browser-pass", "bob-browser-pass"
SCREENSHOTS = Path(__file__).parent / "screenshots"  # where the `shot` fixture saves them


@pytest.fixture
def portal_data(app, db, live_server):
    """Acme billed to October 2015 plus 120 minutes this period; Jane invited (no password
    yet); Bravo with Bob, who can log in. Returns Acme's October invoice."""
    invoice = make_october_invoice()
    line = db.session.get(Package, invoice.package_id).line_items[0]
    start = choose_period(line).period.start  # of the current period: always before now
    record_usage({"line_item_id": line.id, "usage_value": "120",
                  "from": start.astimezone(merchant_tz()).strftime("%Y-%m-%d %H:%M:%S")})
    bravo = make_customer(company="Bravo Networks", email=BOB)
    make_package(customer=bravo)
    set_contact_password(bravo.contacts[0], BOB_PASSWORD)
    db.session.query(EmailDelivery).delete()  # the billing run's invoice e-mails: not this test's
    with app.test_request_context(base_url=live_server + "/"):
        invite_contact(db.session.query(Contact).filter_by(email=JANE).one())
    db.session.commit()
    return invoice


def invitation_path(smtp_server) -> str:
    """The mail job sends the invitation through SMTP; its link, as a path of the live server."""
    assert send_due_deliveries() == {"sent": 1}
    body = smtp_server[0].get_body(("plain",)).get_content()
    return urlparse(re.search(r"http://\S+/portal/invitation/\S+", body).group(0)).path


@contextmanager
def side_page(browser, live_server):
    """A page of its own browser context, for answers that are refused on purpose (4xx):
    Chromium logs those as console errors, which the `page` fixture rightly fails on."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def accept_invitation(page, shot, side, path: str):
    side.goto(path)
    side.fill("#password", "short")
    side.fill("#confirm", "short")
    side.click("button[type=submit]")
    expect(side.locator(".field-error").first).to_contain_text("at least 8 characters")
    page.goto(path)
    expect(page.locator("h1")).to_have_text("Welcome")
    page.fill("#password", JANE_PASSWORD)
    page.fill("#confirm", JANE_PASSWORD)
    shot("customer-set-password")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Acme Telephony")  # logged in, on the dashboard
    expect(page.locator("#cp-balance")).to_have_text("38.05 USD")
    shot("customer-dashboard")
    side.goto(path)  # the link worked once: now it is refused
    expect(side.locator("h1")).to_have_text("This link is no longer valid")


def log_out_and_in(page, shot):
    page.click("button:has-text('Log out')")
    expect(page.locator(".flash")).to_have_text("You are logged out.")
    page.fill("#email", JANE)
    page.fill("#password", JANE_PASSWORD)
    shot("customer-login")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Acme Telephony")


def read_invoice(page, shot, invoice) -> str:
    page.click("nav >> text=Invoices")
    page.click(f"a:has-text('#{invoice.refnumber}')")
    body = page.locator(".invoice")
    expect(body).to_contain_text("361 minutes")
    expect(body).to_contain_text("28.05 USD")
    shot("customer-invoice")
    with page.expect_download() as download:
        page.click("a:has-text('Download PDF')")
    assert download.value.suggested_filename == f"invoice-{invoice.refnumber}.pdf"
    pdf = open(download.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF") and "28.05 USD" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    return page.url


def usage_graph(page, shot) -> str:
    page.click("nav >> text=Packages & usage")
    page.click("a:has-text('VoIP minutes')")
    expect(page.locator(".cp-chart .main-svg").first).to_be_visible()
    expect(page.locator("#usage-aggregate")).to_contain_text("120 minutes")
    usage_url = page.url
    page.goto(usage_url.split("?")[0] + "?period=0")
    expect(page.locator("#usage-aggregate")).to_contain_text("361 minutes")
    expect(page.locator("#usage-cost")).to_have_text("18.05 USD")
    page.click("a.usage-next")  # HTMX swaps the period and Plotly draws it again
    expect(page.locator(".cp-period-label")).to_have_text("01 Oct 2015 – 31 Oct 2015")
    expect(page.locator(".cp-chart .main-svg").first).to_be_visible()
    page.click("a.usage-prev")
    expect(page.locator("#usage-aggregate")).to_contain_text("361 minutes")
    shot("customer-usage")
    return usage_url


def estimate(page, shot) -> str:
    page.click(".crumbs a >> nth=1")  # back to the package
    expect(page.locator(".cp-tag-strong")).to_have_text("Estimate — not an invoice")
    # This period: the $10 base (not billed yet: billing stopped in 2015) + 120 × $0.05.
    expect(page.locator("#estimate-total")).to_have_text("16.00 USD")
    page.click("a:has-text('Recalculate')")
    expect(page.locator("#estimate-pending")).to_have_text("16.00 USD")
    shot("customer-estimate")
    return page.url


def other_customer_is_refused(page, shot_path, urls: list[str]):
    page.goto("/portal/login")
    page.fill("#email", BOB)
    page.fill("#password", BOB_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Bravo Networks")
    for url in urls:
        response = page.goto(url)
        assert response.status == 404, url
        assert "Acme" not in page.content()
    page.screenshot(path=str(shot_path), full_page=True)
    page.goto("/portal/invoices")
    expect(page.locator("main")).not_to_contain_text("28.05")


def test_customer_portal_scenario(page, shot, browser, live_server, portal_data, smtp_server):
    path = invitation_path(smtp_server)
    with side_page(browser, live_server) as side:
        accept_invitation(page, shot, side, path)
    log_out_and_in(page, shot)
    invoice_url = read_invoice(page, shot, portal_data)
    usage_url = usage_graph(page, shot)
    package_url = estimate(page, shot)
    urls = [invoice_url, invoice_url + "/pdf", usage_url, package_url, package_url + "/estimate"]
    with side_page(browser, live_server) as bob:
        other_customer_is_refused(bob, SCREENSHOTS / "customer-isolation-404.png",
                                  [urlparse(u).path for u in urls])
