"""`packages` resource (being written)."""
