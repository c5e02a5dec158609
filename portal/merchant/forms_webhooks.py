"""Forms of the webhooks page (CSRF included) and of usage alerts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.merchant.forms_common import choices
from portal.services.events import EVENT_NAMES, EVENTS


def event_choices():
    """Every event, each context as a whole ("invoice.*") and everything ("*")."""
    return choices([("*", "Every event"), *((f"{c}.*", f"Every {c} event") for c in EVENTS),
                    *((name, name) for name in EVENT_NAMES)])


class WebhookEndpointForm(FlaskForm):
    """A receiver: its URL, the events it wants, whether it gets them now."""

    url = StringField("Endpoint URL", validators=[DataRequired(), Length(max=2000)])
    events = SelectMultipleField("Events", choices=event_choices(),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    enabled = BooleanField("Enabled", default=True)
    description = StringField("Description", validators=[Length(max=255)])
