"""Pending approvals (issue 16 §4, the admin dashboard): what waits for a manager."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from subgraphs.vendors.models import Certification, OnboardingSubmission, Vendor
from subgraphs.vendors.service.approvals import PendingApprovals, pending_approvals


async def counted(sessions: Any) -> PendingApprovals:
    async with sessions() as session:
        return await pending_approvals(session)


async def add_waiting_and_decided(sessions: Any) -> None:
    """Per kind, two waiting and one decided."""
    waiting = [Vendor(id=uuid.uuid4(), business_name="W", vendor_type="broker") for _ in range(2)]
    decided = Vendor(id=uuid.uuid4(), business_name="D", vendor_type="broker", status="active")
    async with sessions() as session, session.begin():
        session.add_all([*waiting, decided])
        await session.flush()
        for status in ("pending_verification", "pending_verification", "active"):
            session.add(
                Certification(
                    id=uuid.uuid4(),
                    vendor_id=decided.id,
                    cert_type="insurance",
                    number="COI-1",
                    issued_on=date(2026, 1, 1),
                    expires_on=date(2027, 1, 1),
                    status=status,
                )
            )
        for status in ("received", "received", "approved"):
            session.add(
                OnboardingSubmission(
                    id=uuid.uuid4(),
                    submission_id=uuid.uuid4().hex,
                    payload={"businessName": "Onboarding Coaches"},
                    status=status,
                )
            )


async def test_pending_approvals_count_only_what_waits_for_a_decision(sessions):
    before = await counted(sessions)

    await add_waiting_and_decided(sessions)

    after = await counted(sessions)
    assert after == PendingApprovals(
        vendors=before.vendors + 2,
        certifications=before.certifications + 2,
        onboarding_submissions=before.onboarding_submissions + 2,
    )


async def test_pending_approvals_through_graphql_for_an_admin(sessions, vendors_as):
    await add_waiting_and_decided(sessions)
    expected = await counted(sessions)
    admin = await vendors_as("admin")

    answer = (
        await admin("{ pendingApprovals { vendors certifications onboardingSubmissions } }")
    ).ok()["pendingApprovals"]

    assert answer == {
        "vendors": expected.vendors,
        "certifications": expected.certifications,
        "onboardingSubmissions": expected.onboarding_submissions,
    }
