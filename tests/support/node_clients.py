"""The real client libraries (Apollo Client, urql) run by node from tools/graphql-http.

Run as a subprocess without blocking the event loop the router under test is
served on; each script prints JSON, one value per line.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "graphql-http"


async def run_client(script: str, *args: str) -> list[Any]:
    """Every JSON line `script` printed; fails the test when node or the script fails."""
    node = shutil.which("node")
    assert node is not None
    proc = await asyncio.create_subprocess_exec(
        node,
        str(TOOLS / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]
