"""One test client for both portals: POSTs carry the session's CSRF token, `htmx=True` adds
the HX-Request header, and logins go through the real login forms.

Logging in is cheap: the test app hashes passwords with one PBKDF2 round (tests/conftest.py).
"""
from __future__ import annotations

import re

from support.logins import CONTACT_PASSWORD, STAFF_PASSWORD


def csrf_token(client, path: str = "/portal/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">.

    :param client: a Flask test client.
    :param path: a page the client may see that carries the token (any page: one token per session).
    """
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def staff_login(client, email: str, password: str = STAFF_PASSWORD):
    """Log `client` into the merchant portal through its login form (with its CSRF token)."""
    return client.post("/merchant/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(client, "/merchant/login")})


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
