"""Applies `service/visibility.py` to every field of the governed types.

One schema extension, so that no resolver spells a role check out: before a
field of `Charter`, `CharterVehicle`, `Stop` or `CharterSeries` resolves, it
asks the object for the reader's audience (`reader_audience`) and the
table whether that audience may read the field. A field it may not read
resolves to null with a `FORBIDDEN` error at its path; the rest of the
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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from strawberry.extensions import SchemaExtension

from protocol.roles import Role
from subgraphs.charters import loaders as L
from subgraphs.charters.service.visibility import (
    FIELDS,
    Audience,
    CharterFacts,
    audience_of,
    may_read,
    series_audience_of,
)
from subgraphs.kit.errors import ForbiddenError


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


def _known_audience(root: Any, info: Any) -> Audience | None:
    """The reader's audience when no fact needs loading.

    One given with the object (a quote link), or staff, who read every governed
    object (as `charter_audience` says).
    """
    given = getattr(root, "_audience", None)
    if given is not None:
        return given  # type: ignore[no-any-return]
    viewer = info.context.known_viewer
    if viewer is not None and viewer.is_staff:
        return Audience.STAFF
    return None


def _refusal(type_name: str, field_name: str) -> ForbiddenError:
    return ForbiddenError(f"You may not read `{field_name}` of this {type_name}.")


class FieldPolicy(SchemaExtension):
    """Refuses, field by field, what `visibility.FIELDS` does not let the reader read."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        type_name = info.parent_type.name
        if type_name not in FIELDS or root is None or info.field_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        audience = _known_audience(root, info)
        if audience is None:
            return self._checked(type_name, _next, root, info, args, kwargs)
        # Known without awaiting (staff, a quote link): a plain field stays a plain call,
        # so graphql-core creates no coroutine or task for it.
        if not may_read(type_name, info.field_name, audience):
            raise _refusal(type_name, info.field_name)
        return _next(root, info, *args, **kwargs)

    async def _checked(
        self,
        type_name: str,
        _next: Callable[..., Any],
        root: Governed,
        info: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        audience = await root.reader_audience(info)
        if not may_read(type_name, info.field_name, audience):
            raise _refusal(type_name, info.field_name)
        result: Any = _next(root, info, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


__all__ = [
    "FieldPolicy",
    "charter_audience",
    "charter_audience_by_id",
    "series_audience",
]
