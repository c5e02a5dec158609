"""CSV exports of the merchant portal: rows, filters, exact amounts, formula escaping."""
from __future__ import annotations

import csv
import io
from datetime import date

from support.factories import make_customer, make_package
from support.factories import make_october_invoice
from support.factories import make_credited
from portal.services.exports import ExportFilters, escape_cell, export_rows
from portal.services.payments import pay_invoice
from portal.services.usage import record_usage


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_escape_cell_neutralises_formulas_but_not_our_numbers():
    from decimal import Decimal

    assert [escape_cell(v) for v in ("=SUM(A1)", "+1", "-2", "@x", "\tcmd", "\rcmd", "plain")] == [
        "'=SUM(A1)", "'+1", "'-2", "'@x", "'\tcmd", "'\rcmd", "plain"]
    assert escape_cell(Decimal("-5.16")) == "-5.16" and escape_cell(Decimal("1E+3")) == "1000"
    assert escape_cell(None) == "" and escape_cell(7) == "7"


def test_invoices_and_lines_export_exact_amounts(app, db, admin):
    invoice = make_october_invoice()
    db.session.commit()
    rows = _csv(admin.client.get("/merchant/invoices.csv"))
    assert rows[0][:4] == ["invoice_id", "refnumber", "customer_id", "company"]
    october = next(r for r in rows[1:] if r[0] == str(invoice.id))
    header = rows[0]
    assert october[header.index("total")] == "28.05"
    assert october[header.index("balance")] == "28.05"
    assert october[header.index("date")] == "2015-10-01"
    lines = _csv(admin.client.get("/merchant/invoice-lines.csv", query_string={"customer_id": invoice.customer_id}))
    mine = [r for r in lines[1:] if r[0] == str(invoice.id)]
    totals = sorted(r[lines[0].index("line_total")] for r in mine)
    assert totals == ["10.00", "18.05"]
    assert "361" in [r[lines[0].index("line_quantity")] for r in mine]


def test_invoice_export_follows_the_list_filters(app, db, admin):
    invoice = make_october_invoice()
    pay_invoice(invoice, paid_on=date(2015, 10, 5), method="check")
    db.session.commit()
    paid = _csv(admin.client.get("/merchant/invoices.csv?status=closed-paid"))
    unpaid = _csv(admin.client.get("/merchant/invoices.csv?status=open-unpaid"))
    assert str(invoice.id) in [r[0] for r in paid[1:]]
    assert str(invoice.id) not in [r[0] for r in unpaid[1:]]
    none = _csv(admin.client.get("/merchant/invoices.csv?date_from=2016-01-01"))
    assert none == [none[0]]
    bad = admin.client.get("/merchant/invoices.csv?date_from=yesterday")
    assert bad.status_code == 400 and "date_from" in bad.get_data(as_text=True)


def test_customers_export_escapes_formula_cells(app, db, viewer):
    make_customer(company="=HYPERLINK(\"http://evil\")", email="eve@evil.example", bill_city="@SUM(1)")
    make_customer(company="Plain Co", email="p@plain.example")
    db.session.commit()
    rows = _csv(viewer.client.get("/merchant/customers.csv", query_string={"q": "evil"}))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["company"] == "'=HYPERLINK(\"http://evil\")"
    assert row["bill_city"] == "'@SUM(1)"
    assert row["superuser_email"] in ("", "eve@evil.example")


def test_payments_and_credit_notes_export(app, db, admin):
    credited = make_credited()
    db.session.commit()
    payments = _csv(admin.client.get("/merchant/payments.csv",
                                     query_string={"customer_id": credited.customer.id, "type": "pay"}))
    assert sorted(r[payments[0].index("amount")] for r in payments[1:]) == ["10.00"] * 4
    notes = _csv(admin.client.get("/merchant/credit-notes.csv"))
    row = dict(zip(notes[0], notes[1]))
    assert row["number"] == "CN-0001" and row["total"] == "-5.16"  # a number, never escaped


def test_usage_export_by_line_with_exact_values(app, db, admin):
    package = make_package()
    db.session.commit()
    line_id = package.line_items[0].id
    for n, value in enumerate(("0.000001", "1000000", "12.5")):
        record_usage({"line_item_id": line_id, "usage_value": value, "from": f"2015-09-1{n} 00:00:00",
                      "external_key": f"-k{n}"})
    db.session.commit()
    rows = _csv(admin.client.get(f"/merchant/usage.csv?line_id={line_id}"))
    header = rows[0]
    assert [r[header.index("usage_value")] for r in rows[1:]] == ["0.000001", "1000000", "12.5"]
    assert [r[header.index("external_key")] for r in rows[1:]] == ["'-k0", "'-k1", "'-k2"]
    assert rows[1][header.index("from")].startswith("2015-09-10")


def test_export_rows_stream_in_chunks(app, db):
    package = make_package()
    db.session.commit()
    from portal.services.usage import ingest_batch

    ingest_batch([{"line_item_id": package.line_items[0].id, "usage_value": "1",
                   "from": "2015-09-15 00:00:00"} for _ in range(1200)])
    db.session.commit()
    rows = export_rows("usage", ExportFilters(date_from=date(2015, 9, 15), date_to=date(2015, 9, 15)))
    assert next(rows)[0] == "usage_id"
    assert sum(1 for _ in rows) == 1200
    assert list(export_rows("usage", ExportFilters(date_from=date(2015, 9, 16))))[1:] == []


def test_the_api_streams_the_same_exports(app, db, api):
    invoice = make_october_invoice()
    response = api.get("/api/v3/_export/invoices", query_string={"customer_id": invoice.customer_id,
                                                                   "status": "open-unpaid"})
    rows = _csv(response)
    assert sorted(r[rows[0].index("total")] for r in rows[1:]) == ["10.00", "28.05"]
    bad = api.get("/api/v3/_export/invoices?customer_id=99999999999")
    assert bad.status_code == 400 and bad.get_json()["details"]["field"] == "customer_id"
    assert api.get("/api/v3/_export/secrets").status_code == 404
