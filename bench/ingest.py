"""Usage ingestion benchmark: records/s of each channel, through gunicorn, on SQLite and PostgreSQL.

Not a test (pytest only collects tests/). From a fresh clone:  make install  then
    .venv/bin/python bench/ingest.py [--db sqlite|postgresql|both] [--quick]
See bench/README.md for what each figure means and the targets.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GUNICORN = Path(sys.executable).parent / "gunicorn"
START = datetime(2015, 9, 1)
LUA = """
local counter = 0
local lines = {%(lines)s}
request = function()
  counter = counter + 1
  local body = string.format('{"line_item_id": %%d, "usage_value": "%%d.25", ' ..
    '"from": "2015-09-15 10:00:00", "external_key": "w%%s-%%d"}',
    lines[counter %% #lines + 1], counter %% 1000, tostring(id), counter)
  return wrk.format("POST", "/api/v3/usage", {["Content-Type"] = "application/json",
    ["Authorization"] = "%(auth)s"}, body)
end
local tid = 0
setup = function(thread) tid = tid + 1; thread:set("id", tid) end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--records", type=int, default=200_000, help="records sent in bulk calls")
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows of the CSV file")
    parser.add_argument("--duration", type=int, default=10, help="seconds of single POSTs")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"),
                        help="gunicorn worker class (gthread: 2 threads each, keep-alive)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an existing PostgreSQL database used to create meterbill_bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.records, args.csv_rows, args.duration = 20_000, 50_000, 3
    return args


# --- databases -------------------------------------------------------------------------

def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.db'}"


def postgresql_url(admin_url: str) -> str:
    """A fresh `meterbill_bench` database on the server of `admin_url`."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS meterbill_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE meterbill_bench")
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/meterbill_bench"


def migrate_and_seed(url: str) -> dict:
    """Schema by the migrations, then a customer, a metered item, a package of four
    lines and an API key. Returns the line ids and the Authorization header."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.billing.pricing import PriceModel
    from portal.services.apikeys import create_api_key
    from portal.services.catalog import create_item, unit_price
    from portal.services.customers import create_customer
    from portal.services.packages import LineDraft, create_package

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        customer = create_customer(company="Bench Telephony")
        item = create_item(name="VoIP minutes", is_metered=True, units="minute", pricing=PriceModel(
            pricemodel="uni", base=Decimal("10.00"), tiers=unit_price("0.05")))
        package = create_package(customer, [LineDraft(item=item)] * 4,
                                 start_at=START.replace(tzinfo=timezone.utc))
        key, private_key = create_api_key("bench")
        db.session.commit()
        lines = [line.id for line in package.line_items]
        token = base64.b64encode(f"{key.public_key}:{private_key}".encode()).decode()
        db.engine.dispose()
    return {"lines": lines, "auth": f"Basic {token}"}


# --- the server --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, args, log: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn on 127.0.0.1 and a free port; a long timeout lets one request import a big file."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    command = [str(GUNICORN), "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--threads", "2" if args.worker_class == "gthread" else "1",
               "--bind", f"127.0.0.1:{port}", "--timeout", "900", "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    return server, port


def wait_ready(port: int, auth: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see its log")
        try:
            if request(port, "GET", "/api/v3/usage/_count", None, auth)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the highest resident set size the process has had, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def request(port: int, method: str, path: str, body, auth: str, headers=None, conn=None):
    """(status, decoded JSON) of one request; `conn` is reused when given."""
    connection = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=900,
                                                    blocksize=1 << 16)
    connection.request(method, path, body=body, headers={"Authorization": auth, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    if conn is None:
        connection.close()
    return response.status, json.loads(data)


# --- the load --------------------------------------------------------------------------

def run_wrk(port: int, seed: dict, args, workdir: Path) -> dict:
    """Single POSTs for `duration` seconds from `clients` connections (wrk, else Python)."""
    if shutil.which("wrk") is None:
        print("  wrk is not installed (apt-get install -y wrk); using the Python load generator")
        return python_singles(port, seed, args)
    script = workdir / "post_usage.lua"
    script.write_text(LUA % {"lines": ", ".join(map(str, seed["lines"])), "auth": seed["auth"]})
    out = subprocess.run(["wrk", "-t2", f"-c{args.clients}", f"-d{args.duration}s", "-s",
                          str(script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    done = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    note = f"wrk; non-2xx {bad.group(1) if bad else 0}" + (f"; {errors.group(1)}" if errors else "")
    return {"records": done, "seconds": done / rate if rate else 0, "rate": rate, "note": note}


def _single_client(job: tuple) -> tuple[int, int]:
    port, auth, lines, client, deadline = job
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    done = bad = 0
    while time.time() < deadline:
        body = json.dumps({"line_item_id": lines[done % len(lines)], "usage_value": "1.25",
                           "external_key": f"p{client}-{done}"})
        status, _ = request(port, "POST", "/api/v3/usage", body, auth,
                            {"Content-Type": "application/json"}, conn)
        done, bad = done + 1, bad + (status != 201)
    return done, bad


def python_singles(port: int, seed: dict, args) -> dict:
    deadline = time.time() + args.duration
    jobs = [(port, seed["auth"], seed["lines"], c, deadline) for c in range(args.clients)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.clients) as pool:
        results = pool.map(_single_client, jobs)
    seconds = time.perf_counter() - started
    done = sum(r[0] for r in results)
    return {"records": done, "seconds": seconds, "rate": done / seconds,
            "note": f"python clients; non-201 {sum(r[1] for r in results)}"}


def bulk_bodies(lines: list[int], records: int) -> list[bytes]:
    """Bodies of 1000 records each, made before the clock starts."""
    bodies = []
    for first in range(0, records, 1000):
        batch = [{"line_item_id": lines[i % len(lines)], "usage_value": f"{i % 977}.5",
                  "from": (START + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S"),
                  "external_key": f"b{i}"} for i in range(first, min(first + 1000, records))]
        bodies.append(json.dumps(batch).encode())
    return bodies


def _bulk_client(job: tuple) -> tuple[int, int]:
    port, auth, bodies = job
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    stored = bad = 0
    for body in bodies:
        status, answer = request(port, "POST", "/api/v3/usage/_action/bulk", body, auth,
                                 {"Content-Type": "application/json"}, conn)
        stored += answer["details"].get("stored", 0) if status == 200 else 0
        bad += 0 if status == 200 else 1
    return stored, bad


def run_bulk(port: int, seed: dict, args) -> dict:
    bodies = bulk_bodies(seed["lines"], args.records)
    clients = min(4, len(bodies))
    jobs = [(port, seed["auth"], bodies[c::clients]) for c in range(clients)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(_bulk_client, jobs)
    seconds = time.perf_counter() - started
    stored = sum(r[0] for r in results)
    return {"records": stored, "seconds": seconds, "rate": stored / seconds,
            "note": f"{clients} clients x 1000/call; failed calls {sum(r[1] for r in results)}"}


# --- CSV and the raw baseline ---------------------------------------------------------------

def csv_file(workdir: Path, lines: list[int], rows: int) -> Path:
    path = workdir / f"usage-{rows}.csv"
    with path.open("w") as out:
        out.write("line_item_id,usage_value,from,to,external_key\n")
        for i in range(rows):
            start = (START + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S")
            out.write(f"{lines[i % len(lines)]},{i % 977}.5,{start},{start},c{i}\n")
    return path


def run_csv(port: int, seed: dict, path: Path, master: int) -> dict:
    """Stream the file in 64 KB blocks; the peak RSS is that of the worker that grew most."""
    before = {pid: peak_rss_mb(pid) for pid in worker_pids(master)}
    started = time.perf_counter()
    with path.open("rb") as body:
        status, answer = request(port, "POST", "/api/v3/usage/_action/import", body, seed["auth"],
                                 {"Content-Type": "text/csv",
                                  "Content-Length": str(path.stat().st_size)})
    seconds = time.perf_counter() - started
    after = {pid: peak_rss_mb(pid) for pid in worker_pids(master)}
    served = max(after, key=lambda pid: after[pid] - before.get(pid, 0))
    report = answer["response"] if status == 200 else {}
    rows = report.get("rows", 0)
    return {"records": rows, "seconds": seconds, "rate": rows / seconds,
            "note": f"stored {report.get('stored')}, errors {report.get('error_count')}; "
                    f"worker peak RSS {after[served]:.0f} MB"}


def raw_rows(lines: list[int], rows: int, sqlite: bool):
    """The CSV's rows as the table stores them (micro-units, naive UTC), keys `raw-N`."""
    # SQLite holds datetimes as SQLAlchemy writes them: text with microseconds.
    as_stored = (lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")) if sqlite else (lambda t: t)
    now = as_stored(datetime.now(timezone.utc).replace(tzinfo=None))
    for i in range(rows):
        start = as_stored(START + timedelta(seconds=i))
        yield (lines[i % len(lines)], (i % 977) * 1_000_000 + 500_000, start, start,
               f"raw-{i}", "csv", now)


def run_baseline(url: str, seed: dict, rows: int) -> dict:
    columns = "line_item_id, usage_value, from_at, to_at, external_key, source, created_at"
    started = time.perf_counter()
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(f"INSERT INTO usage_records ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             raw_rows(seed["lines"], rows, sqlite=True))
        how = "sqlite3 executemany, one transaction"
    else:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", "")) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY usage_records ({columns}) FROM STDIN") as copy:
                for row in raw_rows(seed["lines"], rows, sqlite=False):
                    copy.write_row(row)
        how = "psycopg COPY"
    seconds = time.perf_counter() - started
    return {"records": rows, "seconds": seconds, "rate": rows / seconds, "note": how}


# --- main ----------------------------------------------------------------------------------

def bench_database(kind: str, args, workdir: Path) -> list[tuple]:
    url = sqlite_url(workdir) if kind == "sqlite" else postgresql_url(args.pg_url)
    print(f"\n== {kind}: migrating and seeding {url}")
    seed = migrate_and_seed(url)
    path = csv_file(workdir, seed["lines"], args.csv_rows)
    server, port = start_gunicorn(url, args, workdir / f"gunicorn-{kind}.log")
    results = []
    try:
        wait_ready(port, seed["auth"], server)
        for channel, target, run in (
                ("single POST", "1,000/s", lambda: run_wrk(port, seed, args, workdir)),
                ("bulk 1000/call", "20,000/s", lambda: run_bulk(port, seed, args)),
                ("CSV import", "50,000/s, 300 MB", lambda: run_csv(port, seed, path, server.pid))):
            print(f"  {channel} ...", flush=True)
            results.append((kind, channel, target, run()))
    finally:
        server.terminate()
        server.wait(30)
    print("  raw insert baseline ...", flush=True)
    results.append((kind, "raw insert (baseline)", "", run_baseline(url, seed, args.csv_rows)))
    return results


def print_table(results: list[tuple], args, load_at_start: float) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load_at_start:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end; gunicorn: {args.workers} {args.worker_class} "
          f"workers; {args.clients} client connections\n")
    header = (f"{'db':<11}{'channel':<23}{'records':>10}{'seconds':>9}{'records/s':>11}  "
              f"{'target':<18}notes")
    print(header + "\n" + "-" * len(header))
    for kind, channel, target, r in results:
        print(f"{kind:<11}{channel:<23}{r['records']:>10,}{r['seconds']:>9.2f}{r['rate']:>11,.0f}"
              f"  {target:<18}{r['note']}")


def main() -> None:
    args = parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results, load_at_start = [], os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="meterbill-bench-") as tmp:
        for kind in kinds:
            results += bench_database(kind, args, Path(tmp))
    print_table(results, args, load_at_start)


if __name__ == "__main__":
    main()
