"""Scheduled cancels through the API, the merchant portal and the billing run: a cancel
dated in the future keeps the package active until then; the run reaching it ends the
package and writes the final invoice; until then it can be withdrawn. "Now" is pinned to
2015-10-10 12:00 UTC (monthly VoIP: $10 base, $0.05 a minute, started 2015-09-01, the Oct 1
run billed September and October's base in advance)."""
from decimal import Decimal

import pytest

from support.api_client import body
from support.factories import make_package, utc
from portal.models import Invoice, Package
from portal.services.billing import run_billing

NOW = utc(2015, 10, 10, 12)


@pytest.fixture
def billed(db, monkeypatch):
    for module in ("portal.services.packages", "portal.services.suspensions",
                   "portal.api.resources.packages", "portal.merchant.packages"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    package = make_package()
    db.session.commit()
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 2
    return package


def _act(api, package_id, name, payload=None):
    return api.post(f"/api/v3/package/{package_id}/_action/{name}", json=payload or {})


def _get(api, package_id):
    return body(api.get(f"/api/v3/package/{package_id}"))["response"]


def _usage(api, line_id, value, when):
    return api.post("/api/v3/usage", json={"line_item_id": line_id, "usage_value": value, "from": when})


def test_a_cancel_scheduled_mid_period_ends_the_package_at_that_run(api, db, billed):
    """Cancel scheduled for 2015-10-16 00:00: until then the package is active-current with
    its cancel date shown and its next invoice at that instant; usage up to it is accepted,
    usage after it refused. A run at 2015-10-15 23:59 writes nothing. The run at
    2015-10-16 00:00 ends the package and writes the final invoice: October's base is owed
    for Oct 1 – 15, 10 × 15/31 = 4.838… → 4.84, a credit of 10.00 − 4.84 = 5.16; the
    200 minutes of Oct 12 are 200 × 0.05 = 10.00. Total 10.00 − 5.16 = 4.84."""
    line_id = billed.line_items[0].id
    assert _act(api, billed.id, "cancel", {"cancel_datetime": "2015-10-16 00:00:00"}).status_code == 200
    package = _get(api, billed.id)
    assert (package["package_status_str"], package["cancel_datetime"], package["next_invoice_datetime"]) == (
        "active-current", "2015-10-16 00:00:00", "2015-10-16 00:00:00")
    assert package["line_items"][0]["cancel_datetime"] is None
    assert _usage(api, line_id, "200", "2015-10-12 09:00:00").status_code == 201
    late = _usage(api, line_id, "5", "2015-10-17 09:00:00")
    assert late.status_code == 400 and body(late)["details"] == {"field": "line_item_id"}

    assert run_billing(utc(2015, 10, 15, 23, 59)).invoice_ids == []
    db.session.expire_all()
    assert db.session.get(Package, billed.id).status == "active-current"

    (final_id,) = run_billing(utc(2015, 10, 16)).invoice_ids
    final = db.session.get(Invoice, final_id)
    assert (final.kind, str(final.date)) == ("final", "2015-10-16")
    assert [(l.kind, l.is_adjustment, l.amount_minor) for l in final.lines] == [
        ("base", True, -516), ("usage", False, 1000)]
    assert final.lines[1].line_quantity == Decimal(200) and final.total_minor == 484
    package = _get(api, billed.id)
    assert (package["package_status_str"], package["next_invoice_datetime"]) == ("canceled-manual", "")
    assert package["line_items"][0]["cancel_datetime"] == "2015-10-16 00:00:00"
    assert run_billing(utc(2016, 1, 1)).invoice_ids == []


def test_a_withdrawn_cancel_bills_on_as_before(api, db, billed):
    """Cancel scheduled for 2015-10-16, then withdrawn: the next invoice is again the Nov 1
    boundary, nothing is written at Oct 16, and Nov 1 is a recurring invoice with November's
    full base (10.00) and October's 0 minutes."""
    _act(api, billed.id, "cancel", {"cancel_datetime": "2015-10-16"})
    assert _act(api, billed.id, "uncancel").status_code == 200
    package = _get(api, billed.id)
    assert (package["cancel_datetime"], package["next_invoice_datetime"], package["package_status_str"]) == (
        None, "2015-11-01 00:00:00", "active-current")
    assert run_billing(utc(2015, 10, 16)).invoice_ids == []
    (november_id,) = run_billing(utc(2015, 11, 1)).invoice_ids
    november = db.session.get(Invoice, november_id)
    assert (november.kind, november.total_minor) == ("recurring", 1000)
    again = _act(api, billed.id, "uncancel")
    assert again.status_code == 400 and body(again)["details"] == {"field": "cancel_datetime"}


def test_changes_after_the_scheduled_cancel_are_refused(api, db, billed):
    _act(api, billed.id, "cancel", {"cancel_datetime": "2015-10-16"})
    response = _act(api, billed.id, "upgrade", {"effective_datetime": "2015-10-20", "line_items": [
        {"line_item_id": billed.line_items[0].id, "line_quantity": 2}]})
    assert response.status_code == 400
    assert body(response)["details"] == {"field": "line_items[0].effective_datetime"}
    # Cancelling again moves the scheduled cancel.
    assert _act(api, billed.id, "cancel", {"cancel_datetime": "2015-10-25"}).status_code == 200
    assert _get(api, billed.id)["cancel_datetime"] == "2015-10-25 00:00:00"
