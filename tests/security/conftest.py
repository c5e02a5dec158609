"""Helpers of the attack tests: logins of both portals, and a fresh app built from a
controlled environment (its own instance folder, no SECRET_KEY unless given)."""
from __future__ import annotations

import re

import pytest

from portal.services.accounts import create_staff_user

STAFF_PASSWORD = "correct-horse-battery"
CONTACT_PASSWORD = "contact-secret-1"
SETTINGS_FROM_ENVIRONMENT = ("SECRET_KEY", "PUBLIC_URL", "METERBILL_ENV", "TRUSTED_HOSTS",
                             "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY", "PROXY_FIX_X_FOR",
                             "INSTANCE_PATH", "SECURE_COOKIES", "MAX_CONTENT_LENGTH")


def csrf_of(client, path: str, **kwargs) -> str:
    """The CSRF token of the client's session, from a page's <meta name="csrf-token">."""
    page = client.get(path, **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def make_staff(db, email: str, role: str = "admin"):
    user = create_staff_user(email=email, password=STAFF_PASSWORD, role=role)
    db.session.commit()
    return user


def staff_client(app, email: str, remember: bool = False, password: str = STAFF_PASSWORD):
    """A client logged into the merchant portal through the real form."""
    client = app.test_client()
    data = {"email": email, "password": password, "csrf_token": csrf_of(client, "/merchant/login")}
    if remember:
        data["remember"] = "y"
    answer = client.post("/merchant/login", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return client


def contact_client(app, email: str, remember: bool = False, password: str = CONTACT_PASSWORD):
    """A client logged into the customer portal through the real form."""
    client = app.test_client()
    data = {"email": email, "password": password, "csrf_token": csrf_of(client, "/portal/login")}
    if remember:
        data["remember"] = "y"
    answer = client.post("/portal/login", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return client


def only_remember_cookie(app, client):
    """A new client holding nothing but `client`'s remember-me cookie (a new browser session)."""
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    cookie = client.get_cookie(name)
    assert cookie is not None, "no remember-me cookie was set"
    fresh = app.test_client()
    fresh.set_cookie(name, cookie.value)
    return fresh


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No security setting from the environment; the instance folder is a temporary one."""
    for name in SETTINGS_FROM_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def fresh_app(clean_environment):
    """Build an app like `make run` would, with `overrides` (SQLite, temporary instance)."""
    from portal import create_app

    def build(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{clean_environment / 'fresh.db'}",
                    "INSTANCE_PATH": str(clean_environment / "instance"),
                    "RATELIMIT_STORAGE_URI": "memory://"}
        settings.update(overrides)
        return create_app(settings)

    return build
