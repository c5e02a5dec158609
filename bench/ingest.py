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
import threading
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
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"),
                        help="gunicorn worker class (gthread: threads and keep-alive)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--skip", default="", help="channels not measured: single,bulk,csv")
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
    """A fresh database (`meterbill_bench`, or `$BENCH_DB_NAME` so that two benches can run
    side by side) on the server of `admin_url`."""
    import psycopg

    name = os.environ.get("BENCH_DB_NAME", "meterbill_bench")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


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
               "--threads", str(args.threads) if args.worker_class == "gthread" else "1",
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


def run_csv(port: int, seed: dict, path: Path, url: str) -> dict:
    """Upload the file (202 + the import's id), then run the queued job the way the
    scheduler does (`flask jobs run`, its own process) and read the import's counts.
    Time: from the upload to the job's end; CPU and peak RSS: the job process's."""
    started = time.perf_counter()
    with path.open("rb") as body:
        status, answer = request(port, "POST", "/api/v3/usage/_action/import", body, seed["auth"],
                                 {"Content-Type": "text/csv",
                                  "Content-Length": str(path.stat().st_size)})
    if status != 202:
        raise SystemExit(f"import upload answered {status}: {answer}")
    import_id = answer["response"]["id"]
    job = subprocess.Popen([str(GUNICORN.parent / "flask"), "--app", "wsgi", "jobs", "run"],
                           cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                           stdout=subprocess.DEVNULL)
    peaks, stop = {}, threading.Event()
    watcher = threading.Thread(target=watch_children, args=(job.pid, peaks, stop), daemon=True)
    watcher.start()
    _, _, usage = os.wait4(job.pid, 0)
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    _, answer = request(port, "GET", f"/api/v3/usage_import/{import_id}", None, seed["auth"])
    report = answer["response"]
    rows = report["rows"]
    cpu = usage.ru_utime + usage.ru_stime  # the job's and its reaped children's
    job_peak = peaks.pop(str(job.pid), usage.ru_maxrss)
    children = sum(peaks.values())
    return {"records": rows, "seconds": seconds, "rate": rows / seconds,
            "note": f"{report['status']}: stored {report['stored']}, errors "
                    f"{report['error_count']}; job CPU {cpu * 1e6 / max(rows, 1):.1f} us/row, "
                    f"peak RSS {(job_peak + children) / 1024:.0f} MB (job {job_peak / 1024:.0f} + "
                    f"{len(peaks)} child processes {children / 1024:.0f}; wait4 "
                    f"{usage.ru_maxrss / 1024:.0f})"}


def watch_children(pid: int, peaks: dict, stop: threading.Event) -> None:
    """The peak RSS (VmHWM, kB) of `pid` and of each of its child processes at their last
    sample (every 50 ms until `stop`). wait4 gives one peak, not the sum, and counts the
    memory a process had before its exec (Linux keeps it: a job started by this ~120 MB
    script would show at least that). The last sample, not the largest: between fork and
    exec a child still shows its parent's memory; after exec VmHWM starts again and grows."""
    while not stop.is_set():
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in [str(pid), *children]:
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[child] = int(line.split()[1])
        stop.wait(0.05)


def raw_rows(lines: list[int], rows: int, sqlite: bool, prefix: str = "raw"):
    """The CSV's rows as the table stores them (micro-units, naive UTC), keys `raw-N`."""
    # SQLite holds datetimes as SQLAlchemy writes them: text with microseconds.
    as_stored = (lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")) if sqlite else (lambda t: t)
    now = as_stored(datetime.now(timezone.utc).replace(tzinfo=None))
    for i in range(rows):
        start = as_stored(START + timedelta(seconds=i))
        yield (lines[i % len(lines)], (i % 977) * 1_000_000 + 500_000, start, start,
               f"{prefix}-{i}", "csv", now)


def run_baseline(url: str, seed: dict, rows: int, prefix: str = "raw") -> dict:
    columns = "line_item_id, usage_value, from_at, to_at, external_key, source, created_at"
    started = time.perf_counter()
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(f"INSERT INTO usage_records ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             raw_rows(seed["lines"], rows, sqlite=True, prefix=prefix))
        how = "sqlite3 executemany, one transaction"
    else:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", "")) as conn, conn.cursor() as cur:
            with cur.copy(f"COPY usage_records ({columns}) FROM STDIN") as copy:
                for row in raw_rows(seed["lines"], rows, sqlite=False, prefix=prefix):
                    copy.write_row(row)
        how = "psycopg COPY"
    seconds = time.perf_counter() - started
    return {"records": rows, "seconds": seconds, "rate": rows / seconds, "note": how}


# --- main ----------------------------------------------------------------------------------

def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (from /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_single(port: int, seed: dict, args, workdir: Path, master: int) -> dict:
    """Single POSTs, with the gunicorn workers' CPU per request."""
    workers = worker_pids(master)
    before = cpu_seconds(workers)
    result = run_wrk(port, seed, args, workdir)
    cpu = cpu_seconds(workers) - before
    result["note"] += f"; server CPU {cpu * 1000 / max(result['records'], 1):.2f} ms/request"
    return result


def single_baseline(url: str, seed: dict, seconds: float) -> dict:
    """The same insert as one prepared statement per row, autocommit, one connection."""
    if url.startswith("sqlite"):
        return {"records": 0, "seconds": 0, "rate": 0, "note": "(PostgreSQL only)"}
    import psycopg

    sql = ("INSERT INTO usage_records (line_item_id, usage_value, from_at, to_at, external_key, "
           "source, created_at) VALUES (%s, %s, %s, %s, %s, 'api', now())")
    done, lines = 0, seed["lines"]
    started, cpu = time.perf_counter(), time.process_time()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True, prepare_threshold=0) as conn:
        while time.perf_counter() - started < seconds:
            conn.execute(sql, (lines[done % len(lines)], 1_250_000, START, START, f"one-{done}"))
            done += 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"records": done, "seconds": elapsed, "rate": done / elapsed,
            "note": f"prepared single-row INSERT, 1 connection; client CPU "
                    f"{cpu * 1000 / max(done, 1):.2f} ms/insert"}


def bench_database(kind: str, args, workdir: Path) -> list[tuple]:
    url = sqlite_url(workdir) if kind == "sqlite" else postgresql_url(args.pg_url)
    print(f"\n== {kind}: migrating and seeding {url}")
    seed = migrate_and_seed(url)
    path = csv_file(workdir, seed["lines"], args.csv_rows)
    server, port = start_gunicorn(url, args, workdir / f"gunicorn-{kind}.log")
    results = []
    copy_how = "psycopg COPY" if kind == "postgresql" else "executemany"
    try:
        wait_ready(port, seed["auth"], server)
        for channel, target, run, baseline in (
                ("single POST", ">= 1,000/s, <= 2 ms CPU",
                 lambda: run_single(port, seed, args, workdir, server.pid),
                 lambda: single_baseline(url, seed, min(args.duration, 5))),
                ("bulk 1000/call", ">= 60 % of " + copy_how, lambda: run_bulk(port, seed, args),
                 lambda: run_baseline(url, seed, args.records, "rawbulk")),
                ("CSV import", ">= 60 %, <= 150 MB", lambda: run_csv(port, seed, path, url),
                 lambda: run_baseline(url, seed, args.csv_rows, "rawcsv"))):
            if channel.split()[0].lower() in args.skip.split(","):
                continue
            print(f"  {channel} ...", flush=True)
            load = os.getloadavg()[0]
            figure = run()
            figure["load"] = (load, os.getloadavg()[0])
            base = baseline()
            base["load"] = figure["load"]
            results.append((kind, channel, target, figure, base))
    finally:
        server.terminate()
        server.wait(30)
    return results


def print_table(results: list[tuple], args, load_at_start: float) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load_at_start:.2f} at the start, "
          f"{os.getloadavg()[0]:.2f} at the end; gunicorn: {args.workers} {args.worker_class} "
          f"workers; {args.clients} client connections\n")
    header = (f"{'db':<11}{'channel':<16}{'records':>10}{'seconds':>8}{'rec/s':>9}"
              f"{'baseline/s':>11}{'ratio':>7}{'load':>11}  {'target':<24}notes")
    print(header + "\n" + "-" * len(header))
    for kind, channel, target, r, base in results:
        ratio = f"{r['rate'] / base['rate']:.0%}" if base["rate"] else "-"
        load = f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"
        print(f"{kind:<11}{channel:<16}{r['records']:>10,}{r['seconds']:>8.2f}{r['rate']:>9,.0f}"
              f"{base['rate']:>11,.0f}{ratio:>7}{load:>11}  {target:<24}{r['note']}")
        print(f"{'':<27}baseline: {base['note']}")


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
