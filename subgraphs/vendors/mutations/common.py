from __future__ import annotations

import uuid

import strawberry

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.vendors.error_codes import VendorErrorCode as Code


def parse_id(value: strawberry.ID | None, field: str) -> uuid.UUID:
    key = parse_uuid(value)
    if key is None:
        raise ServiceError.of(Code.NOT_FOUND, f"{value!r} is not a known id.", field)
    return key
