import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from router.observability.metrics import RouterMetrics, outcome_of


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_the_endpoint_renders_requests_errors_and_latencies():
    metrics = RouterMetrics()
    metrics.observe_request("Me", 0.02, {"data": {"me": None}})
    metrics.observe_request(
        "Me",
        0.3,
        {"data": {"me": None}, "errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]},
    )
    metrics.observe_request(None, 0.001, {"errors": [{"message": "bad"}]}, request_error=True)
    metrics.observe_subgraph_fetch("identity", 0.01)
    metrics.observe_subgraph_fetch("identity", 5.0, "timeout")
    app = Starlette(routes=[metrics.route()])

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as client:
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    s = samples(response.text)
    assert s[("router_requests_total", (("operation", "Me"), ("outcome", "success")))] == 1
    assert s[("router_requests_total", (("operation", "Me"), ("outcome", "partial")))] == 1
    assert s[("router_requests_total", (("operation", "anonymous"), ("outcome", "error")))] == 1
    assert s[("router_errors_total", (("code", "FORBIDDEN"),))] == 1
    assert s[("router_errors_total", (("code", "UNKNOWN"),))] == 1
    assert s[("router_request_duration_seconds_count", (("operation", "Me"),))] == 2
    assert s[("router_request_duration_seconds_sum", (("operation", "Me"),))] == 0.32
    assert (
        s[("router_request_duration_seconds_bucket", (("le", "0.025"), ("operation", "Me")))] == 1
    )
    assert s[("router_subgraph_fetch_duration_seconds_count", (("subgraph", "identity"),))] == 2
    assert s[("router_subgraph_errors_total", (("kind", "timeout"), ("subgraph", "identity")))] == 1


def test_operation_names_are_capped():
    metrics = RouterMetrics(max_operation_names=3)
    for i in range(10):
        metrics.observe_request(f"Op{i}", 0.01, {"data": {}})
    metrics.observe_request("Op1", 0.01, {"data": {}})
    metrics.observe_request("x" * 500, 0.01, {"data": {}})

    s = samples(metrics.render().decode())
    ops = {dict(k[1])["operation"] for k in s if k[0] == "router_requests_total"}
    assert ops == {"Op0", "Op1", "Op2", "other"}
    assert s[("router_requests_total", (("operation", "other"), ("outcome", "success")))] == 8
    assert s[("router_requests_total", (("operation", "Op1"), ("outcome", "success")))] == 2


def test_outcomes():
    assert outcome_of({"data": {"a": 1}}) == "success"
    assert outcome_of({"data": {"a": None}, "errors": [{}]}) == "partial"
    assert outcome_of({"data": None, "errors": [{}]}) == "error"
    assert outcome_of({"errors": [{}]}, request_error=True) == "error"
