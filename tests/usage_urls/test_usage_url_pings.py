"""Devices record usage with a signed URL: GET/POST, idempotent retries, refusals, limits."""
from decimal import Decimal

import pytest

from support.factories import make_package
from portal.models import UsageRecord
from portal.services.usage_urls import issue_url, revoke_url, token_of


@pytest.fixture
def line(db):
    package = make_package()
    db.session.commit()
    return package.line_items[0]


def _path(usage_url):
    return f"/u/{token_of(usage_url)}"


def test_get_with_value_records_usage(client, db, line):
    usage_url = issue_url(line)
    db.session.commit()
    response = client.get(_path(usage_url) + "?value=12.5&from=2015-09-15%2010:00:00")
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["ok"] is True and answer["usage_value"] == "12.5" and answer["created"] is True
    record = db.session.get(UsageRecord, answer["id"])
    assert (record.usage_value, record.source, record.line_item_id) == (Decimal("12.5"), "url", line.id)


def test_post_form_or_json_and_idempotent_retry(client, db, line):
    usage_url = issue_url(line)
    db.session.commit()
    first = client.post(_path(usage_url), data={"value": "3", "external_key": "dev-1-0001"})
    again = client.post(_path(usage_url), json={"value": 3, "external_key": "dev-1-0001"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    conflict = client.post(_path(usage_url), data={"value": "4", "external_key": "dev-1-0001"})
    assert conflict.status_code == 409 and conflict.get_json()["field"] == "external_key"
    assert db.session.query(UsageRecord).count() == 1


def test_bad_values_are_400_naming_the_field(client, db, line):
    usage_url = issue_url(line)
    db.session.commit()
    for query, field in (("", "usage_value"), ("?value=-1", "usage_value"), ("?value=abc", "usage_value"),
                         ("?value=1&from=never", "from")):
        response = client.get(_path(usage_url) + query)
        assert response.status_code == 400, query
        assert response.get_json()["field"] == field


def test_tampered_unknown_and_revoked_tokens_get_the_same_403(client, db, line):
    usage_url = issue_url(line)
    db.session.commit()
    token = token_of(usage_url)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other = issue_url(line)  # rotating revokes the first URL
    db.session.commit()
    answers = [client.get(f"/u/{t}?value=1") for t in (tampered, "nonsense", token)]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert len({a.get_data() for a in answers}) == 1  # no oracle: identical refusals
    assert client.get(_path(other) + "?value=1").status_code == 201
    revoke_url(other)
    db.session.commit()
    assert client.get(_path(other) + "?value=1").status_code == 403
    assert db.session.query(UsageRecord).count() == 1


def test_pings_are_rate_limited_per_token(app, client, db, line):
    first, second = issue_url(line), None
    db.session.commit()
    app.config["USAGE_URL_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [client.get(_path(first) + f"?value={n}").status_code for n in range(4)]
        limited = client.get(_path(first) + "?value=9")
        other_line = make_package(customer=line.package.customer).line_items[0]
        second = issue_url(other_line)
        db.session.commit()
        fresh = client.get(_path(second) + "?value=1")
    finally:
        app.config["USAGE_URL_RATE_LIMIT"] = "60 per minute"
    assert statuses == [201, 201, 201, 429]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["ok"] is False
    assert fresh.status_code == 201  # another device's URL has its own budget


def test_unmetered_or_cancelled_lines_get_no_url(db, line):
    from portal.billing.errors import ValidationError
    from support.factories import utc

    line.cancel_at = utc(2015, 9, 20)
    with pytest.raises(ValidationError, match="cancelled"):
        issue_url(line)
