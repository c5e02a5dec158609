"""`usage_import`: CSV usage imports, uploaded with POST /usage/_action/import (202) and
run in the background; GET one for its progress, counts and first per-row errors.

A dry-run upload ends `validated` (its report is what an import would do); the
`confirm` action imports such a file. Listing, `_count` and GET follow the generic routes.
"""
from __future__ import annotations

from portal.api.envelope import ApiError
from portal.api.format import dt
from portal.api.query import Field
from portal.api.registry import Resource, register
from portal.api.resources.usage import as_id, as_instant, as_key
from portal.models import CsvImport
from portal.services import imports as service


def serialize(csv_import: CsvImport) -> dict:
    """An import with its progress (percent, rows, bytes) and counts."""
    return {
        "import_id": csv_import.id,
        "filename": csv_import.filename,
        "status": csv_import.status,
        "percent": service.progress_percent(csv_import),
        "size_bytes": csv_import.size_bytes,
        "bytes_done": csv_import.bytes_done,
        "rows": csv_import.rows_done,
        "rows_total": csv_import.rows_total,
        "stored": csv_import.stored,
        "duplicates": csv_import.duplicates,
        "error_count": csv_import.error_count,
        # The first errors (row, line, field, message); error_count counts them all.
        "errors": list(csv_import.errors or []),
        "message": csv_import.message,
        "write_datetime": dt(csv_import.created_at),
        "finished_datetime": dt(csv_import.finished_at),
    }


def confirm(csv_import: CsvImport, _data: dict) -> bool:
    """Import the good rows of a dry-run upload (status `validated`), in the background."""
    if csv_import.status != "validated" or not service.confirm_import(csv_import.id):
        raise ApiError(409, f"status: this import is {csv_import.status}, not waiting for "
                            "confirmation (validated)", {"field": "status"})
    service.start_import(csv_import.id)
    return True


FIELDS = {
    "import_id": Field(CsvImport.id, as_id),
    "status": Field(CsvImport.status, as_key),
    "filename": Field(CsvImport.filename, as_key),
    "write_datetime": Field(CsvImport.created_at, as_instant),
}

register(Resource(
    name="usage_import", model=CsvImport, id_field="import_id", fields=FIELDS,
    serialize=serialize, actions={"confirm": confirm},
))
