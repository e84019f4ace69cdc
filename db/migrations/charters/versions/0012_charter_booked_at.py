"""charters: when a charter was booked (issue 16: bookings by week and weekday)

`booked_at` is set by the booking transition in the same transaction. The
backfill takes, in order of trust:

1. the audit log's first move of the charter to booked (`status:booked`);
2. for a charter split off a booked one (it never moved to booked itself),
   its original's booking time;
3. `updated_at`, for a charter in booked or a later status, or cancelled
   after it was booked (the audit log's cancelling entry left booked or
   confirmed): the latest instant it is known to have been booked by.

Quotes, and charters cancelled as quotes, stay null.

Revision ID: 0012_charter_booked_at
Revises: 0011_charters_tour_departures
Create Date: 2026-11-30 19:03:46
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_charter_booked_at"
down_revision: str | None = "0011_charters_tour_departures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: A charter that was booked at some point, in SQL over `c` (charters.charters).
WAS_BOOKED = """(
    c.status IN ('booked', 'confirmed', 'in_progress', 'completed')
    OR (c.status = 'cancelled' AND EXISTS (
        SELECT 1 FROM charters.audit_log a
        WHERE a.charter_id = c.id AND a.entity = 'charter'
          AND a.new ->> 'status' = 'cancelled'
          AND a.old ->> 'status' IN ('booked', 'confirmed')))
)"""


def upgrade() -> None:
    op.add_column(
        "charters",
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        schema="charters",
    )
    op.create_index(
        op.f("ix_charters_charters_booked_at"),
        "charters",
        ["booked_at"],
        unique=False,
        schema="charters",
    )
    op.execute(
        """
        UPDATE charters.charters c SET booked_at = a.at
        FROM (
            SELECT charter_id, min(at) AS at FROM charters.audit_log
            WHERE entity = 'charter' AND action = 'status:booked'
            GROUP BY charter_id
        ) a
        WHERE a.charter_id = c.id
        """
    )
    # `WAS_BOOKED` is this module's constant, not input.
    op.execute(
        f"""
        UPDATE charters.charters c SET booked_at = o.booked_at
        FROM charters.charters o
        WHERE c.split_from_id = o.id AND c.booked_at IS NULL
          AND o.booked_at IS NOT NULL AND {WAS_BOOKED}
        """  # noqa: S608
    )
    op.execute(
        f"""
        UPDATE charters.charters c SET booked_at = c.updated_at
        WHERE c.booked_at IS NULL AND c.is_template IS FALSE AND {WAS_BOOKED}
        """  # noqa: S608
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_charters_charters_booked_at"), table_name="charters", schema="charters")
    op.drop_column("charters", "booked_at", schema="charters")
