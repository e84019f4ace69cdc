"""A bad inline literal is refused like the same value in a variable, in the client's terms.

Through the real router over the real charters subgraph: the router checks
the kit's scalars (`Money`, `DateTime`, `Date`) with the subgraphs' own rules,
so a bad literal never reaches a subgraph (whose error would be about its
own document). The error names the argument and the path inside it, points
at the literal in the client's document and carries `BAD_USER_INPUT`, as a
bad variable's error names the variable and points at its definition.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.charters.models import Charter
from subgraphs.kit.settings import Settings
from tests.portals.conftest import SUPERGRAPH, rewrite
from tests.support.charters_fixtures import future_local
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

MONEY_RULE = (
    "Expected value of type 'Money', but encountered error "
    "'Money must be a string such as \"1250.00\", not a number.'; found: 12.5."
)


@pytest.fixture
async def router_url(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    vendors_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    urls = {
        "identity": identity_server.graphql_url,
        "charters": charters_server.graphql_url,
        "vendors": vendors_server.graphql_url,
    }
    (tmp_path / "supergraph.graphql").write_text(rewrite(SUPERGRAPH.read_text(), urls))
    config = Config(
        supergraph=str(tmp_path / "supergraph.graphql"),
        subgraph_timeout=10,
        jwks_url=subgraph_settings.jwks_url,
    )
    holder = GatewayHolder(config)
    holder.try_load()
    async with serve(create_app(config, holder)) as router:
        yield router.graphql_url


@pytest.fixture
def post(router_url: str, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    async def send(
        query: str, variables: dict[str, Any] | None = None, accept: str = "application/json"
    ) -> httpx.Response:
        headers = {
            "authorization": f"Bearer {await mint('manager')}",
            "content-type": "application/json",
            "accept": accept,
        }
        return await http_client.post(
            router_url, json={"query": query, "variables": variables}, headers=headers
        )

    return send


def location(query: str, text: str) -> dict[str, int]:
    """Line and column (1-based) of the first `text` in `query`."""
    before = query[: query.index(text)]
    return {"line": before.count("\n") + 1, "column": len(before) - before.rfind("\n")}


def charter_input(cost: str, **extra: str) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in extra.items())
    return (
        f'{{clientId: "{uuid.uuid4()}", tripType: ONE_WAY, passengerCount: 3,\n'
        f'   pickupLocal: "{future_local()}", pickupTimeZone: "UTC"{", " if fields else ""}'
        f"{fields},\n"
        f'   vehicles: [{{vehicleTypeId: "{uuid.uuid4()}", cost: {cost}}}]}}'
    )


async def charters_count(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Charter)) or 0)


async def test_an_inline_money_literal_is_refused_like_the_same_variable(
    post: Any, sessions: Any
) -> None:
    inline = (
        "mutation Book {\n  createCharter(input: "
        + charter_input("12.5")
        + ") { charter { id } }\n}"
    )
    by_variable = (
        "mutation Book($input: CreateCharterInput!) {\n"
        "  createCharter(input: $input) { charter { id } }\n}"
    )
    variables = {
        "input": {
            "clientId": str(uuid.uuid4()),
            "tripType": "ONE_WAY",
            "passengerCount": 3,
            "pickupLocal": future_local(),
            "pickupTimeZone": "UTC",
            "vehicles": [{"vehicleTypeId": str(uuid.uuid4()), "cost": 12.5}],
        }
    }

    literal = await post(inline)
    variable = await post(by_variable, variables)

    assert literal.status_code == variable.status_code == 200
    assert literal.json() == {
        "errors": [
            {
                "message": f"Argument 'input' has invalid value at .vehicles[0].cost: {MONEY_RULE}",
                "locations": [location(inline, "12.5")],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert variable.json() == {
        "errors": [
            {
                "message": f"Variable '$input' has invalid value at .vehicles[0].cost: {MONEY_RULE}",
                "locations": [location(by_variable, "$input")],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert await charters_count(sessions) == 0


async def test_a_money_argument_literal_is_named_and_a_request_error(post: Any) -> None:
    query = 'mutation { cancelCharter(id: "%s", reason: "rain", fee: 12.5) { charter { id } } }'
    query %= uuid.uuid4()

    response = await post(query, accept="application/graphql-response+json")

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": f"Argument 'fee' has invalid value: {MONEY_RULE}",
                "locations": [location(query, "12.5")],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_malformed_datetime_date_and_id_literals_name_their_argument(post: Any) -> None:
    no_offset = (
        "mutation {\n  createCharter(input: "
        + charter_input('"1250.00"', endsAt='"2030-01-01T10:00"')
        + ") { charter { id } }\n}"
    )
    bad_date = (
        f'mutation {{\n  updateSeriesInstances(seriesId: "{uuid.uuid4()}", '
        'fromDate: "31/05/2030", input: {}) { userErrors { code } }\n}'
    )
    bad_id = "{\n  charter(id: 12.5) { id }\n}"

    answers = [(await post(q)).json() for q in (no_offset, bad_date, bad_id)]

    assert answers == [
        {
            "errors": [
                {
                    "message": "Argument 'input' has invalid value at .endsAt: Expected value "
                    "of type 'DateTime', but encountered error 'DateTime '2030-01-01T10:00' "
                    'needs an offset such as Z or +02:00.\'; found: "2030-01-01T10:00".',
                    "locations": [location(no_offset, '"2030-01-01T10:00"')],
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        },
        {
            "errors": [
                {
                    "message": "Argument 'fromDate' has invalid value: Expected value of type "
                    "'Date', but encountered error 'Date '31/05/2030' is not an ISO 8601 "
                    'date.\'; found: "31/05/2030".',
                    "locations": [location(bad_date, '"31/05/2030"')],
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        },
        {
            "errors": [
                {
                    "message": "Argument 'id' has invalid value: ID cannot represent a "
                    "non-string and non-integer value: 12.5",
                    "locations": [location(bad_id, "12.5")],
                    "extensions": {"code": "BAD_USER_INPUT"},
                }
            ]
        },
    ]


async def test_good_literals_reach_the_subgraph_unchanged(
    post: Any, known_client: Any, vehicle_type: Any
) -> None:
    client_id = await known_client()
    vtype = await vehicle_type()
    query = (
        "mutation {\n  createCharter(input: {"
        f'clientId: "{client_id}", tripType: ONE_WAY, passengerCount: 3, '
        f'pickupLocal: "{future_local()}", pickupTimeZone: "America/Chicago", '
        f'vehicles: [{{vehicleTypeId: "{vtype["id"]}", cost: "1250.5"}}]'
        "}) { charter { totalCost vehicles { cost } } userErrors { code } }\n}"
    )

    response = await post(query)

    assert response.json() == {
        "data": {
            "createCharter": {
                "charter": {"totalCost": "1250.50", "vehicles": [{"cost": "1250.50"}]},
                "userErrors": [],
            }
        }
    }
