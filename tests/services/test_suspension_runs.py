"""Suspensions through the API and the billing run: suspended days are prorated out of the
base, usage recorded meanwhile is billed, a suspended package still gets its invoices, and
stored suspensions keep prorating their periods (monthly VoIP: $10 base, $0.05 a minute,
started 2015-09-01; the Oct 1 run billed September and October's base in advance)."""

import pytest

from support.api_client import body
from support.factories import make_package, utc
from portal.models import Invoice, Package
from portal.services.billing import run_billing
from portal.services.invoices import void_invoice
from portal.services.suspensions import suspend_package


def _act(api, package_id, name, payload=None):
    return api.post(f"/api/v3/package/{package_id}/_action/{name}", json=payload or {})


def _usage(api, line_id, value, when):
    response = api.post("/api/v3/usage", json={"line_item_id": line_id, "usage_value": value,
                                               "from": when})
    assert response.status_code == 201, body(response)


def _invoice(db, now):
    ids = run_billing(now).invoice_ids
    assert len(ids) == 1, ids
    return db.session.get(Invoice, ids[0])


def _lines(invoice):
    return [(l.kind, l.is_adjustment, str(l.period_start.date()), l.amount_minor) for l in invoice.lines]


@pytest.fixture
def billed(db):
    package = make_package()
    db.session.commit()
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 2
    return package


def test_suspension_with_an_end_prorates_the_base_and_bills_its_usage(api, db, billed):
    """Suspended 2015-10-11 00:00 – 2015-10-21 00:00 (suspendfrom/suspendto_datetime).
    Suspended days Oct 11 – 20 = 10 of 31: October's base is owed for 21 days,
    10 × 21/31 = 6.774… → 6.77, a credit of 10.00 − 6.77 = 3.23 on the Nov 1 invoice.
    The 200 minutes of Oct 15 (while suspended) are billed: 200 × 0.05 = 10.00.
    Nov 1: −3.23 + 10.00 + 10.00 (November's base) = 16.77."""
    response = _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-11 00:00:00",
                                                "suspendto_datetime": "2015-10-21 00:00:00"})
    assert response.status_code == 200 and body(response)["response"] is True
    _usage(api, billed.line_items[0].id, "200", "2015-10-15 10:00:00")
    november = _invoice(db, utc(2015, 11, 1))
    assert _lines(november) == [("base", True, "2015-10-01", -323), ("base", False, "2015-11-01", 1000),
                                ("usage", False, "2015-10-01", 1000)]
    assert november.total_minor == 1677
    assert "(prorated: 21 of 31 days)" in november.lines[0].descrip


def test_a_suspended_package_is_still_invoiced_and_billed_again_after_unsuspend(api, db, billed):
    """Suspended from 2015-10-11 00:00, no end; 200 minutes on Oct 15.
    Nov 1 (still suspended, still invoiced): October's base owed for Oct 1 – 10,
    10 × 10/31 = 3.225… → 3.23, credit −6.77; October's usage 10.00; November wholly
    suspended: base 0.00. Total 3.23.
    Unsuspended at 2015-11-16 00:00: the Dec 1 invoice bills November's base for
    Nov 16 – 30, 10 × 15/30 = 5.00 (an adjustment naming November), December's base 10.00
    and November's 0 minutes: total 15.00."""
    assert _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-11"}).status_code == 200
    package = body(api.get(f"/api/v3/package/{billed.id}"))["response"]
    assert (package["package_status_str"], package["suspendfrom_datetime"], package["suspendto_datetime"]) == (
        "suspended-suspended", "2015-10-11 00:00:00", None)
    _usage(api, billed.line_items[0].id, "200", "2015-10-15 10:00:00")
    november = _invoice(db, utc(2015, 11, 1))
    assert _lines(november) == [("base", True, "2015-10-01", -677), ("base", False, "2015-11-01", 0),
                                ("usage", False, "2015-10-01", 1000)]
    assert november.total_minor == 323

    assert _act(api, billed.id, "unsuspend", {"suspendto_datetime": "2015-11-16"}).status_code == 200
    package = body(api.get(f"/api/v3/package/{billed.id}"))["response"]
    assert (package["package_status_str"], package["suspendfrom_datetime"]) == ("active-current", None)
    december = _invoice(db, utc(2015, 12, 1))
    assert _lines(december) == [("base", True, "2015-11-01", 500), ("base", False, "2015-12-01", 1000),
                                ("usage", False, "2015-11-01", 0)]
    assert december.total_minor == 1500


def test_the_run_applies_scheduled_starts_and_ends_to_the_status(db, billed):
    """Suspension 2015-10-11 – 2015-10-21 stored in advance: the run at Oct 15 marks the
    package suspended, the run at Oct 21 active again (no invoice is due at either)."""
    suspend_package(billed, utc(2015, 10, 11), utc(2015, 10, 21))
    billed.status = "active-current"  # as it was before Oct 11
    db.session.commit()
    assert run_billing(utc(2015, 10, 15)).invoice_ids == []
    db.session.expire_all()
    assert db.session.get(Package, billed.id).status == "suspended-suspended"
    assert run_billing(utc(2015, 10, 21)).invoice_ids == []
    db.session.expire_all()
    assert db.session.get(Package, billed.id).status == "active-current"


def test_a_past_suspension_still_prorates_its_period_when_rebilled(api, db, billed):
    """As in the first test (credit −3.23 for October), then the Nov 1 invoice is voided:
    the Dec 1 run bills its charges again, and the stored suspension still prorates
    October: −3.23 (Oct base), 10.00 (Oct usage), 10.00 (Nov base, voided), 10.00 (Dec base),
    0.00 (Nov usage) = 26.77."""
    _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-11",
                                     "suspendto_datetime": "2015-10-21"})
    _usage(api, billed.line_items[0].id, "200", "2015-10-15 10:00:00")
    november = _invoice(db, utc(2015, 11, 1))
    void_invoice(november)
    db.session.commit()
    december = _invoice(db, utc(2015, 12, 1))
    october_base = [l.amount_minor for l in december.lines
                    if l.kind == "base" and str(l.period_start.date()) == "2015-10-01"]
    assert october_base == [-323]
    assert december.total_minor == 2677


def test_suspend_refusals_name_their_field(api, db, billed):
    too_early = _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-09-20"})
    assert body(too_early)["details"] == {"field": "suspendfrom_datetime"}  # before Oct 1, billed
    backwards = _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-11",
                                                 "suspendto_datetime": "2015-10-05"})
    assert backwards.status_code == 400 and body(backwards)["details"] == {"field": "suspendto_datetime"}
    assert _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-11",
                                            "suspendto_datetime": "2015-10-21"}).status_code == 200
    overlap = _act(api, billed.id, "suspend", {"suspendfrom_datetime": "2015-10-20"})
    assert overlap.status_code == 400 and "already suspended" in body(overlap)["message"]
