"""Merchant portal fixtures: logged-in admin and viewer clients, and CSRF handling."""
from __future__ import annotations

import re

import pytest

from portal.services.accounts import create_staff_user

PASSWORD = "correct-horse-battery"


def csrf_token(client, path: str = "/merchant/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    """Log `client` in through the real login form (with its CSRF token)."""
    return client.post("/merchant/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(client)})


class PortalClient:
    """A logged-in test client whose POSTs carry the session's CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client, "/merchant/login")

    def get(self, path, htmx: bool = False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path, data=None, htmx: bool = False, csrf: bool = True, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data, headers=headers, **kwargs)


def _portal_client(app, db, role: str) -> PortalClient:
    email = f"{role}@merchant.example"
    create_staff_user(email=email, password=PASSWORD, role=role)
    db.session.commit()
    client = app.test_client()
    response = login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return PortalClient(client)


@pytest.fixture
def admin(app, db) -> PortalClient:
    """A client logged in as an admin."""
    return _portal_client(app, db, "admin")


@pytest.fixture
def viewer(app, db) -> PortalClient:
    """A client logged in as a read-only viewer."""
    return _portal_client(app, db, "viewer")
