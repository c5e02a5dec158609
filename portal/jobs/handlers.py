"""The dispatch table's entries: each job kind and the function that runs it."""
from portal.jobs.runner import register


def register_all() -> None:
    """Put every job kind's handler in the table (idempotent; run before each run)."""
    from portal.jobs import csv_import, usage_pulls, webhooks
    from portal.services import events
    from portal.services.imports import JOB_KIND
    from portal.services.usage_pulls import JOB_KIND as USAGE_PULL

    register(JOB_KIND, csv_import.run_import_job, csv_import.import_job_failed)
    register(events.JOB_KIND, webhooks.deliver_job, webhooks.delivery_job_failed)
    register(USAGE_PULL, usage_pulls.run_pull_job, usage_pulls.pull_job_failed)
