"""ChargeOver's Python client (chargeover_python, on httplib2) logs in: httplib2 sends no
credentials until the server challenges with `WWW-Authenticate: Basic`, then retries with
them. Emulated here with the test client, step for step as httplib2 does it."""
import base64
import re

from portal.services.apikeys import create_api_key

CHALLENGE = re.compile(r'^Basic realm="([^"]+)"', re.IGNORECASE)


def _httplib2_request(client, url, user, password, method="GET", body=None):
    """httplib2.Http.request with add_credentials(): anonymous first, Basic after a challenge."""
    answer = client.open(url, method=method, data=body)
    challenge = CHALLENGE.match(answer.headers.get("WWW-Authenticate", ""))
    if answer.status_code == 401 and challenge:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        answer = client.open(url, method=method, data=body,
                             headers={"Authorization": f"Basic {token}"})
    return answer


def test_the_python_clients_find_all_and_create_log_in(client, db):
    key, private = create_api_key("python client")
    db.session.commit()
    created = _httplib2_request(client, "/api/v3/customer", key.public_key, private, "POST",
                                '{"company": "Python Co"}')
    assert created.status_code == 201 and created.get_json()["status"] == "OK"
    listing = _httplib2_request(client, "/api/v3/customer?limit=10", key.public_key, private)
    assert listing.status_code == 200
    assert [c["company"] for c in listing.get_json()["response"]] == ["Python Co"]


def test_wrong_credentials_stay_401_after_the_retry(client, db):
    key, _ = create_api_key("python client")
    db.session.commit()
    answer = _httplib2_request(client, "/api/v3/customer", key.public_key, "wrong")
    assert answer.status_code == 401 and answer.get_json()["status"] == "Error"
