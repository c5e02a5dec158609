"""The chunked billing run (`services/billing_chunk.py`) writes exactly what the per-package
path writes: the same invoices, lines, amounts, snapshots, e-mail deliveries, next dates,
change-log rows and credit applications, with gap-free refnumbers in invoice order.

The same varied history (usage of every aggregation, trial, mid-month start, hold, tax and
terms, quantity change, suspension, late usage, a void, a scheduled cancel, a customer with
credit, one without a billing e-mail, a zero total, a weekly package that catches up) is
billed month by month once with CHUNK_SIZE = 1 (the per-package path only) and once in
chunks of 3, and the stored rows are compared.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

import portal.jobs.billing as billing_job
import portal.services.billing_chunk as billing_chunk
from portal.billing.pricemodel import PriceModel
from portal.extensions import db as _db
from portal.jobs.billing import run_billing
from portal.models import (
    BillingChange, Counter, EmailDelivery, Invoice, InvoiceLine, Package, TransactionApplication,
)
from portal.services.billing_chunk import bill_chunk
from portal.services.billing_chunk_inputs import restore_changes
from portal.services.catalog import create_item
from portal.services.customers import create_customer
from portal.services.invoices import void_invoice
from portal.services.packages import LineDraft, cancel_package, change_line_quantity, create_package
from portal.services.payments import record_payment
from portal.services.suspensions import suspend_package
from portal.services.usage import record_usage
from portal.services.webhook_endpoints import create_endpoint
from support.database import clean_database
from support.factories import make_customer, make_package, make_voip_item, utc

_SKIP = {"id", "invoice_id", "refnumber", "created_at", "voided_at", "token", "message_id", "next_attempt_at"}


def _use(line, value, at) -> None:
    record_usage({"line_item_id": line.id, "usage_value": value, "from": at.strftime("%Y-%m-%d %H:%M:%S")})


def _world() -> dict:
    """The packages of the history, by name."""
    voip = make_voip_item()
    peak = make_voip_item(name="Peak channels", usage_type="max")
    storage = make_voip_item(name="Storage", usage_type="lat")
    support = create_item(name="Support", pricing=PriceModel(pricemodel="fla", base=Decimal("25.00")))
    free = create_item(name="Free plan", pricing=PriceModel(pricemodel="fla"))
    taxed = make_customer(company="Taxed", email="t@example.com", bill_city="Austin")
    taxed.tax_rate, taxed.payment_terms_days = Decimal("0.0825"), 15
    packages = {
        "plain": make_package(item=voip),
        "mixed": create_package(taxed, [LineDraft(item=voip), LineDraft(item=peak), LineDraft(item=storage),
                                        LineDraft(item=support, line_quantity=Decimal(2))],
                                start_at=utc(2015, 9, 1)),
        "trial": create_package(make_customer(company="Trial", email="tr@example.com"),
                                [LineDraft(item=voip, trial_days=10)], start_at=utc(2015, 9, 1)),
        "midmonth": make_package(customer=make_customer(company="Mid", email="m@example.com"), item=voip,
                                 start=utc(2015, 9, 15)),
        "hold": make_package(customer=make_customer(company="Hold", email="h@example.com"), item=voip,
                             holduntil_at=utc(2015, 9, 10)),
        "cancel": make_package(customer=make_customer(company="Cancel", email="c@example.com"), item=voip),
        "credit": make_package(customer=make_customer(company="Credit", email="cr@example.com"), item=voip),
        "nomail": make_package(customer=create_customer(company="No mail"), item=voip),
        "free": make_package(customer=make_customer(company="Free", email="f@example.com"), item=free),
        "weekly": make_package(customer=make_customer(company="Weekly", email="w@example.com"), item=voip,
                               paycycle="1wk"),
    }
    _db.session.commit()
    return packages


def _history(packages: dict) -> None:
    """Four monthly runs with usage, late usage, a void, a suspension, a cancel and a payment."""
    line = {name: package.line_items[0] for name, package in packages.items()}
    run_billing(utc(2015, 9, 1))
    for name in ("plain", "trial", "midmonth", "hold", "cancel", "credit", "nomail", "weekly"):
        for day in (16, 22, 25) if name == "midmonth" else (3, 12, 25):
            _use(line[name], str(day * 7), utc(2015, 9, day, 9))
    mixed = packages["mixed"].line_items
    for value, day in (("40", 2), ("12", 20), ("33", 28)):
        _use(mixed[0], value, utc(2015, 9, day))
        _use(mixed[1], value, utc(2015, 9, day))
        _use(mixed[2], value, utc(2015, 9, day))
    change_line_quantity(mixed[3], Decimal(3), utc(2015, 9, 20))
    record_payment(packages["credit"].customer, amount=Decimal("500.00"), paid_on=date(2015, 9, 20))
    _db.session.commit()
    run_billing(utc(2015, 10, 1))
    _use(line["plain"], "90", utc(2015, 9, 29))  # late: the next invoice adjusts September
    void_invoice(_db.session.scalars(select(Invoice).where(
        Invoice.package_id == packages["midmonth"].id).order_by(Invoice.id.desc())).first())
    suspend_package(packages["hold"], utc(2015, 10, 10), utc(2015, 10, 20))
    cancel_package(packages["cancel"], utc(2015, 11, 15))
    # Support drops to 0 from October 2: the November invoice refunds October (a credit note,
    # computed in the chunk, then left to the per-package path with its change log).
    change_line_quantity(mixed[3], Decimal(0), utc(2015, 10, 2))
    _use(mixed[0], "1", utc(2015, 10, 6))
    for name in ("plain", "trial", "midmonth", "hold", "cancel", "nomail"):
        _use(line[name], "17", utc(2015, 10, 14))
    _db.session.commit()
    run_billing(utc(2015, 11, 1))
    _use(mixed[0], "5", utc(2015, 11, 3))
    _db.session.commit()
    run_billing(utc(2015, 12, 1))


def _key(invoice: Invoice) -> tuple:
    return invoice.package_id, invoice.boundary_at


def _columns(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in _SKIP}


def _stored() -> dict:
    """Every row the runs wrote, keyed by what identifies it whatever the order of writing."""
    _db.session.expire_all()
    invoices = list(_db.session.scalars(select(Invoice).order_by(Invoice.id)))
    by_id = {invoice.id: _key(invoice) for invoice in invoices}
    refnumbers = [i.refnumber for i in invoices if i.doc_type == "invoice"]
    assert refnumbers == list(range(1, len(refnumbers) + 1))  # gap-free, in invoice order
    number = {i.id: i.refnumber for i in invoices}
    return {
        "invoices": {_key(i): _columns(i) for i in invoices},
        # (SQL NULL and JSON null both read as None: the row also says which it is.)
        "lines": sorted((by_id[line.invoice_id], line.position, sql_null, sorted(_columns(line).items(), key=str))
                        for line, sql_null in _db.session.execute(select(InvoiceLine, InvoiceLine.pricing.is_(None)))),
        "mail": sorted((by_id[d.invoice_id], re.sub(f"#{number[d.invoice_id]} ", "#N ", d.subject),
                        d.to_address, d.status, d.kind)
                       for d in _db.session.scalars(select(EmailDelivery))),
        "packages": [(p.id, p.next_invoice_at, p.status) for p in _db.session.scalars(select(Package).order_by(Package.id))],
        "changes": sorted((c.package_id, c.line_item_id or 0, c.at) for c in _db.session.scalars(select(BillingChange))),
        "applications": sorted((by_id[a.invoice_id], a.transaction_id, a.amount_minor, a.automatic)
                               for a in _db.session.scalars(select(TransactionApplication))),
        "counters": sorted((c.name, c.value) for c in _db.session.scalars(select(Counter))),
    }


def _billed_with(monkeypatch, chunk_size: int) -> tuple[dict, int]:
    """The stored rows of the history billed with this chunk size, and how many invoices
    the chunks wrote."""
    clean_database()
    written = []

    def counting(package_ids, now, ctx):
        result = bill_chunk(package_ids, now, ctx)
        written.extend(result.invoice_ids)
        return result

    def restoring(changes):
        restored.extend(k for k, found in changes.items() if found)
        return restore_changes(changes)

    restored = []
    monkeypatch.setattr(billing_job, "CHUNK_SIZE", chunk_size)
    monkeypatch.setattr(billing_job, "bill_chunk", counting)
    monkeypatch.setattr("portal.services.billing_chunk.restore_changes", restoring)
    _history(_world())
    if chunk_size > 1:  # the credit note's package: consumed in the chunk, then put back
        assert restored
    return _stored(), len(written)


def test_chunks_write_exactly_what_the_per_package_path_writes(db, monkeypatch):
    one_by_one, none = _billed_with(monkeypatch, 1)
    chunked, in_chunks = _billed_with(monkeypatch, 3)
    assert none == 0 and in_chunks >= 25  # most invoices of the history went through chunks
    assert len(one_by_one["invoices"]) == len(chunked["invoices"]) >= 40
    assert any(row["doc_type"] == "credit_note" for row in chunked["invoices"].values())
    for part in one_by_one:
        if part == "invoices":
            for key, row in one_by_one[part].items():
                other = chunked[part].get(key) or {}
                assert {k: v for k, v in other.items() if row.get(k) != v} == {}, key
        assert chunked[part] == one_by_one[part], part


def test_a_subscribed_webhook_sends_every_package_the_per_package_way(db, monkeypatch):
    """Events are recorded per invoice: the chunk leaves its packages, which are still billed."""
    package = make_package()
    create_endpoint(url="https://hooks.example/in", events=["invoice.insert"])
    _db.session.commit()
    calls = []
    monkeypatch.setattr(billing_job, "bill_chunk",
                        lambda ids, now, ctx: calls.append(bill_chunk(ids, now, ctx)) or calls[-1])
    summary = run_billing(utc(2015, 9, 1))
    assert [c.invoice_ids for c in calls] == [[]] and calls[0].left == [package.id]
    assert len(summary.invoice_ids) == 1


def test_a_chunk_that_fails_to_write_is_billed_one_package_at_a_time(db, monkeypatch):
    """A failing chunk rolls back whole (no half-written invoice) and its packages are billed
    one by one: every package gets its invoice, numbered without a gap."""
    packages = [make_package(customer=make_customer(company=f"C{n}", email=f"c{n}@example.com"))
                for n in range(3)]
    _db.session.commit()

    def failing(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr("portal.services.billing_chunk._write_lines_and_mail", failing)
    summary = run_billing(utc(2015, 9, 1))
    assert summary.failures == 0 and len(summary.invoice_ids) == 3
    invoices = list(_db.session.scalars(select(Invoice).order_by(Invoice.id)))
    assert [(i.package_id, i.refnumber) for i in invoices] == [(p.id, n + 1) for n, p in enumerate(packages)]
    assert _db.session.scalar(select(Counter.value)) == 3


def test_a_package_whose_lines_fail_leaves_the_chunk_alone(db, monkeypatch):
    """One package whose lines cannot be specified (a broken price model, say) is left to
    the per-package path, where it fails alone; the chunk bills the other packages."""
    packages = [make_package(customer=make_customer(company=f"C{n}", email=f"c{n}@example.com"))
                for n in range(3)]
    _db.session.commit()
    broken_id, real = packages[1].id, billing_chunk.invoices.line_specs

    def line_specs(package, ctx):
        if package.id == broken_id:
            raise ValueError("price model cannot be loaded")
        return real(package, ctx)

    monkeypatch.setattr(billing_chunk.invoices, "line_specs", line_specs)
    calls = []
    monkeypatch.setattr(billing_job, "bill_chunk",
                        lambda ids, now, ctx: calls.append(bill_chunk(ids, now, ctx)) or calls[-1])
    summary = run_billing(utc(2015, 9, 1))
    assert len(calls[0].invoice_ids) == 2 and calls[0].left == [broken_id]
    assert summary.failures == 1 and len(summary.invoice_ids) == 2
    billed = {i.package_id for i in _db.session.scalars(select(Invoice))}
    assert billed == {packages[0].id, packages[2].id}
