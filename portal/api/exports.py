"""`GET /api/v3/_export/<kind>`: the merchant portal's CSV exports, for programs."""
from __future__ import annotations

from flask import Response, request, stream_with_context

from portal.api import bp
from portal.api.envelope import ApiError
from portal.db_types import utcnow
from portal.services.exports import EXPORTS, ExportFilters, export_filename, stream_csv
from portal.services.reports import local_today

# Query parameters of every export (each export reads those it knows; see README).
PARAMETERS = {"status": "invoice status, or `overdue`", "date_from": "first day (YYYY-MM-DD)",
              "date_to": "last day (YYYY-MM-DD)", "customer_id": "one customer",
              "q": "customers: the search text", "line_id": "usage: one line item",
              "type": "payments: `pay`, `ref` or `cre`"}


@bp.get("/_export/<obj>")
def export_csv(obj: str):
    """Stream an export as CSV (invoices, invoice_lines, payments, credit_notes, customers,
    usage), filtered by the query string as the portal's lists are."""
    if obj not in EXPORTS:
        raise ApiError(404, f"Unknown export '{obj}': one of {', '.join(EXPORTS)}.")
    today = local_today(utcnow())
    chunks = stream_csv(obj, ExportFilters.from_args(request.args), today)  # 400 on a bad filter
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(obj, today)}"'
    return response


def export_path() -> dict:
    """The OpenAPI description of the export route."""
    from portal.api.openapi import doc, with_errors

    parameters = [{"name": "obj", "in": "path", "required": True,
                   "schema": {"type": "string", "enum": list(EXPORTS)}}]
    for name, text in PARAMETERS.items():
        schema = {"type": "string"}
        if name in ("customer_id", "line_id"):
            schema = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
        elif name.startswith("date_"):
            schema = {"type": "string", "format": "date"}
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema,
                           "description": text})
    return {"/_export/{obj}": {"get": {
        "operationId": "export_csv", "tags": ["_export"], "summary": "Download an export as CSV",
        "description": doc(export_csv) + " Streamed; text cells that a spreadsheet would run as a "
                       "formula get a leading `'`; amounts are exact decimals.",
        "parameters": parameters,
        "responses": with_errors({"200": {"description": "The CSV file (a header row, then one row per object)",
                                          "content": {"text/csv": {"schema": {"type": "string"}}}}},
                                 (400, 401, 404, 429))}}}
