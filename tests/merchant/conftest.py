"""Merchant portal fixtures: logged-in admin and viewer clients."""
from __future__ import annotations

import pytest

from portal.services.accounts import create_staff_user
from support.logins import STAFF_PASSWORD
from support.portal_client import PortalClient, staff_login


def _portal_client(app, db, role: str) -> PortalClient:
    email = f"{role}@merchant.example"
    create_staff_user(email=email, password=STAFF_PASSWORD, role=role)
    db.session.commit()
    client = app.test_client()
    response = staff_login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return PortalClient(client, "/merchant/login")


@pytest.fixture
def admin(app, db) -> PortalClient:
    """A client logged in as an admin."""
    return _portal_client(app, db, "admin")


@pytest.fixture
def viewer(app, db) -> PortalClient:
    """A client logged in as a read-only viewer."""
    return _portal_client(app, db, "viewer")
