"""The estimate of the current period's bill: hand-computed figures, nothing written, and
the same amounts as the invoice the period's end will bring."""
from __future__ import annotations

import re
from decimal import Decimal

from support.factories import make_package, make_voip_item, utc
from portal.billing.pricing import PriceModel, Tier
from portal.models import Counter, Invoice, InvoiceLine
from portal.services.billing import run_billing
from portal.services.estimates import estimate_current_period
from portal.services.packages import cancel_package
from portal.services.suspensions import suspend_package
from portal.services.usage import record_usage

NOW = utc(2015, 10, 15, 12)


def usage(line, value: str, when: str) -> None:
    record_usage({"line_item_id": line.id, "usage_value": value, "from": when})


def test_estimate_of_october_by_hand(acme, db):
    usage(acme.line, "100", "2015-10-03 08:00:00")
    usage(acme.line, "20.5", "2015-10-14 23:00:00")
    usage(acme.line, "999", "2015-10-20 00:00:00")  # after "now": not part of the estimate
    db.session.commit()
    estimate = estimate_current_period(acme.package, NOW)
    assert (estimate.first_day.isoformat(), estimate.last_day.isoformat()) == ("2015-10-01", "2015-10-31")
    # October's $10 base was billed in advance on the October invoice ...
    assert [(b.kind, b.amount, b.refnumber) for b in estimate.billed] == [
        ("base", Decimal("10.00"), acme.invoice.refnumber)]
    # ... and 120.5 minutes so far × $0.05 = 6.025 → 6.03 (half-up) is still to bill.
    assert [(p.kind, p.quantity, p.amount) for p in estimate.pending] == [
        ("usage", Decimal("120.5"), Decimal("6.03"))]
    assert (estimate.billed_subtotal, estimate.pending_subtotal) == (Decimal("10.00"), Decimal("6.03"))
    assert (estimate.subtotal, estimate.taxes, estimate.total) == (Decimal("16.03"), Decimal("0.00"), Decimal("16.03"))


def test_estimate_with_the_customers_tax_rate(acme, db):
    usage(acme.line, "120.5", "2015-10-03 08:00:00")
    acme.contact.customer.tax_rate = Decimal("0.0825")
    db.session.commit()
    estimate = estimate_current_period(acme.package, NOW)
    # 16.03 × 8.25 % = 1.322475 → 1.32; 16.03 + 1.32 = 17.35
    assert (estimate.subtotal, estimate.taxes, estimate.total) == (Decimal("16.03"), Decimal("1.32"), Decimal("17.35"))


def test_estimate_writes_nothing(acme, db):
    usage(acme.line, "100", "2015-10-03 08:00:00")
    db.session.commit()
    before = (db.session.query(Invoice).count(), db.session.query(InvoiceLine).count(),
              [(c.name, c.value) for c in db.session.query(Counter).all()])
    estimate_current_period(acme.package, NOW)
    assert not db.session.new and not db.session.dirty and not db.session.deleted
    db.session.commit()
    after = (db.session.query(Invoice).count(), db.session.query(InvoiceLine).count(),
             [(c.name, c.value) for c in db.session.query(Counter).all()])
    assert after == before


def test_before_the_first_invoice_the_advance_is_still_to_bill(db):
    package = make_package()  # from 2015-09-01, never billed
    usage(package.line_items[0], "50", "2015-09-05 10:00:00")
    db.session.commit()
    estimate = estimate_current_period(package, utc(2015, 9, 10))
    assert estimate.billed == ()
    assert [(p.kind, p.amount) for p in estimate.pending] == [("base", Decimal("10.00")), ("usage", Decimal("2.50"))]
    assert estimate.total == Decimal("12.50")


def test_tiered_usage_is_priced_by_the_billing_core(db):
    tiers = (Tier(Decimal(0), Decimal(100), Decimal("0.10")), Tier(Decimal(100), None, Decimal("0.08")))
    item = make_voip_item(name="Tiered minutes", pricing=PriceModel(pricemodel="tie", tiers=tiers,
                                                                     minimum=Decimal("3.00")))
    package = make_package(item=item)
    usage(package.line_items[0], "150", "2015-09-05 10:00:00")
    db.session.commit()
    estimate = estimate_current_period(package, utc(2015, 9, 10))
    assert estimate.total == Decimal("14.00")  # 100 × 0.10 + 50 × 0.08
    assert estimate_current_period(package, utc(2015, 9, 3)).total == Decimal("3.00")  # the minimum so far


def test_the_estimate_equals_what_the_period_end_invoices(acme, db):
    usage(acme.line, "77", "2015-10-03 08:00:00")
    db.session.commit()
    estimate = estimate_current_period(acme.package, utc(2015, 10, 31, 23, 59))
    november = db.session.get(Invoice, run_billing(utc(2015, 11, 1)).invoice_ids[0])
    october_usage = [line for line in november.lines if line.kind == "usage"]
    assert [Decimal(line.amount_minor) / 100 for line in october_usage] == [p.amount for p in estimate.pending]
    assert estimate.pending[0].amount == Decimal("3.85")  # 77 × 0.05


def test_no_estimate_for_cancelled_or_not_started_packages(acme, db):
    held = make_package(holduntil_at=utc(2016, 1, 1), customer=acme.contact.customer)
    assert estimate_current_period(held, NOW).unavailable == "Billing starts on 2016-01-01."
    cancel_package(acme.package, at=utc(2015, 10, 10))
    assert "cancelled" in estimate_current_period(acme.package, NOW).unavailable
    # Cancelled later than now: the period so far is still estimated.
    assert estimate_current_period(acme.package, utc(2015, 10, 5)).unavailable is None


def test_a_suspended_package_is_estimated_with_its_suspended_days_prorated_out(acme, db):
    """Suspended from 2015-10-15 12:00 on (no end), estimated at that instant: October's
    base is owed for Oct 1–15 only (the 15th is partly active, so charged): 10 × 15/31 =
    4.838… → 4.84 of the 10.00 billed on the October invoice, so the estimate credits
    10.00 − 4.84 = 5.16."""
    suspend_package(acme.package, NOW)
    estimate = estimate_current_period(acme.package, NOW)
    assert estimate.unavailable is None
    assert [(p.kind, p.amount) for p in estimate.pending if p.kind == "base"] == [
        ("base", Decimal("-5.16"))]


def test_the_package_page_shows_the_estimate(jane, acme, db, monkeypatch):
    usage(acme.line, "120.5", "2015-10-03 08:00:00")
    db.session.commit()
    monkeypatch.setattr("portal.customer.packages.utcnow", lambda: NOW)
    page = jane.get(f"/portal/packages/{acme.package.id}").get_data(as_text=True)
    assert "Estimate — not an invoice" in page and "2015-10-01 – 2015-10-31" in page
    for name, value in (("billed", "10.00"), ("pending", "6.03"), ("subtotal", "16.03"),
                        ("taxes", "0.00"), ("total", "16.03")):
        assert re.search(rf'id="estimate-{name}">{value} USD<', page), name
    assert f"on invoice #{acme.invoice.refnumber}" in page and "120.5" in page
    partial = jane.get(f"/portal/packages/{acme.package.id}/estimate", htmx=True)
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and 'id="estimate-total">16.03 USD<' in body
    assert db.session.query(Invoice).count() == 2  # viewing it wrote nothing
