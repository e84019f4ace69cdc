"""charters: portals (issue 9 section 1): pickup contact, instructions by audience, vendors' access projection

Revision ID: 0004_charters_portals
Revises: 0003_charters_seed_rules
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_charters_portals"
down_revision: str | None = "0003_charters_seed_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "charters",
        sa.Column("pickup_contact_name", sa.String(length=200), nullable=True),
        schema="charters",
    )
    op.add_column(
        "charters",
        sa.Column("pickup_contact_phone", sa.String(length=40), nullable=True),
        schema="charters",
    )
    op.add_column(
        "charters", sa.Column("vendor_instructions", sa.Text(), nullable=True), schema="charters"
    )
    op.add_column(
        "charters", sa.Column("driver_instructions", sa.Text(), nullable=True), schema="charters"
    )
    op.create_table(
        "vendor_accounts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_vendor_accounts")),
        schema="charters",
    )
    op.create_index(
        op.f("ix_charters_vendor_accounts_vendor_id"),
        "vendor_accounts",
        ["vendor_id"],
        unique=False,
        schema="charters",
    )
    op.create_table(
        "vendor_charter_access",
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("reasons", sa.ARRAY(sa.String(length=20)), nullable=False),
        sa.PrimaryKeyConstraint("charter_id", "vendor_id", name=op.f("pk_vendor_charter_access")),
        schema="charters",
    )
    op.create_index(
        op.f("ix_charters_vendor_charter_access_vendor_id"),
        "vendor_charter_access",
        ["vendor_id"],
        unique=False,
        schema="charters",
    )
    op.create_table(
        "vendor_access_versions",
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("charter_id", name=op.f("pk_vendor_access_versions")),
        schema="charters",
    )


def downgrade() -> None:
    op.drop_table("vendor_access_versions", schema="charters")
    op.drop_index(
        op.f("ix_charters_vendor_charter_access_vendor_id"),
        table_name="vendor_charter_access",
        schema="charters",
    )
    op.drop_table("vendor_charter_access", schema="charters")
    op.drop_index(
        op.f("ix_charters_vendor_accounts_vendor_id"),
        table_name="vendor_accounts",
        schema="charters",
    )
    op.drop_table("vendor_accounts", schema="charters")
    for column in (
        "driver_instructions",
        "vendor_instructions",
        "pickup_contact_phone",
        "pickup_contact_name",
    ):
        op.drop_column("charters", column, schema="charters")
