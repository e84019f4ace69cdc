"""charters: an index for a vendor's recoveries in a window (issue 16)

`Vendor.recoveryCount` counts the recovery cases opened against a vendor.

Revision ID: 0013_charters_recovery_index
Revises: 0012_charter_booked_at
Create Date: 2026-11-30 21:00:14.954951
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_charters_recovery_index"
down_revision: str | None = "0012_charter_booked_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_recovery_cases_previous_vendor",
        "recovery_cases",
        ["previous_vendor_id", "opened_at"],
        unique=False,
        schema="charters",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_recovery_cases_previous_vendor", table_name="recovery_cases", schema="charters"
    )
