"""`usage` resource (being written)."""
