"""Usage URLs of package lines: show, copy, issue/rotate, revoke (admins only: a usage URL
is a write credential, anyone holding it records billable usage)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.models import LineItem, UsageUrl
from portal.services.usage_urls import absolute_url, active_url, issue_url, revoke_url



@bp.get("/lines/<int:line_id>/usage-url")
@admin_required
def usage_url(line_id: int):
    """The line's usage URL with its controls."""
    line = db.get_or_404(LineItem, line_id)
    current = active_url(line)
    return render_template("merchant/usage_url.html", line=line, current=current,
                           url=absolute_url(current) if current else None)


@bp.post("/lines/<int:line_id>/usage-url")
@admin_required
def issue_usage_url(line_id: int):
    """Issue a usage URL, or rotate it (the old one stops working at once)."""
    line = db.get_or_404(LineItem, line_id)
    rotating = active_url(line) is not None
    try:
        issue_url(line)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("merchant.usage_url", line_id=line_id)), 303
    db.session.commit()
    flash("New usage URL issued; the previous one no longer works." if rotating
          else "Usage URL issued.", "info")
    return redirect(url_for("merchant.usage_url", line_id=line_id)), 303


@bp.post("/usage-urls/<int:url_id>/revoke")
@admin_required
def revoke_usage_url(url_id: int):
    """Revoke a usage URL at once."""
    found = db.get_or_404(UsageUrl, url_id)
    revoke_url(found)
    db.session.commit()
    flash("Usage URL revoked.", "info")
    return redirect(url_for("merchant.usage_url", line_id=found.line_item_id)), 303
