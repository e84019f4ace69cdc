"""Interfaces across subgraphs and an @interfaceObject."""

from __future__ import annotations

from typing import Any

from tests.router.subgraphs import Recorder


async def test_interface_fields_and_concrete_fragments(run: Any) -> None:
    body = await run(
        """
        { documents { __typename id title ... on InsuranceDoc { insurer } ... on DotDoc { dotNumber } } }
        """
    )
    assert body == {
        "data": {
            "documents": [
                {
                    "__typename": "InsuranceDoc",
                    "id": "d1",
                    "title": "COI 2026",
                    "insurer": "Lloyds",
                },
                {"__typename": "DotDoc", "id": "d2", "title": "DOT permit", "dotNumber": "123"},
            ]
        }
    }


async def test_interface_object_field_is_fetched_with_the_interface_name(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    body = await run("{ documents { title archived } }")
    assert body == {
        "data": {
            "documents": [
                {"title": "COI 2026", "archived": False},
                {"title": "DOT permit", "archived": True},
            ]
        }
    }
    (call,) = recorders["pricing"].entity_calls()
    assert call["variables"]["representations"] == [
        {"__typename": "Document", "id": "d1"},
        {"__typename": "Document", "id": "d2"},
    ]


async def test_fragment_on_one_implementation_only(run: Any) -> None:
    body = await run("{ documents { ... on DotDoc { archived dotNumber } } }")
    assert body == {"data": {"documents": [{}, {"archived": True, "dotNumber": "123"}]}}


async def test_named_fragments_on_interface(run: Any) -> None:
    body = await run(
        """
        query { documents { ...Doc } }
        fragment Doc on Document { id ... on InsuranceDoc { insurer } }
        """
    )
    assert body == {"data": {"documents": [{"id": "d1", "insurer": "Lloyds"}, {"id": "d2"}]}}


async def test_union_member_completed_by_another_subgraph(
    run: Any, recorders: dict[str, Recorder]
) -> None:
    body = await run(
        """
        {
          search {
            __typename
            ... on Vendor { name }
            ... on CharterVehicle { id capacity vendor { name } }
          }
        }
        """
    )
    assert body == {
        "data": {
            "search": [
                {"__typename": "Vendor", "name": "Alpha Coaches"},
                {
                    "__typename": "CharterVehicle",
                    "id": "v3",
                    "capacity": 56,
                    "vendor": {"name": "Beta Bus"},
                },
            ]
        }
    }
    (call,) = recorders["charters"].entity_calls()
    assert call["variables"]["representations"] == [{"__typename": "CharterVehicle", "id": "v3"}]
