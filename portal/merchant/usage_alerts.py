"""Usage alerts of a package: thresholds on the period's usage quantity or cost."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select

from portal.db_types import utcnow
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action, page
from portal.merchant.forms_webhooks import UsageAlertForm
from portal.models import Package, UsageAlert
from portal.services.usage_alerts import current_value, delete_alert, save_alert

PAGE, PARTIAL = "merchant/usage_alerts.html", "partials/merchant_usage_alerts.html"


def _package(package_id: int) -> Package:
    package = db.session.get(Package, package_id)
    if package is None:
        abort(404)
    return package


def _alert(alert_id: int) -> UsageAlert:
    alert = db.session.get(UsageAlert, alert_id)
    if alert is None:
        abort(404)
    return alert


def _context(package: Package, form: UsageAlertForm | None = None, edit: UsageAlert | None = None) -> dict:
    alerts = list(db.session.scalars(select(UsageAlert).where(UsageAlert.package_id == package.id)
                                     .order_by(UsageAlert.id)))
    now = utcnow()
    values = {a.id: current_value(a, now)[1] for a in alerts}
    if form is None:
        form = UsageAlertForm(formdata=None, obj=edit)
        if edit is not None:
            form.line_item_id.data = str(edit.line_item_id or "")
    return dict(package=package, customer=package.customer, alerts=alerts, values=values,
                edit=edit, form=form.for_package(package))


def _save(form: UsageAlertForm, package: Package, alert: UsageAlert | None):
    return save_alert(alert, package, line_item_id=int(form.line_item_id.data) if form.line_item_id.data else None,
                      metric=form.metric.data, threshold=form.threshold.data,
                      notify_merchant=form.notify_merchant.data, notify_customer=form.notify_customer.data,
                      enabled=form.enabled.data)


@bp.get("/packages/<int:package_id>/alerts")
def usage_alerts(package_id: int):
    """A package's usage alerts, their current values and the form to add one."""
    package = _package(package_id)
    edit = _alert(request.args.get("edit", type=int)) if request.args.get("edit") else None
    return page(PAGE, PARTIAL, **_context(package, edit=edit if edit and edit.package_id == package.id else None))


@bp.post("/packages/<int:package_id>/alerts")
@admin_required
def usage_alert_create(package_id: int):
    """Add an alert (evaluated at once)."""
    package = _package(package_id)
    form = UsageAlertForm().for_package(package)
    return form_action(
        lambda: _save(form, package, None), form=form, aliases={"line_item_id": "line_item_id"},
        refuse=lambda: (PAGE, PARTIAL, _context(package, form)), message="The usage alert was added.",
        done=lambda _: redirect(url_for("merchant.usage_alerts", package_id=package.id), 303))


@bp.post("/alerts/<int:alert_id>")
@admin_required
def usage_alert_update(alert_id: int):
    """Change an alert (a new threshold may fire again in this period)."""
    alert = _alert(alert_id)
    package = alert.package
    form = UsageAlertForm().for_package(package)
    return form_action(
        lambda: _save(form, package, alert), form=form,
        refuse=lambda: (PAGE, PARTIAL, _context(package, form, edit=alert)),
        message="The usage alert was saved.",
        done=lambda _: redirect(url_for("merchant.usage_alerts", package_id=package.id), 303))


@bp.post("/alerts/<int:alert_id>/delete")
@admin_required
def usage_alert_delete(alert_id: int):
    """Remove an alert."""
    alert = _alert(alert_id)
    package_id = alert.package_id
    delete_alert(alert)
    db.session.commit()
    flash("The usage alert was removed.", "info")
    return redirect(url_for("merchant.usage_alerts", package_id=package_id), 303)
