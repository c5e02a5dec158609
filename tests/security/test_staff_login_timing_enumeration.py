"""Issue 10.6: the staff login answered unknown e-mails fast (no hash checked): an
attacker learnt which addresses have accounts. Measured by work done, not by time."""
from __future__ import annotations

import pytest
import werkzeug.security

import portal.services.accounts as accounts
from support.factories import make_customer
from portal.services.contact_access import set_contact_password
from support.logins import CONTACT_PASSWORD
from support.portal_client import csrf_token, make_staff


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password-hash check made (the slow part of a login), wherever it is made."""
    calls = []
    real = werkzeug.security.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(werkzeug.security, "check_password_hash", counting)
    monkeypatch.setattr(accounts, "check_password_hash", counting, raising=False)
    import portal.models.accounts as staff_model

    monkeypatch.setattr(staff_model, "check_password_hash", counting)
    return calls


def _attempt(app, portal_path: str, email: str) -> int:
    client = app.test_client()
    answer = client.post(f"{portal_path}/login", data={
        "email": email, "password": "wrong-password-1", "csrf_token": csrf_token(client, f"{portal_path}/login")})
    assert answer.status_code == 400 and "Wrong e-mail or password." in answer.get_data(as_text=True)
    return answer.status_code


@pytest.mark.parametrize("portal_path", ["/merchant", "/portal"])
def test_unknown_and_known_emails_cost_the_same_hash_work(app, db, hash_checks, portal_path):
    make_staff(db, "ann@merchant.example")
    customer = make_customer(company="Acme Telephony", email="jane@acme.example")
    set_contact_password(customer.contacts[0], CONTACT_PASSWORD)
    db.session.commit()
    known = "ann@merchant.example" if portal_path == "/merchant" else "jane@acme.example"
    _attempt(app, portal_path, known)
    known_checks = len(hash_checks)
    hash_checks.clear()
    _attempt(app, portal_path, "nobody@nowhere.example")
    assert known_checks == 1 and len(hash_checks) == 1
    make_staff(db, "gone@merchant.example")
    # Inactive staff: refused after the same work too.
    from portal.models import StaffUser

    db.session.query(StaffUser).filter_by(email="gone@merchant.example").update({"active": False})
    db.session.commit()
    hash_checks.clear()
    if portal_path == "/merchant":
        _attempt(app, portal_path, "gone@merchant.example")
        assert len(hash_checks) == 1


def test_both_portals_use_one_login_service(app, db, monkeypatch):
    seen = []
    real = accounts.authenticate
    monkeypatch.setattr(accounts, "authenticate", lambda kind, e, p: seen.append(kind) or real(kind, e, p))
    # Staff log in through accounts.staff_login, which calls accounts.authenticate.
    _attempt(app, "/merchant", "x@y.example")
    _attempt(app, "/portal", "x@y.example")
    assert seen == ["staff", "contact"]
