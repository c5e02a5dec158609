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
