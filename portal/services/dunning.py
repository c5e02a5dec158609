"""Dunning: invoices past their due date become overdue; reminders follow the merchant's
schedule (days after the due date) until the invoice is paid, voided or credited.

The background process (`portal.jobs.dunning`) owns the transactions; these functions
flush. Once: an invoice is marked overdue once (primary key of `overdue_invoices`, its
"overdue" event in the same transaction) and each step of the schedule has one row per
invoice (unique key), written with its queued e-mail, so two workers never send a reminder
twice. When several steps are due at once (the worker was down), only the latest is sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import render_template
from sqlalchemy import exists, func, select, update

from portal.billing.vocabulary import DocType, InvoiceStatus
from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.models import Customer, EmailDelivery, Invoice, InvoiceReminder, OverdueInvoice, ReminderSettings
from portal.services.customers import billing_email
from portal.services.events import record_event
from portal.services.invoice_view import format_money
from portal.services.mail import queue_message
from portal.services.settings import ensure_settings, singleton_row

MAX_STEPS, MAX_DAYS = 10, 365
STOPPED_NOTE = "not sent: the invoice was settled first"


def reminder_settings() -> ReminderSettings:
    """The reminder schedule row, created with its defaults if missing (flushes)."""
    return singleton_row(ReminderSettings)


def parse_schedule(text: str | None) -> list[int]:
    """"3, 7, 14" → [3, 7, 14]: whole days after the due date, distinct, ascending.

    :raises ValidationError: on the field `days`.
    """
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ValidationError("days", "must be whole numbers of days separated by commas, e.g. 3, 7, 14")
    days = sorted({int(p) for p in parts})
    if len(days) > MAX_STEPS:
        raise ValidationError("days", f"at most {MAX_STEPS} reminders")
    if days and not 1 <= days[0] <= days[-1] <= MAX_DAYS:
        raise ValidationError("days", f"each must be between 1 and {MAX_DAYS} days after the due date")
    return days


def update_reminder_settings(*, enabled: bool, days: str) -> ReminderSettings:
    """Change the schedule; flushes. An empty schedule sends no reminder (overdue still counts)."""
    row = reminder_settings()
    row.enabled, row.days = bool(enabled), ",".join(str(d) for d in parse_schedule(days))
    db.session.flush()
    return row


def active_schedule() -> list[int]:
    """The steps in force (none when reminders are off)."""
    row = reminder_settings()
    return parse_schedule(row.days) if row.enabled else []


def _owing():
    """An invoice that is still owed: open, not a credit note, balance above zero."""
    return (Invoice.doc_type == DocType.INVOICE) & (Invoice.status == InvoiceStatus.OPEN) & \
        (Invoice.total_minor > Invoice.paid_minor)


def newly_overdue_ids(today: date, limit: int = 500) -> list[int]:
    """Owed invoices past their due date not yet marked overdue, oldest due first."""
    return list(db.session.scalars(
        select(Invoice.id).where(_owing(), Invoice.due_date < today,
                                 ~exists().where(OverdueInvoice.invoice_id == Invoice.id))
        .order_by(Invoice.due_date, Invoice.id).limit(limit)))


def mark_overdue(invoice: Invoice, now: datetime) -> OverdueInvoice:
    """Record that the invoice is overdue and write its "overdue" event; flushes (a second
    marking of the same invoice fails on the primary key: the caller rolls back)."""
    row = OverdueInvoice(invoice_id=invoice.id, due_date=invoice.due_date, detected_at=now)
    db.session.add(row)
    db.session.flush()
    _overdue_event(invoice)
    return row


def _overdue_event(invoice: Invoice) -> None:
    """The "invoice.overdue" webhook event (the invoice as the API shows it), in the outbox."""
    record_event(db.session, context="invoice", context_id=invoice.id, event="overdue")


def reminder_candidate_ids(today: date, schedule: list[int], limit: int = 500) -> list[int]:
    """Overdue, still owed invoices for which a step of `schedule` is due and has no row."""
    if not schedule:
        return []
    first_due = today - timedelta(days=schedule[0])
    last_step = (select(func.max(InvoiceReminder.step)).where(InvoiceReminder.invoice_id == Invoice.id)
                 .scalar_subquery())
    stmt = (select(Invoice.id, Invoice.due_date, last_step)
            .join(OverdueInvoice, OverdueInvoice.invoice_id == Invoice.id)
            .where(_owing(), Invoice.due_date <= first_due).order_by(Invoice.due_date, Invoice.id))
    ids = []
    for invoice_id, due_date, last in db.session.execute(stmt):
        if _steps_due(schedule, due_date, today, last):
            ids.append(invoice_id)
            if len(ids) >= limit:
                break
    return ids


def _steps_due(schedule: list[int], due_date: date, today: date, last: int | None) -> list[int]:
    """Steps reached by `today` and after the last step already written."""
    days = (today - due_date).days
    return [s for s in schedule if s <= days and (last is None or s > last)]


def queue_reminder(invoice: Invoice, schedule: list[int], today: date) -> InvoiceReminder | None:
    """Write the due steps' rows: the latest one with its e-mail queued, earlier ones skipped;
    flushes (a step another worker wrote fails on the unique key: the caller rolls back)."""
    last = db.session.scalar(select(func.max(InvoiceReminder.step))
                             .where(InvoiceReminder.invoice_id == invoice.id))
    steps = _steps_due(schedule, invoice.due_date, today, last)
    if not steps:
        return None
    for step in steps[:-1]:
        db.session.add(InvoiceReminder(invoice_id=invoice.id, step=step, status="skipped",
                                       note=f"a later reminder ({steps[-1]} days) was due at the same time"))
    reminder = InvoiceReminder(invoice_id=invoice.id, step=steps[-1], status="sent")
    customer = db.session.get(Customer, invoice.customer_id)
    address = billing_email(customer)
    if not address or "@" not in address:
        reminder.status, reminder.note = "skipped", "the customer has no billing e-mail address"
    else:
        reminder.delivery_id = _queue_reminder_email(invoice, customer, address, (today - invoice.due_date).days).id
    db.session.add(reminder)
    db.session.flush()
    return reminder


def _queue_reminder_email(invoice: Invoice, customer: Customer, address: str, days_late: int) -> EmailDelivery:
    """The reminder message (text and HTML), queued for the mail job, shown on the invoice."""
    from portal.services.links import invoice_links

    settings = ensure_settings()
    context = {"invoice": invoice, "customer": customer, "merchant": settings, "days_late": days_late,
               "balance": format_money(invoice.balance_minor, invoice.currency),
               "total": format_money(invoice.total_minor, invoice.currency),
               "permalink": invoice_links(invoice)["url_permalink"]}
    subject = f"Reminder: invoice #{invoice.refnumber} from {settings.company_name} is overdue"
    delivery = queue_message(address, subject, render_template("email/reminder.txt", **context),
                             render_template("email/reminder.html", **context))
    delivery.invoice_id = invoice.id
    db.session.flush()
    return delivery


def stop_settled_reminders() -> int:
    """Reminders whose e-mail has not gone out yet while their invoice is settled (paid,
    void, credited): their delivery is cancelled before any attempt; flushes. Returns how many."""
    rows = db.session.execute(
        select(InvoiceReminder.id, InvoiceReminder.delivery_id)
        .join(Invoice, Invoice.id == InvoiceReminder.invoice_id)
        .join(EmailDelivery, EmailDelivery.id == InvoiceReminder.delivery_id)
        .where(InvoiceReminder.status == "sent", EmailDelivery.status == "pending",
               EmailDelivery.attempts == 0, ~_owing())).all()
    stopped = 0
    for reminder_id, delivery_id in rows:
        # Only a delivery no mail job has claimed yet (attempts still 0) is cancelled.
        done = db.session.execute(
            update(EmailDelivery).where(EmailDelivery.id == delivery_id, EmailDelivery.status == "pending",
                                        EmailDelivery.attempts == 0)
            .values(status="failed", last_error=STOPPED_NOTE)
            .execution_options(synchronize_session=False)).rowcount
        if done:
            db.session.execute(update(InvoiceReminder).where(InvoiceReminder.id == reminder_id)
                               .values(status="stopped", note=STOPPED_NOTE)
                               .execution_options(synchronize_session=False))
            stopped += 1
    db.session.flush()
    return stopped


@dataclass(frozen=True)
class DunningStatus:
    """What the invoice page shows: overdue since when, reminders written, the next one."""

    overdue_since: date | None
    reminders: list
    next_step: int | None
    next_on: date | None
    owed: bool


def dunning_status(invoice: Invoice, today: date) -> DunningStatus:
    """The invoice's overdue state and reminders (sent / next) for the merchant portal."""
    overdue = db.session.get(OverdueInvoice, invoice.id)
    reminders = list(db.session.scalars(
        select(InvoiceReminder).where(InvoiceReminder.invoice_id == invoice.id).order_by(InvoiceReminder.step)))
    owed = invoice.doc_type == DocType.INVOICE and invoice.status == InvoiceStatus.OPEN and invoice.balance_minor > 0
    last = reminders[-1].step if reminders else None
    upcoming = [s for s in active_schedule() if last is None or s > last] if owed else []
    next_step = upcoming[0] if upcoming else None
    next_on = invoice.due_date + timedelta(days=next_step) if next_step is not None else None
    if next_on is not None and next_on < today:
        next_on = today  # due now: the next pass of the background process sends it
    return DunningStatus(overdue.detected_at.date() if overdue else None, reminders, next_step, next_on, owed)
