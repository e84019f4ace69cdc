"""charters: seed rules (issue 9 section 6): seed 002's change types

Change cases take seed 002's pickup location change, destination change,
amenity addition, amenity removal and pricing adjustment. The workflow's
new rules (review before approval, notes on decisions, a rejected case may
be cancelled) need no schema change.

Revision ID: 0003_charters_seed_rules
Revises: 0002_charters_security
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_charters_seed_rules"
down_revision: str | None = "0002_charters_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = (
    "date_time_change",
    "itinerary_modification",
    "passenger_count_change",
    "vehicle_change",
    "amenity_change",
    "cancellation",
    "other",
)
NEW_TYPES = (
    *OLD_TYPES,
    "pickup_location_change",
    "destination_change",
    "amenity_addition",
    "amenity_removal",
    "pricing_adjustment",
)


def _types(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    op.drop_constraint(
        op.f("ck_change_cases_change_type"), "change_cases", type_="check", schema="charters"
    )
    op.create_check_constraint(
        op.f("ck_change_cases_change_type"),
        "change_cases",
        f"change_type IN ({listed})",
        schema="charters",
    )


def upgrade() -> None:
    _types(NEW_TYPES)


def downgrade() -> None:
    op.execute(
        "UPDATE charters.change_cases SET change_type = 'other'"
        " WHERE change_type IN ('pickup_location_change', 'destination_change',"
        " 'amenity_addition', 'amenity_removal', 'pricing_adjustment')"
    )
    _types(OLD_TYPES)
