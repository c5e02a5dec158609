"""The money rules of one-off invoices, credit, refunds, voids and applied amounts (services)."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from support.factories import make_customer
from support.factories import make_october_invoice
from portal.billing.errors import ValidationError
from portal.billing.vocabulary import InvoiceStatus
from portal.models import Counter, Customer, Invoice
from portal.services.balances import customer_balance_minor
from portal.services.credit_notes import issue_manual_credit
from portal.services.manual_invoices import ManualLine, create_manual_invoice, delete_invoice, update_invoice
from portal.services.payments import (
    Application, apply_credit_to_invoice, available_credit, customer_credit_minor, record_payment,
)
from portal.services.transaction_actions import (
    AppliedAmount, change_applied_amounts, pay_from_credit, record_refund, refund_transaction,
    void_transaction,
)

DAY = date(2015, 10, 20)


def _manual(customer, *rates_and_quantities, **kwargs):
    lines = [ManualLine(descrip="x", rate=Decimal(r), quantity=Decimal(q)) for r, q in rates_and_quantities]
    return create_manual_invoice(customer, lines, invoice_date=DAY, **kwargs)


def _pay(customer, amount, invoices=None):
    return record_payment(customer, amount=amount, paid_on=DAY, method="visa",
                          applications=None if invoices is None else [Application(i) for i in invoices])


def test_one_off_lines_round_half_up_each_and_tax_once(db):
    customer = make_customer()
    customer.tax_rate, customer.payment_terms_days = Decimal("0.0825"), 15
    invoice = _manual(customer, ("0.125", "1"), ("0.125", "3"))
    assert [line.amount_minor for line in invoice.lines] == [13, 38]  # 0.125 → 0.13, 0.375 → 0.38
    assert (invoice.subtotal_minor, invoice.taxes_minor, invoice.total_minor) == (51, 4, 55)  # 0.042075 → 0.04
    assert (invoice.refnumber, invoice.due_date, invoice.kind, invoice.status) == (
        1, date(2015, 11, 4), "manual", InvoiceStatus.OPEN)
    with pytest.raises(ValidationError) as error:
        _manual(customer, ("-5", "1"))
    assert error.value.field == "line_items"


def test_credit_is_applied_to_a_new_one_off_invoice_and_returned_when_lines_change(db):
    customer = make_customer()
    payment = _pay(customer, "30.00", invoices=[])
    invoice = _manual(customer, ("20", "1"))
    assert (invoice.paid_minor, invoice.status, customer_credit_minor(customer.id)) == (2000, InvoiceStatus.PAID, 1000)
    assert payment.applications[0].automatic is True  # a void or a change may give it back
    with pytest.raises(ValidationError, match="closed-paid"):
        update_invoice(invoice, lines=[ManualLine(descrip="y", rate=Decimal(50))])


def test_update_lowers_the_total_and_gives_automatic_credit_back(db):
    customer = make_customer()
    invoice = _manual(customer, ("40", "1"))
    issue_manual_credit(customer, 1500, descrip="goodwill", on=DAY)  # applied automatically
    assert invoice.paid_minor == 1500
    update_invoice(invoice, lines=[ManualLine(descrip="smaller", rate=Decimal(10))])
    assert (invoice.total_minor, invoice.paid_minor, invoice.status) == (1000, 1000, InvoiceStatus.PAID)
    assert customer_credit_minor(customer.id) == 500
    assert customer_balance_minor(customer) == -500


def test_delete_keeps_the_numbering_without_gaps(db):
    customer = make_customer()
    first, last = _manual(customer, ("1", "1")), _manual(customer, ("2", "1"))
    with pytest.raises(ValidationError, match="not the last invoice number"):
        delete_invoice(first)
    delete_invoice(last)
    db.session.flush()
    assert db.session.get(Invoice, last.id) is None
    assert db.session.scalar(select(Counter.value).where(Counter.name == "invoice_refnumber")) == 1
    assert _manual(customer, ("3", "1")).refnumber == 2


def test_delete_refuses_an_invoice_with_a_payment_or_billed_by_a_run(db):
    october = make_october_invoice()
    with pytest.raises(ValidationError, match="void it instead"):
        delete_invoice(october)
    customer = make_customer(company="Beta", email="ap@beta.example")
    invoice = _manual(customer, ("10", "1"))
    _pay(customer, "5.00", invoices=[invoice])
    with pytest.raises(ValidationError, match="payments applied"):
        delete_invoice(invoice)


def test_refunds_pay_back_unapplied_credit_then_take_back_applications(db):
    october = make_october_invoice()  # September 10.00 and October 28.05 open
    customer = db.session.get(Customer, october.customer_id)
    payment = _pay(customer, "50.00")
    assert customer_credit_minor(customer.id) == 1195
    refund_transaction(payment, amount=Decimal("20.00"), refunded_on=DAY)  # 11.95 unapplied + 8.05 taken back
    assert customer_credit_minor(customer.id) == 0
    assert (october.paid_minor, october.status) == (2805 - 805, InvoiceStatus.OPEN)
    assert customer_balance_minor(customer) == 3805 - 5000 + 2000
    with pytest.raises(ValidationError):
        refund_transaction(payment, amount=Decimal("30.01"), refunded_on=DAY)


def test_a_refund_naming_no_payment_takes_the_oldest_credit(db):
    customer = make_customer()
    older, newer = _pay(customer, "10.00", invoices=[]), _pay(customer, "5.00", invoices=[])
    record_refund(customer, amount="12.00", refunded_on=DAY)
    assert [(source.id, left) for source, left in available_credit(customer.id)] == [(newer.id, 300)]
    assert older.id < newer.id
    with pytest.raises(ValidationError):
        record_refund(customer, amount="3.01", refunded_on=DAY)


def test_void_of_a_payment_reopens_its_invoices_and_a_refund_must_go_first(db):
    customer = make_customer()
    invoice = _manual(customer, ("10", "1"))
    payment = _pay(customer, "15.00")
    refund = refund_transaction(payment, amount=Decimal("5.00"), refunded_on=DAY)
    with pytest.raises(ValidationError, match="has refunds"):
        void_transaction(payment)
    void_transaction(refund)
    assert customer_credit_minor(customer.id) == 500
    void_transaction(payment)
    assert (invoice.paid_minor, invoice.status, customer_credit_minor(customer.id)) == (0, InvoiceStatus.OPEN, 0)
    assert customer_balance_minor(customer) == 1000


def test_changed_applied_amounts_stay_within_balances_and_the_amount(db):
    customer = make_customer()
    a, b = _manual(customer, ("10", "1")), _manual(customer, ("20", "1"))
    payment = _pay(customer, "10.00", invoices=[a])
    change_applied_amounts(payment, [AppliedAmount(a, "4"), AppliedAmount(b, "6")])
    assert (a.paid_minor, b.paid_minor) == (400, 600)
    for changes in ([AppliedAmount(b, "7")], [AppliedAmount(a, "11")], [AppliedAmount(a, "-1")]):
        with pytest.raises(ValidationError):
            change_applied_amounts(payment, changes)
    change_applied_amounts(payment, [AppliedAmount(a, "0")])
    assert (a.paid_minor, len(payment.applications), customer_credit_minor(customer.id)) == (0, 1, 400)
    assert apply_credit_to_invoice(a, 100) == 100 and a.paid_minor == 100


def test_paying_from_credit_is_all_or_nothing(db):
    customer = make_customer()
    a, b = _manual(customer, ("10", "1")), _manual(customer, ("20", "1"))
    payment = _pay(customer, "10.00", invoices=[a])
    change_applied_amounts(payment, [AppliedAmount(a, "0")])
    with pytest.raises(ValidationError, match="no stored payment method"):
        pay_from_credit(customer, [a, b], None)  # 30.00 wanted, 10.00 of credit
    assert (a.paid_minor, b.paid_minor) == (0, 0)
    assert pay_from_credit(customer, [b, a], 1000) == 1000
    assert (a.paid_minor, b.paid_minor) == (0, 1000)


def test_credit_a_refund_naming_no_payment_took_cannot_be_refunded_applied_or_voided_again(db):
    """Review finding: a refund naming no transaction takes the oldest payment's credit; that
    payment's own refund, a new application of it, or its void must count it."""
    customer = make_customer()
    payment = _pay(customer, "100.00")
    record_refund(customer, amount="100.00", refunded_on=DAY)
    assert available_credit(customer.id) == []
    with pytest.raises(ValidationError) as refused:
        refund_transaction(payment, refunded_on=DAY)
    assert refused.value.field == "amount"
    invoice = _manual(customer, ("50.00", "1"))
    with pytest.raises(ValidationError) as refused:
        change_applied_amounts(payment, [AppliedAmount(invoice, "50.00")])
    assert refused.value.field == "applied_to"
    with pytest.raises(ValidationError) as refused:
        void_transaction(payment)
    assert "void them first" in refused.value.message
    assert db.session.get(Invoice, invoice.id).paid_minor == 0


def test_deleting_an_invoice_whose_e_mail_the_mail_job_claimed_is_refused(db):
    """Review finding: a claimed delivery (attempts > 0, still pending) may reach the customer."""
    from portal.models import EmailDelivery
    from portal.services.mail import queue_invoice_email

    customer = make_customer()
    invoice = _manual(customer, ("10.00", "1"))
    delivery = queue_invoice_email(invoice)
    delivery.attempts = 1  # what the mail job's claim does before it sends
    db.session.flush()
    with pytest.raises(ValidationError) as refused:
        delete_invoice(invoice)
    assert "void it instead" in refused.value.message
    assert db.session.get(EmailDelivery, delivery.id) is not None
