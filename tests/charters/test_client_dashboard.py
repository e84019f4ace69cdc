"""The client portal's dashboard lists on `Client` (issue 14 §2), over HTTP with real tokens.

`upcomingTrips` and `quotesAwaitingAnswer` are read as the router reads a
`Client` entity (`_entities`): by the client's own users, by staff, never
by another company's token, in a constant number of statements.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from db.engine import record_statements
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter
from subgraphs.charters.service import charters, directory, fleet
from subgraphs.identity.service import accounts
from tests.charters.test_legal_terms import publish
from tests.support.charters_fixtures import client_event
from tests.support.graphql_client import GraphQLClient

MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))

DASHBOARD = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Client {
  upcomingTrips(first: 10) { reference status pickupAt }
  quotesAwaitingAnswer(first: 10) { reference status quoteRevision totalCost } } } }"""


def reps(*clients: uuid.UUID) -> dict[str, Any]:
    return {"reps": [{"__typename": "Client", "id": str(c)} for c in clients]}


async def _charter(
    session: Any, client_id: uuid.UUID, vtype: Any, days: int, cost: str = "900.00"
) -> Any:
    return await charters.create(
        session,
        charters.NewCharter(
            client_id=client_id,
            trip_type="one_way",
            passenger_count=10,
            pickup_local=(datetime.now() + timedelta(days=days)).replace(
                hour=8, minute=0, second=0, microsecond=0
            ),
            pickup_time_zone="America/New_York",
            stops=[
                {"id": None, "stop_type": "pickup", "address": f"{days} Main St"},
                {"id": None, "stop_type": "dropoff", "address": f"{days} Lake Rd"},
            ],
            vehicles=[{"id": None, "vehicle_type_id": str(vtype.id), "capacity": 20, "cost": cost}],
        ),
        MANAGER,
    )


async def _company(sessions: Any) -> dict[str, Any]:
    """A client company with trips and quotes in every state the lists must tell apart."""
    company = uuid.uuid4()
    async with sessions() as session, session.begin():
        vtype = await fleet.create_vehicle_type(
            session, name=f"T{uuid.uuid4().hex[:8]}", capacity=20, description=None
        )
        await directory.apply_client_event(session, client_event(company, "Acme"))
        later = await _charter(session, company, vtype, 12)
        soon = await _charter(session, company, vtype, 4)
        confirmed = await _charter(session, company, vtype, 30)
        cancelled = await _charter(session, company, vtype, 6)
        older_quote = await _charter(session, company, vtype, 40)
        unpriced = await _charter(session, company, vtype, 41, cost="0.00")
        newer_quote = await _charter(session, company, vtype, 42)
        for row in (later, soon, confirmed, cancelled):
            await charters.transition(session, row.id, "booked", MANAGER)
        await charters.transition(session, confirmed.id, "confirmed", MANAGER)
        await charters.cancel(
            session, cancelled.id, reason="Plans changed", fee=None, actor=MANAGER
        )
        await charters.revise_quote(session, newer_quote.id, MANAGER)
        names = {
            "soon": soon.reference,
            "later": later.reference,
            "confirmed": confirmed.reference,
            "older_quote": older_quote.reference,
            "newer_quote": newer_quote.reference,
            "unpriced": unpriced.reference,
        }
    # Made in one transaction, the quotes share a creation time: the newer one is told
    # apart by its id only if the clock moved, so give it a later creation time.
    async with sessions() as session, session.begin():
        newer = await charters.get(session, newer_quote.id, lock=True)
        newer.created_at = newer.created_at + timedelta(seconds=5)
    return {"id": company, **names}


async def test_the_client_reads_its_upcoming_trips_and_quotes_awaiting_an_answer(
    staff, mint, sessions
):
    mine = await _company(sessions)
    await _company(sessions)  # another company's charters are not listed
    client = staff.as_user(await mint("client", client_id=mine["id"]))

    data = (await client(DASHBOARD, reps(mine["id"]))).ok()["_entities"][0]

    assert [(t["reference"], t["status"]) for t in data["upcomingTrips"]] == [
        (mine["soon"], "BOOKED"),
        (mine["later"], "BOOKED"),
        (mine["confirmed"], "CONFIRMED"),
    ]
    quotes = data["quotesAwaitingAnswer"]
    assert [(q["reference"], q["quoteRevision"]) for q in quotes] == [
        (mine["newer_quote"], 2),
        (mine["older_quote"], 1),
    ]
    assert all(q["status"] == "QUOTE" and Decimal(q["totalCost"]) > 0 for q in quotes)
    # Staff read the same lists.
    assert (await staff(DASHBOARD, reps(mine["id"]))).ok()["_entities"][0] == data


async def test_another_companys_token_is_forbidden(staff, mint, sessions, as_role):
    mine = await _company(sessions)
    stranger = staff.as_user(await mint("client", client_id=uuid.uuid4()))
    vendor = await as_role("vendor")

    for reader in (stranger, vendor):
        response = await reader(DASHBOARD, reps(mine["id"]))
        assert response.error_codes == ["FORBIDDEN", "FORBIDDEN"]
        assert response.data["_entities"][0] == {
            "upcomingTrips": None,
            "quotesAwaitingAnswer": None,
        }


async def test_first_is_bounded(staff, mint, sessions):
    mine = await _company(sessions)
    query = """query($reps: [_Any!]!, $n: Int!) { _entities(representations: $reps) {
      ... on Client { upcomingTrips(first: $n) { reference } } } }"""

    one = (await staff(query, {**reps(mine["id"]), "n": 1})).ok()["_entities"][0]
    too_many = await staff(query, {**reps(mine["id"]), "n": 51})

    assert [t["reference"] for t in one["upcomingTrips"]] == [mine["soon"]]
    assert too_many.error_codes == ["BAD_USER_INPUT"]


async def test_many_clients_dashboards_cost_the_statements_of_one(staff, sessions):
    companies = [await _company(sessions) for _ in range(4)]
    ids = [c["id"] for c in companies]

    async def count(variables: dict[str, Any]) -> tuple[int, Any]:
        (await staff(DASHBOARD, variables)).ok()
        with record_statements() as recorder:
            data = (await staff(DASHBOARD, variables)).ok()
        return len(recorder.statements), data

    one, _ = await count(reps(ids[0]))
    four, data = await count(reps(*ids))

    assert [len(e["upcomingTrips"]) for e in data["_entities"]] == [3, 3, 3, 3]
    assert [len(e["quotesAwaitingAnswer"]) for e in data["_entities"]] == [2, 2, 2, 2]
    assert one == four


# --- "view as client" (identity's impersonation) -------------------------------------------------

LOGIN = """mutation($email: String!, $password: String!) { login(email: $email, password: $password) {
  accessToken userErrors { code } } }"""
IMPERSONATE = """mutation($id: ID!) { startImpersonation(userId: $id, reason: "portal help") {
  accessToken userErrors { field code } } }"""
ACCEPT = """mutation($id: ID!, $terms: AcceptTermsInput!) {
  acceptQuote(charterId: $id, revision: 1, acceptTerms: $terms) {
    charter { status } userErrors { field code } } }"""
PASSWORD = "a long enough password"


async def _account(sessions: Any, role: str, client_id: uuid.UUID | None = None) -> Any:
    data = accounts.NewUser(
        email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        name=f"A {role}",
        roles=[role],
        password=PASSWORD,
        client_id=client_id,
    )
    async with sessions() as session, session.begin():
        return await accounts.create_user(session, data, actor_id=None)


async def test_an_agent_viewing_as_the_client_reads_the_same_dashboard_and_cannot_write(
    staff, sessions, identity_server, http_client
):
    mine = await _company(sessions)
    client_user = await _account(sessions, "client", mine["id"])
    agent_user = await _account(sessions, "sales_support")
    identity = GraphQLClient(identity_server.graphql_url, http_client)

    async def login(user: Any) -> str:
        payload = (await identity(LOGIN, {"email": user.email, "password": PASSWORD})).ok()
        assert payload["login"]["userErrors"] == []
        return str(payload["login"]["accessToken"])

    client_token = await login(client_user)
    started = (
        await identity(IMPERSONATE, {"id": str(client_user.id)}, token=await login(agent_user))
    ).ok()["startImpersonation"]
    assert started["userErrors"] == []
    as_client = staff.as_user(client_token)
    viewing_as = staff.as_user(started["accessToken"])

    seen_by_client = (await as_client(DASHBOARD, reps(mine["id"]))).ok()
    seen_by_agent = (await viewing_as(DASHBOARD, reps(mine["id"]))).ok()

    assert seen_by_agent == seen_by_client
    assert len(seen_by_client["_entities"][0]["upcomingTrips"]) == 3
    assert len(seen_by_client["_entities"][0]["quotesAwaitingAnswer"]) == 2
    # "View as client" is read-only (kit/auth/impersonation.py): accepting a quote in the
    # client's name is refused before anything runs; the client itself gets past that gate.
    assert (
        seen_by_client["_entities"][0]["quotesAwaitingAnswer"][1]["reference"]
        == (mine["older_quote"])
    )
    terms = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    older = await _by_reference(sessions, mine["older_quote"])
    signing = {"termsVersionId": terms["id"], "typedName": "Pat Lee", "sha256": terms["sha256"]}
    refused = await viewing_as(ACCEPT, {"id": older, "terms": signing})
    assert refused.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]
    assert (await _status(sessions, older)) == "quote"
    accepted = (await as_client(ACCEPT, {"id": older, "terms": signing})).ok()["acceptQuote"]
    assert (accepted["userErrors"], accepted["charter"]["status"]) == ([], "BOOKED")


async def _by_reference(sessions: Any, reference: str) -> str:
    async with sessions() as session:
        return str(await session.scalar(select(Charter.id).where(Charter.reference == reference)))


async def _status(sessions: Any, charter_id: str) -> str:
    async with sessions() as session:
        return str(
            await session.scalar(select(Charter.status).where(Charter.id == uuid.UUID(charter_id)))
        )
