"""Issuing, sending and voiding per-charter invoices (accounting, managers, admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import invoices
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.finance.types import Invoice
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow

_id = input_uuid


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvoiceMutations:
    @strawberry.mutation(
        extensions=[allow(*WORK_FINANCE)],
        description="Invoice a charter's accepted price as a draft, dated today (operator time); "
        "one live invoice per charter.",
    )
    async def invoice_charter(self, info: Info, charter_id: strawberry.ID) -> InvoicePayload:
        viewer = await info.context.get_viewer()
        zone = ZoneInfo(info.context.settings.operator_time_zone)
        today = datetime.now(UTC).astimezone(zone).date()
        row, errors = await transact(
            info,
            lambda s: invoices.invoice_charter(s, _id(charter_id, "charterId"), viewer, today),
        )
        return InvoicePayload(invoice=Invoice.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*WORK_FINANCE)], description="Send a draft invoice.")
    async def send_invoice(self, info: Info, id: strawberry.ID) -> InvoicePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(info, lambda s: invoices.send(s, _id(id, "id"), viewer))
        return InvoicePayload(invoice=Invoice.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*WORK_FINANCE)],
        description="Void an invoice holding no money; it keeps its number.",
    )
    async def void_invoice(self, info: Info, id: strawberry.ID, reason: str) -> InvoicePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: invoices.void(s, _id(id, "id"), reason, viewer)
        )
        return InvoicePayload(invoice=Invoice.from_row(row) if row else None, user_errors=errors)
