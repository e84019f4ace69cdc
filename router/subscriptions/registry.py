"""Every subscription the router is running, so none outlives its client.

Each transport starts its subscription as a task through `start`; the task
leaves the registry when it ends, however it ends. Shutdown cancels what is
left. `active` and `upstream_sockets` are what the leak tests watch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class SubscriptionRegistry:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        #: graphql-transport-ws sockets open to subgraphs right now
        self.upstream_sockets = 0

    @property
    def active(self) -> int:
        return len(self._tasks)

    def start(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close_all(self) -> None:
        """Cancel every running subscription and wait until each has cleaned up."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
