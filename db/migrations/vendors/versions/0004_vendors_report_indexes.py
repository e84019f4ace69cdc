"""vendors: an index for the bid analytics (issue 16)

`bidAnalytics` and `Vendor.bidStatistics` read the bids submitted in a window.

Revision ID: 0004_vendors_report_indexes
Revises: 0003_vendors_seed_rules
Create Date: 2026-11-30 20:59:59.995557
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_vendors_report_indexes"
down_revision: str | None = "0003_vendors_seed_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_bids_submitted_at", "bids", ["submitted_at"], unique=False, schema="vendors"
    )


def downgrade() -> None:
    op.drop_index("ix_bids_submitted_at", table_name="bids", schema="vendors")
