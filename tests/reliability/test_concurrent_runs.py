"""Billing runs in real processes: concurrent runs and a run killed mid-way never double-bill."""
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from support.factories import make_customer, make_voip_item, utc
from portal.extensions import db as _db
from portal.models import Invoice, InvoiceLine, UsageRecord
from portal.services.packages import LineDraft, create_package

ROOT = Path(__file__).resolve().parents[2]
# Package counts: the runs must overlap (two processes racing over the same due packages,
# a kill that lands mid-run), not be long; the size itself is not what these tests prove.
RACING = 60  # two runs started together both reach the first packages: they race over them
KILLED = 60  # 120 invoices: a kill after the 20th lands mid-run even on a fast machine
SHARDED = 20  # each worker's shard holds 10 due packages; the sharding, not the size, is tested
SUMMARY = re.compile(r"As of 2015-10-01 00:00:00: (?P<due>\d+) package\(s\) due, "
                     r"(?P<created>\d+) invoice\(s\) created, (?P<failures>\d+) failure\(s\)\.")


def _seed(db, count):
    customer, item = make_customer(), make_voip_item()
    for n in range(count):
        package = create_package(customer, [LineDraft(item=item)], start_at=utc(2015, 9, 1))
        db.session.add(UsageRecord(line_item_id=package.line_items[0].id, usage_value=Decimal(n),
                                   from_at=utc(2015, 9, 10), to_at=utc(2015, 9, 10)))
    db.session.commit()


def _run(app, now="2015-10-01 00:00:00"):
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "billing", "run", "--now", now],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _summary(output: str) -> tuple[int, int, int]:
    """(packages due, invoices created, failures) of the run's one summary line."""
    match = SUMMARY.fullmatch(output.strip())
    assert match, output
    return int(match["due"]), int(match["created"]), int(match["failures"])


def _assert_consistent(db, expected_invoices, packages=None):
    """No gap, no twin, no half invoice; with `packages` (all billed), the usage billed once."""
    db.session.expire_all()
    invoices = db.session.scalars(select(Invoice).order_by(Invoice.refnumber)).all()
    assert len(invoices) == expected_invoices
    assert [i.refnumber for i in invoices] == list(range(1, expected_invoices + 1))  # no gap, no twin
    pairs = db.session.execute(select(Invoice.package_id, Invoice.boundary_at)).all()
    assert len(set(pairs)) == len(pairs)
    line_sums = dict(db.session.execute(
        select(InvoiceLine.invoice_id, func.sum(InvoiceLine.amount_minor)).group_by(InvoiceLine.invoice_id)).all())
    for invoice in invoices:  # never half an invoice: every invoice has all its lines
        assert line_sums.get(invoice.id) == invoice.subtotal_minor, invoice.id
    if packages is not None:
        usage_total = db.session.scalar(
            select(func.sum(InvoiceLine.amount_minor)).where(InvoiceLine.kind == "usage"))
        assert int(usage_total) == sum(n * 5 for n in range(packages))  # n minutes × $0.05, once


@pytest.mark.slow
def test_two_runs_started_together_bill_each_invoice_once(app, db):
    _seed(db, RACING)
    runs = [_run(app), _run(app)]
    outputs = [r.communicate(timeout=300)[0] for r in runs]
    assert all(r.returncode == 0 for r in runs), outputs
    summaries = [_summary(o) for o in outputs]
    assert all(failures == 0 for _, _, failures in summaries), outputs
    assert sum(created for _, created, _ in summaries) == 2 * RACING, outputs  # no invoice twice
    _assert_consistent(db, 2 * RACING, RACING)


@pytest.mark.slow
def test_a_run_killed_mid_way_leaves_no_half_invoice_and_the_rerun_completes(app, db):
    _seed(db, KILLED)
    victim = _run(app)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        written = _db.session.scalar(select(func.count()).select_from(Invoice))
        _db.session.rollback()
        if written >= 20:
            break
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    partial = _db.session.scalar(select(func.count()).select_from(Invoice))
    assert 20 <= partial < 2 * KILLED, "the run was not interrupted mid-way"
    _assert_consistent(db, partial)
    rerun = _run(app)
    output = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, output
    _assert_consistent(db, 2 * KILLED, KILLED)


@pytest.mark.slow
def test_a_run_with_two_workers_bills_each_package_once(app, db):
    _seed(db, SHARDED)
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "billing", "run",
                          "--now", "2015-10-01 00:00:00", "--workers", "2"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _summary(run.stdout) == (SHARDED, 2 * SHARDED, 0)  # two invoices per package
    _assert_consistent(db, 2 * SHARDED, SHARDED)


@pytest.mark.slow
def test_two_runs_racing_over_chunks_bill_each_invoice_once(app, db):
    """Packages due at one boundary are billed in chunks (one transaction per chunk): two
    runs started together at each boundary still write every invoice once, gap-free."""
    _seed(db, RACING)
    for now in ("2015-09-01 00:00:00", "2015-10-01 00:00:00"):  # one boundary due each time
        runs = [_run(app, now), _run(app, now)]
        outputs = [r.communicate(timeout=300) for r in runs]
        assert all(r.returncode == 0 for r in runs), outputs
        assert all(" 0 failure(s)." in out for out, _ in outputs), outputs
    _assert_consistent(db, 2 * RACING, RACING)
