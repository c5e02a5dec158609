"""One test client for both portals: POSTs carry the session's CSRF token, `htmx=True` adds
the HX-Request header, and logins go through the real login forms.

Logging in is cheap: the test app hashes passwords with one PBKDF2 round (tests/conftest.py).
"""
from __future__ import annotations

import re

from support.logins import CONTACT_PASSWORD, STAFF_PASSWORD


def csrf_token(client, path: str = "/portal/login", required: bool = True, **kwargs) -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">.

    :param client: a Flask test client.
    :param path: a page the client may see that carries the token (any page: one token per session).
    :param required: False: "" when the page has none (a role that cannot see it).
    :param kwargs: more arguments of the GET (e.g. headers).
    """
    page = client.get(path, **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match or not required, f"no CSRF token on {path}"
    return match.group(1) if match else ""


def staff_login(client, email: str, password: str = STAFF_PASSWORD):
    """Log `client` into the merchant portal through its login form (with its CSRF token)."""
    return client.post("/merchant/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(client, "/merchant/login")})


def make_staff(db, email: str, role: str = "admin"):
    """A staff user with STAFF_PASSWORD, committed."""
    from portal.services.accounts import create_staff_user

    user = create_staff_user(email=email, password=STAFF_PASSWORD, role=role)
    db.session.commit()
    return user


def _logged_in(app, portal: str, email: str, password: str, remember: bool):
    client = app.test_client()
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, f"{portal}/login")}
    if remember:
        data["remember"] = "y"
    answer = client.post(f"{portal}/login", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return client


def staff_client(app, email: str, remember: bool = False, password: str = STAFF_PASSWORD):
    """A plain test client logged into the merchant portal through the real form."""
    return _logged_in(app, "/merchant", email, password, remember)


def contact_client(app, email: str, remember: bool = False, password: str = CONTACT_PASSWORD):
    """A plain test client logged into the customer portal through the real form."""
    return _logged_in(app, "/portal", email, password, remember)


def only_remember_cookie(app, client):
    """A new client holding nothing but `client`'s remember-me cookie (a new browser session)."""
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    cookie = client.get_cookie(name)
    assert cookie is not None, "no remember-me cookie was set"
    fresh = app.test_client()
    fresh.set_cookie(name, cookie.value)
    return fresh


class PortalClient:
    """A test client of the merchant or the customer portal that carries the CSRF token."""

    def __init__(self, client, token_page: str = "/portal/login"):
        self.client = client
        self.token = csrf_token(client, token_page)

    def get(self, path, htmx: bool = False, **kwargs):
        return self.client.get(path, headers=_headers(htmx, kwargs), **kwargs)

    def post(self, path, data=None, htmx: bool = False, csrf: bool = True, **kwargs):
        headers = _headers(htmx, kwargs)
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, headers=headers, **kwargs)

    def login(self, email: str, password: str = CONTACT_PASSWORD):
        """Log a contact into the customer portal through its login form."""
        return self.post("/portal/login", {"email": email, "password": password})


def _headers(htmx: bool, kwargs: dict) -> dict:
    """The request's headers: the caller's, plus HX-Request for an HTMX request."""
    return {**({"HX-Request": "true"} if htmx else {}), **kwargs.pop("headers", {})}
