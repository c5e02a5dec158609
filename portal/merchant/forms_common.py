"""Helpers shared by the merchant portal's forms and pages: service errors shown next to
their field, optional text, dates in the merchant time zone, and HTMX-aware pages."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import flash, render_template, request
from wtforms import Field, FieldList, Form, FormField, SelectChoice

from portal.billing.errors import ValidationError
from portal.extensions import db
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


def _refuse(refuse):
    full, partial, context = refuse()
    return refused(full, partial, **context)


def form_action(action, *, refuse, done, form: Form | None = None, message=None,
                aliases: dict | None = None, failure: str = "Not saved: {}.", valid=None):
    """The one way a merchant form or button runs a service: validate → service → on a
    ValidationError roll back and answer 422, else commit, flash and answer.

    :param action: the service call, `() -> result`; it flushes, this commits.
    :param refuse: `() -> (full template, partial template, context)` of the page that shows
        the error (status 422).
    :param done: `(result) -> response` after the commit: a redirect, or the partial for HTMX.
    :param form: the posted form, validated first; the service's error is shown next to the
        field it names. Without a form the error is flashed in `failure` ("Not deleted: {}.").
    :param message: flashed after the commit; a text or `(result) -> text`.
    :param aliases: service field name → form field name where they differ.
    :param valid: `(form) -> bool` instead of `form.validate()` (e.g. flagging every missing field).
    """
    if form is not None and not (valid(form) if valid else form.validate()):
        return _refuse(refuse)
    try:
        result = action()
    except ValidationError as error:
        db.session.rollback()
        if form is not None:
            attach_error(form, error, aliases)
        else:
            flash(failure.format(error.message), "error")
        return _refuse(refuse)
    db.session.commit()
    if message is not None:
        flash(message(result) if callable(message) else message, "info")
    return done(result)


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs (WTForms 3.3 deprecates plain tuples)."""
    return [SelectChoice(str(value), label) for value, label in pairs]
