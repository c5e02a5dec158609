"""ChargeOver's PHP examples for transactions (chargeover/chargeover_php, docs/), as HTTP
exchanges: the PHP client's method, URL form and JSON body, with this database's ids."""
from decimal import Decimal

from sqlalchemy import select

from support.factories import make_october_invoice
from portal.models import EmailDelivery, Invoice, Transaction
from support.api_client import ok, refused




def _invoices(db):
    october = make_october_invoice()
    return db.session.get(Invoice, october.id - 1), october  # 10.00 and 28.05


def _create_transaction(customer_id, **fields):
    """What example_create_transaction.php sends (with its setters' fields)."""
    return {"customer_id": customer_id, "gateway_status": 1, "gateway_transid": "abcd1234",
            "gateway_msg": "My test message", "gateway_method": "visa", "amount": Decimal("15.95"),
            "transaction_type": "pay", "transaction_method": "Visa", "transaction_detail": "",
            "transaction_date": "2020-12-02", "applied_to": None, **fields}


def test_example_create_transaction(api, db):
    """example_create_transaction.php: an offline Visa payment, applied to the oldest invoice."""
    september, october = _invoices(db)
    created = ok(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id)), 201)
    got = ok(api.get(f"/api/v3/transaction/{created['id']}"))
    assert (got["transaction_type"], got["gateway_method"], got["transaction_method"], got["amount"]) == (
        "pay", "visa", "Visa", Decimal("15.95"))
    assert got["applied_to"] == [{"invoice_id": str(september.id), "applied": Decimal("10.00")},
                                 {"invoice_id": str(october.id), "applied": Decimal("5.95")}]
    assert ok(api.get(f"/api/v3/invoice/{october.id}"))["balance"] == Decimal("22.10")


def test_example_create_transaction_with_applied_to_and_every_gateway_method(api, db):
    """The example's commented applied_to (invoice_id, applied), and ChargeOver's methods."""
    september, october = _invoices(db)
    created = ok(api.post("/api/v3/transaction", json=_create_transaction(
        october.customer_id, amount=Decimal("15.95"), applied_to=[
            {"invoice_id": september.id, "applied": Decimal("2.95")},
            {"invoice_id": october.id, "applied": Decimal("13.00")}])), 201)
    got = ok(api.get(f"/api/v3/transaction/{created['id']}"))
    assert [a["applied"] for a in got["applied_to"]] == [Decimal("2.95"), Decimal("13.00")]
    for method in ("mastercard", "american-express", "discover", "check", "paypal", "credit", "ach", "cash"):
        ok(api.post("/api/v3/transaction", json=_create_transaction(
            october.customer_id, amount="0.01", gateway_method=method)), 201)


def test_declined_transactions_record_no_money(api, db):
    """gateway_status 0 (declined) is refused: no payment, the invoices stay unpaid."""
    _, october = _invoices(db)
    answer = api.post("/api/v3/transaction", json=_create_transaction(october.customer_id, gateway_status=0))
    assert "declined" in refused(answer, "gateway_status")
    assert db.session.scalars(select(Transaction)).all() == []
    refused(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id, transaction_type="spl")),
           "transaction_type")


def test_example_find_transactions(api, db):
    """example_find_transactions.php: payments applied to one invoice."""
    september, october = _invoices(db)
    first = ok(api.post("/api/v3/transaction", json=_create_transaction(
        october.customer_id, amount=5, applied_to=[{"invoice_id": october.id, "applied": 5}])), 201)["id"]
    ok(api.post("/api/v3/transaction", json=_create_transaction(
        october.customer_id, amount=10, applied_to=[{"invoice_id": september.id}])), 201)
    where = f"transaction_type:EQUALS:pay,applied_to.invoice_id:EQUALS:{october.id}"
    found = ok(api.get(f"/api/v3/transaction?_dummy=1&where={where}"))
    assert [t["transaction_id"] for t in found] == [first]
    assert ok(api.get(f"/api/v3/transaction/_count?where={where}")) == 1
    assert ok(api.get(f"/api/v3/transaction/_count?where=applied_to.invoice_id:NOTEQUALS:{october.id}")) == 1


def test_example_apply_transaction(api, db):
    """example_apply_transaction.php: changeAppliedAmounts moves 5 of a payment to an invoice."""
    september, october = _invoices(db)
    payment = ok(api.post("/api/v3/transaction", json=_create_transaction(
        october.customer_id, amount=10, applied_to=[{"invoice_id": september.id}])), 201)["id"]
    answer = api.post(f"/api/v3/transaction/{payment}?action=changeAppliedAmounts", json={
        "applied_to": [{"invoice_id": september.id, "applied": 5}, {"invoice_id": october.id, "applied": 5}]})
    assert ok(answer) is True
    got = ok(api.get(f"/api/v3/transaction/{payment}"))
    assert {a["invoice_id"]: a["applied"] for a in got["applied_to"]} == {
        str(september.id): Decimal("5.00"), str(october.id): Decimal("5.00")}
    assert ok(api.get(f"/api/v3/invoice/{september.id}"))["balance"] == Decimal("5.00")
    too_much = api.post(f"/api/v3/transaction/{payment}?action=changeAppliedAmounts",
                        json={"applied_to": [{"invoice_id": october.id, "applied": 9}]})
    refused(too_much, "applied_to")


def test_example_attempt_payment(api, db):
    """example_attempt_payment.php: transaction?action=pay without a card pays the invoices
    from the customer's credit; with too little credit it is refused and nothing moves."""
    september, october = _invoices(db)
    payload = {"customer_id": october.customer_id, "amount": Decimal("2.95"),
               "applied_to": [{"invoice_id": september.id}, {"invoice_id": october.id}]}
    assert "no stored payment method" in refused(api.post("/api/v3/transaction?action=pay", json=payload), "amount")
    assert db.session.scalars(select(Transaction)).all() == []
    credit = ok(api.post("/api/v3/transaction", json=_create_transaction(
        october.customer_id, amount=10, applied_to=[{"invoice_id": september.id}])), 201)["id"]
    ok(api.post(f"/api/v3/transaction/{credit}?action=changeAppliedAmounts",
                 json={"applied_to": [{"invoice_id": september.id, "applied": 0}]}))
    assert ok(api.post("/api/v3/transaction?action=pay", json=payload)) is True
    assert ok(api.get(f"/api/v3/invoice/{september.id}"))["balance"] == Decimal("7.05")
    assert len(db.session.scalars(select(Transaction)).all()) == 1  # credit applied, no new payment


def test_example_attempt_payment_2_and_3_refuse_the_card(api, db):
    """example_attempt_payment_2.php / _3.php: paymethods with a creditcard_id is a 400."""
    _, october = _invoices(db)
    for amount in (Decimal("2.95"), 100):
        answer = api.post("/api/v3/transaction?action=pay", json={
            "customer_id": october.customer_id, "amount": amount, "paymethods": [{"creditcard_id": 127}]})
        assert "no payment gateway" in refused(answer, "paymethods")
    assert db.session.scalars(select(Transaction)).all() == []


def test_example_refund_payment(api, db):
    """example_refund_payment.php: refund with no payload refunds the whole payment: its
    applications are taken back (the invoice is open again) and the answer is the refund's id."""
    september, october = _invoices(db)
    payment = ok(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id, amount=10)), 201)["id"]
    assert ok(api.get(f"/api/v3/invoice/{september.id}"))["invoice_status_str"] == "closed-paid"
    refund = ok(api.post(f"/api/v3/transaction/{payment}?action=refund"))
    got = ok(api.get(f"/api/v3/transaction/{refund['id']}"))
    assert (got["transaction_type"], got["amount"], got["refund_of_transaction_id"]) == ("ref", Decimal("-10.00"), payment)
    assert ok(api.get(f"/api/v3/invoice/{september.id}"))["balance"] == Decimal("10.00")
    assert ok(api.get(f"/api/v3/transaction/{payment}"))["refunded"] == Decimal("10.00")
    customer = ok(api.get(f"/api/v3/customer/{october.customer_id}"))
    assert customer["balance"] == Decimal("38.05")
    refused(api.post(f"/api/v3/transaction/{payment}?action=refund", json={"amount": "0.01"}), "amount")


def test_partial_refund_takes_unapplied_credit_first(api, db):
    _, october = _invoices(db)
    payment = ok(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id, amount=50)), 201)["id"]
    assert ok(api.get(f"/api/v3/transaction/{payment}"))["unapplied"] == Decimal("11.95")
    ok(api.post(f"/api/v3/transaction/{payment}?action=refund", json={"amount": Decimal("9.49")}))
    got = ok(api.get(f"/api/v3/transaction/{payment}"))
    assert (got["applied"], got["unapplied"], got["refunded"]) == (Decimal("38.05"), Decimal("2.46"), Decimal("9.49"))
    refund = ok(api.post("/api/v3/transaction", json={"customer_id": october.customer_id,
                                                       "transaction_type": "ref", "amount": "2.46"}), 201)
    assert ok(api.get(f"/api/v3/transaction/{refund['id']}"))["amount"] == Decimal("-2.46")
    refused(api.post("/api/v3/transaction", json={"customer_id": october.customer_id,
                                                 "transaction_type": "ref", "amount": "0.01"}), "amount")


def test_void_transaction_and_credit_memo(api, db):
    september, october = _invoices(db)
    payment = ok(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id, amount=10)), 201)["id"]
    assert ok(api.post(f"/api/v3/transaction/{payment}?action=void")) is True
    assert ok(api.get(f"/api/v3/transaction/{payment}"))["is_void"] is True
    assert ok(api.get(f"/api/v3/invoice/{september.id}"))["balance"] == Decimal("10.00")
    memo = ok(api.post("/api/v3/transaction", json={"customer_id": october.customer_id, "transaction_type": "cre",
                                                     "amount": 3, "applied_to": [{"invoice_id": october.id}]}), 201)
    got = ok(api.get(f"/api/v3/transaction/{memo['id']}"))
    assert (got["transaction_type"], got["applied_to"]) == ("cre", [{"invoice_id": str(october.id), "applied": Decimal("3.00")}])
    assert ok(api.post(f"/api/v3/transaction/{memo['id']}?action=void")) is True
    assert ok(api.get(f"/api/v3/invoice/{october.id}"))["balance"] == Decimal("28.05")


def test_example_send_transaction(api, db):
    """example_send_transaction.php: action email with an empty payload answers true."""
    _, october = _invoices(db)
    payment = ok(api.post("/api/v3/transaction", json=_create_transaction(october.customer_id)), 201)["id"]
    assert ok(api.post(f"/api/v3/transaction/{payment}?action=email", json=[])) is True
    receipt = db.session.scalar(select(EmailDelivery).where(EmailDelivery.kind == "message"))
    assert receipt.to_address == "jane@acme.example" and "15.95 USD" in receipt.body_text
