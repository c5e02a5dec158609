"""No silent drops: every field of a request body is stored, known as read-only, or refused.

Each object declares the fields it stores, the fields ChargeOver returns that a client may
send back unchanged (read-only: ignored, they change nothing), and the fields ChargeOver
documents that Meterbill does not store, with the reason; any other field is unknown. A
field that is neither stored nor read-only answers 400 naming it, so a program never
believes a value (a discount, a price, a date) was taken when it was not.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from portal.api.envelope import ApiError


@dataclass(frozen=True)
class FieldPolicy:
    """What one object (or one nested entry, like a package's line item) accepts."""

    name: str
    stored: frozenset[str]
    read_only: frozenset[str] = frozenset()
    unsupported: dict[str, str] = field(default_factory=dict)

    def check(self, data: dict, path: str = "") -> None:
        """Raise a 400 naming the first field of `data` this object does not take."""
        for key in data:
            if key in self.stored or key in self.read_only:
                continue
            where = f"{path}.{key}" if path else key
            reason = self.unsupported.get(key)
            if reason is not None:
                raise ApiError(400, f"{where}: ChargeOver's {self.name} field '{key}' is not "
                                    f"supported by Meterbill ({reason})",
                               {"field": where, "supported": False})
            raise ApiError(400, f"{where}: unknown field of a {self.name}", {"field": where})


def policy(name: str, stored, read_only=(), unsupported: dict | None = None) -> FieldPolicy:
    """A FieldPolicy from plain iterables."""
    return FieldPolicy(name, frozenset(stored), frozenset(read_only), dict(unsupported or {}))


def custom_fields(count: int) -> tuple[str, ...]:
    """ChargeOver's custom_1 .. custom_<count>."""
    return tuple(f"custom_{n}" for n in range(1, count + 1))
