"""Vendors subgraph fixtures (a pytest plugin, see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from subgraphs.kit.settings import Settings
from subgraphs.vendors.app import create_app
from subgraphs.vendors.models import CharterVehicleFacts
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter


@pytest.fixture(scope="session")
def vendors_settings(
    subgraph_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Documents in a temporary directory; the daily job stays off (tests run it
    explicitly, see tests/vendors/test_compliance_job.py)."""
    return subgraph_settings.model_copy(
        update={
            "documents_dir": tmp_path_factory.mktemp("vendor-documents"),
            "compliance_job_enabled": False,
        }
    )


@pytest.fixture(scope="session")
async def vendors_server(vendors_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_app(vendors_settings)) as server:
        yield server


@pytest.fixture
async def vendors_staff(
    vendors_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> GraphQLClient:
    """A client for the vendors subgraph, logged in as a manager."""
    return GraphQLClient(vendors_server.graphql_url, http_client, await mint("manager"))


@pytest.fixture
def vendors_as(
    vendors_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> Any:
    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id)
        return GraphQLClient(vendors_server.graphql_url, http_client, token)

    return make


#: Memphis, 150 miles around: covers FactCharter's default pickup (see vendors_facts).
DEFAULT_SERVICE_AREA = {
    "baseLatitude": 35.1495,
    "baseLongitude": -90.049,
    "serviceRadiusMiles": 150,
}
CREATE_VENDOR = """
mutation($input: VendorInput!) {
  createVendor(input: $input) { vendor { id name status } userErrors { field code message } }
}"""
SET_STATUS = """
mutation($id: ID!, $status: VendorStatus!) {
  setVendorStatus(id: $id, status: $status) { vendor { id status } userErrors { field code message } }
}"""
ADD_CERT = """
mutation($vendorId: ID!, $input: CertificationInput!) {
  addCertification(vendorId: $vendorId, input: $input) {
    certification { id type number expiresOn status daysUntilExpiration }
    userErrors { field code message }
  }
}"""


@pytest.fixture
def make_vendor(vendors_staff: GraphQLClient) -> Any:
    async def make(
        name: str | None = None,
        *,
        active: bool = True,
        certs: tuple[str, ...] = ("DOT", "MC", "INSURANCE"),
        expires_in_days: int = 365,
        **fields: Any,
    ) -> dict[str, Any]:
        data = {
            "businessName": name or f"Coaches {uuid.uuid4().hex[:6]}",
            "vendorType": "FLEET_OPERATOR",
            # Based where FactCharter picks up by default, so its charters are offered to it.
            **DEFAULT_SERVICE_AREA,
            **fields,
        }
        payload = (await vendors_staff(CREATE_VENDOR, {"input": data})).ok()["createVendor"]
        assert payload["userErrors"] == [], payload
        vendor = payload["vendor"]
        for cert in certs:
            result = (
                await vendors_staff(
                    ADD_CERT,
                    {
                        "vendorId": vendor["id"],
                        "input": {
                            "type": cert,
                            "number": f"{cert}-{uuid.uuid4().hex[:6]}",
                            "issuedOn": (date.today() - timedelta(days=30)).isoformat(),
                            "expiresOn": (
                                date.today() + timedelta(days=expires_in_days)
                            ).isoformat(),
                        },
                    },
                )
            ).ok()["addCertification"]
            assert result["userErrors"] == [], result
        if active:
            result = (
                await vendors_staff(SET_STATUS, {"id": vendor["id"], "status": "ACTIVE"})
            ).ok()
            assert result["setVendorStatus"]["userErrors"] == []
            vendor["status"] = "ACTIVE"
        return vendor  # type: ignore[no-any-return]

    return make


@pytest.fixture
def projected(sessions: Any) -> Any:
    """Wait until vendors' projection knows a charter vehicle (events are async)."""

    async def wait(charter_vehicle_id: str, within: float = 10.0) -> None:
        key = uuid.UUID(charter_vehicle_id)
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            async with sessions() as session:
                found = await session.scalar(
                    select(CharterVehicleFacts.charter_vehicle_id).where(
                        CharterVehicleFacts.charter_vehicle_id == key
                    )
                )
            if found:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"charter vehicle {charter_vehicle_id} never reached vendors")

    return wait
