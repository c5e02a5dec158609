"""The services write their webhook events (outbox rows) in the transaction of the change."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from support.factories import make_credited, make_customer, make_october_invoice, make_package, utc
from portal.models import Invoice, WebhookDelivery, WebhookEndpoint, WebhookEvent
from portal.jobs.billing import run_billing
from portal.services.customers import delete_customer, update_customer
from portal.services.invoices import void_invoice
from portal.services.packages import cancel_package, change_line_quantity, update_package
from portal.services.payments import pay_invoice
from portal.services.suspensions import suspend_package, unsuspend_package


def subscribe_all(db):
    db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/", events=["*"], secret="k", enabled=True))
    db.session.commit()


def events(db) -> list[tuple[str, str, int]]:
    db.session.commit()
    rows = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))
    return [(e.context, e.event, e.context_id) for e in rows]


def test_customer_events(app, db):
    subscribe_all(db)
    customer = make_customer(company="Evented")
    update_customer(customer, company="Evented Ltd")
    db.session.commit()
    contact = customer.contacts[0]
    delete_customer(customer)
    assert events(db) == [("customer", "insert", customer.id), ("user", "insert", contact.id),
                          ("customer", "update", customer.id), ("customer", "delete", customer.id)]
    last = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert last.data["customer"]["company"] == "Evented Ltd"  # the object as it was when deleted


def test_package_events_carry_the_package_and_its_customer(app, db):
    subscribe_all(db)
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    update_package(package, nickname="Main line")
    suspend_package(package, utc(2030, 1, 1))
    unsuspend_package(package, utc(2030, 1, 1))
    cancel_package(package)
    found = [(c, e) for c, e, i in events(db) if c == "package" and i == package.id]
    assert found == [("package", "insert"), ("package", "update"), ("package", "suspend"),
                     ("package", "unsuspend"), ("package", "cancel")]
    insert = db.session.scalars(select(WebhookEvent).where(WebhookEvent.context == "package")).first()
    assert insert.data["package"]["package_id"] == package.id
    assert insert.data["customer"]["customer_id"] == package.customer_id


def test_invoice_insert_paid_and_voided_and_the_payment(app, db):
    subscribe_all(db)
    invoice = make_october_invoice()
    void_invoice(invoice)
    db.session.commit()
    [second] = [db.session.get(Invoice, i) for i in run_billing(utc(2015, 11, 1)).invoice_ids]
    pay_invoice(second, paid_on=date(2015, 11, 5), method="check")
    found = [(c, e) for c, e, _ in events(db) if c in ("invoice", "transaction")]
    assert found == [("invoice", "insert"), ("invoice", "insert"), ("invoice", "voided"), ("invoice", "insert"),
                     ("invoice", "paid"), ("transaction", "insert")]
    voided = db.session.scalars(select(WebhookEvent).where(WebhookEvent.event == "voided")).one()
    assert (voided.context_id, str(voided.data["invoice"]["total"])) == (invoice.id, "28.05")


def test_a_credit_note_event(app, db):
    subscribe_all(db)
    credited = make_credited()
    note = [(c, e, i) for c, e, i in events(db) if c == "creditnote"]
    assert note == [("creditnote", "insert", credited.credit_note.id)]


def test_one_event_per_object_and_transaction_with_its_final_state(app, db):
    subscribe_all(db)
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    update_package(package, nickname="First")
    change_line_quantity(package.line_items[0], Decimal("3"))
    update_package(package, nickname="Second")
    db.session.commit()
    updates = db.session.scalars(select(WebhookEvent).where(WebhookEvent.event == "update",
                                                            WebhookEvent.context == "package")).all()
    assert len(updates) == 1
    assert updates[0].data["package"]["nickname"] == "Second"
    assert updates[0].data["package"]["line_items"][0]["line_quantity"] == Decimal("3")
    assert len(updates[0].id and db.session.scalars(select(WebhookDelivery)
                                                    .where(WebhookDelivery.event_id == updates[0].id)).all()) == 1
    update_package(package, nickname="Third")  # a later transaction: a new event
    db.session.commit()
    assert len(db.session.scalars(select(WebhookEvent).where(WebhookEvent.event == "update",
                                                             WebhookEvent.context == "package")).all()) == 2
