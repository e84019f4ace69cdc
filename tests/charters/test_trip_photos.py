"""Trip photos through the real router: the GraphQL multipart path, checks, scoped download.

A charters app of its own stores photos in a temporary directory; the real
router, over it and identity, carries the driver's multipart request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from subgraphs.charters.app import create_app
from subgraphs.charters.models import AuditEntry, TripPhoto
from subgraphs.kit.settings import Settings
from tests.charters.driver_app_ops import TRIP, driver_trips
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter

UPLOAD = """
mutation($tripId: ID!, $kind: TripPhotoKind!, $file: Upload!) {
  uploadTripPhoto(tripId: $tripId, kind: $kind, file: $file) {
    photo { id kind contentType sizeBytes filename downloadPath uploadedBy { id } }
    trip { id photos { id } }
    userErrors { field code message }
  }
}"""
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 200 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(scope="module")
def photos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("charters-documents")


@pytest.fixture(scope="module")
async def photo_server(subgraph_settings: Settings, photos_dir: Path) -> AsyncIterator[LiveServer]:
    settings = subgraph_settings.model_copy(
        update={"documents_dir": photos_dir, "trip_photo_max_bytes": 4096}
    )
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
async def router_url(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    photo_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    urls = {"charters": photo_server.graphql_url, "identity": identity_server.graphql_url}
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


async def upload(
    http: httpx.AsyncClient,
    url: str,
    token: str | None,
    trip_id: str,
    content: bytes,
    content_type: str,
    *,
    kind: str = "EXTERIOR",
    filename: str = "bus.jpg",
    status: int = 200,
) -> dict[str, Any]:
    """A real GraphQL multipart request (operations, map, file part), as upload clients send."""
    operations = {"query": UPLOAD, "variables": {"tripId": trip_id, "kind": kind, "file": None}}
    headers = {"apollo-require-preflight": "true"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post(
        url,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, content_type)},
        headers=headers,
    )
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


async def stored(sessions: Any, photos_dir: Path) -> tuple[int, int]:
    """(photo rows, stored files)."""
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(TripPhoto))
    files = await asyncio.to_thread(lambda: [p for p in photos_dir.rglob("*") if p.is_file()])
    return int(rows or 0), len(files)


async def get(http: httpx.AsyncClient, url: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)


async def test_a_driver_uploads_photos_and_staff_and_the_driver_download_them(
    staff, bookable_charter, as_role, router_url, http_client, photo_server, mint, sessions
):
    (trip,), (other,) = (
        await driver_trips(staff, bookable_charter, as_role),
        await driver_trips(staff, bookable_charter, as_role),
    )

    body = await upload(
        http_client, router_url, trip.driver.token, trip.trip_id, JPEG, "image/jpeg"
    )
    heic = await upload(
        http_client,
        router_url,
        trip.driver.token,
        trip.trip_id,
        HEIC,
        "image/heic",
        kind="DAMAGE",
        filename="dent.heic",
    )

    assert "errors" not in body, body
    payload = body["data"]["uploadTripPhoto"]
    assert payload["userErrors"] == []
    photo = payload["photo"]
    assert photo["kind"] == "EXTERIOR"
    assert (photo["contentType"], photo["sizeBytes"], photo["filename"]) == (
        "image/jpeg",
        len(JPEG),
        "bus.jpg",
    )
    assert photo["uploadedBy"] == {"id": str(trip.user_id)}
    assert heic["data"]["uploadTripPhoto"]["photo"]["contentType"] == "image/heic"
    listed = (await staff(TRIP, {"id": trip.trip_id})).ok()["trip"]["photos"]
    assert [(p["kind"], p["contentType"]) for p in listed] == [
        ("EXTERIOR", "image/jpeg"),
        ("DAMAGE", "image/heic"),
    ]
    mine = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]["photos"]
    assert [p["id"] for p in mine] == [p["id"] for p in listed]

    url = photo_server.base_url + photo["downloadPath"]
    for token in (staff.token, trip.driver.token, await mint("dispatcher")):
        response = await get(http_client, url, token)
        assert response.status_code == 200
        assert response.content == JPEG
        assert response.headers["content-type"] == "image/jpeg"
    for token in (other.driver.token, await mint("vendor"), await mint("client")):
        assert (await get(http_client, url, token)).status_code == 404
    assert (await get(http_client, url, None)).status_code == 401
    async with sessions() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity == "trip_photo", AuditEntry.action == "trip:photo"
                )
            )
        )
    uploaded = {photo["id"], heic["data"]["uploadTripPhoto"]["photo"]["id"]}
    assert uploaded <= {str(i) for i in audited}


async def test_refused_photos_store_nothing(
    staff, bookable_charter, as_role, router_url, http_client, sessions, photos_dir
):
    (trip,), (other,) = (
        await driver_trips(staff, bookable_charter, as_role),
        await driver_trips(staff, bookable_charter, as_role),
    )
    before = await stored(sessions, photos_dir)
    token = trip.driver.token

    cases = [
        (token, trip.trip_id, EXE, "application/octet-stream", "UNSUPPORTED_FILE_TYPE", "file"),
        (token, trip.trip_id, PNG, "image/jpeg", "UNSUPPORTED_FILE_TYPE", "file"),
        (token, trip.trip_id, b"", "image/jpeg", "REQUIRED", "file"),
        (token, trip.trip_id, JPEG + b"\x00" * 4096, "image/jpeg", "FILE_TOO_LARGE", "file"),
        (other.driver.token, trip.trip_id, JPEG, "image/jpeg", "NOT_FOUND", "tripId"),
    ]
    for who, trip_id, content, declared, code, field in cases:
        body = await upload(http_client, router_url, who, trip_id, content, declared)
        errors = body["data"]["uploadTripPhoto"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (code, body)

    assert await stored(sessions, photos_dir) == before
    assert (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]["photos"] == []


async def test_only_drivers_upload_through_the_router(
    staff, bookable_charter, as_role, router_url, http_client, mint, sessions, photos_dir
):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    before = await stored(sessions, photos_dir)

    anonymous = await upload(
        http_client, router_url, None, trip.trip_id, JPEG, "image/jpeg", status=401
    )
    dispatcher = await upload(
        http_client,
        router_url,
        await mint("dispatcher"),
        trip.trip_id,
        JPEG,
        "image/jpeg",
        status=403,
    )

    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    # The router refuses by the mutation's @requiresScopes before reading the file.
    assert [e["extensions"]["code"] for e in dispatcher["errors"]] == ["UNAUTHORIZED_FIELD_OR_TYPE"]
    assert await stored(sessions, photos_dir) == before


async def test_a_staff_client_sees_the_photo_listed(
    staff: GraphQLClient,
    bookable_charter: Any,
    as_role: Any,
    router_url: str,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
) -> None:
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    body = await upload(http_client, router_url, trip.driver.token, trip.trip_id, PNG, "image/png")
    assert body["data"]["uploadTripPhoto"]["trip"]["photos"] == [
        {"id": body["data"]["uploadTripPhoto"]["photo"]["id"]}
    ]
    through_router = GraphQLClient(router_url, http_client, await mint("manager"))
    listed = (await through_router(TRIP, {"id": trip.trip_id})).ok()["trip"]["photos"]
    assert [p["contentType"] for p in listed] == ["image/png"]
