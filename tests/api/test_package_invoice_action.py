"""The package `invoice` action (bill now) and cancel → final invoice, through the API."""
from decimal import Decimal

from support.api_client import body
from support.factories import make_package, utc


def test_invoice_action_bills_what_is_due_in_both_url_forms(api, db, monkeypatch):
    from portal.db_types import utcnow

    # A cap of 12 boundaries per call and a package started 20 months ago prove the cap and
    # the resumed catch-up as the real cap (100) and a start in 2015 did, at a seventh of the
    # invoices; the cap's value is not the point.
    MAX_BOUNDARIES_PER_CALL = 12
    monkeypatch.setattr("portal.jobs.billing.MAX_BOUNDARIES_PER_CALL", MAX_BOUNDARIES_PER_CALL)
    today = utcnow()
    months = today.year * 12 + today.month - 1 - 20
    start = utc(months // 12, months % 12 + 1, 1)
    package = make_package(start=start)
    db.session.commit()
    first = api.post(f"/api/v3/package/{package.id}/_action/invoice", json={})
    assert first.status_code == 200, body(first)
    ids = body(first)["response"]["invoice_ids"]
    assert len(ids) == MAX_BOUNDARIES_PER_CALL  # monthly for 20 months: more than one call's worth
    assert body(first)["response"]["id"] == ids[0]
    oldest = body(api.get(f"/api/v3/invoice/{ids[0]}"))["response"]
    assert (oldest["date"], oldest["total"]) == (start.strftime("%Y-%m-%d"), Decimal("10.00"))
    rest = body(api.post(f"/api/v3/package/{package.id}?action=invoice", json={}))["response"]
    assert 0 < len(rest["invoice_ids"]) < MAX_BOUNDARIES_PER_CALL  # the catch-up resumes
    again = api.post(f"/api/v3/package/{package.id}?action=invoice", json={})
    assert body(again)["response"] == {"id": None, "invoice_ids": []}  # nothing is billed twice
    total = len(ids) + len(rest["invoice_ids"])
    assert body(api.get(f"/api/v3/invoice/_count?where=package_id:EQUALS:{package.id}"))["response"] == total


def test_cancel_then_run_gives_the_final_invoice(api, db):
    from portal.jobs.billing import run_billing
    from portal.services.usage import record_usage

    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    run_billing(utc(2015, 10, 1))
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "40",
                  "from": "2015-10-05 00:00:00"})
    db.session.commit()
    cancelled = api.post(f"/api/v3/package/{package.id}/_action/cancel",
                         json={"cancel_datetime": "2015-10-16 00:00:00"})
    assert cancelled.status_code == 200, body(cancelled)
    got = body(api.get(f"/api/v3/package/{package.id}"))["response"]
    assert got["package_status_str"] == "canceled-manual"
    [final_id] = run_billing(utc(2015, 10, 20)).invoice_ids
    # 16 unused days of October's 10.00 (−5.16) + 40 minutes (2.00) = −3.16: a credit note,
    # in the API a `cre` transaction (credit memo) of 3.16, not an invoice.
    assert api.get(f"/api/v3/invoice/{final_id}").status_code == 404
    [memo] = body(api.get("/api/v3/transaction?where=transaction_type:EQUALS:cre"))["response"]
    assert (memo["credit_note_id"], memo["amount"], memo["transaction_date"]) == (final_id, Decimal("3.16"), "2015-10-16")
    from portal.models import Invoice

    note = db.session.get(Invoice, final_id)
    assert note.number == "CN-0001"
    assert sorted(l.amount_minor for l in note.lines) == [-516, 200]
