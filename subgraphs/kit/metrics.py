"""Prometheus metrics of a subgraph: `/metrics`, served by every subgraph the kit builds.

What is counted as it happens costs at most a counter and a histogram
observation: one of each per GraphQL operation (by operation and outcome,
plus one count per error code when there are errors; kit/metrics_view.py),
one observation per dataloader batch, one count per outbox batch
published, per consumer batch handled and per job run. What describes shared state (the outbox's backlog,
the consumer groups' pending and unread events) is read only when
Prometheus scrapes: one SQL statement and one Redis command per consumer
group, so a rare scrape costs nothing in between.

Several worker processes (`SUBGRAPH_WORKERS` > 1) share one port, so a
scrape reaches one of them at random: each answering for itself would make
counters jump between processes. `prepare_worker_metrics` (called by
`kit/serve.py` before the workers start) puts prometheus-client in its
multiprocess mode: each worker writes its samples to files in one
directory per subgraph (`PROMETHEUS_MULTIPROC_DIR`, or a fresh temporary
one), and whichever worker answers a scrape sums them all. One process
(tests, `SUBGRAPH_WORKERS=1`) keeps its metrics in memory as usual.

A subgraph's port is for the router and the operator's network: the public
edge (compose's nginx, the Kubernetes Ingress) routes nothing but a few
download and webhook paths to subgraphs. As a second line, `/metrics`
answers 404 to a request that came through a proxy (`X-Forwarded-For`),
which a scraper talking to the process directly never sends.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, parse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from protocol.metric_labels import CappedLabels

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from sqlalchemy import Table

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROC_ENV",
    "REGISTRY",
    "job_finished",
    "jobs_registered",
    "metrics_route",
    "observe_batch",
    "observe_operation",
    "operation_label",
    "prepare_worker_metrics",
    "render",
]

#: the classic text exposition format every Prometheus version scrapes
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
#: chosen by prometheus-client when it is first imported, from `PROMETHEUS_MULTIPROC_DIR`
MULTIPROCESS: Final = values.ValueClass is not values.MutexValue
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS: Final = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
#: distinct operation labels per process; later ones are counted as "other"
MAX_OPERATIONS: Final = 200
MAX_CODES: Final = 50
ANONYMOUS: Final = "anonymous"
#: a scrape waits this long for the database and Redis, then answers without their gauges
SCRAPE_TIMEOUT_SECONDS: Final = 2.0

#: Our series only: apart from the default registry (and whatever libraries put there).
REGISTRY: Final = CollectorRegistry(auto_describe=True)

REQUESTS: Final = Counter(
    "athena_subgraph_requests_total",
    "GraphQL operations a subgraph executed, by operation and outcome (success, partial, error).",
    ["subgraph", "operation", "outcome"],
    registry=REGISTRY,
)
DURATION: Final = Histogram(
    "athena_subgraph_request_duration_seconds",
    "Time to execute one GraphQL operation (parse, validate, resolve), by operation.",
    ["subgraph", "operation"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ERRORS: Final = Counter(
    "athena_subgraph_errors_total",
    "GraphQL errors a subgraph answered, by extensions.code.",
    ["subgraph", "code"],
    registry=REGISTRY,
)
LOADER_BATCHES: Final = Histogram(
    "athena_dataloader_batch_size",
    "Keys per dataloader batch (one SQL statement each): near 1 means no batching.",
    ["subgraph", "loader"],
    buckets=BATCH_BUCKETS,
    registry=REGISTRY,
)
OUTBOX_PUBLISHED: Final = Counter(
    "athena_outbox_published_total",
    "Outbox events the relay published to Redis.",
    ["subgraph"],
    registry=REGISTRY,
)
CONSUMER_EVENTS: Final = Counter(
    "athena_consumer_events_total",
    "Events a durable consumer handled and acknowledged, by consumer group.",
    ["group"],
    registry=REGISTRY,
)
JOB_RUNS: Final = Counter(
    "athena_job_runs_total",
    "Runs of scheduled jobs (each attempt), by job and outcome (success, failure).",
    ["job_name", "outcome"],  # not `job`: Prometheus's own label for the scrape job
    registry=REGISTRY,
)
JOB_DURATION: Final = Histogram(
    "athena_job_duration_seconds",
    "Time of one run of a scheduled job.",
    ["job_name"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)


_operation = CappedLabels(MAX_OPERATIONS)
_code = CappedLabels(MAX_CODES)
#: label of each anonymous operation text seen (the router's fetches are anonymous)
_anonymous: dict[str, str] = {}


def root_label(query: str) -> str:
    """The label of an operation sent without `operationName`, worked out once per text.

    Its name when the text holds one named operation; else its root fields,
    `_entities` with its types: the router names none of its fetches, and
    `_entities:Vendor` or `charters,vehicles` tell them apart.
    """
    label = _anonymous.get(query)
    if label is None:
        try:
            document = parse(query, no_location=True)
        except Exception:  # a syntax error: answered as such elsewhere
            label = "invalid"
        else:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) == 1 and operations[0].name:
                label = operations[0].name.value
            else:
                label = ",".join(_root_fields(operations)) or ANONYMOUS
        label = _operation(label)
        if len(_anonymous) >= MAX_OPERATIONS:
            _anonymous.clear()  # unique texts from a caller: start over, never grow
        _anonymous[query] = label
    return label


def _root_fields(operations: Iterable[OperationDefinitionNode]) -> Iterator[str]:
    for definition in operations:
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode):
                continue
            name = selection.name.value
            if name == "_entities" and selection.selection_set:
                types = sorted(
                    {
                        s.type_condition.name.value
                        for s in selection.selection_set.selections
                        if isinstance(s, InlineFragmentNode) and s.type_condition
                    }
                )
                name = f"_entities:{'+'.join(types)}" if types else name
            yield name


def operation_label(name: object, query: object) -> str:
    """The `operation` label: the client's operation name, else the text's (`root_label`).

    Both come from the request body as they are: anything but a string is
    labelled "invalid", and left to the GraphQL layer to refuse.
    """
    if name is None or name == "":
        return root_label(query) if isinstance(query, str) else "invalid"
    return _operation(name) if isinstance(name, str) else "invalid"


def observe_operation(
    subgraph: str, operation: str, seconds: float | None, outcome: str, codes: Iterable[Any]
) -> None:
    """One executed operation (kit/metrics_view.py); `seconds` None when nothing ran."""
    if seconds is not None:
        DURATION.labels(subgraph, operation).observe(seconds)
    REQUESTS.labels(subgraph, operation, outcome).inc()
    for code in codes:
        ERRORS.labels(subgraph, _code(code) if isinstance(code, str) else "UNKNOWN").inc()


# -- what the kit's moving parts report ----------------------------------------------

_loader_labels: dict[type, tuple[str, str]] = {}


def observe_batch(loader: object, size: int) -> None:
    """One dataloader batch of `size` keys (kit/loaders.py), labelled by its class."""
    cls = type(loader)
    labels = _loader_labels.get(cls)
    if labels is None:
        parts = cls.__module__.split(".")
        owner = parts[1] if parts[0] == "subgraphs" and len(parts) > 1 else parts[0]
        labels = _loader_labels[cls] = (owner, cls.__qualname__)
    LOADER_BATCHES.labels(*labels).observe(size)


def job_finished(job: str, started: float, ok: bool) -> None:
    """One run of a scheduled job ended (kit/jobs/runner.py); `started` from perf_counter."""
    JOB_RUNS.labels(job, "success" if ok else "failure").inc()
    JOB_DURATION.labels(job).observe(time.perf_counter() - started)


def jobs_registered(names: Iterable[str]) -> None:
    """Each job's series exist from start-up at 0, so "not run for a day" can be alerted on."""
    for name in names:
        JOB_RUNS.labels(name, "success")
        JOB_RUNS.labels(name, "failure")


# -- scrape-time state ---------------------------------------------------------------


class _Snapshot(Collector):
    """Gauges read at scrape time, handed to prometheus-client to render."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics


async def outbox_gauges(services: Services, table: Table) -> list[Metric]:
    """The outbox's backlog: unpublished rows and the age of the oldest (0 when none)."""
    from sqlalchemy import func, select  # at scrape time: what reports here loads light

    async with services.sessions() as session:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(
                        func.extract("epoch", func.now() - func.min(table.c.created_at)), 0
                    ),
                ).where(table.c.published_at.is_(None))
            )
        ).one()
    count = GaugeMetricFamily(
        "athena_outbox_unpublished",
        "Outbox rows committed but not yet published to Redis.",
        labels=["subgraph"],
    )
    count.add_metric([services.name], float(row[0]))
    age = GaugeMetricFamily(
        "athena_outbox_lag_seconds",
        "Age of the oldest unpublished outbox row (0 when the outbox is drained).",
        labels=["subgraph"],
    )
    age.add_metric([services.name], max(float(row[1]), 0.0))
    return [count, age]


async def consumer_gauges(services: Services, groups: Sequence[tuple[str, str]]) -> list[Metric]:
    """Per (topic, group): events delivered but unacknowledged, and events not yet read."""
    pending = GaugeMetricFamily(
        "athena_consumer_pending",
        "Events a durable consumer group read but has not acknowledged yet.",
        labels=["subgraph", "topic", "group"],
    )
    lag = GaugeMetricFamily(
        "athena_consumer_lag",
        "Events in the stream the durable consumer group has not read yet.",
        labels=["subgraph", "topic", "group"],
    )
    from subgraphs.kit.outbox import stream  # the outbox reports here: imported late

    async with services.redis.pipeline(transaction=False) as pipe:
        for topic, _group in groups:
            pipe.xinfo_groups(stream(topic))
        answers = await pipe.execute(raise_on_error=False)
    for (topic, group), answer in zip(groups, answers, strict=True):
        if isinstance(answer, Exception):
            continue  # the stream does not exist yet: nothing published, nothing to read
        for info in answer:
            if _text(info.get("name")) == group:
                labels = [services.name, topic, group]
                pending.add_metric(labels, float(info.get("pending") or 0))
                if info.get("lag") is not None:  # None: Redis cannot tell (entries deleted)
                    lag.add_metric(labels, float(info["lag"]))
    return [pending, lag]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def render() -> bytes:
    """The counters of this process, or of every worker summed in multiprocess mode."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_route(
    name: str,
    *,
    outbox: Table | None = None,
    projections: Mapping[str, tuple[str, Any]] | None = None,
    path: str = "/metrics",
) -> Route:
    """`GET /metrics` of subgraph `name`: counters, plus its outbox's and consumers' state."""
    groups = [(topic, group) for topic, (group, _handler) in (projections or {}).items()]

    async def metrics(request: Request) -> Response:
        if "x-forwarded-for" in request.headers:
            return Response("Not Found", status_code=404, media_type="text/plain")
        services: Services = request.app.state.services
        gauges: list[Metric] = []
        reads = []
        if outbox is not None:
            reads.append(outbox_gauges(services, outbox))
        if groups:
            reads.append(consumer_gauges(services, groups))
        for read in reads:
            try:
                gauges.extend(await asyncio.wait_for(read, SCRAPE_TIMEOUT_SECONDS))
            except Exception as exc:  # the counters are still worth answering
                log.warning("%s: /metrics could not read its backlog: %s", name, exc)
        body = render()
        if gauges:
            body += generate_latest(_snapshot_registry(gauges))
        return Response(body, media_type=CONTENT_TYPE)

    return Route(path, metrics, methods=["GET"])


def _snapshot_registry(gauges: Sequence[Metric]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(gauges))
    return registry


# -- several workers ------------------------------------------------------------------


def prepare_worker_metrics(name: str, workers: int) -> Path | None:
    """Before uvicorn spawns `workers` processes of subgraph `name`: one shared metrics directory.

    Only for more than one worker. The directory is `$PROMETHEUS_MULTIPROC_DIR/<name>`
    (the operator's choice, e.g. a tmpfs) or a fresh temporary one, emptied
    now: files of an earlier run would be added to this one's counts.
    The workers inherit the variable and so start in multiprocess mode.
    """
    if workers <= 1:
        return None
    base = os.environ.get(MULTIPROC_ENV)
    if base:
        directory = Path(base) / name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix=f"athena-{name}-metrics-"))
        atexit.register(shutil.rmtree, directory, True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory
