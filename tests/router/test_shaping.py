"""The answer follows the client's operation: aliases, fragments, directives, nulls."""

from __future__ import annotations

from typing import Any

from tests.router.subgraphs import Recorder


async def test_aliases_and_typename(run: Any) -> None:
    body = await run(
        """
        {
          first: charter(id: "c1") { ref: reference kind: __typename }
          second: charter(id: "c2") { ref: reference status }
        }
        """
    )
    assert body == {
        "data": {
            "first": {"ref": "CH-1", "kind": "Charter"},
            "second": {"ref": "CH-2", "status": "QUOTE"},
        }
    }


async def test_planner_keys_are_not_leaked(run: Any) -> None:
    body = await run('{ charter(id: "c2") { vehicles { vendor { name } } } }')
    assert body == {"data": {"charter": {"vehicles": [{"vendor": {"name": "Beta Bus"}}]}}}


async def test_alias_colliding_with_a_key_name(run: Any) -> None:
    body = await run('{ charter(id: "c2") { id: reference quote { total } } }')
    assert body == {"data": {"charter": {"id": "CH-2", "quote": {"total": "1000.00"}}}}


async def test_skip_and_include_with_variables(run: Any, recorders: dict[str, Recorder]) -> None:
    query = """
    query Q($skipQuote: Boolean!, $withRef: Boolean = true) {
      charter(id: "c1") {
        reference @include(if: $withRef)
        quote @skip(if: $skipQuote) { total }
        ... on Charter @skip(if: $skipQuote) { status }
      }
    }
    """
    skipped = await run(query, {"skipQuote": True})
    assert skipped == {"data": {"charter": {"reference": "CH-1"}}}
    assert recorders["pricing"].bodies == [], "a skipped field is not fetched"
    kept = await run(query, {"skipQuote": False, "withRef": False})
    assert kept == {"data": {"charter": {"quote": {"total": "2000.00"}, "status": "BOOKED"}}}


async def test_inaccessible_field_is_not_in_the_api(run: Any) -> None:
    body = await run('{ charter(id: "c1") { internalNote } }')
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "internalNote" in body["errors"][0]["message"]
    assert "data" not in body
    schema = await run('{ __type(name: "Charter") { fields { name } } }')
    names = {f["name"] for f in schema["data"]["__type"]["fields"]}
    assert "internalNote" not in names
    assert {"reference", "quote", "balance"} <= names


async def test_non_null_error_bubbles_to_nullable_parent(run: Any) -> None:
    body = await run('{ charter(id: "c2") { reference vehicles { id vendor { name rating } } } }')
    assert body["data"] == {
        "charter": {"reference": "CH-2", "vehicles": [{"id": "v3", "vendor": None}]}
    }
    (err,) = body["errors"]
    assert err["message"] == "rating service unavailable"
    assert err["path"] == ["charter", "vehicles", 0, "vendor", "rating"]
    assert err["extensions"]["serviceName"] == "vendors"


async def test_root_error_path_from_subgraph(run: Any) -> None:
    body = await run("{ vendors { id rating } }")
    assert body["data"] is None, "a non-null list of non-null vendors cannot hold the failure"
    assert body["errors"][0]["path"] == ["vendors", 1, "rating"]
    assert body["errors"][0]["extensions"]["serviceName"] == "vendors"


async def test_unknown_operation_name(run: Any) -> None:
    body = await run("query A { pricingVersion } query B { pricingVersion }", None, "C")
    assert body["errors"][0]["message"] == 'Unknown operation named "C".'


async def test_missing_required_variable_is_a_request_error(run: Any) -> None:
    body = await run("query($id: ID!) { charter(id: $id) { reference } }", {})
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
