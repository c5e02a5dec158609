"""The billing run's transactions: one per invoice (docs/billing-rules.md §7).

`portal.services.billing` finds the due packages and writes one invoice (lock, invoice,
lines, e-mail delivery, the package's next date) and only flushes; this module owns the
commits: each invoice commits on its own, so a crash never leaves half an invoice and a
failing package never loses or duplicates another's invoice. The unique key (package_id,
boundary_at) refuses a second invoice for the same boundary, so concurrent runs, retries
and crashes never double-bill.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Invoice, Package
from portal.services.billing import due_package_ids, invoice_next_boundary
from portal.services.billing_context import RunContext
from portal.services.suspensions import sync_suspension_states

log = logging.getLogger("meterbill.billing")
# Boundaries billed for one package in one call; the rest waits for the next call or run.
MAX_BOUNDARIES_PER_CALL = 100


@dataclass
class RunSummary:
    """What a run did."""

    packages: int = 0
    invoice_ids: list[int] = field(default_factory=list)
    failures: int = 0


def run_billing(now: datetime, shard: tuple[int, int] = (0, 1)) -> RunSummary:
    """Bill every package due as of `now`, catching up every missed boundary; commits.

    :param now: the run's instant (the scheduler passes the current time).
    :param shard: (k, n) to bill only the k-th of n shards (see `run_billing_parallel`).
    """
    summary = RunSummary()
    ctx = RunContext.load()
    sync_suspension_states(now)
    ids = due_package_ids(now, shard)
    # End the transaction before taking locks: whatever the caller left pending (and the
    # suspension states) is committed here rather than silently lost.
    db.session.commit()
    for package_id in ids:
        summary.packages += 1
        try:
            summary.invoice_ids += bill_due(package_id, now, ctx)
        except Exception:  # one broken package must not stop the others
            db.session.rollback()
            summary.failures += 1
            log.exception("Billing package %s failed", package_id)
    return summary


def bill_due(package_id: int, now: datetime, ctx: RunContext | None = None) -> list[int]:
    """The invoices of one package due as of `now`, each committed, at most
    MAX_BOUNDARIES_PER_CALL of them (a daily package restarted years back must not hold a
    request or a run for minutes; the next call or run carries on); returns their ids."""
    ctx = ctx or RunContext.load()
    invoice_ids = []
    for _ in range(MAX_BOUNDARIES_PER_CALL):
        still_due, invoice_id = bill_next_boundary(package_id, now, ctx)
        if invoice_id is not None:
            invoice_ids.append(invoice_id)
        if not still_due:
            break
    return invoice_ids


def bill_next_boundary(package_id: int, now: datetime, ctx: RunContext) -> tuple[bool, int | None]:
    """Write the package's next due invoice and advance it, in one transaction (committed).

    :returns: (whether another boundary is already due, the new invoice's id or None).
    """
    try:
        result = invoice_next_boundary(package_id, now, ctx)
        db.session.commit()
        return result
    except IntegrityError:
        # Another process wrote this boundary's invoice first: nothing to do here.
        db.session.rollback()
        log.info("Package %s: boundary already invoiced by another run", package_id)
        return False, None


def bill_package_now(package: Package, now: datetime) -> list[Invoice]:
    """The API/portal action "invoice now": bill what is due as of `now`, one committed
    transaction per invoice (the view's own commit afterwards has nothing left to write).

    Nothing is billed early: a package whose next boundary is in the future gets no
    invoice (its usage period has not ended).
    :param package: the package.
    :param now: the instant.
    """
    ids = bill_due(package.id, now, RunContext.load())
    return [db.session.get(Invoice, i) for i in ids]
