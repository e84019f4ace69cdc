"""Label values for metrics, capped: the router's and the subgraphs' `/metrics` alike.

An operation name or an error code comes from the caller; every distinct value
is a new time series kept for the life of the process, so a caller inventing
names could grow memory and the scrape without bound.
"""

from __future__ import annotations

import threading
from typing import Final

#: Every value past the cap, and every value too long to be a name.
OTHER: Final = "other"


class CappedLabels:
    """Admits the first `limit` distinct values; maps the rest to "other"."""

    def __init__(self, limit: int, max_length: int = 100) -> None:
        self.limit = limit
        self.max_length = max_length
        self.known: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self.known:
            return value
        if len(value) > self.max_length:
            return OTHER
        with self.lock:
            if len(self.known) < self.limit:
                self.known.add(value)
                return value
        return OTHER
