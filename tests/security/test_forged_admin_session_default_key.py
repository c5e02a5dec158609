"""Issue 10.1: a default install signed sessions with a key published in the source."""
from __future__ import annotations

import ast
import hashlib
import stat
import threading
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

import portal

PACKAGE = Path(portal.__file__).parent


def _string_constants():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield path, node.value


def test_no_secret_key_constant_in_the_package():
    published = hashlib.sha256(b"dev-only-" + b"change-me").hexdigest()
    for path, value in _string_constants():
        assert hashlib.sha256(value.encode()).hexdigest() != published, path
    config_source = (PACKAGE / "config.py").read_text(encoding="utf-8")
    assert 'environ.get("SECRET_KEY",' not in config_source  # no fallback value at all


def test_generated_key_is_private_random_and_reused(fresh_app, clean_environment):
    first = fresh_app()
    second = fresh_app()
    key_file = Path(first.instance_path) / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]  # workers and scheduler agree
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY_GENERATED"] is True
    values = {value for _path, value in _string_constants()}
    assert first.config["SECRET_KEY"] not in values
    other = fresh_app(INSTANCE_PATH=str(clean_environment / "other-instance"))
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]  # one key per instance


def test_a_session_signed_with_the_published_key_is_not_a_login(fresh_app):
    app = fresh_app()
    assert app.secret_key != "dev-only-" + "change-me"
    forger = SecureCookieSessionInterface().get_signing_serializer(
        type("Fake", (), {"secret_key": "dev-only-" + "change-me", "config": app.config})())
    forged = forger.dumps({"_user_id": "staff:1", "_fresh": True})
    client = app.test_client()
    client.set_cookie("session", forged)
    answer = client.get("/merchant/")
    assert answer.status_code == 302 and "/merchant/login" in answer.headers["Location"]


def test_concurrent_processes_create_one_key(tmp_path):
    from portal.secret_key import instance_key

    keys, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        keys.append(instance_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


@pytest.mark.parametrize("overrides, needs", [
    ({"PUBLIC_URL": "https://billing.example.com"}, "SECRET_KEY"),
    ({"PUBLIC_URL": "https://billing.example.com", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": "k" * 64}, "PUBLIC_URL"),
])
def test_production_refuses_to_start_without_key_or_public_url(fresh_app, overrides, needs):
    with pytest.raises(RuntimeError, match=needs):  # portal.secret_key.ConfigurationError
        fresh_app(METERBILL_ENV="production", **overrides)


def test_production_with_key_and_public_url_starts(fresh_app):
    app = fresh_app(METERBILL_ENV="production", SECRET_KEY="k" * 64,
                    PUBLIC_URL="https://billing.example.com")
    assert app.config["SECRET_KEY"] == "k" * 64 and not app.config.get("SECRET_KEY_GENERATED")
    assert not (Path(app.instance_path) / "secret_key").exists()


def test_make_runs_address_is_the_default_link_base_without_restricting_hosts(fresh_app):
    """`make run PORT=5300` sets METERBILL_RUN_URL: links point at port 5300, not 5000,
    and any Host is still answered (PUBLIC_URL, when set, wins and restricts the host)."""
    app = fresh_app(RUN_URL="http://127.0.0.1:5300")
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:5300"
    assert not app.config["PUBLIC_URL_CONFIGURED"] and not app.config.get("TRUSTED_HOSTS")
    chosen = fresh_app(RUN_URL="http://127.0.0.1:5300", PUBLIC_URL="https://billing.example.com")
    assert chosen.config["PUBLIC_URL"] == "https://billing.example.com"
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        fresh_app(METERBILL_ENV="production", SECRET_KEY="k" * 64, RUN_URL="http://127.0.0.1:5300")
