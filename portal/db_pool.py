"""Pessimistic disconnect handling without a round trip per request.

SQLAlchemy's `pool_pre_ping` sends a ping on EVERY checkout: one extra round trip per
request on a healthy, busy pool. Here a connection is pinged only when it comes out of
the pool after sitting idle longer than DB_PING_IDLE_SECONDS (default 10): that is when
a database restart or a firewall may have closed it. A dead one is replaced before use
(`DisconnectionError` makes the pool retry with a fresh connection); a disconnect found
mid-request still invalidates the whole pool, as SQLAlchemy always does.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc


def ping_idle_connections(engine, idle_seconds: float) -> None:
    """Install the checkin/checkout listeners on `engine`'s pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new, or used moments ago: healthy
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            # psycopg opened a transaction for the ping: end it, or switching the connection
            # to autocommit (the usage API's statement) would fail with "can't change
            # 'autocommit' now".
            dbapi_connection.rollback()
        except Exception as error:
            raise exc.DisconnectionError(f"idle connection is dead: {error}") from error
