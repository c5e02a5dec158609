"""A withdrawn scheduled cancel or suspension must not leave the period it had prorated
under-billed: its instant leaves the lines' history, so the change log sends the next
invoice back to that period. Monthly VoIP ($10 base, $0.05 a minute, started 2015-09-01);
"now" is pinned to 2015-10-10 12:00 UTC; the Oct 1 run billed September and October."""
import pytest

from support.factories import make_package, utc
from portal.models import Invoice
from portal.services.billing import run_billing
from portal.services.packages import cancel_package, withdraw_cancel
from portal.services.suspensions import suspend_package, unsuspend_package

NOW = utc(2015, 10, 10, 12)


@pytest.fixture
def billed(db, monkeypatch):
    for module in ("portal.services.packages", "portal.services.suspensions"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    package = make_package()
    db.session.commit()
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 2
    return package


def _base_totals(db, invoice_id) -> list[str]:
    invoice = db.session.get(Invoice, invoice_id)
    return [f"{line.period_start:%m-%d} {line.amount_minor}" for line in invoice.lines
            if line.kind == "base"]


def test_withdrawn_cancel_bills_the_rest_of_its_period(db, billed):
    """Cancel scheduled for Nov 16: the Nov 1 invoice bills November's base for Nov 1–15,
    10 × 15/30 = 5.00. The cancel is withdrawn; the Dec 1 invoice bills December's base
    10.00 and November's remaining 10.00 − 5.00 = 5.00 as an adjustment: 15.00."""
    cancel_package(billed, utc(2015, 11, 16))
    db.session.commit()
    november = run_billing(utc(2015, 11, 1)).invoice_ids
    assert [_base_totals(db, i) for i in november] == [["11-01 500"]]
    withdraw_cancel(billed)
    db.session.commit()
    december = run_billing(utc(2015, 12, 1)).invoice_ids
    assert [_base_totals(db, i) for i in december] == [["11-01 500", "12-01 1000"]]
    assert db.session.get(Invoice, december[0]).total_minor == 1500


def test_withdrawn_suspension_bills_the_days_it_had_left_out(db, billed):
    """Suspension scheduled for Nov 10–20 (10 whole days): the Nov 1 invoice bills November's
    base for 20 of 30 days, 6.666… → 6.67. The suspension is withdrawn before it begins; the
    Dec 1 invoice bills December's 10.00 and November's remaining 10.00 − 6.67 = 3.33."""
    suspend_package(billed, utc(2015, 11, 10), utc(2015, 11, 20))
    db.session.commit()
    november = run_billing(utc(2015, 11, 1)).invoice_ids
    assert [_base_totals(db, i) for i in november] == [["11-01 667"]]
    unsuspend_package(billed)
    db.session.commit()
    december = run_billing(utc(2015, 12, 1)).invoice_ids
    assert [_base_totals(db, i) for i in december] == [["11-01 333", "12-01 1000"]]
