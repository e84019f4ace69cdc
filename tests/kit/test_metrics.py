"""A subgraph's `/metrics` (kit/metrics.py): what it counts, live, and across workers.

One subgraph built by the kit's app builder, served on a real port, with an
outbox, a durable consumer and a dataloader: it answers a named query (a
dataloader batch of three keys), an anonymous one, a query that fails with
a code, and an event that goes out through the outbox to its consumer; a
job runs once well and once badly. Its scrape then shows each of those.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from strawberry.types import Info

from protocol.revocation import RevocationList
from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.context import Services
from subgraphs.kit.errors import ConflictError
from subgraphs.kit.jobs import JobRunner, ScheduledJob
from subgraphs.kit.loaders import ByIdLoader
from subgraphs.kit.metrics import (
    consumer_gauges,
    operation_label,
    outbox_gauges,
    prepare_worker_metrics,
    root_label,
)
from subgraphs.kit.outbox import emit, stream
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import PROJECT_ROOT
from tests.kit.sample_subgraph import ItemRow, outbox
from tests.support.live_server import LiveServer, serve


@pytest.fixture(autouse=True)
def _fresh_label_caps() -> Any:
    """The caps on operation and code labels are per process: a module that ran before in this
    worker (tests/access sends thousands of operations) may have filled them, and every label
    here would then read "other"."""
    from subgraphs.kit import metrics

    saved = {cap: set(cap.known) for cap in (metrics._operation, metrics._code)}
    for cap in saved:
        cap.known.clear()
    yield
    for cap, known in saved.items():
        cap.known = known


SUBGRAPH = "kit-metrics"
TOPIC = "kit_metrics.thing_happened"
GROUP = "kit-metrics-projection"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class ItemByIdLoader(ByIdLoader[Any]):
    model = ItemRow


@strawberry.type
class Thing:
    id: strawberry.ID
    name: str


@strawberry.type
class Query:
    @strawberry.field
    async def things(self, info: Info, ids: list[strawberry.ID]) -> list[Thing | None]:
        loader = info.context.loaders.get(ItemByIdLoader)
        rows = await loader.load_many([uuid.UUID(i) for i in ids])
        return [Thing(id=strawberry.ID(str(r.id)), name=r.name) if r else None for r in rows]

    @strawberry.field
    def taken(self) -> str | None:
        raise ConflictError("Already taken.")


schema = build_schema(Query)


def scrape(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def services(settings: Any, sessions: Any, redis: Any) -> Any:
    def make() -> Services:
        return Services(
            name=SUBGRAPH,
            settings=settings,
            sessions=sessions,
            redis=redis,
            verifier=TokenVerifier(RemoteJwks("http://127.0.0.1:9/jwks"), issuer="i", audience="a"),
            revocations=RevocationList(redis),
        )

    return make


@pytest.fixture
async def live(
    settings: Any, key_source: Any
) -> AsyncIterator[tuple[LiveServer, asyncio.Queue[dict[str, Any]]]]:
    handled: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def project(_session: Any, event: dict[str, Any]) -> None:
        handled.put_nowait(event)

    app = create_subgraph_app(
        SUBGRAPH,
        schema,
        outbox=outbox,
        projections={TOPIC: (GROUP, project)},
        settings=settings,
        key_source=lambda _services: key_source,
    )
    async with serve(app) as server:
        yield server, handled


async def test_a_live_subgraph_counts_operations_errors_batches_events_and_jobs(
    live: tuple[LiveServer, asyncio.Queue[dict[str, Any]]],
    http: httpx.AsyncClient,
    sessions: Any,
    services: Any,
) -> None:
    server, handled = live
    metrics_url = f"{server.base_url}/metrics"
    before = scrape((await http.get(metrics_url)).text)
    ids = [uuid.uuid4() for _ in range(3)]
    async with sessions() as session, session.begin():
        await session.execute(
            insert(ItemRow),
            [
                {"id": i, "name": f"n{n}", "created_at": datetime.now(UTC)}
                for n, i in enumerate(ids)
            ],
        )

    things = "query Things($ids: [ID!]!) { things(ids: $ids) { name } }"
    answer = await http.post(
        server.graphql_url, json={"query": things, "variables": {"ids": [str(i) for i in ids]}}
    )
    assert answer.json() == {"data": {"things": [{"name": "n0"}, {"name": "n1"}, {"name": "n2"}]}}
    failed = (await http.post(server.graphql_url, json={"query": "query Taken { taken }"})).json()
    assert failed["errors"][0]["extensions"]["code"] == "CONFLICT"
    anonymous = await http.post(server.graphql_url, json={"query": "{ __typename taken }"})
    assert anonymous.json()["data"] == {"__typename": "Query", "taken": None}
    async with sessions() as session, session.begin():
        await emit(session, outbox, TOPIC, {"n": 1})
    event = await asyncio.wait_for(handled.get(), 10)
    assert event["payload"] == {"n": 1}
    # the consumer acknowledges (and counts) just after its handler: wait for that
    for _ in range(500):
        now = scrape((await http.get(metrics_url)).text)
        if value(now, "athena_consumer_events_total", group=GROUP) > value(
            before, "athena_consumer_events_total", group=GROUP
        ):
            break
        await asyncio.sleep(0.02)

    async def fails(_services: Any, _due: Any) -> None:
        raise RuntimeError("the job's outside service is down")

    async def works(_services: Any, _due: Any) -> None:
        return None

    runner = JobRunner(
        services(),
        [
            ScheduledJob("kitmetrics.works", "0 6 * * *", works),
            ScheduledJob("kitmetrics.fails", "0 6 * * *", fails, max_attempts=1),
        ],
    )
    try:
        await runner.run_now("kitmetrics.works")
        await runner.run_now("kitmetrics.fails")
    finally:
        await runner.stop()

    response = await http.get(metrics_url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    after = scrape(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    sg = {"subgraph": SUBGRAPH}
    requests = "athena_subgraph_requests_total"
    assert grew(requests, **sg, operation="Things", outcome="success") == 1
    assert grew(requests, **sg, operation="Taken", outcome="partial") == 1
    assert grew(requests, **sg, operation="__typename,taken", outcome="partial") == 1
    assert grew("athena_subgraph_errors_total", **sg, code="CONFLICT") == 2
    assert grew("athena_subgraph_request_duration_seconds_count", **sg, operation="Things") == 1
    batch = {"subgraph": "tests", "loader": "ItemByIdLoader"}
    assert grew("athena_dataloader_batch_size_count", **batch) == 1
    assert grew("athena_dataloader_batch_size_sum", **batch) == 3
    assert grew("athena_dataloader_batch_size_bucket", **batch, le="2.0") == 0
    assert grew("athena_dataloader_batch_size_bucket", **batch, le="5.0") == 1
    assert grew("athena_outbox_published_total", subgraph="kit_test") == 1
    assert grew("athena_consumer_events_total", group=GROUP) == 1
    # read at scrape time: the relay published the one event, the consumer acknowledged it
    assert value(after, "athena_outbox_unpublished", **sg) == 0
    assert value(after, "athena_outbox_lag_seconds", **sg) == 0
    stream_labels = {**sg, "topic": TOPIC, "group": GROUP}
    assert ("athena_consumer_pending", tuple(sorted(stream_labels.items()))) in after
    assert value(after, "athena_consumer_pending", **stream_labels) == 0
    assert value(after, "athena_consumer_lag", **stream_labels) == 0
    runs = "athena_job_runs_total"
    assert grew(runs, job_name="kitmetrics.works", outcome="success") == 1
    assert grew(runs, job_name="kitmetrics.fails", outcome="failure") == 1
    assert (runs, (("job_name", "kitmetrics.works"), ("outcome", "failure"))) in after  # at 0
    assert grew("athena_job_duration_seconds_count", job_name="kitmetrics.fails") == 1

    relayed = await http.get(metrics_url, headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 404  # came through the public edge: not for it


async def test_the_outbox_gauges_count_unpublished_rows_and_the_oldest_ones_age(
    sessions: Any,
) -> None:
    """No relay runs on the sample outbox here: rows stay as written."""
    now = datetime.now(UTC)
    rows = [(now - timedelta(hours=1), None), (now, None), (now - timedelta(days=1), now)]
    async with sessions() as session, session.begin():
        await session.execute(
            insert(outbox),
            [
                {"topic": TOPIC, "payload": {}, "created_at": created, "published_at": published}
                for created, published in rows
            ],
        )
    owner: Any = SimpleNamespace(name="kit_test", sessions=sessions)

    count, age = await outbox_gauges(owner, outbox)

    assert [s.value for s in count.samples] == [2]
    assert 3600 <= age.samples[0].value < 2 * 3600
    assert age.samples[0].labels == {"subgraph": "kit_test"}


async def test_the_consumer_gauges_say_what_a_group_read_unacknowledged_and_not_yet_read(
    redis: Any,
) -> None:
    events = stream(TOPIC)
    for n in range(5):
        await redis.xadd(events, {"event": json.dumps({"n": n})})
    await redis.xgroup_create(events, GROUP, id="0")
    await redis.xgroup_create(events, "idle-group", id="$")
    await redis.xreadgroup(GROUP, "worker-1", {events: ">"}, count=2)  # read, not acked
    owner: Any = SimpleNamespace(name="kit-metrics", redis=redis)

    pending, lag = await consumer_gauges(
        owner, [(TOPIC, GROUP), (TOPIC, "idle-group"), ("kit_metrics.never_published", GROUP)]
    )

    def by_group(family: Any) -> dict[str, float]:
        return {s.labels["group"]: s.value for s in family.samples}

    assert by_group(pending) == {GROUP: 2, "idle-group": 0}
    assert by_group(lag) == {GROUP: 3, "idle-group": 0}


def test_an_operation_without_operation_name_is_labelled_by_its_name_or_root_fields() -> None:
    fetch = (
        "query($representations:[_Any!]!){_entities(representations:$representations)"
        "{...on Vendor{name}...on Charter{id}}}"
    )
    assert root_label(fetch) == "_entities:Charter+Vendor"
    assert root_label("{ charters { id } vehicles { id } }") == "charters,vehicles"
    assert root_label("{ not valid") == "invalid"
    assert root_label("query Board { charters { id } }") == "Board"
    assert root_label("query A { a } query B { b }") == "a,b"
    assert operation_label("Board", "query Board { charters { id } }") == "Board"
    assert operation_label(None, "{ charters { id } }") == "charters"
    # a malformed body is the GraphQL layer's to refuse; its label must not fail first
    assert operation_label({"not": "a name"}, "{ a }") == "invalid"
    assert operation_label(None, ["not", "a", "text"]) == "invalid"


WORKERS = """
import os
from subgraphs.kit import metrics
assert metrics.MULTIPROCESS


class Board:
    pass


for keys in (4, 6):  # two workers, forked after start-up as uvicorn's would be spawned
    pid = os.fork()
    if pid == 0:
        metrics.observe_operation("kit-workers", "Board", 0.01, "success", ())
        metrics.observe_batch(Board(), keys)
        os._exit(0)
    os.waitpid(pid, 0)
print(metrics.render().decode())
"""


def test_several_workers_are_summed_in_one_scrape(tmp_path: Any) -> None:
    """Two worker processes count into one directory; a scrape of any process sums both."""
    scraped = subprocess.run(
        [sys.executable, "-c", WORKERS],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    samples = scrape(scraped)

    op = {"subgraph": "kit-workers", "operation": "Board"}
    assert value(samples, "athena_subgraph_requests_total", **op, outcome="success") == 2
    assert value(samples, "athena_subgraph_request_duration_seconds_count", **op) == 2
    batch = {"subgraph": "__main__", "loader": "Board"}
    assert value(samples, "athena_dataloader_batch_size_sum", **batch) == 10


def test_serving_several_workers_gives_them_one_fresh_directory(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    stale = tmp_path / "vendors" / "counter_4242.db"
    stale.parent.mkdir()
    stale.write_bytes(b"an earlier run's counts")

    assert prepare_worker_metrics("vendors", 1) is None  # one process: in memory
    assert stale.exists()
    directory = prepare_worker_metrics("vendors", 2)

    assert directory == tmp_path / "vendors"
    assert list((tmp_path / "vendors").iterdir()) == []
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(directory)  # the workers inherit it
