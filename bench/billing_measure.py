"""The measurements of bench/billing.py: seeding, a measured billing run, baselines, PDFs, mail."""
from __future__ import annotations

import io
import multiprocessing
import os
import time
from datetime import datetime, timedelta, timezone

START = datetime(2015, 9, 1, tzinfo=timezone.utc)


def load() -> str:
    """The load average (1, 5, 15 minutes)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _app(url: str):
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "", "TESTING": False})


def seed(url: str, packages: int, rows: int, start: datetime = START, end: datetime | None = None) -> None:
    """Customers with a billing contact, one metered item ($10 base + $0.05/minute), monthly
    packages started 2015-09-01 (next invoice 2015-10-01), and `rows` usage rows per line."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from portal.extensions import db
    from portal.models import Contact, Customer, LineItem, Package, QuantityChange
    from support.factories import make_voip_item  # tests/ is on sys.path (bench/billing.py)

    app = _app(url)
    with app.app_context():
        upgrade()
        item = make_voip_item()
        db.session.commit()
        ids = range(1, packages + 1)
        db.session.execute(insert(Customer), [
            {"id": n, "company": f"Customer {n}", "currency": "USD", "custom_fields": {}} for n in ids])
        db.session.execute(insert(Contact), [
            {"id": n, "customer_id": n, "email": f"billing{n}@example.com", "first_name": "Pat",
             "is_billing_contact": True} for n in ids])
        db.session.execute(insert(Package), [
            {"id": n, "customer_id": n, "paycycle": "mon", "status": "active-current",
             "start_at": START, "next_invoice_at": START + timedelta(days=30)} for n in ids])
        db.session.execute(insert(LineItem), [
            {"id": n, "package_id": n, "item_id": item.id, "line_quantity": 1, "trial_days": 0,
             "subscribe_at": START} for n in ids])
        db.session.execute(insert(QuantityChange), [
            {"line_item_id": n, "effective_at": START, "quantity": 1} for n in ids])
        for table in ("customers", "contacts", "packages", "line_items"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {packages})"))
        db.session.commit()
    if rows:
        seed_usage(url, packages, rows, start, end or start + timedelta(days=30))


def seed_usage(url: str, packages: int, rows: int, start: datetime, end: datetime) -> None:
    """`rows` usage rows per line spread over [start, end), by COPY (the change-log trigger
    logs them as the API would), then a VACUUM ANALYZE."""
    import psycopg

    span = (end - start).total_seconds()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    naive = start.replace(tzinfo=None)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY usage_records (line_item_id, usage_value, from_at, to_at, source, created_at) "
                      "FROM STDIN") as copy:
            for line in range(1, packages + 1):
                buffer = io.StringIO()
                for k in range(rows):
                    when = naive + timedelta(seconds=int(k * span / rows))
                    buffer.write(f"{line}\t{(1 + k % 5) * 1_000_000}\t{when}\t{when}\tapi\t{when}\n")
                copy.write(buffer.getvalue())
    # What autovacuum does in the month between two runs (this machine's server runs with
    # autovacuum off): without it, month 12 would scan 11 months of the change log's dead
    # rows, a cost no production database with autovacuum on pays.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (a PostgreSQL backend)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def instrument(engine, stats: dict) -> dict:
    """Count statements, BEGINs and COMMITs on `engine` and note each backend's CPU at connect."""
    from sqlalchemy import event

    backends: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_args):
        stats["statements"] += 1

    @event.listens_for(engine, "commit")
    def _commit(*_args):
        stats["statements"] += 2  # BEGIN (sent before the first statement) and COMMIT

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        cursor.close()
        backends[pid] = _proc_cpu(pid)

    return backends


def _bill_shard(url: str, now: datetime, shard: tuple[int, int], profile: bool) -> dict:
    """One worker process: run the billing of its shard and measure it."""
    import portal.services.invoices as invoices
    from portal.extensions import db
    from portal.jobs.billing import run_billing

    app = _app(url)
    stats = {"statements": 0, "pricing_cpu": 0.0}
    pricing = invoices.compute_invoice_lines

    def timed_pricing(request):
        started = time.process_time()
        try:
            return pricing(request)
        finally:
            stats["pricing_cpu"] += time.process_time() - started

    invoices.compute_invoice_lines = timed_pricing
    with app.app_context():
        db.engine.dispose()
        backends = instrument(db.engine, stats)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
            profiler.enable()
        cpu = time.process_time()
        summary = run_billing(now, shard)
        stats["cpu"] = time.process_time() - cpu
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
            ours = "portal|sqlalchemy/orm/(session|persistence)"
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(ours, 70)
        stats["pg_cpu"] = sum(_proc_cpu(pid) - at for pid, at in backends.items())
        stats["invoices"], stats["failures"] = len(summary.invoice_ids), summary.failures
    return stats


def bill_month(url: str, now: datetime, workers: int, profile: bool = False) -> dict:
    """Bill as of `now` in `workers` processes; wall seconds and the summed figures."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.map(_noop, range(workers))  # start the interpreters before the clock
        started = time.perf_counter()
        results = pool.starmap(_bill_shard, [(url, now, (k, workers), profile) for k in range(workers)])
        seconds = time.perf_counter() - started
    total = {key: sum(r[key] for r in results) for key in results[0]}
    total.update(seconds=seconds, load=load())
    if total["failures"]:
        print(f"  {total['failures']} package(s) failed")
    return total


def _noop(_):
    return None


def raw_insert_baseline(url: str) -> dict:
    """The invoices and invoice lines of the run inserted again by plain Core executemany
    into scratch tables: the floor for writing the same rows."""
    from sqlalchemy import MetaData, Table, select, text

    from portal.extensions import db
    from portal.models import Invoice, InvoiceLine

    app = _app(url)
    with app.app_context():
        invoices = [dict(r._mapping) for r in db.session.execute(select(Invoice.__table__))]
        lines = [dict(r._mapping) for r in db.session.execute(select(InvoiceLine.__table__))]
        for name in ("invoices", "invoice_lines"):
            db.session.execute(text(f"DROP TABLE IF EXISTS bench_{name}"))
            db.session.execute(text(f"CREATE TABLE bench_{name} (LIKE {name} INCLUDING DEFAULTS)"))
        db.session.commit()
        meta = MetaData()
        copies = [Table(f"bench_{n}", meta, autoload_with=db.engine) for n in ("invoices", "invoice_lines")]
        stats = {"statements": 0}
        instrument(db.engine, stats)
        started, cpu = time.perf_counter(), time.process_time()
        for table, rows in zip(copies, (invoices, lines), strict=True):
            for k in range(0, len(rows), 1000):
                db.session.execute(table.insert(), rows[k:k + 1000])
        db.session.commit()
        return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                "statements": stats["statements"]}


def pdf_rates(url: str, count: int) -> dict:
    """PDFs per second: the process pool, and one process rendering them in turn."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.jobs.pdf_pool import PdfPool, render_invoice_pdfs
    from portal.models import Invoice

    app = _app(url)
    app.config["PDF_CACHE_DIR"] = ""  # cold: every PDF rendered
    with app.app_context(), app.test_request_context():
        ids = list(db.session.scalars(select(Invoice.id).order_by(Invoice.id).limit(count)))
        from portal.services.pdf import render_invoice_pdf

        render_invoice_pdf(db.session.get(Invoice, ids[0]))  # warm-up: fonts and templates
        started = time.perf_counter()
        for invoice_id in ids:
            render_invoice_pdf(db.session.get(Invoice, invoice_id))
        serial = len(ids) / (time.perf_counter() - started)
        with PdfPool() as pool:
            pool.warm()
            started = time.perf_counter()
            render_invoice_pdfs(pool, ids, cache=False)
            rate = len(ids) / (time.perf_counter() - started)
            processes = pool.processes
    return {"serial": serial, "pool": rate, "processes": processes, "load": load()}


def mail_all(url: str, limit: int | None) -> dict:
    """E-mail the run's invoices (with PDF) to aiosmtpd on loopback through the mail job."""
    from aiosmtpd.controller import Controller
    from sqlalchemy import select, update

    from portal.extensions import db
    from portal.jobs.mail import send_due_deliveries
    from portal.models import EmailDelivery
    from portal.services.settings import ensure_settings

    class Count:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Count.received += 1
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = _app(url)
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with app.app_context():
            if limit is not None:
                keep = select(EmailDelivery.id).order_by(EmailDelivery.id).offset(limit - 1).limit(1).scalar_subquery()
                db.session.execute(update(EmailDelivery).where(EmailDelivery.id > keep)
                                   .values(status="failed"))
            rate = ensure_settings().mail_rate_per_minute or app.config["MAIL_RATE_PER_MINUTE"]
            db.session.commit()
            pending = db.session.scalar(select(db.func.count()).where(EmailDelivery.status == "pending"))
            started, sent = time.perf_counter(), 0
            while sent < pending:
                counts = send_due_deliveries(limit=pending)
                sent += counts.get("sent", 0)
                if not counts:
                    break
            seconds = time.perf_counter() - started
    finally:
        controller.stop()
    return {"sent": sent, "received": Count.received, "seconds": seconds, "limit": rate,
            "per_minute": sent * 60 / max(seconds, 1e-9), "load": load()}


__all__ = ["bill_month", "load", "mail_all", "pdf_rates", "raw_insert_baseline", "seed",
           "seed_usage"]
