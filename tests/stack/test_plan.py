from __future__ import annotations

from pathlib import Path

from stack.plan import module_exists, plan_services
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
