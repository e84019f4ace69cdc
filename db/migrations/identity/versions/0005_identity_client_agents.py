"""identity: client companies' sales agents, kept from sales' events (view as own client)

Revision ID: 0005_identity_client_agents
Revises: 0004_identity_delegation_grants
Create Date: 2026-12-01 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_identity_client_agents"
down_revision: str | None = "0004_identity_delegation_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_agents",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("sales_agent_id", sa.Uuid(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_agents")),
        schema="identity",
    )
    op.create_index(
        op.f("ix_identity_client_agents_sales_agent_id"),
        "client_agents",
        ["sales_agent_id"],
        unique=False,
        schema="identity",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_identity_client_agents_sales_agent_id"),
        table_name="client_agents",
        schema="identity",
    )
    op.drop_table("client_agents", schema="identity")
