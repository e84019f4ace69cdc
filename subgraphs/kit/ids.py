"""IDs on the wire are UUID strings; anything else is simply not found."""

from __future__ import annotations

import uuid


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID a client sent, or None for anything that is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
