"""The GraphQL over HTTP spec audit (npm `graphql-http`, its `serverAudits`).

Run by node from `tools/graphql-http/audit.mjs` against a real router over
a real subgraph: no audit may fail as an error (MUST) or a warning
(SHOULD). The MAY notices left are the GET requests the audit sends without
a preflight header, which CSRF prevention refuses on purpose.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.router_edge.router_harness import base_config, router, subgraph, write_supergraph

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "tools/graphql-http/audit.mjs"
#: MAY audits of GETs without a preflight header: CSRF prevention refuses them
CSRF_REFUSED_GETS = {"5A70", "D6D5", "6A70"}


async def audit(url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is needed (scripts/bootstrap.sh installs the npm packages)"
    assert (AUDIT.parent / "node_modules/graphql-http").is_dir(), (
        "npm ci --prefix tools/graphql-http"
    )
    proc = await asyncio.create_subprocess_exec(
        node, str(AUDIT), url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return dict(json.loads(out))


def _failed(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["status"], r["id"], r["name"]) for r in report["results"] if r["status"] != "ok"]


@pytest.mark.timeout(120)
async def test_router_passes_the_graphql_over_http_audit(tmp_path: Path) -> None:
    async with subgraph() as accounts:
        config = base_config(write_supergraph(tmp_path, accounts.url))
        async with router(config) as live:
            report = await audit(live.graphql_url)
    assert (report["error"], report["warn"]) == (0, 0), _failed(report)
    assert {i for _, i, _ in _failed(report)} == CSRF_REFUSED_GETS
