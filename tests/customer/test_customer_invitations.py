"""Invitations and password resets: signed links that expire and work once, no account oracle."""
from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from itsdangerous.timed import TimestampSigner

from support.logins import CONTACT_PASSWORD as PASSWORD
from support.logins import JANE
from support.portal_client import PortalClient
from portal.models import EmailDelivery
from portal.services.contact_access import contact_from_token, make_token
from portal.jobs.mail import send_due_deliveries

NEW_PASSWORD = "a-brand-new-password"


def _link_path(text: str) -> str:
    match = re.search(r"https?://\S+/portal/(?:invitation|reset)/\S+", text)
    assert match, text
    return urlparse(match.group(0)).path


def _old_token(monkeypatch, contact, purpose: str, seconds_ago: int) -> str:
    """A token signed `seconds_ago` (the signer's clock turned back while signing)."""
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds_ago)
        return make_token(contact, purpose)


@pytest.fixture
def uninvited(acme, db):
    """Jane before any invitation: no password yet."""
    acme.contact.password_hash = None
    db.session.commit()
    return acme.contact


def test_invitation_email_through_smtp_then_the_link_sets_the_password_and_logs_in(
        app, admin, uninvited, smtp_server, db):
    response = admin.post(f"/merchant/contacts/{uninvited.id}/invite")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/merchant/customers/{uninvited.customer_id}#contacts"
    delivery = db.session.query(EmailDelivery).filter_by(kind="message").one()
    assert delivery.to_address == JANE and delivery.status == "pending"  # the mail job sends it
    db.session.query(EmailDelivery).filter_by(kind="invoice").delete()
    db.session.commit()
    assert send_due_deliveries() == {"sent": 1}
    message = smtp_server[0]
    assert message["To"] == JANE
    assert message["Subject"] == "Your invitation to the Meterbill Demo Merchant customer portal"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Jane Doe" in text and "7 days" in text and "Acme Telephony" in text
    path = _link_path(text)
    assert path in html

    client = PortalClient(app.test_client())
    page = client.get(path)
    assert page.status_code == 200 and JANE in page.get_data(as_text=True)
    response = client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    assert "Acme Telephony" in client.get("/portal/").get_data(as_text=True)

    assert client.get(path).status_code == 400  # used: the password changed since
    assert client.post(path, {"password": "yet-another-one", "confirm": "yet-another-one"}).status_code == 400
    client.post("/portal/logout")
    assert client.login(JANE, NEW_PASSWORD).status_code == 302


def test_an_expired_invitation_is_refused(app, uninvited, monkeypatch):
    client = PortalClient(app.test_client())
    fresh = _old_token(monkeypatch, uninvited, "invitation", 7 * 86400 - 60)
    stale = _old_token(monkeypatch, uninvited, "invitation", 7 * 86400 + 60)
    assert client.get(f"/portal/invitation/{fresh}").status_code == 200
    response = client.get(f"/portal/invitation/{stale}")
    assert response.status_code == 400 and "no longer valid" in response.get_data(as_text=True)
    response = client.post(f"/portal/invitation/{stale}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and uninvited.password_hash is None


def test_a_reset_link_lives_two_hours(app, acme, monkeypatch):
    assert contact_from_token(_old_token(monkeypatch, acme.contact, "reset", 7140), "reset") == acme.contact
    assert contact_from_token(_old_token(monkeypatch, acme.contact, "reset", 7260), "reset") is None


def test_tampered_or_foreign_purpose_tokens_are_refused(app, uninvited, db):
    client = PortalClient(app.test_client())
    token = make_token(uninvited, "invitation")
    assert client.get(f"/portal/reset/{token}").status_code == 400  # another purpose's salt
    assert client.get(f"/portal/invitation/{token[:-2]}xx").status_code == 400
    assert client.get("/portal/invitation/not-a-token").status_code == 400


def test_the_password_must_have_eight_characters_and_match(app, uninvited):
    client = PortalClient(app.test_client())
    path = f"/portal/invitation/{make_token(uninvited, 'invitation')}"
    short = client.post(path, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    differ = client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 400 and "The passwords differ." in differ.get_data(as_text=True)
    assert client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, csrf=False).status_code == 400
    assert uninvited.password_hash is None


def test_forgot_password_answers_the_same_for_unknown_addresses(app, acme, db):
    answers = []
    for email in (JANE, "nobody@acme.example"):
        client = PortalClient(app.test_client())
        response = client.post("/portal/forgot-password", {"email": email})
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        flash = re.search(r'<div class="flash[^"]*">([^<]+)</div>', page).group(1)
        answers.append((response.status_code, response.headers["Location"], flash))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/portal/login") and "If an account exists" in answers[0][2]
    deliveries = db.session.query(EmailDelivery).filter_by(kind="message").all()
    assert [d.to_address for d in deliveries] == [JANE]  # only the real one got an e-mail


def test_reset_link_sets_a_new_password_once(app, acme, db, smtp_server):
    client = PortalClient(app.test_client())
    client.post("/portal/forgot-password", {"email": JANE})
    db.session.query(EmailDelivery).filter_by(kind="invoice").delete()
    db.session.commit()
    send_due_deliveries()
    message = smtp_server[0]
    assert message["Subject"].startswith("Reset your password")
    path = _link_path(message.get_body(("plain",)).get_content())
    assert "2 hours" in message.get_body(("plain",)).get_content()
    assert client.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get(path).status_code == 400
    client.post("/portal/logout")
    assert client.login(JANE, PASSWORD).status_code == 400  # the old password is gone
    assert client.login(JANE, NEW_PASSWORD).status_code == 302


def test_uninvited_contacts_get_no_reset_email(app, uninvited, db):
    PortalClient(app.test_client()).post("/portal/forgot-password", {"email": JANE})
    assert db.session.query(EmailDelivery).filter_by(kind="message").count() == 0


def test_only_admins_invite_and_only_contacts_with_an_address(app, db, admin, uninvited):
    from portal.services.accounts import create_staff_user

    create_staff_user(email="viewer@merchant.example", password="viewer-password", role="viewer")
    db.session.commit()
    viewer = PortalClient(app.test_client())
    viewer.post("/merchant/login", {"email": "viewer@merchant.example", "password": "viewer-password"})
    assert viewer.post(f"/merchant/contacts/{uninvited.id}/invite").status_code == 403
    assert admin.post(f"/merchant/contacts/{uninvited.id}/invite", csrf=False).status_code == 400
    assert admin.post("/merchant/contacts/9999/invite").status_code == 404
    uninvited.email = None
    db.session.commit()
    assert admin.post(f"/merchant/contacts/{uninvited.id}/invite").status_code == 302
    assert db.session.query(EmailDelivery).filter_by(kind="message").count() == 0


def test_cli_invite_prints_a_working_link(app, uninvited, db):
    result = app.test_cli_runner().invoke(args=["contacts", "invite", "JANE@acme.example"])
    assert result.exit_code == 0, result.output
    assert "Invitation e-mail queued for jane@acme.example" in result.output
    link = re.search(r"http://localhost/portal/invitation/\S+", result.output).group(0)  # PUBLIC_URL
    assert db.session.query(EmailDelivery).filter_by(kind="message", to_address=JANE).count() == 1
    client = PortalClient(app.test_client())
    assert client.get(urlparse(link).path).status_code == 200
    missing = app.test_cli_runner().invoke(args=["contacts", "invite", "nobody@example.com"])
    assert missing.exit_code == 2 and "no contact has the e-mail address" in missing.output
    only_link = app.test_cli_runner().invoke(args=["contacts", "invite", JANE, "--no-email",
                                                   "--base-url", "https://billing.example.com"])
    assert "https://billing.example.com/portal/invitation/" in only_link.output
    assert db.session.query(EmailDelivery).filter_by(kind="message").count() == 1
