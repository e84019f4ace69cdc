"""The catalogue through GraphQL: staff build it, anyone reads it, customers see what is theirs to see.

Business rules are tested at the service level (test_schedules_*, test_slots_*,
test_blackouts_*); these few tests hold the GraphQL edge: inputs, payloads,
user errors, gates on staff-only fields, and one statement count.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from db.engine import record_statements
from tests.tours.conftest import ERRORS

CREATE_TOUR = f"""
mutation($input: CreateTourInput!) {{ createTour(input: $input) {{ tour {{ id name }} {ERRORS} }} }}
"""
CREATE_SCHEDULE = f"""
mutation($input: CreateTourScheduleInput!) {{
  createTourSchedule(input: $input) {{
    schedule {{ id startTime recurrence weekdays validUntil priceOverride }} {ERRORS}
  }}
}}
"""
GENERATE = f"""
mutation($id: ID!, $from: Date!, $to: Date!) {{
  generateDepartures(scheduleId: $id, from: $from, to: $to) {{
    created skipped {{ date reason }} departures {{ id date localStart pricePerPerson }} {ERRORS}
  }}
}}
"""
READ = """
query($from: Date!, $to: Date!) {
  tours {
    name
    schedules { name }
    departures(from: $from, to: $to) { date localStart seatsAvailable pricePerPerson tour { name } }
  }
}
"""


def _start() -> date:
    """A week ahead: clear of the booking cutoff and of "today" in any zone."""
    return date.today() + timedelta(days=7)


async def _tour(client: Any, name: str = "Riverwalk", price: str = "75.00") -> str:
    payload = (
        await client(
            CREATE_TOUR,
            {"input": {"name": name, "durationMinutes": 120, "basePrice": price}},
        )
    ).ok()["createTour"]
    assert payload["userErrors"] == []
    return str(payload["tour"]["id"])


async def _schedule(client: Any, tour_id: str, **changes: Any) -> dict[str, Any]:
    data = {
        "tourId": tour_id,
        "name": "Mornings",
        "startTime": "09:00",
        "recurrence": "DAILY",
        "maxCapacity": 15,
        "validFrom": _start().isoformat(),
        **changes,
    }
    return (await client(CREATE_SCHEDULE, {"input": data})).ok()["createTourSchedule"]  # type: ignore[no-any-return]


async def test_staff_build_the_catalogue_and_anyone_reads_it_but_not_its_schedules(
    tours_manager, tours_as
):
    # Given a tour with a daily schedule whose price overrides the tour's
    tour_id = await _tour(tours_manager)
    made = await _schedule(tours_manager, tour_id, priceOverride="80.00")
    assert made["userErrors"] == []
    assert made["schedule"]["startTime"] == "09:00"
    schedule_id = made["schedule"]["id"]
    window = {
        "id": schedule_id,
        "from": _start().isoformat(),
        "to": (_start() + timedelta(days=2)).isoformat(),
    }

    # When staff generate three days twice
    first = (await tours_manager(GENERATE, window)).ok()["generateDepartures"]
    again = (await tours_manager(GENERATE, window)).ok()["generateDepartures"]

    # Then three departures exist, once
    assert first["created"] == 3
    assert [d["localStart"] for d in first["departures"]] == ["09:00"] * 3
    assert {d["pricePerPerson"] for d in first["departures"]} == {"80.00"}
    assert (again["created"], again["departures"], again["userErrors"]) == (0, [], [])

    # And an anonymous customer reads them, but not the schedules (staff only)
    anonymous = await tours_as()
    read = await anonymous(READ, {"from": window["from"], "to": window["to"]})
    assert read.error_codes == ["UNAUTHENTICATED"]
    (tour,) = read.data["tours"]
    assert tour["schedules"] is None
    assert [d["seatsAvailable"] for d in tour["departures"]] == [15, 15, 15]
    assert tour["departures"][0]["tour"]["name"] == "Riverwalk"
    client = await tours_as("client")
    assert (await client(READ, {"from": window["from"], "to": window["to"]})).error_codes == [
        "FORBIDDEN"
    ]
    staff = (await tours_manager(READ, {"from": window["from"], "to": window["to"]})).ok()
    assert staff["tours"][0]["schedules"] == [{"name": "Mornings"}]


async def test_a_schedule_ending_before_it_starts_is_a_user_error_and_nothing_is_stored(
    tours_manager,
):
    tour_id = await _tour(tours_manager)

    bad = await _schedule(
        tours_manager,
        tour_id,
        recurrence="WEEKLY",
        weekdays=[],
        validUntil=(_start() - timedelta(days=1)).isoformat(),
    )

    assert bad["schedule"] is None
    assert sorted((e["field"], e["code"]) for e in bad["userErrors"]) == [
        ("validUntil", "OUT_OF_RANGE"),
        ("weekdays", "REQUIRED"),
    ]
    read = (await tours_manager("{ tours { schedules { id } } }")).ok()
    assert read["tours"] == [{"schedules": []}]


async def test_an_inactive_tour_is_hidden_from_customers_and_shown_to_staff(
    tours_manager, tours_as
):
    tour_id = await _tour(tours_manager)
    changed = (
        await tours_manager(
            f"mutation($id: ID!) {{ updateTour(id: $id, input: {{active: false}}) "
            f"{{ tour {{ active }} {ERRORS} }} }}",
            {"id": tour_id},
        )
    ).ok()["updateTour"]
    assert changed == {"tour": {"active": False}, "userErrors": []}

    customer = await tours_as("client")
    lookup = "query($id: ID!) { tour(id: $id) { id } tours { id } }"
    assert (await customer(lookup, {"id": tour_id})).ok() == {"tour": None, "tours": []}
    assert (await customer("{ tours(includeInactive: true) { id } }")).error_codes == ["FORBIDDEN"]
    staff = (await tours_manager("{ tours(includeInactive: true) { id } }")).ok()
    assert staff["tours"] == [{"id": tour_id}]


async def test_departures_change_cancel_and_blackouts_list_what_was_sold(tours_manager, tours_as):
    tour_id = await _tour(tours_manager)
    schedule_id = (await _schedule(tours_manager, tour_id))["schedule"]["id"]
    day = _start().isoformat()
    generated = (await tours_manager(GENERATE, {"id": schedule_id, "from": day, "to": day})).ok()[
        "generateDepartures"
    ]
    slot_id = generated["departures"][0]["id"]

    # A capacity of 0 is refused on its field; a new price and capacity are kept
    update = f"""mutation($id: ID!, $input: UpdateDepartureSlotInput!) {{
      updateDepartureSlot(id: $id, input: $input) {{
        departureSlot {{ maxCapacity seatsAvailable pricePerPerson }} {ERRORS} }} }}"""
    refused = (await tours_manager(update, {"id": slot_id, "input": {"maxCapacity": 0}})).ok()[
        "updateDepartureSlot"
    ]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("maxCapacity", "OUT_OF_RANGE")
    ]
    kept = (
        await tours_manager(
            update, {"id": slot_id, "input": {"maxCapacity": 20, "pricePerPerson": "70.00"}}
        )
    ).ok()["updateDepartureSlot"]
    assert kept["departureSlot"] == {
        "maxCapacity": 20,
        "seatsAvailable": 20,
        "pricePerPerson": "70.00",
    }

    # A global blackout over that day lists nothing sold (no seats are)
    blackout = (
        await tours_manager(
            f"""mutation($input: CreateTourBlackoutInput!) {{ createTourBlackout(input: $input) {{
              blackout {{ name blackoutType tour {{ id }} soldDepartures {{ id }} }}
              soldDepartures {{ id }} {ERRORS} }} }}""",
            {
                "input": {
                    "name": "Festival",
                    "blackoutType": "CUSTOM",
                    "startDate": day,
                    "endDate": day,
                }
            },
        )
    ).ok()["createTourBlackout"]
    assert blackout == {
        "blackout": {
            "name": "Festival",
            "blackoutType": "CUSTOM",
            "tour": None,
            "soldDepartures": [],
        },
        "soldDepartures": [],
        "userErrors": [],
    }
    listed = (
        await (await tours_as())(
            "query($id: ID!) { tourBlackouts(tourId: $id) { name } }", {"id": tour_id}
        )
    ).ok()
    assert listed == {"tourBlackouts": [{"name": "Festival"}]}

    # The router resolves it as an entity by its key
    entity = (
        await tours_manager(
            "query($r: [_Any!]!) { _entities(representations: $r) "
            "{ ... on DepartureSlot { maxCapacity } } }",
            {"r": [{"__typename": "DepartureSlot", "id": slot_id}]},
        )
    ).ok()
    assert entity == {"_entities": [{"maxCapacity": 20}]}

    # Cancelling the departure: cancelled, with its reason
    cancelled = (
        await tours_manager(
            f"""mutation($id: ID!) {{ cancelDepartureSlot(id: $id, reason: "Festival") {{
              departureSlot {{ cancelled cancellationReason }} {ERRORS} }} }}""",
            {"id": slot_id},
        )
    ).ok()["cancelDepartureSlot"]
    assert cancelled == {
        "departureSlot": {"cancelled": True, "cancellationReason": "Festival"},
        "userErrors": [],
    }


async def test_the_booking_rules_are_read_by_anyone_and_changed_by_managers(
    tours_manager, tours_as
):
    update = f"""mutation($input: UpdateToursConfigInput!) {{ updateToursConfig(input: $input) {{
      config {{ cutoffHours partyMin partyMax childRatePercent }} {ERRORS} }} }}"""
    refused = (await tours_manager(update, {"input": {"partyMin": 10, "partyMax": 5}})).ok()
    assert [(e["field"], e["code"]) for e in refused["updateToursConfig"]["userErrors"]] == [
        ("partyMax", "OUT_OF_RANGE")
    ]
    changed = (await tours_manager(update, {"input": {"cutoffHours": 12}})).ok()
    assert changed["updateToursConfig"]["config"] == {
        "cutoffHours": 12,
        "partyMin": 1,
        "partyMax": 50,
        "childRatePercent": "70.00",
    }
    read = (await (await tours_as())("{ toursConfig { cutoffHours offerHoldHours } }")).ok()
    assert read == {"toursConfig": {"cutoffHours": 12, "offerHoldHours": 24}}


async def _statements_for(client: Any, tours: int, window: dict[str, str]) -> int:
    query = """query($from: Date!, $to: Date!) { tours {
      schedules { name tour { name } }
      departures(from: $from, to: $to) { id tour { name } schedule { name } }
    } }"""
    with record_statements() as recorder:
        read = (await client(query, window)).ok()
    assert len(read["tours"]) == tours
    assert all(len(t["departures"]) == 2 for t in read["tours"])
    return recorder.count


async def test_tours_with_schedules_and_departures_cost_the_same_sql_for_1_and_4(tours_manager):
    window = {"from": _start().isoformat(), "to": (_start() + timedelta(days=1)).isoformat()}

    async def add(n: int) -> None:
        tour_id = await _tour(tours_manager, name=f"Tour {n}")
        schedule_id = (await _schedule(tours_manager, tour_id))["schedule"]["id"]
        (await tours_manager(GENERATE, {"id": schedule_id, **window})).ok()

    await add(0)
    one = await _statements_for(tours_manager, 1, window)
    for n in range(1, 4):
        await add(n)
    four = await _statements_for(tours_manager, 4, window)

    assert one == four
    assert four <= 5  # tours, schedules, departures, their tours, their schedules
