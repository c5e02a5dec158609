"""Forms of the integrations: the reminder schedule (dunning), a line's pulled usage URL."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length


class ReminderForm(FlaskForm):
    """Whether overdue invoices get reminders, and when (days after the due date)."""

    enabled = BooleanField("Send reminders for overdue invoices")
    days = StringField("Days after the due date", validators=[Length(max=200)],
                       render_kw={"placeholder": "3, 7, 14"})


class PullUrlForm(FlaskForm):
    """A line's pulled usage URL (empty removes it)."""

    usage_url = StringField("Usage URL", validators=[Length(max=2000)],
                            render_kw={"placeholder": "https://example.com/meterbill-usage"})
