"""Identity's tables, all in the `identity` PostgreSQL schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import Timestamps, UUIDPrimaryKey, schema_metadata
from subgraphs.kit.outbox import outbox_table

SCHEMA = "identity"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("cardinality(roles) > 0", name="has_role"),
    )

    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    password_hash: Mapped[str] = mapped_column(Text)
    password_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    #: A secret being enrolled, not yet confirmed with a code.
    mfa_pending_secret: Mapped[str | None] = mapped_column(String(64))
    #: The last TOTP time step accepted, so a code cannot be replayed.
    mfa_last_step: Mapped[int | None] = mapped_column()
    #: For client accounts: the client company (a sales `Client`) this login
    #: acts for. Tokens carry it as `client_id`, so every subgraph can scope a
    #: client portal without asking identity.
    client_id: Mapped[uuid.UUID | None] = mapped_column(index=True)


class AuthSession(UUIDPrimaryKey, Base):
    """A login: refresh tokens hang off it, and revoking it ends them all."""

    __tablename__ = "sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(50))
    ip_address: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(UUIDPrimaryKey, Base):
    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(UUIDPrimaryKey, Base):
    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordResetToken(UUIDPrimaryKey, Base):
    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserAudit(UUIDPrimaryKey, Base):
    """Who changed which account, when, and from what to what."""

    __tablename__ = "user_audit"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The staff member really acting when `actor_id` is an impersonated
    #: client (the token's `act.sub`), so the audit names both.
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ImpersonationLog(UUIDPrimaryKey, Base):
    __tablename__ = "impersonation_log"

    staff_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    client_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DelegationGrant(UUIDPrimaryKey, Base):
    """A user's standing permission for one service to act as them (issue 16 §3).

    A report schedule runs as its owner long after the owner's own tokens
    expired: the owner grants reports this, once, and reports exchanges it
    for a short-lived access token at each run. Only a hash of the secret is
    kept; the secret itself is handed out once, to the service holding it.
    Revoking it, or disabling the user, ends it for good.
    """

    __tablename__ = "delegation_grants"
    __table_args__ = (CheckConstraint("audience IN ('reports')", name="audience"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    #: The service that may exchange it (the token's `act.sub`).
    audience: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    """Token signing keys; a retired key stays published until its tokens expire."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClientAgent(Base):
    """Sales' client companies and their owning sales agent (`sales.client_changed`).

    Identity never reads sales' tables: this projection answers "is this agent
    the sales agent of this client account's company?" for "view as client"
    (`service/client_agents.py`).
    """

    __tablename__ = "client_agents"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
