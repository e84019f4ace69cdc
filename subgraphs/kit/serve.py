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
import gc
import os
from typing import Any, Final

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from subgraphs.kit.settings import get_settings

#: Set by `serve` for the server process and the workers it spawns: tune the GC after start-up.
GC_TUNING_ENV: Final = "ATHENA_SUBGRAPH_GC_TUNING"
#: Collect the youngest generation every 10 000 net allocations, not 700. A nested read
#: allocates tens of thousands of short-lived objects; at the default a third of its CPU
#: went to collections (issue 18 §3). The older generations keep their usual ratios.
GC_THRESHOLDS: Final = (10_000, 10, 10)


def tune_gc() -> None:
    """Once the app has started: its long-lived objects (modules, schema, pools) leave the GC.

    `gc.freeze` moves everything alive now to a generation the collector
    never scans, so a collection looks only at what requests allocated
    (start-up objects live as long as the process anyway). Applied by a
    served process (`serve`), not by the tests' in-process servers.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
    os.environ[GC_TUNING_ENV] = "1"  # read by the app's lifespan, here and in spawned workers
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
