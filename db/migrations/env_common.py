"""What every subgraph's Alembic `env.py` does, written once.

Each subgraph has its own history, its own schema and its version table in
that schema, so one subgraph's schema can move to another database by
configuration alone. Migrations run on a connection handed in by
`db.migrate` (so tests can run them inside an event loop).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection


def run_migrations(metadata: MetaData, schema: str, *, compare: bool = True) -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `python -m db.migrate`")

    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return compare  # a history without models (jobs) compares nothing

    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
