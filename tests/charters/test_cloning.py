"""Cloning a charter or a template to one or many dates, all or nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.charters.series_ops import (
    ASSIGN,
    BLACKOUT,
    CLONE,
    CREATE_DRIVER,
    CREATE_VEHICLE,
    charter_rows,
    count,
    read_charter,
    save_template,
)
from tests.support.charters_fixtures import future_local

CHICAGO = ZoneInfo("America/Chicago")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a Chicago wall time."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHICAGO).astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def _source(bookable_charter, staff):
    """A 09:00 Chicago charter 30 days out whose stops have planned times."""
    pickup_day = datetime.fromisoformat(future_local(30)).date()
    charter = await bookable_charter(
        passengers=80,
        vehicles=2,
        notes="Bring the banner",
        endsAt=_iso(_at(pickup_day, 17)),
        stops=[
            {
                "type": "PICKUP",
                "address": "1 Main St",
                "plannedDeparture": _iso(_at(pickup_day, 9)),
            },
            {
                "type": "DROPOFF",
                "address": "9 Lake Rd",
                "plannedArrival": _iso(_at(pickup_day, 11, 30)),
            },
        ],
    )
    return await read_charter(staff, charter["id"]), pickup_day


async def _clone(staff, source_id, dates, keep=None):
    variables = {"id": source_id, "dates": [d.isoformat() for d in dates]}
    if keep is not None:
        variables["keep"] = keep
    return (await staff(CLONE, variables)).ok()["cloneCharter"]


async def test_clone_to_three_dates_makes_three_quotes_at_the_same_local_time(
    staff, bookable_charter, sessions
):
    # Given a 09:00 Chicago charter whose trip ends at 17:00, and dates in winter and summer
    source, _ = await _source(bookable_charter, staff)
    year = date.today().year + 1
    dates = [date(year, 1, 15), date(year, 7, 15), date(year, 7, 16)]

    # When it is cloned to the three dates
    payload = await _clone(staff, source["id"], dates)

    # Then three new quotes exist, each 09:00 local on its date (DST-correct in UTC)
    assert payload["userErrors"] == []
    clones = payload["charters"]
    assert [c["occurrenceDate"] for c in clones] == [None, None, None]
    assert [c["pickupLocal"] for c in clones] == [f"{d.isoformat()}T09:00" for d in dates]
    assert [c["pickupAt"] for c in clones] == [_iso(_at(d, 9)) for d in dates]
    assert _at(dates[0], 9).hour != _at(dates[1], 9).hour  # CST vs CDT
    assert [c["endsAt"] for c in clones] == [_iso(_at(d, 17)) for d in dates]
    assert {c["status"] for c in clones} == {"QUOTE"}
    assert {c["clonedFrom"]["id"] for c in clones} == {source["id"]}
    assert len({c["reference"] for c in clones} | {source["reference"]}) == 4
    assert {(c["passengerCount"], c["notes"]) for c in clones} == {(80, "Bring the banner")}
    # stops keep their local times on the new day
    assert [
        (c["stops"][0]["plannedDeparture"], c["stops"][1]["plannedArrival"]) for c in clones
    ] == [(_iso(_at(d, 9)), _iso(_at(d, 11, 30))) for d in dates]
    assert await charter_rows(sessions) == 4
    # audited and announced
    for clone in clones:
        assert (
            await count(
                sessions,
                "SELECT count(*) FROM charters.audit_log "
                "WHERE charter_id = :id AND action = 'clone:create'",
                id=clone["id"],
            )
            == 1
        )
    assert (
        await count(
            sessions,
            "SELECT count(*) FROM charters.outbox "
            "WHERE payload->>'clonedFromId' = :id AND payload->'changes' ? 'created'",
            id=source["id"],
        )
        == 3
    )


async def test_clone_copies_vehicles_by_type_but_never_the_vehicle_or_driver(
    staff, bookable_charter
):
    source, _ = await _source(bookable_charter, staff)
    first = source["vehicles"][0]
    vehicle = (
        await staff(CREATE_VEHICLE, {"plate": "CLN-1", "type": first["vehicleType"]["id"]})
    ).ok()["createVehicle"]["vehicle"]
    driver = (await staff(CREATE_DRIVER, {"userId": str(uuid.uuid4())})).ok()["createDriver"][
        "driver"
    ]
    assigned = (
        await staff(ASSIGN, {"cv": first["id"], "vehicle": vehicle["id"], "driver": driver["id"]})
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == []

    payload = await _clone(staff, source["id"], [date.today() + timedelta(days=60)])

    [clone] = payload["charters"]
    assert [
        (v["position"], v["capacity"], v["cost"], v["vehicleType"]) for v in clone["vehicles"]
    ] == [(v["position"], v["capacity"], v["cost"], v["vehicleType"]) for v in source["vehicles"]]
    assert [(v["vehicle"], v["driver"], v["status"]) for v in clone["vehicles"]] == [
        (None, None, "PENDING"),
        (None, None, "PENDING"),
    ]
    assert {v["id"] for v in clone["vehicles"]}.isdisjoint({v["id"] for v in source["vehicles"]})
    # Without keepVendorAssignments no mapping is returned
    assert payload["clones"] == [{"charter": {"id": clone["id"]}, "vehicles": []}]


async def test_keep_vendor_assignments_returns_the_vehicle_mapping_per_clone(
    staff, bookable_charter, sessions
):
    source, _ = await _source(bookable_charter, staff)
    dates = [date.today() + timedelta(days=d) for d in (40, 41)]

    payload = await _clone(staff, source["id"], dates, keep=True)

    assert payload["userErrors"] == []
    for clone, charter in zip(payload["clones"], payload["charters"], strict=True):
        assert clone["charter"]["id"] == charter["id"]
        assert clone["vehicles"] == [
            {"sourceCharterVehicleId": s["id"], "charterVehicleId": c["id"]}
            for s, c in zip(source["vehicles"], charter["vehicles"], strict=True)
        ]
    # The intent is also in each clone's event, for the vendors subgraph
    assert (
        await count(
            sessions,
            "SELECT count(*) FROM charters.outbox WHERE payload->>'clonedFromId' = :id "
            "AND (payload->>'keepVendorAssignments')::boolean "
            "AND jsonb_typeof(payload->'vehicleMap') = 'object'",
            id=source["id"],
        )
        == 2
    )


async def test_one_blacked_out_date_fails_the_whole_clone(staff, bookable_charter, sessions):
    # Given three future dates, the last one blacked out
    source, _ = await _source(bookable_charter, staff)
    dates = [date.today() + timedelta(days=d) for d in (50, 51, 52)]
    blackout = (await staff(BLACKOUT, {"on": dates[2].isoformat()})).ok()["createBlackoutDate"]
    assert blackout["userErrors"] == []
    before = await charter_rows(sessions)
    stops_before = await count(sessions, "SELECT count(*) FROM charters.stops")

    # When cloning to all three
    payload = await _clone(staff, source["id"], dates)

    # Then nothing is created and the error names the date
    assert payload["charters"] == []
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("dates.2", "BLACKED_OUT")]
    assert dates[2].isoformat() in payload["userErrors"][0]["message"]
    assert await charter_rows(sessions) == before
    assert await count(sessions, "SELECT count(*) FROM charters.stops") == stops_before
    assert await count(sessions, "SELECT count(*) FROM charters.charter_vehicles") == 2


async def test_a_past_date_fails_the_whole_clone(staff, bookable_charter, sessions):
    source, _ = await _source(bookable_charter, staff)
    past = date.today() - timedelta(days=1)

    payload = await _clone(staff, source["id"], [date.today() + timedelta(days=9), past])

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("dates.1", "IN_THE_PAST")]
    assert past.isoformat() in payload["userErrors"][0]["message"]
    assert await charter_rows(sessions) == 1


async def test_repeated_dates_and_too_many_dates_are_refused(staff, bookable_charter, sessions):
    source, _ = await _source(bookable_charter, staff)
    day = date.today() + timedelta(days=20)

    repeated = await _clone(staff, source["id"], [day, day + timedelta(days=1), day])
    too_many = await _clone(staff, source["id"], [day + timedelta(days=i) for i in range(367)])
    none = await _clone(staff, source["id"], [])

    assert [(e["field"], e["code"]) for e in repeated["userErrors"]] == [("dates.2", "INVALID")]
    assert [(e["field"], e["code"]) for e in too_many["userErrors"]] == [
        ("dates", "TOO_MANY_DATES")
    ]
    assert [(e["field"], e["code"]) for e in none["userErrors"]] == [("dates", "REQUIRED")]
    assert await charter_rows(sessions) == 1


async def test_clone_of_a_template_records_the_template_and_can_be_booked(staff, bookable_charter):
    source = await bookable_charter()
    template = await save_template(staff, source["id"], "Concert shuttle")
    day = date.today() + timedelta(days=45)

    payload = await _clone(staff, template["id"], [day])
    [clone] = payload["charters"]
    booked = (
        await staff(
            "mutation($id: ID!) { setCharterStatus(id: $id, status: BOOKED) "
            "{ charter { status } userErrors { code } } }",
            {"id": clone["id"]},
        )
    ).ok()["setCharterStatus"]

    assert clone["isTemplate"] is False
    assert clone["templateName"] is None
    assert clone["clonedFrom"] == {"id": template["id"]}
    assert booked == {"charter": {"status": "BOOKED"}, "userErrors": []}


async def test_clone_366_dates_in_one_call(staff, bookable_charter, sessions):
    source = await bookable_charter(vehicles=1)
    start = date.today() + timedelta(days=2)

    payload = await _clone(staff, source["id"], [start + timedelta(days=i) for i in range(366)])

    assert payload["userErrors"] == []
    assert len(payload["charters"]) == 366
    assert await charter_rows(sessions) == 367
