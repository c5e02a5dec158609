"""Contact login and logout: wrong passwords, CSRF, the rate limit, who may enter the portal."""
from __future__ import annotations

from support.logins import CONTACT_PASSWORD as PASSWORD
from support.logins import JANE
from support.portal_client import PortalClient
from portal.services.accounts import create_staff_user


def test_login_then_logout(anonymous, acme):
    response = anonymous.login(JANE)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    page = anonymous.get("/portal/").get_data(as_text=True)
    assert "Acme Telephony" in page and "Jane Doe" in page
    response = anonymous.post("/portal/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login"
    assert anonymous.get("/portal/").status_code == 302  # logged out: back to the login


def test_email_is_case_insensitive_and_next_is_followed_inside_the_portal(anonymous, acme):
    response = anonymous.post("/portal/login?next=/portal/invoices", {"email": "  JANE@Acme.Example ", "password": PASSWORD})
    assert response.headers["Location"] == "/portal/invoices"


def test_next_never_leaves_the_portal(anonymous, acme):
    for target in ("https://evil.example/", "//evil.example/x", "/merchant/", "/\\evil.example"):
        response = anonymous.post(f"/portal/login?next={target}", {"email": JANE, "password": PASSWORD})
        assert response.headers["Location"] == "/portal/", target
        anonymous.post("/portal/logout")


def test_wrong_password_or_unknown_email_is_400_with_the_same_message(anonymous, acme):
    wrong = anonymous.login(JANE, "not-the-password")
    unknown = anonymous.login("nobody@acme.example", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Wrong e-mail or password." in response.get_data(as_text=True)
    assert anonymous.get("/portal/").status_code == 302


def test_a_contact_without_password_cannot_log_in(anonymous, acme, db):
    acme.contact.password_hash = None
    db.session.commit()
    assert anonymous.login(JANE).status_code == 400


def test_login_without_csrf_token_is_refused(anonymous, acme):
    response = anonymous.post("/portal/login", {"email": JANE, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert anonymous.get("/portal/").status_code == 302  # not logged in


def test_logout_without_csrf_token_is_refused(jane):
    assert jane.post("/portal/logout", csrf=False).status_code == 400
    assert jane.get("/portal/").status_code == 200


def test_login_posts_are_rate_limited(anonymous, acme):
    for _ in range(10):
        assert anonymous.login(JANE, "wrong-password").status_code == 400
    response = anonymous.login(JANE, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert anonymous.get("/portal/login").status_code == 200  # GET is not limited


def test_htmx_requests_without_login_are_sent_to_the_login_page(anonymous, acme):
    response = anonymous.get("/portal/invoices?page=2", htmx=True)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/portal/login?next=")


def test_a_staff_user_is_not_a_contact(app, db, acme):
    create_staff_user(email="admin@merchant.example", password="admin-password", role="admin")
    db.session.commit()
    client = PortalClient(app.test_client())
    client.post("/merchant/login", {"email": "admin@merchant.example", "password": "admin-password"})
    assert client.get("/merchant/").status_code == 200
    assert client.get("/portal/").status_code == 302  # the merchant login does not open the portal


def test_portal_pages_are_private_and_carry_the_security_headers(jane):
    response = jane.get("/portal/")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.get_data(as_text=True)  # no inline script (CSP)
