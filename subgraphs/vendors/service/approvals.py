"""What waits for a manager's decision (issue 16 §4, the admin dashboard).

- vendors: `pending` (created or resubmitted, not yet approved or rejected);
- certifications: `pending_verification` (recorded by a vendor or junior
  staff; only a manager's verification makes them count for compliance);
- onboarding submissions: `received` from the webhook, not approved or
  rejected.

Change cases waiting for approval are charters' figure. One statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import InstrumentedAttribute

from subgraphs.vendors.models import Certification, OnboardingSubmission, Vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PendingApprovals:
    vendors: int
    certifications: int
    onboarding_submissions: int


def _count(status_column: InstrumentedAttribute[str], status: str) -> ScalarSelect[int]:
    return select(func.count()).where(status_column == status).scalar_subquery()


async def pending_approvals(session: AsyncSession) -> PendingApprovals:
    row = (
        await session.execute(
            select(
                _count(Vendor.status, "pending").label("vendors"),
                _count(Certification.status, "pending_verification").label("certifications"),
                _count(OnboardingSubmission.status, "received").label("submissions"),
            )
        )
    ).one()
    return PendingApprovals(
        vendors=row.vendors,
        certifications=row.certifications,
        onboarding_submissions=row.submissions,
    )
