"""The audit log: who, when, old and new, for charters, stops and vehicles; staff only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

AUDIT = """query($id: ID!) { charter(id: $id) {
  auditLog(first: 100) { edges { node { entity entityId action actor { id } at old new } } } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateCharterInput!) {
  updateCharter(id: $id, input: $input) { userErrors { code } } }"""
UPDATE_STOP = """mutation($c: ID!, $s: ID!, $stop: StopPatch!) {
  updateStop(charterId: $c, stopId: $s, stop: $stop) { userErrors { code } } }"""
UPDATE_VEHICLE = """mutation($c: ID!, $v: ID!, $patch: CharterVehiclePatch!) {
  updateCharterVehicle(charterId: $c, charterVehicleId: $v, vehicle: $patch) { userErrors { code } } }"""


async def test_every_change_is_logged_with_actor_time_old_and_new(as_role, bookable_charter):
    agent_id = uuid.uuid4()
    agent = await as_role("sales_agent", user_id=agent_id)
    charter = await bookable_charter(passengers=30, salesAgentId=str(agent_id))
    stop = charter["stops"][1]
    vehicle = charter["vehicles"][0]
    started = datetime.now(UTC)

    await agent(UPDATE, {"id": charter["id"], "input": {"passengerCount": 33}})
    await agent(UPDATE_STOP, {"c": charter["id"], "s": stop["id"], "stop": {"address": "Pier 9"}})
    await agent(
        UPDATE_VEHICLE, {"c": charter["id"], "v": vehicle["id"], "patch": {"cost": "1300.00"}}
    )
    log = (await agent(AUDIT, {"id": charter["id"]})).ok()["charter"]["auditLog"]["edges"]

    log = [e["node"] for e in log]
    mine = [e for e in log if e["actor"] == {"id": str(agent_id)}]
    by_entity = {(e["entity"], e["entityId"]): e for e in mine}
    assert by_entity[("charter", charter["id"])]["old"] == {"passenger_count": 30, "version": 1}
    assert by_entity[("charter", charter["id"])]["new"] == {"passenger_count": 33, "version": 2}
    assert by_entity[("stop", stop["id"])]["old"] == {"address": "9 Lake Rd, Shelbyville"}
    assert by_entity[("stop", stop["id"])]["new"] == {"address": "Pier 9"}
    assert by_entity[("charter_vehicle", vehicle["id"])]["old"]["cost"] == "1250.00"
    assert by_entity[("charter_vehicle", vehicle["id"])]["new"]["cost"] == "1300.00"
    assert all(datetime.fromisoformat(e["at"]) >= started.replace(microsecond=0) for e in mine)
    assert {e["action"] for e in mine} == {"update"}
    assert [e["at"] for e in log] == sorted((e["at"] for e in log), reverse=True)


async def test_creation_is_logged_with_the_creator(as_role, staff, bookable_charter):
    charter = await bookable_charter()

    log = (await staff(AUDIT, {"id": charter["id"]})).ok()["charter"]["auditLog"]["edges"]

    log = [e["node"] for e in log]
    created = [e for e in log if e["action"] == "create"]
    assert [(e["entity"], e["old"]) for e in created] == [("charter", None)]
    assert {e["entity"] for e in log if e["action"] == "add"} == {"stop", "charter_vehicle"}


@pytest.mark.parametrize("role", ["client", "vendor", "driver"])
async def test_the_audit_log_is_forbidden_to_non_staff(as_role, bookable_charter, role):
    charter = await bookable_charter()
    outsider = await as_role(role)

    response = await outsider(AUDIT, {"id": charter["id"]})
    via_entity = await outsider(
        """query($reps: [_Any!]!) { _entities(representations: $reps) {
          ... on Charter { auditLog { totalCount } } } }""",
        {"reps": [{"__typename": "Charter", "id": charter["id"]}]},
    )

    # A portal reader with no relation to the charter does not find it at all
    # (portals read their own world); the charter's own client is refused its
    # audit log field by field (tests/portals/test_field_policy.py).
    assert response.error_codes == ["NOT_FOUND"]
    assert response.data is None or response.data.get("charter") is None
    assert set(via_entity.error_codes) <= {"FORBIDDEN", "NOT_FOUND"}
    assert via_entity.error_codes
    assert not (via_entity.data or {}).get("_entities") or via_entity.data["_entities"] == [None]


async def test_anonymous_callers_cannot_read_the_audit_log(staff, bookable_charter):
    charter = await bookable_charter()

    response = await staff(AUDIT, {"id": charter["id"]}, token="")

    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_entries_of_one_transaction_read_newest_first_in_write_order(staff, bookable_charter):
    """Creation writes the charter, then its stops and vehicles, in one transaction: they
    share one `at`, and their write order (`seq`) still puts the charter's creation last."""
    charter = await bookable_charter()

    whole = (await staff(AUDIT, {"id": charter["id"]})).ok()["charter"]["auditLog"]["edges"]
    actions = [e["node"]["action"] for e in whole]
    assert len({e["node"]["at"] for e in whole}) == 1
    assert actions[-1] == "create"
    assert set(actions[:-1]) <= {"add", "update"}
    # paged two at a time, the cursors (at, seq) give the same order
    paged: list[dict] = []
    after = None
    while True:
        page = (
            await staff(
                """query($id: ID!, $after: String) { charter(id: $id) {
                  auditLog(first: 2, after: $after) {
                    pageInfo { hasNextPage endCursor } edges { node { entity entityId action } } } } }""",
                {"id": charter["id"], "after": after},
            )
        ).ok()["charter"]["auditLog"]
        paged += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [(n["entity"], n["entityId"]) for n in paged] == [
        (e["node"]["entity"], e["node"]["entityId"]) for e in whole
    ]
