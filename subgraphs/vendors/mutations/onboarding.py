"""Onboarding submissions (from the webhook): managers approve or reject them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.service import onboarding
from subgraphs.vendors.service.access import MANAGE
from subgraphs.vendors.types import OnboardingSubmission, Vendor


@strawberry.type
class OnboardingPayload:
    submission: OnboardingSubmission | None = None
    vendor: Vendor | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OnboardingMutations:
    @strawberry.mutation(
        extensions=[allow(*MANAGE)],
        description="Create a PENDING vendor from a received submission.",
    )
    async def approve_onboarding_submission(
        self, info: Info, id: strawberry.ID
    ) -> OnboardingPayload:
        viewer = await info.context.get_viewer()
        result, errors = await transact(
            info, lambda s: onboarding.approve(s, parse_id(id, "id"), viewer)
        )
        if result is None:
            return OnboardingPayload(user_errors=errors)
        submission, vendor = result
        return OnboardingPayload(
            submission=OnboardingSubmission.from_row(submission), vendor=Vendor.from_row(vendor)
        )

    @strawberry.mutation(extensions=[allow(*MANAGE)], description="Turn a submission down.")
    async def reject_onboarding_submission(
        self, info: Info, id: strawberry.ID
    ) -> OnboardingPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: onboarding.reject(s, parse_id(id, "id"), viewer)
        )
        return OnboardingPayload(
            submission=OnboardingSubmission.from_row(row) if row else None, user_errors=errors
        )
