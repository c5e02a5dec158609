"""The billing run's transactions (docs/billing-rules.md §7).

The run goes through the due packages in chunks of CHUNK_SIZE: `services/billing_chunk`
bills the chunk's common case (a package due at one boundary) in one transaction, committed
here; the packages it leaves (catch-up, final and adjustment invoices, credit notes,
customers with credit, webhooks) then go through `services/billing`, one transaction per
invoice (lock, invoice, lines, e-mail delivery, the package's next date). Either way a crash
never leaves half an invoice: a chunk commits whole or not at all, and if it fails its
packages are billed one by one, so a failing package never loses or duplicates another's
invoice. The unique key (package_id, boundary_at) refuses a second invoice for the same
boundary, so concurrent runs, retries and crashes never double-bill.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Invoice, Package
from portal.services.billing import due_package_ids, invoice_next_boundary
from portal.services.billing_chunk import ChunkResult, bill_chunk
from portal.services.billing_context import RunContext
from portal.services.suspensions import sync_suspension_states

log = logging.getLogger("meterbill.billing")
# Boundaries billed for one package in one call; the rest waits for the next call or run.
MAX_BOUNDARIES_PER_CALL = 100
# Packages per chunk transaction: the chunk's statements are shared by its invoices, and its
# locks (the packages, their customers, briefly the refnumber counter) are held for well
# under a second. 1 bills every package on its own (the per-package path only).
CHUNK_SIZE = 200


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
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start:start + CHUNK_SIZE]
        summary.packages += len(chunk)
        done = _bill_chunk(chunk, now, ctx)
        summary.invoice_ids += done.invoice_ids
        for package_id in done.left:
            try:
                summary.invoice_ids += bill_due(package_id, now, ctx)
            except Exception:  # one broken package must not stop the others
                db.session.rollback()
                summary.failures += 1
                log.exception("Billing package %s failed", package_id)
    return summary


def _bill_chunk(chunk: list[int], now: datetime, ctx: RunContext) -> ChunkResult:
    """The chunk's common case in one committed transaction; what it leaves (everything,
    if the chunk fails) is for the per-package path."""
    if CHUNK_SIZE <= 1:
        return ChunkResult(left=chunk)
    try:
        done = bill_chunk(chunk, now, ctx)
        db.session.commit()
        return done
    except Exception:  # the packages are billed one by one: a broken one fails alone
        db.session.rollback()
        log.exception("Billing a chunk of %s packages failed; billing them one by one", len(chunk))
        return ChunkResult(left=chunk)


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
