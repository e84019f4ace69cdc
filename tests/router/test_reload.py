"""The supergraph file is watched: good versions are swapped in, broken ones refused."""

from __future__ import annotations

import os
from pathlib import Path

from router.config import Config
from router.server.holder import GatewayHolder

SDL = (Path(__file__).parent / "fixtures" / "supergraph.graphql").read_text()


async def test_reload_keeps_old_supergraph_when_new_one_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(SDL)
    holder = GatewayHolder(Config(supergraph=str(path)))
    assert holder.try_load()
    gw = holder.gateway
    assert gw is not None
    first = gw.supergraph

    path.write_text("type Query {")  # broken
    os.utime(path, (1, 1))
    assert not holder.try_load()
    assert gw.supergraph is first, "the old supergraph keeps serving"

    path.write_text(SDL.replace("pricingVersion: String!", "pricingVersion: String"))
    os.utime(path, (2, 2))
    assert holder.try_load()
    assert gw.supergraph is not first
    assert holder.gateway is gw
    await holder.stop()


def test_health_is_false_without_a_supergraph(tmp_path: Path) -> None:
    holder = GatewayHolder(Config(supergraph=str(tmp_path / "missing.graphql")))
    assert not holder.try_load()
    assert holder.gateway is None
