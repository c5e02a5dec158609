"""The one error family services and the billing core raise; each face maps it to its answer.

- `ValidationError`: bad input (an API answers 400, a form re-renders with the message).
- `NotFound`: the input names something that does not exist (an API answers 404).
- `Conflict`: the input clashes with what is stored (an API answers 409).
Each names the field it is about, so an API or a form can point at it. No service
returns or raises an HTTP status: the faces choose theirs from the error's class.
"""
from __future__ import annotations


class DomainError(ValueError):
    """Base of the family: `field` (may be None) and a sentence a merchant understands."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """Bad input, naming the field so an API or form can point at it.

    :param field: the offending field, e.g. ``"usage_value"`` or ``"tiers[1].unit_from"``.
    :param message: a sentence a merchant understands, e.g. ``"must not be negative"``.
    """

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class TooLarge(ValidationError):
    """The input is larger than the configured limit (a file, a batch)."""


class UnsupportedFormat(ValidationError):
    """The input is not of a kind that can be read at all (e.g. not a CSV file)."""


class Unreadable(ValidationError):
    """The input has the right kind but its content cannot be used (encoding, header)."""


class NotFound(DomainError):
    """The input names something that does not exist."""


class Conflict(DomainError):
    """The input clashes with stored data; `existing_id` names the stored record if known."""

    def __init__(self, field: str | None, message: str, existing_id: int | None = None) -> None:
        super().__init__(field, message)
        self.existing_id = existing_id

    def details(self) -> dict:
        """What an API adds to its error envelope: the field and the stored record's id."""
        details = {} if self.field is None else {"field": self.field}
        if self.existing_id is not None:
            details["id"] = self.existing_id
        return details
