"""Entity jumps, batching, @requires and @provides across real subgraphs."""

from __future__ import annotations

from typing import Any

from tests.router.subgraphs import Recorder

QUERY = """
{
  charters {
    reference
    vehicles { id capacity vendor { id name certifications { type number } } }
  }
}
"""


async def test_entity_chain_crosses_subgraphs(run: Any) -> None:
    body = await run(QUERY)
    assert "errors" not in body
    first = body["data"]["charters"][0]
    assert first["reference"] == "CH-1"
    assert first["vehicles"][0] == {
        "id": "v1",
        "capacity": 50,
        "vendor": {
            "id": "a",
            "name": "Alpha Coaches",
            "certifications": [
                {"type": "DOT", "number": "DOT-a"},
                {"type": "INSURANCE", "number": "INS-a"},
            ],
        },
    }
    # v5 has no vendor: null, not an error
    assert body["data"]["charters"][2]["vehicles"][1]["vendor"] is None


async def test_one_entities_call_per_subgraph_per_step(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    await run(QUERY)
    calls = recorders["vendors"].entity_calls()
    assert len(calls) == 1, "six vehicles over three charters go in one _entities call"
    reps = calls[0]["variables"]["representations"]
    assert sorted(r["id"] for r in reps) == ["v1", "v2", "v3", "v4", "v5", "v6"]
    assert all(r["__typename"] == "CharterVehicle" for r in reps)
    assert len(recorders["charters"].bodies) == 1


async def test_representations_are_deduplicated(run: Any, recorders: dict[str, Recorder]) -> None:
    body = await run("{ charters { client { id creditLimit } } }")
    assert [c["client"]["creditLimit"] for c in body["data"]["charters"]] == [1000, 2000, 1000]
    reps = recorders["sales"].entity_calls()[0]["variables"]["representations"]
    assert reps == [{"__typename": "Client", "id": "k1"}, {"__typename": "Client", "id": "k2"}]


async def test_requires_sends_the_required_field(run: Any, recorders: dict[str, Recorder]) -> None:
    body = await run('{ charter(id: "c3") { reference quote { total } } }')
    assert body == {"data": {"charter": {"reference": "CH-3", "quote": {"total": "3000.00"}}}}
    (call,) = recorders["pricing"].entity_calls()
    assert call["variables"]["representations"] == [
        {"__typename": "Charter", "id": "c3", "vehicleCount": 3}
    ]
    # the client did not ask for vehicleCount, so it is not in the answer
    assert "vehicleCount" not in body["data"]["charter"]


async def test_provides_keeps_the_field_local(run: Any, recorders: dict[str, Recorder]) -> None:
    body = await run("{ charters { client { name } } }")
    assert [c["client"]["name"] for c in body["data"]["charters"]] == [
        "Acme Corp",
        "Globex",
        "Acme Corp",
    ]
    assert recorders["sales"].bodies == [], "name is provided by charters; sales is not called"


async def test_field_not_covered_by_provides_jumps(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    body = await run('{ charter(id: "c2") { client { name creditLimit } } }')
    assert body == {"data": {"charter": {"client": {"name": "Globex", "creditLimit": 2000}}}}
    assert len(recorders["sales"].entity_calls()) == 1


async def test_only_used_variables_are_sent(run: Any, recorders: dict[str, Recorder]) -> None:
    query = """
    query Q($id: ID!, $withVendor: Boolean!) {
      charter(id: $id) { reference vehicles { vendor @include(if: $withVendor) { name } } }
    }
    """
    body = await run(query, {"id": "c2", "withVendor": True})
    assert body["data"]["charter"]["vehicles"] == [{"vendor": {"name": "Beta Bus"}}]
    (root,) = recorders["charters"].bodies
    assert root["variables"] == {"id": "c2"}
    (ent,) = recorders["vendors"].bodies
    assert set(ent["variables"]) == {"representations"}


async def test_aliased_lists_share_one_entities_call(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    body = await run(
        """
        {
          first: charter(id: "c1") { vehicles { vendor { name } } }
          all: charters { vehicles { vendor { id } } }
        }
        """
    )
    assert body["data"]["first"]["vehicles"][0]["vendor"] == {"name": "Alpha Coaches"}
    assert body["data"]["all"][1]["vehicles"][0]["vendor"] == {"id": "b"}
    (call,) = recorders["vendors"].entity_calls()
    assert len(call["variables"]["representations"]) == 6, "v1 and v2 are asked once"


async def test_identical_inflight_requests_are_sent_once(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    import asyncio

    query = '{ charter(id: "c1") { reference vehicles { vendor { name } } } }'
    first, second = await asyncio.gather(run(query), run(query))
    assert first == second
    assert len(recorders["charters"].bodies) == 1
    assert len(recorders["vendors"].bodies) == 1
