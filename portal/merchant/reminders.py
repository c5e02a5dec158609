"""Dunning settings: the reminder schedule for overdue invoices."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action
from portal.merchant.forms_reminders import ReminderForm
from portal.services.dunning import reminder_settings, update_reminder_settings

PAGE = "merchant/reminder_settings.html"


@bp.get("/settings/reminders")
def reminder_settings_page():
    """The reminder schedule (read-only for viewers)."""
    row = reminder_settings()
    form = ReminderForm(data={"enabled": row.enabled, "days": row.days.replace(",", ", ")})
    return render_template(PAGE, form=form)


@bp.post("/settings/reminders")
@admin_required
def reminder_settings_save():
    """Save the schedule through the dunning service."""
    form = ReminderForm()
    return form_action(
        lambda: update_reminder_settings(enabled=form.enabled.data, days=form.days.data), form=form,
        refuse=lambda: (PAGE, PAGE, {"form": form}), message="Reminder schedule saved.",
        done=lambda _: redirect(url_for("merchant.reminder_settings_page")))
