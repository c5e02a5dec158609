"""Lists of the merchant portal: searched, filtered and paginated in SQL, never in Python."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, or_, select

from portal.billing.vocabulary import DocType, InvoiceStatus
from portal.extensions import db
from portal.models import (
    Contact, Customer, EmailDelivery, Invoice, Item, LineItem, Package, Transaction,
    TransactionApplication,
)

PER_PAGE = 20
INVOICE_FILTER_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID, "overdue")


@dataclass(frozen=True)
class Page:
    """One page of rows and where it lies in the whole result."""

    rows: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, page: int, per_page: int = PER_PAGE, scalars: bool = True) -> Page:
    """Run `stmt` for one page (1-based; out-of-range pages are clamped) and count the rest."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = min(max(1, page), max(1, -(-total // per_page)))
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    return Page(list(result.scalars() if scalars else result), page, per_page, total)


def contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards escaped (escape char `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(query: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Customers whose company, external key, main e-mail or a contact's e-mail contains
    `query` (case-insensitive), by company name."""
    stmt = (select(Customer).where(*customer_conditions(query))
            .order_by(func.lower(Customer.company), Customer.id))
    return paginate(stmt, page, per_page)


def customer_conditions(query: str = "") -> list:
    """The WHERE conditions of the customer search (shared with the CSV exports)."""
    text = query.strip()
    if not text:
        return []
    pattern = contains(text)
    return [or_(
        Customer.company.ilike(pattern, escape="\\"),
        Customer.external_key.ilike(pattern, escape="\\"),
        Customer.superuser_email.ilike(pattern, escape="\\"),
        exists().where(Contact.customer_id == Customer.id, Contact.email.ilike(pattern, escape="\\")),
    )]


def filter_invoices(*, status: str = "", date_from: date | None = None, date_to: date | None = None,
                    customer_id: int | None = None, today: date | None = None, page: int = 1,
                    per_page: int = PER_PAGE) -> Page:
    """Invoices (with their customer's company), newest first, filtered.

    :param status: an invoice status, "overdue" (open and past due as of `today`) or "" for all.
    :param date_from: first invoice date included.
    :param date_to: last invoice date included.
    :param customer_id: only this customer's invoices.
    """
    stmt = (select(Invoice, Customer.company).join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.doc_type == DocType.INVOICE)  # credit notes have their own list
            .where(*invoice_conditions(status=status, date_from=date_from, date_to=date_to,
                                       customer_id=customer_id, today=today))
            .order_by(Invoice.date.desc(), Invoice.refnumber.desc()))
    return paginate(stmt, page, per_page, scalars=False)


def invoice_conditions(*, status: str = "", date_from: date | None = None,
                       date_to: date | None = None, customer_id: int | None = None,
                       today: date | None = None) -> list:
    """The WHERE conditions of the invoice list's filters (shared with the CSV exports)."""
    conditions = []
    if status == "overdue":
        conditions += [Invoice.status == InvoiceStatus.OPEN, Invoice.due_date < (today or date.today())]
    elif status:
        conditions.append(Invoice.status == status)
    if date_from is not None:
        conditions.append(Invoice.date >= date_from)
    if date_to is not None:
        conditions.append(Invoice.date <= date_to)
    if customer_id is not None:
        conditions.append(Invoice.customer_id == customer_id)
    return conditions


def customer_choices() -> list[tuple[int, str]]:
    """(id, company) of every customer, by company: the invoice filter's choices."""
    return list(db.session.execute(
        select(Customer.id, Customer.company).order_by(func.lower(Customer.company), Customer.id)).all())


def customer_packages(customer_id: int) -> list[Package]:
    """The customer's packages, newest first."""
    return list(db.session.scalars(
        select(Package).where(Package.customer_id == customer_id).order_by(Package.id.desc())))


def customer_invoices(customer_id: int, limit: int = 50) -> list[Invoice]:
    """The customer's latest invoices."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.doc_type == DocType.INVOICE)
        .order_by(Invoice.date.desc(), Invoice.refnumber.desc()).limit(limit)))


def customer_payments(customer_id: int, limit: int = 50) -> list[Transaction]:
    """The customer's latest transactions."""
    return list(db.session.scalars(
        select(Transaction).where(Transaction.customer_id == customer_id)
        .order_by(Transaction.transaction_date.desc(), Transaction.id.desc()).limit(limit)))


def package_invoices(package_id: int) -> list[Invoice]:
    """The package's invoices, newest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.package_id == package_id)
        .order_by(Invoice.date.desc(), Invoice.refnumber.desc())))


def invoice_payments(invoice_id: int) -> list:
    """(transaction, amount applied to this invoice in minor units), oldest first."""
    return list(db.session.execute(
        select(Transaction, TransactionApplication.amount_minor)
        .join(TransactionApplication, TransactionApplication.transaction_id == Transaction.id)
        .where(TransactionApplication.invoice_id == invoice_id).order_by(Transaction.id)))


def invoice_deliveries(invoice_id: int) -> list[EmailDelivery]:
    """The e-mails of an invoice, newest first."""
    return list(db.session.scalars(
        select(EmailDelivery).where(EmailDelivery.invoice_id == invoice_id)
        .order_by(EmailDelivery.id.desc())))


def catalog_items() -> list[Item]:
    """Every item, enabled first, by name."""
    return list(db.session.scalars(
        select(Item).order_by(Item.enabled.desc(), func.lower(Item.name), Item.id)))


def item_choices() -> list[tuple[int, str]]:
    """(id, name) of the enabled items: what a package line may use."""
    return list(db.session.execute(
        select(Item.id, Item.name).where(Item.enabled.is_(True))
        .order_by(func.lower(Item.name), Item.id)).all())


def items_in_use(item_ids: list[int]) -> set[int]:
    """Which of these items some package line refers to (one query)."""
    if not item_ids:
        return set()
    return set(db.session.scalars(
        select(LineItem.item_id).where(LineItem.item_id.in_(item_ids)).distinct()))
