"""Dispatch's contact-attempt log (issue 13 §2): who, when, how, with what result."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from subgraphs.charters.models import AuditEntry, ContactAttempt, outbox
from tests.charters.ops import ERRORS, codes, nodes
from tests.support.graphql_client import GraphQLClient

LOG = f"""mutation($input: LogContactAttemptInput!) {{
  logContactAttempt(input: $input) {{
    contactAttempt {{ id party channel outcome note attemptedAt attemptedBy {{ id }}
      charterVehicle {{ id }} }}
    {ERRORS} }} }}"""

ATTEMPTS = """query($id: ID!, $first: Int, $after: String) { charter(id: $id) {
  contactAttempts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id party outcome note attemptedAt attemptedBy { id } } } } } }"""


async def counts(sessions: Any) -> tuple[int, int, int]:
    """(attempts, their audit entries, outbox events)."""
    async with sessions() as session:
        attempts = await session.scalar(select(func.count()).select_from(ContactAttempt))
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "contact_attempt")
        )
        events = await session.scalar(select(func.count()).select_from(outbox))
    return int(attempts or 0), int(audits or 0), int(events or 0)


async def test_a_dispatcher_logs_an_attempt_audited_and_announced(
    as_role, bookable_charter, sessions
):
    charter = await bookable_charter()
    vehicle = charter["vehicles"][0]["id"]
    dispatcher_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=dispatcher_id)
    when = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)

    payload = (
        await dispatcher(
            LOG,
            {
                "input": {
                    "charterId": charter["id"],
                    "charterVehicleId": vehicle,
                    "party": "DRIVER",
                    "channel": "PHONE",
                    "outcome": "VOICEMAIL",
                    "note": "  Left a message about the 6am yard time.  ",
                    "attemptedAt": when.isoformat(),
                }
            },
        )
    ).ok()["logContactAttempt"]

    assert payload["userErrors"] == []
    attempt = payload["contactAttempt"]
    assert datetime.fromisoformat(attempt["attemptedAt"]) == when
    assert {k: v for k, v in attempt.items() if k not in ("id", "attemptedAt")} == {
        "party": "DRIVER",
        "channel": "PHONE",
        "outcome": "VOICEMAIL",
        "note": "Left a message about the 6am yard time.",
        "attemptedBy": {"id": str(dispatcher_id)},
        "charterVehicle": {"id": vehicle},
    }
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.entity_id == uuid.UUID(attempt["id"]))
        )
        event = await session.scalar(select(outbox.c.payload).order_by(outbox.c.id.desc()).limit(1))
    assert entry is not None
    assert (entry.action, entry.actor_id, entry.old) == ("contact:log", dispatcher_id, None)
    assert entry.new["outcome"] == "voicemail"
    assert entry.new["attempted_by"] == str(dispatcher_id)
    assert event["charterId"] == charter["id"]
    assert event["changes"] == ["contacts"]
    assert event["contactAttemptId"] == attempt["id"]


async def test_the_time_defaults_to_now_and_the_list_is_newest_first(
    as_role, staff, bookable_charter
):
    charter = await bookable_charter()
    dispatcher = await as_role("dispatcher")
    before = datetime.now(UTC)
    older = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    base = {"charterId": charter["id"], "party": "VENDOR", "channel": "EMAIL"}
    first = (
        await dispatcher(
            LOG, {"input": {**base, "outcome": "NO_ANSWER", "attemptedAt": older.isoformat()}}
        )
    ).ok()["logContactAttempt"]
    second = (await dispatcher(LOG, {"input": {**base, "outcome": "CONFIRMED"}})).ok()[
        "logContactAttempt"
    ]
    after = datetime.now(UTC)

    assert first["userErrors"] == second["userErrors"] == []
    logged_at = datetime.fromisoformat(second["contactAttempt"]["attemptedAt"])
    assert before <= logged_at <= after
    page = (await staff(ATTEMPTS, {"id": charter["id"], "first": 1})).ok()["charter"][
        "contactAttempts"
    ]
    assert page["totalCount"] == 2
    assert [n["outcome"] for n in nodes(page)] == ["CONFIRMED"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (
        await staff(
            ATTEMPTS, {"id": charter["id"], "first": 5, "after": page["pageInfo"]["endCursor"]}
        )
    ).ok()["charter"]["contactAttempts"]
    assert [n["outcome"] for n in nodes(rest)] == ["NO_ANSWER"]


async def test_bad_input_is_a_user_error_and_changes_nothing(as_role, bookable_charter, sessions):
    charter = await bookable_charter()
    other = await bookable_charter()
    dispatcher = await as_role("dispatcher")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    base = {"charterId": charter["id"], "party": "CLIENT", "channel": "SMS", "outcome": "REACHED"}
    start = await counts(sessions)

    in_future = (await dispatcher(LOG, {"input": {**base, "attemptedAt": future}})).ok()
    too_long = (await dispatcher(LOG, {"input": {**base, "note": "x" * 1001}})).ok()
    foreign_vehicle = (
        await dispatcher(LOG, {"input": {**base, "charterVehicleId": other["vehicles"][0]["id"]}})
    ).ok()
    unknown = (await dispatcher(LOG, {"input": {**base, "charterId": str(uuid.uuid4())}})).ok()

    assert codes(in_future["logContactAttempt"]) == [("attemptedAt", "IN_THE_FUTURE")]
    assert codes(too_long["logContactAttempt"]) == [("note", "TOO_LONG")]
    assert codes(foreign_vehicle["logContactAttempt"]) == [("charterVehicleId", "NOT_FOUND")]
    assert codes(unknown["logContactAttempt"]) == [("charterId", "NOT_FOUND")]
    assert await counts(sessions) == start


async def test_only_dispatch_logs_and_only_staff_read_the_log(
    as_role, bookable_charter, charters_server, http_client, mint
):
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company))
    agent = await as_role("sales_agent")
    accounting = await as_role("accounting")
    client = GraphQLClient(
        charters_server.graphql_url, http_client, await mint("client", client_id=company)
    )
    base = {"charterId": charter["id"], "party": "CLIENT", "channel": "SMS", "outcome": "REACHED"}

    refused = await agent(LOG, {"input": base})
    staff_read = await accounting(ATTEMPTS, {"id": charter["id"]})
    client_read = await client(ATTEMPTS, {"id": charter["id"]})

    assert refused.error_codes == ["FORBIDDEN"]
    assert staff_read.ok()["charter"]["contactAttempts"]["totalCount"] == 0
    # The charter's own client reaches the charter, but not dispatch's call log.
    assert client_read.error_codes == ["FORBIDDEN"]
    assert client_read.data == {"charter": {"contactAttempts": None}}
