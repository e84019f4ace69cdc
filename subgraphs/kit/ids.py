"""IDs on the wire are UUID strings; anything else is simply not found."""

from __future__ import annotations

import uuid

from subgraphs.kit.errors import NotFoundError, ServiceError


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID a client sent, or None for anything that is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def require_uuid(value: object, what: str) -> uuid.UUID:
    """A top-level id argument: anything that is not a UUID is an unknown `what`."""
    key = parse_uuid(value)
    if key is None:
        raise NotFoundError(what, value)
    return key


def input_uuid(value: object, field: str) -> uuid.UUID:
    """An id inside a mutation's input: not a UUID is a NOT_FOUND user error on `field`.

    A payload error, where `require_uuid` is a top-level GraphQL error.
    """
    key = parse_uuid(value)
    if key is None:
        raise ServiceError.of("NOT_FOUND", f"{value!r} is not a known id.", field)
    return key
