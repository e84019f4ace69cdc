"""Keyset connections: bounded pages that neither overlap nor skip, bad cursors refused."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.kit.sample_subgraph import ItemRow

PAGE = """
query($first: Int, $after: String) {
  items(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NEWEST_FIRST = PAGE.replace("items(", "itemsNewestFirst(")


@pytest.fixture
async def items(sessions) -> list[ItemRow]:
    """25 rows, five to a timestamp, so the id must break ties; in keyset order."""
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    rows = [
        ItemRow(id=uuid.uuid4(), created_at=start + timedelta(minutes=i // 5), name=f"item {i}")
        for i in range(25)
    ]
    async with sessions() as session, session.begin():
        session.add_all(rows)
    return sorted(rows, key=lambda r: (r.created_at, r.id))


async def walk(gql, query: str, field: str, first: int) -> list[dict]:
    pages, after = [], None
    while True:
        page = (await gql(query, {"first": first, "after": after})).ok()[field]
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


def cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def test_walking_with_after_visits_every_row_once_in_order(gql, items):
    pages = await walk(gql, PAGE, "items", 7)

    seen = [e["node"]["id"] for p in pages for e in p["edges"]]
    assert seen == [str(r.id) for r in items]
    assert [len(p["edges"]) for p in pages] == [7, 7, 7, 4]
    assert [p["totalCount"] for p in pages] == [25, 25, 25, 25]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True, True]


async def test_walking_newest_first_visits_every_row_once_in_reverse(gql, items):
    pages = await walk(gql, NEWEST_FIRST, "itemsNewestFirst", 10)

    seen = [e["node"]["id"] for p in pages for e in p["edges"]]
    assert seen == [str(r.id) for r in reversed(items)]
    assert [len(p["edges"]) for p in pages] == [10, 10, 5]


async def test_page_info_cursors_are_the_first_and_last_edges(gql, items):
    page = (await gql(PAGE, {"first": 3})).ok()["items"]

    cursors = [e["cursor"] for e in page["edges"]]
    assert page["pageInfo"]["startCursor"] == cursors[0]
    assert page["pageInfo"]["endCursor"] == cursors[-1]


async def test_rows_inserted_before_the_cursor_do_not_shift_the_next_page(gql, items, sessions):
    first = (await gql(PAGE, {"first": 5})).ok()["items"]
    async with sessions() as session, session.begin():
        session.add(ItemRow(created_at=datetime(2020, 1, 1, tzinfo=UTC), name="older"))

    second = (await gql(PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]})).ok()["items"]

    assert [e["node"]["id"] for e in second["edges"]] == [str(r.id) for r in items[5:10]]
    assert second["totalCount"] == 26


async def test_an_empty_connection(gql):
    page = (await gql(PAGE, {"first": 5})).ok()["items"]

    assert page == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_first_defaults_to_twenty(gql, items):
    page = (await gql(PAGE)).ok()["items"]

    assert len(page["edges"]) == 20


async def test_first_of_one_hundred_is_allowed(gql, items):
    page = (await gql(PAGE, {"first": 100})).ok()["items"]

    assert len(page["edges"]) == 25


@pytest.mark.parametrize("first", [101, 1000, -1])
async def test_first_outside_zero_to_one_hundred_is_refused(gql, items, first):
    response = await gql(PAGE, {"first": first})

    assert response.data is None
    assert response.errors[0]["message"] == "`first` must be between 0 and 100."
    assert response.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "after",
    [
        "not a cursor!",
        cursor(["2026-03-01T09:00:00+00:00"]),
        cursor({"created_at": "2026-03-01"}),
        cursor(["yesterday", str(uuid.uuid4())]),
        cursor(["2026-03-01T09:00:00+00:00", "not-a-uuid"]),
        cursor([{"a": 1}, [2]]),
    ],
    ids=[
        "garbage",
        "too-short",
        "not-a-list",
        "bad-timestamp",
        "bad-uuid",
        "wrong-types",
    ],
)
async def test_a_bad_cursor_is_bad_user_input(gql, items, after):
    response = await gql(PAGE, {"first": 5, "after": after})

    assert response.status_code == 200
    assert response.data is None
    assert response.errors[0]["message"] == "The cursor `after` is not valid."
    assert response.error_codes == ["BAD_USER_INPUT"]
