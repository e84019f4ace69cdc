"""documents on charters (versions, expiry), legal terms with versions, e-signatures

Revision ID: 0010_charters_documents
Revises: 0009_charters_audit_order
Create Date: 2026-11-30 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_charters_documents"
down_revision: str | None = "0009_charters_audit_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_terms_versions",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('terms_and_conditions', 'contract', 'waiver')",
            name=op.f("ck_legal_terms_versions_kind"),
        ),
        sa.CheckConstraint(
            "char_length(sha256) = 64", name=op.f("ck_legal_terms_versions_sha256_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_terms_versions")),
        sa.UniqueConstraint("kind", "version", name="uq_legal_terms_versions_number"),
        schema="charters",
    )
    op.create_index(
        "uq_legal_terms_versions_current",
        "legal_terms_versions",
        ["kind"],
        unique=True,
        schema="charters",
        postgresql_where=sa.text("is_current"),
    )
    op.create_table(
        "charter_documents",
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("vendor_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "category IN ('vendor_bid', 'client_document', 'terms_and_conditions', 'contract', 'invoice', 'receipt', 'job_sheet')",
            name=op.f("ck_charter_documents_category"),
        ),
        sa.CheckConstraint(
            "version_count >= 1", name=op.f("ck_charter_documents_version_count_positive")
        ),
        sa.ForeignKeyConstraint(
            ["charter_id"],
            ["charters.charters.id"],
            name=op.f("fk_charter_documents_charter_id_charters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_documents")),
        schema="charters",
    )
    op.create_index(
        "ix_charter_documents_charter",
        "charter_documents",
        ["charter_id", "created_at"],
        unique=False,
        schema="charters",
    )
    op.create_index(
        "ix_charter_documents_expiring",
        "charter_documents",
        ["expires_on"],
        unique=False,
        schema="charters",
        postgresql_where=sa.text("expires_on IS NOT NULL"),
    )
    op.create_table(
        "charter_signatures",
        sa.Column("charter_id", sa.Uuid(), nullable=False),
        sa.Column("terms_version_id", sa.Uuid(), nullable=False),
        sa.Column("terms_kind", sa.String(length=30), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_id", sa.Uuid(), nullable=True),
        sa.Column("impersonator_id", sa.Uuid(), nullable=True),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "char_length(terms_sha256) = 64", name=op.f("ck_charter_signatures_sha256_length")
        ),
        sa.ForeignKeyConstraint(
            ["charter_id"],
            ["charters.charters.id"],
            name=op.f("fk_charter_signatures_charter_id_charters"),
        ),
        sa.ForeignKeyConstraint(
            ["terms_version_id"],
            ["charters.legal_terms_versions.id"],
            name=op.f("fk_charter_signatures_terms_version_id_legal_terms_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_signatures")),
        schema="charters",
    )
    op.create_index(
        "ix_charter_signatures_charter",
        "charter_signatures",
        ["charter_id", "signed_at"],
        unique=False,
        schema="charters",
    )
    op.create_table(
        "legal_terms_audit",
        sa.Column("terms_version_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("impersonator_id", sa.Uuid(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terms_version_id"],
            ["charters.legal_terms_versions.id"],
            name=op.f("fk_legal_terms_audit_terms_version_id_legal_terms_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_terms_audit")),
        schema="charters",
    )
    op.create_index(
        "ix_legal_terms_audit_version",
        "legal_terms_audit",
        ["terms_version_id", "at"],
        unique=False,
        schema="charters",
    )
    op.create_table(
        "charter_document_versions",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "size_bytes > 0", name=op.f("ck_charter_document_versions_size_positive")
        ),
        sa.CheckConstraint(
            "version >= 1", name=op.f("ck_charter_document_versions_version_positive")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["charters.charter_documents.id"],
            name=op.f("fk_charter_document_versions_document_id_charter_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_document_versions")),
        sa.UniqueConstraint("document_id", "version", name="uq_charter_document_versions_number"),
        sa.UniqueConstraint("storage_key", name=op.f("uq_charter_document_versions_storage_key")),
        schema="charters",
    )


def downgrade() -> None:
    op.drop_table("charter_document_versions", schema="charters")
    op.drop_index("ix_legal_terms_audit_version", table_name="legal_terms_audit", schema="charters")
    op.drop_table("legal_terms_audit", schema="charters")
    op.drop_index(
        "ix_charter_signatures_charter", table_name="charter_signatures", schema="charters"
    )
    op.drop_table("charter_signatures", schema="charters")
    op.drop_index(
        "ix_charter_documents_expiring",
        table_name="charter_documents",
        schema="charters",
        postgresql_where=sa.text("expires_on IS NOT NULL"),
    )
    op.drop_index("ix_charter_documents_charter", table_name="charter_documents", schema="charters")
    op.drop_table("charter_documents", schema="charters")
    op.drop_index(
        "uq_legal_terms_versions_current",
        table_name="legal_terms_versions",
        schema="charters",
        postgresql_where=sa.text("is_current"),
    )
    op.drop_table("legal_terms_versions", schema="charters")
