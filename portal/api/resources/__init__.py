"""One module per ChargeOver object; each registers its `Resource`."""


def register_all() -> None:
    """Import every resource module (each calls `register` at import)."""
    from portal.api.resources import customers, users  # noqa: F401
