"""`invoices` resource (being written)."""
