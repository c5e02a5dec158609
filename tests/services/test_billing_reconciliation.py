"""Issue 11 items 1, 2, 3, 6, 7 on stored invoices, each computed by hand in its docstring.

The package is ChargeOver's example (monthly from 2015-09-01, VoIP: base 10.00 per cycle,
0.05 per minute) unless a test says otherwise; periods are calendar months in UTC.
"""
from decimal import Decimal

from support.factories import make_package, make_voip_item, utc
from portal.billing.pricing import PriceModel
from portal.models import BillingChange, Invoice, Package
from portal.jobs.billing import run_billing
from portal.services.billing_inputs import billed_rows
from portal.services.catalog import unit_price, update_item
from sqlalchemy import select
from portal.services.invoices import void_invoice
from portal.services.packages import (
    LineDraft, cancel_line, cancel_package, change_line_quantity, subscribe_line,
)
from portal.services.usage import record_usage


def _usage(line, value, when):
    record_usage({"line_item_id": line.id, "usage_value": value, "from": when})


def _invoices(db, summary):
    return [db.session.get(Invoice, i) for i in summary.invoice_ids]


def _rows(invoice):
    """(kind, adjustment, period start date, amount in cents) per line."""
    return [(l.kind, l.is_adjustment, l.period_start.date().isoformat(), l.amount_minor)
            for l in invoice.lines]


def _seats_item(base="8.00", **pricing):
    return make_voip_item(name="Seats", is_metered=False, units="seat", units_plural="seats",
                          pricing=PriceModel(pricemodel="fla", base=Decimal(base), **pricing))


def test_yearly_item_on_a_monthly_package_is_billed_once_a_year(db):
    """Item 1: a support plan priced 120.00 a year (paycycle yrl) on the monthly package.

    Its own periods count from the package's anchor: 2015-09-01 – 2016-08-31, then from
    2016-09-01. Advance charge once per own period, on the package invoice at its boundary:
    - 2015-09-01 invoice: VoIP base 10.00 + support 120.00 (period 2015-09-01 – 2016-08-31);
    - 2015-10-01 … 2016-08-01 invoices: VoIP base 10.00 (+ 0.00 usage) only;
    - 2016-09-01 invoice: VoIP base 10.00 + support 120.00 (2016-09-01 – 2017-08-31).
    Total support billed over 13 invoices: 240.00, not 13 × 120.00 = 1560.00.
    """
    support = _seats_item(base="120.00", paycycle="yrl")
    support.name = "Support plan"
    package = make_package()
    subscribe_line(package, LineDraft(item=support), at=utc(2015, 9, 1))
    db.session.commit()
    invoices = _invoices(db, run_billing(utc(2016, 9, 1)))
    assert len(invoices) == 13
    support_id = package.line_items[1].id
    charges = [(i.date.isoformat(), l.amount_minor, l.period_start.date().isoformat(),
                l.period_end.date().isoformat())
               for i in invoices for l in i.lines if l.line_item_id == support_id]
    assert charges == [("2015-09-01", 12000, "2015-09-01", "2016-09-01"),
                       ("2016-09-01", 12000, "2016-09-01", "2017-09-01")]
    first_support = next(l for l in invoices[0].lines if l.line_item_id == support_id)
    assert "2015-09-01 – 2016-08-31" in first_support.descrip
    assert [i.total_minor for i in invoices] == [13000] + [1000] * 11 + [13000]


def test_changes_exactly_at_the_billed_boundary_are_reconciled(db):
    """Item 2: after the 2015-10-01 invoice billed October in advance, three changes take
    effect exactly at 2015-10-01 00:00 (the start of the period just billed):

    - line A (seats, 8.00/seat, 1 seat) goes to 3 seats: October owes 3 × 8.00 = 24.00,
      8.00 billed → adjustment +16.00 for October;
    - line B (seats, 8.00) is cancelled at 2015-10-01: 0 days in October → target 0.00,
      8.00 billed → adjustment −8.00 for October;
    - line C (seats, 8.00) is added from 2015-10-01: 31 of 31 days → 8.00, never billed →
      8.00 for October.
    The 2015-11-01 invoice: November A 24.00 + C 8.00 (B cancelled: nothing), plus the
    three October lines: 24 + 8 + 16 − 8 + 8 = 48.00.
    """
    seats = _seats_item()
    package = make_package(item=seats)
    subscribe_line(package, LineDraft(item=seats), at=utc(2015, 9, 1))
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    line_a, line_b = package.line_items
    boundary = utc(2015, 10, 1)
    change_line_quantity(line_a, Decimal(3), at=boundary)
    cancel_line(line_b, at=boundary)
    subscribe_line(package, LineDraft(item=seats), at=boundary)
    db.session.commit()
    (november,) = _invoices(db, run_billing(utc(2015, 11, 1)))
    assert sorted(_rows(november)) == sorted([
        ("base", True, "2015-10-01", 1600), ("base", True, "2015-10-01", -800),
        ("base", False, "2015-10-01", 800),
        ("base", False, "2015-11-01", 2400), ("base", False, "2015-11-01", 800)])
    assert november.total_minor == 4800
    assert all("2015-10-01" in l.descrip for l in november.lines if l.is_adjustment)


def test_late_usage_and_voids_after_the_final_invoice_are_billed(db):
    """Item 3: the package is cancelled at 2015-10-16 00:00 with 200 minutes on Oct 5.

    Final invoice (2015-10-16): October base kept for Oct 1–15 = 15 of 31 days:
    10.00 × 15/31 = 4.8387 → 4.84, 10.00 billed → −5.16; October usage 200 × 0.05 = 10.00.
    Total 4.84.
    Then 100 minutes dated Oct 10 arrive: the next run writes an adjustment invoice of
    100 × 0.05 = +5.00 for October. Voiding the final invoice releases its −5.16 and 10.00:
    the next run's adjustment invoice bills them again (−5.16 + 10.00 = 4.84).
    """
    package = make_package()
    line = package.line_items[0]
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    _usage(line, "200", "2015-10-05 00:00:00")
    cancel_package(package, at=utc(2015, 10, 16))
    db.session.commit()
    (final,) = _invoices(db, run_billing(utc(2015, 10, 16)))
    assert (final.kind, final.total_minor) == ("final", 484)
    assert run_billing(utc(2015, 10, 17)).invoice_ids == []

    _usage(line, "100", "2015-10-10 00:00:00")
    db.session.commit()
    (late,) = _invoices(db, run_billing(utc(2015, 10, 20)))
    assert late.kind == "adjustment" and str(late.date) == "2015-10-20"
    assert _rows(late) == [("usage", True, "2015-10-01", 500)]
    assert "2015-10-01" in late.lines[0].descrip

    void_invoice(final)
    db.session.commit()
    (rebilled,) = _invoices(db, run_billing(utc(2015, 10, 21)))
    assert rebilled.kind == "adjustment" and rebilled.total_minor == 484
    assert sorted(_rows(rebilled)) == [("base", True, "2015-10-01", -516),
                                       ("usage", True, "2015-10-01", 1000)]
    assert run_billing(utc(2016, 1, 1)).invoice_ids == []
    assert db.session.query(BillingChange).count() == 0
    assert db.session.get(Package, package.id).next_invoice_at is None


def test_a_billed_period_keeps_its_price_model(db):
    """Item 6: September and October are first billed at 0.05/minute, base 10.00.

    2015-10-01 invoice: September usage 100 × 0.05 = 5.00 (and October's base 10.00).
    The price then becomes 0.10/minute, base 20.00; 20 late minutes for September and
    10 minutes for October arrive. 2015-11-01 invoice:
    - September adjustment at September's model: 120 × 0.05 − 5.00 = +1.00 (not 7.00);
    - October usage at October's model (October was first billed on 2015-10-01, base in
      advance): 10 × 0.05 = 0.50;
    - November base at the new model: 20.00 (November was never billed before).
    """
    package = make_package()
    line = package.line_items[0]
    db.session.commit()
    _usage(line, "100", "2015-09-10 00:00:00")
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    update_item(line.item, pricing=PriceModel(pricemodel="uni", base=Decimal("20.00"),
                                              tiers=unit_price("0.10")))
    _usage(line, "20", "2015-09-20 00:00:00")
    _usage(line, "10", "2015-10-20 00:00:00")
    db.session.commit()
    (november,) = _invoices(db, run_billing(utc(2015, 11, 1)))
    assert sorted(_rows(november)) == [("base", False, "2015-11-01", 2000),
                                       ("usage", False, "2015-10-01", 50),
                                       ("usage", True, "2015-09-01", 100)]
    (december,) = _invoices(db, run_billing(utc(2015, 12, 1)))
    assert _rows(december) == [("base", False, "2015-12-01", 2000),
                               ("usage", False, "2015-11-01", 0)]


def test_minimum_is_prorated_for_a_partial_period(db):
    """Item 7: a metered line with a 3.00 minimum, added on 2015-09-16, no usage.

    September: the line exists Sep 16–30 = 15 of 30 days: 3.00 × 15/30 = 1.50 (its base
    10.00 × 15/30 = 5.00 likewise). October, a full month: the minimum 3.00.
    """
    metered = make_voip_item(name="Data", pricing=PriceModel(
        pricemodel="uni", minimum=Decimal("3.00"), tiers=unit_price("0.05")))
    package = make_package()
    db.session.commit()
    run_billing(utc(2015, 9, 1))
    subscribe_line(package, LineDraft(item=metered), at=utc(2015, 9, 16))
    db.session.commit()
    data_id = package.line_items[1].id
    (october,) = _invoices(db, run_billing(utc(2015, 10, 1)))
    (november,) = _invoices(db, run_billing(utc(2015, 11, 1)))
    assert [l.amount_minor for l in october.lines if l.line_item_id == data_id] == [150]
    assert [l.amount_minor for l in november.lines if l.line_item_id == data_id] == [300]
    assert "minimum" in next(l.descrip for l in october.lines if l.line_item_id == data_id)


def test_late_usage_months_later_reads_only_the_periods_it_reconciles(db):
    """Issue 13, cost flat in history: an invoice reads the billed charges of the periods it
    reconciles only (`billed_rows` with `reconciled_starts`), never the line's whole history.

    Monthly from 2015-09-01 with 100 minutes in September (5.00); five invoices to 2016-01-01.
    Then 20 minutes dated 2015-09-15 arrive late: the 2016-02-01 invoice bills base 10.00 for
    February, 0.00 for January's usage and the September difference 20 × 0.05 = +1.00 only
    (not 120 × 0.05 = 6.00 again, which a missing September charge would give).
    """
    package = make_package()
    line = package.line_items[0]
    _usage(line, "100", "2015-09-10 00:00:00")
    db.session.commit()
    assert len(run_billing(utc(2016, 1, 1)).invoice_ids) == 5

    _usage(line, "20", "2015-09-15 00:00:00")
    db.session.commit()
    (february,) = _invoices(db, run_billing(utc(2016, 2, 1)))
    assert sorted(_rows(february)) == [("base", False, "2016-02-01", 1000),
                                       ("usage", False, "2016-01-01", 0),
                                       ("usage", True, "2015-09-01", 100)]

    every = list(billed_rows([line.id]))
    read = list(billed_rows([line.id], {utc(2015, 9, 1), utc(2016, 1, 1)}))
    assert len(every) == 12  # 6 base + 6 usage lines
    assert sorted((r.kind, r.period_start.date().isoformat(), r.amount_minor) for r in read) == [
        ("base", "2015-09-01", 1000), ("base", "2016-01-01", 1000),
        ("usage", "2015-09-01", 100), ("usage", "2015-09-01", 500), ("usage", "2016-01-01", 0)]


def test_a_setup_fee_is_billed_once_over_months_in_chunks_and_alone(db, monkeypatch):
    """The setup fee is keyed by line only, whatever period it went with; the billed-charge
    read sees the fee billed in September (its period is reconciled again on every invoice,
    and `billed_rows` keeps every setup row besides), so months 2 and 3 owe nothing.
    VoIP with a 25.00 setup fee: 2015-09-01 invoice 25.00 setup + 10.00 base; then 10.00
    base + usage 0.00 each month; three packages, billed in chunks and one by one."""
    import portal.jobs.billing as billing_job
    from support.factories import make_customer

    item = make_voip_item(pricing=PriceModel(pricemodel="uni", base=Decimal("10.00"), setup=Decimal("25.00"),
                                             tiers=unit_price("0.05")))
    for n in range(3):
        make_package(make_customer(company=f"S{n}", email=f"s{n}@example.com"), item)
    db.session.commit()
    for chunk_size, month in ((200, 9), (200, 10), (1, 11)):
        monkeypatch.setattr(billing_job, "CHUNK_SIZE", chunk_size)
        run_billing(utc(2015, month, 1))
    setups = [l for i in db.session.scalars(select(Invoice)) for l in i.lines if l.kind == "setup"]
    assert sorted((l.period_start.date().isoformat(), l.amount_minor) for l in setups) == [
        ("2015-09-01", 2500)] * 3
    totals = sorted(i.total_minor for i in db.session.scalars(select(Invoice)))
    assert totals == [1000] * 6 + [3500] * 3
