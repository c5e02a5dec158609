"""Suspensions in the pure core: suspended days of in-advance charges are prorated out like
a cancel and a restart (a partly active day is charged); usage is billed all the same."""
from dataclasses import replace
from decimal import Decimal as D

from invoice_builders import OCT, request, seats, utc, voip
from portal.billing.invoicing import QuantityChange, compute_invoice_lines
from portal.billing.proration import paused_days, prorate


def _amounts(lines):
    return [(line.kind, line.amount) for line in lines]


def test_a_suspension_with_an_end_removes_the_days_wholly_inside_it():
    """Suspended 2015-10-10 15:00 – 2015-10-20 09:00: Oct 10 and Oct 20 are partly active,
    so charged; Oct 11 – Oct 19 (9 days) are not. Base 10 × 22/31 = 7.096… → 7.10."""
    line = voip(pauses=((utc(2015, 10, 10, 15), utc(2015, 10, 20, 9)),))
    lines = compute_invoice_lines(request([line], advance=[OCT]))
    assert _amounts(lines) == [("base", D("7.10"))]
    assert lines[0].descrip == (
        "VoIP minutes: base fee, 2015-10-01 – 2015-10-31 (prorated: 22 of 31 days)")


def test_an_open_suspension_stops_the_charges_from_its_first_whole_day():
    """5 seats × $8 flat, suspended from 2015-10-16 00:00 with no end: Oct 1 – 15 are
    charged, 40 × 15/31 = 19.354… → 19.35."""
    line = seats(quantities=(QuantityChange(utc(2015, 9, 1), D(5)),),
                 pauses=((utc(2015, 10, 16), None),))
    assert _amounts(compute_invoice_lines(request([line], advance=[OCT]))) == [("base", D("19.35"))]


def test_a_suspension_and_a_quantity_change_in_one_period():
    """Seats 5 → 8 on 2015-10-11 10:00, suspended 2015-10-05 00:00 – 2015-10-15 00:00:
    charged Oct 1 – 4 at 5 seats (4 days) and Oct 15 – 31 at 8 seats (17 days):
    8 × (5 × 4 + 8 × 17) / 31 = 1248/31 = 40.258… → 40.26."""
    line = seats(quantities=(QuantityChange(utc(2015, 9, 1), D(5)),
                             QuantityChange(utc(2015, 10, 11, 10), D(8))),
                 pauses=((utc(2015, 10, 5), utc(2015, 10, 15)),))
    proration = prorate(line, OCT, utc(2015, 1, 1).tzinfo)
    assert proration.segments == ((D(5), 4), (D(8), 17))
    assert _amounts(compute_invoice_lines(request([line], advance=[OCT]))) == [("base", D("40.26"))]


def test_usage_recorded_while_suspended_is_billed():
    """The whole of October suspended: its base is 0.00 (not billed in this period), its
    100 minutes of usage are billed, 100 × 0.05 = 5.00."""
    line = voip(pauses=((utc(2015, 9, 30, 12), None),))
    lines = compute_invoice_lines(request([line], advance=[OCT], usage_periods=[OCT],
                                          usage={(7, OCT.start): D(100)}))
    assert _amounts(lines) == [("base", D("0.00")), ("usage", D("5.00"))]
    assert lines[0].descrip.endswith("(not billed in this period)")


def test_a_suspension_within_one_day_removes_no_day():
    """Suspended 09:00 – 17:00 on Oct 10: no whole day is suspended, the base is 10.00."""
    line = voip(pauses=((utc(2015, 10, 10, 9), utc(2015, 10, 10, 17)),))
    assert paused_days(line.pauses, utc(2015, 1, 1).tzinfo) == []
    assert _amounts(compute_invoice_lines(request([line], advance=[OCT]))) == [("base", D("10.00"))]


def test_a_line_without_suspensions_is_unchanged():
    assert replace(voip(), pauses=()) == voip()
    assert _amounts(compute_invoice_lines(request([voip()], advance=[OCT]))) == [("base", D("10.00"))]
