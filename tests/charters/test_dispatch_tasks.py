"""Readiness tasks (issue 13 section 1): generated at booking, worked, completed by facts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, update

from subgraphs.charters import jobs
from subgraphs.charters.models import AuditEntry, Charter, DispatchTask, outbox
from subgraphs.charters.service import tasks
from subgraphs.charters.service.tasks import PLAN
from tests.charters.dispatch_ops import (
    ADD_VEHICLE,
    COMPLETE,
    REOPEN,
    SKIP,
    START,
    booked,
    by_kind,
    db_tasks,
    implement_case,
    tasks_of,
)
from tests.charters.ops import ASSIGN, REQUEST_CHANGE, book, fleet_driver, fleet_vehicle
from tests.support.charters_fixtures import future_local

PER_VEHICLE = [s.kind.upper() for s in PLAN if s.per_vehicle]
CHARTER_WIDE = [s.kind.upper() for s in PLAN if not s.per_vehicle]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_booking_generates_the_plan_per_vehicle_and_charter_wide(staff, bookable_charter):
    charter = await booked(staff, bookable_charter, vehicles=2)
    data = await tasks_of(staff, charter["id"])
    pickup = _at(data["pickupAt"])
    first, second = (v["id"] for v in charter["vehicles"])

    assert len(data["tasks"]) == 2 * len(PER_VEHICLE) + len(CHARTER_WIDE) == 12
    for vehicle_id in (first, second):
        assert sorted(by_kind(data["tasks"], vehicle_id)) == sorted(PER_VEHICLE)
    assert sorted(by_kind(data["tasks"])) == sorted(CHARTER_WIDE)
    minutes = {s.kind.upper(): s.minutes_before_pickup for s in PLAN}
    for task in data["tasks"]:
        assert task["status"] == "PENDING"
        assert _at(task["dueAt"]) == pickup - timedelta(minutes=minutes[task["kind"]])
        assert task["overdueSince"] is None
    # Soonest due first: the vehicles are due 7 days out, the documents the day before.
    assert [t["kind"] for t in data["tasks"]][:2] == ["VEHICLE_ASSIGNED", "VEHICLE_ASSIGNED"]
    assert len(data["openTasks"]) == 12


async def test_a_quote_has_no_tasks_and_confirming_a_booked_charter_adds_none(
    staff, bookable_charter, sessions
):
    quote = await bookable_charter()
    before = await db_tasks(sessions, quote["id"])
    await book(staff, quote["id"])
    booked_rows = await db_tasks(sessions, quote["id"])
    confirmed = await staff(
        """mutation($id: ID!) { setCharterStatus(id: $id, status: CONFIRMED) {
          userErrors { code } } }""",
        {"id": quote["id"]},
    )

    assert before == []
    assert len(booked_rows) == len(PLAN)
    assert confirmed.ok()["setCharterStatus"]["userErrors"] == []
    assert [t.id for t in await db_tasks(sessions, quote["id"])] == [t.id for t in booked_rows]


async def test_what_is_already_satisfied_is_created_completed_and_generation_is_idempotent(
    staff, bookable_charter, sessions
):
    quote = await bookable_charter()
    vehicle_id = quote["vehicles"][0]["id"]
    types = (await staff("{ vehicleTypes { id } }")).ok()["vehicleTypes"]
    bus = await fleet_vehicle(staff, types[-1]["id"])
    driver = await fleet_driver(staff)
    assigned = (
        await staff(ASSIGN, {"cv": vehicle_id, "vehicle": bus["id"], "driver": driver["id"]})
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == []

    await book(staff, quote["id"])
    data = await tasks_of(staff, quote["id"])
    mine = by_kind(data["tasks"], vehicle_id)
    async with sessions() as session, session.begin():
        charter = await session.get(Charter, uuid.UUID(quote["id"]))
        assert charter is not None
        again = await tasks.sync(session, charter, datetime.now(UTC))
        count = await session.scalar(
            select(func.count())
            .select_from(DispatchTask)
            .where(DispatchTask.charter_id == charter.id)
        )

    assert mine["VEHICLE_ASSIGNED"]["status"] == "COMPLETED"
    assert mine["DRIVER_ASSIGNED"]["status"] == "COMPLETED"
    # Completed by the fact, not a person.
    assert mine["VEHICLE_ASSIGNED"]["completedBy"] is None
    assert mine["VEHICLE_ASSIGNED"]["completedAt"] is not None
    assert {k for k, t in mine.items() if t["status"] == "PENDING"} == {
        "VENDOR_ASSIGNED",
        "VENDOR_CONFIRMED",
        "DRIVER_CONFIRMED",
    }
    open_kinds = sorted(t["kind"] for t in data["openTasks"])
    assert "VEHICLE_ASSIGNED" not in open_kinds
    assert "DRIVER_ASSIGNED" not in open_kinds
    assert again is False
    assert count == len(PLAN)


async def test_assigning_a_vehicle_then_a_driver_completes_their_tasks(
    staff, as_role, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    types = (await staff("{ vehicleTypes { id } }")).ok()["vehicleTypes"]
    bus = await fleet_vehicle(staff, types[-1]["id"])
    driver = await fleet_driver(staff)

    (await dispatcher(ASSIGN, {"cv": vehicle_id, "vehicle": bus["id"]})).ok()
    after_vehicle = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    (await dispatcher(ASSIGN, {"cv": vehicle_id, "driver": driver["id"]})).ok()
    after_driver = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    async with sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.charter_id == uuid.UUID(charter["id"]),
                    AuditEntry.entity == "dispatch_task",
                )
            )
        )
        announced = [
            row.payload["changes"]
            for row in (
                await session.execute(
                    select(outbox.c.payload)
                    .where(outbox.c.topic == "charters.charter_changed")
                    .order_by(outbox.c.id)
                )
            ).all()
            if row.payload.get("charterId") == charter["id"]
        ]

    assert after_vehicle["VEHICLE_ASSIGNED"]["status"] == "COMPLETED"
    assert after_vehicle["DRIVER_ASSIGNED"]["status"] == "PENDING"
    assert after_driver["DRIVER_ASSIGNED"]["status"] == "COMPLETED"
    assert after_driver["DRIVER_ASSIGNED"]["completedBy"] is None
    assert sorted(audited) == ["task:satisfied", "task:satisfied"]
    # One board event per assignment, naming the tasks it completed.
    assert announced[-2:] == [["tasks", "vehicles"], ["tasks", "vehicles"]]


async def test_dispatch_works_a_task_through_its_transitions(staff, as_role, bookable_charter):
    charter = await booked(staff, bookable_charter)
    dispatcher = await as_role("dispatcher")
    route = by_kind((await tasks_of(staff, charter["id"]))["tasks"])["ROUTE_VERIFIED"]

    started = (await dispatcher(START, {"id": route["id"]})).ok()["startTask"]
    completed = (await dispatcher(COMPLETE, {"id": route["id"]})).ok()["completeTask"]
    open_after = (await tasks_of(staff, charter["id"]))["openTasks"]
    reopened = (await dispatcher(REOPEN, {"id": route["id"]})).ok()["reopenTask"]
    skipped = (
        await dispatcher(SKIP, {"id": route["id"], "reason": "  Same route as last week  "})
    ).ok()["skipTask"]

    assert started["task"]["status"] == "IN_PROGRESS"
    assert completed["task"]["status"] == "COMPLETED"
    assert completed["task"]["completedAt"] is not None
    assert completed["task"]["completedBy"] is not None
    assert route["id"] not in [t["id"] for t in open_after]
    assert reopened["task"]["status"] == "PENDING"
    assert reopened["task"]["completedAt"] is None
    assert reopened["task"]["completedBy"] is None
    assert skipped["task"]["status"] == "SKIPPED"
    assert skipped["task"]["skipReason"] == "Same route as last week"
    assert [p["userErrors"] for p in (started, completed, reopened, skipped)] == [[]] * 4


async def test_bad_moves_are_user_errors_that_change_nothing(
    staff, as_role, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    dispatcher = await as_role("dispatcher")
    docs = by_kind((await tasks_of(staff, charter["id"]))["tasks"])["DOCUMENTS_READY"]
    before = await db_tasks(sessions, charter["id"])

    no_reason = (await dispatcher(SKIP, {"id": docs["id"], "reason": "   "})).ok()["skipTask"]
    long_reason = (await dispatcher(SKIP, {"id": docs["id"], "reason": "x" * 501})).ok()["skipTask"]
    reopen_pending = (await dispatcher(REOPEN, {"id": docs["id"]})).ok()["reopenTask"]
    unknown = (await dispatcher(START, {"id": str(uuid.uuid4())})).ok()["startTask"]
    not_an_id = (await dispatcher(START, {"id": "nope"})).ok()["startTask"]
    after = await db_tasks(sessions, charter["id"])

    assert no_reason["userErrors"][0]["field"] == "reason"
    assert no_reason["userErrors"][0]["code"] == "REQUIRED"
    assert (long_reason["userErrors"][0]["field"], long_reason["userErrors"][0]["code"]) == (
        "reason",
        "TOO_LONG",
    )
    assert (reopen_pending["userErrors"][0]["field"], reopen_pending["userErrors"][0]["code"]) == (
        "status",
        "INVALID_TRANSITION",
    )
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("id", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in not_an_id["userErrors"]] == [("id", "NOT_FOUND")]
    assert all(p["task"] is None for p in (no_reason, long_reason, reopen_pending, unknown))
    assert [(t.id, t.status, t.updated_at) for t in after] == [
        (t.id, t.status, t.updated_at) for t in before
    ]


async def test_only_dispatch_roles_work_tasks(staff, as_role, bookable_charter):
    charter = await booked(staff, bookable_charter)
    route = by_kind((await tasks_of(staff, charter["id"]))["tasks"])["ROUTE_VERIFIED"]

    codes = {}
    for role in ("sales_agent", "accounting", "driver", "client"):
        client = await as_role(role)
        codes[role] = (await client(COMPLETE, {"id": route["id"]})).error_codes
    still = by_kind((await tasks_of(staff, charter["id"]))["tasks"])["ROUTE_VERIFIED"]

    assert codes == {role: ["FORBIDDEN"] for role in codes}
    assert still["status"] == "PENDING"


async def test_a_rescheduled_charter_moves_its_open_tasks_due_times(
    staff, as_role, bookable_charter
):
    charter = await booked(staff, bookable_charter, days=30)
    approver = await as_role("manager")
    dispatcher = await as_role("dispatcher")
    before = await tasks_of(staff, charter["id"])
    docs = by_kind(before["tasks"])["DOCUMENTS_READY"]
    (await dispatcher(COMPLETE, {"id": docs["id"]})).ok()

    filed = (
        await staff(
            REQUEST_CHANGE,
            {
                "charterId": charter["id"],
                "input": {
                    "changeType": "DATE_TIME_CHANGE",
                    "title": "Moved a week",
                    "changes": {"pickupLocal": future_local(37)},
                },
            },
        )
    ).ok()["requestCharterChange"]
    assert filed["userErrors"] == [], filed
    await implement_case(staff, approver, filed["changeCase"]["id"])
    after = await tasks_of(staff, charter["id"])
    moved_by = _at(after["pickupAt"]) - _at(before["pickupAt"])
    old = {t["id"]: _at(t["dueAt"]) for t in before["tasks"]}

    assert moved_by == timedelta(days=7)
    for task in after["tasks"]:
        if task["id"] == docs["id"]:
            # A completed task keeps the due time it was done against.
            assert _at(task["dueAt"]) == old[task["id"]]
        else:
            assert _at(task["dueAt"]) == old[task["id"]] + moved_by
    assert len(after["tasks"]) == len(before["tasks"])


async def test_a_vehicle_added_to_a_booked_charter_gets_its_own_tasks(
    staff, as_role, bookable_charter
):
    charter = await booked(staff, bookable_charter, passengers=40)
    approver = await as_role("manager")
    type_id = (await staff("{ vehicleTypes { id } }")).ok()["vehicleTypes"][-1]["id"]

    filed = (
        await staff(
            ADD_VEHICLE, {"c": charter["id"], "v": {"vehicleTypeId": type_id, "cost": "900.00"}}
        )
    ).ok()["addCharterVehicle"]
    assert filed["userErrors"] == [], filed
    await implement_case(staff, approver, filed["changeCase"]["id"])
    data = await tasks_of(staff, charter["id"])
    vehicles = (
        await staff(
            "query($id: ID!) { charter(id: $id) { vehicles { id } } }", {"id": charter["id"]}
        )
    ).ok()["charter"]["vehicles"]
    added = next(v["id"] for v in vehicles if v["id"] != charter["vehicles"][0]["id"])

    assert len(vehicles) == 2
    assert sorted(by_kind(data["tasks"], added)) == sorted(PER_VEHICLE)
    assert len(data["tasks"]) == 2 * len(PER_VEHICLE) + len(CHARTER_WIDE)


async def test_the_overdue_job_flags_open_tasks_past_due_once_with_one_event_per_charter(
    staff, bookable_charter, sessions
):
    # Nothing is due yet by the real clock (the server's own job finds nothing to do).
    near = await booked(staff, bookable_charter, days=10)
    far = await booked(staff, bookable_charter, days=30)
    near_rows = await db_tasks(sessions, near["id"])
    # A closed task is never overdue.
    async with sessions() as session, session.begin():
        await tasks.satisfy(
            session, near_rows[0].charter_id, None, "route_verified", datetime.now(UTC)
        )
    # The job's clock: four days before the near pickup, its 7- and 5-day tasks are late.
    pickup = max(t.due_at for t in near_rows) + timedelta(days=1)
    at = pickup - timedelta(days=4)

    async with sessions() as session, session.begin():
        first = await tasks.flag_overdue(session, at)
    async with sessions() as session, session.begin():
        second = await tasks.flag_overdue(session, at)
    rows = await db_tasks(sessions, near["id"])
    async with sessions() as session:
        last = (
            await session.execute(select(outbox.c.payload).order_by(outbox.c.id.desc()).limit(1))
        ).scalar_one()

    late = {t.id for t in rows if t.due_at <= at and t.status in ("pending", "in_progress")}
    assert list(first) == [uuid.UUID(near["id"])]
    assert set(first[uuid.UUID(near["id"])]) == late
    assert {t.kind for t in rows if t.id in late} == {"vehicle_assigned", "vendor_assigned"}
    assert all(t.overdue_since == at for t in rows if t.id in late)
    assert all(t.overdue_since is None for t in rows if t.id not in late)
    assert all(t.overdue_since is None for t in await db_tasks(sessions, far["id"]))
    assert second == {}
    assert last["charterId"] == near["id"]
    assert last["changes"] == ["tasks"]
    assert sorted(last["overdueTaskIds"]) == sorted(str(t) for t in late)


async def test_completing_an_overdue_task_clears_its_flag(
    staff, as_role, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=10)
    rows = await db_tasks(sessions, charter["id"])
    pickup = max(t.due_at for t in rows) + timedelta(days=1)
    async with sessions() as session, session.begin():
        await tasks.flag_overdue(session, pickup - timedelta(days=4))
    late = next(t for t in await db_tasks(sessions, charter["id"]) if t.kind == "vehicle_assigned")
    dispatcher = await as_role("dispatcher")

    done = (await dispatcher(COMPLETE, {"id": str(late.id)})).ok()["completeTask"]

    assert late.overdue_since is not None
    assert done["task"]["overdueSince"] is None
    assert done["task"]["status"] == "COMPLETED"


async def test_a_split_off_vehicle_takes_its_tasks_and_the_new_charter_gets_its_own(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, passengers=90, vehicles=2)
    staying, moving = (v["id"] for v in charter["vehicles"])
    types = (await staff("{ vehicleTypes { id } }")).ok()["vehicleTypes"]
    bus = await fleet_vehicle(staff, types[-1]["id"])
    (await staff(ASSIGN, {"cv": moving, "vehicle": bus["id"]})).ok()

    split = (
        await staff(
            """mutation($id: ID!, $vehicles: [ID!]!) {
              splitCharter(id: $id, passengersToNew: 40, vehicleIds: $vehicles) {
                charter { id } userErrors { field code message } } }""",
            {"id": charter["id"], "vehicles": [moving]},
        )
    ).ok()["splitCharter"]
    assert split["userErrors"] == [], split
    original = (await tasks_of(staff, charter["id"]))["tasks"]
    new = (await tasks_of(staff, split["charter"]["id"]))["tasks"]

    assert sorted(by_kind(original, staying)) == sorted(PER_VEHICLE)
    assert by_kind(original, moving) == {}
    assert sorted(by_kind(original)) == sorted(CHARTER_WIDE)
    # What was done for the moved vehicle stays done on the new charter.
    assert sorted(by_kind(new, moving)) == sorted(PER_VEHICLE)
    assert by_kind(new, moving)["VEHICLE_ASSIGNED"]["status"] == "COMPLETED"
    assert sorted(by_kind(new)) == sorted(CHARTER_WIDE)
    assert len(new) == len(PLAN)


async def test_the_overdue_job_runs_every_15_minutes_and_flags_through_the_runner_body(
    staff, bookable_charter, sessions, settings
):
    charter = await booked(staff, bookable_charter, days=10)
    async with sessions() as session, session.begin():
        # Make one task due already (the job body reads the real clock).
        await session.execute(
            update(DispatchTask)
            .where(
                DispatchTask.charter_id == uuid.UUID(charter["id"]),
                DispatchTask.kind == "vehicle_assigned",
            )
            .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    job = next(j for j in jobs.jobs(settings) if j.name == "charters.dispatch_overdue")

    summary = await job.body(SimpleNamespace(sessions=sessions), datetime.now())
    again = await job.body(SimpleNamespace(sessions=sessions), datetime.now())
    flagged = [t for t in await db_tasks(sessions, charter["id"]) if t.overdue_since is not None]

    assert job.cron == "*/15 * * * *"
    assert summary == {"charters": 1, "tasks": 1}
    assert again == {"charters": 0, "tasks": 0}
    assert [t.kind for t in flagged] == ["vehicle_assigned"]


async def test_satisfy_announces_only_when_asked_and_completes_once(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    charter_id = uuid.UUID(charter["id"])

    async def events() -> int:
        async with sessions() as session:
            return (
                await session.scalar(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.payload["charterId"].astext == charter["id"])
                )
                or 0
            )

    start = await events()
    async with sessions() as session, session.begin():
        quiet = await tasks.satisfy(session, charter_id, None, "route_verified", datetime.now(UTC))
    after_quiet = await events()
    async with sessions() as session, session.begin():
        loud = await tasks.satisfy(
            session, charter_id, None, "documents_ready", datetime.now(UTC), announce=True
        )
        again = await tasks.satisfy(
            session, charter_id, None, "documents_ready", datetime.now(UTC), announce=True
        )
    after_loud = await events()

    assert len(quiet) == 1
    assert len(loud) == 1
    assert again == []
    assert after_quiet == start
    assert after_loud == start + 1
