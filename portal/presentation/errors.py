"""A service error's words for a person: tiers counted from 1, field paths in words."""
from __future__ import annotations

import re

_TIER_WORD = re.compile(r"\btier (\d+)\b")
_TIER_PATH = re.compile(r"^tiers\[(\d+)\]\.?(\w*)$")


def people_numbers(message: str) -> str:
    """A billing-core message with its tiers counted from 1, as the tier table counts
    them ("tier 0" → "tier 1"); the API keeps the core's 0-based indexes of its arrays."""
    return _TIER_WORD.sub(lambda m: f"tier {int(m.group(1)) + 1}", message)


def field_words(path: str) -> str:
    """A core field path in words for a person: "tiers[0].amount" → "Tier 1 amount"."""
    match = _TIER_PATH.match(path or "")
    if not match:
        return path
    return f"Tier {int(match.group(1)) + 1} {match.group(2).replace('_', ' ')}".strip()
