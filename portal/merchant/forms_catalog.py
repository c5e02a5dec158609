"""Forms of the catalog: an item with its price model and a tier editor."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from portal.merchant.forms_common import PAYCYCLE_LABELS, choices, text_or_none
from portal.models import Item
from portal.models.catalog import ITEM_TYPES
from portal.presentation.labels import VOCABULARIES

PRICEMODEL_LABELS = VOCABULARIES["pricemodel"]
PRICEMODEL_HINTS = {
    "fla": "A fixed fee per cycle (the base fee × the line quantity); tiers are not used.",
    "uni": "One tier: its amount is the price of each unit.",
    "tie": "Each unit is charged at the price of the tier it falls in, plus each reached tier's flat fee.",
    "vol": "All units at the price of the tier the total falls in, plus that tier's flat fee.",
    "stp": "The amount of the tier the total falls in is the whole price.",
    "pkg": "One tier: its amount is the price of each started block of units.",
    "pas": "No tiers: the quantity (the usage sent) is the amount charged, e.g. costs resold.",
}
USAGE_TYPE_LABELS = {"add": "Sum of the period's usage", "max": "Maximum value in the period",
                     "lat": "Latest value in the period"}
NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
PRICING_FIELDS = ("base", "setup", "minimum", "block_size")
TIER_FIELDS = ("unit_from", "unit_to", "amount", "flat")


class TierForm(Form):
    """One tier row (no CSRF of its own: it is part of the item form)."""

    unit_from = StringField("From", validators=[Length(max=40)], render_kw=NUMBER)
    unit_to = StringField("To", validators=[Length(max=40)], render_kw=NUMBER)
    amount = StringField("Price", validators=[Length(max=40)], render_kw=NUMBER)
    flat = StringField("Flat fee", validators=[Length(max=40)], render_kw=NUMBER)


class ItemForm(FlaskForm):
    """An item and its price model (validated by the catalog service, not here)."""

    name = StringField("Name", validators=[Length(max=255)])
    item_type = SelectField("Type", choices=choices((t, t.capitalize()) for t in ITEM_TYPES), default="service")
    units = StringField("Unit (singular)", validators=[Length(max=60)])
    units_plural = StringField("Unit (plural)", validators=[Length(max=60)])
    external_key = StringField("External key", validators=[Length(max=255)])
    description = TextAreaField("Description", validators=[Length(max=10000)])
    is_metered = BooleanField("Metered (usage is sent for it and billed in arrears)")
    usage_type = SelectField("Usage aggregation", choices=choices(USAGE_TYPE_LABELS.items()), default="add")
    enabled = BooleanField("Enabled (may be added to packages)", default=True)
    pricemodel = SelectField("Price model", choices=choices(PRICEMODEL_LABELS.items()), default="uni")
    base = StringField("Base fee per cycle", validators=[Length(max=40)], render_kw=NUMBER)
    setup = StringField("Setup fee (once)", validators=[Length(max=40)], render_kw=NUMBER)
    minimum = StringField("Minimum usage charge", validators=[Length(max=40)], render_kw=NUMBER)
    block_size = StringField("Block size (package model)", validators=[Length(max=40)], render_kw=NUMBER)
    paycycle = SelectField("Billed", choices=choices([("", "Every billing cycle"), *PAYCYCLE_LABELS.items()]),
                           default="")
    tiers = FieldList(FormField(TierForm), min_entries=1, max_entries=100)


def _tier_rows(form: ItemForm) -> list[dict]:
    """The tier rows typed, blank rows left out."""
    rows = [{name: (entry[name].data or "").strip() for name in TIER_FIELDS} for entry in form.tiers]
    return [row for row in rows if any(row.values())]


def pricing_input(form: ItemForm) -> dict:
    """The price model as parse_pricemodel reads it (a flat model has no tiers)."""
    raw = {name: (form[name].data or "").strip() for name in PRICING_FIELDS}
    raw.update(pricemodel=form.pricemodel.data, paycycle=form.paycycle.data or None)
    raw["tiers"] = None if form.pricemodel.data in ("fla", "pas") else _tier_rows(form)
    return raw


def item_fields(form: ItemForm) -> dict:
    """The item's own fields for create_item / update_item."""
    return {
        "name": (form.name.data or "").strip(), "item_type": form.item_type.data,
        "units": text_or_none(form.units.data), "units_plural": text_or_none(form.units_plural.data),
        "external_key": text_or_none(form.external_key.data),
        "description": text_or_none(form.description.data), "is_metered": bool(form.is_metered.data),
        "usage_type": form.usage_type.data, "enabled": bool(form.enabled.data),
    }


def _text(value) -> str:
    return "" if value is None else f"{value:f}"


def item_form_data(item: Item) -> dict:
    """An item's current values as the form's initial data."""
    tierset = item.tierset
    data = {name: getattr(item, name) for name in ("name", "item_type", "units", "units_plural",
                                                   "external_key", "description", "is_metered",
                                                   "usage_type", "enabled")}
    data.update({name: _text(getattr(tierset, name)) for name in PRICING_FIELDS})
    data.update(pricemodel=tierset.pricemodel, paycycle=tierset.paycycle or "",
                tiers=[{name: _text(getattr(t, name)) for name in TIER_FIELDS} for t in tierset.tiers]
                or [{}])
    return data


def tier_rows_after(form: ItemForm, add: bool, remove: int | None) -> list[dict]:
    """The tier rows of the form with one row added at the end or one removed (editor)."""
    rows = [{name: entry[name].data or "" for name in TIER_FIELDS} for entry in form.tiers]
    if remove is not None and 0 <= remove < len(rows) and len(rows) > 1:
        rows.pop(remove)
    if add and len(rows) < 100:
        previous_to = rows[-1]["unit_to"] if rows else ""
        rows.append({"unit_from": previous_to, "unit_to": "", "amount": "", "flat": ""})
    return rows


def flag_missing(form: ItemForm) -> bool:
    """Mark every required field left empty at once (the name, a tier to price with, each
    typed tier's price), so an empty form shows all that is missing, not only the first.

    :returns: whether something was missing.
    """
    missing = []
    if not (form.name.data or "").strip():
        missing.append(form.name)
    if form.pricemodel.data != "fla":
        typed = [entry for entry in form.tiers if any((entry[n].data or "").strip() for n in TIER_FIELDS)]
        if not typed:
            name = PRICEMODEL_LABELS.get(form.pricemodel.data, form.pricemodel.data)
            form.list_errors = {**getattr(form, "list_errors", {}),
                                "tiers": f"the {name.lower()} price model needs at least one tier"}
            missing.append(form.tiers)
        missing += [entry["amount"] for entry in typed if not (entry["amount"].data or "").strip()]
    for field in missing:
        if field is not form.tiers:
            field.errors = [*field.errors, "is required"]
    return bool(missing)
