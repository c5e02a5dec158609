"""`invoice`: invoices as ChargeOver returns them; create, update, delete and actions are in
`invoice_input`."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, bindparam, case, func, select

from portal.api.format import day, dt, money
from portal.api.query import Field, as_datetime, as_int, as_text
from portal.api.registry import Resource, register
from portal.api.resources import invoice_input
from portal.api.resources.money_input import currency_symbol
from portal.billing.vocabulary import DocType, InvoiceStatus
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Invoice, InvoiceLine, Transaction, TransactionApplication
from portal.services import merchant_tz
from portal.services.invoice_snapshot import snapshot_of
from portal.services.links import invoice_links
from portal.services.events import register_snapshot

STATUS_NAMES = {InvoiceStatus.OPEN: "Unpaid", "open-overdue": "Overdue", InvoiceStatus.PAID: "Paid",
                InvoiceStatus.VOID: "Void"}
CUSTOM_FIELDS = ("custom_1", "custom_2", "custom_3", "custom_4", "custom_5")
ADDRESS = ("addr1", "addr2", "addr3", "city", "state", "postcode", "country")


def local_today() -> date:
    """Today in the merchant's time zone (what "overdue" is measured against)."""
    return utcnow().astimezone(merchant_tz()).date()


def status_str(invoice: Invoice, today: date | None = None) -> str:
    """ChargeOver's status: an unpaid invoice past its due date is `open-overdue`."""
    if invoice.status == InvoiceStatus.OPEN and invoice.due_date < (today or local_today()):
        return "open-overdue"
    return invoice.status


# The same in SQL, for `where` and `order` (today is read when the query runs).
_TODAY = bindparam("overdue_today", callable_=local_today, type_=Date)
STATUS_SQL = case((and_(Invoice.status == InvoiceStatus.OPEN, Invoice.due_date < _TODAY), "open-overdue"),
                  else_=Invoice.status)
STATE_SQL = case((Invoice.status.like("open-%"), "o"), else_="c")

FIELDS = {
    "invoice_id": Field(Invoice.id, as_int),
    "refnumber": Field(Invoice.refnumber, as_int),
    "customer_id": Field(Invoice.customer_id, as_int),
    "package_id": Field(Invoice.package_id, as_int),
    "external_key": Field(Invoice.external_key, as_text),
    "token": Field(Invoice.token, as_text),
    "invoice_status_str": Field(STATUS_SQL, as_text),
    "invoice_status_state": Field(STATE_SQL, as_text),
    "date": Field(Invoice.date, lambda v, f: as_datetime(v, f).date()),
    "due_date": Field(Invoice.due_date, lambda v, f: as_datetime(v, f).date()),
    "write_datetime": Field(Invoice.created_at, as_datetime),
}


def serialize_line(line: InvoiceLine, currency: str) -> dict:
    """An invoice line as ChargeOver's, plus the period it settles."""
    return {
        "invoice_line_id": line.id, "line_item_id": line.line_item_id,
        "package_line_id": line.line_item_id, "item_id": line.item_id, "descrip": line.descrip,
        "line_rate": line.line_rate, "line_quantity": line.line_quantity,
        "line_total": money(line.amount_minor, currency), "kind": line.kind,
        "is_base": line.kind == "base", "is_setup": line.kind == "setup",
        "is_usage": line.kind == "usage", "is_adjustment": line.is_adjustment,
        "period_from": dt(line.period_start), "period_to": dt(line.period_end),
        "tiers": line.tiers,
    }


def _applied(invoice: Invoice) -> tuple[int, int, date | None]:
    """(payments, credits) applied to the invoice, and the local date of the last one."""
    rows = db.session.execute(
        select(Transaction.transaction_type, func.sum(TransactionApplication.amount_minor),
               func.max(TransactionApplication.created_at))
        .join(Transaction, Transaction.id == TransactionApplication.transaction_id)
        .where(TransactionApplication.invoice_id == invoice.id)
        .group_by(Transaction.transaction_type)).all()
    sums = {kind: int(total) for kind, total, _ in rows}
    last = max((at for _, _, at in rows if at is not None), default=None)
    return sums.get("pay", 0), sums.get("cre", 0), last.astimezone(merchant_tz()).date() if last else None


def _addresses(snapshot: dict) -> dict:
    """bill_*/ship_* (the buyer's address frozen on the invoice), notes and blocks."""
    buyer, ship, extra = snapshot.get("buyer") or {}, snapshot.get("ship") or {}, snapshot.get("extra") or {}
    out = {f"bill_{part}": buyer.get(f"bill_{part}") for part in ADDRESS}
    out |= {f"ship_{part}": ship.get(f"ship_{part}") for part in ADDRESS}
    out["bill_notes"], out["ship_notes"] = extra.get("bill_notes"), extra.get("ship_notes")
    out["bill_block"] = "\n".join(v for v in [buyer.get("company"), *(out[f"bill_{p}"] for p in ADDRESS)] if v)
    out["ship_block"] = "\n".join(v for v in (out[f"ship_{p}"] for p in ADDRESS) if v)
    return out


def serialize(invoice: Invoice) -> dict:
    """An invoice as ChargeOver returns it."""
    c, today = invoice.currency, local_today()
    status = status_str(invoice, today)
    payments, credits, last_applied = _applied(invoice)
    snapshot = snapshot_of(invoice)
    extra = snapshot.get("extra") or {}
    overdue = status == "open-overdue"
    return {
        "invoice_id": invoice.id, "refnumber": str(invoice.refnumber),
        "external_key": invoice.external_key, "token": invoice.token,
        "customer_id": invoice.customer_id, "package_id": invoice.package_id,
        "date": day(invoice.date), "due_date": day(invoice.due_date), "terms_days": invoice.terms_days,
        "terms_name": (snapshot.get("terms") or {}).get("label"),
        "cycle_pre_from_date": day(invoice.cycle_pre_from_date),
        "cycle_pre_to_date": day(invoice.cycle_pre_to_date),
        "cycle_post_from_date": day(invoice.cycle_post_from_date),
        "cycle_post_to_date": day(invoice.cycle_post_to_date),
        "currency_iso4217": c, "currency_symbol": currency_symbol(c),
        "sum_base": money(invoice.sum_base_minor if invoice.kind != "manual" else 0, c),
        "sum_usage": money(invoice.sum_usage_minor, c),
        "sum_onetime": money(invoice.sum_base_minor if invoice.kind == "manual" else 0, c),
        "subtotal": money(invoice.subtotal_minor, c),
        "taxes": money(invoice.taxes_minor, c), "total": money(invoice.total_minor, c),
        "payments": money(payments, c), "credits": money(credits, c), "applied": money(payments + credits, c),
        "balance": money(invoice.balance_minor, c),
        "invoice_status_str": status, "invoice_status_state": "o" if status.startswith("open") else "c",
        "invoice_status_name": STATUS_NAMES[status],
        "is_paid": invoice.status == InvoiceStatus.PAID, "is_void": invoice.status == InvoiceStatus.VOID,
        "is_overdue": overdue, "days_overdue": (today - invoice.due_date).days if overdue else 0,
        "paid_date": day(last_applied) if invoice.status == InvoiceStatus.PAID else None,
        "memo": extra.get("memo"), **{name: extra.get(name) for name in CUSTOM_FIELDS},
        **_addresses(snapshot),
        "void_datetime": dt(invoice.voided_at), "write_datetime": dt(invoice.created_at),
        **invoice_links(invoice), "url_paylink": None,
        "line_items": [serialize_line(line, c) for line in invoice.lines],
    }


def invoices_only():
    """Credit notes are rows of the same table, shown as `cre` transactions instead."""
    return select(Invoice).where(Invoice.doc_type == DocType.INVOICE)


def by_token(token: str) -> Invoice | None:
    """The invoice with this token (ChargeOver's findByToken)."""
    return db.session.scalar(invoices_only().where(Invoice.token == token))


register(Resource(
    name="invoice", model=Invoice, id_field="invoice_id", fields=FIELDS, serialize=serialize,
    create=invoice_input.create, update=invoice_input.update, delete=invoice_input.delete,
    actions=invoice_input.ACTIONS, query=invoices_only,
))
# A credit note's webhook `data` shows it as the invoice API does (doc_type credit_note).
def _credit_note_snapshot(session, note_id: int) -> dict | None:
    note = session.get(Invoice, note_id)
    return None if note is None else serialize(note)


register_snapshot("creditnote", _credit_note_snapshot)
