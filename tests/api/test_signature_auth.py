"""ChargeOver's signed requests (the PHP client's AUTHMODE_SIGNATURE_V1), with replays refused."""
import hashlib
import hmac
import json
import time

from portal.services.apikeys import create_api_key

BASE = "http://localhost/api/v3"


def _signed(public, private, url, body="", nonce="abcd1234", stamp=None):
    """The header the PHP client's _signature() builds for this request."""
    stamp = str(int(time.time()) if stamp is None else stamp)
    text = f"{public}||{url.lower()}||{nonce}||{stamp}||{body}"
    signature = hmac.new(private.encode(), text.encode(), hashlib.sha256).hexdigest()
    return {"Authorization": f'ChargeOver co_public_key="{public}" co_nonce="{nonce}" '
                             f'co_timestamp="{stamp}" co_signature_method="HMAC-SHA256" '
                             f'co_version="1.0" co_signature="{signature}" ',
            "Content-Type": "application/json"}


def test_signed_get_and_post_are_accepted(client, db):
    key, private = create_api_key("signed")
    db.session.commit()
    url = f"{BASE}/customer?_dummy=1&where=company:EQUALS:Acme"
    listing = client.get(url, headers=_signed(key.public_key, private, url))
    assert listing.status_code == 200 and listing.get_json()["response"] == []
    payload = json.dumps({"company": "Signed Co"})
    created = client.post(f"{BASE}/customer", data=payload,
                          headers=_signed(key.public_key, private, f"{BASE}/customer", payload, "n2"))
    assert created.status_code == 201
    assert client.get(f"{BASE}/customer", headers=_signed(
        key.public_key, private, f"{BASE}/customer", nonce="n3")).get_json()["response"][0][
        "company"] == "Signed Co"


def test_replayed_nonce_stale_timestamp_and_tampering_are_401(client, db):
    key, private = create_api_key("signed")
    db.session.commit()
    url = f"{BASE}/customer"
    headers = _signed(key.public_key, private, url, nonce="once")
    assert client.get(url, headers=headers).status_code == 200
    replay = client.get(url, headers=headers)
    assert replay.status_code == 401 and "already used" in replay.get_json()["message"]
    stale = client.get(url, headers=_signed(key.public_key, private, url, nonce="old",
                                            stamp=int(time.time()) - 3600))
    assert stale.status_code == 401 and "window" in stale.get_json()["message"]
    tampered = client.post(url, data=json.dumps({"company": "Other"}),
                           headers=_signed(key.public_key, private, url, '{"company": "Mine"}', "t"))
    assert tampered.status_code == 401 and "does not match" in tampered.get_json()["message"]
    wrong_key = client.get(url, headers=_signed(key.public_key, "not-the-key", url, nonce="w"))
    assert wrong_key.status_code == 401


def test_a_non_ascii_signature_is_a_401_not_a_500(client, db):
    """Review finding: comparing non-ASCII text raised a TypeError (a 500)."""
    key, private = create_api_key("signed")
    db.session.commit()
    url = f"{BASE}/customer"
    headers = _signed(key.public_key, private, url, nonce="latin")
    headers["Authorization"] = headers["Authorization"].split('co_signature="')[0] + 'co_signature="\xe9"'
    answer = client.get(url, headers=headers)
    assert answer.status_code == 401 and "does not match" in answer.get_json()["message"]


def test_a_signed_csv_import_reads_the_body_the_signature_covered(app, client, db, tmp_path, monkeypatch):
    """Review finding: checking the signature read the stream, so a signed import was empty."""
    from portal.models import CsvImport

    monkeypatch.setitem(app.config, "IMPORTS_DIR", str(tmp_path))
    key, private = create_api_key("signed")
    db.session.commit()
    url = f"{BASE}/usage/_action/import?dry_run=1"
    csv = "line_item_id,usage_value,from\n1,5,2015-09-15 00:00:00\n"
    headers = {**_signed(key.public_key, private, url, csv, nonce="csv"), "Content-Type": "text/csv"}
    answer = client.post(url, data=csv, headers=headers)
    assert answer.status_code == 202, answer.get_json()
    stored = db.session.get(CsvImport, answer.get_json()["response"]["id"])
    assert open(stored.stored_path).read() == csv
