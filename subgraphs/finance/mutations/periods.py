"""A client's consolidated invoice for a period, by hand: what the month-end run does for all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.mutations.invoices import InvoicePayload
from subgraphs.finance.service import consolidated_invoices
from subgraphs.finance.service.access import ISSUE_CONSOLIDATED_INVOICES
from subgraphs.finance.types import Invoice
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow


@strawberry.type
class InvoicePeriodMutations:
    @strawberry.mutation(
        extensions=[allow(*ISSUE_CONSOLIDATED_INVOICES)],
        description="Invoice one client's booked charters picked up in the period (operator "
        "dates, inclusive) that no live invoice holds yet, as one invoice dated today; a draft "
        "unless `send`. One live consolidated invoice per client and period.",
    )
    async def invoice_client_period(
        self,
        info: Info,
        client_id: strawberry.ID,
        period_start: date,
        period_end: date,
        send: bool = False,
    ) -> InvoicePayload:
        viewer = await info.context.get_viewer()
        zone = ZoneInfo(info.context.settings.operator_time_zone)
        today = datetime.now(UTC).astimezone(zone).date()
        row, errors = await transact(
            info,
            lambda s: consolidated_invoices.invoice_client_period(
                s,
                input_uuid(client_id, "clientId"),
                period_start,
                period_end,
                viewer,
                today,
                zone=zone,
                send=send,
            ),
        )
        return InvoicePayload(invoice=Invoice.from_row(row) if row else None, user_errors=errors)
