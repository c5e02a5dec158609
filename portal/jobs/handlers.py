"""The dispatch table's entries: each job kind and the function that runs it."""
from portal.jobs.runner import register


def register_all() -> None:
    """Put every job kind's handler in the table (idempotent; run before each run)."""
    from portal.jobs import csv_import
    from portal.services.imports import JOB_KIND

    register(JOB_KIND, csv_import.run_import_job, csv_import.import_job_failed)
