"""The dispatch table's entries: each job kind and the service function that runs it."""
from portal.jobs.runner import register


def register_all() -> None:
    """Put every job kind's handler in the table (idempotent; run before each run)."""
    from portal.services import events, imports, webhooks

    register(imports.JOB_KIND, imports.run_import_job, imports.import_job_failed)
    register(events.JOB_KIND, webhooks.deliver_job, webhooks.delivery_job_failed)
    from portal.jobs import usage_pulls
    from portal.services.usage_pulls import JOB_KIND as USAGE_PULL

    register(USAGE_PULL, usage_pulls.run_pull_job, usage_pulls.pull_job_failed)
