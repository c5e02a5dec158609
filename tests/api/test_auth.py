"""API authentication with keys, and the envelope of errors."""
import base64

from portal.services.apikeys import create_api_key, revoke_api_key


def _basic(public, private):
    return {"Authorization": "Basic " + base64.b64encode(f"{public}:{private}".encode()).decode()}


def test_missing_credentials_are_401_in_the_envelope(client):
    response = client.get("/api/v3/customer")
    assert response.status_code == 401
    assert response.get_json() == {
        "code": 401, "status": "Error", "details": {}, "response": False,
        "message": "Invalid or incorrect authorization [Missing (basic) authorization header.]",
    }


def test_wrong_secret_and_revoked_keys_are_401(client, db):
    key, private = create_api_key("k")
    db.session.commit()
    assert client.get("/api/v3/customer", headers=_basic(key.public_key, private)).status_code == 200
    assert client.get("/api/v3/customer", headers=_basic(key.public_key, "nope")).status_code == 401
    revoke_api_key(key.public_key)
    db.session.commit()
    assert client.get("/api/v3/customer", headers=_basic(key.public_key, private)).status_code == 401


def test_secret_is_stored_hashed_and_last_use_recorded(client, db):
    key, private = create_api_key("k")
    db.session.commit()
    assert private not in key.secret_hash and key.last_used_at is None
    client.get("/api/v3/customer", headers=_basic(key.public_key, private))
    db.session.refresh(key)
    assert key.last_used_at is not None


def test_apikeys_cli_prints_public_colon_private_last(app, db, client):
    result = app.test_cli_runner().invoke(args=["apikeys", "create", "--name", "ci"])
    assert result.exit_code == 0, result.output
    public, private = result.output.strip().splitlines()[-1].split(":")
    assert client.get("/api/v3/customer", headers=_basic(public, private)).status_code == 200
    revoked = app.test_cli_runner().invoke(args=["apikeys", "revoke", public])
    assert revoked.exit_code == 0
    assert client.get("/api/v3/customer", headers=_basic(public, private)).status_code == 401


def test_unknown_api_urls_get_a_400_in_the_envelope(api):
    response = api.get("/api/v3/nothing/here/at/all")
    assert response.status_code == 400  # ChargeOver documents 400 for unknown endpoints
    assert response.get_json()["status"] == "Error"
    assert response.get_json()["message"] == "Unknown endpoint: GET /api/v3/nothing/here/at/all"
    widget = api.get("/api/v3/widget")
    assert widget.status_code == 400 and widget.get_json()["message"] == "Unknown object 'widget'."


def test_unknown_methods_and_actions_are_400(api):
    patch = api.request("PATCH", "/api/v3/customer")
    assert patch.status_code == 400
    assert patch.get_json()["message"] == "Unknown method: PATCH /api/v3/customer"
    action = api.post("/api/v3/customer/_action/nothing", json={})
    assert action.status_code == 400 and action.get_json()["details"] == {"field": "action"}


def test_401_challenges_for_basic_so_httplib2_sends_credentials(client):
    response = client.get("/api/v3/customer")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="Meterbill API"')
