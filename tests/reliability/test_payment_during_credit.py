"""A payment applied by hand while a billing run applies credit to the same invoice must
not overpay it (review finding): the payment waits for the customer's lock and reads the
invoice's balance after the run's application."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import text

from support.factories import make_october_invoice
from portal.extensions import db as _db
from portal.models import Customer, Invoice
from portal.services.payments import Application, record_payment


def test_a_payment_waits_for_the_credit_run_and_pays_only_the_rest(app, db):
    """Invoice $28.05. The run (another connection) holds the customer and applies $10.00 of
    credit (paid 10.00). A payment of $28.05 "as much as the balance" made meanwhile applies
    only the remaining 18.05; the invoice is paid exactly, never 38.05."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has one writer at a time")
    invoice = make_october_invoice()
    db.session.commit()
    invoice_id, customer_id = invoice.id, invoice.customer_id
    run = _db.engine.connect()
    run_tx = run.begin()
    run.execute(text("SELECT id FROM customers WHERE id = :id FOR UPDATE"), {"id": customer_id})
    # What apply_customer_credit writes: an unapplied $10.00 payment applied to the invoice.
    source = run.execute(text(
        "INSERT INTO transactions (customer_id, transaction_type, currency, amount_minor, "
        "transaction_date, method, created_at) VALUES (:c, 'pay', 'USD', 1000, '2015-10-02', "
        "'check', now()) RETURNING id"), {"c": customer_id}).scalar_one()
    run.execute(text(
        "INSERT INTO transaction_applications (transaction_id, invoice_id, amount_minor, automatic, "
        "created_at) VALUES (:t, :i, 1000, true, now())"), {"t": source, "i": invoice_id})
    run.execute(text("UPDATE invoices SET paid_minor = 1000 WHERE id = :id"), {"id": invoice_id})
    errors = []

    def pay():
        with app.app_context():
            try:
                record_payment(_db.session.get(Customer, customer_id), amount="28.05",
                               paid_on=date(2015, 10, 5), method="check",
                               applications=[Application(_db.session.get(Invoice, invoice_id))])
                _db.session.commit()
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                _db.session.remove()

    worker = threading.Thread(target=pay)
    worker.start()
    time.sleep(0.5)  # the payment now waits on the run's lock (or, unfixed, has read 0 paid)
    run_tx.commit()
    run.close()
    worker.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    paid = db.session.get(Invoice, invoice_id)
    assert (paid.paid_minor, paid.total_minor, paid.status) == (2805, 2805, "closed-paid")
