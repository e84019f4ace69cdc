"""vendors: seed rules (issue 9 section 6): ratings, bids under review, assignment states

- rating scores take one decimal from 1.0 to 5.0 (seed 002 rates 4.5):
  NUMERIC(2,1) instead of SMALLINT, existing whole scores kept exactly;
- bids gain `under_review` (staff mark a submitted bid under review);
- vendor assignments gain `in_progress` and `completed`, moved when the
  trip starts and ends; an assignment in progress still holds its charter
  vehicle. Confirmed assignments of charters already under way or
  completed (as the projection knows them) are moved now, each move in the
  audit log with no actor (the system), like the projection's own moves.

Revision ID: 0003_vendors_seed_rules
Revises: 0002_vendors_verified_certs
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_vendors_seed_rules"
down_revision: str | None = "0002_vendors_verified_certs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORES = (
    "overall",
    "vehicle_condition",
    "driver_professionalism",
    "on_time",
    "communication",
    "value",
)
OLD_BID = "status IN ('draft', 'submitted', 'accepted', 'rejected', 'withdrawn', 'expired')"
NEW_BID = (
    "status IN ('draft', 'submitted', 'accepted', 'rejected', 'withdrawn', 'expired',"
    " 'under_review')"
)
OLD_ASSIGNMENT = "status IN ('offered', 'confirmed', 'declined', 'recovery_requested', 'cancelled')"
NEW_ASSIGNMENT = (
    "status IN ('offered', 'confirmed', 'declined', 'recovery_requested', 'cancelled',"
    " 'in_progress', 'completed')"
)
OLD_HOLDING = "status IN ('offered', 'confirmed', 'recovery_requested')"
NEW_HOLDING = "status IN ('offered', 'confirmed', 'recovery_requested', 'in_progress')"

#: Confirmed assignments follow their charter's trip: one audited move each.
FOLLOW_TRIP = """
WITH moved AS (
    UPDATE vendors.vendor_assignments AS a
       SET status = :target, updated_at = now()
      FROM vendors.charter_facts AS f
     WHERE f.charter_id = a.charter_id
       AND f.status = :charter_status
       AND a.status = ANY(:sources)
    RETURNING a.id, a.vendor_id, a.status
)
INSERT INTO vendors.vendor_audit (id, vendor_id, entity, entity_id, action, before, after)
SELECT gen_random_uuid(), m.vendor_id, 'assignment', m.id, 'status:' || :target,
       jsonb_build_object('status', 'confirmed'), jsonb_build_object('status', m.status)
  FROM moved AS m
"""


def _swap_check(table: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_status"), table, type_="check", schema="vendors")
    op.create_check_constraint(op.f(f"ck_{table}_status"), table, condition, schema="vendors")


def _holding_index(where: str) -> None:
    op.drop_index(
        "uq_vendor_assignments_holding", table_name="vendor_assignments", schema="vendors"
    )
    op.create_index(
        "uq_vendor_assignments_holding",
        "vendor_assignments",
        ["charter_vehicle_id"],
        unique=True,
        schema="vendors",
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    for column in SCORES:
        op.alter_column(
            "ratings",
            column,
            type_=sa.Numeric(2, 1),
            existing_type=sa.SmallInteger(),
            existing_nullable=False,
            postgresql_using=f"{column}::numeric(2,1)",
            schema="vendors",
        )
    _swap_check("bids", NEW_BID)
    _swap_check("vendor_assignments", NEW_ASSIGNMENT)
    _holding_index(NEW_HOLDING)
    bind = op.get_bind()
    statement = sa.text(FOLLOW_TRIP).bindparams(
        sa.bindparam("sources", type_=sa.ARRAY(sa.String()))
    )
    bind.execute(
        statement,
        {"target": "in_progress", "charter_status": "in_progress", "sources": ["confirmed"]},
    )
    bind.execute(
        statement, {"target": "completed", "charter_status": "completed", "sources": ["confirmed"]}
    )


def downgrade() -> None:
    # Back to the states the old code knows: a trip's assignment was confirmed,
    # a bid under review was submitted; scores round half up to whole numbers.
    op.execute(
        "UPDATE vendors.vendor_assignments SET status = 'confirmed'"
        " WHERE status IN ('in_progress', 'completed')"
    )
    op.execute("UPDATE vendors.bids SET status = 'submitted' WHERE status = 'under_review'")
    _holding_index(OLD_HOLDING)
    _swap_check("vendor_assignments", OLD_ASSIGNMENT)
    _swap_check("bids", OLD_BID)
    for column in SCORES:
        op.alter_column(
            "ratings",
            column,
            type_=sa.SmallInteger(),
            existing_type=sa.Numeric(2, 1),
            existing_nullable=False,
            postgresql_using=f"round({column})::smallint",
            schema="vendors",
        )
