"""Usage alerts in the merchant portal: admins add, edit and remove; viewers read."""
from decimal import Decimal

from sqlalchemy import select

from support.factories import make_package, utc
from portal.models import UsageAlert
from portal.services.usage import record_usage


def test_an_admin_adds_edits_and_removes_an_alert(admin, db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    line_id = package.line_items[0].id
    assert "Usage alerts" in admin.get(f"/merchant/packages/{package.id}").get_data(as_text=True)
    page = admin.get(f"/merchant/packages/{package.id}/alerts").get_data(as_text=True)
    assert "No usage alert on this package" in page and f"VoIP minutes (line {line_id})" in page
    added = admin.post(f"/merchant/packages/{package.id}/alerts", data={
        "line_item_id": str(line_id), "metric": "quantity", "threshold": "500",
        "notify_merchant": "y", "enabled": "y"})
    assert added.status_code == 303
    alert = db.session.scalars(select(UsageAlert)).one()
    assert (alert.line_item_id, alert.metric, alert.threshold, alert.notify_merchant, alert.notify_customer) == (
        line_id, "quantity", Decimal("500"), True, False)
    edited = admin.post(f"/merchant/alerts/{alert.id}", data={
        "line_item_id": "", "metric": "cost", "threshold": "12.5", "notify_customer": "y", "enabled": "y"})
    assert edited.status_code == 303
    db.session.expire_all()
    assert (alert.line_item_id, alert.metric, alert.threshold, alert.notify_customer) == (
        None, "cost", Decimal("12.5"), True)
    page = admin.get(f"/merchant/packages/{package.id}/alerts").get_data(as_text=True)
    assert "All metered lines" in page and "Usage cost" in page and "12.5 USD" in page
    assert admin.post(f"/merchant/alerts/{alert.id}/delete").status_code == 303
    assert db.session.scalars(select(UsageAlert)).all() == []


def test_a_bad_threshold_is_shown_under_its_field(admin, db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    answer = admin.post(f"/merchant/packages/{package.id}/alerts", data={
        "line_item_id": "", "metric": "quantity", "threshold": "0"})
    assert answer.status_code == 422 and "must be more than 0" in answer.get_data(as_text=True)


def test_a_viewer_sees_the_current_value_and_cannot_change(viewer, db):
    package = make_package(start=utc(2015, 9, 1))
    db.session.commit()
    record_usage({"line_item_id": package.line_items[0].id, "usage_value": "42", "from": "2015-09-10 00:00:00"})
    db.session.add(UsageAlert(package_id=package.id, metric="quantity", threshold=Decimal("100")))
    db.session.commit()
    page = viewer.get(f"/merchant/packages/{package.id}/alerts").get_data(as_text=True)
    assert "Usage quantity" in page and "never" in page and "Add an alert" not in page
    answer = viewer.post(f"/merchant/packages/{package.id}/alerts", data={"threshold": "1"})
    assert answer.status_code == 403
