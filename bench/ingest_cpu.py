"""CPU per request and database round trips of the ingest channels, in process (no HTTP
server, no load generator): the steady measure on a shared machine.

    .venv/bin/python bench/ingest_cpu.py [--requests 2000] [--pg-url URL]

Uses the same fresh database as bench/ingest.py (PostgreSQL; `meterbill_bench`, or
`$BENCH_DB_NAME`, dropped and re-created). Prints, for
a single POST, a bulk call of 1000 and a CSV chunk of 1000 rows: Meterbill's CPU per record
(this process only; PostgreSQL's own CPU is not included) and round trips per call
(statements + BEGIN + COMMIT + pool pings), next to a prepared single-row INSERT / COPY.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import START, bulk_bodies, migrate_and_seed, postgresql_url, run_baseline, \
    single_baseline  # noqa: E402


def counting(engine) -> dict:
    """Round trips seen on `engine`: statements, transaction starts and ends, pings."""
    from sqlalchemy import event

    counts = {"trips": 0}

    def one(*_args, **_kwargs):
        counts["trips"] += 1

    def transaction(conn):
        # In autocommit psycopg sends no BEGIN/COMMIT: SQLAlchemy's events still fire.
        if conn._execution_options.get("isolation_level") != "AUTOCOMMIT":
            counts["trips"] += 1

    event.listen(engine, "before_cursor_execute", one)
    # The single POST's fast path inserts through a DB-API cursor, one statement per call,
    # which SQLAlchemy's events do not see: count its calls.
    import portal.services.usage_new as usage_new

    insert = usage_new.insert_checked_dbapi

    def counted(*args):
        counts["trips"] += 1
        return insert(*args)

    usage_new.insert_checked_dbapi = counted
    event.listen(engine, "begin", transaction)
    event.listen(engine, "commit", transaction)
    if engine.pool._pre_ping:
        event.listen(engine, "checkout", one)
    return counts


def measure(label: str, calls: int, per_call: int, send, counts: dict) -> None:
    for _ in range(min(50, calls)):
        send()  # warm up: caches, prepared statements, the pool
    trips, cpu, wall = counts["trips"], time.process_time(), time.perf_counter()
    for _ in range(calls):
        send()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    records = calls * per_call
    print(f"{label:<22} {cpu * 1e6 / records:>9.1f} us CPU/record {records / wall:>10,.0f} rec/s "
          f"{(counts['trips'] - trips) / calls:>6.1f} round trips/call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    url = postgresql_url(args.pg_url)
    seed = migrate_and_seed(url)
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    headers = {"Authorization": seed["auth"], "Content-Type": "application/json"}
    with app.app_context():
        counts = counting(db.engine)
    print(f"load average {os.getloadavg()[0]:.2f}")
    n = iter(range(10**9))
    line = seed["lines"][0]

    def single():
        body = json.dumps({"line_item_id": line, "usage_value": "1.25",
                           "from": "2015-09-15 10:00:00", "external_key": f"s{next(n)}"})
        assert client.post("/api/v3/usage", data=body, headers=headers).status_code == 201

    measure("single POST", args.requests, 1, single, counts)
    bodies = iter(bulk_bodies(seed["lines"], 1000 * (args.requests // 20 + 60)))

    def bulk():
        answer = client.post("/api/v3/usage/_action/bulk", data=next(bodies), headers=headers)
        assert answer.status_code == 200

    measure("bulk 1000/call", args.requests // 20, 1000, bulk, counts)
    with app.app_context():
        from portal.services.usage_csv import import_usage_csv

        rows = args.requests * 25
        text = "line_item_id,usage_value,from,to,external_key\n" + "".join(
            f"{seed['lines'][i % 4]},{i % 977}.5,{START:%Y-%m-%d %H:%M:%S},"
            f"{START:%Y-%m-%d %H:%M:%S},csv{i}\n" for i in range(rows))
        chunks = iter([text.encode()])

        def csv_file():
            import_usage_csv(io.BytesIO(next(chunks)), on_chunk=lambda _r: db.session.commit())

        trips, cpu, wall = counts["trips"], time.process_time(), time.perf_counter()
        csv_file()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{'CSV file':<22} {cpu * 1e6 / rows:>9.1f} us CPU/record {rows / wall:>10,.0f} rec/s "
              f"{(counts['trips'] - trips) / (rows / 1000):>6.1f} round trips/1000 rows")
        db.engine.dispose()
    copy = run_baseline(url, seed, rows, "rawcpu")
    print(f"{'raw COPY':<22} {'':>9} {'':>14} {copy['rate']:>10,.0f} rec/s")
    one = single_baseline(url, seed, 3)
    print(f"{'prepared INSERT':<22} {one['note'].split('CPU ')[1]:>24} {one['rate']:>10,.0f} rec/s")


if __name__ == "__main__":
    main()
