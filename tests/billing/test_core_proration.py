"""Proration of in-advance charges: mid-cycle starts, cancels, quantity changes, trials, zones."""
from dataclasses import replace
from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from invoice_builders import NOV, OCT, SEP, VOIP, month, request, run, seats, utc, voip
from portal.billing.invoicing import QuantityChange, compute_invoice_lines
from portal.billing.periods import Period
from portal.billing.pricing import PriceModel


def test_cancel_mid_period_credits_unused_days():
    _, billed = run(request([voip()], advance=[OCT]))
    cancel = utc(2015, 10, 16)
    last = Period(OCT.start, cancel, OCT.index)  # the final period ends at the cancel instant
    lines, _ = run(request([voip(cancel_at=cancel)], advance=[OCT], usage_periods=[last],
                           usage={(7, OCT.start): D(100)}, billed=billed))
    credit, usage = lines
    # 10 × 15/31 = 4.84 is owed of the 10.00 billed.
    assert (credit.kind, credit.amount, credit.is_adjustment) == ("base", D("-5.16"), True)
    assert credit.descrip == (
        "VoIP minutes: base fee credit for 2015-10-01 – 2015-10-31 (prorated: 15 of 31 days)")
    assert (usage.amount, usage.period.start) == (D("5.00"), OCT.start)
    assert usage.descrip == "VoIP minutes: 100 minutes, 2015-10-01 – 2015-10-15"


def test_a_cancel_during_the_day_pays_for_that_day():
    line = voip(cancel_at=utc(2015, 10, 16, 15))
    assert compute_invoice_lines(request([line], advance=[OCT]))[0].amount == D("5.16")  # 16/31


def test_mid_cycle_start_prorates_by_days():
    line = voip(subscribe_at=utc(2015, 9, 16, 9, 30))
    lines = compute_invoice_lines(request([line], advance=[SEP]))
    assert [(l.amount, l.quantity, l.rate) for l in lines] == [(D("5.00"), D(1), D(10))]
    assert lines[0].descrip == (
        "VoIP minutes: base fee, 2015-09-01 – 2015-09-30 (prorated: 15 of 30 days)")


def test_flat_base_times_quantity_with_a_change_mid_period():
    line = seats(quantities=(QuantityChange(utc(2015, 9, 1), D(5)),
                             QuantityChange(utc(2015, 10, 11, 10), D(8))))
    first, billed = run(request([seats(quantities=line.quantities[:1])], advance=[OCT]))
    assert [(l.amount, l.quantity) for l in first] == [(D("40.00"), D(5))]
    assert first[0].descrip == "Seats: base fee × 5 seats, 2015-10-01 – 2015-10-31"
    # Oct 1–10 at 5 seats, Oct 11–31 at 8 (the change day is charged at the new quantity):
    # 8 × (5×10 + 8×21) / 31 = 56.258... → 56.26.
    lines, _ = run(request([line], advance=[OCT, NOV], billed=billed))
    assert [(l.period, l.amount, l.quantity, l.is_adjustment) for l in lines] == [
        (OCT, D("16.26"), D(3), True),
        (NOV, D("64.00"), D(8), False),
    ]
    assert lines[0].descrip == (
        "Seats: base fee adjustment for 2015-10-01 – 2015-10-31 "
        "(prorated: 5 seats for 10 days, 8 seats for 21 days of 31 days)")


def test_two_changes_on_one_day_the_last_wins():
    line = seats(quantities=(QuantityChange(utc(2015, 9, 1), D(5)),
                             QuantityChange(utc(2015, 10, 11, 9), D(20)),
                             QuantityChange(utc(2015, 10, 11, 17), D(8))))
    assert compute_invoice_lines(request([line], advance=[OCT]))[0].amount == D("56.26")


def test_trial_defers_charges_and_minimum():
    line = voip(pricing=replace(VOIP, setup=D(25), minimum=D(3)), trial_end=utc(2015, 10, 10))
    september = compute_invoice_lines(request([line], advance=[SEP]))
    assert [(l.kind, l.amount, l.descrip) for l in september] == [
        ("base", D("0.00"),
         "VoIP minutes: base fee, 2015-09-01 – 2015-09-30 (not billed in this period)")]
    october = compute_invoice_lines(request([line], advance=[OCT], usage_periods=[SEP]))
    # Oct 10–31 = 22 of 31 days: 10 × 22/31 = 7.097 → 7.10; the trial month's usage is free.
    assert [(l.kind, l.amount) for l in october] == [
        ("setup", D("25.00")), ("base", D("7.10")), ("usage", D("0.00"))]


def test_trial_ending_mid_period_owes_the_minimum_prorated():
    """Issue 11 item 7: the minimum is prorated by billable days, like the base.

    Trial until Sep 10 00:00, so Sep 10..30 = 21 of 30 days are billable:
    3.00 × 21 / 30 = 2.10 (no usage, so the minimum applies).
    """
    line = voip(pricing=replace(VOIP, minimum=D(3)), trial_end=utc(2015, 9, 10))
    (usage,) = compute_invoice_lines(request([line], usage_periods=[SEP]))
    assert (usage.amount, usage.rate) == (D("2.10"), None)


def test_daily_proration_in_a_zone():
    tz = ZoneInfo("America/New_York")
    october = month(1, tz)
    line = voip(subscribe_at=datetime(2015, 10, 16, 23, 30, tzinfo=tz))  # 03:30 UTC on the 17th
    (base,) = compute_invoice_lines(request([line], advance=[october], tz=tz))
    assert base.amount == D("5.16")  # local days 16–31 = 16 of 31


def test_jpy_lines_have_no_decimals():
    line = voip(pricing=PriceModel("fla", base=D(1000)), is_metered=False,
                subscribe_at=utc(2015, 10, 17))
    (base,) = compute_invoice_lines(request([line], advance=[OCT], currency="JPY"))
    assert str(base.amount) == "484"  # 1000 × 15/31 = 483.87


def test_catch_up_over_a_trial_bills_setup_with_the_first_billable_period():
    line = voip(pricing=replace(VOIP, setup=D(25)), trial_end=utc(2015, 10, 1))
    lines = compute_invoice_lines(request([line], advance=[OCT, SEP]))
    assert [(l.kind, l.period, l.amount) for l in lines] == [
        ("base", SEP, D("0.00")), ("setup", OCT, D("25.00")), ("base", OCT, D("10.00"))]


def test_setup_of_a_line_cancelled_during_its_trial_is_never_owed():
    line = voip(pricing=replace(VOIP, setup=D(25)), trial_end=utc(2015, 10, 10),
                cancel_at=utc(2015, 9, 20))
    assert [l.kind for l in compute_invoice_lines(request([line], advance=[SEP, OCT]))] == ["base"]


def test_without_cancel_proration_the_period_of_the_cancel_is_billed_whole():
    # ChargeOver's upgrade option cancel_prorate false: no credit for the unused days.
    _, billed = run(request([voip()], advance=[OCT]))
    line = replace(voip(cancel_at=utc(2015, 10, 16)), prorate_end=False)
    assert compute_invoice_lines(request([line], advance=[OCT]))[0].amount == D("10.00")
    lines, _ = run(request([line], advance=[OCT], billed=billed))
    assert [l for l in lines if l.kind == "base"] == []  # nothing to credit


def test_without_subscribe_proration_a_mid_cycle_start_pays_the_whole_period():
    line = replace(voip(subscribe_at=utc(2015, 9, 16, 9, 30)), prorate_start=False)
    lines = compute_invoice_lines(request([line], advance=[SEP]))
    assert [(l.amount, l.quantity) for l in lines] == [(D("10.00"), D(1))]


def test_a_percent_discount_line_takes_its_percent_of_the_other_advance_charges():
    # ChargeOver's upgrade_w_discount: a flat line with percent 50 halves the other charges.
    discount = replace(seats(), line_item_id=9, name="Discount",
                       pricing=PriceModel("fla", percent=D(50)))
    lines = compute_invoice_lines(request([voip(), seats(), discount], advance=[OCT]))
    assert [(l.line_item_id, l.amount) for l in lines] == [(7, D("10.00")), (8, D("8.00")),
                                                           (9, D("-9.00"))]
    assert lines[2].descrip == "Discount: 50% discount, 2015-10-01 – 2015-10-31"
    # Added mid-period, the discount is prorated by its own days: 15 of 31.
    late = replace(discount, subscribe_at=utc(2015, 10, 17))
    lines = compute_invoice_lines(request([voip(), seats(), late], advance=[OCT]))
    assert lines[2].amount == D("-4.35")  # 18 × 50% × 15/31 = 4.354...
