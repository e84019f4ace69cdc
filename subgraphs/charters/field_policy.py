"""Applies `service/visibility.py` to every field of the governed types.

Applied once to the schema (`apply_field_policy`), so that no resolver spells
a role check out: before a field of `Charter`, `CharterVehicle`, `Stop` or
`CharterSeries` resolves, it asks the object for the reader's audience
(`reader_audience`) and the table whether that audience may read the field.
Only those types' fields are wrapped: the rest of the schema pays nothing.
A field it may not read resolves to null with a `FORBIDDEN` error at its path; the rest of the
answer stays (such fields are nullable in the schema, or sit under a
nullable parent).

The audience of a charter is computed from the verified viewer and facts
loaded through dataloaders (the viewer's driver or vendor, the charter's
vehicles' drivers, vendors' access projection), so it costs no statement
per row: staff and clients cost none at all.
"""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from protocol.roles import Role
from subgraphs.charters import loaders as L
from subgraphs.charters.service.visibility import (
    FIELDS,
    Audience,
    CharterFacts,
    audience_of,
    readers_of,
    series_audience_of,
)
from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.execution import GUARD, READS
from subgraphs.kit.schema import wrap_fields

if TYPE_CHECKING:
    from subgraphs.kit.schema import FieldResolver, SubgraphSchema


class Governed(Protocol):
    async def reader_audience(self, info: Any) -> Audience | None: ...


async def charter_audience(info: Any, row: Any) -> Audience | None:
    """The reader's audience for a charter row (see `visibility.audience_of`)."""
    context = info.context
    viewer = await context.get_viewer()
    if viewer.is_staff:
        return Audience.STAFF
    if viewer.user_id is None:
        return None
    loaders = context.loaders
    vendor_id = driver_id = None
    vendor_reasons: dict[uuid.UUID, list[str]] = {}
    driver_ids: list[uuid.UUID] = []
    if viewer.has_any_role(Role.VENDOR):
        vendor_id = await loaders.get(L.VendorIdByUserIdLoader).load(viewer.user_id)
        if vendor_id is not None:
            vendor_reasons = await loaders.get(L.VendorAccessByCharterIdLoader).load(row.id)
    if viewer.has_any_role(Role.DRIVER):
        driver_id = await loaders.get(L.DriverIdByUserIdLoader).load(viewer.user_id)
        if driver_id is not None:
            vehicles = await loaders.get(L.VehiclesByCharterIdLoader).load(row.id)
            driver_ids = [v.driver_id for v in vehicles if v.driver_id is not None]
    facts = CharterFacts(
        client_id=row.client_id,
        status=row.status,
        pickup_at=row.pickup_at,
        driver_ids=driver_ids,
        vendor_reasons=vendor_reasons,
    )
    return audience_of(
        viewer, facts, vendor_id=vendor_id, driver_id=driver_id, now=datetime.now(UTC)
    )


async def charter_audience_by_id(info: Any, charter_id: uuid.UUID) -> Audience | None:
    row = await info.context.loaders.get(L.CharterByIdLoader).load(charter_id)
    return await charter_audience(info, row) if row is not None else None


async def series_audience(info: Any, row: Any) -> Audience | None:
    return series_audience_of(await info.context.get_viewer(), row.client_id)


def _known_audience(root: Any, context: Any) -> Audience | None:
    """The reader's audience when no fact needs loading.

    One given with the object (a quote link), or staff, who read every governed
    object (as `charter_audience` says).
    """
    given = getattr(root, "_audience", None)
    if given is not None:
        return given  # type: ignore[no-any-return]
    viewer = context.known_viewer
    if viewer is not None and viewer.is_staff:
        return Audience.STAFF
    return None


def _refusal(type_name: str, field_name: str) -> ForbiddenError:
    return ForbiddenError(f"You may not read `{field_name}` of this {type_name}.")


def _policed(type_name: str, field_name: str, resolve: FieldResolver) -> FieldResolver:
    """`resolve`, first asking whether the reader may read this field (`visibility.FIELDS`)."""
    allowed = readers_of(type_name, field_name)

    async def checked(root: Governed, info: Any, kwargs: dict[str, Any]) -> Any:
        audience = await root.reader_audience(info)
        if audience is None or audience not in allowed:
            raise _refusal(type_name, field_name)
        result: Any = resolve(root, info, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def policed(root: Any, info: Any, **kwargs: Any) -> Any:
        if root is None:
            return resolve(root, info, **kwargs)
        audience = _known_audience(root, info.context)
        if audience is None:
            return checked(root, info, kwargs)
        # Known without awaiting (staff, a quote link): a plain field stays a plain call,
        # so graphql-core creates no coroutine or task for it.
        if audience not in allowed:
            raise _refusal(type_name, field_name)
        return resolve(root, info, **kwargs)

    reads = getattr(resolve, READS, None)
    if reads is not None:
        # The kit's executor may then read the field without a resolve info (kit/execution.py).

        staff_reads = Audience.STAFF in allowed

        def guard(root: Any, context: Any) -> bool:
            # `_known_audience`, unrolled: this runs for every governed field of every row.
            given = getattr(root, "_audience", None)
            if given is None:
                viewer = context.known_viewer
                if root is None or viewer is None or not viewer.is_staff:
                    return False  # `policed` works it out, awaiting the facts
                if staff_reads:
                    return True
            elif given in allowed:
                return True
            raise _refusal(type_name, field_name)

        setattr(policed, READS, reads)
        setattr(policed, GUARD, guard)
    return policed


def apply_field_policy(schema: SubgraphSchema) -> None:
    """Refuses, field by field, what `visibility.FIELDS` does not let the reader read.

    Only the governed types' fields are wrapped (once, here): the other
    types' fields pay nothing for the policy.
    """
    wrap_fields(schema, FIELDS, _policed)


__all__ = [
    "apply_field_policy",
    "charter_audience",
    "charter_audience_by_id",
    "series_audience",
]
