"""Keeps the current gateway and swaps it when the supergraph file changes.

A broken new file is refused with a log line; the previous supergraph keeps
serving, and requests already running finish on the one they started with.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from router.config import Config
from router.execution.fetcher import Fetcher, fetch_resilience
from router.gateway import Gateway
from router.observability.metrics import RouterMetrics
from router.supergraph.load import SupergraphError, load_supergraph

log = logging.getLogger("router")


class GatewayHolder:
    def __init__(self, config: Config, metrics: RouterMetrics | None = None) -> None:
        self.config = config
        #: one registry per holder: the gateway's fetcher reports subgraph fetches to it
        self.metrics = metrics or RouterMetrics()
        self.gateway: Gateway | None = None
        self._mtime: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_error = ""

    def _complain(self, message: str) -> None:
        """Log a problem once, not on every poll."""
        if message != self._last_error:
            log.error("%s", message)
            self._last_error = message

    def try_load(self) -> bool:
        path = Path(self.config.supergraph)
        try:
            mtime = path.stat().st_mtime
            if mtime == self._mtime:
                return False
            sdl = path.read_text()
        except OSError as exc:
            self._complain(f"cannot read supergraph {path}: {exc}")
            return False
        self._mtime = mtime
        try:
            sg = load_supergraph(sdl)
        except SupergraphError as exc:
            self._complain(f"refusing supergraph {path}: {exc}")
            return False
        self._last_error = ""
        if self.gateway is None:
            fetcher = Fetcher(
                self.config.subgraph_timeout,
                self.config.subgraph_timeouts,
                on_fetch=self.metrics.observe_subgraph_fetch,
                signing_secret=self.config.signing_secret,
                **fetch_resilience(self.config, self.metrics.observe_circuit),
            )
            self.gateway = Gateway(sg, self.config, fetcher)
        else:
            self.gateway.load(sg)
            log.warning("reloaded supergraph %s (%s)", path, sg.version)
        return True

    async def watch(self, interval: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval)
            self.try_load()

    async def start(self) -> None:
        if self.gateway is None:
            self.try_load()
        self._task = asyncio.create_task(self.watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.gateway is not None:
            await self.gateway.close()
