"""A page of charters loads its stops, vehicles and vehicle types once for the page.

The board query's children resolve from what the page loaded (no coroutine
per charter or vehicle), with the same statements and the same answer as
the per-parent dataloaders; a charter outside a page still loads through them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from db.engine import record_statements
from subgraphs.charters import loaders as L
from subgraphs.charters import queries
from subgraphs.charters.preload import Wanted
from subgraphs.charters.types import Charter, CharterVehicle
from tests.charters.test_n_plus_one import _seed

BOARD = """query { charters(first: 50) { edges { node {
  reference stops { address } vehicles { capacity cost vehicleType { name } } } } } }"""

FRAGMENTED = """query($skipStops: Boolean!) { charters(first: 50) { ...Page } }
fragment Page on CharterConnection { edges { node { reference ... on Charter {
  stops @skip(if: $skipStops) { address } vehicles { capacity } } } } }"""

ONE = """query($id: ID!) { charter(id: $id) {
  stops { address } vehicles { vehicleType { name } } } }"""


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the per-parent loads (one coroutine each) and the loaders' `load_now`."""
    counted: Counter[str] = Counter()

    def counting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return original(*args, **kwargs)

        return wrapper

    for owner, name in (
        (Charter, "_load_stops"),
        (Charter, "_load_vehicles"),
        (CharterVehicle, "_load_vehicle_type"),
    ):
        monkeypatch.setattr(owner, name, counting(name, getattr(owner, name)))
    for loader in (L.StopsByCharterIdLoader, L.VehiclesByCharterIdLoader, L.VehicleTypeByIdLoader):
        name = f"{loader.__name__}.load_now"
        monkeypatch.setattr(loader, "load_now", counting(name, loader.load_now))
    return counted


async def _run(client: Any, query: str, variables: dict[str, Any] | None = None) -> Any:
    (await client(query, variables)).ok()  # the first request also fetches the signing keys
    with record_statements() as recorder:
        data = (await client(query, variables)).ok()
    return len(recorder.statements), data


async def test_the_board_loads_each_kind_of_child_once_for_the_page(
    staff: Any, sessions: Any, calls: Counter[str]
) -> None:
    await _seed(sessions, 12)
    calls.clear()

    statements, data = await _run(staff, BOARD)

    edges = data["charters"]["edges"]
    assert len(edges) == 12
    assert sum(len(e["node"]["vehicles"]) for e in edges) > 12
    assert all(v["vehicleType"]["name"] for e in edges for v in e["node"]["vehicles"])
    # The page, then one statement each for stops, vehicles and vehicle types (no count:
    # `totalCount` is not selected).
    assert statements == 4
    # Two requests (the warm-up and the counted one): one batch per loader each, and
    # no per-charter or per-vehicle load.
    assert calls == Counter(
        {
            "StopsByCharterIdLoader.load_now": 2,
            "VehiclesByCharterIdLoader.load_now": 2,
            "VehicleTypeByIdLoader.load_now": 2,
        }
    )


async def test_the_preloaded_board_answers_as_the_per_parent_loaders_do(
    staff: Any, sessions: Any, calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(sessions, 7)
    preloaded = await _run(staff, BOARD)
    assert calls["_load_stops"] == 0

    monkeypatch.setattr(queries, "wanted_by_page", lambda raw_info: Wanted())
    per_parent = await _run(staff, BOARD)

    assert calls["_load_stops"] == calls["_load_vehicles"] == 2 * 7
    assert preloaded == per_parent


async def test_fragments_and_skip_decide_what_the_page_loads(
    staff: Any, sessions: Any, calls: Counter[str]
) -> None:
    await _seed(sessions, 4)
    calls.clear()

    with_stops, data = await _run(staff, FRAGMENTED, {"skipStops": False})
    assert all(e["node"]["stops"] for e in data["charters"]["edges"])
    without_stops, skipped = await _run(staff, FRAGMENTED, {"skipStops": True})
    assert all("stops" not in e["node"] for e in skipped["charters"]["edges"])

    assert (with_stops, without_stops) == (3, 2)  # page, (stops), vehicles
    assert calls["StopsByCharterIdLoader.load_now"] == 2
    assert calls["VehiclesByCharterIdLoader.load_now"] == 4
    assert calls["VehicleTypeByIdLoader.load_now"] == 0  # vehicleType not selected
    assert calls["_load_stops"] == calls["_load_vehicles"] == 0


MIXED = """query { charters(first: 50) { edges { node {
  vehicles { capacity } totalCapacity stops { address } } } } }"""


async def test_what_a_page_preloaded_answers_its_other_fields_without_a_statement(
    staff: Any, sessions: Any
) -> None:
    # `totalCapacity` loads the vehicles per charter through the same dataloader: the
    # page's preload cached them, so it costs no statement.
    await _seed(sessions, 5)
    statements, data = await _run(staff, MIXED)

    assert statements == 3  # page, stops, vehicles
    for edge in data["charters"]["edges"]:
        node = edge["node"]
        assert node["totalCapacity"] == sum(v["capacity"] for v in node["vehicles"])


COUNTED = """query($count: Boolean!) { charters(first: 2) {
  edges { node { reference } } ...Counted } }
fragment Counted on CharterConnection { n: totalCount @include(if: $count) }"""


async def test_a_page_counts_its_rows_only_when_totalcount_is_selected(
    staff: Any, sessions: Any
) -> None:
    await _seed(sessions, 3)
    counted, data = await _run(staff, COUNTED, {"count": True})
    uncounted, bare = await _run(staff, COUNTED, {"count": False})

    assert data["charters"]["n"] >= 3  # through a fragment, under an alias
    assert "n" not in bare["charters"]
    assert bare["charters"]["edges"] == data["charters"]["edges"]
    assert (counted, uncounted) == (2, 1)  # the count's statement, then the page


async def test_a_charter_outside_a_page_loads_through_its_dataloaders(
    staff: Any, sessions: Any, calls: Counter[str]
) -> None:
    await _seed(sessions, 1)
    page = (await staff("{ charters(first: 1) { edges { node { id } } } }")).ok()
    charter_id = page["charters"]["edges"][0]["node"]["id"]
    calls.clear()

    data = (await staff(ONE, {"id": charter_id})).ok()["charter"]

    assert data["stops"]
    assert data["vehicles"]
    assert calls["_load_stops"] == calls["_load_vehicles"] == 1
    assert calls["_load_vehicle_type"] == len(data["vehicles"])
