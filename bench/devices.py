"""Device load check: 10 simulated devices ping their signed usage URLs concurrently.

Prints pings per second on SQLite and on PostgreSQL (the app under gunicorn on loopback),
next to the raw insert rate of as many rows measured in the same run (COPY on PostgreSQL,
executemany on SQLite), as the ingest benchmark does.

    .venv/bin/python bench/devices.py                     # both databases, 10 devices, 10 s
    .venv/bin/python bench/devices.py --devices 10 --duration 5 --db postgresql
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ingest  # noqa: E402  (the ingest benchmark's databases, server and baseline)


def issue_device_urls(url: str, devices: int) -> list[str]:
    """A metered line and a usage URL per device; returns the URL paths."""
    from portal import create_app
    from portal.extensions import db
    from portal.models import Item, Customer
    from portal.services.packages import LineDraft, create_package
    from portal.services.usage_urls import issue_url, token_of

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "bench.local"})
    with app.app_context():
        item, customer = db.session.query(Item).first(), db.session.query(Customer).first()
        package = create_package(customer, [LineDraft(item=item)] * devices,
                                 start_at=ingest.START.replace(tzinfo=ingest.timezone.utc))
        paths = [f"/u/{token_of(issue_url(line))}" for line in package.line_items]
        db.session.commit()
        db.engine.dispose()
    return paths


def _device(job: tuple) -> tuple[int, int]:
    """One device: ping its URL with fresh external keys until the deadline.

    :returns: (pings accepted with 201, other answers).
    """
    port, path, device, deadline = job
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    accepted = refused = n = 0
    while time.monotonic() < deadline:
        n += 1
        connection.request("GET", f"{path}?value=1.5&external_key=dev{device}-{n}")
        response = connection.getresponse()
        response.read()
        if response.status == 201:
            accepted += 1
        else:
            refused += 1
    connection.close()
    return accepted, refused


def bench(kind: str, args, workdir: Path) -> tuple:
    url = ingest.sqlite_url(workdir) if kind == "sqlite" else ingest.postgresql_url(args.pg_url)
    seed = ingest.migrate_and_seed(url)
    paths = issue_device_urls(url, args.devices)
    server, port = ingest.start_gunicorn(url, args, workdir / f"gunicorn-{kind}.log")
    try:
        ingest.wait_ready(port, seed["auth"], server)
        deadline = time.monotonic() + args.duration
        started = time.perf_counter()
        with multiprocessing.Pool(args.devices) as pool:
            counts = pool.map(_device, [(port, p, k, deadline) for k, p in enumerate(paths)])
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    pings, refused = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if refused:
        print(f"  {kind}: {refused} pings were not accepted (see the gunicorn log)")
    baseline = ingest.run_baseline(url, seed, max(pings, 1000))
    return kind, pings, seconds, pings / seconds, baseline["rate"], baseline["note"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    args.worker_class = "sync"
    # The benchmark measures throughput, not the per-URL limit (60 per minute by default).
    os.environ["USAGE_URL_RATE_LIMIT"] = "1000000 per minute"
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="meterbill-devices-") as tmp:
        rows = [bench(kind, args, Path(tmp)) for kind in kinds]
    print(f"\n{args.devices} devices, {args.duration:.0f} s, {args.workers} gunicorn workers, "
          f"{os.cpu_count()} CPUs, load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    print(f"{'db':<11}{'pings':>8}{'seconds':>9}{'pings/s':>9}{'raw rows/s':>12}  baseline")
    for kind, pings, seconds, rate, raw, note in rows:
        print(f"{kind:<11}{pings:>8}{seconds:>9.1f}{rate:>9.0f}{raw:>12,.0f}  {note}")


if __name__ == "__main__":
    main()
