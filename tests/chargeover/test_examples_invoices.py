"""ChargeOver's PHP examples for invoices (chargeover/chargeover_php, docs/), as HTTP exchanges.

Each test names its example and sends what the PHP client sends for it: the same method,
URL form (`POST /invoice/N?action=...`, `_count?_dummy=1&where=...`) and JSON body, with the
example's ids replaced by this database's. It checks the answers ChargeOver documents (the
envelope, `{"id": N}` on create, a boolean for actions) and what Meterbill did with the money.
"""
from decimal import Decimal

from sqlalchemy import select

from support.factories import make_customer, make_voip_item
from support.factories import make_october_invoice
from portal.models import Counter, EmailDelivery, Invoice, Transaction
from support.api_client import ok, refused




def _two_lines(item_id, descrip="Test of a description goes here."):
    line = {"item_id": item_id, "line_rate": Decimal("29.95"), "line_quantity": 3, "descrip": descrip}
    return [line, {**line, "line_quantity": 2}]


def test_example_create_invoice(api, db):
    """example_create_invoice.php: two lines of an item, 3 and 2 × 29.95, dated 2014-01-02."""
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    created = ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "date": "2014-01-02", "line_items": _two_lines(item.id)}), 201)
    got = ok(api.get(f"/api/v3/invoice/{created['id']}"))
    assert (got["date"], got["due_date"], got["total"], got["balance"]) == (
        "2014-01-02", "2014-02-01", Decimal("149.75"), Decimal("149.75"))
    assert [(li["item_id"], li["line_quantity"], li["line_total"]) for li in got["line_items"]] == [
        (item.id, Decimal(3), Decimal("89.85")), (item.id, Decimal(2), Decimal("59.90"))]
    assert (got["invoice_status_str"], got["invoice_status_state"], got["sum_onetime"]) == (
        "open-overdue", "o", Decimal("149.75"))
    assert got["refnumber"] == "1" and len(got["token"]) == 16


def test_example_get_invoice_by_id_and_find_invoices(api, db):
    """example_get_invoice_by_id.php and example_find_invoices.php (customer, invoice_id:DESC)."""
    invoice = make_october_invoice()
    got = ok(api.get(f"/api/v3/invoice/{invoice.id}"))
    for field in ("token", "external_key", "bill_addr1", "ship_addr1", "credits", "applied", "paid_date",
                  "is_overdue", "days_overdue", "currency_symbol", "memo", "custom_1", "bill_block"):
        assert field in got, field
    found = ok(api.get(f"/api/v3/invoice?_dummy=1&where=customer_id:EQUALS:{invoice.customer_id}"
                        "&order=invoice_id:DESC"))
    assert [i["invoice_id"] for i in found] == [invoice.id, invoice.id - 1]


def test_example_count_invoices(api, db):
    """example_count_invoices.php: all of a customer's invoices, then the open ones (state o)."""
    invoice = make_october_invoice()
    where = f"customer_id:EQUALS:{invoice.customer_id}"
    assert ok(api.get(f"/api/v3/invoice/_count?_dummy=1&where={where}")) == 2
    assert ok(api.get(f"/api/v3/invoice/_count?_dummy=1&where={where},invoice_status_state:EQUALS:o")) == 2
    api.post(f"/api/v3/invoice/{invoice.id}?action=void")
    assert ok(api.get(f"/api/v3/invoice/_count?_dummy=1&where={where},invoice_status_state:EQUALS:o")) == 1
    assert ok(api.get(f"/api/v3/invoice/_count?_dummy=1&where={where},invoice_status_state:EQUALS:c")) == 1


def test_example_modify_invoice(api, db):
    """example_modify_invoice.php: a new line added, the existing line kept by its id."""
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    invoice_id = ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "line_items": [{"descrip": "Setup", "line_rate": 50}]}), 201)["id"]
    kept = ok(api.get(f"/api/v3/invoice/{invoice_id}"))["line_items"][0]["invoice_line_id"]
    answer = ok(api.put(f"/api/v3/invoice/{invoice_id}", json={"date": "2015-06-08", "line_items": [
        {"item_id": item.id, "line_rate": Decimal("29.95"), "line_quantity": 3,
         "descrip": "Add this new line item to the invoice."}, {"line_item_id": kept}]}), 202)
    assert answer == {"id": invoice_id}
    got = ok(api.get(f"/api/v3/invoice/{invoice_id}"))
    assert (got["date"], got["total"]) == ("2015-06-08", Decimal("139.85"))
    assert [li["line_total"] for li in got["line_items"]] == [Decimal("89.85"), Decimal("50.00")]


def test_a_line_kept_twice_is_refused_not_counted_twice(api, db):
    """Review finding: the same kept line listed twice was added twice to the total."""
    customer = make_customer()
    db.session.commit()
    invoice_id = ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "line_items": [{"descrip": "Setup", "line_rate": 50}]}), 201)["id"]
    kept = ok(api.get(f"/api/v3/invoice/{invoice_id}"))["line_items"][0]["invoice_line_id"]
    answer = api.put(f"/api/v3/invoice/{invoice_id}", json={"line_items": [{"line_item_id": kept},
                                                                             {"line_item_id": kept}]})
    assert "listed twice" in refused(answer, "line_items[1].line_item_id")
    assert ok(api.get(f"/api/v3/invoice/{invoice_id}"))["total"] == Decimal("50.00")


def test_modify_refuses_billed_lines_and_unsupported_money_fields(api, db):
    invoice = make_october_invoice()
    answer = api.put(f"/api/v3/invoice/{invoice.id}", json={"line_items": [{"descrip": "x", "line_rate": 1}]})
    assert "void it instead" in refused(answer, "line_items")
    assert ok(api.put(f"/api/v3/invoice/{invoice.id}", json={"memo": "Thanks!", "custom_1": "PO-7"}), 202)
    got = ok(api.get(f"/api/v3/invoice/{invoice.id}"))
    assert (got["memo"], got["custom_1"], got["total"]) == ("Thanks!", "PO-7", Decimal("28.05"))
    for field in ("terms_id", "taxes", "total"):
        refused(api.put(f"/api/v3/invoice/{invoice.id}", json={field: 1}), field)
    refused(api.post("/api/v3/invoice", json={"customer_id": invoice.customer_id, "line_items": [
        {"descrip": "x", "line_rate": 1, "tierset": {"pricemodel": "uni"}}]}), "line_items[0].tierset")
    refused(api.post("/api/v3/invoice", json={"customer_id": invoice.customer_id, "currency_iso4217": "EUR",
                                             "line_items": [{"descrip": "x", "line_rate": 1}]}), "currency_iso4217")


def test_example_delete_invoice(api, db):
    """example_delete_invoice.php: an unsent one-off invoice holding the last number."""
    customer = make_customer()
    db.session.commit()
    first, last = (ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "line_items": [{"descrip": "Consulting", "line_rate": 100}]}), 201)["id"]
        for _ in range(2))
    assert "not the last invoice number" in refused(api.delete(f"/api/v3/invoice/{first}"), "invoice_id")
    assert ok(api.delete(f"/api/v3/invoice/{last}")) is True
    assert db.session.get(Invoice, last) is None
    assert db.session.scalar(select(Counter.value).where(Counter.name == "invoice_refnumber")) == 1
    again = ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "line_items": [{"descrip": "Consulting", "line_rate": 100}]}), 201)
    assert ok(api.get(f"/api/v3/invoice/{again['id']}"))["refnumber"] == "2"  # no gap


def test_example_void_invoice(api, db):
    """example_void_invoice.php: POST invoice/N?action=void without a body answers true."""
    invoice = make_october_invoice()
    assert ok(api.post(f"/api/v3/invoice/{invoice.id}?action=void")) is True
    got = ok(api.get(f"/api/v3/invoice/{invoice.id}"))
    assert (got["is_void"], got["invoice_status_state"], got["balance"]) == (True, "c", Decimal("0.00"))


def test_example_send_invoice(api, db):
    """example_send_invoice.php: action email with an empty payload answers true."""
    invoice = make_october_invoice()
    before = len(db.session.scalars(select(EmailDelivery).where(EmailDelivery.invoice_id == invoice.id)).all())
    assert ok(api.post(f"/api/v3/invoice/{invoice.id}?action=email", json=[])) is True
    assert len(db.session.scalars(select(EmailDelivery).where(EmailDelivery.invoice_id == invoice.id)).all()) == before + 1


def test_example_approve_invoice(api, db):
    """example_approve_invoice.php: invoices are issued when written, approve answers true."""
    invoice = make_october_invoice()
    assert ok(api.post(f"/api/v3/invoice/{invoice.id}?action=approve")) is True


def test_schedule_and_print_are_refused_clearly(api, db):
    invoice = make_october_invoice()
    assert "payment gateway" in refused(api.post(f"/api/v3/invoice/{invoice.id}?action=schedule"), "action")
    assert "url_pdflink" in refused(api.post(f"/api/v3/invoice/{invoice.id}?action=print"), "action")


def test_example_pay_invoice_without_a_card(api, db):
    """example_pay_invoice.php sends no body ($CreditCard is undefined): the customer's
    credit is applied; with none, the answer is false and nothing is recorded."""
    invoice = make_october_invoice()
    assert ok(api.post(f"/api/v3/invoice/{invoice.id}?action=pay")) is False
    assert db.session.scalars(select(Transaction)).all() == []
    assert ok(api.get(f"/api/v3/invoice/{invoice.id}"))["balance"] == Decimal("28.05")


def test_example_pay_invoice_w_creditcard_and_w_achecheck(api, db):
    """example_pay_invoice_w_creditcard.php / _w_achecheck.php: the invoice is created, the
    card or bank account is refused with a 400 naming it, and no payment is recorded."""
    customer, item = make_customer(), make_voip_item()
    db.session.commit()
    invoice_id = ok(api.post("/api/v3/invoice", json={
        "customer_id": customer.id, "line_items": _two_lines(item.id)[:1]}), 201)["id"]
    card = {"number": "4116196783374209", "expdate_year": "2015", "expdate_month": "12", "name": "Keith Palmer"}
    ach = {"number": "1234 1234 1234", "name": "Keith Palmer", "routing": "072403004", "type": "chec"}
    for payload in (card, ach):
        assert "no payment gateway" in refused(api.post(f"/api/v3/invoice/{invoice_id}?action=pay", json=payload), "number")
    assert db.session.scalars(select(Transaction)).all() == []
    assert ok(api.get(f"/api/v3/invoice/{invoice_id}"))["balance"] == Decimal("89.85")


def test_example_pay_invoice_w_balance(api, db):
    """example_pay_invoice_w_balance.php: use_customer_balance applies existing credit
    (true), never creates a payment; false when there is no credit."""
    october = make_october_invoice()
    payment = ok(api.post("/api/v3/transaction", json={
        "customer_id": october.customer_id, "amount": 10, "applied_to": [{"invoice_id": october.id - 1}]}), 201)
    ok(api.post(f"/api/v3/transaction/{payment['id']}?action=changeAppliedAmounts",
                 json={"applied_to": [{"invoice_id": october.id - 1, "applied": 0}]}))
    assert ok(api.post(f"/api/v3/invoice/{october.id}?action=pay", json={"use_customer_balance": True})) is True
    assert len(db.session.scalars(select(Transaction)).all()) == 1  # no new payment
    got = ok(api.get(f"/api/v3/invoice/{october.id}"))
    assert (got["payments"], got["balance"]) == (Decimal("10.00"), Decimal("18.05"))
    assert ok(api.post(f"/api/v3/invoice/{october.id}?action=pay", json={"use_customer_balance": True})) is False
    refused(api.post(f"/api/v3/invoice/{october.id}?action=pay", json={"use_customer_balance": False}),
           "use_customer_balance")


def test_invoice_credit_action_issues_a_credit_memo_applied_to_it(api, db):
    invoice = make_october_invoice()
    answer = ok(api.post(f"/api/v3/invoice/{invoice.id}?action=credit", json={"amount": "8.05"}))
    memo = ok(api.get(f"/api/v3/transaction/{answer['id']}"))
    assert (memo["transaction_type"], memo["amount"], memo["applied_to"]) == (
        "cre", Decimal("8.05"), [{"invoice_id": str(invoice.id), "applied": Decimal("8.05")}])
    got = ok(api.get(f"/api/v3/invoice/{invoice.id}"))
    assert (got["credits"], got["payments"], got["balance"]) == (Decimal("8.05"), Decimal("0.00"), Decimal("20.00"))
    ok(api.post(f"/api/v3/invoice/{invoice.id}?action=credit"))  # the rest of the balance
    got = ok(api.get(f"/api/v3/invoice/{invoice.id}"))
    assert (got["invoice_status_str"], got["balance"], got["paid_date"] is not None) == ("closed-paid", Decimal("0.00"), True)
