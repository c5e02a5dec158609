"""CSV downloads of the list pages (same filters as the page), streamed row chunk by chunk."""
from __future__ import annotations

from flask import Response, request, stream_with_context

from portal.billing.errors import ValidationError
from portal.db_types import utcnow
from portal.merchant import bp
from portal.services.exports import EXPORTS, ExportFilters, export_filename, stream_csv
from portal.services.reports import local_today

# The URL of each export (its list page's name + .csv).
EXPORT_PATHS = {kind: f"/{kind.replace('_', '-')}.csv" for kind in EXPORTS}


def export_response(kind: str):
    """Stream the `kind` export filtered by the query string; a bad filter is a 400 naming it."""
    today = local_today(utcnow())
    try:
        chunks = stream_csv(kind, ExportFilters.from_args(request.args), today)
    except ValidationError as error:
        return Response(f"{error.field}: {error.message}\n", status=400, mimetype="text/plain")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(kind, today)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _view(kind: str):
    def view():
        return export_response(kind)
    view.__doc__ = f"Download the {kind.replace('_', ' ')} as CSV (the list's filters apply)."
    return view


for _kind, _path in EXPORT_PATHS.items():
    bp.add_url_rule(_path, endpoint=f"export_{_kind}", view_func=_view(_kind), methods=["GET"])
