"""Pulled usage URLs of package lines: the merchant's endpoint Meterbill asks for the usage
before invoicing, its security token, and each pull (waiting, error, done) with "retry now"."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action
from portal.merchant.forms_reminders import PullUrlForm
from portal.models import LineItem, UsagePull
from portal.services.usage_pulls import line_pulls, pull_url, retry_pull, set_pull_url

PAGE = "merchant/pull_url.html"


def _line(line_id: int) -> LineItem:
    line = db.session.get(LineItem, line_id)
    if line is None or not line.item.is_metered:
        abort(404)
    return line


def _context(line: LineItem, form: PullUrlForm | None = None) -> dict:
    source = pull_url(line.id)
    return {"line": line, "package": line.package, "source": source, "pulls": line_pulls(line.id, 20),
            "form": form or PullUrlForm(data={"usage_url": source.url if source else ""})}


@bp.get("/lines/<int:line_id>/pull-url")
def pull_url_page(line_id: int):
    """The line's pulled usage URL and its latest pulls."""
    return render_template(PAGE, **_context(_line(line_id)))


@bp.post("/lines/<int:line_id>/pull-url")
@admin_required
def pull_url_save(line_id: int):
    """Set, change or remove (empty) the line's pulled usage URL."""
    line, form = _line(line_id), PullUrlForm()
    return form_action(
        lambda: set_pull_url(line, form.usage_url.data), form=form,
        refuse=lambda: (PAGE, PAGE, _context(line, form)),
        message="Usage URL saved." if (form.usage_url.data or "").strip() else "Usage URL removed.",
        done=lambda _: redirect(url_for("merchant.pull_url_page", line_id=line_id)))


@bp.post("/lines/<int:line_id>/pull-url/retry")
@admin_required
def pull_url_retry(line_id: int):
    """Ask the endpoint again now for every waiting pull of the line."""
    line = _line(line_id)
    waiting = [p for p in line_pulls(line.id, 100) if p.status != "done"]
    for pull in waiting:
        retry_pull(db.session.get(UsagePull, pull.id))
    db.session.commit()
    flash(f"{len(waiting)} pull(s) queued to run now." if waiting else "No pull is waiting.", "info")
    return redirect(url_for("merchant.pull_url_page", line_id=line_id))
