"""Unexpected exceptions become `INTERNAL` with no detail; intended errors pass through."""

from __future__ import annotations

import logging

from tests.kit.sample_subgraph import SECRET_SQL


async def test_an_unexpected_exception_is_answered_as_internal_without_detail(gql, caplog):
    with caplog.at_level(logging.ERROR, logger="athena.errors"):
        response = await gql("{ boom }", headers={"x-request-id": "req-boom-1"})

    assert response.status_code == 200
    assert response.body == {
        "data": {"boom": None},
        "errors": [
            {
                "message": "Internal error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["boom"],
                "extensions": {"code": "INTERNAL", "requestId": "req-boom-1"},
            }
        ],
    }


async def test_the_fault_is_logged_with_the_request_id_and_traceback(gql, caplog):
    with caplog.at_level(logging.ERROR, logger="athena.errors"):
        await gql("{ boom }", headers={"x-request-id": "req-boom-2"})

    records = [r for r in caplog.records if r.name == "athena.errors"]
    assert [r.getMessage() for r in records] == ["internal error in request req-boom-2 at boom"]
    assert records[0].exc_info is not None
    assert SECRET_SQL in str(records[0].exc_info[1])


async def test_a_database_error_leaks_no_sql(gql, http, kit_server):
    raw = await http.post(kit_server.graphql_url, json={"query": "{ badSql }"})

    body = raw.json()
    assert raw.status_code == 200
    assert body["data"] == {"badSql": None}
    assert [e["message"] for e in body["errors"]] == ["Internal error."]
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    for leak in ("no_such_table", "secret_column", "SELECT", "Traceback", "sqlalchemy", "asyncpg"):
        assert leak not in raw.text


async def test_a_request_without_an_id_gets_a_generated_one(gql):
    response = await gql("{ boom }")

    request_id = response.errors[0]["extensions"]["requestId"]
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0


async def test_a_coded_error_passes_through_with_its_code_and_message(gql):
    response = await gql("{ conflict }")

    assert response.body == {
        "data": {"conflict": None},
        "errors": [
            {
                "message": "This seat is already booked.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["conflict"],
                "extensions": {"code": "CONFLICT", "seat": "12A"},
            }
        ],
    }


async def test_a_validation_error_is_bad_user_input(gql):
    response = await gql("{ noSuchField }")

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["message"] == "Cannot query field 'noSuchField' on type 'Query'."
