"""Two customers, A and B, with everything a portal can show, and a client per role."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from factories import make_voip_item, utc
from merchant.conftest import PASSWORD, login
from portal.models import CsvImport
from portal.services.accounts import create_staff_user
from portal.services.apikeys import create_api_key
from portal.jobs.billing import run_billing
from portal.services.contact_access import set_contact_password
from portal.services.customers import add_contact, create_customer
from portal.services.links import invoice_token
from portal.services.packages import LineDraft, create_package
from portal.services.payments import Application, record_payment
from portal.services.usage import record_usage
from portal.services.usage_urls import issue_url, token_of

CONTACT_PASSWORD = "contact-pass-123"


@dataclass
class Tenant:
    """The ids of one customer's objects (and markers that must not leak elsewhere)."""

    company: str
    email: str
    customer_id: int = 0
    contact_id: int = 0
    package_id: int = 0
    line_id: int = 0
    invoice_id: int = 0
    refnumber: int = 0
    url_id: int = 0
    url_token: str = ""
    invoice_token: str = ""
    credit_note_id: int = 0


def build_tenant(item, company: str, email: str, minutes: str) -> Tenant:
    tenant = Tenant(company, email)
    customer = create_customer(company=company)
    contact = add_contact(customer, email=email, first_name=company.split()[0])
    set_contact_password(contact, CONTACT_PASSWORD)
    package = create_package(customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
    line = package.line_items[0]
    record_usage({"line_item_id": line.id, "usage_value": minutes, "from": "2015-09-10 00:00:00"})
    run_billing(utc(2015, 10, 1))
    invoice = max((i for i in customer_invoices(customer.id)), key=lambda i: i.id)
    record_payment(customer, amount="5", paid_on=date(2015, 10, 5), method="check",
                   applications=[Application(invoice, Decimal("5"))])
    tenant.credit_note_id = build_credit_note(customer, item)
    usage_url = issue_url(line)
    tenant.customer_id, tenant.contact_id, tenant.package_id = customer.id, contact.id, package.id
    tenant.line_id, tenant.invoice_id, tenant.refnumber = line.id, invoice.id, invoice.refnumber
    tenant.url_id, tenant.url_token = usage_url.id, token_of(usage_url)
    tenant.invoice_token = invoice_token(invoice)
    return tenant


def customer_invoices(customer_id: int):
    from portal.extensions import db
    from portal.models import Invoice

    return db.session.query(Invoice).filter_by(customer_id=customer_id, doc_type="invoice").all()


def build_credit_note(customer, item) -> int:
    """A second package, cancelled mid-October: its final run issues a credit note."""
    from portal.services.packages import cancel_package

    package = create_package(customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
    run_billing(utc(2015, 10, 1))
    cancel_package(package, at=utc(2015, 10, 16))
    ids = run_billing(utc(2015, 10, 20)).invoice_ids
    assert len(ids) == 1
    return ids[0]


def build_world(app, db) -> dict:
    """Tenants A and B, staff, an API key and a CSV import; returns ids and role clients."""
    item = make_voip_item()
    world = {"A": build_tenant(item, "Alpha Telephony", "ann@alpha.example", "361"),
             "B": build_tenant(item, "Bravo Networks", "bob@bravo.example", "777")}
    world["item_id"] = item.id
    for role in ("admin", "viewer"):
        create_staff_user(email=f"{role}@merchant.example", password=PASSWORD, role=role)
    key, _ = create_api_key("matrix")
    world["key_id"] = key.id
    upload = CsvImport(filename="usage.csv", stored_path="/nonexistent/usage.csv", status="done")
    db.session.add(upload)
    db.session.commit()
    world["import_id"] = upload.id
    world["clients"] = _clients(app, world)
    return world


def _contact_client(app, email: str):
    client = app.test_client()
    page = client.get("/portal/login").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page[:3000]
    token = match.group(1)
    answer = client.post("/portal/login", data={"email": email, "password": CONTACT_PASSWORD,
                                                "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def _staff_client(app, role: str):
    client = app.test_client()
    assert login(client, f"{role}@merchant.example").status_code == 302
    return client


def _clients(app, world) -> dict:
    return {"anonymous": app.test_client(),
            "contact_a": _contact_client(app, world["A"].email),
            "contact_b": _contact_client(app, world["B"].email),
            "viewer": _staff_client(app, "viewer"), "admin": _staff_client(app, "admin")}


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    return match.group(1) if match else ""
