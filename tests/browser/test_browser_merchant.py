"""A merchant's day in a real browser: catalog, customer, package, CSV import, usage graph,
billing, invoice and PDF, payment, API key. Screenshots go to tests/browser/screenshots/."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.services.accounts import create_staff_user

pytestmark = pytest.mark.slow
EMAIL, PASSWORD = "owner@shop.example", "browser-test-password"


@pytest.fixture
def admin_user(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))
    create_staff_user(email=EMAIL, password=PASSWORD, role="admin")
    db.session.commit()


def login(page):
    page.goto("/merchant/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Dashboard")


def create_tiered_item(page, shot):
    """A metered item priced in two graduated tiers (the tier editor is HTMX)."""
    page.goto("/merchant/items/new")
    page.fill("#name", "Cloud storage")
    page.fill("#units", "gigabyte")
    page.fill("#units_plural", "gigabytes")
    page.check("#is_metered")
    page.select_option("#pricemodel", "tie")
    expect(page.locator("#tier-editor")).to_contain_text("Each unit is charged")
    page.fill("#base", "5.00")
    page.fill("#tiers-0-unit_from", "0")
    page.fill("#tiers-0-unit_to", "100")
    page.fill("#tiers-0-amount", "0.10")
    page.click("#tier-editor >> text=Add tier")
    expect(page.locator("#tiers-1-amount")).to_be_visible()
    page.fill("#tiers-1-unit_from", "100")
    page.fill("#tiers-1-amount", "0.05")
    shot("item-form")
    page.click("button:has-text('Create item')")
    expect(page.locator(".flash").first).to_be_visible()


def create_customer_and_package(page, shot, start: date) -> tuple[int, str]:
    """A customer, then a monthly package of the item; returns the line id and its page."""
    page.goto("/merchant/customers/new")
    page.fill("#company", "Globex Corporation")
    page.fill("#superuser_name", "Hank Scorpio")
    page.fill("#superuser_email", "hank@globex.example")
    page.click("button:has-text('Create customer')")
    expect(page.locator("h1")).to_contain_text("Globex Corporation")
    page.click("a:has-text('New package')")
    page.fill("#start_datetime", start.isoformat())
    option = page.locator("#line_items-0-item_id option", has_text="Cloud storage")
    page.select_option("#line_items-0-item_id", option.get_attribute("value"))
    page.fill("#nickname", "Storage plan")
    page.click("button:has-text('Create package')")
    expect(page.locator("#package-detail h1")).to_contain_text("Storage plan")
    shot("package")
    line_id = int(page.locator("#package-detail table.list tbody tr code").first.inner_text())
    return line_id, page.url


def usage_csv(line_id: int, previous: date, current: date) -> bytes:
    rows = ["line_item_id,usage_value,from,external_key"]
    for n, day in enumerate((previous + timedelta(days=2), previous + timedelta(days=9), previous + timedelta(days=20))):
        rows += [f"{line_id},{40 + n * 10},{day} 10:00:00,prev-{n}", f"{line_id},{5 + n},{day} 18:30:00,prev-{n}b"]
    rows.append(f"{line_id},twelve,{previous + timedelta(days=3)} 09:00:00,bad-1")  # refused: not a number
    rows += [f"{line_id},{3 + n},{current} 0{n}:15:00,cur-{n}" for n in range(3)]
    return ("\n".join(rows) + "\n").encode()


def import_csv(page, shot, content: bytes):
    """Upload → preview listing the bad row → confirm → progress until done."""
    page.goto("/merchant/imports")
    page.set_input_files("#import-file", files=[{"name": "usage.csv", "mimeType": "text/csv", "buffer": content}])
    page.click("button:has-text('Upload and check')")
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("9 will be stored", timeout=15_000)
    expect(page.locator(".import-errors")).to_contain_text("usage_value")
    expect(page.locator(".import-errors tbody tr")).to_have_count(1)
    shot("import-preview")
    page.click("button:has-text('Import 9 rows')")
    expect(page.locator("#import-detail[data-status=done]")).to_be_visible(timeout=15_000)
    expect(page.locator(".import-summary")).to_contain_text("9")
    shot("import-done")
    page.click("a:has-text('Import another file')")
    expect(page.locator(".import-table tbody tr")).to_have_count(1)
    shot("imports")


def check_usage_graph(page, shot, line_id: int, package_url: str):
    page.goto(package_url)
    icon = page.locator(f"a[href='/merchant/lines/{line_id}/usage']")
    if icon.count():  # the usage icon of the package's line
        icon.first.click()
    else:
        page.goto(f"/merchant/lines/{line_id}/usage")
    expect(page.locator(".usage-chart .main-svg").first).to_be_visible()
    expect(page.locator("#usage-aggregate")).to_contain_text("12")  # 3 + 4 + 5 this period
    shot("usage-current")
    page.click("a.usage-prev")
    expect(page.locator("#usage-aggregate")).to_contain_text("168")  # 40+5 + 50+6 + 60+7
    expect(page.locator(".usage-chart .main-svg").first).to_be_visible()
    expect(page.locator("#usage-records tbody tr")).to_have_count(6)
    shot("usage-previous")


def bill_and_pay(page, shot, line_id: int, current: date, today: date):
    page.goto(f"/merchant/lines/{line_id}/usage")
    page.click(".crumbs a:has-text('Storage plan')")  # back to the package
    # HTMX asks the question: a click before it has processed the page posts the plain form.
    page.wait_for_load_state("load")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("button:has-text('Bill now')")
    rows = page.locator("#package-detail section:has(h2:has-text('Invoices')) tbody tr")
    expect(rows).to_have_count(2, timeout=15_000)  # the start of each period so far
    assert questions and "will issue 2 invoices" in questions[0]  # asked first, with the count
    expect(page.locator("#flashes")).to_be_empty()  # no stale message from an earlier page above
    rows.filter(has_text=current.isoformat()).locator("a").first.click()
    # October's 168 GB in arrears: 100 × 0.10 + 68 × 0.05, beside November's base fee.
    expect(page.locator(".invoice")).to_contain_text("168")
    expect(page.locator(".invoice")).to_contain_text("13.40")
    shot("invoice")
    pdf_url = page.locator("a:has-text('Download PDF')").get_attribute("href")
    pdf = page.request.get(pdf_url)
    assert pdf.ok and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.body().startswith(b"%PDF")
    balance = re.search(r"Balance due: ([\d,]+\.\d\d)", page.content()).group(1).replace(",", "")
    page.fill("#amount", balance)
    page.fill("#paid_on", today.isoformat())
    page.click("button:has-text('Record payment')")
    expect(page.locator(".badge-closed-paid").first).to_be_visible()
    shot("invoice-paid")


def create_api_key(page, shot):
    page.goto("/merchant/developers")
    page.fill("#name", "Usage sender")
    page.click("button:has-text('Create an API key')")
    private_key = page.locator("#new-private-key")
    expect(private_key).to_be_visible()
    assert len(private_key.input_value()) >= 40
    # Tall enough for the glyphs: an underscore of the key was clipped away by the field.
    box = private_key.evaluate("""e => { const s = getComputedStyle(e);
        return {content: e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom),
                font: parseFloat(s.fontSize)}; }""")
    assert box["content"] >= 1.4 * box["font"], box
    copy = page.locator("button[data-copy-target='#new-private-key']")
    copy.click()
    expect(copy).to_have_text("Copied")
    shot("developers")


def test_merchant_scenario(page, shot, admin_user):
    today = date.today()
    current = today.replace(day=1)
    previous = (current - timedelta(days=1)).replace(day=1)
    login(page)
    expect(page.locator("[data-plotly] .main-svg").first).to_be_visible()  # the revenue chart
    shot("dashboard")
    create_tiered_item(page, shot)
    line_id, package_url = create_customer_and_package(page, shot, previous)
    import_csv(page, shot, usage_csv(line_id, previous, current))
    check_usage_graph(page, shot, line_id, package_url)
    bill_and_pay(page, shot, line_id, current, today)
    create_api_key(page, shot)


def test_import_progress_bar_polls_until_done(page, shot, admin_user, db):
    """The progress partial polls every second while the import runs, then shows the summary."""
    from portal.models import CsvImport

    imp = CsvImport(filename="big.csv", stored_path="/nonexistent.csv", status="running", size_bytes=52_000_000,
                    rows_total=1_000_000, rows_done=420_000, bytes_done=21_000_000, stored=419_000, errors=[])
    db.session.add(imp)
    db.session.commit()
    login(page)
    page.goto(f"/merchant/imports/{imp.id}")
    expect(page.locator("progress.import-progress")).to_have_attribute("value", "42")
    shot("import-progress")
    imp.rows_done, imp.stored, imp.error_count = 1_000_000, 998_000, 2_000
    db.session.commit()
    expect(page.locator("progress.import-progress")).to_have_attribute("value", "99", timeout=5_000)
    imp.status = "done"
    db.session.commit()
    expect(page.locator(".import-summary")).to_contain_text("998,000", timeout=5_000)
    expect(page.locator("#import-detail")).not_to_have_attribute("hx-trigger", "every 1s")
