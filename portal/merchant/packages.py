"""Packages: create one for a customer, its detail, and every package action."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from portal.billing.errors import ValidationError
from portal.billing.money import parse_decimal
from portal.db_types import utcnow
from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import (
    PAYCYCLE_LABELS, attach_error, form_action, local_date_start, page, refused, text_or_none,
)
from portal.merchant.forms_packages import (
    AddLineForm, CancelForm, PackageEditForm, PackageForm, QuantityForm, SuspendForm, bill_summary,
    edit_fields, line_draft, line_drafts, line_rows_after, package_edit_data, schedule,
    set_item_choices,
)
from portal.models import Customer, Package
from portal.jobs.billing import bill_package_now
from portal.services.listings import package_invoices
from portal.services.packages import (
    cancel_line, cancel_package, change_line_quantity, create_package, is_invoiced, package_line,
    subscribe_line, update_package, withdraw_cancel,
)
from portal.services.suspensions import pending_suspension, suspend_package, unsuspend_package
from portal.billing.periods import period_containing
from portal.services import merchant_tz
from portal.services.packages import package_anchor
from portal.services.reports import local_today
from portal.services.usage_pulls import blocking_pulls, set_pull_url
from portal.web import render_page

FORM_PAGE = "merchant/package_form.html"
DETAIL_PAGE, DETAIL_PARTIAL = "merchant/package.html", "partials/merchant_package_detail.html"



def due_invoice_count(package: Package, now) -> int:
    """How many invoices "Bill now" would issue: one per billing date from the package's
    next invoice date up to `now` (0 when the next one is still to come)."""
    if package.next_invoice_at is None or package.next_invoice_at > now:
        return 0
    tz, anchor = merchant_tz(), package_anchor(package)
    first = period_containing(anchor, package.paycycle, package.next_invoice_at, tz).index
    return period_containing(anchor, package.paycycle, now, tz).index - first + 1


def _detail(package: Package, add_form: AddLineForm | None = None,
            edit_form: PackageEditForm | None = None) -> dict:
    """The package page's context."""
    add_form = add_form or AddLineForm()
    set_item_choices(add_form)
    return {"package": package, "customer": package.customer, "invoices": package_invoices(package.id),
            "add_form": add_form, "edit_form": edit_form or PackageEditForm(data=package_edit_data(package)),
            "invoiced": is_invoiced(package), "paycycles": PAYCYCLE_LABELS,
            "suspension": pending_suspension(package), "now": utcnow(),
            "due_count": due_invoice_count(package, utcnow()), "waiting_pulls": blocking_pulls(package.id)}


def _done(package_id: int, message: str):
    """After an action: commit, say what happened, show the package (its partial for HTMX)."""
    db.session.commit()
    flash(message, "info")
    if getattr(request, "htmx", False):
        return render_page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(db.get_or_404(Package, package_id)))
    return redirect(url_for("merchant.package", package_id=package_id))


def _act(package_id: int, action, message: str, form=None, **forms):
    """Run a package service action; a refusal re-renders the page (422) with its message."""
    if form is not None and not form.validate():
        field, errors = next(iter(form.errors.items()))
        problem = f"{field}: {errors[0]}"
    else:
        try:
            action()
        except ValidationError as error:
            db.session.rollback()
            if form is not None:
                attach_error(form, error)
            problem = f"{error.field}: {error.message}"
        else:
            return _done(package_id, message() if callable(message) else message)
    flash(f"Not done: {problem}", "error")
    return refused(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(db.get_or_404(Package, package_id), **forms))


@bp.get("/customers/<int:customer_id>/packages/new")
def package_new(customer_id: int):
    """The form for a new package of a customer."""
    customer = db.get_or_404(Customer, customer_id)
    form = PackageForm(data={"start_datetime": local_today(utcnow()).isoformat(), "paycycle": "mon"})
    set_item_choices(form)
    return render_template(FORM_PAGE, form=form, customer=customer)


@bp.get("/packages/line-rows")
def package_line_rows():
    """HTMX: the new package's line rows, with a row added (?add=1) or removed (?remove=k)."""
    typed = PackageForm(formdata=request.args, meta={"csrf": False})
    rows = line_rows_after(typed, bool(request.args.get("add")), request.args.get("remove", type=int))
    form = PackageForm(formdata=None, data={"line_items": rows}, meta={"csrf": False})
    set_item_choices(form)
    return render_template("partials/merchant_package_lines_editor.html", form=form)


@bp.post("/customers/<int:customer_id>/packages")
@admin_required
def package_create(customer_id: int):
    """Create a package through the packages service."""
    customer = db.get_or_404(Customer, customer_id)
    form = PackageForm()
    set_item_choices(form)
    return form_action(lambda: create_package(
        customer, line_drafts(form), paycycle=form.paycycle.data, nickname=text_or_none(form.nickname.data),
        external_key=text_or_none(form.external_key.data), **schedule(form)), form=form,
        refuse=lambda: (FORM_PAGE, FORM_PAGE, {"form": form, "customer": db.session.get(Customer, customer_id)}),
        message=lambda package: (f"Package created; its first invoice is due "
                                 f"{local_today(package.next_invoice_at).isoformat()}."),
        done=lambda package: redirect(url_for("merchant.package", package_id=package.id)))


@bp.get("/packages/<int:package_id>")
def package(package_id: int):
    """A package with its lines, invoices and actions (HTMX gets the detail block)."""
    return page(DETAIL_PAGE, DETAIL_PARTIAL, **_detail(db.get_or_404(Package, package_id)))


@bp.post("/packages/<int:package_id>/edit")
@admin_required
def package_update(package_id: int):
    """Change a package's nickname and key (cycle and hold date before its first invoice)."""
    package, form = db.get_or_404(Package, package_id), PackageEditForm()
    return _act(package_id, lambda: update_package(package, **edit_fields(package, form, request.form)),
                "Package saved.", form, edit_form=form)


@bp.post("/packages/<int:package_id>/lines")
@admin_required
def line_add(package_id: int):
    """Add a line to a package from a date (default now)."""
    package, form = db.get_or_404(Package, package_id), AddLineForm()

    def add():
        line = subscribe_line(package, line_draft(form), local_date_start(
            form.effective_datetime.data, "effective_datetime"))
        if (form.usage_url.data or "").strip():
            set_pull_url(line, form.usage_url.data)
    return _act(package_id, add, "Line added.", form, add_form=form)


@bp.post("/packages/<int:package_id>/lines/<int:line_id>/quantity")
@admin_required
def line_quantity(package_id: int, line_id: int):
    """Change a line's quantity from a date (default now); charges are prorated."""
    package, form = db.get_or_404(Package, package_id), QuantityForm()
    return _act(package_id, lambda: change_line_quantity(
        package_line(package, line_id), parse_decimal(form.line_quantity.data or "", "line_quantity"),
        local_date_start(form.effective_datetime.data, "effective_datetime")), "Quantity changed.")


@bp.post("/packages/<int:package_id>/lines/<int:line_id>/cancel")
@admin_required
def line_cancel(package_id: int, line_id: int):
    """Cancel one line of a package."""
    package, form = db.get_or_404(Package, package_id), CancelForm()
    return _act(package_id, lambda: cancel_line(package_line(package, line_id), local_date_start(
        form.cancel_datetime.data, "cancel_datetime")), "Line canceled.")


@bp.post("/packages/<int:package_id>/cancel")
@admin_required
def package_cancel(package_id: int):
    """Cancel the package now or on a future date; the run at that instant writes the final invoice."""
    package, form = db.get_or_404(Package, package_id), CancelForm()
    return _act(package_id, lambda: cancel_package(package, local_date_start(
        form.cancel_datetime.data, "cancel_datetime")), lambda: (
        "Package canceled; the final invoice follows." if package.status.startswith("canceled")
        else "Cancel scheduled: the package stays active until then; the final invoice follows."))


@bp.post("/packages/<int:package_id>/uncancel")
@admin_required
def package_uncancel(package_id: int):
    """Withdraw the package's scheduled cancel."""
    package = db.get_or_404(Package, package_id)
    return _act(package_id, lambda: withdraw_cancel(package), "Scheduled cancel withdrawn.")


@bp.post("/packages/<int:package_id>/suspend")
@admin_required
def package_suspend(package_id: int):
    """Suspend the package between two dates (default: from now, until unsuspended)."""
    package, form = db.get_or_404(Package, package_id), SuspendForm()
    return _act(package_id, lambda: suspend_package(
        package, local_date_start(form.suspendfrom_datetime.data, "suspendfrom_datetime"),
        local_date_start(form.suspendto_datetime.data, "suspendto_datetime")), "Package suspended.")


@bp.post("/packages/<int:package_id>/unsuspend")
@admin_required
def package_unsuspend(package_id: int):
    """Make a suspended package active again."""
    package = db.get_or_404(Package, package_id)
    return _act(package_id, lambda: unsuspend_package(package), "Package active again.")


@bp.post("/packages/<int:package_id>/bill")
@admin_required
def package_bill(package_id: int):
    """Bill what is due now through the billing job (`jobs.billing`: it commits each invoice)."""
    invoices = bill_package_now(db.get_or_404(Package, package_id), utcnow())
    return _done(package_id, bill_summary(db.get_or_404(Package, package_id), invoices))

