"""The application skeleton: health, landing page, settings."""
from portal import create_app
from portal.config import normalize_database_url


def test_health_checks_the_database(client, db):
    from portal.db_types import utcnow
    from portal.models import BillingRun

    db.session.add(BillingRun(source="scheduler", now=utcnow(), finished_at=utcnow()))
    db.session.commit()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "scheduler": "ok",
                                   "jobs": {"waiting": 0, "running": 0, "failed": 0}}


def test_health_reports_an_unreachable_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_landing_page_links_the_portals_and_reveals_nothing(client, db):
    import re

    from support.factories import make_package

    make_package()
    db.session.commit()
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Usage-based billing, exact to the cent" in page
    links = re.findall(r'href="([^"]+)"', page)
    assert {"/merchant/", "/portal/", "/api/docs"} <= set(links)
    assert "built-in method" not in page and "&lt;built-in" not in page  # printed a dict's .items
    main = page[page.index("<main"):page.index("</main>")]
    words = re.sub(r"<[^>]+>", " ", main).replace("/api/v3", "")
    assert not re.search(r"\d", words), words  # no counts, no figure of the data at all
    assert "Acme" not in page and "customers</div>" not in page
    assert "vendor/htmx/htmx.min.js" in page


def test_htmx_is_vendored_with_its_licence(client):
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert "Zero-Clause" in client.get("/static/vendor/htmx/LICENSE").get_data(as_text=True)


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIMEZONE", "America/New_York")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app()
    assert app.config["TIMEZONE"] == "America/New_York"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_config_argument_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    assert create_app({"TIMEZONE": "UTC"}).config["TIMEZONE"] == "UTC"


def test_default_database_is_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    uri = create_app().config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/meterbill.db")
    assert normalize_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
