"""Issued invoices keep what they showed: settings and customer changes after issue do not
reach their web page, PDF or e-mail; new invoices show the new values (issue 9 item 4)."""
import importlib.util
from pathlib import Path

from sqlalchemy import text

from support.factories import make_customer, make_package, utc
from support.factories import ADDRESS, NEW, OLD, PNG, issue_then_change, pdf_text
from portal.extensions import db as _db
from portal.models import Customer, Invoice
from portal.services.billing import run_billing
from portal.services.pdf import render_invoice_pdf
from portal.services.settings import ensure_settings, update_settings

def test_pdf_of_an_issued_invoice_keeps_its_values(db):
    first, _ = issue_then_change(db)
    text = pdf_text(first)
    for old in ("Northwind Telecom", "1 Old Road", "billing@northwind.example", "Pay within 30 days.",
                "Northwind · VAT GB123", "Tax (8.25 %)", "Net 30", "Acme Telephony", "10 Main Street",
                "Suite 400", "Building B", "Springfield, IL 62701", "USA"):
        assert old in text, old
    for new in ("Southwind", "9 New Avenue", "Cash only.", "Acme Renamed", "77 Other Street", "Net 15"):
        assert new not in text, new
    assert b"/Subtype /Image" in render_invoice_pdf(first)  # the logo of the day, although removed since


def test_the_migration_fills_snapshots_of_existing_invoices(db):
    update_settings(ensure_settings(), logo=PNG, **OLD)
    customer = make_customer(**ADDRESS)
    make_package(customer=customer)
    db.session.commit()
    invoice_id = run_billing(utc(2015, 9, 1)).invoice_ids[-1]
    db.session.execute(text("UPDATE invoices SET snapshot = NULL"))
    db.session.commit()
    path = Path(__file__).parents[2] / "migrations/versions/invoicedoc01_billing_contact_snapshot.py"
    spec = importlib.util.spec_from_file_location("invoicedoc01", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration._snapshot_invoices(_db.session.connection())
    db.session.commit()
    db.session.expire_all()
    snapshot = db.session.get(Invoice, invoice_id).snapshot
    assert snapshot["seller"]["company_name"] == "Northwind Telecom"
    assert snapshot["buyer"]["bill_addr2"] == "Suite 400" and snapshot["buyer"]["bill_postcode"] == "62701"
    assert snapshot["contact"]["email"] == "jane@acme.example" and snapshot["tax"]["label"] == "8.25 %"
    assert snapshot["design"]["logo"] and snapshot["terms"]["label"] == "Net 30"
    update_settings(ensure_settings(), **NEW)
    assert "Northwind Telecom" in pdf_text(db.session.get(Invoice, invoice_id))
    assert db.session.get(Customer, customer.id).company == "Acme Telephony"
