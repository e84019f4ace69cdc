"""Custom instalments for a charter's plan (SET_PAYMENT_PLAN: finance staff)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service import custom_plans
from subgraphs.finance.service.access import SET_PAYMENT_PLAN
from subgraphs.finance.types.plans import InstalmentKind, PaymentPlan
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.input(description="One instalment of the unpaid part.")
class InstalmentInput:
    amount: Money
    due_on: date
    kind: InstalmentKind = InstalmentKind.INSTALMENT


@strawberry.type
class PaymentPlanPayload:
    payment_plan: PaymentPlan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


@strawberry.type
class PlanMutations:
    @strawberry.mutation(
        extensions=[allow(*SET_PAYMENT_PLAN)],
        description="Replace the unpaid part of a charter's plan with these instalments; what is "
        "paid stays covered, and the whole sums to the accepted price. Audited (reason: custom).",
    )
    async def set_payment_plan(
        self, info: Info, charter_id: strawberry.ID, instalments: list[InstalmentInput]
    ) -> PaymentPlanPayload:
        viewer = await info.context.get_viewer()
        today = _today(info)
        given = [custom_plans.NewInstalment(i.amount, i.due_on, i.kind.value) for i in instalments]

        async def work(session):  # type: ignore[no-untyped-def]
            key = input_uuid(charter_id, "charterId")
            await custom_plans.set_plan(session, key, given, viewer, today)
            return key

        key, errors = await transact(info, work)
        if key is None:
            return PaymentPlanPayload(user_errors=errors)
        balance = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        plan = await info.context.loaders.get(L.PlanByCharterLoader).load(key)
        rows = await info.context.loaders.get(L.InstalmentsByCharterLoader).load(key)
        return PaymentPlanPayload(
            payment_plan=PaymentPlan.from_rows(plan, rows, balance.paid if balance else Decimal(0))
            if plan
            else None
        )
