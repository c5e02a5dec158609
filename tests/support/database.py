"""Database helpers for tests: empty every table (the `db` fixture; tests needing a fresh
database per example)."""
from __future__ import annotations

from sqlalchemy import text

from portal.extensions import db as _db


def clean_database() -> None:
    """Empty every table (also used by tests that need a fresh database per example)."""
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
        if _has_sqlite_sequence():  # restart ids at 1, as RESTART IDENTITY does
            _db.session.execute(text("DELETE FROM sqlite_sequence"))
    _db.session.commit()


def _has_sqlite_sequence() -> bool:
    return bool(_db.session.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
    ).first())
