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
import importlib
import multiprocessing
import os
from typing import Any, Final

import uvicorn
import uvicorn._subprocess
from prometheus_client import values as prometheus_values
from uvicorn.config import LOGGING_CONFIG

from subgraphs.kit import metrics as kit_metrics
from subgraphs.kit.logs import dict_config
from subgraphs.kit.metrics import prepare_worker_metrics
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
    # LOG_FORMAT (json|text), secrets redacted, uvicorn's own lines included (kit/logs.py)
    return dict_config(name, level, config)


#: Seconds a worker has to answer its supervisor's ping before it is taken for hung,
#: killed and replaced (uvicorn's default: 5). A worker started on a busy machine
#: (`ATHENA_REPLICAS` starts twenty at once) was killed before it had begun to answer.
WORKER_HEALTHCHECK_SECONDS: Final = 30


def preload_for_workers(app_module: str) -> None:
    """Import the app once here and fork the workers from this process (gunicorn's `--preload`).

    uvicorn starts its workers with multiprocessing's "spawn": a fresh
    interpreter per worker, each importing the whole subgraph (seconds of CPU
    each). Forked from a process that imported it, they start at once and
    share the imported code's memory. Safe because importing starts nothing:
    no thread, loop or connection (pools, relays, consumers and streams start
    in the lifespan, in each worker), and the supervisor runs no thread either.
    The workers stay this process's children (tests/kit/test_workers.py finds
    them there).

    `gc.freeze` then, as Python's documentation advises before forking: the
    workers' collections leave the shared pages alone, and this process, on
    its way out, does not collect the whole app (half a second of CPU per
    subgraph, seconds on a busy machine: stopping `ATHENA_REPLICAS=2` overran
    the launcher's grace period).
    """
    # prometheus-client chose its kind of values when this module imported kit/metrics.py,
    # before `prepare_worker_metrics` set PROMETHEUS_MULTIPROC_DIR: spawned workers import
    # it afresh, forked ones inherit it, so choose again now, before the app imports it.
    importlib.reload(prometheus_values)
    importlib.reload(kit_metrics)
    importlib.import_module(app_module)
    gc.freeze()
    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def serve(name: str) -> None:
    settings = get_settings()
    os.environ[GC_TUNING_ENV] = "1"  # read by the app's lifespan, here and in spawned workers
    prepare_worker_metrics(name, settings.worker_count)  # workers > 1: one sum (kit/metrics.py)
    if settings.worker_count > 1:
        preload_for_workers(f"subgraphs.{name}.app")
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
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
