"""ChargeOver's documented example end to end: API → usage → scheduled run → e-mail → portals.

A customer on a monthly VoIP package ($10 flat fee, $0.05 per minute) uses 361 minutes in
September 2015; on 1 October the run creates the invoice ($10.00 October in advance,
$18.05 for September's minutes, $28.05 total) and e-mails it with the PDF attached.
"""
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from support.api_client import body
from portal.jobs.mail import send_due_deliveries

ROOT = Path(__file__).resolve().parents[2]


def _setup_through_the_api(api) -> int:
    item = api.post("/api/v3/item", json={
        "name": "VoIP minutes", "type": "service", "units": "minute", "units_plural": "minutes",
        "is_metered": True, "pricemodel": {"pricemodel": "uni", "base": 10, "paycycle": "mon",
                                           "tiers": [{"unit_from": 0, "unit_to": None, "amount": 0.05}]}})
    assert item.status_code == 201, body(item)
    customer = api.post("/api/v3/customer", json={
        "company": "Acme Telephony", "superuser_email": "jane@acme.example",
        "superuser_first_name": "Jane", "superuser_last_name": "Doe"})
    assert customer.status_code == 201, body(customer)
    package = api.post("/api/v3/package", json={
        "customer_id": body(customer)["response"]["id"], "paycycle": "mon",
        "start_datetime": "2015-09-01 00:00:00",
        "line_items": [{"item_id": body(item)["response"]["id"], "line_quantity": 1}]})
    assert package.status_code == 201, body(package)
    package_id = body(package)["response"]["id"]
    line_id = body(api.get(f"/api/v3/package/{package_id}"))["response"]["line_items"][0]["line_item_id"]
    for day, minutes in ((3, 120), (15, 200), (29, 41)):
        usage = api.post("/api/v3/usage", json={
            "line_item_id": line_id, "usage_value": minutes, "external_key": f"sept-{day}",
            "from": f"2015-09-{day:02d} 09:00:00", "to": f"2015-09-{day:02d} 17:00:00"})
        assert usage.status_code == 201, body(usage)
    return package_id


def _billing_run(app, now: str) -> str:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "billing", "run", "--now", now],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_voip_example_end_to_end(app, api, db, client, smtp_server):
    package_id = _setup_through_the_api(api)
    assert "1 invoice(s) created" in _billing_run(app, "2015-09-01 00:00:00")
    assert "1 invoice(s) created" in _billing_run(app, "2015-10-01 00:00:00")

    invoices = body(api.get(f"/api/v3/invoice?where=package_id:EQUALS:{package_id}&order=invoice_id:DESC"))["response"]
    october = invoices[0]
    assert october["date"] == "2015-10-01" and october["total"] == Decimal("28.05")
    assert [(l["descrip"].split(":")[0], l["line_total"]) for l in october["line_items"]] == [
        ("VoIP minutes", Decimal("10.00")), ("VoIP minutes", Decimal("18.05"))]
    assert october["line_items"][1]["line_quantity"] == Decimal(361)

    assert send_due_deliveries() == {"sent": 2}
    mail = next(m for m in smtp_server if f"#{october['refnumber']}" in m["Subject"])
    assert mail["To"] == "jane@acme.example"
    assert "28.05 USD" in mail.get_body(("html",)).get_content()
    pdf = next(mail.iter_attachments()).get_content()
    assert "28.05 USD" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    permalink = client.get(october["url_permalink"])
    assert permalink.status_code == 200 and "28.05 USD" in permalink.get_data(as_text=True)
