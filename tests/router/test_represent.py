"""Representations for an entity fetch: one per entity, every object it answers kept."""

from __future__ import annotations

from typing import Any

from router.execution.merge import Targets
from router.execution.represent import representer
from router.planning.plan import EntityPart
from router.planning.selection import SubField, SubSel


def _sel(*fields: str, sub: dict[str, SubSel] | None = None) -> SubSel:
    sel = SubSel()
    for name in fields:
        alias = None
        if ":" in name:
            alias, name = name.split(":")
        sub_sel = (sub or {}).get(name)
        sel.fields[alias or name] = SubField(name, alias, (), sub_sel)
    return sel


def _run(
    parts: list[EntityPart], objects: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Targets]]:
    reps: list[dict[str, Any]] = []
    targets: list[Targets] = []
    indexes: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for part in parts:
        r = representer(part)
        r.represent(objects, indexes.setdefault(r.namespace, {}), reps, targets, part.path)
    return reps, targets


def test_one_representation_per_entity_with_every_object_it_answers() -> None:
    objs = [
        {"__typename": "Vendor", "id": "w1", "name": "kept"},
        {"__typename": "Vendor", "id": "w2"},
        {"__typename": "Vendor", "id": "w1"},
        {"__typename": "Vendor"},  # no key: not sent
        {"__typename": "Bus", "id": "w1"},  # the same id, another type
    ]
    reps, targets = _run([EntityPart(("v",), None, _sel("id"))], objs)
    assert reps == [
        {"__typename": "Vendor", "id": "w1"},
        {"__typename": "Vendor", "id": "w2"},
        {"__typename": "Bus", "id": "w1"},
    ]
    assert [t.objects for t in targets] == [[objs[0], objs[2]], [objs[1]], [objs[4]]]
    assert all(t.at == ("v",) for t in targets)


def test_aliased_key_fields_are_read_by_alias_and_sent_by_name() -> None:
    part = EntityPart((), None, _sel("_k0:id", "region"), rep_typename="Vendor")
    reps, _ = _run([part], [{"_k0": "w1", "region": "EU", "__typename": "Thing"}])
    assert reps == [{"__typename": "Vendor", "id": "w1", "region": "EU"}]


def test_parts_keyed_by_different_fields_never_share_an_entity() -> None:
    by_id = EntityPart(("a",), None, _sel("id"))
    by_upc = EntityPart(("b",), None, _sel("upc"))
    objs = [{"__typename": "P", "id": "1", "upc": "1"}]
    reps, targets = _run([by_id, by_upc], objs)
    assert reps == [{"__typename": "P", "id": "1"}, {"__typename": "P", "upc": "1"}]
    same_shape = EntityPart(("c",), None, _sel("id"))
    reps, targets = _run([by_id, same_shape], objs)
    assert reps == [{"__typename": "P", "id": "1"}], "the same key shape is one entity"
    assert [t.at for t in targets] == [("a",)]


def test_list_valued_and_nested_keys() -> None:
    flat = EntityPart((), None, _sel("ids"))
    objs = [{"__typename": "T", "ids": [1, 2]}, {"__typename": "T", "ids": [1, 2]}]
    reps, targets = _run([flat], objs)
    assert reps == [{"__typename": "T", "ids": [1, 2]}]
    assert len(targets[0].objects) == 2
    nested = EntityPart((), None, _sel("id", "owner", sub={"owner": _sel("id")}))
    objs = [
        {"__typename": "T", "id": "1", "owner": {"id": "o", "name": "x"}},
        {"__typename": "T", "id": "1", "owner": {"id": "o"}},
        {"__typename": "T", "id": "1"},  # no owner: not sent
    ]
    reps, targets = _run([nested], objs)
    assert reps == [{"__typename": "T", "id": "1", "owner": {"id": "o"}}]
    assert targets[0].objects == objs[:2]
