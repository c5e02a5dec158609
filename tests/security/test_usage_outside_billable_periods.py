"""Usage dated outside every billable period was accepted (201) and then never billed
(issue 10 item 9, issue 11 item 5). A record whose `from` precedes its line's start is now
refused with a 400 naming `from`, through every channel; usage during a `holduntil` hold is
accepted and billed on the first invoice (tests/services/test_hold_and_cancel_runs.py)."""
import pytest

from support.api_client import body
from support.factories import make_package, utc
from portal.extensions import db as _db
from portal.models import UsageRecord
from portal.services.packages import LineDraft, subscribe_line
from portal.services.usage_urls import issue_url, token_of

BEFORE_START = "2015-08-31 23:59:59"  # the package (and its first line) starts 2015-09-01
INSIDE = "2015-09-15 10:00:00"


@pytest.fixture
def line(db):
    package = make_package()  # starts 2015-09-01 00:00 UTC
    db.session.commit()
    return package.line_items[0]


def _record(line, when, key):
    return {"line_item_id": line.id, "usage_value": "7", "from": when, "external_key": key}


def test_single_post_before_the_line_start_is_a_400_naming_from(api, line, db):
    response = api.post("/api/v3/usage", json=_record(line, BEFORE_START, "early"))
    assert response.status_code == 400
    answer = body(response)
    assert answer["details"] == {"field": "from"}
    assert answer["message"] == (f"from: must not be before the start of line item {line.id} "
                                 "(2015-09-01 00:00:00)")
    assert db.session.query(UsageRecord).count() == 0


def test_a_line_added_later_refuses_usage_before_its_own_start(api, line, db):
    added = subscribe_line(line.package, LineDraft(item=line.item), utc(2015, 9, 20))
    db.session.commit()
    early = api.post("/api/v3/usage", json=_record(added, INSIDE, "a"))  # Sep 15 < Sep 20
    assert early.status_code == 400 and body(early)["details"] == {"field": "from"}
    assert api.post("/api/v3/usage", json=_record(added, "2015-09-20 00:00:00", "b")).status_code == 201
    assert api.post("/api/v3/usage", json=_record(line, INSIDE, "c")).status_code == 201


def test_bulk_action_refuses_only_that_record(api, line, db):
    response = api.post("/api/v3/usage/_action/bulk", json=[
        _record(line, INSIDE, "ok-1"), _record(line, BEFORE_START, "early"),
        _record(line, INSIDE, "ok-2")])
    results = body(response)["response"]
    assert [r["code"] for r in results] == [201, 400, 201]
    assert results[1]["details"] == {"field": "from"}
    assert {r.external_key for r in db.session.query(UsageRecord)} == {"ok-1", "ok-2"}


def test_generic_bulk_answers_400_for_that_sub_request(api, line, db):
    entry = {"request_method": "POST", "uri": "/api/v3/usage"}
    results = body(api.post("/api/v3/_bulk", json=[
        {**entry, "payload": _record(line, BEFORE_START, "early")},
        {**entry, "payload": _record(line, INSIDE, "ok")}]))["response"]["_bulk"]
    assert [r["code"] for r in results] == [400, 201]
    assert results[0]["details"] == {"field": "from"}
    assert db.session.query(UsageRecord).count() == 1


def test_csv_import_reports_the_row(app, api, line, db, tmp_path, monkeypatch):
    from portal.jobs import run_pending

    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))
    text = ("line_item_id,usage_value,from,external_key\n"
            f"{line.id},1,{INSIDE},r1\n{line.id},2,{BEFORE_START},r2\n")
    queued = api.post("/api/v3/usage/_action/import", data=text, headers={"Content-Type": "text/csv"})
    assert queued.status_code == 202
    assert run_pending(app) == {"done": 1}
    report = body(api.get(f"/api/v3/usage_import/{body(queued)['response']['id']}"))["response"]
    assert (report["stored"], report["error_count"]) == (1, 1)
    assert report["errors"][0]["row"] == 2 and report["errors"][0]["field"] == "from"
    assert [r.external_key for r in db.session.query(UsageRecord)] == ["r1"]


def test_usage_url_ping_before_the_start_is_a_400(client, line, db):
    token = token_of(issue_url(line))
    _db.session.commit()
    response = client.get(f"/u/{token}?value=3&from=2015-08-31%2012:00:00")
    assert response.status_code == 400 and "from" in response.get_data(as_text=True)
    assert client.get(f"/u/{token}?value=3&from=2015-09-01%2012:00:00").status_code == 201
    assert db.session.query(UsageRecord).count() == 1
