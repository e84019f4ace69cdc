"""convertLead: a lead becomes a client and a charter quote in one call, once per key."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from protocol.tokens import bearer_token
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.sales.enums import TripType
from subgraphs.sales.mutations.clients import parse_id
from subgraphs.sales.service import conversion
from subgraphs.sales.service.access import EDIT_LEADS
from subgraphs.sales.service.charters_port import charter_quotes
from subgraphs.sales.types import Charter, Client, Lead, gid, lead_or_none


@strawberry.input(
    description="How to convert a lead. The trip defaults to the lead's: its trip date at "
    "09:00, its passengers, its origin and destination as the pickup and drop-off stops."
)
class ConvertLeadInput:
    idempotency_key: str = strawberry.field(
        description="Up to 200 characters, chosen by the caller for this conversion: repeat "
        "the call with it (after a timeout, or CHARTERS_UNAVAILABLE) and it finishes the "
        "same conversion, never a second client or quote. The same key with other input, "
        "for another lead or by another user is CONFLICT."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The client to quote. Default: the lead's client, else a client whose "
        "contact has the lead's e-mail or phone, else a new client made from the lead.",
    )
    trip_type: TripType = TripType.ONE_WAY
    pickup_local: str | None = strawberry.field(
        default=None,
        description="Local wall time, e.g. 2026-05-01T07:30, in the future. Default: the "
        "lead's trip date at 09:00.",
    )
    pickup_time_zone: str | None = strawberry.field(
        default=None, description="IANA zone. Default: the operator's time zone."
    )
    passenger_count: int | None = strawberry.field(
        default=None, description="Default: the lead's passengers."
    )
    origin: str | None = strawberry.field(
        default=None, description="The pickup address. Default: the lead's origin."
    )
    destination: str | None = strawberry.field(
        default=None, description="The drop-off address. Default: the lead's destination."
    )
    notes: str | None = strawberry.field(default=None, description="Notes on the quote.")


@strawberry.type(
    description="The converted lead, its client and its charter quote. On "
    "CHARTERS_UNAVAILABLE the lead is not converted yet (a client may already have been "
    "found or made): repeat the call with the same idempotencyKey. On ALREADY_CONVERTED "
    "the lead shows what it was converted into."
)
class ConvertLeadPayload:
    lead: Lead | None = None
    client: Client | None = None
    charter: Charter | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(data: ConvertLeadInput) -> conversion.ConversionInput:
    return conversion.ConversionInput(
        idempotency_key=data.idempotency_key,
        client_id=parse_id(data.client_id, "clientId") if data.client_id is not None else None,
        trip_type=data.trip_type.name,
        pickup_local=data.pickup_local,
        pickup_time_zone=data.pickup_time_zone,
        passenger_count=data.passenger_count,
        origin=data.origin,
        destination=data.destination,
        notes=data.notes,
    )


@strawberry.type
class ConversionMutations:
    @strawberry.mutation(
        extensions=[allow(*EDIT_LEADS)],
        description="Convert an open lead: find or create its client, create the charter "
        "quote through charters, mark the lead CONVERTED. Agents convert their own leads.",
    )
    async def convert_lead(
        self, info: Info, id: strawberry.ID, input: ConvertLeadInput
    ) -> ConvertLeadPayload:
        viewer = await info.context.get_viewer()
        try:
            done = await conversion.convert(
                info.context.sessions,
                parse_id(id, "id"),
                _given(input),
                viewer,
                charter_quotes(info.context.services),
                bearer_token(info.context.request.headers.get("authorization")) or "",
                operator_time_zone=info.context.settings.operator_time_zone,
            )
        except conversion.AlreadyConverted as exc:
            lead = await lead_or_none(info, exc.lead_id)
            return ConvertLeadPayload(lead=lead, user_errors=user_errors(exc))
        except ServiceError as exc:
            return ConvertLeadPayload(user_errors=user_errors(exc))
        return ConvertLeadPayload(
            lead=Lead.from_row(done.lead),
            client=Client.from_row(done.client),
            charter=Charter(id=gid(done.charter_id)),
        )
