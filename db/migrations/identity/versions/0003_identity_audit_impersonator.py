"""identity: the account audit names the real actor behind an impersonated one

Revision ID: 0003_identity_audit_impersonator
Revises: 0002_identity_client_link
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_identity_audit_impersonator"
down_revision: str | None = "0002_identity_client_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user_audit", sa.Column("impersonator_id", sa.Uuid(), nullable=True), schema="identity"
    )


def downgrade() -> None:
    op.drop_column("user_audit", "impersonator_id", schema="identity")
