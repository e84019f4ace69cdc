"""A subgraph that is down costs only the data that depends on it."""

from __future__ import annotations

from typing import Any


async def test_down_subgraph_gives_partial_data(run: Any) -> None:
    body = await run("{ charters { reference balance } }")
    assert body["data"] == {
        "charters": [
            {"reference": "CH-1", "balance": None},
            {"reference": "CH-2", "balance": None},
            {"reference": "CH-3", "balance": None},
        ]
    }
    (err,) = body["errors"]
    assert err["extensions"]["serviceName"] == "finance"
    assert err["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"


async def test_parallel_root_fields_survive_a_failure_elsewhere(run: Any) -> None:
    body = await run('{ pricingVersion charter(id: "c1") { reference balance } }')
    assert body["data"] == {
        "pricingVersion": "1",
        "charter": {"reference": "CH-1", "balance": None},
    }
