"""docs/billing-rules.md §7's invariant on stored invoices: whatever the interleaving of usage arrivals,
billing runs, voids and retries, after a final run the non-void charges of every
(line, period) equal the price of that period's total usage."""
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from support.database import clean_database
from support.factories import make_customer, make_voip_item, utc
from portal.billing.money import to_minor
from portal.billing.pricing import PriceModel, Tier, usage_charge
from portal.models import Invoice, InvoiceLine
from portal.jobs.billing import run_billing
from portal.services.invoices import void_invoice
from portal.services.packages import LineDraft, create_package
from portal.services.usage import record_usage

TIERED = PriceModel(pricemodel="tie", minimum=Decimal("1.00"), tiers=(
    Tier(Decimal(0), Decimal(10), Decimal("0.30")), Tier(Decimal(11), None, Decimal("0.07"))))
MONTHS = [utc(2015, 9, 1), utc(2015, 10, 1), utc(2015, 11, 1), utc(2015, 12, 1)]  # usage: Sep-Nov

usage_op = st.tuples(st.just("usage"), st.integers(0, 1), st.integers(0, 2),
                     st.decimals(0, 40, places=2), st.integers(0, 27))
run_op = st.tuples(st.just("run"), st.integers(0, 3))
void_op = st.tuples(st.just("void"), st.integers(0, 20))
operations = st.lists(st.one_of(usage_op, run_op, void_op), min_size=1, max_size=14)


def _setup(db):
    clean_database()
    voip = make_voip_item()
    data = make_voip_item(name="Data", units="GB", units_plural="GB", pricing=TIERED)
    package = create_package(make_customer(), [LineDraft(item=voip), LineDraft(item=data)],
                             start_at=utc(2015, 9, 1))
    db.session.commit()
    return package


def _apply(db, package, op, state):
    kind = op[0]
    if kind == "usage":
        _, line, month, value, day = op
        when = MONTHS[month] + timedelta(days=day)
        record_usage({"line_item_id": package.line_items[line].id, "usage_value": str(value),
                      "from": when.strftime("%Y-%m-%d %H:%M:%S")})
        state["usage"][(line, month)] = state["usage"].get((line, month), Decimal(0)) + value
    elif kind == "run":
        state["now"] = max(state["now"], MONTHS[op[1]])
        run_billing(state["now"])
    else:
        open_invoices = db.session.scalars(
            select(Invoice).where(Invoice.status != "closed-void").order_by(Invoice.id)).all()
        if open_invoices:
            void_invoice(open_invoices[op[1] % len(open_invoices)])
    db.session.commit()


def _billed(db, line_id, kind, start):
    rows = db.session.scalars(
        select(InvoiceLine.amount_minor).join(Invoice)
        .where(InvoiceLine.line_item_id == line_id, InvoiceLine.kind == kind,
               InvoiceLine.period_start == start, Invoice.status != "closed-void"))
    return sum(rows)


# 12 histories of up to 14 steps, each on the real database (about 1 s apiece): the law itself is
# explored with 150 examples in the pure core (tests/billing/test_core_properties.py
# test_billing_is_order_independent); here the stored invoices, voids and re-runs are the point.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_billing_is_order_independent_on_stored_invoices(db, ops):
    package = _setup(db)
    state = {"now": MONTHS[0], "usage": {}}
    for op in ops:
        _apply(db, package, op, state)
    # The final run, after the last arrival, at the next boundary (released charges of
    # voided invoices are billed again on the package's next invoice).
    run_billing(utc(2016, 1, 1))
    voip, data = package.line_items
    for month in range(3):
        start = MONTHS[month]
        assert _billed(db, voip.id, "usage", start) == to_minor(
            state["usage"].get((0, month), Decimal(0)) * Decimal("0.05"), "USD")
        assert _billed(db, data.id, "usage", start) == to_minor(
            usage_charge(TIERED, state["usage"].get((1, month), Decimal(0))), "USD")
    for start in MONTHS + [utc(2016, 1, 1)]:
        assert _billed(db, voip.id, "base", start) == 1000
