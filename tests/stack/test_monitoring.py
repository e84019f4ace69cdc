"""deploy/monitoring/: the alert rules pass promtool, and the dashboard shows what is exported.

promtool (Debian's `prometheus` package, brought by scripts/bootstrap.sh)
checks the rules and the scrape configuration, and runs alerts_test.yml:
each alert given input series that must raise it and series that must not.
The dashboard's and the rules' PromQL may name only metrics that a real
scrape of a subgraph (vendors: outbox, consumers, loaders) and of the router
returns, and must cover what an operator watches.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from subgraphs.kit.settings import PROJECT_ROOT
from tests.support.live_server import LiveServer
from tests.support.router import serve_router

MONITORING = PROJECT_ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING / "athena-dashboard.json"
#: series Prometheus makes itself for every target
PROMETHEUS_OWN = {"up"}
#: PromQL words that look like metric names but are not
KEYWORDS = {"and", "or", "unless", "bool", "offset", "group_left", "group_right"}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
#: what an operator must find on the dashboard (issue 19 §2)
MUST_SHOW = {
    "router_requests_total",
    "router_errors_total",
    "router_request_duration_seconds_bucket",
    "router_subscriptions_active",
    "athena_subgraph_requests_total",
    "athena_subgraph_errors_total",
    "athena_subgraph_request_duration_seconds_bucket",
    "athena_dataloader_batch_size_bucket",
    "athena_outbox_lag_seconds",
    "athena_consumer_lag",
    "athena_consumer_pending",
    "athena_job_runs_total",
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    text = GROUPING.sub(" ", text)  # by (subgraph, le) ...
    names: set[str] = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue  # a function (rate, histogram_quantile, sum ...)
        names.add(match.group())
    return names


def exported(scrape: str) -> set[str]:
    """Every series name a scrape's families stand for, sampled now or not yet."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "gauge": ("",),
    }
    names: set[str] = set()
    for family in text_string_to_metric_families(scrape):
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(s.name for s in family.samples)
    return names


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every panel target, and the variables' metric names."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found = re.match(r"label_values\((\w+)", variable["definition"])
            assert found, variable
            yield f"variable {variable['name']}", found.group(1)


def alert_queries() -> Iterator[tuple[str, str]]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield rule["alert"], rule["expr"]


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: scripts/bootstrap.sh installs Debian's prometheus package"
    return found


def run(*args: str) -> str:
    answer = subprocess.run(args, cwd=MONITORING, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    return answer.stdout


def test_the_alert_rules_and_the_scrape_config_pass_promtool(promtool: str) -> None:
    assert "SUCCESS: 10 rules found" in run(promtool, "check", "rules", "alerts.yml")
    assert "is valid prometheus config" in run(promtool, "check", "config", "prometheus.yml")


def test_each_alert_fires_on_its_input_series_and_only_then(promtool: str) -> None:
    tested = set(re.findall(r"alertname: (\w+)", (MONITORING / "alerts_test.yml").read_text()))
    assert tested == {name for name, _expr in alert_queries()}  # every alert has its test
    assert "SUCCESS" in run(promtool, "test", "rules", "alerts_test.yml")


def test_prometheus_scrapes_every_compose_service_on_its_own_port() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    serving = {
        name: int(service["expose"][0])
        for name, service in compose["services"].items()
        if str(service.get("command", [None, None, ""])[2]).startswith("subgraphs.")
    }
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    targets = jobs["subgraphs"]["static_configs"][0]["targets"]
    assert {t.split(":")[0]: int(t.split(":")[1]) for t in targets} == serving
    assert len(serving) == 9
    router = jobs["router"]["dns_sd_configs"][0]  # one target per replica
    assert (router["names"], router["port"]) == (
        ["router"],
        int(compose["services"]["router"]["expose"][0]),
    )
    assert config["rule_files"] == ["alerts.yml"]


def test_the_metric_name_parser_reads_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (subgraph, le) (rate(a_bucket{subgraph=~"$s"}'
        "[$__rate_interval]))) / on (job) group_left sum(b_total offset 5m) and up == 0"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "up"}


async def test_the_dashboard_and_the_alerts_name_only_metrics_a_real_scrape_returns(
    vendors_server: LiveServer, http_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    subgraph = (await http_client.get(f"{vendors_server.base_url}/metrics")).text
    async with serve_router("http://127.0.0.1:9/jwks", {}, tmp_path) as router:
        router_scrape = (await http_client.get(f"{router.base_url}/metrics")).text
        relayed = await http_client.get(
            f"{router.base_url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}
        )
    assert relayed.status_code == 404  # came through the public edge: not for it
    available = exported(subgraph) | exported(router_scrape) | PROMETHEUS_OWN
    assert "athena_outbox_lag_seconds" in exported(subgraph)  # read at scrape time
    assert "athena_consumer_lag" in exported(subgraph)

    dashboard = json.loads(DASHBOARD.read_text())
    shown: set[str] = set()
    for title, expr in [*dashboard_queries(dashboard), *alert_queries()]:
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr!r}"
        assert names <= available, f"{title}: {sorted(names - available)} not exported"
        shown |= names
    assert shown >= MUST_SHOW
    assert all(p.get("targets") for p in dashboard["panels"] if p["type"] != "row")
