"""The comparison itself: it must see a real difference and ignore wording."""

from __future__ import annotations

from tests.router_diff.compare import differences


def test_different_data_is_a_mismatch() -> None:
    assert differences({"data": {"a": 1}}, {"data": {"a": 2}}) == ["data differs"]


def test_error_only_on_one_side_is_a_mismatch() -> None:
    ours = {"data": {"a": None}}
    hive = {"data": {"a": None}, "errors": [{"message": "boom", "path": ["a"]}]}
    assert differences(ours, hive) == ["errors in one answer only"]


def test_a_subgraph_error_we_drop_is_a_mismatch() -> None:
    down = {"message": "x down", "extensions": {"code": "SUBREQUEST_HTTP_ERROR"}}
    forwarded = {"message": "no rating", "extensions": {"serviceName": "vendors"}}
    assert differences({"data": None, "errors": [down]}, {"data": None, "errors": [forwarded]})


def test_router_wording_paths_and_quotes_are_not_compared() -> None:
    ours = {
        "data": {"a": None},
        "errors": [
            {"message": "Subgraph 'f' is unavailable.", "path": ["a", 0]},
            {"message": "bad", "path": ["a", 1, "b"], "extensions": {"serviceName": "s"}},
        ],
    }
    hive = {
        "data": {"a": None},
        "errors": [
            {"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}},
            {
                "message": "bad",
                "path": ["a", "b"],
                "extensions": {"serviceName": "s", "code": "DOWNSTREAM_SERVICE_ERROR"},
            },
        ],
    }
    assert differences(ours, hive) == []
    invalid = "Cannot query field {q}x{q} on type {q}T{q}."
    assert not differences(
        {
            "errors": [
                {
                    "message": invalid.format(q="'"),
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ]
        },
        {
            "errors": [
                {
                    "message": invalid.format(q='"'),
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ]
        },
    )
