"""`Charter.bookedAt` (issue 16): set by the booking, filtered by `bookedFrom`/`bookedTo`.

The booking transition stamps it in its own transaction (a quote has none);
the list filter is `[bookedFrom, bookedTo)`; migration 0012 backfills it for
charters booked before it existed, on a scratch database at 0011.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrate import _run
from subgraphs.charters.models import AuditEntry, Charter
from tests.charters.ops import book, nodes

READ = "query($id: ID!) { charter(id: $id) { status bookedAt } }"
LIST = """query($where: CharterFilter) { charters(first: 50, where: $where) {
  totalCount edges { node { id bookedAt } } } }"""


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_booking_stamps_booked_at_and_audits_it(
    staff: Any, bookable_charter: Any, sessions: Any
) -> None:
    charter = await bookable_charter()
    quote = (await staff(READ, {"id": charter["id"]})).ok()["charter"]

    before = datetime.now(UTC)
    await book(staff, charter["id"])
    after = datetime.now(UTC)
    booked = (await staff(READ, {"id": charter["id"]})).ok()["charter"]

    assert quote == {"status": "QUOTE", "bookedAt": None}
    assert booked["status"] == "BOOKED"
    assert before <= instant(booked["bookedAt"]) <= after
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.charter_id == uuid.UUID(charter["id"]),
                AuditEntry.action == "status:booked",
            )
        )
    assert entry is not None
    assert entry.old is not None
    assert entry.old["booked_at"] is None
    assert entry.new is not None
    assert instant(entry.new["booked_at"]) == instant(booked["bookedAt"])


async def test_the_list_filters_by_booking_time_from_inclusive_to_exclusive(
    staff: Any, bookable_charter: Any, sessions: Any
) -> None:
    early, late, quote = [await bookable_charter() for _ in range(3)]
    await book(staff, early["id"])
    await book(staff, late["id"])
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    async with sessions() as session, session.begin():
        for row, at in ((early, t0), (late, t0 + timedelta(days=7))):
            await session.execute(
                update(Charter).where(Charter.id == uuid.UUID(row["id"])).values(booked_at=at)
            )

    async def listed(**where: Any) -> set[str]:
        page = (await staff(LIST, {"where": where})).ok()["charters"]
        return {node["id"] for node in nodes(page)}

    assert await listed(bookedFrom=t0.isoformat()) == {early["id"], late["id"]}
    assert await listed(
        bookedFrom=t0.isoformat(), bookedTo=(t0 + timedelta(days=7)).isoformat()
    ) == {early["id"]}
    assert await listed(bookedFrom=(t0 + timedelta(seconds=1)).isoformat()) == {late["id"]}
    assert await listed(bookedTo=t0.isoformat()) == set()
    # No booking filter: the quote is listed too.
    assert quote["id"] in await listed()


CHARTER_ROW = (
    "INSERT INTO charters.charters (id, reference, status, client_id, trip_type,"
    " passenger_count, pickup_local, pickup_time_zone, pickup_at, quote_revision, version,"
    " is_template, requires_second_driver, split_from_id, created_at, updated_at)"
    " VALUES (:id, :ref, :status, :client, 'one_way', 40, '2026-09-01 09:00',"
    " 'America/Chicago', '2026-09-01 14:00+00', 1, 1, false, false, :split, :at, :at)"
)
AUDIT_ROW = (
    "INSERT INTO charters.audit_log (id, charter_id, entity, entity_id, action, old, new, at)"
    " VALUES (:id, :charter, 'charter', :charter, :action, CAST(:old AS jsonb),"
    " CAST(:new AS jsonb), :at)"
)


async def test_migration_0012_backfills_booked_at_from_the_audit_log_then_updated_at(
    settings: Any,
) -> None:
    scratch = f"charters_booked_at_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    url = make_url(settings.database_url).set(database=scratch).render_as_string(False)
    audited_at = datetime(2026, 5, 4, 15, 30, tzinfo=UTC)
    touched_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    ids = {
        name: uuid.uuid4()
        for name in (
            "audited",
            "split_child",
            "confirmed_unaudited",
            "cancelled_after_booking",
            "cancelled_quote",
            "quote",
        )
    }
    try:
        await _run(url, "upgrade", "charters", revision="0011_charters_tour_departures")
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            for n, (name, status) in enumerate(
                (
                    ("audited", "completed"),
                    ("split_child", "confirmed"),
                    ("confirmed_unaudited", "confirmed"),
                    ("cancelled_after_booking", "cancelled"),
                    ("cancelled_quote", "cancelled"),
                    ("quote", "quote"),
                )
            ):
                await conn.execute(
                    text(CHARTER_ROW),
                    {
                        "id": ids[name],
                        "ref": f"CH-2026-{n + 1:06d}",
                        "status": status,
                        "client": uuid.uuid4(),
                        "split": ids["audited"] if name == "split_child" else None,
                        "at": touched_at,
                    },
                )
            audit = [
                ("audited", "status:booked", '{"status": "quote"}', '{"status": "booked"}'),
                ("audited", "status:confirmed", '{"status": "booked"}', '{"status": "confirmed"}'),
                (
                    "cancelled_after_booking",
                    "cancel",
                    '{"status": "booked"}',
                    '{"status": "cancelled"}',
                ),
                ("cancelled_quote", "cancel", '{"status": "quote"}', '{"status": "cancelled"}'),
            ]
            for n, (name, action, old, new) in enumerate(audit):
                await conn.execute(
                    text(AUDIT_ROW),
                    {
                        "id": uuid.uuid4(),
                        "charter": ids[name],
                        "action": action,
                        "old": old,
                        "new": new,
                        "at": audited_at + timedelta(days=n),
                    },
                )
        await _run(url, "upgrade", "charters", revision="0012_charter_booked_at")
        async with engine.connect() as conn:
            booked: dict[uuid.UUID, datetime | None] = dict(
                (await conn.execute(text("SELECT id, booked_at FROM charters.charters"))).all()
            )
        await engine.dispose()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        await admin.dispose()

    assert {name: booked[key] for name, key in ids.items()} == {
        "audited": audited_at,
        "split_child": audited_at,
        "confirmed_unaudited": touched_at,
        "cancelled_after_booking": touched_at,
        "cancelled_quote": None,
        "quote": None,
    }
