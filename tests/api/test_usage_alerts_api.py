"""`usage_alert` through the API: create, read, update, list, delete; errors name the field."""
from decimal import Decimal

from sqlalchemy import select

from support.factories import make_package, utc
from portal.models import UsageAlert
from support.api_client import body


def test_create_read_update_and_delete_an_alert(api, db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    line_id = package.line_items[0].id
    created = api.post("/api/v3/usage_alert", json={
        "package_id": package.id, "line_item_id": line_id, "metric": "cost", "threshold": "25.50",
        "notify_customer": True})
    assert created.status_code == 201, body(created)
    alert_id = body(created)["response"]["id"]
    got = body(api.get(f"/api/v3/usage_alert/{alert_id}"))["response"]
    assert (got["package_id"], got["line_item_id"], got["customer_id"]) == (package.id, line_id, package.customer_id)
    assert (got["metric"], got["threshold"], got["notify_merchant"], got["notify_customer"]) == (
        "cost", Decimal("25.50"), True, True)
    assert got["fired_datetime"] is None and got["enabled"] is True
    assert api.put(f"/api/v3/usage_alert/{alert_id}", json={"threshold": 40, "line_item_id": None}).status_code == 202
    got = body(api.get(f"/api/v3/usage_alert/{alert_id}"))["response"]
    assert (got["threshold"], got["line_item_id"], got["metric"]) == (Decimal("40"), None, "cost")
    listed = body(api.get(f"/api/v3/usage_alert?where=package_id:EQUALS:{package.id}"))["response"]
    assert [a["usage_alert_id"] for a in listed] == [alert_id]
    assert api.delete(f"/api/v3/usage_alert/{alert_id}").status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(UsageAlert)).all() == []


def test_bad_alerts_are_400_naming_the_field(api, db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    cases = [({"threshold": "5"}, "package_id"), ({"package_id": 999, "threshold": "5"}, "package_id"),
             ({"package_id": package.id}, "threshold"),
             ({"package_id": package.id, "threshold": "-1"}, "threshold"),
             ({"package_id": package.id, "threshold": "5", "metric": "x"}, "metric"),
             ({"package_id": package.id, "threshold": "5", "line_item_id": 999}, "line_item_id")]
    for payload, field in cases:
        answer = api.post("/api/v3/usage_alert", json=payload)
        assert answer.status_code == 400, payload
        assert body(answer)["message"].startswith(f"{field}:"), body(answer)
