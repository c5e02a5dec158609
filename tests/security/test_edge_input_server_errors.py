"""Issue 10.10: huge ids, huge page numbers, non-ASCII digits and NUL bytes gave 500s.
Run on SQLite (ids ≥ 2^63) and PostgreSQL (ids ≥ 2^31, NUL in text)."""
from __future__ import annotations

import base64

import pytest

from support.factories import make_customer
from portal.services.contact_access import set_contact_password
from support.logins import CONTACT_PASSWORD
from support.portal_client import contact_client, csrf_token, make_staff, staff_client

HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999999999"]
MERCHANT_PAGES = ["/merchant/customers/{}", "/merchant/packages/{}", "/merchant/invoices/{}",
                  "/merchant/items/{}", "/merchant/lines/{}/usage", "/merchant/invoices/{}/pdf"]
PORTAL_PAGES = ["/portal/invoices/{}", "/portal/invoices/{}/pdf", "/portal/lines/{}/usage"]


@pytest.fixture
def admin(app, db):
    make_staff(db, "admin@merchant.example")
    return staff_client(app, "admin@merchant.example")


@pytest.fixture
def jane(app, db):
    customer = make_customer(company="Acme Telephony", email="jane@acme.example")
    set_contact_password(customer.contacts[0], CONTACT_PASSWORD)
    db.session.commit()
    return contact_client(app, "jane@acme.example")


@pytest.mark.parametrize("number", HUGE_IDS)
def test_huge_ids_in_portal_urls_are_404(app, admin, jane, number):
    for page in MERCHANT_PAGES:
        assert admin.get(page.format(number)).status_code == 404, page
    for page in PORTAL_PAGES:
        assert jane.get(page.format(number)).status_code == 404, page


@pytest.mark.parametrize("number", HUGE_IDS)
def test_huge_ids_in_posts_are_404(app, admin, number):
    token = csrf_token(admin, "/merchant/")
    for path in (f"/merchant/invoices/{number}/void", f"/merchant/contacts/{number}/invite",
                 f"/merchant/usage-urls/{number}/revoke"):
        assert admin.post(path, data={"csrf_token": token}).status_code == 404, path


def test_non_ascii_digits_are_not_ids(app, admin, api):
    created = api.post("/api/v3/customer", json={"company": "Three"}).get_json()["response"]["id"]
    arabic = "٠١٢٣٤٥٦٧٨٩"[created]
    assert api.get(f"/api/v3/customer/{created}").status_code == 200
    assert api.get(f"/api/v3/customer/{arabic}").status_code == 404
    assert admin.get(f"/merchant/customers/{arabic}").status_code == 404
    assert api.get(f"/api/v3/customer/{2**63}").status_code == 404


@pytest.mark.parametrize("page", ["10000000000000000000000", "-99999999999999", "٣"])
def test_huge_or_foreign_page_numbers_are_400(app, admin, jane, page):
    for path in ("/merchant/customers", "/merchant/invoices"):
        answer = admin.get(f"{path}?page={page}")
        assert answer.status_code == 400, path
    assert jane.get(f"/portal/invoices?page={page}").status_code == 400


def test_nul_bytes_in_logins_and_searches_are_400(app, admin, db):
    client = app.test_client()
    for portal in ("/merchant", "/portal"):
        token = csrf_token(client, f"{portal}/login")
        answer = client.post(f"{portal}/login", data={"email": "a\x00@b.example", "password": "whatever-1",
                                                      "csrf_token": token})
        assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True), portal
    token = csrf_token(client, "/portal/forgot-password")
    assert client.post("/portal/forgot-password", data={"email": "a\x00@b.example", "csrf_token": token}).status_code == 400
    for path in ("/merchant/customers?q=a%00b", "/merchant/invoices?status=%00", "/merchant/items?q=%00"):
        assert admin.get(path).status_code == 400, path


def test_nul_byte_in_the_api_basic_username_is_400(client):
    credentials = base64.b64encode(b"pub\x00lic:secret").decode()
    answer = client.get("/api/v3/customer", headers={"Authorization": f"Basic {credentials}"})
    assert answer.status_code == 400
    assert answer.get_json()["status"] == "Error" and "NUL" in answer.get_json()["message"]
