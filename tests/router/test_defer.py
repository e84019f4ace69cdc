"""@defer planning: the split into an initial operation and one part per fragment.

Units over `router.planning.defer` and `router.execution.incremental`: what
each part asks (printed), their paths, labels and nesting, `if: false`,
and how a part's answer becomes incremental items (lists, null parents,
errors at their paths).
"""

from __future__ import annotations

from graphql import parse, print_ast

from router.execution.incremental import incremental_items
from router.planning.defer import DeferredPart, DeferSplit, split_defer
from router.planning.operation import select_operation
from router.server.incremental import accepts_multipart_defer


def _split(query: str, variables: dict[str, object] | None = None) -> DeferSplit | None:
    doc = parse(query)
    return split_defer(doc, select_operation(doc, None), variables or {})


def _flat(doc: object) -> str:
    return " ".join(print_ast(doc).split())  # type: ignore[arg-type]


def test_a_deferred_fragment_leaves_the_initial_operation_and_becomes_its_own() -> None:
    split = _split(
        'query Q($n: Int) { charters { id vehicles { id ... @defer(label: "v") '
        "{ vendor { name } } } } hello(n: $n) }"
    )
    assert split is not None
    assert _flat(split.initial) == (
        "query Q($n: Int) { charters { id vehicles { id } } hello(n: $n) }"
    )
    (part,) = split.parts
    assert part.label == "v"
    assert part.path == ("charters", "vehicles")
    # only what reaches the fragment, and no unused variable
    assert _flat(part.document) == "query Q { charters { vehicles { ... { vendor { name } } } } }"


def test_nested_named_and_typed_fragments() -> None:
    split = _split(
        "{ search { ... on Vendor { ...V @defer } } } "
        'fragment V on Vendor { name ... @defer(label: "inner") { rating } }'
    )
    assert split is not None
    assert _flat(split.initial) == "{ search { ... on Vendor { __typename } } }"
    outer, inner = split.parts
    assert (outer.parent, inner.parent) == (None, 0)
    assert _flat(outer.document) == "{ search { ... on Vendor { ... on Vendor { name } } } }"
    assert _flat(inner.document) == (
        "{ search { ... on Vendor { ... on Vendor { ... { rating } } } } }"
    )


def test_if_false_and_skipped_fragments_are_not_deferred() -> None:
    assert _split("{ a ... @defer(if: false) { b } }") is None
    assert _split("query($d: Boolean!) { a ... @defer(if: $d) { b } }", {"d": False}) is None
    split = _split("query($d: Boolean!) { a ... @defer(if: $d) { b } }", {"d": True})
    assert split is not None
    assert len(split.parts) == 1
    assert _split("{ a ... @defer @skip(if: true) { b } }") is None
    assert _split("mutation { a ... @defer { b } }") is None  # a mutation runs once
    assert _split("{ a b }") is None


def test_items_per_list_element_errors_at_their_paths_and_null_parents() -> None:
    part = DeferredPart(0, "v", ("charters", "vehicles"), parse("{ a }"))
    body = {
        "data": {
            "charters": [
                {"vehicles": [{"vendor": {"name": "A"}}, {"vendor": None}]},
                None,
            ]
        },
        "errors": [{"message": "boom", "path": ["charters", 0, "vehicles", 1, "vendor"]}],
    }
    assert incremental_items(part, body) == [
        {"data": {"vendor": {"name": "A"}}, "path": ["charters", 0, "vehicles", 0], "label": "v"},
        {
            "data": {"vendor": None},
            "path": ["charters", 0, "vehicles", 1],
            "label": "v",
            "errors": [{"message": "boom", "path": ["charters", 0, "vehicles", 1, "vendor"]}],
        },
    ]
    # the parent itself nulled by the failure: still reported, where the path reaches
    nulled = {
        "data": {"charters": [{"vehicles": None}]},
        "errors": [{"message": "x", "path": ["charters", 0, "vehicles", 2, "vendor"]}],
    }
    assert incremental_items(part, nulled) == [
        {
            "data": None,
            "path": ["charters", 0, "vehicles", 2],
            "label": "v",
            "errors": nulled["errors"],
        }
    ]
    assert incremental_items(part, {"data": {"charters": None}}) == []


def test_which_accept_headers_read_multipart_defer() -> None:
    assert accepts_multipart_defer("multipart/mixed;deferSpec=20220824, application/json")
    assert accepts_multipart_defer(
        "application/graphql-response+json, application/json, text/event-stream, multipart/mixed"
    )
    assert not accepts_multipart_defer("multipart/mixed;subscriptionSpec=1.0, application/json")
    assert not accepts_multipart_defer("multipart/mixed;q=0, application/json")
    assert not accepts_multipart_defer("application/json")
    assert not accepts_multipart_defer(None)
