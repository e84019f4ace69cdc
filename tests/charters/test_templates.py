"""Saving charters as templates: a copy of the content, never bookable."""

from __future__ import annotations

import uuid

from tests.charters.ops import nodes
from tests.charters.series_ops import (
    ASSIGN,
    CREATE_DRIVER,
    CREATE_VEHICLE,
    SAVE_TEMPLATE,
    SET_STATUS,
    TEMPLATES,
    charter_rows,
    count,
    read_charter,
    save_template,
)


async def _assigned_charter(staff, bookable_charter):
    charter = await read_charter(staff, (await bookable_charter(passengers=60, vehicles=2))["id"])
    type_id = charter["vehicles"][0]["vehicleType"]["id"]
    vehicle = (await staff(CREATE_VEHICLE, {"plate": "TPL-1", "type": type_id})).ok()
    driver = (await staff(CREATE_DRIVER, {"userId": str(uuid.uuid4())})).ok()
    assigned = (
        await staff(
            ASSIGN,
            {
                "cv": charter["vehicles"][0]["id"],
                "vehicle": vehicle["createVehicle"]["vehicle"]["id"],
                "driver": driver["createDriver"]["driver"]["id"],
            },
        )
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == []
    return await read_charter(staff, charter["id"])


async def test_save_as_template_copies_stops_and_vehicles_but_not_vehicle_or_driver(
    staff, bookable_charter
):
    # Given a charter with two vehicles, one with a vehicle and driver assigned
    source = await _assigned_charter(staff, bookable_charter)
    assert source["vehicles"][0]["vehicle"] is not None

    # When it is saved as a template
    template = await save_template(staff, source["id"], "  Airport   shuttle ")

    # Then the template is a separate charter holding the same content
    assert template["id"] != source["id"]
    assert template["isTemplate"] is True
    assert template["templateName"] == "Airport shuttle"
    assert template["status"] == "QUOTE"
    assert template["reference"] != source["reference"]
    assert template["clonedFrom"] == {"id": source["id"]}
    assert template["passengerCount"] == 60
    assert [(s["type"], s["address"]) for s in template["stops"]] == [
        (s["type"], s["address"]) for s in source["stops"]
    ]
    assert [(v["capacity"], v["cost"], v["vehicleType"]) for v in template["vehicles"]] == [
        (v["capacity"], v["cost"], v["vehicleType"]) for v in source["vehicles"]
    ]
    assert [(v["vehicle"], v["driver"], v["status"]) for v in template["vehicles"]] == [
        (None, None, "PENDING"),
        (None, None, "PENDING"),
    ]
    # and the source is unchanged
    assert (await read_charter(staff, source["id"]))["vehicles"][0]["vehicle"] is not None


async def test_templates_are_listed_as_templates_and_never_as_charters(staff, bookable_charter):
    source = await bookable_charter()
    template = await save_template(staff, source["id"], "Weekly school run")

    templates = nodes((await staff(TEMPLATES)).ok()["charterTemplates"])
    listed = (await staff("{ charters(first: 50) { edges { node { id } } } }")).ok()["charters"]

    assert templates == [{"id": template["id"], "templateName": "Weekly school run"}]
    assert [e["node"]["id"] for e in listed["edges"]] == [source["id"]]


async def test_a_template_cannot_be_booked(staff, bookable_charter, sessions):
    template = await save_template(staff, (await bookable_charter())["id"], "Unbookable")

    payload = (await staff(SET_STATUS, {"id": template["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]

    assert payload["charter"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("id", "TEMPLATE_NOT_BOOKABLE")
    ]
    assert (await read_charter(staff, template["id"]))["status"] == "QUOTE"
    assert (
        await count(
            sessions,
            "SELECT count(*) FROM charters.charters WHERE is_template AND status <> 'quote'",
        )
        == 0
    )


async def test_template_name_must_be_given_and_unused(staff, bookable_charter, sessions):
    source = await bookable_charter()
    await save_template(staff, source["id"], "Stadium run")
    before = await charter_rows(sessions)

    blank = (await staff(SAVE_TEMPLATE, {"id": source["id"], "name": "   "})).ok()
    taken = (await staff(SAVE_TEMPLATE, {"id": source["id"], "name": "stadium RUN"})).ok()

    assert [(e["field"], e["code"]) for e in blank["saveCharterAsTemplate"]["userErrors"]] == [
        ("name", "INVALID")
    ]
    assert [(e["field"], e["code"]) for e in taken["saveCharterAsTemplate"]["userErrors"]] == [
        ("name", "CONFLICT")
    ]
    assert await charter_rows(sessions) == before


async def test_unknown_source_is_a_user_error_on_charter_id(staff, sessions):
    payload = (await staff(SAVE_TEMPLATE, {"id": str(uuid.uuid4()), "name": "Ghost"})).ok()[
        "saveCharterAsTemplate"
    ]

    assert payload["template"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("charterId", "NOT_FOUND")]
    assert await charter_rows(sessions) == 0


async def test_only_editors_save_templates(as_role, bookable_charter, sessions):
    source = await bookable_charter()
    dispatcher = await as_role("dispatcher")

    response = await dispatcher(SAVE_TEMPLATE, {"id": source["id"], "name": "Nope"})

    assert response.error_codes == ["FORBIDDEN"]
    assert await charter_rows(sessions) == 1
