"""Builders shared by the invoicing tests: the ChargeOver VoIP line, a seats line, requests."""
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal as D

from portal.billing.invoicing import (
    BilledCharge, InvoiceRequest, LineSpec, QuantityChange, compute_invoice_lines,
)
from portal.billing.periods import period_at
from portal.billing.pricing import PriceModel, Tier

UTC = timezone.utc
ANCHOR = date(2015, 9, 1)
VOIP = PriceModel("uni", base=D(10), tiers=(Tier(D(0), None, D("0.05")),))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def month(k, tz=UTC):
    """Period k of the monthly package anchored on 2015-09-01 (0 = September)."""
    return period_at(ANCHOR, "mon", k, tz)


SEP, OCT, NOV = month(0), month(1), month(2)


def voip(**fields):
    spec = LineSpec(
        line_item_id=7, item_id=3, name="VoIP minutes", units="minute", units_plural="minutes",
        pricing=VOIP, is_metered=True, subscribe_at=utc(2015, 9, 1), cancel_at=None,
        trial_end=None, quantities=(QuantityChange(utc(2015, 9, 1), D(1)),),
    )
    return replace(spec, **fields)


def seats(**fields):
    pricing = PriceModel("fla", base=D(8))
    return voip(line_item_id=8, item_id=4, name="Seats", units="seat", units_plural="seats",
                pricing=pricing, is_metered=False, **fields)


def request(lines, advance=(), usage_periods=(), usage=None, billed=(), currency="USD", tz=UTC):
    return InvoiceRequest(currency, tz, tuple(lines), tuple(advance), tuple(usage_periods),
                          usage or {}, tuple(billed))


def september_usage(quantity):
    """The usage mapping of the VoIP line with ``quantity`` minutes in September."""
    return {(7, SEP.start): D(quantity)}


def as_billed(drafts):
    return tuple(
        BilledCharge(d.line_item_id, d.period.start, d.kind, d.amount, d.quantity) for d in drafts
    )


def run(req):
    """Compute an invoice and return (lines, the billed list including them)."""
    lines = compute_invoice_lines(req)
    return lines, req.billed + as_billed(lines)
