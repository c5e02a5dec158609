"""Webhooks: endpoints (URL, events, enabled, secret) and the delivery log with resend."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action, page
from portal.merchant.forms_webhooks import WebhookEndpointForm
from portal.models import WebhookDelivery, WebhookEndpoint
from portal.services import webhook_endpoints as endpoints
from portal.services.webhooks import body_of, resend
from portal.web import safe_next

PAGE, PARTIAL = "merchant/webhooks.html", "partials/merchant_webhooks.html"
LOG_PAGE, LOG_PARTIAL = "merchant/webhook_deliveries.html", "partials/merchant_webhook_deliveries.html"


def _page(form: WebhookEndpointForm | None = None, edit: WebhookEndpoint | None = None):
    return dict(endpoints=endpoints.all_endpoints(), counts=endpoints.delivery_counts(), edit=edit,
                form=form or WebhookEndpointForm(formdata=None, obj=edit))


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _saved(message: str):
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("merchant.webhooks"), 303)


@bp.get("/webhooks")
def webhooks():
    """The endpoints, their delivery counts and the form to add one."""
    edit = _endpoint(request.args.get("edit", type=int)) if request.args.get("edit") else None
    return page(PAGE, PARTIAL, **_page(edit=edit))


@bp.post("/webhooks")
@admin_required
def webhook_create():
    """Add an endpoint (it gets its own secret)."""
    form = WebhookEndpointForm()
    return form_action(
        lambda: endpoints.create_endpoint(url=form.url.data, events=form.events.data,
                                          enabled=form.enabled.data, description=form.description.data),
        form=form, refuse=lambda: (PAGE, PARTIAL, _page(form)),
        done=lambda endpoint: _saved(f"The endpoint {endpoint.url} was added."))


@bp.post("/webhooks/<int:endpoint_id>")
@admin_required
def webhook_update(endpoint_id: int):
    """Change an endpoint's URL, events or enabled."""
    endpoint, form = _endpoint(endpoint_id), WebhookEndpointForm()
    return form_action(
        lambda: endpoints.update_endpoint(endpoint, url=form.url.data, events=form.events.data,
                                          enabled=form.enabled.data, description=form.description.data),
        form=form, refuse=lambda: (PAGE, PARTIAL, _page(form, edit=endpoint)),
        done=lambda _: _saved(f"The endpoint {endpoint.url} was saved."))


@bp.post("/webhooks/<int:endpoint_id>/secret")
@admin_required
def webhook_rotate_secret(endpoint_id: int):
    """Give an endpoint a new secret (the old one stops verifying at once)."""
    endpoint = _endpoint(endpoint_id)
    endpoints.rotate_secret(endpoint)
    return _saved(f"The endpoint {endpoint.url} has a new secret.")


@bp.post("/webhooks/<int:endpoint_id>/delete")
@admin_required
def webhook_delete(endpoint_id: int):
    """Remove an endpoint and its delivery log."""
    endpoint = _endpoint(endpoint_id)
    endpoints.delete_endpoint(endpoint)
    return _saved(f"The endpoint {endpoint.url} was removed.")


@bp.get("/webhooks/deliveries")
def webhook_deliveries():
    """The delivery log: each event sent to each endpoint, its attempts and last answer."""
    endpoint_id = request.args.get("endpoint_id", type=int)
    status = request.args.get("status") if request.args.get("status") in ("pending", "delivered", "failed") else None
    rows = endpoints.recent_deliveries(endpoint_id, status)
    return page(LOG_PAGE, LOG_PARTIAL, deliveries=rows, bodies={d.id: body_of(d).decode() for d in rows},
                endpoints=endpoints.all_endpoints(), endpoint_id=endpoint_id, status=status)


@bp.post("/webhooks/deliveries/<int:delivery_id>/resend")
@admin_required
def webhook_resend(delivery_id: int):
    """Send a delivered or failed event again (same event id)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        abort(404)
    if delivery.status == "pending":
        flash("This delivery is still being attempted.", "error")
    else:
        resend(delivery)
        db.session.commit()
        flash(f"Event {delivery.event.uuid} will be sent again to {delivery.endpoint.url}.", "info")
    back = safe_next(request.form.get("back"), "/merchant", url_for("merchant.webhook_deliveries"))
    return redirect(back, 303)
