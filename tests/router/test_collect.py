"""Finding an entity fetch's objects, and their response paths when an error needs one."""

from __future__ import annotations

from typing import Any

from router.execution.merge import collect, path_to

DATA: dict[str, Any] = {
    "charters": [
        {"id": "c1", "vehicles": [{"id": "v1", "__typename": "Bus"}, None]},
        None,
        {"id": "c2", "vehicles": []},
        {"id": "c3", "vehicles": [[{"id": "v2", "__typename": "Van"}], {"id": "v3"}]},
        {"id": "c4"},
    ],
    "one": {"id": "o1", "__typename": "Bus"},
}


def test_objects_in_response_order_through_lists_nulls_and_nested_lists() -> None:
    found = collect(DATA, ("charters", "@", "vehicles", "@"))
    assert [v["id"] for v in found] == ["v1", "v2", "v3"]
    assert [c["id"] for c in collect(DATA, ("charters", "@"))] == ["c1", "c2", "c3", "c4"]
    assert collect(DATA, ("one",)) == [DATA["one"]]
    assert collect(DATA, ()) == [DATA]
    assert collect(DATA, ("missing", "@")) == []


def test_a_type_condition_keeps_only_its_type() -> None:
    found = collect(DATA, ("charters", "@", "vehicles", "@", "|Van"))
    assert [v["id"] for v in found] == ["v2"]
    assert collect(DATA, ("one", "|Van")) == []


def test_paths_are_found_again_for_errors() -> None:
    at = ("charters", "@", "vehicles", "@")
    v1, v2, v3 = collect(DATA, at)
    assert path_to(DATA, at, v1) == ["charters", 0, "vehicles", 0]
    assert path_to(DATA, at, v2) == ["charters", 3, "vehicles", 0, 0]
    assert path_to(DATA, at, v3) == ["charters", 3, "vehicles", 1]
    assert path_to(DATA, ("one",), DATA["one"]) == ["one"]
    assert path_to(DATA, ("one", "|Bus"), DATA["one"]) == ["one"]
    equal_but_not_the_same = {"id": "v1", "__typename": "Bus"}
    assert path_to(DATA, at, equal_but_not_the_same) is None
