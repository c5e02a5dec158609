"""Suspensions: the intervals a package is suspended, and the status they give it.

A suspension [start, end) (end None: until unsuspended) pauses the in-advance charges of
its days (`base` and lines that are not metered are prorated out like a cancel and a
restart, see `portal.billing.proration`); usage recorded during it is still billed, and the
package still gets its invoices on its boundaries. Suspensions are kept forever, so the
reconciliation of a past period always sees them. The package's status follows them:
`suspended-suspended` while one is in force, set by the request when it starts or ends now,
and by the billing run (`sync_suspension_states`) when a scheduled start or end passes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, update

from portal.billing.errors import ValidationError
from portal.billing.vocabulary import ACTIVE_PACKAGE_STATUSES, PackageStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Package, Suspension
from portal.services.change_log import log_history_change
from portal.services.events import record_event
from portal.services import merchant_tz
from portal.services.packages import change_instant, require_open
from portal.timeutil import format_datetime

SUSPENDED = PackageStatus.SUSPENDED
RESUMED = PackageStatus.CURRENT
ACTIVE_STATUSES = ACTIVE_PACKAGE_STATUSES


def in_force(suspension: Suspension, now: datetime) -> bool:
    """Whether the suspension covers the instant `now`."""
    return suspension.start_at <= now and (suspension.end_at is None or now < suspension.end_at)


def pending_suspension(package: Package, now: datetime | None = None) -> Suspension | None:
    """The suspension in force at `now`, else the next one scheduled; None when neither.

    :param package: the package.
    :param now: the instant (default now).
    """
    now = now or utcnow()
    ordered = sorted(package.suspensions, key=lambda s: s.start_at)  # new ones are appended
    return next((s for s in ordered if s.end_at is None or s.end_at > now), None)


def suspension_spans(package: Package) -> tuple[tuple[datetime, datetime | None], ...]:
    """The package's suspensions as the billing core takes them (`LineSpec.pauses`)."""
    return tuple((s.start_at, s.end_at) for s in package.suspensions)


def suspension_instants(package: Package) -> list[datetime]:
    """Every instant a suspension starts or ends: a period containing one is prorated anew."""
    return [at for s in package.suspensions for at in (s.start_at, s.end_at) if at is not None]


def suspend_package(package: Package, start: datetime | None = None,
                    end: datetime | None = None) -> Suspension:
    """Suspend the package from `start` (default now) until `end` (default: until unsuspended).

    :param package: an open package with no suspension overlapping [start, end).
    :param start: the first suspended instant; not before the last invoiced boundary.
    :param end: when the suspension ends by itself (ChargeOver's suspendto_datetime).
    """
    require_open(package)
    begin = change_instant(package, start, "suspendfrom_datetime", package.start_at)
    if end is not None and end <= begin:
        raise ValidationError("suspendto_datetime", "must be after suspendfrom_datetime")
    clash = next((s for s in package.suspensions if _overlaps(s, begin, end)), None)
    if clash is not None:
        raise ValidationError("package_id", f"package {package.id} is already suspended "
                                            f"{_describe(clash)}")
    suspension = Suspension(start_at=begin, end_at=end)
    package.suspensions.append(suspension)
    refresh_status(package)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="suspend")
    return suspension


def unsuspend_package(package: Package, at: datetime | None = None) -> Package:
    """End the package's suspension at `at` (default now); one not yet begun is withdrawn.

    :param package: a package suspended, or with a suspension scheduled.
    :param at: when billing resumes (ChargeOver's suspendto_datetime on unsuspend).
    """
    now = utcnow()
    suspension = pending_suspension(package, now)
    if suspension is None or package.status.startswith(("canceled", "expired")):
        raise ValidationError("package_id", f"package {package.id} is not suspended")
    end = now if at is None else change_instant(package, at, "suspendto_datetime", package.start_at)
    # The instants that leave the history send the next invoice back to their periods.
    if end <= suspension.start_at:
        log_history_change(package, suspension.start_at, suspension.end_at)
        package.suspensions.remove(suspension)  # never began: nothing of it is kept
    else:
        log_history_change(package, suspension.end_at)
        suspension.end_at = end
    refresh_status(package, now)
    db.session.flush()
    record_event(db.session, context="package", context_id=package.id, event="unsuspend")
    return package


def refresh_status(package: Package, now: datetime | None = None) -> None:
    """Set the status of an open package from its suspensions at `now` (default now)."""
    if package.status.startswith(("canceled", "expired")):
        return
    now = now or utcnow()
    if any(in_force(s, now) for s in package.suspensions):
        package.status = SUSPENDED
    elif package.status == SUSPENDED:
        package.status = RESUMED


def sync_suspension_states(now: datetime) -> None:
    """The billing run's step: packages whose suspension began or ended by `now` get their
    status (two UPDATEs, idempotent, safe in concurrent runs); flushes nothing else.

    :param now: the run's instant.
    """
    covering = exists().where(
        Suspension.package_id == Package.id, Suspension.start_at <= now,
        or_(Suspension.end_at.is_(None), Suspension.end_at > now))
    db.session.execute(update(Package).where(and_(Package.status.in_(ACTIVE_STATUSES), covering))
                       .values(status=SUSPENDED).execution_options(synchronize_session=False))
    db.session.execute(update(Package).where(and_(Package.status == SUSPENDED, ~covering))
                       .values(status=RESUMED).execution_options(synchronize_session=False))


def _overlaps(suspension: Suspension, start: datetime, end: datetime | None) -> bool:
    ends_after_start = suspension.end_at is None or suspension.end_at > start
    starts_before_end = end is None or suspension.start_at < end
    return ends_after_start and starts_before_end


def _describe(suspension: Suspension) -> str:
    tz = merchant_tz()
    until = (f" until {format_datetime(suspension.end_at, tz)}" if suspension.end_at
             else " until unsuspended")
    return f"from {format_datetime(suspension.start_at, tz)}{until}"
