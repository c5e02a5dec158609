"""Connections idle for a while are pinged when they leave the pool; a dead one is replaced
before the request uses it (PostgreSQL; busy connections are never pinged)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from portal.db_pool import ping_idle_connections


@pytest.fixture
def pg_url(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (a server that can drop a connection)")
    return url


def _pid(engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_url):
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=0)
    killer = create_engine(pg_url)
    try:
        first = _pid(engine)
        with killer.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({first})")
        second = _pid(engine)  # no error: the dead connection was pinged and replaced
        assert second != first
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_url):
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=3600)
    try:
        first = _pid(engine)
        assert _pid(engine) == first  # the same connection, reused without a ping
    finally:
        engine.dispose()


def test_a_pinged_connection_can_be_switched_to_autocommit(pg_url):
    """The ping must not leave a transaction open: the usage API's fast path and its Flask
    view switch the connection to autocommit, which psycopg refuses inside a transaction."""
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=0)
    try:
        _pid(engine)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # pinged
            assert conn.exec_driver_sql("SELECT 2").scalar() == 2
        raw = engine.raw_connection()  # pinged again: the fast path's checkout
        engine.dialect.set_isolation_level(raw.dbapi_connection, "AUTOCOMMIT")
        raw.close()
    finally:
        engine.dispose()
