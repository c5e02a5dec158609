"""Dunning: overdue detection and reminder e-mails through a real SMTP server on loopback."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from support.factories import utc
from support.factories import make_october_invoice
from portal.billing.errors import ValidationError
from portal.jobs.dunning import run_dunning
from portal.models import EmailDelivery, Invoice, InvoiceReminder, OverdueInvoice
from portal.services.dunning import (
    dunning_status, parse_schedule, queue_reminder, update_reminder_settings,
)
from portal.services.invoices import void_invoice
from portal.jobs.mail import send_due_deliveries
from portal.services.payments import pay_invoice


@pytest.fixture
def october(db, smtp_server):
    """ChargeOver's October invoice (28.05 USD, due 2015-10-31), September's paid, mail sent."""
    invoice = make_october_invoice()
    september = db.session.query(Invoice).filter(Invoice.id != invoice.id).one()
    pay_invoice(september, paid_on=date(2015, 9, 5), method="check")
    # The invoice e-mails count as sent (rendering their PDFs is not what is tested here).
    db.session.execute(update(EmailDelivery).values(status="sent"))
    db.session.commit()
    assert invoice.due_date == date(2015, 10, 31) and invoice.balance_minor == 2805
    return invoice


def _steps(db, invoice):
    return [(r.step, r.status) for r in db.session.query(InvoiceReminder).filter_by(invoice_id=invoice.id)
            .order_by(InvoiceReminder.step)]


def test_overdue_then_reminders_on_schedule_each_sent_once(db, october, smtp_server):
    assert run_dunning(utc(2015, 10, 31, 12)) == {"overdue": 0, "reminded": 0, "stopped": 0}
    assert run_dunning(utc(2015, 11, 1, 12)) == {"overdue": 1, "reminded": 0, "stopped": 0}
    assert db.session.get(OverdueInvoice, october.id).due_date == date(2015, 10, 31)
    assert run_dunning(utc(2015, 11, 3, 12))["reminded"] == 1
    assert run_dunning(utc(2015, 11, 3, 18))["reminded"] == 0  # the same step: once
    assert send_due_deliveries() == {"sent": 1}
    (message,) = smtp_server
    assert message["To"] == "jane@acme.example"
    assert message["Subject"] == f"Reminder: invoice #{october.refnumber} from Meterbill Demo Merchant is overdue"
    text = message.get_body(("plain",)).get_content()
    assert "was due on 2015-10-31 (3 days ago)" in text and "Balance due: 28.05 USD" in text
    assert "http://localhost/r/invoice/" in text
    assert "28.05 USD" in message.get_body(("html",)).get_content()
    run_dunning(utc(2015, 11, 7, 12))
    assert send_due_deliveries() == {"sent": 1}
    assert "(7 days ago)" in smtp_server[1].get_body(("plain",)).get_content()
    assert _steps(db, october) == [(3, "sent"), (7, "sent")]
    status = dunning_status(october, date(2015, 11, 8))
    assert status.overdue_since == date(2015, 11, 1) and (status.next_step, status.next_on) == (14, date(2015, 11, 14))
    pay_invoice(october, paid_on=date(2015, 11, 8), method="check")
    db.session.commit()
    assert run_dunning(utc(2015, 11, 20, 12)) == {"overdue": 0, "reminded": 0, "stopped": 0}
    assert send_due_deliveries() == {} and len(smtp_server) == 2
    assert dunning_status(october, date(2015, 11, 20)).next_step is None


def test_late_worker_sends_only_the_latest_due_step(db, october, smtp_server):
    counts = run_dunning(utc(2015, 11, 20, 12))
    assert counts == {"overdue": 1, "reminded": 1, "stopped": 0}
    assert _steps(db, october) == [(3, "skipped"), (7, "skipped"), (14, "sent")]
    assert send_due_deliveries() == {"sent": 1}
    assert "(20 days ago)" in smtp_server[0].get_body(("plain",)).get_content()


def test_a_void_stops_a_reminder_not_yet_sent(db, october, smtp_server):
    run_dunning(utc(2015, 11, 4, 12))
    void_invoice(db.session.get(Invoice, october.id))
    db.session.commit()
    assert run_dunning(utc(2015, 11, 8, 12))["stopped"] == 1
    assert _steps(db, october) == [(3, "stopped")]
    delivery = db.session.query(EmailDelivery).filter_by(invoice_id=october.id, kind="message").one()
    assert delivery.status == "failed" and "settled" in delivery.last_error
    assert send_due_deliveries() == {} and smtp_server == []


def test_a_second_worker_cannot_write_the_same_step(db, october):
    run_dunning(utc(2015, 11, 3, 12))
    db.session.add(InvoiceReminder(invoice_id=october.id, step=3, status="sent"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert queue_reminder(db.session.get(Invoice, october.id), [3, 7, 14], date(2015, 11, 3)) is None


def test_schedule_validation_and_off_switch(db, october, smtp_server):
    assert parse_schedule(" 14, 3,7 ,3") == [3, 7, 14] and parse_schedule("") == []
    for bad in ("3, x", "0", "400", ",".join(str(d) for d in range(1, 13))):
        with pytest.raises(ValidationError) as error:
            parse_schedule(bad)
        assert error.value.field == "days"
    update_reminder_settings(enabled=False, days="3")
    db.session.commit()
    assert run_dunning(utc(2015, 11, 20, 12)) == {"overdue": 1, "reminded": 0, "stopped": 0}


def test_overdue_writes_one_invoice_overdue_event(db, october):
    from portal.models import WebhookEndpoint, WebhookEvent

    db.session.add(WebhookEndpoint(url="http://127.0.0.1:9/hook", events=["invoice.overdue"],
                                   enabled=True, secret="s3cret"))
    db.session.commit()
    run_dunning(utc(2015, 11, 1, 12))
    run_dunning(utc(2015, 11, 2, 12))
    (event,) = db.session.query(WebhookEvent).all()
    assert (event.context, event.context_id, event.event) == ("invoice", october.id, "overdue")
    assert str(event.data["invoice"]["total"]) == "28.05" and event.data["invoice"]["refnumber"]
    assert event.data["customer"]["company"] == "Acme Telephony"
