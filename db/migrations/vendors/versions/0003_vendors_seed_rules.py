"""vendors: seed rules (issue 9 section 6): ratings, bids under review, assignment states

Revision ID: 0003_vendors_seed_rules
Revises: 0002_vendors_verified_certs
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

revision: str = "0003_vendors_seed_rules"
down_revision: str | None = "0002_vendors_verified_certs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
