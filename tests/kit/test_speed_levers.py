"""The kit's per-request savings (issue 18 §3) save work without changing an answer.

An operation text is parsed once, validated once per schema and rule set it
passed, and walked for NUL literals once; a field rule that concerns a few
types wraps only their fields. Each test shows the saving AND that the
answer it stands for is still given: refusals stay refusals.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema
import uvicorn
from graphql import GraphQLError

from subgraphs.kit import serve as serve_module
from subgraphs.kit.documents import DOCUMENTS, DocumentCache
from subgraphs.kit.schema import build_schema, wrap_fields
from subgraphs.kit.serve import GC_THRESHOLDS, GC_TUNING_ENV


@strawberry.type
class Node:
    name: str
    child: Node | None = None


@strawberry.type
class Other:
    label: str


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, text: str) -> str:
        return text

    @strawberry.field
    def node(self) -> Node:
        return Node(name="a", child=Node(name="b", child=Node(name="c")))

    @strawberry.field
    def other(self) -> Other:
        return Other(label="plain")


def _context(max_depth: int = 20) -> SimpleNamespace:
    settings = SimpleNamespace(
        subgraph_max_depth=max_depth, subgraph_max_aliases=60, subgraph_introspection=False
    )
    return SimpleNamespace(settings=settings)


def _unique(query: str) -> str:
    """A text no other test sends: the document cache is per process."""
    return f"# {uuid.uuid4()}\n{query}"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each document Strawberry validates (the cache skips the call)."""
    seen: list[Any] = []
    original = strawberry_schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> list[GraphQLError]:
        seen.append(document)
        return original(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return seen


def test_a_text_is_parsed_once_and_a_syntax_error_is_not_kept() -> None:
    cache = DocumentCache(maxsize=2)

    first = cache.parse("{ a }", {})
    assert cache.parse("{ a }", {}) is first
    with pytest.raises(GraphQLError):
        cache.parse("{ a ", {})
    with pytest.raises(GraphQLError):
        cache.parse("{ a ", {})
    assert len(cache) == 1
    cache.parse("{ b }", {})
    cache.parse("{ c }", {})
    assert len(cache) == 2  # bounded: the least recently used went
    assert cache.parse("{ a }", {}) is not first


async def test_the_same_text_is_validated_once(validations: list[Any]) -> None:
    schema = build_schema(Query)
    query = _unique('{ echo(text: "hi") }')

    for _ in range(3):
        result = await schema.execute(query, context_value=_context())
        assert result.errors is None
        assert result.data == {"echo": "hi"}

    assert len(validations) == 1


async def test_validity_is_not_shared_across_rule_sets(validations: list[Any]) -> None:
    schema = build_schema(Query)
    deep = _unique("{ node { child { child { name } } } }")

    allowed = await schema.execute(deep, context_value=_context(max_depth=20))
    refused = await schema.execute(deep, context_value=_context(max_depth=2))
    again = await schema.execute(deep, context_value=_context(max_depth=2))

    assert allowed.errors is None
    assert allowed.data == {"node": {"child": {"child": {"name": "c"}}}}
    for answer in (refused, again):
        assert answer.data is None
        assert answer.errors
        assert "exceeds maximum operation depth" in answer.errors[0].message
    # the passing rule set once; the failing one each time (a failure is not kept)
    assert len(validations) == 3


async def test_validity_is_not_shared_across_schemas(validations: list[Any]) -> None:
    query = _unique("{ other { label } }")

    for schema in (build_schema(Query), build_schema(Query)):
        result = await schema.execute(query, context_value=_context())
        assert result.data == {"other": {"label": "plain"}}

    assert len(validations) == 2


async def test_an_invalid_text_is_refused_every_time(validations: list[Any]) -> None:
    schema = build_schema(Query)
    query = _unique("{ nothingHere }")

    for _ in range(2):
        result = await schema.execute(query, context_value=_context())
        assert result.data is None
        assert result.errors
        assert "Cannot query field 'nothingHere'" in result.errors[0].message

    assert len(validations) == 2


async def test_the_limits_give_one_rule_tuple_per_settings() -> None:
    schema = build_schema(Query)
    seen: list[tuple[Any, ...]] = []

    for max_depth in (20, 20, 3):
        query = _unique("{ other { label } }")
        await schema.execute(query, context_value=_context(max_depth))
        seen.append(DOCUMENTS.parse(query, {}).valid_for.copy().pop()[1])

    assert seen[0] is seen[1]
    assert seen[0] != seen[2]


async def test_a_nul_literal_is_refused_on_every_request_of_the_same_text() -> None:
    schema = build_schema(Query)
    query = _unique('{ echo(text: "a\\u0000b") }')

    for _ in range(2):
        result = await schema.execute(query, context_value=_context())
        assert result.data is None
        assert [(e.extensions or {}).get("code") for e in result.errors or []] == ["BAD_USER_INPUT"]


async def test_a_nul_variable_is_refused_in_a_text_already_known_clean() -> None:
    schema = build_schema(Query)
    query = _unique("query($t: String!) { echo(text: $t) }")

    clean = await schema.execute(query, {"t": "ok"}, context_value=_context())
    dirty = await schema.execute(query, {"t": "a\x00"}, context_value=_context())

    assert clean.data == {"echo": "ok"}
    assert dirty.data is None
    assert [(e.extensions or {}).get("code") for e in dirty.errors or []] == ["BAD_USER_INPUT"]


async def test_wrap_fields_wraps_the_named_types_only() -> None:
    schema = build_schema(Query)
    other = schema._schema.get_type("Other").fields["label"].resolve  # type: ignore[union-attr]
    calls: list[tuple[str, str]] = []

    def shout(type_name: str, field_name: str, resolve: Any) -> Any:
        def wrapped(root: Any, info: Any, **kwargs: Any) -> Any:
            calls.append((type_name, field_name))
            value = resolve(root, info, **kwargs)
            return value.upper() if isinstance(value, str) else value

        return wrapped

    wrap_fields(schema, ["Node"], shout)
    result = await schema.execute("{ node { name } other { label } }", context_value=_context())

    assert result.data == {"node": {"name": "A"}, "other": {"label": "plain"}}
    assert calls == [("Node", "name")]
    assert schema._schema.get_type("Other").fields["label"].resolve is other  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not an object type"):
        wrap_fields(schema, ["Nope"], shout)


def test_charters_field_policy_is_no_middleware_on_every_field() -> None:
    """The policy wraps the governed types' fields; no extension resolves every field."""
    from subgraphs.charters.app import schema
    from subgraphs.charters.service.visibility import FIELDS

    assert not [e for e in schema.get_extensions() if e._implements_resolve()]
    for type_name in FIELDS:
        fields = schema._schema.get_type(type_name).fields  # type: ignore[union-attr]
        assert all(f.resolve.__name__ == "policed" for f in fields.values())
    assert schema._schema.get_type("VehicleType").fields["name"].resolve.__name__ != "policed"  # type: ignore[union-attr]


@strawberry.type
class Resolved:
    word: str

    @strawberry.field
    def loud(self, info: strawberry.Info) -> str:
        assert info.field_name == "loud"
        return self.word.upper()

    @strawberry.field
    async def later(self) -> str:
        return f"{self.word} later"

    @strawberry.field
    def rooted(self, root: Resolved) -> str:
        return f"{root.word} rooted"

    @strawberry.field
    def repeated(self, times: int) -> str:
        return self.word * times


@strawberry.type
class ResolvedQuery:
    @strawberry.field
    def resolved(self) -> Resolved:
        return Resolved(word="hi")


async def test_a_resolver_without_arguments_is_called_without_strawberrys_layers() -> None:
    schema = build_schema(ResolvedQuery)
    fields = schema._schema.get_type("Resolved").fields  # type: ignore[union-attr]

    result = await schema.execute(
        "{ resolved { word loud later rooted repeated(times: 2) } }", context_value=_context()
    )

    assert result.errors is None
    assert result.data == {
        "resolved": {
            "word": "hi",
            "loud": "HI",
            "later": "hi later",
            "rooted": "hi rooted",
            "repeated": "hihi",
        }
    }
    assert [n for n, f in fields.items() if f.resolve.__name__ == "direct"] == [
        "loud",
        "later",
        "rooted",
    ]  # `word` is a plain attribute; `repeated` has an argument to convert


def test_a_plain_field_of_a_governed_type_is_a_plain_call_for_staff() -> None:
    """No coroutine for staff reading an attribute: the policy's check is one lookup."""
    from subgraphs.charters.app import schema
    from subgraphs.charters.types import Stop

    row = SimpleNamespace(
        id=uuid.uuid4(),
        position=1,
        stop_type="pickup",
        address="1 Main St",
        latitude=None,
        longitude=None,
        planned_arrival=None,
        planned_departure=None,
        notes=None,
        charter_id=uuid.uuid4(),
    )
    staff = SimpleNamespace(context=SimpleNamespace(known_viewer=SimpleNamespace(is_staff=True)))
    resolve = schema._schema.get_type("Stop").fields["address"].resolve  # type: ignore[union-attr]

    assert resolve(Stop.from_row(row), staff) == "1 Main St"  # type: ignore[arg-type]


def test_a_served_process_freezes_its_start_up_objects_and_collects_less_often() -> None:
    """In a process of its own: the test process keeps its GC as it is."""
    script = (
        "import gc\n"
        "from subgraphs.kit.serve import GC_THRESHOLDS, tune_gc\n"
        "before = gc.get_freeze_count()\n"
        "tune_gc()\n"
        "assert gc.get_threshold() == GC_THRESHOLDS, gc.get_threshold()\n"
        "assert gc.get_freeze_count() > before + 10_000, gc.get_freeze_count()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert GC_THRESHOLDS[0] > 700  # more than Python's default


def test_serve_asks_the_app_to_tune_the_gc(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setenv(GC_TUNING_ENV, "0")  # and unset again after the test
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: ran.append(app))

    serve_module.serve("charters")

    assert ran == ["subgraphs.charters.app:app"]
    assert os.environ[GC_TUNING_ENV] == "1"


async def test_a_syntax_error_is_answered_as_strawberry_answers_it() -> None:
    from strawberry import Schema

    query = _unique("{ echo(text: ")
    plain = await Schema(Query).execute(query)
    cached = await build_schema(Query).execute(query, context_value=_context())

    assert cached.data is None
    assert [e.formatted for e in cached.errors or []] == [
        {**e.formatted, "extensions": {"code": "BAD_USER_INPUT"}} for e in plain.errors or []
    ]


def test_a_loader_fetches_no_column_it_names_unread() -> None:
    from subgraphs.charters.loaders import VehiclesByCharterIdLoader
    from subgraphs.kit.loaders import read_columns

    fetched = [column.key for column in VehiclesByCharterIdLoader.statement().selected_columns]
    assert "busy" not in fetched
    assert {"id", "charter_id", "capacity", "cost", "vehicle_type_id"} <= set(fetched)
    table = VehiclesByCharterIdLoader.model.__table__
    with pytest.raises(ValueError, match=r"no columns \['bussy'\]"):
        read_columns(table, ("bussy",))


def test_a_governed_field_is_read_directly_only_where_its_policy_decides_without_awaiting() -> None:
    """charters' policy guard: staff read, an audience given with the object is checked, else ask."""
    from subgraphs.charters.app import schema
    from subgraphs.charters.service.visibility import Audience
    from subgraphs.charters.types import CharterVehicle
    from subgraphs.kit.errors import ForbiddenError
    from subgraphs.kit.execution import GUARD, READS

    resolve = schema._schema.get_type("CharterVehicle").fields["cost"].resolve  # type: ignore[union-attr]
    guard, reads = getattr(resolve, GUARD), getattr(resolve, READS)
    row = SimpleNamespace(cost=12, charter_id=uuid.uuid4())
    staff = SimpleNamespace(known_viewer=SimpleNamespace(is_staff=True))
    client = SimpleNamespace(known_viewer=SimpleNamespace(is_staff=False))
    vehicle = CharterVehicle.from_row(row)  # type: ignore[arg-type]

    assert guard(vehicle, staff) is True
    assert reads(vehicle) == 12
    assert guard(vehicle, client) is False  # the charter's facts must be loaded: the resolver's
    assert guard(vehicle, SimpleNamespace(known_viewer=None)) is False
    linked = CharterVehicle.from_row(row)  # type: ignore[arg-type]
    linked._audience = Audience.CLIENT  # given with the object, as a quote link gives it
    assert guard(linked, client) is True
    vendor_view = CharterVehicle.from_row(row)  # type: ignore[arg-type]
    vendor_view._audience = Audience.VENDOR
    with pytest.raises(ForbiddenError, match="may not read `cost`"):
        guard(vendor_view, staff)  # the audience given with it decides, even for staff
