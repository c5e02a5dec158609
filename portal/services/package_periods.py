"""Where a package's periods lie: its anchor, the hold before period 0, the period of an
instant (docs/billing-rules.md §5). The pure rules are in `portal.billing.periods`.

A ``holduntil`` hold anchors the periods at the first local midnight at or after it (no
invoice before the hold ends). The time from the start to period 0 is one usage period
(index -1): its usage is billed on the first invoice, nothing is charged in advance for it.
"""
from __future__ import annotations

from datetime import datetime

from portal.billing.periods import Period, anchor_date, boundary, hold_period, period_containing
from portal.models import Package
from portal.services import merchant_tz


def package_anchor(package: Package):
    """The local date the package's periods are counted from (holduntil, else start)."""
    return anchor_date(package.start_at, package.holduntil_at, merchant_tz())


def first_boundary(package: Package) -> datetime:
    """Where period 0 starts: the first invoice is due then (never before a hold ends)."""
    return boundary(package_anchor(package), package.paycycle, 0, merchant_tz())


def package_hold_period(package: Package, until: datetime | None = None) -> Period | None:
    """The usage period before period 0 (a holduntil hold), billed on the first invoice.

    :param package: the package.
    :param until: an earlier end (the final invoice of a package canceled during its hold).
    """
    return hold_period(package.start_at, first_boundary(package), until)


def package_usage_period(package: Package, instant: datetime) -> Period | None:
    """The period usage `from` `instant` is billed in: the hold before period 0, or the period
    containing it; None before the package's start (such usage is refused).

    :param package: the package.
    :param instant: a usage record's `from`.
    """
    if instant < package.start_at:
        return None
    if instant < first_boundary(package):
        return package_hold_period(package)
    return period_containing(package_anchor(package), package.paycycle, instant, merchant_tz())


def boundary_at_or_after(package: Package, instant: datetime) -> datetime:
    """The first period boundary of the package at or after `instant`.

    :param package: the package.
    :param instant: an aware instant.
    """
    first = first_boundary(package)
    if instant <= first:
        return first
    period = period_containing(package_anchor(package), package.paycycle, instant, merchant_tz())
    return period.start if period.start == instant else period.end
