"""`usage_alert`: a threshold on the current period's usage quantity or cost of a package
line (line_item_id) or of a whole package, notified once per period when crossed."""
from __future__ import annotations

from portal.api.body import get_bool, get_int, get_str
from portal.api.envelope import ApiError
from portal.api.format import dt
from portal.api.query import Field, as_int, as_text, get_by_id
from portal.api.registry import Resource, register
from portal.models import Package, UsageAlert
from portal.services.usage_alerts import delete_alert, save_alert

FIELDS = {
    "usage_alert_id": Field(UsageAlert.id, as_int),
    "package_id": Field(UsageAlert.package_id, as_int),
    "line_item_id": Field(UsageAlert.line_item_id, as_int),
    "metric": Field(UsageAlert.metric, as_text),
}


def serialize(alert: UsageAlert) -> dict:
    """An alert, with when it last fired (fired_period_start: the period it fired in)."""
    return {
        "usage_alert_id": alert.id, "package_id": alert.package_id,
        "customer_id": alert.package.customer_id, "line_item_id": alert.line_item_id,
        "metric": alert.metric, "threshold": alert.threshold,
        "notify_merchant": alert.notify_merchant, "notify_customer": alert.notify_customer,
        "enabled": alert.enabled, "fired_period_start": dt(alert.fired_period_start),
        "fired_datetime": dt(alert.fired_at), "fired_value": alert.fired_value,
        "write_datetime": dt(alert.created_at),
    }


def _fields(data: dict, alert: UsageAlert | None) -> dict:
    """The alert's settings: those given, else the alert's current ones (or the defaults)."""
    def pick(name, getter, default):
        value = getter(data, name)
        return value if value is not None else (getattr(alert, name) if alert else default)

    line = data["line_item_id"] if "line_item_id" in data and data["line_item_id"] is None else \
        pick("line_item_id", get_int, None)
    return {"line_item_id": line, "metric": pick("metric", get_str, "quantity"),
            "threshold": data.get("threshold", alert.threshold if alert else None),
            "notify_merchant": pick("notify_merchant", get_bool, True),
            "notify_customer": pick("notify_customer", get_bool, False),
            "enabled": pick("enabled", get_bool, True)}


def create(data: dict) -> UsageAlert:
    """POST /usage_alert: package_id (required), line_item_id, metric, threshold, notify_*."""
    package_id = get_int(data, "package_id", required=True)
    package = get_by_id(Package, package_id)
    if package is None:
        raise ApiError(400, f"package_id: no package {package_id}", {"field": "package_id"})
    if data.get("threshold") in (None, ""):
        raise ApiError(400, "threshold: is required", {"field": "threshold"})
    return save_alert(None, package, **_fields(data, None))


def update(alert: UsageAlert, data: dict) -> None:
    """PUT /usage_alert/N (a new threshold, metric or line may fire again this period)."""
    save_alert(alert, alert.package, **_fields(data, alert))


register(Resource(
    name="usage_alert", model=UsageAlert, id_field="usage_alert_id", fields=FIELDS,
    serialize=serialize, create=create, update=update, delete=delete_alert,
))
