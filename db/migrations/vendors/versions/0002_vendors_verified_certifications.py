"""vendors: certifications wait for a manager's verification; audit keeps the impersonator

Security review (issue 8), findings 2 and 6:
- certifications gain `pending_verification` and `rejected` statuses and who
  rejected them, when and why (`verified_by`/`verified_at` already exist);
- certifications a vendor user recorded for itself and nobody verified stop
  counting: they become `pending_verification` (the audit log says who added
  them: an actor linked to a vendor in `vendor_users`);
- audit entries keep the staff member acting as the actor (`impersonator_id`).

Revision ID: 0002_vendors_verified_certs
Revises: 0001_vendors
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_vendors_verified_certs"
down_revision: str | None = "0001_vendors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('active', 'expired', 'suspended', 'revoked')"
NEW_STATUSES = (
    "status IN ('pending_verification', 'active', 'expired', 'suspended', 'revoked', 'rejected')"
)


def upgrade() -> None:
    op.add_column(
        "certifications", sa.Column("rejected_by", sa.Uuid(), nullable=True), schema="vendors"
    )
    op.add_column(
        "certifications",
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        schema="vendors",
    )
    op.add_column(
        "certifications",
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        schema="vendors",
    )
    op.add_column(
        "vendor_audit", sa.Column("impersonator_id", sa.Uuid(), nullable=True), schema="vendors"
    )
    op.drop_constraint(
        op.f("ck_certifications_status"), "certifications", type_="check", schema="vendors"
    )
    op.create_check_constraint(
        op.f("ck_certifications_status"), "certifications", NEW_STATUSES, schema="vendors"
    )
    # Self-certified and never verified: no longer in force until a manager checks it.
    op.execute(
        """
        UPDATE vendors.certifications AS c
           SET status = 'pending_verification', updated_at = now()
         WHERE c.status = 'active'
           AND c.verified_at IS NULL
           AND EXISTS (
                 SELECT 1
                   FROM vendors.vendor_audit a
                   JOIN vendors.vendor_users u ON u.user_id = a.actor_id
                  WHERE a.entity = 'certification'
                    AND a.entity_id = c.id
                    AND a.action = 'add'
               )
        """
    )


def downgrade() -> None:
    op.execute(
        "UPDATE vendors.certifications SET status = 'revoked'"
        " WHERE status IN ('pending_verification', 'rejected')"
    )
    op.drop_constraint(
        op.f("ck_certifications_status"), "certifications", type_="check", schema="vendors"
    )
    op.create_check_constraint(
        op.f("ck_certifications_status"), "certifications", OLD_STATUSES, schema="vendors"
    )
    op.drop_column("vendor_audit", "impersonator_id", schema="vendors")
    op.drop_column("certifications", "rejection_reason", schema="vendors")
    op.drop_column("certifications", "rejected_at", schema="vendors")
    op.drop_column("certifications", "rejected_by", schema="vendors")
