"""Invoicing by reconciliation: the ChargeOver example, late usage, voids, setup, totals."""
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from invoice_builders import (
    ANCHOR, NOV, OCT, SEP, UTC, VOIP, month, request, run, seats, september_usage, utc, voip,
)
from portal.billing.errors import ValidationError
from portal.billing.invoicing import (
    BilledCharge, DraftLine, QuantityChange, compute_invoice_lines, due_date, invoice_totals,
)
from portal.billing.pricing import PriceModel, Tier, TierCharge


def test_chargeover_example():
    september, billed = run(request([voip()], advance=[SEP]))
    assert [(l.kind, l.amount) for l in september] == [("base", D("10.00"))]
    october, _ = run(request([voip()], advance=[OCT], usage_periods=[SEP],
                             usage=september_usage(361), billed=billed))
    assert october == [
        DraftLine(7, 3, "base", OCT, D(1), D(10), D("10.00"),
                  "VoIP minutes: base fee, 2015-10-01 – 2015-10-31", False),
        DraftLine(7, 3, "usage", SEP, D(361), D("0.05"), D("18.05"),
                  "VoIP minutes: 361 minutes, 2015-09-01 – 2015-09-30", False),
    ]
    totals = invoice_totals(october, D(0), "USD")
    assert (totals.sum_base, totals.sum_usage, totals.subtotal, totals.total) == (
        D("10.00"), D("18.05"), D("28.05"), D("28.05"))


def test_rerun_bills_nothing_twice():
    req = request([voip()], advance=[OCT], usage_periods=[SEP], usage=september_usage(361))
    first, billed = run(req)
    assert len(first) == 2
    assert compute_invoice_lines(replace(req, billed=billed)) == []


def test_late_usage_adjustment_names_its_period():
    _, billed = run(request([voip()], advance=[OCT], usage_periods=[SEP],
                            usage=september_usage(361)))
    usage = {(7, SEP.start): D(400), (7, OCT.start): D(20)}
    lines, _ = run(request([voip()], advance=[NOV], usage_periods=[SEP, OCT], usage=usage,
                           billed=billed))
    assert [(l.kind, l.period, l.amount, l.is_adjustment) for l in lines] == [
        ("base", NOV, D("10.00"), False),
        ("usage", SEP, D("1.95"), True),
        ("usage", OCT, D("1.00"), False),
    ]
    adjustment = lines[1]
    assert adjustment.descrip == "VoIP minutes: late usage adjustment for 2015-09-01 – 2015-09-30"
    assert adjustment.quantity == D(39)


def test_zero_usage_is_shown_once():
    lines, billed = run(request([voip()], usage_periods=[SEP]))
    assert [(l.amount, l.descrip) for l in lines] == [
        (D("0.00"), "VoIP minutes: 0 minutes, 2015-09-01 – 2015-09-30")]
    assert compute_invoice_lines(request([voip()], usage_periods=[SEP], billed=billed)) == []


def test_one_unit_is_singular():
    lines = compute_invoice_lines(request([voip()], usage_periods=[SEP], usage=september_usage(1)))
    assert lines[0].descrip == "VoIP minutes: 1 minute, 2015-09-01 – 2015-09-30"


def test_void_releases_charges_which_are_billed_again():
    req = request([voip(pricing=replace(VOIP, setup=D(25)))], advance=[SEP])
    first, billed = run(req)
    assert [(l.kind, l.amount) for l in first] == [("setup", D("25.00")), ("base", D("10.00"))]
    # The invoice is voided: its charges leave the billed list, so the next run bills them again.
    again = compute_invoice_lines(replace(req, billed=()))
    assert again == first
    assert not any(l.is_adjustment for l in again)


def test_setup_is_billed_once_whatever_the_period():
    line = voip(pricing=replace(VOIP, setup=D(25)))
    first, billed = run(request([line], advance=[SEP]))
    assert first[0].descrip == "VoIP minutes: setup fee"
    assert (first[0].quantity, first[0].rate) == (D(1), D(25))
    later, _ = run(request([line], advance=[OCT, NOV], billed=billed))
    assert [l.kind for l in later] == ["base", "base"]


def test_setup_waits_for_a_line_subscribed_later():
    line = voip(pricing=replace(VOIP, setup=D(25)), subscribe_at=utc(2015, 11, 20))
    assert compute_invoice_lines(request([line], advance=[OCT])) == []
    lines = compute_invoice_lines(request([line], advance=[NOV]))
    assert [(l.kind, l.amount) for l in lines] == [("setup", D("25.00")), ("base", D("3.67"))]


def test_periods_after_cancel_target_zero():
    cancelled = voip(cancel_at=utc(2015, 10, 1))
    assert compute_invoice_lines(request([cancelled], advance=[NOV], usage_periods=[NOV])) == []
    billed = (BilledCharge(7, NOV.start, "base", D("10.00"), D(1)),)
    lines = compute_invoice_lines(request([cancelled], advance=[NOV], billed=billed))
    assert [(l.amount, l.is_adjustment) for l in lines] == [(D("-10.00"), True)]


def test_usage_period_before_subscription_is_not_shown():
    line = voip(subscribe_at=utc(2015, 10, 5))
    assert compute_invoice_lines(request([line], usage_periods=[SEP])) == []


def test_non_metered_quantity_charge_in_advance():
    users = voip(line_item_id=9, name="Users", units="user", units_plural="users", is_metered=False,
                 pricing=PriceModel("uni", tiers=(Tier(D(0), None, D(4)),)),
                 quantities=(QuantityChange(utc(2015, 9, 1), D(10)),))
    lines = compute_invoice_lines(request([users], advance=[OCT], usage_periods=[SEP]))
    assert [(l.kind, l.quantity, l.rate, l.amount, l.descrip) for l in lines] == [
        ("quantity", D(10), D(4), D("40.00"), "Users: 10 users, 2015-10-01 – 2015-10-31")]


def test_non_metered_tiered_quantity_shows_its_tiers():
    tiers = (Tier(D(0), D(100), D("0.10")), Tier(D(101), D(1000), D("0.08")),
             Tier(D(1001), None, D("0.05")))
    line = voip(is_metered=False, pricing=PriceModel("tie", tiers=tiers),
                quantities=(QuantityChange(utc(2015, 9, 1), D(1500)),))
    (charge,) = compute_invoice_lines(request([line], advance=[OCT]))
    assert (charge.kind, charge.amount, charge.rate) == ("quantity", D("107.00"), None)
    assert charge.tiers[1] == TierCharge(1, D(900), D("72.00"), D(0), D("0.08"))


def test_minimum_with_zero_usage():
    line = voip(pricing=replace(VOIP, minimum=D(10)))
    (usage,) = compute_invoice_lines(request([line], usage_periods=[SEP]))
    assert (usage.amount, usage.quantity, usage.rate) == (D("10.00"), D(0), None)
    assert usage.descrip == "VoIP minutes: 0 minutes, 2015-09-01 – 2015-09-30 (minimum charge)"


def test_tiered_usage_has_no_single_rate_but_a_breakdown():
    tiers = (Tier(D(0), D(100), D("0.10")), Tier(D(101), None, D("0.05")))
    line = voip(pricing=PriceModel("tie", tiers=tiers))
    req = request([line], usage_periods=[SEP], usage=september_usage(150))
    (usage,) = compute_invoice_lines(req)
    assert (usage.amount, usage.rate, len(usage.tiers)) == (D("12.50"), None, 2)


def test_each_line_is_rounded_half_up():
    line = voip(pricing=replace(VOIP, base=D(0), tiers=(Tier(D(0), None, D("0.0125")),)))
    (usage,) = compute_invoice_lines(request([line], usage_periods=[SEP], usage=september_usage(1)))
    assert usage.amount == D("0.01")  # 0.0125 → 0.01
    (usage,) = compute_invoice_lines(request([line], usage_periods=[SEP], usage=september_usage(2)))
    assert usage.amount == D("0.03")  # 0.025 → 0.03, half up


def test_line_order_advance_then_usage():
    lines = [voip(pricing=replace(VOIP, setup=D(5))), seats()]
    drafts = compute_invoice_lines(request(lines, advance=[OCT], usage_periods=[SEP]))
    assert [(d.line_item_id, d.kind) for d in drafts] == [
        (7, "setup"), (7, "base"), (8, "base"), (7, "usage")]


def test_unknown_currency():
    with pytest.raises(ValidationError):
        compute_invoice_lines(request([voip()], advance=[OCT], currency="ZZZ"))


def draft(kind, amount):
    return DraftLine(7, 3, kind, SEP, D(1), None, D(amount), "", False)


def test_taxes_are_rounded_once_on_the_subtotal():
    lines = [draft("base", "0.33"), draft("base", "0.33"), draft("usage", "0.34")]
    totals = invoice_totals(lines, D("0.0825"), "USD")
    # Per line: 0.03 + 0.03 + 0.03 = 0.09; once on 1.00: 0.0825 → 0.08.
    assert (totals.sum_base, totals.sum_usage, totals.subtotal, totals.taxes, totals.total) == (
        D("0.66"), D("0.34"), D("1.00"), D("0.08"), D("1.08"))


def test_totals_of_an_empty_and_a_credit_invoice():
    assert invoice_totals([], D("0.2"), "USD").total == D("0.00")
    credit = invoice_totals([draft("base", "-5.16"), draft("usage", "5.00")], D("0.0825"), "USD")
    assert (credit.subtotal, credit.taxes, credit.total) == (D("-0.16"), D("-0.01"), D("-0.17"))
    with pytest.raises(ValidationError):
        invoice_totals([], D("-0.1"), "USD")


def test_due_date():
    assert due_date(date(2015, 10, 1), 30) == date(2015, 10, 31)
    assert due_date(date(2015, 10, 1), 0) == date(2015, 10, 1)
    with pytest.raises(ValidationError):
        due_date(date(2015, 10, 1), -1)


def test_metered_line_on_a_yearly_cycle_is_billed_after_its_year():
    """Issue 11 item 1 for usage: a metered line on its own yearly cycle (anchor 2015-09-01)
    on a monthly package. Its own period is 2015-09-01 – 2016-08-31; 1000 minutes in it.

    - 2016-08-01 invoice (usage of July 2016): the year has not ended → no usage line.
    - 2016-09-01 invoice (usage of August 2016): the year ended at 2016-09-01 → one line for
      the whole year: 1000 × 0.05 = 50.00, keyed by the own period's start 2015-09-01.
    """
    from portal.billing.periods import period_at as nth

    yearly = voip(pricing=replace(VOIP, base=D(0), paycycle="yrl"), cycle=(ANCHOR, "yrl"))
    year = nth(ANCHOR, "yrl", 0, UTC)
    usage = {(7, year.start): D(1000)}
    july, august = month(10), month(11)
    assert compute_invoice_lines(request([yearly], usage_periods=[july], usage=usage)) == []
    (line,) = compute_invoice_lines(request([yearly], usage_periods=[august], usage=usage))
    assert (line.kind, line.period, line.amount) == ("usage", year, D("50.00"))
    assert "2015-09-01 – 2016-08-31" in line.descrip


def test_reconciled_starts_name_every_period_a_line_is_priced_for():
    """Issue 13: billing reads billed charges of `reconciled_starts` only, so these must be
    every key's period: the package periods, and a line's own yearly period (whose start,
    2015-09-01, is none of the package periods of the 2016-09-01 invoice)."""
    from portal.billing.cycles import reconciled_starts
    from portal.billing.periods import period_at as nth

    yearly = voip(line_item_id=9, pricing=replace(VOIP, base=D(0), paycycle="yrl"), cycle=(ANCHOR, "yrl"))
    july, august, september = month(10), month(11), month(12)
    starts = reconciled_starts([voip(), seats(), yearly], [september], [august, july], september.start, UTC)
    assert starts == {september.start, august.start, july.start, nth(ANCHOR, "yrl", 0, UTC).start,
                      nth(ANCHOR, "yrl", 1, UTC).start}
    # Before the year ends, the yearly line's usage period is not reconciled yet.
    assert reconciled_starts([yearly], [], [july], august.start, UTC) == set()
