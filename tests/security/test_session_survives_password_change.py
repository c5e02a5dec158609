"""Issue 10.3: sessions and one-year remember-me cookies outlived a password change/reset."""
from __future__ import annotations

from support.factories import make_customer
from portal.services.contact_access import make_token, set_contact_password
from support.logins import CONTACT_PASSWORD, STAFF_PASSWORD
from support.portal_client import contact_client, csrf_token, make_staff, only_remember_cookie, staff_client

NEW_PASSWORD = "a-brand-new-password"


def _logged_into_merchant(client) -> bool:
    return client.get("/merchant/").status_code == 200


def _logged_into_portal(client) -> bool:
    return client.get("/portal/").status_code == 200


def test_staff_password_change_ends_other_sessions_and_remember_cookies(app, db):
    make_staff(db, "ann@merchant.example")
    thief = staff_client(app, "ann@merchant.example", remember=True)
    stolen_cookie = only_remember_cookie(app, thief)
    owner = staff_client(app, "ann@merchant.example", remember=True)
    assert _logged_into_merchant(thief) and _logged_into_merchant(stolen_cookie)
    answer = owner.post("/merchant/account/password", data={
        "current": STAFF_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf_token(owner, "/merchant/account/password")})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    assert not _logged_into_merchant(thief)
    assert not _logged_into_merchant(stolen_cookie)
    assert _logged_into_merchant(owner)  # the browser that changed it stays logged in
    assert _logged_into_merchant(only_remember_cookie(app, owner))  # with a fresh cookie


def test_contact_password_reset_ends_other_sessions_and_remember_cookies(app, db):
    customer = make_customer(company="Acme Telephony", email="jane@acme.example")
    contact = customer.contacts[0]
    set_contact_password(contact, CONTACT_PASSWORD)
    db.session.commit()
    thief = contact_client(app, "jane@acme.example", remember=True)
    stolen_cookie = only_remember_cookie(app, thief)
    assert _logged_into_portal(thief) and _logged_into_portal(stolen_cookie)
    owner = app.test_client()
    path = f"/portal/reset/{make_token(contact, 'reset')}"
    answer = owner.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                    "csrf_token": csrf_token(owner, path)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    assert not _logged_into_portal(thief)
    assert not _logged_into_portal(stolen_cookie)
    assert _logged_into_portal(owner)


def test_cookies_are_httponly_lax_and_secure_behind_https(fresh_app):
    app = fresh_app(PUBLIC_URL="https://billing.example.com", SECRET_KEY="k" * 64)
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert app.config[f"{prefix}_SECURE"] is True
        assert app.config[f"{prefix}_HTTPONLY"] is True
        assert app.config[f"{prefix}_SAMESITE"] == "Lax"
    answer = app.test_client().get("/merchant/login", base_url="https://billing.example.com")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_development_cookies_are_not_secure(fresh_app):
    app = fresh_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    answer = app.test_client().get("/merchant/login")
    assert "Strict-Transport-Security" not in answer.headers
    assert "SameSite=Lax" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
