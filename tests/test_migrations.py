"""Migrations: one head, and the models never drift from what the migrations build."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory

from mercato.kernel.migrate import alembic_config
from mercato.settings import get_settings


def test_there_is_exactly_one_migration_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads, merge them: {heads}"


def test_models_match_the_migrated_schema() -> None:
    """`alembic check`: autogenerate against the migrated test database finds nothing."""
    command.check(alembic_config(get_settings().database_url))
