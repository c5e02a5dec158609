"""The intervals of the scheduler's jobs, from the settings (read in `portal.config`)."""
from portal.config import DEFAULT_SECONDS, interval_seconds

__all__ = ["DEFAULT_SECONDS", "interval_seconds"]
