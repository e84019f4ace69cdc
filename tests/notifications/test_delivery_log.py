"""The delivery log: staff search it; a charter, a lead and a client list their own messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.engine import record_statements
from subgraphs.notifications.models import Message

LOG = """query($filter: NotificationMessageFilter, $first: Int, $after: String) {
  notificationMessages(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind channel recipient status failureReason charterId leadId clientId } } } }"""
ON_CHARTERS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Charter { id notificationMessages(first: 2) { totalCount edges { node { kind } } } } } }"""
ON_LEAD = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Lead { notificationMessages { totalCount edges { node { kind status } } } } } }"""
ON_CLIENT = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { notificationMessages { totalCount edges { node { kind recipient } } } } } }"""


@pytest.fixture
def logged(sessions) -> Any:
    """Write delivery-log rows as the decision code would have (the log is what is tested)."""

    async def write(n: int = 1, **values: Any) -> list[uuid.UUID]:
        ids = []
        start = datetime.now(UTC) - timedelta(minutes=n)
        async with sessions() as s, s.begin():
            for i in range(n):
                row = Message(
                    idempotency_key=f"test:{uuid.uuid4()}",
                    kind=values.get("kind", "booking_confirmed"),
                    channel=values.get("channel", "email"),
                    recipient=values.get("recipient", "ops@acme.example"),
                    status=values.get("status", "sent"),
                    failure_reason=values.get("failure_reason"),
                    client_id=values.get("client_id"),
                    charter_id=values.get("charter_id"),
                    lead_id=values.get("lead_id"),
                    variables={},
                    created_at=start + timedelta(seconds=i),
                )
                s.add(row)
                await s.flush()
                ids.append(row.id)
        return ids

    return write


async def test_staff_filter_and_page_the_log_newest_first(caller, logged) -> None:
    charter = uuid.uuid4()
    await logged(3, charter_id=charter, kind="trip_reminder")
    await logged(1, kind="payment_receipt", recipient="pay@other.example")
    await logged(1, kind="quote_sent", status="suppressed", failure_reason="opted out of quotes")
    staff = await caller("sales_support")

    page1 = (await staff(LOG, {"filter": {"charterId": str(charter)}, "first": 2})).ok()
    log = page1["notificationMessages"]
    assert log["totalCount"] == 3
    assert [e["node"]["kind"] for e in log["edges"]] == ["trip_reminder"] * 2
    page2 = (
        await staff(
            LOG, {"filter": {"charterId": str(charter)}, "after": log["pageInfo"]["endCursor"]}
        )
    ).ok()["notificationMessages"]
    assert len(page2["edges"]) == 1
    assert not page2["pageInfo"]["hasNextPage"]
    seen = [e["node"]["id"] for e in log["edges"] + page2["edges"]]
    assert len(set(seen)) == 3

    by_recipient = (await staff(LOG, {"filter": {"recipient": "OTHER.example"}})).ok()
    assert [e["node"]["kind"] for e in by_recipient["notificationMessages"]["edges"]] == [
        "payment_receipt"
    ]
    suppressed = (await staff(LOG, {"filter": {"status": "SUPPRESSED"}})).ok()
    assert [e["node"]["failureReason"] for e in suppressed["notificationMessages"]["edges"]] == [
        "opted out of quotes"
    ]


async def test_a_bad_id_in_the_filter_names_it(caller) -> None:
    staff = await caller("manager")
    answer = await staff(LOG, {"filter": {"charterId": "nope"}})
    assert answer.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("role", ["client", "vendor", "driver"])
async def test_portal_callers_may_not_search_the_log(caller, role) -> None:
    outsider = await caller(role, client_id=uuid.uuid4() if role == "client" else None)
    assert (await outsider(LOG)).error_codes == ["FORBIDDEN"]


async def test_charters_list_their_messages_at_a_constant_cost(caller, logged) -> None:
    charters = [uuid.uuid4() for _ in range(5)]
    for c in charters:
        await logged(3, charter_id=c)
    staff = await caller("dispatcher")
    reps = lambda ids: {"reps": [{"__typename": "Charter", "id": str(i)} for i in ids]}  # noqa: E731

    with record_statements() as two:
        few = (await staff(ON_CHARTERS, reps(charters[:2]))).ok()["_entities"]
    with record_statements() as five:
        many = (await staff(ON_CHARTERS, reps(charters))).ok()["_entities"]
    assert [c["notificationMessages"]["totalCount"] for c in many] == [3] * 5
    assert all(len(c["notificationMessages"]["edges"]) == 2 for c in few + many)
    assert len(two.statements) == len(five.statements) == 2  # the counts, the pages


async def test_a_lead_lists_its_follow_ups_for_staff_only(caller, logged) -> None:
    lead = uuid.uuid4()
    await logged(2, lead_id=lead, kind="lead_follow_up")
    reps = {"reps": [{"__typename": "Lead", "id": str(lead)}]}
    staff = await caller("sales_agent")
    got = (await staff(ON_LEAD, reps)).ok()["_entities"][0]["notificationMessages"]
    assert got["totalCount"] == 2
    client = await caller("client", client_id=uuid.uuid4())
    assert (await client(ON_LEAD, reps)).error_codes == ["FORBIDDEN"]


async def test_a_client_reads_its_own_companys_messages_and_no_other(caller, logged) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await logged(2, client_id=mine, recipient="me@mine.example")
    await logged(1, client_id=theirs, recipient="them@theirs.example")
    client = await caller("client", client_id=mine)

    own = (await client(ON_CLIENT, {"reps": [{"__typename": "Client", "id": str(mine)}]})).ok()[
        "_entities"
    ][0]["notificationMessages"]
    assert own["totalCount"] == 2
    assert {e["node"]["recipient"] for e in own["edges"]} == {"me@mine.example"}
    other = await client(ON_CLIENT, {"reps": [{"__typename": "Client", "id": str(theirs)}]})
    assert other.error_codes == ["FORBIDDEN"]


async def test_anonymous_reads_nothing(notifications_server, http_client) -> None:
    from tests.support.graphql_client import GraphQLClient

    anonymous = GraphQLClient(notifications_server.graphql_url, http_client)
    assert (await anonymous(LOG)).error_codes == ["UNAUTHENTICATED"]
