"""One module per ChargeOver object; each registers its `Resource` when imported."""
import importlib

RESOURCE_MODULES = ("customers", "users", "items", "packages", "usage", "usage_imports", "invoices", "transactions",
                    "resthooks", "usage_alerts")


def register_all() -> None:
    """Import every resource module (each calls `register` at import)."""
    for name in RESOURCE_MODULES:
        importlib.import_module(f"portal.api.resources.{name}")
