"""The per-database bulk insert of usage records (beside `db_types`: how rows are stored).

PostgreSQL gets the rows as one JSON parameter unpacked by the server (a fixed, short
statement; the C json encoder beats binding thousands of values); SQLite one multi-row
VALUES. `ON CONFLICT DO NOTHING` skips keys already stored (waiting, on PostgreSQL, for a
concurrent twin to commit). Rows are numbered in parameter order on both (the SELECT is
ORDER BY its ordinality; SQLite gives max(rowid) + 1 under its write lock), so the
ascending ids returned map back to the rows, as in SQLAlchemy's insertmanyvalues.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.billing.money import MICRO
from portal.models import UsageRecord

_INSERT = ("INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, usage_type, "
           "external_key, source, created_at) ")
_ON_CONFLICT = (" ON CONFLICT (line_item_id, external_key) DO NOTHING "
                "RETURNING id, line_item_id, external_key")


def insert_usages(connection, usages: list, source: str, now: datetime) -> list[int | None]:
    """Insert records in one statement; the new id of each, None where its key was taken.

    :param connection: the session's connection (the caller's transaction).
    :param usages: validated records (`UsageInput`: line, value, from_at, to_at,
        usage_type, external_key), no two with the same line and key.
    :param source: the channel, stored on every row.
    :param now: their `created_at`.
    """
    if not usages:
        return []
    stored = datetime_converter(connection.dialect)
    # Micro-units as MicroUnits stores them; exact: a valid value has at most 19 digits.
    rows = [(u.line.id, int(u.value * MICRO), stored(u.from_at), stored(u.to_at),
             u.usage_type, u.external_key) for u in usages]
    many = _insert_json if connection.dialect.name == "postgresql" else _insert_values
    returned = many(connection, rows, (source, stored(now)))
    taken = {(line, key) for _, line, key in returned if key is not None}
    ids = iter(sorted(new_id for new_id, _, _ in returned))
    return [next(ids) if u.external_key is None or (u.line.id, u.external_key) in taken else None
            for u in usages]


@lru_cache(maxsize=4)
def datetime_converter(dialect):
    """UTCDateTime's own bind processing (naive UTC; SQLite: its text form)."""
    column = UsageRecord.__table__.c.from_at
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _insert_json(connection, rows: list, constants: tuple) -> list:
    data = [[line, value, start.isoformat(), end.isoformat(), kind, key]
            for line, value, start, end, kind, key in rows]
    sql = (_INSERT + "SELECT (r->>0)::integer, (r->>1)::bigint, (r->>2)::timestamp, "
           "(r->>3)::timestamp, r->>4, r->>5, %(source)s, %(now)s "
           "FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS u(r, n) ORDER BY n"
           + _ON_CONFLICT)
    params = {"rows": json.dumps(data), "source": constants[0], "now": constants[1]}
    return connection.exec_driver_sql(sql, params).all()


def _insert_values(connection, rows: list, constants: tuple) -> list:
    # At most 8 x 1000 parameters: SQLite allows 32766.
    sql = (_INSERT + "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
           + _ON_CONFLICT)
    params = tuple(value for row in rows for value in (*row, *constants))
    return connection.exec_driver_sql(sql, params).all()


_CHECKED = (_INSERT + "SELECT l.id, :value, :from_at, :to_at, CAST(:usage_type AS VARCHAR), :external_key, "
            ":source, :now FROM line_items l JOIN items i ON i.id = l.item_id "
            "JOIN packages p ON p.id = l.package_id WHERE {line} AND i.is_metered "
            "AND l.subscribe_at <= :from_at AND (l.cancel_at IS NULL OR l.cancel_at > :from_at) "
            "AND (p.cancel_at IS NULL OR p.cancel_at > :from_at){typed}" + _ON_CONFLICT)
_CHECKED_SQL = {(by_key, typed): text(_CHECKED.format(
    line="l.external_key = :line" if by_key else "l.id = :line",
    typed=" AND i.usage_type = CAST(:usage_type AS VARCHAR)" if typed else ""))
    for by_key in (False, True) for typed in (False, True)}


def insert_checked(connection, usage, line: int | str, source: str, now: datetime):
    """Insert one record in ONE statement that also checks its line (metered, started,
    not cancelled at `from`, of the record's type); (id, line id) if stored, else None
    (the line failed a check or the key is taken: the caller finds out which, slowly).

    :param usage: the record's value, from_at, to_at, usage_type, external_key.
    :param line: the line's id (int) or external key (str).
    """
    params = _checked_params(connection.dialect, usage, line, source, now)
    sql = _CHECKED_SQL[(isinstance(line, str), usage.usage_type is not None)]
    row = connection.execute(sql, params).first()
    return None if row is None else (row[0], row[1])


def insert_checked_dbapi(cursor, dialect, usage, line: int | str, source: str, now: datetime):
    """`insert_checked` through a DB-API cursor (the same statement, compiled once per
    dialect): no SQLAlchemy connection, transaction or result objects per call.

    :param cursor: a cursor of a DB-API connection in autocommit.
    :param dialect: the engine's dialect (how the statement and its values are written).
    """
    sql, names = _compiled_checked(dialect, isinstance(line, str), usage.usage_type is not None)
    params = _checked_params(dialect, usage, line, source, now)
    cursor.execute(sql, params if names is None else tuple(params[name] for name in names))
    row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def _checked_params(dialect, usage, line, source: str, now: datetime) -> dict:
    stored = datetime_converter(dialect)
    return {"line": line, "value": int(usage.value * MICRO), "from_at": stored(usage.from_at),
            "to_at": stored(usage.to_at), "usage_type": usage.usage_type,
            "external_key": usage.external_key, "source": source, "now": stored(now)}


@lru_cache(maxsize=16)
def _compiled_checked(dialect, by_key: bool, typed: bool) -> tuple[str, tuple | None]:
    """The statement's text for `dialect` and its parameter names in order (None when the
    driver takes them by name)."""
    compiled = _CHECKED_SQL[(by_key, typed)].compile(dialect=dialect)
    return compiled.string, (tuple(compiled.positiontup) if compiled.positional else None)


_PLAIN_COLUMNS = ("line_item_id, usage_value, from_at, to_at, usage_type, external_key, source, "
                  "created_at")


def copy_plain(connection, rows: list[tuple], line_ids: dict, created: str) -> None:
    """Insert new, checked CSV rows the fastest way: COPY on PostgreSQL (the raw COPY's own
    cost: no JSON, no ON CONFLICT), executemany on SQLite. A taken key or a line deleted
    meanwhile raises IntegrityError: the caller runs this in a savepoint and then goes the
    careful way (`ingest_batch`).

    :param rows: plain rows of `csv_reading`: (row, line, line id or key, from, usage type,
        COPY text up to created_at, micro-units, to, external key, ...); instants are naive
        UTC texts with microseconds, as both databases store them.
    :param line_ids: the line id of each line id or key.
    :param created: their created_at, as such a text.
    """
    if connection.dialect.name != "postgresql":
        sql = f"INSERT INTO usage_records ({_PLAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'csv', ?)"
        connection.exec_driver_sql(sql, [(line_ids[r[2]], r[6], r[3], r[7], r[4], r[8], created)
                                         for r in rows])
        return
    import psycopg

    if all(type(ref) is int for ref in line_ids):  # the texts start with their line id
        texts = list(map(itemgetter(5), rows))
    else:
        texts = [r[5] if type(r[2]) is int else f"{line_ids[r[2]]}{r[5]}" for r in rows]
    tail = created + "\n"
    sql = f"COPY usage_records ({_PLAIN_COLUMNS}) FROM STDIN"
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(tail.join(texts) + tail)
    except psycopg.IntegrityError as error:
        raise IntegrityError(sql, None, error) from error
