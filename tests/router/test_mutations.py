"""Mutation root fields run one after another, in the order written."""

from __future__ import annotations

import asyncio
from typing import Any

from router.gateway import GraphQLRequest
from tests.router import subgraphs


async def test_mutations_run_in_order_across_subgraphs(run: Any) -> None:
    subgraphs.CALL_LOG.clear()
    body = await run(
        """
        mutation {
          a: rename(id: "c2", reference: "CH-2a") { reference }
          b: renameClient(id: "k2", name: "Globex 2") { name }
          c: rename(id: "c2", reference: "CH-2b") { reference quote { total } }
        }
        """
    )
    assert body == {
        "data": {
            "a": {"reference": "CH-2a"},
            "b": {"name": "Globex 2"},
            "c": {"reference": "CH-2b", "quote": {"total": "1000.00"}},
        }
    }
    assert subgraphs.CALL_LOG == [
        "charters.rename:CH-2a",
        "sales.renameClient:Globex 2",
        "charters.rename:CH-2b",
    ]
    await run('mutation { rename(id: "c2", reference: "CH-2") { id } }')
    await run('mutation { renameClient(id: "k2", name: "Globex") { id } }')


async def test_identical_concurrent_mutations_each_reach_the_subgraph(gateway: Any) -> None:
    """In-flight deduplication is for reads: two clients sending one mutation both mean it."""
    subgraphs.CALL_LOG.clear()
    request = GraphQLRequest(query='mutation { rename(id: "c2", reference: "CH-2") { id } }')

    await asyncio.gather(gateway.execute(request), gateway.execute(request))

    assert subgraphs.CALL_LOG == ["charters.rename:CH-2", "charters.rename:CH-2"]
