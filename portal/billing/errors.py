"""The one error type the billing core raises for bad input."""
from __future__ import annotations


class ValidationError(ValueError):
    """Bad input, naming the field so an API or form can point at it.

    :param field: the offending field, e.g. ``"usage_value"`` or ``"tiers[1].unit_from"``.
    :param message: a sentence a merchant understands, e.g. ``"must not be negative"``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"
