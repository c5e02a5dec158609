"""A line's pulled usage URL through the API: set on create or upgrade, its pull shown."""
from __future__ import annotations

from support.factories import utc
from portal.jobs import run_pending
from portal.jobs.usage_pulls import plan_usage_pulls
from portal.jobs.billing import run_billing
from support.api_client import body, ok, refused


def _customer_and_item(api) -> tuple[int, int]:
    customer = ok(api.post("/api/v3/customer", json={"company": "Acme"}), 201)["id"]
    item = ok(api.post("/api/v3/item", json={
        "name": "VoIP minutes", "external_key": "voip-minutes", "is_metered": True,
        "pricemodel": {"pricemodel": "uni", "base": "10.00",
                       "tiers": [{"unit_from": 0, "amount": "0.05"}]}}), 201)["id"]
    return customer, item


def _get(api, package_id: int) -> dict:
    return ok(api.get(f"/api/v3/package/{package_id}"))


def test_usage_url_on_create_upgrade_and_the_waiting_pull(app, api, db):
    customer_id, item_id = _customer_and_item(api)
    created = api.post("/api/v3/package", json={
        "customer_id": customer_id, "start_datetime": "2015-09-01 00:00:00",
        "line_items": [{"item_id": item_id, "usage_url": "http://127.0.0.1:9/usage"}]})
    assert created.status_code == 201, body(created)
    package_id = body(created)["response"]["id"]
    (line,) = _get(api, package_id)["line_items"]
    assert line["usage_url"] == "http://127.0.0.1:9/usage" and line["usage_pull"] is None
    bad = api.post(f"/api/v3/package/{package_id}/_action/upgrade",
                   json={"line_items": [{"line_item_id": line["line_item_id"], "usage_url": "javascript:x"}]})
    refused(bad, "line_items[0].usage_url")
    run_billing(utc(2015, 9, 1))
    plan_usage_pulls(utc(2015, 10, 1))
    run_pending(app, "w1")  # nothing listens on port 9: the pull fails and waits
    assert run_billing(utc(2015, 10, 1)).invoice_ids == []
    pull = _get(api, package_id)["line_items"][0]["usage_pull"]
    assert pull["status"] == "pending" and pull["attempts"] == 1
    assert pull["to_datetime"] == "2015-10-01 00:00:00" and "could not be reached" in pull["error"]
    removed = api.post(f"/api/v3/package/{package_id}/_action/upgrade",
                       json={"line_items": [{"line_item_id": line["line_item_id"], "usage_url": ""}]})
    assert removed.status_code in (200, 202), body(removed)
    assert _get(api, package_id)["line_items"][0]["usage_url"] is None
    # Without the URL the package is billed with the usage it has (none).
    assert len(run_billing(utc(2015, 10, 1)).invoice_ids) == 1


def test_a_replaced_line_keeps_its_pulled_usage_url_and_token(app, api, db):
    """Review finding: an upgrade replacing a pulled line dropped its URL, so the next
    invoice went out without the pulled usage."""
    from portal.services.usage_pulls import pull_url

    customer_id, item_id = _customer_and_item(api)
    package_id = ok(api.post("/api/v3/package", json={
        "customer_id": customer_id, "start_datetime": "2015-09-01 00:00:00",
        "line_items": [{"item_id": item_id, "usage_url": "https://usage.example/minutes"}]}), 201)["id"]
    (old,) = _get(api, package_id)["line_items"]
    token = pull_url(old["line_item_id"]).security_token
    ok(api.post(f"/api/v3/package/{package_id}/_action/upgrade", json={"line_items": [
        {"line_item_id": old["line_item_id"], "tierset": {"pricemodel": "uni", "base": "12.00",
                                                           "tiers": [{"unit_from": 0, "amount": "0.04"}]}}]}))
    new = [line for line in _get(api, package_id)["line_items"] if line["line_item_id"] != old["line_item_id"]]
    assert [line["usage_url"] for line in new] == ["https://usage.example/minutes"]
    assert pull_url(new[0]["line_item_id"]).security_token == token
