"""The text of invoice lines, e.g. "VoIP minutes: 361 minutes, 2015-09-01 – 2015-09-30".

Periods are shown as local dates with an inclusive end (the local date before the exclusive
end boundary), the way customers read a billing period.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal.billing.charges import LineSpec
from portal.billing.money import format_decimal
from portal.billing.periods import Period, local_ceil_date, local_floor_date
from portal.billing.proration import Proration

# What an adjustment of each kind is called; a negative one is a credit.
_ADJUSTMENT_NAMES = {
    "setup": ("setup fee adjustment", "setup fee credit"),
    "base": ("base fee adjustment", "base fee credit"),
    "quantity": ("quantity adjustment", "quantity credit"),
    "usage": ("late usage adjustment", "late usage adjustment"),
}


def period_label(period: Period, tz: ZoneInfo) -> str:
    """``"2015-09-01 – 2015-09-30"``: first and last local day of the period.

    :param period: the period; a period ending mid-day (a cancel) ends on that day.
    :param tz: the merchant time zone.
    """
    first = local_floor_date(period.start, tz)
    last = max(first, local_ceil_date(period.end, tz) - timedelta(days=1))
    return f"{first.isoformat()} – {last.isoformat()}"


def quantity_text(line: LineSpec, quantity: Decimal) -> str:
    """``"361 minutes"``, ``"1 minute"``; just the number when the item has no units.

    :param line: the line (its units and units_plural).
    :param quantity: the quantity.
    """
    word = line.units if quantity == 1 else (line.units_plural or line.units)
    return f"{format_decimal(quantity)} {word or ''}".strip()


def proration_note(line: LineSpec, proration: Proration) -> str:
    """``" (prorated: 15 of 30 days)"`` for a partial period, ``""`` for a full one.

    :param line: the line (for the units of a quantity split).
    :param proration: the line's proration in the period.
    """
    if proration.is_full:
        return ""
    if not proration.segments:
        return " (not billed in this period)"
    if len(proration.segments) == 1:
        return f" (prorated: {proration.active_days} of {proration.period_days} days)"
    parts = ", ".join(
        f"{quantity_text(line, q)} for {days} days" for q, days in proration.segments
    )
    return f" (prorated: {parts} of {proration.period_days} days)"


def setup_text(line: LineSpec) -> str:
    """``"VoIP minutes: setup fee"``.

    :param line: the line.
    """
    return f"{line.name}: setup fee"


def base_text(line: LineSpec, quantity: Decimal, label: str, note: str) -> str:
    """``"VoIP minutes: base fee, 2015-10-01 – 2015-10-31"`` (``× 5 seats`` when quantity ≠ 1).

    :param line: the line.
    :param quantity: the line quantity a flat fee is multiplied by (1 otherwise).
    :param label: the period label.
    :param note: a proration note or "".
    """
    times = "" if quantity == 1 else f" × {quantity_text(line, quantity)}"
    return f"{line.name}: base fee{times}, {label}{note}"


def quantity_line_text(line: LineSpec, quantity: Decimal, label: str, note: str) -> str:
    """``"Seats: 5 seats, 2015-10-01 – 2015-10-31"`` (also used for usage lines).

    :param line: the line.
    :param quantity: the quantity priced.
    :param label: the period label.
    :param note: a proration or minimum note, or "".
    """
    return f"{line.name}: {quantity_text(line, quantity)}, {label}{note}"


def adjustment_text(line: LineSpec, kind: str, amount: Decimal, label: str, note: str) -> str:
    """``"VoIP minutes: late usage adjustment for 2015-09-01 – 2015-09-30"``.

    :param line: the line.
    :param kind: the charge kind adjusted.
    :param amount: the adjustment (negative: a credit).
    :param label: the period label (not shown for a setup fee, which has no period).
    :param note: the current proration note, explaining the new amount.
    """
    name = _ADJUSTMENT_NAMES[kind][1 if amount < 0 else 0]
    if kind == "setup":
        return f"{line.name}: {name}"
    return f"{line.name}: {name} for {label}{note}"
