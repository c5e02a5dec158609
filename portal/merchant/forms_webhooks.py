"""Forms of the webhooks page (CSRF included) and of usage alerts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
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


class UsageAlertForm(FlaskForm):
    """A usage alert: which line (or the whole package), quantity or cost, the threshold."""

    line_item_id = SelectField("Measured on", choices=[], validate_choice=False)
    metric = SelectField("Alert on", choices=choices([("quantity", "Usage quantity"), ("cost", "Usage cost")]))
    threshold = StringField("Threshold", validators=[DataRequired(), Length(max=40)])
    notify_merchant = BooleanField("E-mail the merchant", default=True)
    notify_customer = BooleanField("E-mail the customer's billing contact")
    enabled = BooleanField("Enabled", default=True)

    def for_package(self, package) -> UsageAlertForm:
        """Offer the package's metered lines, or the package as a whole."""
        self.line_item_id.choices = choices(
            [("", "All metered lines of the package"),
             *((line.id, f"{line.descrip or line.item.name} (line {line.id})")
               for line in package.line_items if line.item.is_metered)])
        return self
