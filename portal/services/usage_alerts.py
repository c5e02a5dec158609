"""Usage alerts: a threshold on the current period's usage quantity or cost, per package
line or per package, notified (e-mail to the merchant and/or the customer's billing
contact, and the webhook event `usage_alert.crossed`) once per threshold per period.

Ingestion is never slowed: nothing here runs in a usage request. The background check
(`check_usage_alerts`, run by the scheduler) reads which lines got usage since its last
check from the usage ids (a cursor in the `counters` table, advanced under its row lock so
two schedulers never both fire an alert) and evaluates only the alerts on those lines and
their packages. Ids of transactions still open at a check commit later with lower ids: the
check looks back LOOKBACK_IDS ids below its cursor, and evaluating an alert again is
harmless (it fires once per period). A new or changed alert is evaluated when saved.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update

from portal.billing.errors import ValidationError
from portal.billing.money import parse_money, quantize_money
from portal.billing.periods import Period, period_containing
from portal.billing.pricing import price_quantity
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import ALERT_METRICS, Counter, LineItem, Package, UsageAlert, UsageRecord
from portal.services import merchant_tz
from portal.services.billing import BILLABLE_STATUSES
from portal.services.billing_context import RunContext
from portal.services.billing_inputs import line_spec, usage_aggregate
from portal.services.events import record_event
from portal.services.package_periods import package_anchor

CURSOR = "usage_alerts_checked_id"
LOOKBACK_IDS = 1000


def _threshold(value) -> Decimal:
    amount = parse_money(value, "threshold")
    if amount <= 0:
        raise ValidationError("threshold", "must be more than 0")
    return amount


def _line(package: Package, line_item_id: int | None) -> LineItem | None:
    if line_item_id is None:
        return None
    line = next((li for li in package.line_items if li.id == line_item_id), None)
    if line is None:
        raise ValidationError("line_item_id", f"line item {line_item_id} is not a line of package {package.id}")
    if not line.item.is_metered:
        raise ValidationError("line_item_id", f"line item {line_item_id} is not metered")
    return line


def save_alert(alert: UsageAlert | None, package: Package, *, line_item_id: int | None = None,
               metric: str = "quantity", threshold=None, notify_merchant: bool = True,
               notify_customer: bool = False, enabled: bool = True, now: datetime | None = None) -> UsageAlert:
    """Create (alert None) or change an alert, then evaluate it at once; flushes."""
    if metric not in ALERT_METRICS:
        raise ValidationError("metric", f"must be one of {', '.join(ALERT_METRICS)}")
    line = _line(package, line_item_id)
    alert = alert or UsageAlert()
    changed = (alert.metric, alert.threshold, alert.line_item_id) != (metric, _threshold(threshold), line_item_id)
    alert.package, alert.line_item_id, alert.metric = package, line.id if line else None, metric
    alert.threshold, alert.enabled = _threshold(threshold), bool(enabled)
    alert.notify_merchant, alert.notify_customer = bool(notify_merchant), bool(notify_customer)
    if changed:  # a new threshold may fire again in this period
        alert.fired_period_start = alert.fired_at = alert.fired_value = None
    db.session.add(alert)
    db.session.flush()
    evaluate(alert, now or utcnow())
    return alert


def delete_alert(alert: UsageAlert) -> None:
    db.session.delete(alert)
    db.session.flush()


def current_value(alert: UsageAlert, now: datetime, ctx: RunContext | None = None) -> tuple[Period, Decimal]:
    """The package's period containing `now`, and the alert's quantity or cost in it."""
    package, ctx = alert.package, ctx or RunContext.load()
    period = period_containing(package_anchor(package), package.paycycle, now, merchant_tz())
    lines = [alert.line_item] if alert.line_item_id else [li for li in package.line_items if li.item.is_metered]
    total = Decimal(0)
    for line in lines:
        pricing = ctx.pricing(line)
        quantity = usage_aggregate(line_spec(line, pricing), line.item.usage_type, period)
        total += quantity if alert.metric == "quantity" else price_quantity(pricing, quantity)
    if alert.metric == "cost":
        total = quantize_money(total, package.customer.currency)
    return period, total


def evaluate(alert: UsageAlert, now: datetime, ctx: RunContext | None = None) -> bool:
    """Fire the alert if its value reached the threshold and it has not fired in this
    period; flushes. True when it fired."""
    if not alert.enabled or alert.package.status not in BILLABLE_STATUSES:
        return False
    period, value = current_value(alert, now, ctx)
    if value < alert.threshold or alert.fired_period_start == period.start:
        return False
    alert.fired_period_start, alert.fired_at, alert.fired_value = period.start, now, value
    db.session.flush()
    from portal.services.usage_alert_mail import notify

    notify(alert, period, value)
    record_event(db.session, context="usage_alert", context_id=alert.id, event="crossed")
    return True


def _cursor(last_id: int) -> int:
    """The last usage id checked, under the counter's row lock (created at `last_id`)."""
    value = db.session.execute(update(Counter).where(Counter.name == CURSOR)
                               .values(value=Counter.value).returning(Counter.value)).scalar()
    if value is None:
        db.session.add(Counter(name=CURSOR, value=last_id))
        db.session.flush()
        return last_id
    return int(value)


def check_usage_alerts(now: datetime | None = None) -> int:
    """Evaluate the alerts of lines that got usage since the last check; flushes (the
    caller commits, which releases the cursor's lock). Returns how many fired."""
    now = now or utcnow()
    last_id = db.session.scalar(select(func.max(UsageRecord.id))) or 0
    since = _cursor(last_id)
    fired = 0
    if db.session.scalar(select(func.count()).select_from(UsageAlert).where(UsageAlert.enabled.is_(True))):
        line_ids = select(UsageRecord.line_item_id).where(
            UsageRecord.id > since - LOOKBACK_IDS, UsageRecord.id <= last_id).distinct()
        package_ids = select(LineItem.package_id).where(LineItem.id.in_(line_ids))
        alerts = list(db.session.scalars(select(UsageAlert).where(
            UsageAlert.enabled.is_(True),
            or_(UsageAlert.line_item_id.in_(line_ids),
                UsageAlert.line_item_id.is_(None) & UsageAlert.package_id.in_(package_ids)))
            .order_by(UsageAlert.id)))
        ctx = RunContext.load()
        fired = sum(evaluate(alert, now, ctx) for alert in alerts)
    db.session.execute(update(Counter).where(Counter.name == CURSOR).values(value=max(since, last_id)))
    return fired
