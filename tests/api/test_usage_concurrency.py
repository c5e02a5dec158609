"""The same external_key sent concurrently through a real HTTP server counts once."""
from __future__ import annotations

import base64
import http.client
import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from support.factories import make_package
from portal.models import UsageRecord
from portal.services.apikeys import create_api_key

pytestmark = pytest.mark.slow
THREADS = 8


@pytest.fixture
def server(app, db):
    """The app served by werkzeug on 127.0.0.1 and a free port, one thread per request."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite takes one lock per write, so "
                    "concurrent writers are serialised and there is no race to observe")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join()


@pytest.fixture
def setup(db):
    """(line id, request headers) committed, so that the server's sessions see them."""
    key, private_key = create_api_key("concurrency")
    line = make_package().line_items[0]
    db.session.commit()
    token = base64.b64encode(f"{key.public_key}:{private_key}".encode()).decode()
    return line.id, {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def _post(port: int, path: str, payload, headers: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body=json.dumps(payload), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _all_at_once(calls: list) -> list:
    """Run the calls in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_same_key_posted_at_once_is_stored_once(server, setup, db):
    line_id, headers = setup
    for round_ in range(5):
        record = {"line_item_id": line_id, "usage_value": "2.5", "external_key": f"race-{round_}",
                  "from": "2015-09-15 00:00:00"}
        answers = _all_at_once([lambda r=record: _post(server, "/api/v3/usage", r, headers)] * THREADS)
        codes = sorted(code for code, _ in answers)
        assert codes == [200] * (THREADS - 1) + [201], answers
        assert len({answer["response"]["id"] for _, answer in answers}) == 1
    assert db.session.query(UsageRecord).count() == 5


def test_overlapping_bulk_batches_store_each_key_once(server, setup, db):
    line_id, headers = setup
    batches = [[{"line_item_id": line_id, "usage_value": str(k), "external_key": f"k{k}",
                 "from": "2015-09-15 00:00:00"} for k in range(t * 100, t * 100 + 300)]
               for t in range(4)]
    answers = _all_at_once([lambda b=batch: _post(server, "/api/v3/usage/_action/bulk", b, headers)
                            for batch in batches])
    by_key = defaultdict(list)
    for (status, answer), batch in zip(answers, batches):
        assert status == 200, answer
        for record, result in zip(batch, answer["response"]):
            by_key[record["external_key"]].append((result["code"], result["id"]))
    for key, results in by_key.items():
        assert sorted(code for code, _ in results) == [200] * (len(results) - 1) + [201], key
        assert len({record_id for _, record_id in results}) == 1, key
    assert db.session.query(UsageRecord).count() == len(by_key) == 600
