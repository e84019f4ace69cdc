"""Reports' tables, all in the `reports` PostgreSQL schema (issue 16).

A report template is a saved GraphQL operation over the public graph plus
what to do with its answer (the path to its rows, columns, grouping,
aggregations); running it asks the router as the person running it, so a
report never shows what its reader may not see. Reports owns no business
data: templates, runs (kept 30 days), schedules, deliveries, dashboards.

Users are identity's: plain UUID columns.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import Timestamps, UUIDPrimaryKey, one_of, schema_metadata
from subgraphs.kit.outbox import outbox_table

SCHEMA = "reports"

VISUALISATIONS = ("table", "bar", "line", "pie")
RUN_STATUSES = ("succeeded", "failed")
FREQUENCIES = ("daily", "weekly", "monthly", "cron")
FORMATS = ("csv", "xlsx", "pdf")
DELIVERY_STATUSES = ("pending", "sent", "failed")


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class ReportTemplate(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "report_templates"
    __table_args__ = (
        one_of("visualisation", VISUALISATIONS, "visualisation"),
        CheckConstraint("page_size BETWEEN 1 AND 500", name="page_size"),
    )

    #: Shipped templates carry a stable key (`sales_by_agent`); installing them again
    #: updates them in place and never touches a user's own.
    key: Mapped[str | None] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: One GraphQL query operation over the public graph (the router's API schema).
    operation: Mapped[str] = mapped_column(Text)
    #: Variable defaults: plain values, or relative dates such as {"relative": "month_start"}.
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: Dot path from `data` to the rows, through connections (`charters.edges.node`).
    rows_path: Mapped[str] = mapped_column(String(300))
    #: Rows asked per page when the path runs through a connection (`first`/`after`).
    page_size: Mapped[int] = mapped_column(Integer, default=100)
    #: [{"path": "quote.total", "label": "Total", "format": "money"}], in order.
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    #: Column paths the rows are grouped by (empty: every row stands alone).
    group_by: Mapped[list[str]] = mapped_column(JSONB, default=list)
    #: [{"column": "quote.total", "function": "sum"}]: sum, count, average, min, max.
    aggregations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    visualisation: Mapped[str] = mapped_column(String(10), default="table")
    #: Shared templates are run by every staff member; private ones by their owner only.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: Set when the operation no longer validates against the current API schema.
    broken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    broken_reason: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReportRun(UUIDPrimaryKey, Base):
    """One run: who, when, with what, how long, and its result (kept 30 days)."""

    __tablename__ = "report_runs"
    __table_args__ = (
        one_of("status", RUN_STATUSES, "status"),
        Index("ix_report_runs_template_ran", "template_id", "ran_at"),
    )

    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_templates.id"))
    #: The person whose token ran it (a schedule's owner for a scheduled run).
    run_by: Mapped[uuid.UUID | None] = mapped_column(index=True)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report_schedules.id"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    #: Requests made to the router (one per page).
    requests: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    #: [{"key", "label", "format"}]; rows as lists of JSON values in column order (money as
    #: strings, exact); totals as {column key: value}.
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    rows: Mapped[list[list[Any]]] = mapped_column(JSONB, default=list)
    totals: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ReportSchedule(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "report_schedules"
    __table_args__ = (
        one_of("frequency", FREQUENCIES, "frequency"),
        one_of("format", FORMATS, "format"),
        CheckConstraint("weekday IS NULL OR weekday BETWEEN 1 AND 7", name="weekday"),
        CheckConstraint("month_day IS NULL OR month_day BETWEEN 1 AND 31", name="month_day"),
    )

    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_templates.id"), index=True)
    #: Whose token runs it: what the report shows is what this person may see. None only
    #: for a shipped schedule no admin has enabled yet (it cannot run without an owner).
    owner_id: Mapped[uuid.UUID | None] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(10))
    #: Local time of day (daily, weekly, monthly) in `time_zone`.
    at_time: Mapped[time | None] = mapped_column(Time)
    #: ISO weekday for weekly; day of month for monthly (short months: their last day).
    weekday: Mapped[int | None] = mapped_column(Integer)
    month_day: Mapped[int | None] = mapped_column(Integer)
    #: A cron expression (croniter) for `cron`, in `time_zone`.
    cron: Mapped[str | None] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(JSONB, default=list)
    format: Mapped[str] = mapped_column(String(5), default="csv")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_id: Mapped[uuid.UUID | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Identity's delegation grant for this schedule: exchanged at run time for a
    #: short-lived token of the owner (reports holds no token of its own).
    delegation_grant_id: Mapped[uuid.UUID | None] = mapped_column()
    delegation_secret: Mapped[str | None] = mapped_column(Text)


class ReportDelivery(UUIDPrimaryKey, Base):
    """One fire time of a schedule, delivered once.

    Unique per (schedule, due time) across replicas and retries: a failed one is
    retried, a sent one never again.
    """

    __tablename__ = "report_deliveries"
    __table_args__ = (
        one_of("status", DELIVERY_STATUSES, "status"),
        UniqueConstraint("schedule_id", "due_at", name="uq_report_deliveries_schedule_due"),
    )

    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_schedules.id"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report_runs.id"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    #: While a worker runs it (the graph call is outside any transaction), no other
    #: worker takes it; a worker that died lets it go when this passes.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Dashboard(UUIDPrimaryKey, Timestamps, Base):
    """A person's saved layout of widgets, each a template with parameters."""

    __tablename__ = "dashboards"

    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: [{"templateId", "title", "parameters", "position"}], in display order.
    widgets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class ReportsAudit(UUIDPrimaryKey, Base):
    """Every change to templates, schedules and dashboards (`kit/auditing`)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "at"),)

    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(Base.metadata)
