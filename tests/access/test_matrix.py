"""schema/access_matrix.csv, proved: every field listed, every root cell called through the router.

The file is the statement of who may read and do what (tools/access_matrix.py). These tests
fail when the schema gains a field the file does not list (or loses one it lists), when a
cell admits a role the code's gate refuses, and when any role's answer from the real router
over every live subgraph differs from its cell:

- `denied`: FORBIDDEN/UNAUTHENTICATED at the field's path, and no data for it;
- `allowed`: no auth error (an id that exists nowhere is NOT_FOUND or a userError);
- `own`: called on a row that is not the role's own (an id that exists nowhere), no data
  for it, whatever the error (test_own_rows reads own rows).

`ACCESS_MATRIX_OBSERVED=path` writes what each role got (for
`python -m tools.access_matrix observed path`, a maintainer's draft of a change).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_named_type, is_leaf_type

from tests.access.probe import (
    AUTH_CODES,
    Seen,
    probe_mutations,
    probe_queries,
    subscription_refusal,
)
from tests.support.charters_fixtures import (
    CREATE_CHARTER,
    CREATE_TYPE,
    future_local,
    register_client,
)
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter
from tools import access_matrix as M


@pytest.fixture(scope="module")
def api() -> Any:
    return M.api_schema()


@pytest.fixture(scope="module")
def matrix() -> dict[str, M.Row]:
    return M.read_matrix()


def test_the_matrix_lists_every_field_of_the_schema_and_agrees_with_the_code(
    api: Any, matrix: dict[str, M.Row]
) -> None:
    assert M.problems(api, matrix, M.Code.read(api)) == []


def test_a_field_the_matrix_does_not_list_or_a_cell_the_gate_refuses_fails(
    api: Any, matrix: dict[str, M.Row]
) -> None:
    code = M.Code.read(api)
    missing = {k: v for k, v in matrix.items() if k != "Query.charter"}
    assert "Query.charter: a field of the schema the matrix does not list" in M.problems(
        api, missing, code
    )
    extra = {**matrix, "Query.gone": dict.fromkeys(M.ROLES, M.DENIED)}
    assert "Query.gone: listed, but the schema has no such field" in M.problems(api, extra, code)
    # arAging's gate admits accounting, managers and admins only
    widened = {**matrix, "Query.arAging": {**matrix["Query.arAging"], "driver": M.ALLOWED}}
    assert any(p.startswith("Query.arAging driver") for p in M.problems(api, widened, code))
    # charters' per-audience table keeps a charter's notes from its client
    leaked = {**matrix, "Charter.notes": {**matrix["Charter.notes"], "client": M.OWN}}
    assert any(p.startswith("Charter.notes") for p in M.problems(api, leaked, code))


def test_a_field_an_access_rule_refuses_states_what_the_rule_answers(
    api: Any, matrix: dict[str, M.Row]
) -> None:
    """Fields whose resolver asks a `may_*` rule (`ruled_fields`): each role's cell is the
    rule's answer on its own row and another's, so `inherits` there fails `check`."""
    code = M.Code.read(api)
    payments = code.tables["Charter.payments"]
    # finance's balance readers: not dispatch, vendors or drivers; an agent and a client
    # their own charters'
    assert {r for r, c in payments.items() if c == M.DENIED} == {
        "dispatcher",
        "vendor",
        "driver",
        M.ANONYMOUS,
    }
    assert payments["sales_agent"] == payments["client"] == M.OWN
    assert code.tables["Charter.quote"]["vendor"] == M.DENIED
    assert code.tables["Client.portalUsers"]["client"] == M.DENIED
    # a person's own preferences, and admins anyone's
    prefs = code.tables["User.notificationPreferences"]
    assert prefs["admin"] == M.ALLOWED
    assert prefs["dispatcher"] == prefs["driver"] == M.OWN
    stale = {**matrix, "Charter.payments": dict.fromkeys(M.ROLES, M.INHERITS)}
    assert any(p.startswith("Charter.payments") for p in M.problems(api, stale, code))
    # the cells follow the rule, not a copy of its roles
    assert M.rule_row(lambda v, row: v.user_id == row.user) == {
        **dict.fromkeys(M.ROLES, M.OWN),
        M.ANONYMOUS: M.DENIED,
    }


def test_update_derive_writes_a_reviewed_line_from_the_code_again(
    tmp_path: Path, matrix: dict[str, M.Row]
) -> None:
    """`update` keeps a root line as reviewed (an `own` cell is a reviewer's statement);
    `--derive` writes it from the gates again."""
    path = tmp_path / "access_matrix.csv"
    stated = {**matrix["Query.fleetCalendar"], "client": M.OWN}
    path.write_text(M.render(matrix, {**matrix, "Query.fleetCalendar": stated}))
    # the gate admits clients and the resolver answers every reader alike
    assert M.update(path, derive=["Query.fleetCalendar"]) == ["changed Query.fleetCalendar"]
    assert M.read_matrix(path)["Query.fleetCalendar"]["client"] == M.ALLOWED


async def _token(mint: TokenMinter, role: str) -> str | None:
    if role == M.ANONYMOUS:
        return None
    return await mint(role, client_id=uuid.uuid4() if role == "client" else None)


def _wrong(cell: str, seen: Seen) -> str | None:
    """Why `seen` contradicts `cell`, or None."""
    if cell == M.DENIED and not (seen.auth_error and not seen.data):
        return f"stated denied, answered {seen.codes or 'no error'} with data {seen.data!r}"
    if cell == M.ALLOWED and seen.auth_error:
        return f"stated allowed, refused {seen.codes}"
    # an object (a connection, a payload) says nothing of whose rows it holds
    if cell == M.OWN and not seen.auth_error and seen.data and not isinstance(seen.data, dict):
        return f"stated own, another's row answered {seen.data!r}"
    return None


def _write(path: Path, observed: dict[str, dict[str, str]]) -> None:
    path.write_text(json.dumps(observed, indent=1, sort_keys=True))


async def test_every_root_cell_answers_each_role_through_the_router_as_stated(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    api: Any,
    matrix: dict[str, M.Row],
) -> None:
    observed: dict[str, dict[str, str]] = {}
    wrong: list[str] = []
    for role in M.ROLES:
        token = await _token(mint, role)

        async def fresh(role: str = role) -> str | None:
            return await _token(mint, role)

        seen = await probe_queries(http_client, graph.graphql_url, token, api)
        seen |= await probe_mutations(http_client, graph.graphql_url, token, fresh, api)
        for key, got in seen.items():
            observed.setdefault(key, {})[role] = got.outcome
            why = _wrong(matrix[key][role], got)
            if why:
                wrong.append(f"{key} {role}: {why}")
    if target := os.environ.get("ACCESS_MATRIX_OBSERVED"):
        _write(Path(target), observed)
    probed = {f"{t}.{f}" for t, f in M.api_fields(api) if t in ("Query", "Mutation")}
    assert set(observed) == probed
    assert wrong == [], "\n".join(wrong)


async def _own_charter(admin: GraphQLClient) -> tuple[str, str]:
    """A charter (a quote) of a new client company, made through the router: (id, client)."""
    client_id = await register_client(admin)
    created = await admin(CREATE_TYPE, {"name": f"Coach {uuid.uuid4().hex[:6]}", "capacity": 56})
    vtype = created.ok()["createVehicleType"]["vehicleType"]
    data = {
        "clientId": client_id,
        "tripType": "ONE_WAY",
        "passengerCount": 40,
        "pickupLocal": future_local(30),
        "pickupTimeZone": "America/Chicago",
        "stops": [
            {"type": "PICKUP", "address": "1 Main St, Springfield"},
            {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
        ],
        "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "1250.00"}],
    }
    payload = (await admin(CREATE_CHARTER, {"input": data})).ok()["createCharter"]
    assert payload["userErrors"] == [], payload
    return payload["charter"]["id"], client_id


async def test_own_rows_and_their_fields_read_as_the_matrix_states(
    graph: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter, api: Any, matrix: Any
) -> None:
    """`Query.charter` is `own` for a client: its company's charter reads, field by field as
    `Charter`'s cells say (charters' per-audience table), and so does `Query.client`, its own
    company record; another company's is refused or NOT_FOUND, as to a vendor and a driver."""
    admin = GraphQLClient(graph.graphql_url, http_client, await mint("admin"))
    charter_id, client_id = await _own_charter(admin)
    charter = api.type_map["Charter"]
    leaves = sorted(
        name
        for name, f in charter.fields.items()
        if is_leaf_type(get_named_type(f.type)) and not f.args
    )
    assert matrix["Query.charter"]["client"] == M.OWN
    document = "query($id: ID!) { charter(id: $id) { " + " ".join(leaves) + " } }"
    readers = {
        "admin": GraphQLClient(graph.graphql_url, http_client, await mint("admin")),
        "client": GraphQLClient(
            graph.graphql_url,
            http_client,
            await mint("client", client_id=uuid.UUID(client_id)),
        ),
    }
    wrong = []
    for role, reader in readers.items():
        body = (await reader(document, {"id": charter_id})).body
        refused = {
            e["path"][1]
            for e in body.get("errors") or []
            if len(e.get("path") or []) == 2 and e["extensions"]["code"] in AUTH_CODES
        }
        assert (body.get("data") or {}).get("charter"), body
        for name in leaves:
            cell = matrix[f"Charter.{name}"][role]
            if (cell == M.DENIED) != (name in refused):
                wrong.append(f"Charter.{name} {role}: stated {cell}, refused: {name in refused}")
    assert wrong == [], "\n".join(wrong)
    # the client's own company record (`Query.client` is `own`), not another's
    company = await admin(
        'mutation { createClient(input: {name: "Own Co", type: CORPORATE}) '
        "{ client { id } userErrors { message } } }"
    )
    own_company = company.ok()["createClient"]["client"]["id"]
    assert matrix["Query.client"]["client"] == M.OWN
    mine = GraphQLClient(
        graph.graphql_url, http_client, await mint("client", client_id=uuid.UUID(own_company))
    )
    read = "query($id: ID!) { client(id: $id) { id name } }"
    assert (await mine(read, {"id": own_company})).ok()["client"]["id"] == own_company
    theirs = (await readers["client"](read, {"id": own_company})).body
    assert not (theirs.get("data") or {}).get("client"), theirs
    assert theirs.get("errors"), theirs
    # another company's client, a vendor and a driver with no link to it: no charter
    for role in ("client", "vendor", "driver"):
        other = GraphQLClient(graph.graphql_url, http_client, await _token(mint, role))
        body = (await other(document, {"id": charter_id})).body
        assert (body.get("data") or {}).get("charter") is None, (role, body)
        assert body.get("errors"), (role, body)


async def test_every_denied_subscription_cell_is_refused_through_the_router(
    graph: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter, api: Any, matrix: Any
) -> None:
    """Admitted cells would stream on; those are the gates' (the static test above)."""
    wrong = []
    denied = 0
    for name in sorted(api.subscription_type.fields):
        for role in M.ROLES:
            if matrix[f"Subscription.{name}"][role] != M.DENIED:
                continue
            denied += 1
            token = await _token(mint, role)
            codes = await subscription_refusal(http_client, graph.graphql_url, token, api, name)
            if not AUTH_CODES & set(codes):
                wrong.append(f"Subscription.{name} {role}: stated denied, answered {codes}")
    assert denied > 0
    assert wrong == [], "\n".join(wrong)
