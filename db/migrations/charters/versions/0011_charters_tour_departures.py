"""charters: the tours departure a shuttle charter operates (issue 15 §5)

A tours departure confirmed to run is operated as one shuttle charter,
created by charters' consumer of `tours.departure_changed`. The unique
`tour_slot_id` keeps it to one charter per departure, however often the
event is delivered or however many replicas consume it.

Revision ID: 0011_charters_tour_departures
Revises: 0010_charters_documents
Create Date: 2026-11-30 16:31:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_charters_tour_departures"
down_revision: str | None = "0010_charters_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "charters", sa.Column("tour_slot_id", sa.Uuid(), nullable=True), schema="charters"
    )
    op.create_unique_constraint(
        op.f("uq_charters_tour_slot_id"), "charters", ["tour_slot_id"], schema="charters"
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("uq_charters_tour_slot_id"), "charters", schema="charters", type_="unique"
    )
    op.drop_column("charters", "tour_slot_id", schema="charters")
