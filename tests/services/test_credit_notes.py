"""Credit notes instead of negative invoices, and credit applied to the next invoices.

The scenario and its hand computation are in tests/support/factories.py (`make_credited`) (CN-0001 = 5.16 USD).
"""
import io
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from support.factories import utc
from support.factories import make_credited
from portal.models import Counter, EmailDelivery, Invoice, Transaction, TransactionApplication
from portal.jobs.billing import run_billing
from portal.services.credit_notes import credit_note_transaction
from portal.services.invoices import void_invoice
from portal.jobs.mail import send_due_deliveries
from portal.services.payments import customer_balance_minor, customer_credit_minor
from portal.services.pdf import render_invoice_pdf


def _documents(db, customer_id, doc_type):
    return list(db.session.scalars(select(Invoice).where(
        Invoice.customer_id == customer_id, Invoice.doc_type == doc_type).order_by(Invoice.id)))


def test_final_invoice_with_unused_advance_days_is_credit_note_cn_0001(db):
    """Base adjustment 4.84 − 10.00 = −5.16 and usage 0.00: a credit note of 5.16, not an
    invoice of −5.16; its credit is a `cre` transaction of 5.16, nothing applied yet (all
    invoices are paid); balance 40.00 − 5.16 − 40.00 = −5.16."""
    state = make_credited()
    note = state.credit_note
    assert (note.doc_type, note.number, note.kind, note.status) == ("credit_note", "CN-0001", "final", "open-unpaid")
    assert (note.total_minor, note.paid_minor, note.balance_minor) == (-516, 0, -516)
    assert sorted((l.kind, l.is_adjustment, l.amount_minor) for l in note.lines) == [
        ("base", True, -516), ("usage", False, 0)]
    base = next(l for l in note.lines if l.kind == "base")
    assert (base.period_start, base.period_end) == (utc(2015, 10, 1), utc(2015, 11, 1))
    memo = credit_note_transaction(note)
    assert (memo.transaction_type, memo.amount_minor, memo.reference) == ("cre", 516, "CN-0001")
    assert customer_credit_minor(state.customer.id) == 516
    assert customer_balance_minor(state.customer) == -516
    assert [i.refnumber for i in state.invoices] == [1, 2, 3, 4]


def test_credit_note_pdf_and_email(db, smtp_server):
    """The PDF says "Credit note", CN-0001, the −5.16 line with October 2015 as the period it
    adjusts, and the credit 5.16 USD; the e-mail is queued by the run and sent by the mail job."""
    note = make_credited().credit_note
    pdf_text = " ".join(PdfReader(io.BytesIO(render_invoice_pdf(note))).pages[0].extract_text().split())
    assert "Credit note CN-0001" in pdf_text and "Date: 2015-10-16" in pdf_text
    assert "(prorated: 15 of 31 days) 2015-10-01 – 2015-10-31 0 -5.16 USD" in pdf_text
    assert "Credit 5.16 USD Applied to invoices 0.00 USD Credit remaining 5.16 USD" in pdf_text
    assert "INVOICE" not in pdf_text and "Balance due" not in pdf_text
    delivery = db.session.scalar(select(EmailDelivery).where(EmailDelivery.invoice_id == note.id))
    assert delivery.status == "pending" and delivery.to_address == "jane@acme.example"
    send_due_deliveries()
    message = next(m for m in smtp_server if "CN-0001" in m["Subject"])
    assert message["Subject"] == "Credit note CN-0001 from Meterbill Demo Merchant"
    text = message.get_body(("plain",)).get_content()
    assert "Credit:           5.16 USD" in text
    # As an invoice e-mail: the billing contact greeted, the online link, Date and Reply-To.
    assert text.startswith("Hello Jane") and "View it online: http://localhost/r/invoice/" in text
    assert message["Date"] and message["Message-ID"]
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "credit-note-CN-0001.pdf"
    attached = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Credit note" in attached and "5.16 USD" in attached


def test_next_invoice_gets_the_credit_applied(db):
    """Run 2015-11-01: package B's invoice #5 = November base 10.00 + October usage 0 =
    10.00; the credit 5.16 is applied: paid 5.16, balance 4.84, still open; CN-0001 is used
    up (closed). One application row: CN-0001's transaction → #5, 516 minor units, automatic.
    Customer balance 50.00 − 5.16 − 40.00 = 4.84. Run 2015-12-01: #6 = 10.00, no credit left."""
    state = make_credited()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    assert (november.refnumber, november.total_minor, november.paid_minor) == (5, 1000, 516)
    assert (november.balance_minor, november.status) == (484, "open-unpaid")
    note = db.session.get(Invoice, state.credit_note.id)
    assert (note.paid_minor, note.balance_minor, note.status) == (-516, 0, "closed-paid")
    rows = db.session.scalars(select(TransactionApplication)).all()
    credit_rows = [r for r in rows if r.transaction.transaction_type == "cre"]
    assert [(r.transaction.credit_note_id, r.invoice_id, r.amount_minor, r.automatic)
            for r in credit_rows] == [(note.id, november.id, 516, True)]
    assert credit_rows[0].created_at is not None
    assert customer_balance_minor(state.customer) == 484
    assert customer_credit_minor(state.customer.id) == 0
    december = db.session.get(Invoice, run_billing(utc(2015, 12, 1)).invoice_ids[0])
    assert (december.refnumber, december.total_minor, december.paid_minor) == (6, 1000, 0)


def test_credit_is_applied_to_open_invoices_first_when_issued(db):
    """With invoice #4 (10.00) unpaid when CN-0001 (5.16) is issued, the credit goes to #4:
    paid 5.16, balance 4.84; nothing is left for November's invoice #5 (paid 0); the
    customer owes 4.84 + 10.00."""
    state = make_credited(paid=3)
    unpaid = db.session.get(Invoice, state.invoices[3].id)
    assert (unpaid.paid_minor, unpaid.balance_minor, unpaid.status) == (516, 484, "open-unpaid")
    assert state.credit_note.status == "closed-paid"
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    assert november.paid_minor == 0 and customer_balance_minor(state.customer) == 484 + 1000


def test_numbering_is_gap_free_and_separate(db):
    """Invoices 1..4 then CN-0001, invoice 5; a second customer's credit note is CN-0002
    (its invoices continue the invoice sequence: 6..9, then its November invoice)."""
    first = make_credited()
    run_billing(utc(2015, 11, 1))
    second = make_credited(company="Bravo Networks", email="bob@bravo.example")
    assert [i.refnumber for i in second.invoices] == [6, 7, 8, 9]
    assert (first.credit_note.number, second.credit_note.number) == ("CN-0001", "CN-0002")
    counters = dict(db.session.execute(select(Counter.name, Counter.value)).all())
    assert counters["invoice_refnumber"] == 9 and counters["credit_note_number"] == 2
    numbers = db.session.execute(select(Invoice.doc_type, Invoice.refnumber).order_by(Invoice.id)).all()
    assert sorted(n for t, n in numbers if t == "invoice") == list(range(1, 10))
    assert sorted(n for t, n in numbers if t == "credit_note") == [1, 2]


def test_rerun_never_issues_the_credit_twice(db):
    """The credit note's −5.16 counts as billed for (A's line, October, base): runs at the
    same instant, later, and after the next boundaries issue nothing more for package A."""
    state = make_credited()
    assert run_billing(utc(2015, 10, 20)).invoice_ids == []
    run_billing(utc(2015, 11, 1))
    run_billing(utc(2016, 1, 1))
    notes = _documents(db, state.customer.id, "credit_note")
    assert [n.number for n in notes] == ["CN-0001"]
    cancelled_docs = db.session.scalars(select(Invoice).where(Invoice.package_id == state.cancelled.id)).all()
    assert sorted(d.total_minor for d in cancelled_docs) == [-516, 1000, 1000]
    assert db.session.scalar(select(Transaction).where(Transaction.transaction_type == "cre")).amount_minor == 516


def test_void_of_the_invoice_returns_the_credit_and_the_rerun_applies_it_again(db):
    """Voiding November's invoice #5 reverses its automatic application: CN-0001 is open with
    5.16 again; the next run bills November again (#6, 10.00) and applies the 5.16 to it."""
    state = make_credited()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    void_invoice(november)
    db.session.commit()
    note = db.session.get(Invoice, state.credit_note.id)
    assert (note.paid_minor, note.status, november.paid_minor) == (0, "open-unpaid", 0)
    assert db.session.scalars(select(TransactionApplication).where(
        TransactionApplication.invoice_id == november.id)).all() == []
    rebilled = db.session.get(Invoice, run_billing(utc(2015, 12, 1)).invoice_ids[0])
    assert rebilled.paid_minor == 516 and rebilled.total_minor == 1000 + 1000  # Nov again + Dec


def test_void_of_the_credit_note_reverses_its_applications(db):
    """Voiding CN-0001 after it paid 5.16 of #5: #5 is owed 10.00 again, the `cre`
    transaction is void, the credit note's lines no longer count as billed."""
    state = make_credited()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    void_invoice(db.session.get(Invoice, state.credit_note.id))
    db.session.commit()
    note = db.session.get(Invoice, state.credit_note.id)
    assert (note.status, note.paid_minor, note.balance_minor) == ("closed-void", 0, 0)
    assert (november.paid_minor, november.balance_minor, november.status) == (0, 1000, "open-unpaid")
    assert credit_note_transaction(note).voided_at is not None
    assert customer_credit_minor(state.customer.id) == 0
    assert customer_balance_minor(state.customer) == 5000 - 4000


def test_unapplied_payment_is_applied_to_the_next_invoice(db):
    """A payment of 15.00 recorded without invoices while all are paid stays credit; the
    November run applies 10.00 of it to #5 (closed-paid) and 5.00 stays for December."""
    from datetime import date

    from portal.services.payments import record_payment

    state = make_credited()
    record_payment(state.customer, amount=Decimal("15.00"), paid_on=date(2015, 10, 25))
    db.session.commit()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    # Oldest credit first: the payment (2015-10-25) comes after CN-0001 (2015-10-16).
    assert (november.paid_minor, november.status) == (1000, "closed-paid")
    assert customer_credit_minor(state.customer.id) == 516 + 1500 - 1000
