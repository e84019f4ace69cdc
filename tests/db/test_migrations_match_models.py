from __future__ import annotations

from db.migrate import check_all, subgraphs_with_migrations


async def test_every_subgraph_has_a_migration_history():
    assert "identity" in subgraphs_with_migrations()


async def test_models_and_migrations_agree(settings):
    # Given the test database migrated to head (conftest), when Alembic
    # compares it with the models, then it finds nothing to generate.
    assert await check_all(settings.database_url) == []
