"""audit entries carry their write order (seq), so entries of one transaction keep their order

Revision ID: 0009_charters_audit_order
Revises: 0008_charters_dispatch
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_charters_audit_order"
down_revision: str | None = "0008_charters_dispatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        schema="charters",
    )


def downgrade() -> None:
    op.drop_column("audit_log", "seq", schema="charters")
