"""Pulled usage URLs, as ChargeOver defines them: before a package line is invoiced,
Meterbill POSTs `customer`, `package`, `this_line_item`, `from_datetime`, `to_datetime` and
the line's `security_token` to the merchant's URL and expects
`{"line_items": [{"usage_amount": N}, ...]}`.

Each (line, boundary) has one `UsagePull` row. The billing run's due-package query and its
package lock use `pulls_ready()`: a package is not billed at a boundary until every pulled
line's row for that boundary is `done`, so no invoice is ever issued without the usage. The
answer is stored as usage records keyed `pull:<line>:<boundary>:<n>` through the usage
service, so retries and reruns never count twice. The background process owns the
transactions (`portal.jobs.usage_pulls`); these functions flush.
"""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request  # Request; the opener comes from `outbound`
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, exists, or_, select

from portal.billing.errors import ValidationError
from portal.billing.money import parse_usage_value
from portal.db_types import utcnow
from portal.extensions import db
from portal.models import Customer, LineItem, Package, PullUsageUrl, UsagePull
from portal.services import merchant_tz
from portal.services.outbound import check_saved_host, opener
from portal.services.package_periods import package_usage_period
from portal.services.usage import record_usage

JOB_KIND = "usage_pull"
TIMEOUT_SECONDS = 15
MAX_ANSWER_BYTES = 64 * 1024
MAX_ENTRIES = 100
MAX_BACKOFF = timedelta(hours=1)


class PullError(Exception):
    """The merchant's endpoint failed or answered something unusable (the message says what)."""


def _pulled_lines():
    """Lines of `Package` with a pulled usage URL that may have usage before its next
    boundary: started before it, and not cancelled before a boundary already pulled."""
    pulled_past_cancel = exists().where(UsagePull.line_item_id == LineItem.id, UsagePull.status == "done",
                                        UsagePull.period_end >= LineItem.cancel_at)
    return (select(LineItem.id).join(PullUsageUrl, PullUsageUrl.line_item_id == LineItem.id)
            .where(LineItem.package_id == Package.id, LineItem.subscribe_at < Package.next_invoice_at,
                   or_(LineItem.cancel_at.is_(None), ~pulled_past_cancel)))


def pulls_ready():
    """SQL condition on `Package`: every line with a pulled usage URL, started before the
    boundary `next_invoice_at`, has its usage for that boundary (a `done` pull)."""
    done = exists().where(UsagePull.line_item_id == LineItem.id, UsagePull.status == "done",
                          UsagePull.period_end == Package.next_invoice_at)
    return ~exists(_pulled_lines().where(~done))


def pull_url(line_id: int) -> PullUsageUrl | None:
    """The line's pulled usage URL, if it has one."""
    return db.session.get(PullUsageUrl, line_id)


def set_pull_url(line: LineItem, url: str | None) -> PullUsageUrl | None:
    """Give the line a pulled usage URL (http or https), change it, or remove it (empty);
    flushes. A new URL gets a random `security_token` the endpoint can check.

    :raises ValidationError: on the field `usage_url`.
    """
    url = (url or "").strip()
    row = pull_url(line.id)
    if not url:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise ValidationError("usage_url", "must be an http:// or https:// URL of at most 2000 characters")
    check_saved_host(url, "usage_url")
    if not line.item.is_metered:
        raise ValidationError("usage_url", f"line item {line.id} is not metered: it has no usage to pull")
    if row is None:
        row = PullUsageUrl(line_item_id=line.id, url=url, security_token=secrets.token_urlsafe(24))
        db.session.add(row)
    row.url = url
    db.session.flush()
    return row


def carry_pull_url(old_line_id: int, new_line: LineItem) -> PullUsageUrl | None:
    """The replacing line keeps the replaced line's URL and token (the merchant's endpoint
    keeps answering for it); nothing when the new line's item is not metered. Flushes."""
    old = pull_url(old_line_id)
    if old is None or not new_line.item.is_metered:
        return None
    row = PullUsageUrl(line_item_id=new_line.id, url=old.url, security_token=old.security_token)
    db.session.add(row)
    db.session.flush()
    return row


def due_pull_packages(now: datetime, limit: int = 500) -> list[int]:
    """Packages due by `now` whose pulled lines lack a pull row for their next boundary."""
    missing = _pulled_lines().where(~exists().where(UsagePull.line_item_id == LineItem.id,
                                                    UsagePull.period_end == Package.next_invoice_at))
    return list(db.session.scalars(select(Package.id).where(Package.next_invoice_at <= now, exists(missing))
                                   .order_by(Package.next_invoice_at, Package.id).limit(limit)))


def plan_package_pulls(package: Package) -> list[UsagePull]:
    """Write the pull rows of the package's next boundary; flushes. A line that had no part
    of the period (cancelled before it) gets a `done` row with no usage. Returns new pending rows."""
    boundary = package.next_invoice_at
    period = package_usage_period(package, boundary - timedelta(microseconds=1))
    pending = []
    for line in package.line_items:
        if pull_url(line.id) is None or line.subscribe_at >= boundary or _pulled_past_cancel(line):
            continue
        if db.session.scalar(select(UsagePull.id).where(UsagePull.line_item_id == line.id,
                                                        UsagePull.period_end == boundary)):
            continue
        start = period.start if period is not None else None
        active = start is not None and (line.cancel_at is None or line.cancel_at > start)
        pull = UsagePull(line_item_id=line.id, package_id=package.id, period_start=start,
                         period_end=boundary, status="pending" if active else "done", attempts=0,
                         last_error=None if active else "nothing to pull: the line was not active")
        db.session.add(pull)
        if active:
            pending.append(pull)
    db.session.flush()
    return pending


def _pulled_past_cancel(line: LineItem) -> bool:
    """A cancelled line whose last period is already pulled: nothing more to ask."""
    return line.cancel_at is not None and db.session.scalar(select(exists().where(
        UsagePull.line_item_id == line.id, UsagePull.status == "done", UsagePull.period_end >= line.cancel_at)))


def _stamp(instant: datetime) -> str:
    """ChargeOver's date-time text, in the merchant's time zone."""
    return instant.astimezone(merchant_tz()).strftime("%Y-%m-%d %H:%M:%S")


def pull_request_body(pull: UsagePull) -> dict:
    """What the endpoint receives (ChargeOver's fields)."""
    line = db.session.get(LineItem, pull.line_item_id)
    package = db.session.get(Package, pull.package_id)
    customer = db.session.get(Customer, package.customer_id)
    start = max(pull.period_start, line.subscribe_at)
    end = min(pull.period_end, line.cancel_at) if line.cancel_at else pull.period_end
    return {
        "customer": {"customer_id": customer.id, "external_key": customer.external_key,
                     "company": customer.company},
        "package": {"package_id": package.id, "external_key": package.external_key,
                    "nickname": package.nickname},
        "this_line_item": {"line_item_id": line.id, "item_id": line.item_id,
                           "external_key": line.external_key, "descrip": line.descrip},
        "from_datetime": _stamp(start), "to_datetime": _stamp(end),
        "security_token": pull_url(line.id).security_token,
    }


def fetch_usage(url: str, body: dict) -> list:
    """POST the body as JSON; the usage amounts of the answer.

    :raises PullError: network failure, non-2xx status, or an answer that is not
        `{"line_items": [{"usage_amount": N}, ...]}` with valid amounts.
    """
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              "User-Agent": current_app.config.get("USER_AGENT", "Meterbill")})
    try:
        with opener().open(request, timeout=TIMEOUT_SECONDS) as answer:
            raw = answer.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise PullError(f"the usage URL answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise PullError(f"the usage URL could not be reached: {getattr(error, 'reason', error)}") from None
    return parse_answer(raw)


def parse_answer(raw: bytes) -> list:
    """The amounts of `{"line_items": [{"usage_amount": N}, ...]}` (exact decimals)."""
    if len(raw) > MAX_ANSWER_BYTES:
        raise PullError(f"the answer is larger than {MAX_ANSWER_BYTES // 1024} kB")
    try:
        data = json.loads(raw, parse_float=str, parse_int=str)
    except ValueError:
        raise PullError(f"the answer is not JSON: {raw[:80]!r}") from None
    entries = data.get("line_items") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_ENTRIES:
        raise PullError('the answer must be {"line_items": [{"usage_amount": N}]} '
                        f"with 1 to {MAX_ENTRIES} entries")
    amounts = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict) or "usage_amount" not in entry:
                raise ValidationError("usage_amount", "is missing")
            amounts.append(parse_usage_value(entry["usage_amount"], "usage_amount"))
        except ValidationError as error:
            raise PullError(f"line_items[{index}].usage_amount {error.message}") from None
    return amounts


def store_pulled(pull: UsagePull, amounts: list) -> None:
    """Store the amounts as usage records of the pull's period (idempotent keys) and mark
    the pull done; flushes."""
    line = db.session.get(LineItem, pull.line_item_id)
    start = max(pull.period_start, line.subscribe_at)
    end = min(pull.period_end, line.cancel_at) if line.cancel_at else pull.period_end
    first = None
    for index, amount in enumerate(amounts):
        key = f"pull:{line.id}:{pull.period_end.strftime('%Y%m%dT%H%M%S')}:{index}"
        result = record_usage({"line_item_id": line.id, "usage_value": str(amount),
                               "from": start.isoformat(), "to": max(start, end).isoformat(),
                               "external_key": key}, source="url")
        first = first or result.record.id
    pull.status, pull.usage_amount, pull.usage_record_id = "done", sum(amounts), first
    pull.last_error, pull.updated_at = None, utcnow()
    db.session.flush()


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt`: base × 2^(attempt−1), at most MAX_BACKOFF."""
    base = current_app.config["USAGE_PULL_RETRY_BASE_SECONDS"]
    return min(timedelta(seconds=base * 2 ** (attempt - 1)), MAX_BACKOFF)


def schedule_attempt(pull: UsagePull, at: datetime | None = None) -> None:
    """Queue the pull's next attempt (a job) at `at` (default now); flushes."""
    from portal.services.job_queue import enqueue

    pull.next_attempt_at = at or utcnow()
    enqueue(JOB_KIND, {"pull_id": pull.id, "attempt": pull.attempts + 1}, run_after=pull.next_attempt_at)
    db.session.flush()


def note_failure(pull: UsagePull, message: str) -> None:
    """Record a failed attempt where the merchant sees it and queue the next one after a
    backoff (the package's invoice keeps waiting: never issued without the usage); flushes."""
    pull.attempts += 1
    pull.last_error, pull.updated_at = message[:2000], utcnow()
    schedule_attempt(pull, pull.updated_at + backoff(pull.attempts))


def retry_pull(pull: UsagePull) -> None:
    """Try a waiting pull again now (the merchant fixed the endpoint); flushes."""
    if pull.status == "done":
        raise ValidationError("usage_pull", "this period's usage is already in")
    pull.status = "pending"
    schedule_attempt(pull)


def line_pulls(line_id: int, limit: int = 5) -> list[UsagePull]:
    """The line's latest pulls, newest boundary first (the package page and the API)."""
    return list(db.session.scalars(select(UsagePull).where(UsagePull.line_item_id == line_id)
                                   .order_by(UsagePull.period_end.desc()).limit(limit)))


def blocking_pulls(package_id: int) -> list[UsagePull]:
    """The package's pulls not done yet: its next invoice waits for them."""
    return list(db.session.scalars(select(UsagePull).where(
        and_(UsagePull.package_id == package_id, UsagePull.status != "done")).order_by(UsagePull.id)))
