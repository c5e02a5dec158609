"""Customers: searchable list, detail (contacts, packages, invoices, payments), forms."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from portal.extensions import db
from portal.merchant.invitations import invitations_sent
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.merchant.forms_common import form_action, page
from portal.merchant.forms_customers import (
    ContactForm, CustomerForm, contact_fields, customer_fields, customer_form_data,
)
from portal.models import Customer
from portal.services.balances import balances_minor, customer_balance_minor
from portal.services.credit_notes import customer_credit_notes
from portal.services.customers import add_contact, create_customer, delete_customer, update_customer
from portal.services.listings import (
    customer_invoices, customer_packages, customer_payments, search_customers,
)
from portal.services.settings import ensure_settings
from portal.web import page_number

FORM_PAGE = "merchant/customer_form.html"
DETAIL_PAGE = "merchant/customer.html"
# The billing contact's errors belong to the form's main-contact fields.
CONTACT_ALIASES = {"email": "superuser_email", "phone": "superuser_phone"}



def _detail(customer: Customer, contact_form: ContactForm | None = None, **contacts) -> dict:
    """The customer page's context (`contacts` may carry the contact being edited)."""
    return {"customer": customer, "contact_form": contact_form or ContactForm(),
            "invited": invitations_sent(customer.contacts),
            "editing": None, "edit_form": None, **contacts,
            "packages": customer_packages(customer.id), "invoices": customer_invoices(customer.id),
            "payments": customer_payments(customer.id), "balance": customer_balance_minor(customer),
            "credit_notes": customer_credit_notes(customer.id)}


@bp.get("/customers")
def customers():
    """Customers, searched by company, e-mail or external key; HTMX gets the table only."""
    query = request.args.get("q", "").strip()
    results = search_customers(query, page_number())
    return page("merchant/customers.html", "partials/merchant_customer_table.html", query=query,
                results=results, balances=balances_minor([c.id for c in results.rows]))


@bp.get("/customers/new")
def customer_new():
    """The form for a new customer."""
    form = CustomerForm(data={"currency": ensure_settings().default_currency})
    return render_template(FORM_PAGE, form=form, customer=None)


def _to_customer(customer: Customer):
    return redirect(url_for("merchant.customer", customer_id=customer.id))


@bp.post("/customers")
@admin_required
def customer_create():
    """Create a customer through the customers service."""
    form = CustomerForm()
    return form_action(lambda: create_customer(**customer_fields(form)), form=form, aliases=CONTACT_ALIASES,
                       refuse=lambda: (FORM_PAGE, FORM_PAGE, {"form": form, "customer": None}),
                       message=lambda customer: f"Customer “{customer.company}” created.", done=_to_customer)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    """A customer with contacts, packages, invoices, payments and balance."""
    return render_template(DETAIL_PAGE, **_detail(db.get_or_404(Customer, customer_id)))


@bp.get("/customers/<int:customer_id>/edit")
def customer_edit(customer_id: int):
    """The form of an existing customer."""
    customer = db.get_or_404(Customer, customer_id)
    return render_template(FORM_PAGE, form=CustomerForm(data=customer_form_data(customer)),
                           customer=customer)


@bp.post("/customers/<int:customer_id>")
@admin_required
def customer_update(customer_id: int):
    """Save a customer through the customers service."""
    customer = db.get_or_404(Customer, customer_id)
    form = CustomerForm()
    return form_action(lambda: update_customer(customer, **customer_fields(form)), form=form, aliases=CONTACT_ALIASES,
                       refuse=lambda: (FORM_PAGE, FORM_PAGE, {"form": form, "customer": customer}),
                       message=lambda _: f"Customer “{customer.company}” saved.", done=_to_customer)


@bp.post("/customers/<int:customer_id>/delete")
@admin_required
def customer_delete(customer_id: int):
    """Delete a customer without packages and invoices."""
    customer = db.get_or_404(Customer, customer_id)
    return form_action(lambda: delete_customer(customer), failure="Not deleted: {}.",
                       refuse=lambda: (DETAIL_PAGE, DETAIL_PAGE, _detail(db.get_or_404(Customer, customer_id))),
                       message=f"Customer “{customer.company}” deleted.",
                       done=lambda _: redirect(url_for("merchant.customers")))


@bp.post("/customers/<int:customer_id>/contacts")
@admin_required
def contact_create(customer_id: int):
    """Add a contact to a customer."""
    customer = db.get_or_404(Customer, customer_id)
    form = ContactForm()
    return form_action(lambda: add_contact(customer, **contact_fields(form)), form=form,
                       refuse=lambda: (DETAIL_PAGE, DETAIL_PAGE, _detail(db.get_or_404(Customer, customer_id), form)),
                       message=lambda contact: f"Contact {contact.name or contact.id} added.",
                       done=lambda _: redirect(url_for("merchant.customer", customer_id=customer_id) + "#contacts"))
