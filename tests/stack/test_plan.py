from __future__ import annotations

from pathlib import Path

import pytest

from stack.plan import module_exists, plan_services, replica_ports
from subgraphs.kit.settings import Settings

from .fakes import make_fake_root


def test_nothing_written_yet_plans_nothing(tmp_path: Path) -> None:
    plan = plan_services(make_fake_root(tmp_path, ()), Settings())
    assert plan.services == ()


def test_identity_alone_gets_a_proxy_on_the_router_port(tmp_path: Path) -> None:
    settings = Settings(identity_port=5101, router_port=5000)
    plan = plan_services(make_fake_root(tmp_path, ("identity",)), settings)
    assert [(s.name, s.port) for s in plan.services] == [("identity", 5101), ("router", 5000)]
    assert plan.router_is_proxy
    proxy = plan.services[1]
    assert proxy.argv[1:] == ("-m", "stack.proxy", "--port", "5000", "--target-port", "5101")
    assert plan.services[0].argv[1:] == ("-m", "subgraphs.identity")


def test_real_router_when_it_and_the_supergraph_exist(tmp_path: Path) -> None:
    root = make_fake_root(tmp_path, ("identity", "sales"))
    (root / "router").mkdir()
    (root / "router" / "__main__.py").touch()
    (root / "schema").mkdir()
    (root / "schema" / "supergraph.graphql").touch()
    plan = plan_services(root, Settings())
    assert [s.name for s in plan.services] == ["identity", "sales", "router"]
    assert not plan.router_is_proxy
    assert plan.services[-1].argv[1:] == (
        "-m", "router", "--supergraph", "schema/supergraph.graphql", "--port", "4000",
    )  # fmt: skip


def test_package_without_main_is_skipped_with_a_reason(tmp_path: Path) -> None:
    root = make_fake_root(tmp_path, ("identity",))
    (root / "subgraphs" / "sales").mkdir()
    plan = plan_services(root, Settings())
    assert "sales" not in [s.name for s in plan.services]
    assert any("subgraphs/sales" in reason for reason in plan.skipped)


def test_module_exists(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").touch()
    (tmp_path / "mod.py").touch()
    assert module_exists(tmp_path, "pkg")
    assert module_exists(tmp_path, "mod")
    assert not module_exists(tmp_path, "missing")


def _real_router_root(tmp_path: Path) -> Path:
    root = make_fake_root(tmp_path, ("identity", "sales"))
    (root / "router").mkdir()
    (root / "router" / "__main__.py").touch()
    (root / "schema").mkdir()
    (root / "schema" / "supergraph.graphql").touch()
    return root


def test_two_replicas_plan_two_routers_behind_haproxy_and_two_workers_per_subgraph(
    tmp_path: Path,
) -> None:
    settings = Settings(router_port=5000, data_dir=tmp_path / "data")
    plan = plan_services(
        _real_router_root(tmp_path), settings, replicas=2, haproxy="/usr/sbin/haproxy"
    )
    by_name = {s.name: s for s in plan.services}
    config = tmp_path.joinpath("data", "haproxy.cfg").resolve()

    assert list(by_name) == ["identity", "sales", "router-1", "router-2", "router"]
    assert plan.balanced
    assert plan.replicas == 2
    assert by_name["identity"].env == {"SUBGRAPH_WORKERS": "2"}
    assert by_name["sales"].env == {"SUBGRAPH_WORKERS": "2"}
    assert [(by_name[r].port, by_name[r].argv[-1]) for r in ("router-1", "router-2")] == [
        (5011, "5011"),
        (5012, "5012"),
    ]
    assert by_name["router-1"].env["ROUTER_SUBGRAPH_URLS"].startswith("identity=http://")
    assert by_name["router"].port == 5000
    assert by_name["router"].argv == ("/usr/sbin/haproxy", "-db", "-f", str(config))
    ((path, text),) = plan.files
    assert path == config
    assert "bind 127.0.0.1:5000" in text
    assert "balance roundrobin" in text
    assert "option httpchk GET /health" in text
    assert "timeout tunnel" in text
    assert "server router-1 127.0.0.1:5011 check" in text
    assert "server router-2 127.0.0.1:5012 check" in text


def test_router_replica_ports_may_be_chosen(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    plan = plan_services(
        _real_router_root(tmp_path),
        settings,
        replicas=2,
        router_ports=replica_ports(settings, 2, "6001, 6002"),
    )
    assert [s.port for s in plan.services if s.name.startswith("router-")] == [6001, 6002]
    with pytest.raises(ValueError, match="names 1 ports for 2 routers"):
        replica_ports(settings, 2, "6001")


def test_one_replica_plans_as_before(tmp_path: Path) -> None:
    plan = plan_services(_real_router_root(tmp_path), Settings(), replicas=1)
    assert [s.name for s in plan.services] == ["identity", "sales", "router"]
    assert not plan.balanced
    assert plan.files == ()
    assert all(s.env.get("SUBGRAPH_WORKERS") is None for s in plan.services)
