"""Migrations: one linear history whose upgrade of an empty database equals the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app


def _script_directory() -> ScriptDirectory:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head(db):
    assert len(_script_directory().get_heads()) == 1


def test_history_is_linear(db):
    for revision in _script_directory().walk_revisions():
        assert not revision.is_merge_point


def test_upgraded_empty_database_matches_the_models(db):
    # The session fixture built this database from empty with `flask db upgrade`.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


_VOID_ROW = ("INSERT INTO invoices (id, doc_type, refnumber, customer_id, kind, currency, date, due_date, "
             "terms_days, sum_base_minor, sum_usage_minor, subtotal_minor, taxes_minor, total_minor, "
             "paid_minor, tax_rate, status, created_at) VALUES (1, 'invoice', 1, 1, 'manual', 'USD', "
             "'2015-10-01', '2015-10-31', 30, 0, 0, 0, 0, 0, 0, '0', 'void-void', '2015-10-01 00:00:00')")


def test_house01_renames_void_invoices_to_closed_void_and_back(tmp_path):
    # Its own SQLite file: the shared test database stays at the head.
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from portal import create_app
    from portal.extensions import db as _db

    app = create_app({"TESTING": True, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.db'}"})
    with app.app_context():
        upgrade(revision="billing01")
        with _db.engine.begin() as connection:
            connection.execute(text("PRAGMA foreign_keys=OFF"))
            connection.execute(text(_VOID_ROW))
        upgrade(revision="house01")
        status = text("SELECT status FROM invoices WHERE id = 1")
        with _db.engine.connect() as connection:
            assert connection.execute(status).scalar_one() == "closed-void"
        downgrade(revision="billing01")
        with _db.engine.connect() as connection:
            assert connection.execute(status).scalar_one() == "void-void"
        _db.engine.dispose()
