"""Shared fixtures: `app` (one per session, schema built by the migrations), `db` (a clean
database for each test, inside an app context) and `client`.

The database is SQLite in a temporary file, or the one in DATABASE_URL (CI sets the local
PostgreSQL); a PostgreSQL that cannot be reached fails the run instead of skipping.
"""
from __future__ import annotations

import os

import pytest
from flask import g
from sqlalchemy import text

from portal import create_app
from portal.config import normalize_database_url
from portal.extensions import db as _db
from portal.extensions import limiter
from support.api_client import ApiClient
from support.database import clean_database

pytest_plugins = ["support.fast_usage"]  # the `fast` fixture of the usage fast path's tests


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return _worker_database(normalize_database_url(url))
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'meterbill-test.db'}"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`test_gw0`, ...),
    created beside the one in DATABASE_URL; SQLite files are per worker already."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_everything() -> None:
    """Leave an empty database, so that the migrations build the whole schema."""
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        _db.drop_all()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The application on a freshly migrated test database."""
    from flask_migrate import upgrade

    outbox = tmp_path_factory.mktemp("outbox")
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "SECRET_KEY": "test-secret",
        # Links are built from PUBLIC_URL; the browser tests reach the app at 127.0.0.1.
        "PUBLIC_URL": "http://localhost",
        "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
        "OUTBOX_DIR": str(outbox),
        "PDF_CACHE_DIR": str(tmp_path_factory.mktemp("pdf-cache")),
        # Limits stay on (login and device pings are rate-limited); each test starts afresh.
        "RATELIMIT_ENABLED": True,
        "MAIL_SERVER": "",
        # The tests' webhook receivers and usage URLs listen on loopback
        # (tests/security/test_outbound_private_hosts.py turns this off).
        "OUTBOUND_ALLOW_PRIVATE": True,
        # One cheap PBKDF2 round instead of scrypt: logins in fixtures cost nothing.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    })
    def _fresh_request_globals():
        # Test requests reuse the test's app context (and its `g`); in production every
        # request has its own. Forget what a previous request cached there (Flask-Login's
        # user, Flask-WTF's CSRF token), before any other hook runs.
        g.__dict__.clear()

    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)

    with application.app_context():
        _drop_everything()
        upgrade()
        _db.session.remove()
    return application


@pytest.fixture
def db(app):
    """A clean database and an app context for one test."""
    with app.app_context():
        clean_database()
        limiter.reset()
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture
def client(app, db):
    """A test client on a clean database."""
    return app.test_client()



@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on loopback; the app sends to it during the test.

    Yields the list of received messages (email.message.EmailMessage objects).
    """
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 Message accepted"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield received
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture
def api(client, db):
    """An authenticated API client on a clean database."""
    from portal.services.apikeys import create_api_key

    key, private_key = create_api_key("tests")
    db.session.commit()
    return ApiClient(client, key.public_key, private_key)
