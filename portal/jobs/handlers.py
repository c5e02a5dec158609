"""The dispatch table's entries: each job kind and the service function that runs it."""
from portal.jobs.runner import register
from portal.services import imports

register(imports.JOB_KIND, imports.run_import_job, imports.import_job_failed)
