"""The billing run on the database: ChargeOver's example, catch-up, late usage, voids, cancel."""
from decimal import Decimal

import pytest

from support.factories import make_package, utc
from portal.models import Invoice, Package
from portal.services.billing import run_billing
from portal.services.invoices import void_invoice
from portal.services.usage import record_usage


def _usage(line, value, when, key=None):
    record_usage({"line_item_id": line.id, "usage_value": value, "from": when, "external_key": key})


def _lines(invoice):
    return [(l.kind, l.is_adjustment, l.line_quantity, l.amount_minor) for l in invoice.lines]


@pytest.fixture
def voip(db):
    package = make_package()
    db.session.commit()
    return package


def test_chargeover_example_28_05(db, voip):
    line = voip.line_items[0]
    first = run_billing(utc(2015, 9, 1))
    assert len(first.invoice_ids) == 1
    september = db.session.get(Invoice, first.invoice_ids[0])
    assert _lines(september) == [("base", False, Decimal(1), 1000)]
    for day, minutes in ((2, "100"), (15, "200.5"), (30, "60.5")):
        _usage(line, minutes, f"2015-09-{day:02d} 10:00:00")
    db.session.commit()

    october = db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[0])
    assert _lines(october) == [("base", False, Decimal(1), 1000),
                               ("usage", False, Decimal(361), 1805)]
    assert (october.total_minor, october.sum_base_minor, october.sum_usage_minor) == (2805, 1000, 1805)
    assert str(october.date) == "2015-10-01" and str(october.due_date) == "2015-10-31"
    assert (str(october.cycle_pre_from_date), str(october.cycle_pre_to_date)) == ("2015-10-01", "2015-10-31")
    assert (str(october.cycle_post_from_date), str(october.cycle_post_to_date)) == ("2015-09-01", "2015-09-30")
    assert october.lines[1].line_rate == Decimal("0.05")
    assert "361 minutes" in october.lines[1].descrip
    assert october.refnumber == september.refnumber + 1
    assert db.session.get(Package, voip.id).next_invoice_at == utc(2015, 11, 1)


def test_rerun_bills_nothing_twice(db, voip):
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 2
    assert run_billing(utc(2015, 10, 1)).invoice_ids == []
    assert db.session.query(Invoice).count() == 2


def test_catch_up_writes_one_invoice_per_missed_boundary(db, voip):
    _usage(voip.line_items[0], "10", "2015-10-05 00:00:00")
    db.session.commit()
    ids = run_billing(utc(2015, 12, 15)).invoice_ids
    invoices = [db.session.get(Invoice, i) for i in ids]
    assert [str(i.date) for i in invoices] == ["2015-09-01", "2015-10-01", "2015-11-01", "2015-12-01"]
    assert [i.total_minor for i in invoices] == [1000, 1000, 1050, 1000]


def test_late_usage_becomes_an_adjustment_naming_its_period(db, voip):
    line = voip.line_items[0]
    _usage(line, "100", "2015-09-10 00:00:00")
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    _usage(line, "20", "2015-09-20 00:00:00")  # arrives after September was billed
    db.session.commit()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    adjustments = [l for l in november.lines if l.is_adjustment]
    assert [(l.line_quantity, l.amount_minor) for l in adjustments] == [(Decimal(20), 100)]
    assert "2015-09-01" in adjustments[0].descrip


def test_voided_invoice_is_billed_again_by_the_next_run(db, voip):
    _usage(voip.line_items[0], "100", "2015-09-10 00:00:00")
    db.session.commit()
    october_id = run_billing(utc(2015, 10, 1)).invoice_ids[-1]
    void_invoice(db.session.get(Invoice, october_id))
    db.session.commit()
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    # November's base and October's (zero) usage, plus October's base and September's
    # usage billed again because their invoice was voided.
    assert sorted(l.amount_minor for l in november.lines) == [0, 500, 1000, 1000]
    assert november.total_minor == 2500


def test_cancel_mid_period_final_invoice_with_credit(db, voip):
    line = voip.line_items[0]
    run_billing(utc(2015, 10, 1))
    _usage(line, "40", "2015-10-05 00:00:00")
    cancel = utc(2015, 10, 16)
    voip.cancel_at = line.cancel_at = cancel
    voip.next_invoice_at = cancel
    db.session.commit()
    final = db.session.get(Invoice, run_billing(utc(2015, 10, 20)).invoice_ids[0])
    assert final.kind == "final" and str(final.date) == "2015-10-16"
    usage = [l for l in final.lines if l.kind == "usage"]
    assert [(l.line_quantity, l.amount_minor) for l in usage] == [(Decimal(40), 200)]
    credit = [l for l in final.lines if l.kind == "base"]
    # 16 of October's 31 days unused (the cancel day counts as used: 15 days kept).
    assert [l.amount_minor for l in credit] == [-516]
    assert db.session.get(Package, voip.id).next_invoice_at is None
    assert run_billing(utc(2016, 1, 1)).invoice_ids == []


def _flat_package(db, base="30.00"):
    from portal.billing.pricing import PriceModel
    from support.factories import make_voip_item

    seats = make_voip_item(name="Seats", is_metered=False, units="seat", units_plural="seats",
                           pricing=PriceModel(pricemodel="fla", base=Decimal(base)))
    package = make_package(item=seats)
    db.session.commit()
    return package


def test_mid_period_quantity_change_is_prorated_on_the_next_invoice(db):
    from portal.models import QuantityChange

    package = _flat_package(db)
    line = package.line_items[0]
    run_billing(utc(2015, 9, 1))  # September in advance: 1 seat, 30.00
    line.line_quantity = Decimal(3)
    line.quantity_changes.append(QuantityChange(effective_at=utc(2015, 9, 16), quantity=Decimal(3)))
    db.session.commit()
    october = db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[0])
    # October: 3 seats × 30 = 90; September: 2 more seats for 15 of 30 days = +30.00.
    assert sorted((l.is_adjustment, l.amount_minor) for l in october.lines) == [(False, 9000), (True, 3000)]


def test_a_catalog_price_change_does_not_reprice_a_billed_period(db):
    package = _flat_package(db)
    run_billing(utc(2015, 9, 1))
    package.line_items[0].item.tierset.base = Decimal("45.00")
    db.session.commit()
    october = db.session.get(Invoice, run_billing(utc(2015, 10, 1)).invoice_ids[0])
    assert [(l.is_adjustment, l.amount_minor) for l in october.lines] == [(False, 4500)]


def test_taxes_are_applied_once_and_due_date_follows_terms(db):
    from portal.services.settings import ensure_settings

    package = make_package()
    package.customer.tax_rate = Decimal("0.0825")
    ensure_settings().payment_terms_days = 15
    db.session.commit()
    september = db.session.get(Invoice, run_billing(utc(2015, 9, 1)).invoice_ids[0])
    assert (september.subtotal_minor, september.taxes_minor, september.total_minor) == (1000, 83, 1083)
    assert str(september.due_date) == "2015-09-16"


def test_settings_row_creation_survives_a_concurrent_twin(db):
    from portal.models import MerchantSettings
    from portal.services.settings import ensure_settings

    twin = MerchantSettings(id=1, company_name="Created by another process")
    db.session.execute(MerchantSettings.__table__.insert().values(id=1, company_name=twin.company_name,
                       default_currency="USD", default_tax_rate="0", payment_terms_days=30,
                       accent_colour="#2563eb"))
    db.session.expire_all()
    assert ensure_settings().company_name == "Created by another process"


def test_catch_up_is_capped_per_call_and_resumes(db, monkeypatch):
    import portal.services.billing as billing

    monkeypatch.setattr(billing, "MAX_BOUNDARIES_PER_CALL", 3)
    package = make_package(paycycle="dly")
    db.session.commit()
    first = run_billing(utc(2015, 9, 6))  # six daily boundaries are due: Sep 1 to Sep 6
    assert len(first.invoice_ids) == 3
    assert db.session.get(Package, package.id).next_invoice_at == utc(2015, 9, 4)
    assert len(run_billing(utc(2015, 9, 6)).invoice_ids) == 3
    assert db.session.get(Package, package.id).next_invoice_at == utc(2015, 9, 7)
    assert run_billing(utc(2015, 9, 6)).invoice_ids == []


def test_a_huge_payment_amount_is_a_clear_error_not_an_overflow(db, voip):
    from datetime import date

    from portal.billing.errors import ValidationError
    from portal.services.payments import pay_invoice

    run_billing(utc(2015, 9, 1))
    invoice = db.session.query(Invoice).one()
    with pytest.raises(ValidationError) as error:
        pay_invoice(invoice, paid_on=date(2015, 9, 2), amount="1" + "0" * 300)
    assert error.value.field == "amount" and "at most" in error.value.message
