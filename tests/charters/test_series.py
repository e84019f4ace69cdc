"""Recurring series through GraphQL: generation, DST, membership, edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.charters.ops import nodes
from tests.charters.series_ops import (
    BLACKOUT,
    CREATE_SERIES,
    DEACTIVATE,
    GENERATE,
    REMOVE_INSTANCE,
    SERIES,
    SET_STATUS,
    UPDATE_INSTANCES,
    count,
    create_series,
    generate,
    make_template,
    next_weekday,
    read_charter,
    ymd,
)

CHICAGO = "America/Chicago"
MONDAY, WEDNESDAY = 0, 2


async def _weekly(staff, template, *, first: date, rule: str, **extra):
    return await create_series(
        staff,
        name=extra.pop("name", "Monday shuttle"),
        templateId=template["id"],
        rrule=rule,
        startsLocal=f"{first.isoformat()}T07:30",
        timeZone=CHICAGO,
        **extra,
    )


async def _series_rows(sessions, series_id):
    return await count(
        sessions, "SELECT count(*) FROM charters.charters WHERE series_id = :id", id=series_id
    )


async def test_weekly_series_keeps_0730_local_across_both_dst_changes(staff, bookable_charter):
    # Given a Monday 07:30 Chicago series over most of the coming year (a DST change
    # or two; the fixed-date rule test covers March and November exactly)
    template = await make_template(staff, bookable_charter)
    first = next_weekday(MONDAY)
    until = first + timedelta(weeks=49)
    series = await _weekly(
        staff, template, first=first, rule=f"FREQ=WEEKLY;BYDAY=MO;UNTIL={ymd(until)}"
    )

    # When it is generated
    created = (await generate(staff, series["id"]))["created"]

    # Then there is one instance per Monday, each at 07:30 local,
    # whose UTC time is 12:30 in summer (CDT) and 13:30 in winter (CST)
    assert [c["occurrenceDate"] for c in created] == [
        (first + timedelta(weeks=i)).isoformat() for i in range(50)
    ]
    assert {c["pickupLocal"][11:] for c in created} == {"07:30"}
    for charter in created:
        day = date.fromisoformat(charter["occurrenceDate"])
        expected = (
            datetime(day.year, day.month, day.day, 7, 30, tzinfo=ZoneInfo(CHICAGO))
            .astimezone(UTC)
            .isoformat()
            .replace("+00:00", "Z")
        )
        assert charter["pickupAt"] == expected
    assert {c["pickupAt"][11:16] for c in created} == {"12:30", "13:30"}
    assert {c["status"] for c in created} == {"QUOTE"}
    assert {c["series"]["id"] for c in created} == {series["id"]}
    assert {c["clonedFrom"]["id"] for c in created} == {template["id"]}


async def test_generation_is_idempotent(staff, bookable_charter, sessions):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6"
    )

    first = await generate(staff, series["id"])
    second = await generate(staff, series["id"])

    assert len(first["created"]) == 6
    assert second["created"] == []
    assert second["skipped"] == []
    assert await _series_rows(sessions, series["id"]) == 6
    assert (
        await count(
            sessions,
            "SELECT count(DISTINCT occurrence_date) FROM charters.charters WHERE series_id = :id",
            id=series["id"],
        )
        == 6
    )


async def test_count_and_until_bound_generation(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    first = next_weekday(MONDAY)
    counted = await _weekly(staff, template, first=first, rule="FREQ=DAILY;COUNT=3", name="A")
    until = await _weekly(
        staff,
        template,
        first=first,
        rule=f"FREQ=DAILY;INTERVAL=2;UNTIL={ymd(first + timedelta(days=6))}",
        name="B",
    )

    by_count = (await generate(staff, counted["id"]))["created"]
    by_until = (await generate(staff, until["id"]))["created"]

    assert [c["occurrenceDate"] for c in by_count] == [
        (first + timedelta(days=i)).isoformat() for i in range(3)
    ]
    assert [c["occurrenceDate"] for c in by_until] == [
        (first + timedelta(days=i)).isoformat() for i in (0, 2, 4, 6)
    ]


async def test_month_ends_generate_without_crashing(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    start = date.today().replace(day=1) + timedelta(days=40)
    start = start.replace(day=1)
    last_day = await _weekly(
        staff, template, first=start, rule="FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=10", name="Last"
    )
    thirty_first = await _weekly(
        staff, template, first=start, rule="FREQ=MONTHLY;BYMONTHDAY=31;COUNT=5", name="31st"
    )

    last = (await generate(staff, last_day["id"]))["created"]
    thirty_firsts = (await generate(staff, thirty_first["id"]))["created"]

    last_dates = [date.fromisoformat(c["occurrenceDate"]) for c in last]
    assert len(last_dates) == 10
    assert all((d + timedelta(days=1)).day == 1 for d in last_dates)
    assert len({(d.year, d.month) for d in last_dates}) == 10
    assert {date.fromisoformat(c["occurrenceDate"]).day for c in thirty_firsts} == {31}
    assert len(thirty_firsts) == 5


async def test_exception_dates_and_blackouts_are_skipped_and_reported(
    staff, bookable_charter, sessions
):
    # Given a 4-week Monday series, the 2nd Monday an exception, the 3rd blacked out
    template = await make_template(staff, bookable_charter)
    first = next_weekday(MONDAY)
    mondays = [first + timedelta(weeks=i) for i in range(4)]
    type_id = (await read_charter(staff, template["id"]))["vehicles"][0]["vehicleType"]["id"]
    blackout = (await staff(BLACKOUT, {"on": mondays[2].isoformat(), "type": type_id})).ok()
    assert blackout["createBlackoutDate"]["userErrors"] == []
    series = await _weekly(
        staff,
        template,
        first=first,
        rule="FREQ=WEEKLY;BYDAY=MO;COUNT=4",
        exceptionDates=[mondays[1].isoformat()],
    )

    # When it is generated
    payload = await generate(staff, series["id"])

    # Then only the other two exist, and the two skipped dates are reported with why
    assert [c["occurrenceDate"] for c in payload["created"]] == [
        mondays[0].isoformat(),
        mondays[3].isoformat(),
    ]
    assert [(s["date"], s["reason"]) for s in payload["skipped"]] == [
        (mondays[1].isoformat(), "EXCEPTION_DATE"),
        (mondays[2].isoformat(), "BLACKED_OUT"),
    ]
    assert "Company holiday" in payload["skipped"][1]["message"]
    assert await _series_rows(sessions, series["id"]) == 2


async def test_each_instance_knows_it_is_n_of_m(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(WEDNESDAY), rule="FREQ=WEEKLY;BYDAY=WE;COUNT=3"
    )
    await generate(staff, series["id"])

    instances = nodes(
        (await staff(SERIES, {"id": series["id"]})).ok()["charterSeries"]["instances"]
    )

    assert [i["seriesPosition"] for i in instances] == [
        {"index": 1, "count": 3},
        {"index": 2, "count": 3},
        {"index": 3, "count": 3},
    ]
    assert [i["occurrenceDate"] for i in instances] == sorted(
        i["occurrenceDate"] for i in instances
    )


async def test_two_series_with_the_same_rule_never_merge(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    first = next_weekday(MONDAY)
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    one = await _weekly(staff, template, first=first, rule=rule, name="North route")
    two = await _weekly(staff, template, first=first, rule=rule, name="South route")

    created_one = (await generate(staff, one["id"]))["created"]
    created_two = (await generate(staff, two["id"]))["created"]
    read_one = (await staff(SERIES, {"id": one["id"]})).ok()["charterSeries"]

    assert len(created_one) == len(created_two) == 3
    assert {c["id"] for c in created_one}.isdisjoint({c["id"] for c in created_two})
    assert [i["id"] for i in nodes(read_one["instances"])] == [c["id"] for c in created_one]
    assert {c["seriesPosition"]["count"] for c in created_two} == {3}


async def test_removing_a_quote_instance_deletes_it_and_regeneration_does_not_recreate_it(
    staff, bookable_charter, sessions
):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    )
    created = (await generate(staff, series["id"]))["created"]
    middle = created[1]

    removed = (await staff(REMOVE_INSTANCE, {"id": middle["id"]})).ok()["removeSeriesInstance"]
    again = await generate(staff, series["id"])
    read = (await staff(SERIES, {"id": series["id"]})).ok()["charterSeries"]

    assert removed["userErrors"] == []
    assert removed["deleted"] is True
    assert removed["charter"] is None
    assert removed["series"]["exceptionDates"] == [middle["occurrenceDate"]]
    assert again["created"] == []
    assert [(s["date"], s["reason"]) for s in again["skipped"]] == [
        (middle["occurrenceDate"], "EXCEPTION_DATE")
    ]
    assert [i["id"] for i in nodes(read["instances"])] == [created[0]["id"], created[2]["id"]]
    assert [i["seriesPosition"] for i in nodes(read["instances"])] == [
        {"index": 1, "count": 2},
        {"index": 2, "count": 2},
    ]
    assert (
        await count(
            sessions, "SELECT count(*) FROM charters.charters WHERE id = :id", id=middle["id"]
        )
        == 0
    )
    assert (
        await count(
            sessions,
            "SELECT count(*) FROM charters.audit_log WHERE entity = 'charter_series' "
            "AND action = 'series:remove_instance' AND entity_id = :id",
            id=series["id"],
        )
        == 1
    )


async def test_removing_a_booked_instance_cancels_it(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO;COUNT=2"
    )
    first = (await generate(staff, series["id"]))["created"][0]
    booked = (await staff(SET_STATUS, {"id": first["id"], "status": "BOOKED"})).ok()
    assert booked["setCharterStatus"]["userErrors"] == []

    removed = (await staff(REMOVE_INSTANCE, {"id": first["id"]})).ok()["removeSeriesInstance"]
    again = await generate(staff, series["id"])

    assert removed["deleted"] is False
    assert removed["charter"] == {"id": first["id"], "status": "CANCELLED"}
    assert removed["series"]["exceptionDates"] == [first["occurrenceDate"]]
    assert again["created"] == []


async def test_this_and_following_changes_quotes_from_the_date_and_reports_booked_ones(
    staff, bookable_charter
):
    # Given four Monday instances, the third booked
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO;COUNT=4"
    )
    created = (await generate(staff, series["id"]))["created"]
    booked = (await staff(SET_STATUS, {"id": created[2]["id"], "status": "BOOKED"})).ok()
    assert booked["setCharterStatus"]["userErrors"] == []

    # When the 2nd and following move to 09:15 with 30 passengers
    payload = (
        await staff(
            UPDATE_INSTANCES,
            {
                "id": series["id"],
                "from": created[1]["occurrenceDate"],
                "input": {"pickupTime": "09:15", "passengerCount": 30, "notes": "Gate B"},
            },
        )
    ).ok()["updateSeriesInstances"]

    # Then the 2nd and 4th changed, the booked 3rd is reported, the 1st untouched
    assert payload["userErrors"] == []
    assert [c["id"] for c in payload["updated"]] == [created[1]["id"], created[3]["id"]]
    assert {
        (c["pickupLocal"][11:], c["passengerCount"], c["notes"]) for c in payload["updated"]
    } == {("09:15", 30, "Gate B")}
    assert [(s["charter"]["id"], s["reason"]) for s in payload["skipped"]] == [
        (created[2]["id"], "NOT_A_QUOTE")
    ]
    untouched = await read_charter(staff, created[0]["id"])
    assert (untouched["pickupLocal"][11:], untouched["passengerCount"]) == ("07:30", 40)
    booked_now = await read_charter(staff, created[2]["id"])
    assert (booked_now["pickupLocal"][11:], booked_now["passengerCount"]) == ("07:30", 40)
    read = (await staff(SERIES, {"id": series["id"]})).ok()["charterSeries"]
    assert read["startsLocal"][11:] == "09:15"


async def test_this_and_following_with_invalid_input_changes_nothing(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO;COUNT=2"
    )
    created = (await generate(staff, series["id"]))["created"]

    bad_time = (
        await staff(
            UPDATE_INSTANCES,
            {
                "id": series["id"],
                "from": created[0]["occurrenceDate"],
                "input": {"pickupTime": "25:00"},
            },
        )
    ).ok()["updateSeriesInstances"]
    bad_count = (
        await staff(
            UPDATE_INSTANCES,
            {
                "id": series["id"],
                "from": created[0]["occurrenceDate"],
                "input": {"passengerCount": 0},
            },
        )
    ).ok()["updateSeriesInstances"]

    assert [(e["field"], e["code"]) for e in bad_time["userErrors"]] == [
        ("input.pickupTime", "INVALID")
    ]
    assert [e["code"] for e in bad_count["userErrors"]] == ["OUT_OF_RANGE"]
    for charter in created:
        assert (await read_charter(staff, charter["id"]))["passengerCount"] == 40


async def test_one_instance_is_edited_like_any_charter(staff, bookable_charter):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(
        staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO;COUNT=2"
    )
    created = (await generate(staff, series["id"]))["created"]

    payload = (
        await staff(
            "mutation($id: ID!) { updateCharter(id: $id, input: {passengerCount: 12}) "
            "{ charter { passengerCount } userErrors { code } } }",
            {"id": created[0]["id"]},
        )
    ).ok()["updateCharter"]

    assert payload == {"charter": {"passengerCount": 12}, "userErrors": []}
    assert (await read_charter(staff, created[1]["id"]))["passengerCount"] == 40


async def test_deactivated_series_generates_nothing_and_keeps_its_instances(
    staff, bookable_charter, sessions
):
    template = await make_template(staff, bookable_charter)
    series = await _weekly(staff, template, first=next_weekday(MONDAY), rule="FREQ=WEEKLY;BYDAY=MO")
    await generate(staff, series["id"])
    before = await _series_rows(sessions, series["id"])

    deactivated = (await staff(DEACTIVATE, {"id": series["id"]})).ok()["deactivateCharterSeries"]
    refused = (await staff(GENERATE, {"id": series["id"]})).ok()["generateCharterSeries"]

    assert deactivated["series"]["active"] is False
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("id", "INVALID_TRANSITION")
    ]
    assert before > 50  # open-ended: a year ahead
    assert await _series_rows(sessions, series["id"]) == before
    assert {i["status"] for i in nodes(deactivated["series"]["instances"])} == {"QUOTE"}


async def test_invalid_rrule_is_a_user_error_on_rrule_and_writes_nothing(
    staff, bookable_charter, sessions
):
    template = await make_template(staff, bookable_charter)

    results = []
    for rule in ("FREQ=FORTNIGHTLY", "BYDAY=MO;COUNT=2", "FREQ=HOURLY;COUNT=2", "nonsense"):
        payload = (
            await staff(
                CREATE_SERIES,
                {
                    "input": {
                        "name": "Broken",
                        "templateId": template["id"],
                        "rrule": rule,
                        "startsLocal": f"{next_weekday(MONDAY).isoformat()}T07:30",
                        "timeZone": CHICAGO,
                    }
                },
            )
        ).ok()["createCharterSeries"]
        results.append(
            (payload["series"], [(e["field"], e["code"]) for e in payload["userErrors"]])
        )

    assert results == [(None, [("rrule", "INVALID_RRULE")])] * 4
    assert await count(sessions, "SELECT count(*) FROM charters.charter_series") == 0
    assert (
        await count(sessions, "SELECT count(*) FROM charters.charters WHERE series_id IS NOT NULL")
        == 0
    )


async def test_a_series_needs_a_template(staff, bookable_charter, sessions):
    charter = await bookable_charter()

    payload = (
        await staff(
            CREATE_SERIES,
            {
                "input": {
                    "name": "Not from a template",
                    "templateId": charter["id"],
                    "rrule": "FREQ=DAILY;COUNT=2",
                    "startsLocal": f"{next_weekday(MONDAY).isoformat()}T07:30",
                    "timeZone": "Mars/Olympus",
                }
            },
        )
    ).ok()["createCharterSeries"]

    assert sorted((e["field"], e["code"]) for e in payload["userErrors"]) == [
        ("templateId", "NOT_A_TEMPLATE"),
        ("timeZone", "INVALID_TIME_ZONE"),
    ]
    assert await count(sessions, "SELECT count(*) FROM charters.charter_series") == 0
