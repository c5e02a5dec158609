"""Browser tests: the real app served on 127.0.0.1 and driven by headless Chromium.

Chromium is Debian's (/usr/bin/chromium, installed by scripts/ensure-chromium.sh from
`make test`), driven through Playwright's Python package: no browser is ever downloaded.
Without Chromium the tests are skipped, except on CI (CI=true), where they fail.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _unavailable(reason: str):
    """Skip locally; on CI the browser suite must run, so fail instead."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: the browser tests must run; see scripts/ensure-chromium.sh)")
    pytest.skip(f"{reason}: run scripts/ensure-chromium.sh (or `make test`) to install it")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole browser suite."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements.txt)")
    expect.set_options(timeout=15_000)  # assertions wait longer on a loaded 2-core machine
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served by werkzeug on a free port of 127.0.0.1 (threaded, as in production)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(autouse=True)
def job_runner(app):
    """Run the background-job queue while a browser test runs, as the scheduler process
    does in production (CSV imports are jobs); stopped after the test."""
    from portal.jobs import run_pending

    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.3):
            run_pending(app, "browser-tests")

    runner = threading.Thread(target=run, name="job-runner", daemon=True)
    runner.start()
    yield
    stop.set()
    runner.join(60)


def _is_favicon(message) -> bool:
    # Chromium asks every site for /favicon.ico; the app has none, which is no page's error.
    return (message.location or {}).get("url", "").endswith("/favicon.ico")


@pytest.fixture
def page(browser, live_server, db):
    """A fresh browser page on a clean database; any JavaScript error fails the test."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)  # a loaded 2-core machine is slow
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    tab.on("console", lambda message: errors.append(f"console: {message.text} ({message.location.get('url')})")
           if message.type == "error" and not _is_favicon(message) else None)
    yield tab
    context.close()
    assert not errors, "JavaScript errors (a CSP violation is one): " + "; ".join(errors)


@pytest.fixture
def shot(page, app):
    """shot(name): save a full-page screenshot under tests/browser/screenshots/.

    On PostgreSQL the picture is not taken (the pages look the same on both databases: the
    SQLite run takes them, the PostgreSQL run would only overwrite them); the wait for
    pending requests stays, so the steps that follow run as on SQLite."""
    SCREENSHOTS.mkdir(exist_ok=True)
    on_postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def take(name: str) -> Path:
        # Let pending HTMX requests (a price quote, a chart's data) land before the picture.
        page.wait_for_load_state("networkidle")
        path = SCREENSHOTS / f"{name}.png"
        if not on_postgresql:
            page.screenshot(path=str(path), full_page=True)
        return path

    return take
