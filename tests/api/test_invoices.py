"""`invoice` and `transaction` through the API; signed invoice links."""
from decimal import Decimal

from sqlalchemy import select

from support.api_client import body
from support.factories import make_october_invoice
from portal.models import EmailDelivery, Invoice


def test_get_invoice_in_chargeover_shape(api, db):
    invoice = make_october_invoice()
    got = body(api.get(f"/api/v3/invoice/{invoice.id}"))["response"]
    assert got["refnumber"] == str(invoice.refnumber)
    assert (got["total"], got["sum_base"], got["sum_usage"]) == (Decimal("28.05"), Decimal("10.00"), Decimal("18.05"))
    # Due 2015-10-31, so overdue today (ChargeOver's status, computed from the due date).
    assert (got["balance"], got["invoice_status_str"], got["invoice_status_state"]) == (Decimal("28.05"), "open-overdue", "o")
    assert got["is_overdue"] and got["days_overdue"] > 3000 and got["currency_symbol"] == "$"
    assert (got["date"], got["due_date"]) == ("2015-10-01", "2015-10-31")
    assert (got["cycle_post_from_date"], got["cycle_post_to_date"]) == ("2015-09-01", "2015-09-30")
    usage = got["line_items"][1]
    assert (usage["line_quantity"], usage["line_rate"], usage["line_total"]) == (Decimal(361), Decimal("0.05"), Decimal("18.05"))
    assert usage["is_usage"] and usage["period_from"] == "2015-09-01 00:00:00"
    assert got["url_permalink"].startswith("http://localhost/r/invoice/")
    raw = api.get(f"/api/v3/invoice/{invoice.id}").get_data(as_text=True)
    assert '"total": 28.05' in raw  # an exact JSON number, not a string or a float


def test_list_and_count_invoices(api, db):
    invoice = make_october_invoice()
    listing = body(api.get(f"/api/v3/invoice?where=customer_id:EQUALS:{invoice.customer_id}&order=invoice_id:DESC"))
    assert [i["invoice_id"] for i in listing["response"]] == [invoice.id, invoice.id - 1]
    assert body(api.get("/api/v3/invoice/_count?where=invoice_status_str:EQUALS:open-overdue"))["response"] == 2
    assert body(api.get("/api/v3/invoice/_count?where=invoice_status_str:EQUALS:open-unpaid"))["response"] == 0
    assert body(api.get("/api/v3/invoice/_count?where=invoice_status_state:EQUALS:o"))["response"] == 2
    assert body(api.get("/api/v3/invoice/_count?where=date:GTE:2015-10-01"))["response"] == 1


def test_pay_action_applies_credit_only_and_answers_a_boolean(api, db):
    october = make_october_invoice()
    september = db.session.get(Invoice, october.id - 1)
    nothing = api.post(f"/api/v3/invoice/{october.id}?action=pay", json={})
    assert (nothing.status_code, body(nothing)["response"]) == (200, False)  # no credit: nothing paid
    card = api.post(f"/api/v3/invoice/{october.id}?action=pay", json={"number": "4111111111111111"})
    assert card.status_code == 400 and body(card)["details"]["field"] == "number"
    # A payment of September's 10.00 moved off it (changeAppliedAmounts) waits as credit...
    created = api.post("/api/v3/transaction", json={"customer_id": october.customer_id, "amount": "10.00",
                                                    "applied_to": [{"invoice_id": september.id}]})
    payment_id = body(created)["response"]["id"]
    moved = api.post(f"/api/v3/transaction/{payment_id}?action=changeAppliedAmounts",
                     json={"applied_to": [{"invoice_id": september.id, "applied": 0}]})
    assert (moved.status_code, body(moved)["response"]) == (200, True)
    # ... until `pay` applies it to October (up to `amount`).
    paid = api.post(f"/api/v3/invoice/{october.id}/_action/pay", json={"use_customer_balance": True, "amount": 4})
    assert (paid.status_code, body(paid)["response"]) == (200, True)
    got = body(api.get(f"/api/v3/invoice/{october.id}"))["response"]
    assert (got["payments"], got["balance"], got["invoice_status_str"]) == (Decimal("4.00"), Decimal("24.05"), "open-overdue")
    paid = api.post(f"/api/v3/invoice/{october.id}/_action/pay", json={})
    assert body(paid)["response"] is True
    got = body(api.get(f"/api/v3/invoice/{october.id}"))["response"]
    assert (got["payments"], got["balance"]) == (Decimal("10.00"), Decimal("18.05"))
    assert body(api.post(f"/api/v3/invoice/{october.id}/_action/pay", json={}))["response"] is False


def test_void_action_and_refusals(api, db):
    invoice = make_october_invoice()
    assert api.post(f"/api/v3/invoice/{invoice.id}/_action/void", json={}).status_code == 200
    got = body(api.get(f"/api/v3/invoice/{invoice.id}"))["response"]
    assert (got["invoice_status_str"], got["is_void"], got["balance"]) == ("closed-void", True, Decimal("0.00"))
    twice = api.post(f"/api/v3/invoice/{invoice.id}/_action/void", json={})
    assert twice.status_code == 400 and "already void" in body(twice)["message"]
    unknown = api.post(f"/api/v3/invoice/{invoice.id}/_action/explode", json={})
    assert unknown.status_code == 400 and "unknown action 'explode'" in body(unknown)["message"]
    assert api.post("/api/v3/invoice/99999/_action/void", json={}).status_code == 404


def test_email_action_queues_a_delivery(api, db):
    invoice = make_october_invoice()
    response = api.post(f"/api/v3/invoice/{invoice.id}/_action/email", json={"email": "ap@acme.example"})
    assert response.status_code == 200
    assert body(response)["response"] is True
    delivery = db.session.scalar(select(EmailDelivery).where(EmailDelivery.invoice_id == invoice.id)
                                 .order_by(EmailDelivery.id.desc()).limit(1))
    assert (delivery.to_address, delivery.status, delivery.invoice_id) == ("ap@acme.example", "pending", invoice.id)


def test_transaction_applies_to_several_invoices(api, db):
    october = make_october_invoice()
    september = db.session.get(Invoice, october.id - 1)
    created = api.post("/api/v3/transaction", json={
        "customer_id": october.customer_id, "transaction_type": "pay", "gateway_method": "check",
        "amount": 40, "gateway_transid": "CHK-1001", "transaction_date": "2015-10-20",
        "applied_to": [{"invoice_id": september.id}, {"invoice_id": october.id}],
    })
    assert created.status_code == 201, body(created)
    payment = body(api.get(f"/api/v3/transaction/{body(created)['response']['id']}"))["response"]
    assert payment["applied_to"] == [{"invoice_id": str(september.id), "applied": Decimal("10.00")},
                                     {"invoice_id": str(october.id), "applied": Decimal("28.05")}]
    assert (payment["amount"], payment["transaction_method"], payment["transaction_date"]) == (Decimal("40.00"), "Check", "2015-10-20")
    customer = body(api.get(f"/api/v3/customer/{october.customer_id}"))["response"]
    assert customer["balance"] == Decimal("-1.95")  # the unapplied 1.95 is a credit


def test_bad_transactions_are_400(api, db):
    invoice = make_october_invoice()
    cases = [
        ({"amount": 5}, "customer_id"),
        ({"customer_id": invoice.customer_id, "amount": -5}, "amount"),
        ({"customer_id": invoice.customer_id, "amount": "x"}, "amount"),
        ({"customer_id": invoice.customer_id, "amount": 5, "gateway_method": "bitcoin"}, "method"),
        ({"customer_id": invoice.customer_id, "amount": 5, "applied_to": [{"invoice_id": 999}]}, "applied_to[0].invoice_id"),
        ({"customer_id": invoice.customer_id, "amount": 50, "applied_to": [{"invoice_id": invoice.id, "amount": 30}]}, "applied_to[0].amount"),
        ({"customer_id": invoice.customer_id, "amount": 5, "transaction_type": "ref"}, "amount"),
        ({"customer_id": invoice.customer_id, "amount": 5, "transaction_type": "spl"}, "transaction_type"),
        ({"customer_id": invoice.customer_id, "amount": 5, "gateway_status": 0}, "gateway_status"),
    ]
    for payload, field in cases:
        response = api.post("/api/v3/transaction", json=payload)
        assert response.status_code == 400, (payload, body(response))
        assert body(response)["details"]["field"] == field, payload


def test_signed_links_show_one_invoice_and_resist_tampering(api, client, db):
    invoice = make_october_invoice()
    links = body(api.get(f"/api/v3/invoice/{invoice.id}"))["response"]
    page = client.get(links["url_permalink"])
    assert page.status_code == 200 and "28.05 USD" in page.get_data(as_text=True)
    pdf = client.get(links["url_pdflink"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    token = links["url_permalink"].rsplit("/", 1)[1]
    other = body(api.get(f"/api/v3/invoice/{invoice.id - 1}"))["response"]["url_permalink"].rsplit("/", 1)[1]
    forged = other.split(".")[0] + "." + token.split(".")[1]  # another id with this signature
    assert client.get(f"/r/invoice/{forged}").status_code == 404
    assert client.get(f"/r/invoice/{token}x").status_code == 404
