"""Issue 10.2: links e-mailed or returned were built from the request's Host header."""
from __future__ import annotations

from sqlalchemy import select

from support.factories import make_customer
from portal.models import EmailDelivery
from portal.services.contact_access import set_contact_password
from support.logins import CONTACT_PASSWORD, STAFF_PASSWORD
from support.portal_client import csrf_token, make_staff

EVIL = "evil.example"


def _contact(db):
    customer = make_customer(company="Acme Telephony", email="jane@acme.example")
    set_contact_password(customer.contacts[0], CONTACT_PASSWORD)
    db.session.commit()
    return customer


def _mails(db):
    return db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id)).all()


def test_forged_host_is_refused_by_trusted_hosts(app, db):
    _contact(db)
    client = app.test_client()
    token = csrf_token(client, "/portal/forgot-password")
    answer = client.post("/portal/forgot-password", data={"email": "jane@acme.example", "csrf_token": token},
                         headers={"Host": EVIL})
    assert answer.status_code == 400
    assert _mails(db) == []


def test_reset_link_uses_public_url_even_when_the_host_is_not_checked(app, db, monkeypatch):
    # A development install has no TRUSTED_HOSTS: the link must still not follow the Host.
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    _contact(db)
    client = app.test_client()
    token = csrf_token(client, "/portal/forgot-password", headers={"Host": EVIL})
    answer = client.post("/portal/forgot-password", headers={"Host": EVIL, "X-Forwarded-Host": EVIL},
                         data={"email": "jane@acme.example", "csrf_token": token})
    assert answer.status_code == 302
    (mail,) = _mails(db)
    assert "http://localhost/portal/reset/" in mail.body_text
    assert EVIL not in mail.body_text + (mail.body_html or "")


def test_merchant_invitation_link_uses_public_url(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    customer = make_customer(company="Bravo", email="bob@bravo.example")
    make_staff(db, "admin@merchant.example")
    admin, host = app.test_client(), {"Host": EVIL}  # the whole visit through the forged host
    login = {"email": "admin@merchant.example", "password": STAFF_PASSWORD,
             "csrf_token": csrf_token(admin, "/merchant/login", headers=host)}
    assert admin.post("/merchant/login", data=login, headers=host).status_code == 302
    answer = admin.post(f"/merchant/contacts/{customer.contacts[0].id}/invite", headers=host,
                        data={"csrf_token": csrf_token(admin, "/merchant/", headers=host)})
    assert answer.status_code == 302
    (mail,) = _mails(db)
    assert "http://localhost/portal/invitation/" in mail.body_text and EVIL not in mail.body_text


def test_api_location_and_invoice_links_use_public_url(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    answer = api.post("/api/v3/customer", json={"company": "Carol Co"}, headers={"Host": EVIL})
    assert answer.status_code == 201
    assert answer.headers["Location"] == f"http://localhost/api/v3/customer/{answer.get_json()['response']['id']}"


def test_links_are_built_without_a_request(app, db):
    from portal.services.links import external_url

    # The scheduler and the CLI build links too: no request, no Host, same base.
    assert external_url("customer.reset_password", token="abc") == "http://localhost/portal/reset/abc"
