"""Helpers of the customer portal tests (a module, not conftest.py: test modules import it,
and `from conftest import ...` would pick whichever conftest pytest loaded last)."""
from __future__ import annotations

import re

JANE, BOB = "jane@acme.example", "bob@bravo.example"
PASSWORD = "jane-s-secret-1"


def fresh_g() -> None:
    """Empty `flask.g` before a request, as a server does for each one.

    Test requests run inside the `db` fixture's app context, so they share its `g`: without
    this, Flask-Login's cached user and Flask-WTF's cached CSRF token of one client would
    leak into the next client's request (and an isolation test could pass for a wrong reason).
    """
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


def csrf_token(client, path: str = "/portal/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">."""
    fresh_g()
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class PortalClient:
    """A test client whose POSTs carry the session's CSRF token; `htmx=True` adds HX-Request."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client)

    def get(self, path, htmx: bool = False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        fresh_g()
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path, data=None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        fresh_g()
        return self.client.post(path, data=data, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/portal/login", {"email": email, "password": password})
