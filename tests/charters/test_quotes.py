"""Quotes: revisions, signed links, reassignment, ownership, lists and filters."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from tests.charters.ops import book, codes, read_charter

REVISE = """mutation($id: ID!) { reviseQuote(id: $id) {
  charter { id quoteRevision } userErrors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateCharterInput!) {
  updateCharter(id: $id, input: $input) { charter { id passengerCount } userErrors { field code message } } }"""
REVISIONS = """query($id: ID!) { charter(id: $id) { quoteRevision
  quoteRevisions { revision snapshot } } }"""
LINK = """mutation($id: ID!) { createQuoteLink(id: $id) { token expiresAt userErrors { code } } }"""
BY_LINK = """query($token: String!) { quoteByLink(token: $token) {
  reference revision status pickupLocal pickupTimeZone passengerCount
  stops { type address } vehicleTypes total } }"""
REASSIGN = """mutation($id: ID!, $agent: ID!) { reassignCharter(id: $id, agentId: $agent) {
  charter { id salesAgent { id } } userErrors { field code message } } }"""
CHARTERS = """query($first: Int, $after: String, $where: CharterFilter) {
  charters(first: $first, after: $after, where: $where) {
    totalCount edges { cursor node { id reference status } }
    pageInfo { hasNextPage endCursor } } }"""
MY_QUOTES = "{ myQuotes { totalCount edges { node { id } } } }"
OPEN_QUOTES = "query($days: Int!) { openQuotes(days: $days) { totalCount edges { node { id } } } }"


async def test_revising_a_quote_keeps_earlier_versions_without_a_new_charter(
    staff, bookable_charter
):
    charter = await bookable_charter(passengers=40)

    revised = (await staff(REVISE, {"id": charter["id"]})).ok()["reviseQuote"]
    await staff(UPDATE, {"id": charter["id"], "input": {"passengerCount": 48}})
    await staff(REVISE, {"id": charter["id"]})
    read = (await staff(REVISIONS, {"id": charter["id"]})).ok()["charter"]
    total = (await staff("{ charters { totalCount } }")).ok()["charters"]["totalCount"]

    assert revised["charter"]["quoteRevision"] == 2
    assert read["quoteRevision"] == 3
    assert [r["revision"] for r in read["quoteRevisions"]] == [1, 2]
    assert [r["snapshot"]["passenger_count"] for r in read["quoteRevisions"]] == [40, 48]
    assert read["quoteRevisions"][0]["snapshot"]["reference"] == charter["reference"]
    assert read["quoteRevisions"][0]["snapshot"]["total_cost"] == "1250.00"
    assert total == 1


async def test_a_booked_charter_has_no_new_revisions(staff, bookable_charter):
    charter = await bookable_charter()
    await book(staff, charter["id"])

    payload = (await staff(REVISE, {"id": charter["id"]})).ok()["reviseQuote"]

    assert codes(payload) == [("id", "INVALID_TRANSITION")]


async def test_a_quote_link_lets_an_anonymous_holder_read_only_that_quote(staff, bookable_charter):
    charter = await bookable_charter(passengers=40)
    link = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]

    public = (await staff(BY_LINK, {"token": link["token"]}, token="")).ok()["quoteByLink"]

    assert datetime.fromisoformat(link["expiresAt"]) > datetime.now(UTC) + timedelta(days=13)
    assert public == {
        "reference": charter["reference"],
        "revision": 1,
        "status": "QUOTE",
        "pickupLocal": (await read_charter(staff, charter["id"]))["pickupLocal"],
        "pickupTimeZone": "America/Chicago",
        "passengerCount": 40,
        "stops": [
            {"type": "PICKUP", "address": "1 Main St, Springfield"},
            {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
        ],
        "vehicleTypes": [charter["vehicles"][0]["vehicleType"]["name"]],
        "total": "1250.00",
    }


async def test_a_quote_link_exposes_no_internal_fields(staff, bookable_charter):
    charter = await bookable_charter()
    link = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]

    for field in ("id", "notes", "auditLog { totalCount }", "client { id }", "salesAgent { id }"):
        response = await staff(
            f"query($t: String!) {{ quoteByLink(token: $t) {{ {field} }} }}",
            {"t": link["token"]},
            token="",
        )
        assert response.error_codes == ["BAD_USER_INPUT"], field
        assert "Cannot query field" in response.errors[0]["message"]
        assert response.data is None


async def test_a_tampered_or_expired_link_is_refused(staff, bookable_charter, subgraph_settings):
    charter = await bookable_charter()
    link = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]
    head, body, signature = link["token"].split(".")
    tampered = f"{head}.{body}.{signature[:-4]}AAAA"
    expired = jwt.encode(
        {"purpose": "quote-link", "charter": charter["id"], "exp": int(time.time()) - 5},
        subgraph_settings.quote_link_secret,
        algorithm="HS256",
    )
    wrong_purpose = jwt.encode(
        {"purpose": "login", "charter": charter["id"], "exp": int(time.time()) + 600},
        subgraph_settings.quote_link_secret,
        algorithm="HS256",
    )

    for token in (tampered, expired, wrong_purpose, "not-a-token"):
        response = await staff(BY_LINK, {"token": token}, token="")
        assert response.error_codes == ["BAD_USER_INPUT"]
        assert response.data is None


async def test_only_sales_support_and_managers_reassign(as_role, bookable_charter, known_agent):
    charter = await bookable_charter()
    new_agent = await known_agent()
    agent = await as_role("sales_agent")
    support = await as_role("sales_support")

    refused = await agent(REASSIGN, {"id": charter["id"], "agent": new_agent})
    done = (await support(REASSIGN, {"id": charter["id"], "agent": new_agent})).ok()[
        "reassignCharter"
    ]

    assert refused.error_codes == ["FORBIDDEN"]
    assert done["charter"]["salesAgent"] == {"id": new_agent}


async def test_an_agent_cannot_edit_another_agents_quote(as_role, staff, bookable_charter):
    owner_id, other_id = uuid.uuid4(), uuid.uuid4()
    charter = await bookable_charter(passengers=40, salesAgentId=str(owner_id))
    owner = await as_role("sales_agent", user_id=owner_id)
    other = await as_role("sales_agent", user_id=other_id)

    refused = (await other(UPDATE, {"id": charter["id"], "input": {"passengerCount": 41}})).ok()[
        "updateCharter"
    ]
    allowed = (await owner(UPDATE, {"id": charter["id"], "input": {"passengerCount": 42}})).ok()[
        "updateCharter"
    ]

    assert codes(refused) == [(None, "FORBIDDEN")]
    assert allowed["charter"]["passengerCount"] == 42
    assert (await read_charter(staff, charter["id"]))["passengerCount"] == 42


async def test_my_quotes_and_open_quotes(as_role, staff, bookable_charter):
    me = uuid.uuid4()
    mine = await bookable_charter(days=10, salesAgentId=str(me))
    far = await bookable_charter(days=200, salesAgentId=str(me))
    booked = await bookable_charter(days=10, salesAgentId=str(me))
    await book(staff, booked["id"])
    await bookable_charter(days=20)  # someone else's
    agent = await as_role("sales_agent", user_id=me)

    my_quotes = (await agent(MY_QUOTES)).ok()["myQuotes"]
    open_quotes = (await agent(OPEN_QUOTES, {"days": 120})).ok()["openQuotes"]
    bad_days = await agent(OPEN_QUOTES, {"days": 0})

    assert [e["node"]["id"] for e in my_quotes["edges"]] == [mine["id"], far["id"]]
    assert my_quotes["totalCount"] == 2
    assert open_quotes["totalCount"] == 2
    assert far["id"] not in {e["node"]["id"] for e in open_quotes["edges"]}
    assert bad_days.error_codes == ["BAD_USER_INPUT"]


async def test_charters_filter_by_status_dates_client_and_agent(staff, bookable_charter):
    client = str(uuid.uuid4())
    agent = str(uuid.uuid4())
    a = await bookable_charter(days=5, clientId=client)
    b = await bookable_charter(days=15, clientId=client, salesAgentId=agent)
    c = await bookable_charter(days=25, salesAgentId=agent)
    await book(staff, b["id"])
    now = datetime.now(UTC)

    async def ids(where):
        page = (await staff(CHARTERS, {"where": where})).ok()["charters"]
        return [e["node"]["id"] for e in page["edges"]]

    assert await ids({"status": ["BOOKED"]}) == [b["id"]]
    assert await ids({"status": ["QUOTE"]}) == [a["id"], c["id"]]
    assert await ids({"clientId": client}) == [a["id"], b["id"]]
    assert await ids({"agentId": agent}) == [b["id"], c["id"]]
    assert await ids(
        {
            "pickupFrom": (now + timedelta(days=10)).isoformat(),
            "pickupTo": (now + timedelta(days=20)).isoformat(),
        }
    ) == [b["id"]]
    assert await ids({"clientId": client, "status": ["QUOTE"]}) == [a["id"]]
    assert await ids({"search": a["reference"]}) == [a["id"]]


async def test_keyset_pagination_walks_every_charter_once(staff, bookable_charter):
    created = [await bookable_charter(days=3 + i) for i in range(7)]
    seen, after, pages = [], None, 0

    while True:
        page = (await staff(CHARTERS, {"first": 3, "after": after})).ok()["charters"]
        pages += 1
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["totalCount"] == 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert pages == 3
    assert seen == [c["id"] for c in created]


async def test_a_cursor_still_works_after_an_insert_before_it(staff, bookable_charter):
    first = await bookable_charter(days=10)
    second = await bookable_charter(days=20)
    page = (await staff(CHARTERS, {"first": 1})).ok()["charters"]
    await bookable_charter(days=5)

    nxt = (await staff(CHARTERS, {"first": 1, "after": page["pageInfo"]["endCursor"]})).ok()[
        "charters"
    ]

    assert page["edges"][0]["node"]["id"] == first["id"]
    assert nxt["edges"][0]["node"]["id"] == second["id"]
