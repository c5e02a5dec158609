"""Helpers shared by the merchant portal's forms and pages: service errors shown next to
their field, optional text, dates in the merchant time zone, and HTMX-aware pages."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import render_template, request
from wtforms import Field, FieldList, Form, FormField, SelectChoice

from portal.billing.errors import ValidationError
from portal.presentation.errors import field_words, people_numbers
from portal.presentation.labels import VOCABULARIES
from portal.services import merchant_tz
from portal.timeutil import localize
from portal.web import render_page

# Bad input: the form comes back with this status and a message next to the field.
UNPROCESSABLE = 422
_PATH_PART = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?")


def _resolve(form: Form, path: str):
    """The field a service error's path names ("tiers[1].unit_from"), or None."""
    node = form
    for part in path.split("."):
        match = _PATH_PART.fullmatch(part)
        field = getattr(node, match.group(1), None) if match else None
        if not isinstance(field, Field):
            return None
        if match.group(2) is not None:
            entries = getattr(field, "entries", [])
            index = int(match.group(2))
            field = entries[index] if index < len(entries) else field
        node = field.form if isinstance(field, FormField) else field
    return node if isinstance(node, Field) else None


def attach_error(form: Form, error: ValidationError, aliases: dict | None = None) -> None:
    """Show a service's ValidationError next to the form field it names.

    A list's own error ("tiers") goes to `form.list_errors[name]`, shown under the list;
    an error naming no field of the form goes to `form.form_errors`, shown on top.
    :param form: the form that was submitted.
    :param error: the error; its field uses the billing core's names (``tiers[1].amount``).
    :param aliases: service field name → form field name where they differ.
    """
    path = (aliases or {}).get(error.field, error.field)
    field, message = _resolve(form, path), people_numbers(error.message)
    if isinstance(field, FieldList):
        form.list_errors = {**getattr(form, "list_errors", {}), field.short_name: message}
    elif field is None:
        form.form_errors.append(f"{field_words(error.field)}: {message}")
    else:
        field.errors = [*field.errors, message]


def text_or_none(value: str | None) -> str | None:
    """A text field's value stripped, or None when empty."""
    text = (value or "").strip()
    return text or None


def local_date_start(value: str | None, field: str) -> datetime | None:
    """A "YYYY-MM-DD" date field as the local midnight it starts at (aware UTC), or None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, "must be a date like 2025-10-01") from None
    if not 1970 <= day.year <= 9000:
        raise ValidationError(field, "must be between 1970 and 9000")
    return localize(datetime.combine(day, datetime.min.time()), merchant_tz())


def parse_day(value: str | None) -> date | None:
    """A query-string date ("YYYY-MM-DD"), or None when empty or not a date (filters)."""
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None



def page(full: str, partial: str, **context):
    """render_page, except that an HTMX history restore gets the full page it expects."""
    if getattr(request, "htmx", False) and request.htmx.history_restore_request:
        return render_template(full, **context)
    return render_page(full, partial, **context)


def refused(full: str, partial: str, **context):
    """A form page (or its partial) re-rendered with its errors, status 422."""
    response = page(full, partial, **context)
    if isinstance(response, str):
        return response, UNPROCESSABLE
    response.status_code = UNPROCESSABLE
    return response


PAYCYCLE_LABELS = VOCABULARIES["paycycle"]


def attempt(form: Form, action, aliases: dict | None = None):
    """Run a service call; on ValidationError roll back and show it on `form`.

    :returns: (True, the call's result) or (False, None).
    """
    from portal.extensions import db

    try:
        return True, action()
    except ValidationError as error:
        db.session.rollback()
        attach_error(form, error, aliases)
        return False, None


def submit(form: Form, action, aliases: dict | None = None):
    """Validate the posted form, then run the service call as `attempt` does."""
    return attempt(form, action, aliases) if form.validate() else (False, None)


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs (WTForms 3.3 deprecates plain tuples)."""
    return [SelectChoice(str(value), label) for value, label in pairs]
