"""Issue 10.7: rate limits were counted per worker process (2 workers let twice the limit
through); the client address must be the one a configured proxy reports, and only then."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from flask import request

from support.factories import make_package
from portal.models import UsageRecord
from portal.services.usage_urls import issue_url, token_of
from support.portal_client import csrf_token

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
ROOT = Path(__file__).resolve().parents[2]
SERVE = ("import sys; from werkzeug.serving import make_server; from portal import create_app; "
         "server = make_server('127.0.0.1', 0, create_app(), threaded=True); "
         "print(server.server_port, flush=True); server.serve_forever()")


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except Exception:  # noqa: BLE001 (any failure means: no Redis here)
        return False


def _start_worker(app, prefix: str) -> tuple[subprocess.Popen, int]:
    """A separate web process (as a second gunicorn worker) on the same database and Redis."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "PUBLIC_URL": "http://localhost",
           "TRUSTED_HOSTS": "localhost,127.0.0.1", "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix, "USAGE_URL_RATE_LIMIT": "4 per minute"}
    process = subprocess.Popen([sys.executable, "-c", SERVE], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(process.stdout.readline().strip())
    return process, port


def _ping(port: int, token: str, n: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/u/{token}?value=1&external_key=k{n}",
                                    timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
@pytest.mark.skipif(not _redis_available(), reason="needs Redis at " + REDIS_URL)
def test_two_worker_processes_share_the_usage_url_limit_in_redis(app, db):
    line = make_package().line_items[0]
    token = token_of(issue_url(line))
    db.session.commit()
    prefix = f"meterbill-test-{uuid.uuid4().hex}"
    workers = [_start_worker(app, prefix) for _ in range(2)]
    try:
        statuses = [_ping(workers[n % 2][1], token, n) for n in range(6)]
    finally:
        for process, _port in workers:
            process.terminate()
            process.wait(timeout=30)
    assert statuses == [201, 201, 201, 201, 429, 429]
    db.session.expire_all()
    assert db.session.query(UsageRecord).filter_by(line_item_id=line.id).count() == 4


def test_spoofed_forwarded_for_does_not_escape_the_login_limit(app, client):
    token = csrf_token(client, "/merchant/login")
    statuses = [client.post("/merchant/login", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                            data={"email": "x@y.example", "password": "wrong-pass", "csrf_token": token}
                            ).status_code for n in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_configured_proxy_reports_the_client_address(fresh_app):
    for hops, expected in ((0, "127.0.0.1"), (1, "198.51.100.7")):
        app = fresh_app(PROXY_FIX_X_FOR=hops)

        @app.get("/client-address")
        def client_address():
            from portal.extensions import limiter

            return f"{request.remote_addr} {limiter._key_func()}"

        answer = app.test_client().get("/client-address", headers={"X-Forwarded-For": "198.51.100.7"},
                                       environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert answer.get_data(as_text=True) == f"{expected} {expected}"


def test_startup_warns_of_generated_key_and_per_process_limits(fresh_app, caplog):
    from portal.security import startup_problems, warn_at_startup

    app = fresh_app(WEB_WORKERS=2)
    problems = " ".join(startup_problems(app))
    assert "generated development SECRET_KEY" in problems and "in-memory rate limits" in problems
    with caplog.at_level(logging.WARNING, logger="meterbill.security"):
        line = warn_at_startup(app, "scheduler")
    assert line in caplog.text and "\n" not in line and line.startswith("Meterbill scheduler")
    ready = fresh_app(SECRET_KEY="k" * 64, PUBLIC_URL="https://billing.example.com",
                      RATELIMIT_STORAGE_URI=REDIS_URL, WEB_WORKERS=4)
    assert startup_problems(ready) == [] and warn_at_startup(ready) is None


def test_api_is_exempt_from_the_limiter(app):
    from portal.extensions import limiter

    assert "api" in limiter._blueprint_exemptions  # no storage round trip per API call
