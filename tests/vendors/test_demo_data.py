"""The vendors demo (after identity's and charters'): every status, compliance, work; runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from db.demo import charters as charters_demo
from db.demo import identity as identity_demo
from db.demo import vendors as vendors_demo
from subgraphs.vendors.models import Bid, Certification, Vendor, VendorAssignment, VendorUser


async def test_the_demo_has_vendors_in_every_status_with_work_and_loads_once(sessions):
    for module in (identity_demo, charters_demo, vendors_demo):
        async with sessions() as session, session.begin():
            await module.load(session)
    async with sessions() as session, session.begin():
        again = await vendors_demo.load(session)

    today = datetime.now(UTC).date()
    async with sessions() as session:
        statuses = set(await session.scalars(select(Vendor.status)))
        expiring = await session.scalar(
            select(func.count())
            .select_from(Certification)
            .where(
                Certification.status == "active",
                Certification.expires_on <= today + timedelta(days=30),
            )
        )
        expired = await session.scalar(
            select(func.count()).select_from(Certification).where(Certification.status == "expired")
        )
        assignments = await session.scalar(select(func.count()).select_from(VendorAssignment))
        bids = await session.scalar(select(func.count()).select_from(Bid))
        links = await session.scalar(select(func.count()).select_from(VendorUser))

    assert again == 0
    assert statuses == {"pending", "active", "suspended", "inactive", "rejected", "banned"}
    assert expiring is not None
    assert expiring >= 2
    assert expired == 1
    assert assignments is not None
    assert assignments >= 5
    assert bids is not None
    assert bids >= 3
    assert links == 1
