"""Cancel with its workflow, from dispatch (see service/cancellation.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.charters.mutations.common import charter_call
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.mutations.payloads import CharterPayload
from subgraphs.charters.service import cancellation
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.type
class CancellationMutations:
    @strawberry.mutation(
        extensions=[allow(*cancellation.DISPATCH_CANCELLERS)],
        description=(
            "Cancel a booked or confirmed charter from dispatch: records the reason and the "
            "fee (0 up to what the charter costs), releases its vehicles and drivers, skips "
            "its open readiness tasks, and tells vendors, who cancel their assignments and "
            "e-mail each vendor. Audited; announced on `dispatchBoard`."
        ),
    )
    async def cancel_charter_from_dispatch(
        self, info: Info, charter_id: strawberry.ID, reason: str, fee: Money
    ) -> CharterPayload:
        return await charter_call(
            info,
            lambda s, viewer: cancellation.cancel_from_dispatch(
                s, parse_id(charter_id, "charterId"), reason=reason, fee=fee, actor=viewer
            ),
        )
