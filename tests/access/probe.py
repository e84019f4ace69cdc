"""Calls root fields as a role through the router and says what the role got.

Each root field is called with minimal well-typed arguments built from the API schema
(ids that exist nowhere, the first enum value, the required fields of an input), selecting
`__typename` of whatever it returns. What comes back is classified per field:

- `denied`: an auth error (`AUTH_CODES`) at the field's path and no data;
- `allowed`: no auth error at its path (a NOT_FOUND, a userError, a BAD_USER_INPUT are the
  answer to an id that exists nowhere, not a refusal).

One field per operation, a role's operations in a few batched POSTs (a refused
non-null root field nulls its whole operation's data, and stops the mutations after it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

#: The router refuses a field its `@requiresScopes` keeps from the caller as Apollo Router does.
AUTH_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "UNAUTHORIZED_FIELD_OR_TYPE"})

#: Literals of each custom scalar that parse (the value itself need not exist).
SCALARS: Mapping[str, str] = {
    "ID": '"00000000-0000-4000-8000-00000000a0a0"',
    "String": '"probe"',
    "Int": "1",
    "Float": "1.0",
    "Boolean": "false",
    "Date": '"2031-01-15"',
    "DateTime": '"2031-01-15T12:00:00Z"',
    "Money": '"1.00"',
    "Decimal": '"1.00"',
    "JSON": "{}",
    "Upload": '"probe"',
}

#: Mutations that end the caller's own session: called last, each with a token of its own.
SESSION_ENDING = frozenset({"logout", "stopImpersonation", "refreshToken"})


def literal(t: GraphQLInputType, depth: int = 0) -> str:
    if isinstance(t, GraphQLNonNull):
        return literal(t.of_type, depth)
    if isinstance(t, GraphQLList):
        return f"[{literal(t.of_type, depth)}]"
    if isinstance(t, GraphQLEnumType):
        return str(next(iter(t.values)))
    if isinstance(t, GraphQLScalarType):
        return SCALARS[t.name]
    assert isinstance(t, GraphQLInputObjectType)
    fields = [
        f"{name}: {literal(f.type, depth + 1)}"
        for name, f in t.fields.items()
        if isinstance(f.type, GraphQLNonNull) and f.default_value is _undefined()
    ]
    if not fields and t.is_one_of and t.fields:
        name, f = next(iter(t.fields.items()))
        fields = [f"{name}: {literal(f.type, depth + 1)}"]
    return "{" + ", ".join(fields) + "}"


def _undefined() -> Any:
    from graphql.pyutils import Undefined

    return Undefined


def call(name: str, field: GraphQLField, alias: str | None = None) -> str:
    """`alias: name(required: literal...) { __typename }`."""
    args = [
        f"{arg}: {literal(a.type)}"
        for arg, a in field.args.items()
        if isinstance(a.type, GraphQLNonNull) and a.default_value is _undefined()
    ]
    text = f"{alias}: {name}" if alias else name
    if args:
        text += "(" + ", ".join(args) + ")"
    if not is_leaf_type(get_named_type(field.type)):
        text += " { __typename }"
    return text


@dataclass
class Seen:
    """What one root field answered one role."""

    auth_error: bool
    data: Any
    codes: tuple[str | None, ...]

    @property
    def outcome(self) -> str:
        return "denied" if self.auth_error else "allowed"


def _seen(body: Mapping[str, Any], alias: str) -> Seen:
    errors = [e for e in body.get("errors") or [] if (e.get("path") or [None])[0] == alias]
    codes = tuple((e.get("extensions") or {}).get("code") for e in errors)
    data = (body.get("data") or {}).get(alias)
    return Seen(any(c in AUTH_CODES for c in codes), data, codes)


async def probe_queries(
    http: httpx.AsyncClient, url: str, token: str | None, schema: GraphQLSchema
) -> dict[str, Seen]:
    query = schema.query_type
    assert query is not None
    names = sorted(query.fields)
    items = [{"query": f"query {{ {call(n, query.fields[n], 'q')} }}"} for n in names]
    bodies = await _post_batches(http, url, token, items)
    seen = {}
    for name, body in zip(names, bodies, strict=True):
        _no_operation_error(body)
        seen[f"Query.{name}"] = _seen(body, "q")
    return seen


async def probe_mutations(
    http: httpx.AsyncClient,
    url: str,
    token: str | None,
    fresh_token: Any,
    schema: GraphQLSchema,
) -> dict[str, Seen]:
    mutation = schema.mutation_type
    assert mutation is not None
    names = sorted(mutation.fields)
    batched = [n for n in names if n not in SESSION_ENDING]
    items = [{"query": f"mutation {{ {call(n, mutation.fields[n], 'm')} }}"} for n in batched]
    bodies = await _post_batches(http, url, token, items)
    seen = {}
    for name, body in zip(batched, bodies, strict=True):
        _no_operation_error(body)
        seen[f"Mutation.{name}"] = _seen(body, "m")
    for name in sorted(SESSION_ENDING & set(names)):
        op = {"query": f"mutation {{ {call(name, mutation.fields[name], 'm')} }}"}
        body = await _post(http, url, await fresh_token(), op)
        assert isinstance(body, dict)
        _no_operation_error(body)
        seen[f"Mutation.{name}"] = _seen(body, "m")
    return seen


def _no_operation_error(body: Mapping[str, Any]) -> None:
    """An error with no path (validation, limits) would make every field look allowed."""
    whole = [e for e in body.get("errors") or [] if not e.get("path")]
    assert not whole, whole


#: Operations per batched POST: the router runs a batch's operations at once, and every
#: subgraph here shares the test's one event loop with it.
BATCH = 24


async def _post_batches(
    http: httpx.AsyncClient, url: str, token: str | None, items: list[dict[str, str]]
) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        answer = await _post(http, url, token, chunk)
        assert isinstance(answer, list), answer
        assert len(answer) == len(chunk), answer
        bodies += answer
    # A pooled connection the subgraph closed as it was reused (its keep-alive ran out on a
    # loaded machine) answers no question of access: such an operation is asked again, once
    # (the router retries only queries itself).
    for i, body in enumerate(bodies):
        if _unreached(body):
            again = await _post(http, url, token, [items[i]])
            assert isinstance(again, list), again
            bodies[i] = again[0]
    return bodies


def _unreached(body: Mapping[str, Any]) -> bool:
    return any(
        not e.get("path") and (e.get("extensions") or {}).get("code") == "SUBREQUEST_HTTP_ERROR"
        for e in body.get("errors") or []
    )


async def _post(http: httpx.AsyncClient, url: str, token: str | None, payload: Any) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post(url, json=payload, headers=headers)
    assert response.status_code < 500, response.text
    return response.json()


def another_id() -> str:
    return str(uuid.uuid4())


async def subscription_refusal(
    http: httpx.AsyncClient, url: str, token: str | None, schema: GraphQLSchema, name: str
) -> tuple[str | None, ...]:
    """The error codes a refused subscription's event stream carries before it ends.

    Over SSE (distinct connections): a refused stream is one `next` with the error and a
    `complete`, or an HTTP 401 with the error; an admitted one would stay open, so this
    is asked only of cells stated `denied`.
    """
    subscription = schema.subscription_type
    assert subscription is not None
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    payload = {"query": f"subscription {{ {call(name, subscription.fields[name], 's')} }}"}
    async with http.stream("POST", url, json=payload, headers=headers) as response:
        text = (await response.aread()).decode()
    if response.headers.get("content-type", "").startswith("application/json"):
        errors = json.loads(text).get("errors") or []
    else:
        errors = [
            e
            for line in text.splitlines()
            if line.startswith("data:") and line[5:].strip()
            for e in (json.loads(line[5:]).get("errors") or [])
        ]
    return tuple((e.get("extensions") or {}).get("code") for e in errors)


async def post_operations(
    http: httpx.AsyncClient, url: str, token: str | None, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Operations with variables (`{"query", "variables"}`), batched as the root probes are."""
    return await _post_batches(http, url, token, items)
