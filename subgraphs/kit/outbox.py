"""Transactional outbox: events are rows written with the change they describe.

`emit()` inserts into the subgraph's own `outbox` table inside the caller's
transaction, so a rolled-back change sends nothing. After commit the relay
is woken; it publishes unpublished rows to Redis and marks them, retrying
with back-off while Redis is unreachable, so no committed event is lost.

Each event goes two ways: PUBLISH on channel `athena.<topic>` for live
fan-out (subscriptions; a listener that is down misses it), and XADD to
the stream `athena.stream.<topic>` for durable consumers in other
subgraphs (see `kit/consumer.py`), which read with consumer groups and
acknowledge after their own commit. Delivery is at least once: consumers
dedupe by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from subgraphs.kit import json
from subgraphs.kit.metrics import OUTBOX_PUBLISHED

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "athena."
STREAM_PREFIX = "athena.stream."
#: Events kept per stream for consumers that were down (approximate trim).
STREAM_LENGTH = 100_000
_PENDING_KEY = "athena_outbox_pending"
PURGE_EVERY_SECONDS = 600
_relays: set[OutboxRelay] = set()


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "id", postgresql_where="published_at IS NULL"),
    )


async def emit(session: AsyncSession, table: Table, topic: str, payload: dict[str, Any]) -> None:
    """Record an event in the current transaction; published after commit."""
    await session.execute(
        insert(table).values(topic=topic, payload=json.loads(json.dumps(payload)))
    )
    wake_relay_after_commit(session)


def wake_relay_after_commit(session: Session | AsyncSession) -> None:
    """Have the relays publish as soon as this session's transaction commits.

    For code that writes outbox rows itself (`insert(outbox)` in a commit
    hook or `run_sync`) instead of through `emit()`; without it the rows
    still go out, at the relay's next poll.
    """
    session.info[_PENDING_KEY] = True


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop(_PENDING_KEY, False):
        for relay in list(_relays):
            relay.wake()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: Any) -> None:
    # Only the whole transaction's rollback: a savepoint's leaves the rest to publish.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def channel(topic: str) -> str:
    return CHANNEL_PREFIX + topic


def stream(topic: str) -> str:
    return STREAM_PREFIX + topic


class OutboxRelay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: Table,
        redis: Redis,
        *,
        poll_seconds: float = 2.0,
        batch_size: int = 200,
        retention: timedelta = timedelta(days=1),
    ) -> None:
        self.sessions = sessions
        self.table = table
        self.redis = redis
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.retention = retention
        self._last_purge = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        _relays.add(self)
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.table.schema}")

    async def stop(self) -> None:
        _relays.discard(self)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                while await self.publish_pending() == self.batch_size:
                    pass
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    await self.purge_published()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "outbox relay for %s failed; retrying in %.1fs", self.table.schema, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch; rows stay unpublished if Redis fails midway."""
        t = self.table
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(t.c.id, t.c.topic, t.c.payload, t.c.created_at)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            for row in rows:
                message = json.dumps(
                    {
                        "id": f"{t.schema}:{row.id}",
                        "topic": row.topic,
                        "payload": row.payload,
                        "occurredAt": _iso(row.created_at),
                    }
                )
                await self.redis.xadd(
                    stream(row.topic), {"event": message}, maxlen=STREAM_LENGTH, approximate=True
                )
                await self.redis.publish(channel(row.topic), message)
            await session.execute(
                update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=func.now())
            )
        OUTBOX_PUBLISHED.labels(t.schema or "public").inc(len(rows))
        return len(rows)

    async def purge_published(self) -> int:
        """Delete rows published longer ago than the retention.

        Events may carry secrets for their consumer (a password-reset token
        for the mailer); they must not outlive their delivery for long.
        """
        self._last_purge = time.monotonic()
        t = self.table
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(t).where(
                    t.c.published_at.is_not(None),
                    t.c.published_at < func.now() - self.retention,
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)


def _iso(value: datetime) -> str:
    return value.isoformat()
