"""Forms of packages: a new package with its lines, line changes and package actions."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import Length

from portal.billing.errors import ValidationError
from portal.billing.money import parse_decimal
from portal.extensions import db
from portal.merchant.forms_common import PAYCYCLE_LABELS, choices, local_date_start, text_or_none
from portal.models import Invoice, Item, Package
from portal.services import merchant_tz
from portal.services.catalog import field_prefix
from portal.services.listings import item_choices
from portal.services.packages import LineDraft

DATE = {"type": "date"}
NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
LINE_FIELDS = ("item_id", "line_quantity", "descrip")


def _item_select(label: str = "Item") -> SelectField:
    # Choices are filled per request (set_item_choices); the service checks the item.
    return SelectField(label, choices=[], validate_choice=False)


class LineForm(Form):
    """One line of a new package (no CSRF of its own)."""

    item_id = _item_select()
    line_quantity = StringField("Quantity", default="1", validators=[Length(max=40)], render_kw=NUMBER)
    descrip = StringField("Description", validators=[Length(max=10000)])


class PackageForm(FlaskForm):
    """A new package: schedule and lines (named as the service names them in errors)."""

    nickname = StringField("Nickname", validators=[Length(max=255)])
    external_key = StringField("External key", validators=[Length(max=255)])
    paycycle = SelectField("Billing cycle", choices=choices(PAYCYCLE_LABELS.items()), default="mon")
    start_datetime = StringField("Start", render_kw=DATE)
    holduntil_datetime = StringField("No invoice before", render_kw=DATE)
    line_items = FieldList(FormField(LineForm), min_entries=1, max_entries=50)


class PackageEditForm(FlaskForm):
    """A package's names; cycle and hold date only until its first invoice."""

    nickname = StringField("Nickname", validators=[Length(max=255)])
    external_key = StringField("External key", validators=[Length(max=255)])
    paycycle = SelectField("Billing cycle", choices=choices(PAYCYCLE_LABELS.items()))
    holduntil_datetime = StringField("No invoice before", render_kw=DATE)


class AddLineForm(FlaskForm):
    """A line added to an existing package."""

    item_id = _item_select()
    line_quantity = StringField("Quantity", default="1", validators=[Length(max=40)], render_kw=NUMBER)
    descrip = StringField("Description", validators=[Length(max=10000)])
    effective_datetime = StringField("From", render_kw=DATE)
    usage_url = StringField("Pulled usage URL", validators=[Length(max=2000)],
                            render_kw={"placeholder": "https://… (optional, metered items)"})


class QuantityForm(FlaskForm):
    """A line's new quantity, from a date (default now)."""

    line_quantity = StringField("Quantity", validators=[Length(max=40)], render_kw=NUMBER)
    effective_datetime = StringField("From", render_kw=DATE)


class CancelForm(FlaskForm):
    """Cancel a package or a line, at a date (default now)."""

    cancel_datetime = StringField("Cancel on", render_kw=DATE)


class SuspendForm(FlaskForm):
    """Suspend a package from a date (default now) until a date (default: until unsuspended)."""

    suspendfrom_datetime = StringField("Suspend from", render_kw=DATE)
    suspendto_datetime = StringField("Until", render_kw=DATE)


def set_item_choices(*forms) -> None:
    """Offer the enabled items in every item select of these forms."""
    options = choices([("", "Choose an item…"), *item_choices()])
    for form in forms:
        entries = [entry.form for entry in form.line_items] if hasattr(form, "line_items") else [form]
        for entry in entries:
            entry.item_id.choices = options


def _item(value: str | None) -> Item:
    # isdigit() accepts "²" too; only plain ASCII digits are an id.
    valid = bool(value) and value.isascii() and value.isdigit() and len(value) < 10
    item = db.session.get(Item, int(value)) if valid else None
    if item is None:
        raise ValidationError("item_id", "choose an item")
    return item


def line_draft(form) -> LineDraft:
    """The line a LineForm or AddLineForm describes (errors name its fields)."""
    return LineDraft(item=_item(form.item_id.data),
                     line_quantity=parse_decimal(form.line_quantity.data or "1", "line_quantity"),
                     descrip=text_or_none(form.descrip.data))


def line_drafts(form: PackageForm) -> list[LineDraft]:
    """The new package's lines; blank rows are skipped, at least one line is needed."""
    drafts = []
    for index, entry in enumerate(form.line_items):
        if not entry.item_id.data and not (entry.descrip.data or "").strip():
            continue
        with field_prefix(f"line_items[{index}]"):
            drafts.append(line_draft(entry.form))
    if not drafts:
        raise ValidationError("line_items", "add at least one line with an item")
    return drafts


def schedule(form) -> dict:
    """The package's start and hold dates as local midnights (aware UTC)."""
    dates = {"holduntil_at": local_date_start(form.holduntil_datetime.data, "holduntil_datetime")}
    if hasattr(form, "start_datetime"):
        dates["start_at"] = local_date_start(form.start_datetime.data, "start_datetime")
    return dates


def line_rows_after(form: PackageForm, add: bool, remove: int | None) -> list[dict]:
    """The line rows with one added at the end or one removed (the new-package editor)."""
    rows = [{name: entry[name].data or "" for name in LINE_FIELDS} for entry in form.line_items]
    if remove is not None and 0 <= remove < len(rows) and len(rows) > 1:
        rows.pop(remove)
    if add and len(rows) < 50:
        rows.append({"item_id": "", "line_quantity": "1", "descrip": ""})
    return rows


def package_edit_data(package: Package) -> dict:
    """A package's current values for the edit form."""
    hold = package.holduntil_at
    return {"nickname": package.nickname, "external_key": package.external_key,
            "paycycle": package.paycycle,
            "holduntil_datetime": hold.astimezone(merchant_tz()).date().isoformat() if hold else ""}


def edit_fields(package: Package, form: PackageEditForm, posted: dict) -> dict:
    """update_package's fields: names always; cycle and hold date only when they changed
    (they are refused once the package is invoiced, and a disabled field is not posted)."""
    fields = {"nickname": text_or_none(form.nickname.data),
              "external_key": text_or_none(form.external_key.data)}
    if "paycycle" in posted and form.paycycle.data != package.paycycle:
        fields["paycycle"] = form.paycycle.data
    if "holduntil_datetime" in posted:
        if (form.holduntil_datetime.data or "") != package_edit_data(package)["holduntil_datetime"]:
            fields.update(schedule(form))
    return fields


def bill_summary(package: Package, invoices: list[Invoice]) -> str:
    """What a "bill now" did, in a sentence for the merchant."""
    if invoices:
        numbers = ", ".join(f"#{i.refnumber}" for i in invoices)
        return f"{len(invoices)} invoice{'s' if len(invoices) > 1 else ''} created ({numbers})."
    if package.status.startswith("suspended"):
        return "Nothing billed: the package is suspended."
    if package.next_invoice_at is None:
        return "Nothing more to bill: the package is canceled and its final invoice is written."
    due = package.next_invoice_at.astimezone(merchant_tz()).date().isoformat()
    return f"Nothing due until {due}."
