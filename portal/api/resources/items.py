"""`items` resource (being written)."""
