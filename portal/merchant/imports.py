"""CSV usage import: upload → preview of every bad row → confirm → background import.

Both passes are jobs run by the scheduler process (`portal.jobs`); these views only store
the upload and queue them. Uploads have their own size limit (CSV_MAX_CONTENT_LENGTH),
set on the request before anything reads the form (the CSRF check does).

The detail page of an import polls itself (HTMX, every second) while a pass runs: the
fragment it answers carries the polling attributes only while the import is under way,
so polling stops by itself when the preview or the summary is ready.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.merchant import bp
from portal.merchant.access import admin_required
from portal.models import CsvImport
from portal.services.reports import recent_imports
from portal.web import body_limit
from portal.services import imports as service
from portal.services.usage_csv import COLUMNS
from portal.web import render_page

LIST_SIZE = 50
ERRORS_PER_PAGE = 100
DETAIL_PAGE, DETAIL_PARTIAL = "merchant/import.html", "partials/merchant_import_detail.html"



def _list_page(error: str | None = None, status: int = 200):
    recent = recent_imports(LIST_SIZE)
    response = render_page("merchant/imports.html", "partials/merchant_import_list.html",
                           imports=recent, error=error, columns=COLUMNS,
                           percent=service.progress_percent)
    response.status_code = status
    return response


@bp.get("/imports")
def imports():
    """The upload form and the recent imports."""
    return _list_page()


@bp.post("/imports")
@body_limit("CSV_MAX_CONTENT_LENGTH")  # streamed to disk; before CSRF reads the form
@admin_required
def import_upload():
    """Store the uploaded file on disk, check its header, queue its dry run."""
    try:
        csv_import = service.save_upload(request.files.get("file"), created_by_id=current_user.id)
    except service.UploadError as error:
        db.session.rollback()
        return _list_page(error.message, error.status)
    service.start_validation(csv_import.id)
    db.session.commit()
    return redirect(url_for("merchant.import_detail", import_id=csv_import.id), 303)


@bp.get("/imports/<int:import_id>")
def import_detail(import_id: int):
    """Progress while a pass runs, else the preview (before import) or the summary."""
    csv_import = db.get_or_404(CsvImport, import_id, populate_existing=True)  # the job changes it
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    phase = service.shown_phase(csv_import)
    errors, has_next = ([], False) if csv_import.status in service.IN_PROGRESS else \
        service.error_page(csv_import, phase, page, ERRORS_PER_PAGE)
    return render_page(DETAIL_PAGE, DETAIL_PARTIAL, imp=csv_import, errors=errors, page=page, phase=phase,
                       has_next=has_next, per_page=ERRORS_PER_PAGE,
                       percent=service.progress_percent(csv_import))


@bp.post("/imports/<int:import_id>/confirm")
@admin_required
def import_confirm(import_id: int):
    """Import the good rows of a previewed file, in the background."""
    csv_import = db.get_or_404(CsvImport, import_id, populate_existing=True)
    if csv_import.status != "validated" or not service.confirm_import(import_id):
        abort(409, description="This import is not waiting for confirmation.")
    service.start_import(import_id)
    db.session.commit()
    if request.htmx:
        return import_detail(import_id)
    return redirect(url_for("merchant.import_detail", import_id=import_id), 303)


@bp.post("/imports/<int:import_id>/discard")
@admin_required
def import_discard(import_id: int):
    """Forget an import that is not under way (its file and its error lists)."""
    csv_import = db.get_or_404(CsvImport, import_id, populate_existing=True)
    if csv_import.status in service.IN_PROGRESS:
        abort(409, description="This import is under way: wait for it to finish.")
    name = csv_import.filename
    service.discard_import(csv_import)
    db.session.commit()
    flash(f"The import of {name} was discarded.", "info")
    return redirect(url_for("merchant.imports"), 303)


@bp.get("/imports/template.csv")
def import_template():
    """An example file with every column the import reads."""
    body = ",".join(COLUMNS) + "\r\n" + "1,,12.5,2015-09-15 00:00:00,,reading-0001,\r\n"
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": 'attachment; filename="usage-template.csv"'}
