"""Issue 10.12: invoice links could be neither revoked nor rotated, private pages were
cacheable, and the API accepted bodies its OpenAPI document refuses (and the reverse)."""
from __future__ import annotations

from decimal import Decimal

from support.api_client import body
from support.factories import make_october_invoice
from portal.services.links import invoice_links
from support.portal_client import csrf_token, make_staff, staff_client


def _path(url: str) -> str:
    return url.split("http://localhost", 1)[1]


def test_voiding_an_invoice_revokes_its_links(api, client, db):
    invoice = make_october_invoice()
    links = invoice_links(invoice)
    db.session.commit()
    assert client.get(_path(links["url_permalink"])).status_code == 200
    assert api.post(f"/api/v3/invoice/{invoice.id}/_action/void").status_code == 200
    assert client.get(_path(links["url_permalink"])).status_code == 404
    assert client.get(_path(links["url_pdflink"])).status_code == 404


def test_merchant_rotates_an_invoice_link(app, client, db):
    invoice = make_october_invoice()
    old = invoice_links(invoice)["url_permalink"]
    make_staff(db, "admin@merchant.example")
    make_staff(db, "viewer@merchant.example", role="viewer")
    admin = staff_client(app, "admin@merchant.example")
    page = admin.get(f"/merchant/invoices/{invoice.id}").get_data(as_text=True)
    assert old in page and "New link" in page
    viewer = staff_client(app, "viewer@merchant.example")
    refused = viewer.post(f"/merchant/invoices/{invoice.id}/rotate-link",
                          data={"csrf_token": csrf_token(viewer, "/merchant/")})
    assert refused.status_code == 403
    answer = admin.post(f"/merchant/invoices/{invoice.id}/rotate-link",
                        data={"csrf_token": csrf_token(admin, "/merchant/")})
    assert answer.status_code == 302
    db.session.expire_all()
    new = invoice_links(invoice)["url_permalink"]
    assert new != old and new in admin.get(f"/merchant/invoices/{invoice.id}").get_data(as_text=True)
    assert client.get(_path(old)).status_code == 404
    assert client.get(_path(new)).status_code == 200


def test_private_pages_are_not_stored_by_caches(app, client, db):
    invoice = make_october_invoice()
    links = invoice_links(invoice)
    db.session.commit()
    make_staff(db, "admin@merchant.example")
    admin = staff_client(app, "admin@merchant.example")
    for answer in (admin.get("/merchant/"), admin.get(f"/merchant/invoices/{invoice.id}"),
                   admin.get(f"/merchant/invoices/{invoice.id}/pdf"),
                   client.get(_path(links["url_permalink"])), client.get(_path(links["url_pdflink"]))):
        assert answer.status_code == 200
        assert "no-store" in answer.headers["Cache-Control"]


def test_applied_to_object_is_refused_as_the_document_says(api, db):
    invoice = make_october_invoice()
    document = api.get("/api/v3/openapi.json").get_json()
    schema = document["components"]["schemas"]["TransactionCreate"]["properties"]["applied_to"]
    assert schema["type"] == "array"
    answer = api.post("/api/v3/transaction", json={"customer_id": invoice.customer_id, "amount": 5,
                                                    "applied_to": {}})
    assert answer.status_code == 400 and body(answer)["details"]["field"] == "applied_to"


def test_empty_put_body_is_refused_as_the_document_says(api, db):
    invoice = make_october_invoice()
    document = api.get("/api/v3/openapi.json").get_json()
    put = document["paths"]["/customer/{customer_id}"]["put"] if "/customer/{customer_id}" in document["paths"] \
        else next(op["put"] for path, op in document["paths"].items() if path.startswith("/customer/{") and "put" in op)
    assert put["requestBody"]["required"] is True
    answer = api.request("PUT", f"/api/v3/customer/{invoice.customer_id}", data=b"",
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and body(answer)["details"]["field"] == "body"
    assert api.put(f"/api/v3/customer/{invoice.customer_id}", json={}).status_code == 202


def test_exponent_and_negative_zero_are_read_as_the_document_says(api, db):
    invoice = make_october_invoice()
    described = api.get("/api/v3/openapi.json").get_json()["components"]["schemas"]["DecimalInput"]["description"]
    assert "1E3" in described and "-0 is 0" in described
    created = api.request("POST", "/api/v3/transaction", headers={"Content-Type": "application/json"},
                          data=f'{{"customer_id": {invoice.customer_id}, "amount": 1E3}}')
    assert created.status_code == 201, body(created)
    got = body(api.get(f"/api/v3/transaction/{body(created)['response']['id']}"))["response"]
    assert got["amount"] == Decimal("1000.00")
    zero = api.post("/api/v3/transaction", json={"customer_id": invoice.customer_id, "amount": "-0"})
    zero_plain = api.post("/api/v3/transaction", json={"customer_id": invoice.customer_id, "amount": 0})
    # -0 is read as 0: refused exactly as 0 is (a payment must be more than 0).
    assert zero.status_code == zero_plain.status_code == 400
    assert body(zero)["message"] == body(zero_plain)["message"] == "amount: must be more than 0"
