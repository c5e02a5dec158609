"""`holduntil` through the billing run: no invoice before the hold ends, and the usage of
the hold is billed on the first invoice (monthly VoIP package: $10 base, $0.05 a minute)."""
from decimal import Decimal

from support.factories import make_package, utc
from portal.models import Invoice, Package
from portal.services.billing import run_billing
from portal.services.packages import cancel_package
from portal.services.usage import record_usage


def _usage(line, value, when, key=None):
    record_usage({"line_item_id": line.id, "usage_value": value, "from": when, "external_key": key})


def _lines(invoice):
    return [(l.kind, l.is_adjustment, l.line_quantity, l.amount_minor) for l in invoice.lines]


def _invoice(db, now):
    ids = run_billing(now).invoice_ids
    assert len(ids) == 1, ids
    return db.session.get(Invoice, ids[0])


def test_a_hold_with_a_time_of_day_gets_no_invoice_before_it_ends(db):
    """holduntil 2015-09-10 15:00 UTC: the first boundary is the first midnight at or after
    it, 2015-09-11 00:00. Runs at 14:59 and 23:59 on the 10th write nothing (the old code
    invoiced at 2015-09-10 00:00, hours before the hold ended); the 2015-09-11 run writes
    the first invoice: base 10.00 for 2015-09-11 – 2015-10-10."""
    package = make_package(holduntil_at=utc(2015, 9, 10, 15))
    db.session.commit()
    assert package.next_invoice_at == utc(2015, 9, 11)
    assert run_billing(utc(2015, 9, 10, 14, 59)).invoice_ids == []
    assert run_billing(utc(2015, 9, 10, 23, 59)).invoice_ids == []
    first = _invoice(db, utc(2015, 9, 11))
    assert str(first.date) == "2015-09-11" and first.total_minor == 1000
    assert (str(first.cycle_pre_from_date), str(first.cycle_pre_to_date)) == ("2015-09-11", "2015-10-10")
    assert db.session.get(Package, package.id).next_invoice_at == utc(2015, 10, 11)


def test_usage_during_the_hold_is_billed_on_the_first_invoice(db):
    """Hold until 2015-09-10 00:00 on a package started 2015-09-01. 100 minutes on
    2015-09-05 belong to the hold, billed on the first invoice (2015-09-10) as usage of
    2015-09-01 – 2015-09-09: 100 × 0.05 = 5.00, with the base 10.00 of 2015-09-10 – 2015-10-09:
    total 15.00. 20 more minutes of 2015-09-06 arriving after it are a late usage adjustment
    of 20 × 0.05 = 1.00 naming the hold on the 2015-10-10 invoice (10.00 base + 0 minutes
    of September's period + 1.00 = 11.00)."""
    package = make_package(holduntil_at=utc(2015, 9, 10))
    line = package.line_items[0]
    _usage(line, "100", "2015-09-05 12:00:00")
    db.session.commit()
    first = _invoice(db, utc(2015, 9, 10))
    assert _lines(first) == [("base", False, Decimal(1), 1000), ("usage", False, Decimal(100), 500)]
    assert first.total_minor == 1500
    assert "100 minutes, 2015-09-01 – 2015-09-09" in first.lines[1].descrip
    assert (str(first.cycle_post_from_date), str(first.cycle_post_to_date)) == ("2015-09-01", "2015-09-09")

    _usage(line, "20", "2015-09-06 08:00:00")
    db.session.commit()
    second = _invoice(db, utc(2015, 10, 10))
    late = [l for l in second.lines if l.is_adjustment]
    assert [(l.kind, l.line_quantity, l.amount_minor) for l in late] == [("usage", Decimal(20), 100)]
    assert "2015-09-01 – 2015-09-09" in late[0].descrip
    assert second.total_minor == 1100


def test_a_package_canceled_during_its_hold_bills_only_the_holds_usage(db):
    """Hold until 2015-10-01, 30 minutes on 2015-09-05, canceled 2015-09-20: the final
    invoice (2015-09-20) bills 30 × 0.05 = 1.50 of usage and no base (nothing is charged in
    advance for a hold)."""
    package = make_package(holduntil_at=utc(2015, 10, 1))
    _usage(package.line_items[0], "30", "2015-09-05 00:00:00")
    cancel_package(package, utc(2015, 9, 20))
    db.session.commit()
    final = _invoice(db, utc(2015, 9, 20))
    assert final.kind == "final" and _lines(final) == [("usage", False, Decimal(30), 150)]
    assert run_billing(utc(2015, 12, 1)).invoice_ids == []
