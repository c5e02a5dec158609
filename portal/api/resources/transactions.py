"""`transactions` resource (being written)."""
