"""The catalog: items, their price models with a tier editor, and a price calculator."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from portal.billing.errors import ValidationError
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_catalog import (
    PRICEMODEL_HINTS, PRICEMODEL_LABELS, ItemForm, flag_missing, item_fields, item_form_data, pricing_input,
    tier_rows_after,
)
from portal.merchant.forms_common import form_action
from portal.models import Item
from portal.services.catalog import (
    create_item, delete_item, item_in_use, parse_pricemodel, pricemodel_of, quote_price, update_item,
)
from portal.services.listings import catalog_items, items_in_use
from portal.services.settings import ensure_settings

FORM_PAGE = "merchant/item_form.html"
CALCULATOR_START = "100"



def _form_page(form: ItemForm, item: Item | None):
    """The item form's template context; the calculator starts at 100 units when the
    form's price model is complete."""
    try:
        quote = quote_price(parse_pricemodel(pricing_input(form), prefix=""), CALCULATOR_START)
    except ValidationError:
        quote = None
    return {"form": form, "item": item, "hints": PRICEMODEL_HINTS, "quote": quote, "error": None,
            "in_use": item is not None and item_in_use(item),
            "currency": ensure_settings().default_currency}


def _preview_form() -> ItemForm:
    """The unsaved form sent by the tier editor or the calculator (a read: no CSRF)."""
    return ItemForm(formdata=request.args, meta={"csrf": False})


def _new_pricing(item: Item, form: ItemForm):
    """The form's price model, or None when it equals the item's (no new tierset)."""
    pricing = parse_pricemodel(pricing_input(form), prefix="")
    return None if pricing == pricemodel_of(item.tierset) else pricing


@bp.get("/items")
def items():
    """The catalog: every item with its price model."""
    rows = catalog_items()
    return render_template("merchant/items.html", items=rows, labels=PRICEMODEL_LABELS,
                           in_use=items_in_use([i.id for i in rows]))


def _checked(form: ItemForm) -> bool:
    """Validate the form and flag every missing field (not only the first)."""
    valid = form.validate()
    return not flag_missing(form) and valid


def _to_items(_item):
    return redirect(url_for("merchant.items"))


@bp.get("/items/new")
def item_new():
    """The form for a new item."""
    return render_template(FORM_PAGE, **_form_page(ItemForm(), None))


@bp.post("/items")
@admin_required
def item_create():
    """Create an item through the catalog service."""
    form = ItemForm()
    return form_action(lambda: create_item(pricing=parse_pricemodel(pricing_input(form), prefix=""),
                                           **item_fields(form)),
                       form=form, valid=_checked, refuse=lambda: (FORM_PAGE, FORM_PAGE, _form_page(form, None)),
                       message=lambda item: f"Item “{item.name}” created.", done=_to_items)


@bp.get("/items/<int:item_id>")
def item_edit(item_id: int):
    """An item's form (read-only for viewers), with the price calculator."""
    item = db.get_or_404(Item, item_id)
    form = ItemForm(data=item_form_data(item))
    return render_template(FORM_PAGE, **_form_page(form, item))


@bp.post("/items/<int:item_id>")
@admin_required
def item_update(item_id: int):
    """Save an item through the catalog service (a changed price model is a new tierset)."""
    item = db.get_or_404(Item, item_id)
    form = ItemForm()
    return form_action(lambda: update_item(item, pricing=_new_pricing(item, form), **item_fields(form)),
                       form=form, valid=_checked, refuse=lambda: (FORM_PAGE, FORM_PAGE, _form_page(form, item)),
                       message=lambda _: f"Item “{item.name}” saved.", done=_to_items)


@bp.post("/items/<int:item_id>/delete")
@admin_required
def item_delete(item_id: int):
    """Delete an item no package or invoice uses."""
    item = db.get_or_404(Item, item_id)
    name = item.name
    try:
        delete_item(item)
    except ValidationError as error:
        db.session.rollback()
        flash(f"Not deleted: {error.message}. Disable the item instead.", "error")
        return redirect(url_for("merchant.item_edit", item_id=item_id))
    db.session.commit()
    flash(f"Item “{name}” deleted.", "info")
    return redirect(url_for("merchant.items"))


@bp.get("/items/tier-editor")
def item_tier_editor():
    """HTMX: the tier rows again, with a row added (?add=1) or removed (?remove=k)."""
    typed = _preview_form()
    remove = request.args.get("remove", type=int)
    rows = tier_rows_after(typed, add=bool(request.args.get("add")), remove=remove)
    form = ItemForm(formdata=None, data={"pricemodel": typed.pricemodel.data, "tiers": rows},
                    meta={"csrf": False})
    return render_template("partials/merchant_tier_editor.html", form=form, hints=PRICEMODEL_HINTS)


@bp.get("/items/price")
def item_price():
    """HTMX: the price of ?quantity= under the typed (unsaved) price model, tier by tier."""
    form = _preview_form()
    quote, error = None, None
    try:
        quote = quote_price(parse_pricemodel(pricing_input(form), prefix=""),
                            request.args.get("quantity", "").strip() or "0")
    except ValidationError as exc:
        error = exc
    return render_template("partials/merchant_price_quote.html", quote=quote, error=error,
                           currency=ensure_settings().default_currency)
