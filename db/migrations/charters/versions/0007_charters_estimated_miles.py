"""charters: the trip miles an agent enters, for pricing (issue 11)

`estimated_miles` is optional: pricing uses it when given and otherwise
estimates the distance from the stops' coordinates. At most one decimal
place and within (0, 10000], like the API's check.

Revision ID: 0007_charters_estimated_miles
Revises: 0006_charters_directory
Create Date: 2026-11-30 08:14:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_charters_estimated_miles"
down_revision: str | None = "0006_charters_directory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "charters",
        sa.Column("estimated_miles", sa.Numeric(precision=7, scale=1), nullable=True),
        schema="charters",
    )
    op.create_check_constraint(
        op.f("ck_charters_estimated_miles_range"),
        "charters",
        "estimated_miles IS NULL OR (estimated_miles > 0 AND estimated_miles <= 10000)",
        schema="charters",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_charters_estimated_miles_range"), "charters", type_="check", schema="charters"
    )
    op.drop_column("charters", "estimated_miles", schema="charters")
