"""Credit notes in the API: `transaction` of type `cre` (ChargeOver's credit memo).

State and hand computation: tests/support/factories.py (`make_credited`) (CN-0001 = 5.16 USD after the final
invoice of package A; the November invoice of package B, 10.00, gets the 5.16 applied).
"""
from decimal import Decimal

from support.api_client import body
from support.factories import utc
from support.factories import make_credited
from portal.models import Invoice
from portal.jobs.billing import run_billing


def test_credit_memo_is_a_cre_transaction_with_its_amount(api, db):
    """GET transaction?where=transaction_type:EQUALS:cre → one memo of 5.16, nothing applied
    yet; after the November run it is applied to invoice #5 (5.16) with its time."""
    state = make_credited()
    listing = body(api.get("/api/v3/transaction?where=transaction_type:EQUALS:cre"))["response"]
    assert len(listing) == 1
    memo = listing[0]
    assert (memo["transaction_type"], memo["transaction_type_name"], memo["amount"]) == ("cre", "Credit memo", Decimal("5.16"))
    assert (memo["customer_id"], memo["credit_note_id"], memo["credit_note_number"]) == (
        state.customer.id, state.credit_note.id, "CN-0001")
    assert (memo["applied"], memo["unapplied"], memo["applied_to"]) == (Decimal("0.00"), Decimal("5.16"), [])
    assert memo["transaction_date"] == "2015-10-16" and memo["url_pdflink"].startswith("http://localhost/r/invoice/")
    assert body(api.get("/api/v3/transaction/_count?where=transaction_type:EQUALS:cre"))["response"] == 1

    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    memo = body(api.get(f"/api/v3/transaction/{memo['transaction_id']}"))["response"]
    assert memo["unapplied"] == Decimal("0.00")
    assert memo["applied_to"] == [{"invoice_id": str(november.id), "applied": Decimal("5.16")}]
    [applied] = memo["applications"]
    assert (applied["invoice_id"], applied["applied"], applied["automatic"]) == (november.id, Decimal("5.16"), True)
    assert applied["applied_datetime"]
    got = body(api.get(f"/api/v3/invoice/{november.id}"))["response"]
    assert (got["total"], got["payments"], got["credits"], got["applied"], got["balance"]) == (
        Decimal("10.00"), Decimal("0.00"), Decimal("5.16"), Decimal("5.16"), Decimal("4.84"))


def test_credit_note_is_not_an_invoice_and_lowers_the_customer_balance(api, db):
    """The invoice list has the four invoices (no negative one); the customer's balance is
    40.00 − 5.16 − 40.00 = −5.16, its total invoiced 34.84 and paid 40.00."""
    state = make_credited()
    invoices = body(api.get(f"/api/v3/invoice?where=customer_id:EQUALS:{state.customer.id}"))["response"]
    assert sorted(i["total"] for i in invoices) == [Decimal("10.00")] * 4
    assert api.get(f"/api/v3/invoice/{state.credit_note.id}").status_code == 404
    count = f"/api/v3/invoice/_count?where=customer_id:EQUALS:{state.customer.id}"
    assert body(api.get(count))["response"] == 4
    customer = body(api.get(f"/api/v3/customer/{state.customer.id}"))["response"]
    assert (customer["balance"], customer["total"], customer["paid"]) == (Decimal("-5.16"), Decimal("34.84"), Decimal("40.00"))


def test_payment_without_applied_to_goes_to_the_oldest_open_invoice(api, db):
    """Invoice #4 unpaid (10.00) after CN-0001 paid 5.16 of it: a 20.00 payment without
    `applied_to` pays its 4.84; 15.16 stays unapplied (credit for the next invoices)."""
    state = make_credited(paid=3)
    created = api.post("/api/v3/transaction", json={
        "customer_id": state.customer.id, "amount": 20, "gateway_method": "check",
        "transaction_date": "2015-10-25"})
    payment = body(api.get(f"/api/v3/transaction/{body(created)['response']['id']}"))["response"]
    assert [(a["invoice_id"], a["applied"]) for a in payment["applied_to"]] == [
        (str(state.invoices[3].id), Decimal("4.84"))]
    assert payment["unapplied"] == Decimal("15.16")
    assert db.session.get(Invoice, state.invoices[3].id).status == "closed-paid"


def test_package_invoice_action_answers_the_credit_note_apart(api, db):
    """Cancel at 2015-10-16 after October was billed in advance, no usage: the action's final
    result is −5.16 (16 of 31 days of 10.00 unused), a credit note, not an invoice id."""
    from support.factories import make_package
    from portal.services.packages import cancel_package

    package = make_package()
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    cancel_package(package, at=utc(2015, 10, 16))
    db.session.commit()
    answer = body(api.post(f"/api/v3/package/{package.id}/_action/invoice", json={}))["response"]
    assert (answer["id"], answer["invoice_ids"]) == (None, [])
    [note_id] = answer["credit_note_ids"]
    assert db.session.get(Invoice, note_id).total_minor == -516


def test_amounts_the_currency_cannot_hold_are_refused_not_rounded(api, db):
    """1.234 USD is not a payment anyone can make: a 400 naming the field, nothing stored
    (it used to be stored as 1.23)."""
    from portal.models import Transaction

    state = make_credited(paid=3)
    before = db.session.query(Transaction).count()
    for path, payload in (("/api/v3/transaction", {"customer_id": state.customer.id, "amount": "1.234",
                                                  "gateway_method": "check", "transaction_date": "2015-10-25"}),
                          (f"/api/v3/invoice/{state.invoices[3].id}?action=credit", {"amount": "0.005"})):
        refused = api.post(path, json=payload)
        assert refused.status_code == 400, path
        reply = body(refused)
        assert reply["details"] == {"field": "amount"} and "at most 2 decimal places in USD" in reply["message"]
    assert db.session.query(Transaction).count() == before
