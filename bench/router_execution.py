"""The router's own CPU per request, without HTTP: plan execution, shaping, serialising.

    .venv/bin/python -m bench.router_execution [--requests 300] [--rounds 3] [--variants 8]

A script that prints figures, never a test. It starts the three cheap
subgraphs of bench/router_throughput.py, records their answers to the
headline query (`$offset` 0..variants-1), stops them, and then runs
`Gateway.execute` plus `orjson.dumps` of the answer in this process over
the recorded answers: no socket, no other process, so the figure is the
router's own work per request (CPU time, `time.process_time`), the part
that the throughput benchmark's req/s divides a core by. It prints the
minimum over rounds, split into admission (parse cache, variables,
limits), execution (representations, subgraph JSON parsing, merging),
shaping and serialising, and the answer's SHA-256, which must not change
when only speed work changed.

To compare two commits, run it in a checkout of each on the same machine
in the same session.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
from typing import Any

import orjson

from bench.router_subgraphs import SUPERGRAPH
from bench.router_throughput import PYTHON, QUERY, free_port, process, wait_for


async def record(variants: int) -> tuple[str, dict[bytes, bytes]]:
    """The supergraph and each subgraph request's raw answer, from real subgraphs."""
    from router.config import Config
    from router.gateway import Gateway, GraphQLRequest
    from router.supergraph.load import load_supergraph

    ports = {name: free_port() for name in ("charters", "fleet", "vendors")}
    sdl = SUPERGRAPH
    for name, port in ports.items():
        sdl = sdl.replace("{" + name + "}", f"http://127.0.0.1:{port}/graphql")
    answers: dict[bytes, bytes] = {}
    gw = Gateway(load_supergraph(sdl), Config())
    send = gw.fetcher._send

    async def recording(service: str, url: str, payload: bytes, *rest: Any) -> Any:
        raw, parsed = await send(service, url, payload, *rest)
        answers[url.encode() + payload] = raw
        return raw, parsed

    gw.fetcher._send = recording  # type: ignore[method-assign,assignment]
    cmd = [PYTHON, "-m", "bench.router_subgraphs"]
    with (
        process([*cmd, "charters", str(ports["charters"])]) as p1,
        process([*cmd, "fleet", str(ports["fleet"])]) as p2,
        process([*cmd, "vendors", str(ports["vendors"])]) as p3,
    ):
        for name, proc in zip(ports, (p1, p2, p3), strict=True):
            wait_for(f"http://127.0.0.1:{ports[name]}/graphql", proc)
        for offset in range(variants):
            body = (await gw.execute(GraphQLRequest(QUERY, {"offset": offset}))).body
            if body.get("errors"):
                raise RuntimeError(f"the subgraphs answered with errors: {body['errors']}")
        await gw.fetcher.close()
    return sdl, answers


async def measure(
    sdl: str, answers: dict[bytes, bytes], requests: int, rounds: int, variants: int
) -> None:
    from router.config import Config
    from router.execution.fetcher import _parse
    from router.execution.shaping import Shaper
    from router.gateway import Gateway, GraphQLRequest, GraphQLResponse
    from router.supergraph.load import load_supergraph

    gw = Gateway(load_supergraph(sdl), Config())

    async def replay(service: str, url: str, payload: bytes, *_rest: Any) -> Any:
        raw = answers[url.encode() + payload]
        return raw, _parse(service, raw)

    gw.fetcher._send = replay  # type: ignore[method-assign,assignment]
    reqs = [GraphQLRequest(QUERY, {"offset": i % variants}) for i in range(requests)]
    first = orjson.dumps((await gw.execute(reqs[0])).body)
    for r in reqs:  # warm: plans, generated code, caches
        await gw.execute(r)
    whole: list[float] = []
    for _ in range(rounds):
        t0 = time.process_time()
        for r in reqs:
            orjson.dumps((await gw.execute(r)).body)
        whole.append((time.process_time() - t0) / requests * 1000)
    parts = dict.fromkeys(("admit", "execute", "shape", "serialise"), 0.0)
    for r in reqs:
        t0 = time.process_time()
        admitted = gw.admit(r)
        if isinstance(admitted, GraphQLResponse):
            raise RuntimeError(f"refused: {admitted.body}")
        plan = gw.plan_admitted(admitted, None)
        t1 = time.process_time()
        data, errors = await gw.executor.run(plan, admitted.variables)
        t2 = time.process_time()
        shaped = Shaper(errors).shape_root(plan.shape, data)
        t3 = time.process_time()
        orjson.dumps({"data": shaped})
        t4 = time.process_time()
        for key, spent in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[key] += spent
    print(f"answer: {len(first)} bytes, sha256 {hashlib.sha256(first).hexdigest()[:16]}")
    print(
        f"CPU per request: {min(whole):.3f} ms (min of {rounds} rounds of {requests}; "
        + ", ".join(f"{w:.3f}" for w in whole)
        + ")"
    )
    print(
        "  of which: "
        + ", ".join(f"{k} {v / requests * 1000:.3f} ms" for k, v in parts.items())
        + " (one more round, timed per step)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", type=int, default=8, help="distinct $offset values")
    args = parser.parse_args()
    sdl, answers = asyncio.run(record(args.variants))
    asyncio.run(measure(sdl, answers, args.requests, args.rounds, args.variants))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
