"""Aggregation of a period's usage samples into the one quantity that is priced (docs/billing-rules.md §6)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from portal.billing.errors import ValidationError
from portal.billing.money import EXACT
from portal.billing.vocabulary import UsageType

USAGE_TYPES = tuple(UsageType)


@dataclass(frozen=True)
class UsageSample:
    """One usage record as the aggregation sees it.

    ``seq`` is the arrival order (e.g. the record id); it breaks ties between samples with the
    same ``from_at`` for ``lat``, so the most recently received value wins.
    """

    value: Decimal
    from_at: datetime
    seq: int


def validate_usage_type(code: str, field: str = "usage_type") -> str:
    """Check an aggregation code.

    :param code: ``add`` (sum), ``max`` (maximum) or ``lat`` (latest value).
    :param field: the field name for the error.
    :returns: the code.
    :raises ValidationError: unknown code.
    """
    if not isinstance(code, str) or code not in USAGE_TYPES:
        raise ValidationError(field, f"must be one of {', '.join(USAGE_TYPES)} (got {code!r})")
    return code


def _add(samples: list[UsageSample]) -> Decimal:
    with localcontext(EXACT):
        return sum((s.value for s in samples), Decimal(0))


def _max(samples: list[UsageSample]) -> Decimal:
    return max(s.value for s in samples)


def _latest(samples: list[UsageSample]) -> Decimal:
    # Greatest from_at wins; among equal from_at, the latest arrival (greatest seq).
    return max(samples, key=lambda s: (s.from_at, s.seq)).value


_AGGREGATORS: dict[str, Callable[[list[UsageSample]], Decimal]] = {
    UsageType.SUM: _add,
    UsageType.MAXIMUM: _max,
    UsageType.LATEST: _latest,
}


def aggregate(usage_type: str, samples: Iterable[UsageSample]) -> Decimal:
    """The quantity of a period: sum, maximum or latest value of its samples.

    :param usage_type: ``add``, ``max`` or ``lat``.
    :param samples: the period's usage samples, in any order.
    :returns: the aggregate; ``Decimal(0)`` when there are no samples.
    """
    aggregator = _AGGREGATORS[validate_usage_type(usage_type)]
    sample_list = list(samples)
    if not sample_list:
        return Decimal(0)
    return aggregator(sample_list)
