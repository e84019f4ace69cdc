"""charters: security review (issue 8): client registry, sales agent directory, computed case price, impersonator on case events

Revision ID: 0002_charters_security
Revises: 0001_charters
Create Date: 2026-12-02 10:00:00

Existing charters' and series' clients are registered, so that charters
already quoted keep working (their clients were accepted before the check).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_charters_security"
down_revision: str | None = "0001_charters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registered_by", sa.Uuid(), nullable=True),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_clients")),
        schema="charters",
    )
    op.create_table(
        "known_sales_agents",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_known_sales_agents")),
        schema="charters",
    )
    op.add_column(
        "change_cases",
        sa.Column("new_price", sa.Numeric(precision=12, scale=2), nullable=True),
        schema="charters",
    )
    op.add_column(
        "change_case_events",
        sa.Column("impersonator_id", sa.Uuid(), nullable=True),
        schema="charters",
    )
    op.execute(
        """
        INSERT INTO charters.known_clients (id, name)
        SELECT client_id, 'Client ' || left(client_id::text, 8)
        FROM (SELECT client_id FROM charters.charters
              UNION SELECT client_id FROM charters.charter_series) AS seen
        ON CONFLICT (id) DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_column("change_case_events", "impersonator_id", schema="charters")
    op.drop_column("change_cases", "new_price", schema="charters")
    op.drop_table("known_sales_agents", schema="charters")
    op.drop_table("known_clients", schema="charters")
