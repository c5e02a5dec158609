"""The dispatch table's entries: each job kind and the service function that runs it."""
from portal.jobs.runner import register


def register_all() -> None:
    """Put every job kind's handler in the table (idempotent; run before each run)."""
    from portal.services import imports

    register(imports.JOB_KIND, imports.run_import_job, imports.import_job_failed)
