"""Run one subgraph under uvicorn: what `python -m subgraphs.<name>` does.

`SUBGRAPH_WORKERS` (kit/settings.py) worker processes share the port: uvicorn
spawns them from the app's import string, and each runs the app's whole
lifespan (pools, outbox relay, consumers, job worker, event streams). That is
safe because everything running in the background claims its work in shared
state: the relay locks outbox rows (`FOR UPDATE SKIP LOCKED`), consumers read
through Redis consumer groups, procrastinate defers a fire time once and hands
a job to one worker, and every worker's subscriptions read the one Redis
channel. One worker serves in this process, as before workers existed.
"""

from __future__ import annotations

import copy
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from subgraphs.kit.settings import get_settings


def log_config(name: str, level: str) -> dict[str, Any]:
    """The logging of uvicorn plus the app's own lines, prefixed with the subgraph's name.

    Given to uvicorn rather than applied here, because spawned workers start
    a fresh interpreter: uvicorn applies it in each of them.
    """
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["athena"] = {
        "format": f"%(asctime)s %(levelname)s {name} %(name)s: %(message)s"
    }
    config["handlers"]["athena"] = {
        "class": "logging.StreamHandler",
        "formatter": "athena",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"level": level.upper(), "handlers": ["athena"]}
    return config


def serve(name: str) -> None:
    settings = get_settings()
    uvicorn.run(
        f"subgraphs.{name}.app:app",
        host=settings.host,
        port=settings.port_of(name),
        workers=settings.worker_count,
        log_config=log_config(name, settings.log_level),
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        # The kit decides whose X-Forwarded-For to believe (kit/auth/client_address.py);
        # uvicorn's default would already have replaced the peer for localhost.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
