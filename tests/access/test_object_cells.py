"""schema/access_matrix.csv's object-field cells, proved through the router on reachable rows.

Every object field whose line states a rule (a cell other than `inherits`) is asked, as each
role, on a row of its type that role reaches (tests/access/reach.py `REACH`: the root query
and the row of the module's `World`), all of a type's ruled fields in one selection:

- `allowed` and `own` (the row is the role's own): no auth error at the field's path;
- `denied`: FORBIDDEN/UNAUTHENTICATED at the field's path and no value (charters'
  `field_policy`, vendors' `CHARTER_FIELD_READERS`, sales' `STAFF_ONLY_FIELDS` and the
  `may_read_*` rules all refuse so: null with the error, the rest of the answer kept);
- `own` for a staff role (a sales agent's charters, clients, and its own figures; a
  person's own notification preferences): read on its own row (`OWN_REACH` where the
  type's `REACH` row is another's), refused like `denied` on another's row (roles
  outside staff reach no other row: their roots refuse it, test_own_cells).

A ruled field whose type a role reaches by no root stated in `REACH` must have a reason in
`UNREACHED`, or the coverage test fails.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema

from tests.access import reach as R
from tests.access.probe import AUTH_CODES, call, post_operations
from tests.support.live_server import LiveServer
from tools import access_matrix as M

#: The World's rows this module reads (no other owner's rows beyond its own `OTHER_ROW`).
WORLD_PARTS = frozenset({"money", "tours", "accounts"})

#: For a staff role whose cell is `own`: the World's row owned by someone else.
OTHER_ROW = {"charter": "other_charter", "client": "other_client", "agent": "other_agent"}


@pytest.fixture(scope="module")
def api() -> GraphQLSchema:
    return M.api_schema()


#: One worker runs the module: its World is built once (pytest -n with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("access_object_cells")


@pytest.fixture(autouse=True)
def _isolate(module_isolation: None) -> None:
    """The module's World is built once: tables are emptied after the module, not each test."""


@pytest.fixture(scope="module")
def matrix() -> dict[str, M.Row]:
    return M.read_matrix()


def _object_types(api: GraphQLSchema) -> set[str]:
    roots = {t.name for t in (api.query_type, api.mutation_type, api.subscription_type) if t}
    return {
        name
        for name, t in api.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__") and name not in roots
    }


def test_every_ruled_object_field_has_a_probe_or_a_stated_reason(
    api: GraphQLSchema, matrix: dict[str, M.Row]
) -> None:
    ruled = R.ruled_fields(matrix, _object_types(api))
    assert len(ruled) > 100
    assert R.uncovered(matrix, _object_types(api)) == []
    # a reason is for a role the type's fields are stated for, not a blanket pass
    assert set(R.REACH) >= {k.split(".", 1)[0] for k in ruled}
    for type_name, who in R.UNREACHED:
        assert who not in R.REACH[type_name], (type_name, who)
    # a new ruled type with no reach fails
    extra = {**matrix, "Probe.secret": dict.fromkeys(M.ROLES, M.DENIED)}
    assert "Probe.secret admin" in R.uncovered(extra, _object_types(api) | {"Probe"})


def _operation(api: GraphQLSchema, reach: R.Reach, fields: list[str], row: str | None) -> Any:
    t = api.type_map[_type_at(reach)]
    assert isinstance(t, GraphQLObjectType)
    selection = " ".join(call(f, t.fields[f]) for f in fields)
    head = f"query($id: {reach.variable})" if reach.row else "query"
    return {
        "query": f"{head} {{ r: {reach.root % selection} }}",
        "variables": {"id": row} if reach.row else {},
    }


Step = tuple[str, dict[str, str], R.Reach, str | None]


def _split(api: GraphQLSchema, step: Step) -> list[Step]:
    """Each non-null field stated denied alone, the rest together: a refused non-null field
    nulls its whole object (the refusal is still at its path), which must not hide the rest
    (an unexpected refusal of a non-null field fails the rest's `no row reached`)."""
    type_name, cells, reach, row = step
    t = api.type_map[type_name]
    assert isinstance(t, GraphQLObjectType)
    strict = sorted(
        f
        for f, c in cells.items()
        if c == M.DENIED and isinstance(t.fields[f].type, GraphQLNonNull)
    )
    loose = {f: c for f, c in cells.items() if f not in strict}
    steps = [(type_name, {f: cells[f]}, reach, row) for f in strict]
    return ([(type_name, loose, reach, row)] if loose else []) + steps


def _type_at(reach: R.Reach) -> str:
    for type_name, kinds in R.REACH.items():
        if reach in kinds.values():
            return type_name
    raise KeyError(reach)


def _objects(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects at `path` below the aliased root (lists flattened)."""
    found: list[Any] = [data.get("r") if isinstance(data, dict) else None]
    for name in path[1:]:
        nxt: list[Any] = []
        for o in found:
            v = o.get(name) if isinstance(o, dict) else None
            nxt += v if isinstance(v, list) else [v]
        found = nxt
    flat: list[Any] = []
    for o in found:
        flat += o if isinstance(o, list) else [o]
    return [o for o in flat if isinstance(o, dict)]


def _codes_at(body: dict[str, Any], path: tuple[str, ...], name: str) -> list[str | None]:
    want = ("r", *path[1:], name)
    return [
        (e.get("extensions") or {}).get("code")
        for e in body.get("errors") or []
        if tuple(p for p in e.get("path") or [] if isinstance(p, str)) == want
    ]


def _judge(
    key: str, role: str, expect: str, body: dict[str, Any], reach: R.Reach, name: str
) -> str | None:
    objects = _objects(body.get("data"), reach.path)
    codes = _codes_at(body, reach.path, name)
    refused = bool(AUTH_CODES & set(codes))
    if not objects and not (expect == M.DENIED and refused):
        return f"{key} {role}: no row reached ({body.get('errors')})"
    if expect == M.DENIED:
        if not refused or any(o.get(name) not in (None, []) for o in objects):
            return f"{key} {role}: stated denied, answered {codes} / {objects[0].get(name)!r}"
    elif expect == M.INHERITS:
        # a question of access only: another error (a file not stored) is not a refusal
        if refused:
            return f"{key} {role}: stated inherits, refused {codes}"
    elif codes:
        return f"{key} {role}: stated {expect}, answered {codes}"
    return None


async def _ask(
    graph: LiveServer,
    http: httpx.AsyncClient,
    world: R.World,
    api: GraphQLSchema,
    role: str,
    plan: list[Step],
) -> tuple[int, list[str]]:
    """Every step of `plan` as `role`, batched: (cells judged, what contradicted them)."""
    plan = [split for step in plan for split in _split(api, step)]
    items = [_operation(api, reach, sorted(cells), row) for _, cells, reach, row in plan]
    bodies = await post_operations(http, graph.graphql_url, world.tokens[role], items)
    wrong, judged = [], 0
    for (type_name, cells, reach, _), body in zip(plan, bodies, strict=True):
        whole = [e for e in body.get("errors") or [] if not e.get("path")]
        assert not whole, (role, type_name, whole)
        for name, cell in sorted(cells.items()):
            judged += 1
            why = _judge(f"{type_name}.{name}", role, cell, body, reach, name)
            if why:
                wrong.append(why)
    return judged, wrong


async def test_every_ruled_object_field_answers_each_role_on_a_reachable_row(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    world: R.World,
    api: GraphQLSchema,
    matrix: dict[str, M.Row],
) -> None:
    ruled = R.ruled_fields(matrix, _object_types(api))
    by_type: dict[str, list[str]] = {}
    for key in ruled:
        t, f = key.split(".", 1)
        by_type.setdefault(t, []).append(f)
    wrong: list[str] = []
    probed = 0
    for role in M.ROLES:
        # (type, the cell each field is expected to answer as, reach, the row asked)
        plan: list[Step] = []
        for type_name, fields in sorted(by_type.items()):
            reach = R.reach_for(type_name, role)
            if reach is None:
                continue
            cells = {f: ruled[f"{type_name}.{f}"][role] for f in fields}
            row = world.row(reach.row, role)
            owned = [f for f, c in cells.items() if c == M.OWN]
            own = R.OWN_REACH.get(type_name)
            if R.kind(role) == R.STAFF and owned and own and world.row(own.row, role) != row:
                # the reach row is another's: `own` cells read on the role's own row only
                plan.append((type_name, dict.fromkeys(owned, M.OWN), own, world.row(own.row, role)))
                cells |= dict.fromkeys(owned, M.DENIED)
            plan.append((type_name, cells, reach, row))
            if R.kind(role) == R.STAFF and owned and reach.row in OTHER_ROW:
                other = world.row(OTHER_ROW[reach.row], role)
                plan.append((type_name, dict.fromkeys(owned, M.DENIED), reach, other))
        judged, found = await _ask(graph, http_client, world, api, role, plan)
        probed += judged
        wrong += found
    assert probed > 500
    assert wrong == [], "\n".join(wrong)


async def test_every_inherits_field_is_read_by_each_role_that_reaches_its_object(
    graph: LiveServer,
    http_client: httpx.AsyncClient,
    world: R.World,
    api: GraphQLSchema,
    matrix: dict[str, M.Row],
) -> None:
    """`inherits`: whoever reaches the object reads the field, so no role that reaches a row
    of the type is refused it."""
    wrong: list[str] = []
    probed = 0
    for role in M.ROLES:
        plan: list[Step] = []
        for type_name in sorted(R.REACH):
            reach = R.reach_for(type_name, role)
            t = api.type_map[type_name]
            if reach is None or not isinstance(t, GraphQLObjectType):
                continue
            cells = {
                f: M.INHERITS for f in t.fields if matrix[f"{type_name}.{f}"][role] == M.INHERITS
            }
            if cells:
                plan.append((type_name, cells, reach, world.row(reach.row, role)))
        judged, found = await _ask(graph, http_client, world, api, role, plan)
        probed += judged
        wrong += found
    assert probed > 300
    assert wrong == [], "\n".join(wrong)
