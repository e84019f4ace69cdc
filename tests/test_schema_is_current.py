"""CI fails when an exported subgraph SDL or the composed supergraph is stale."""

from __future__ import annotations

import pytest

from tools.schema import stale_files


@pytest.mark.slow
def test_checked_in_sdl_and_supergraph_are_current():
    assert stale_files() == [], "run `make schema` and commit schema/"
