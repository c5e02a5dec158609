"""Fixtures of the attack tests: a fresh app built from a controlled environment (its own
instance folder, no SECRET_KEY unless given). Logins: `support.portal_client`."""
from __future__ import annotations

import pytest

SETTINGS_FROM_ENVIRONMENT = ("SECRET_KEY", "PUBLIC_URL", "METERBILL_ENV", "TRUSTED_HOSTS",
                             "RATELIMIT_STORAGE_URI", "WEB_CONCURRENCY", "PROXY_FIX_X_FOR",
                             "INSTANCE_PATH", "SECURE_COOKIES", "MAX_CONTENT_LENGTH")


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
