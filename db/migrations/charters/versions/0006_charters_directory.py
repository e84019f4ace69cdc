"""charters: known sales agents projected from identity's user events (issue 10)

`known_sales_agents` becomes a projection of `identity.user_changed`: a row
per announced user, `active` while it is an active sales agent. Rows a user
no longer qualifies for stay (inactive), so a late older event cannot
revive them. Rows recorded from tokens before this change stay active until
identity's events, all newer, say otherwise.

Revision ID: 0006_charters_directory
Revises: 0005_charters_idempotency
Create Date: 2026-11-30 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_charters_directory"
down_revision: str | None = "0005_charters_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "known_sales_agents",
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        schema="charters",
    )


def downgrade() -> None:
    op.execute("DELETE FROM charters.known_sales_agents WHERE NOT active")
    op.drop_column("known_sales_agents", "active", schema="charters")
