"""The intervals of the scheduler's jobs, from the settings."""
from __future__ import annotations

from collections.abc import Mapping

# Seconds between two runs of each scheduler job when nothing is configured.
DEFAULT_SECONDS = {"BILLING": 300, "MAIL": 60, "JOBS": 5, "ALERTS": 60}


def interval_seconds(config: Mapping, job: str) -> int:
    """Seconds between two runs of a scheduler job: SCHEDULER_<JOB>_SECONDS when set,
    else SCHEDULER_<JOB>_MINUTES × 60 when set, else the default.

    :param config: the app's settings.
    :param job: "BILLING", "MAIL", "JOBS" or "ALERTS".
    """
    seconds = config.get(f"SCHEDULER_{job}_SECONDS")
    if seconds:
        return max(1, int(seconds))
    minutes = config.get(f"SCHEDULER_{job}_MINUTES")
    if minutes:
        return max(1, int(minutes) * 60)
    return DEFAULT_SECONDS[job]
