"""Fast JSON for every HTTP answer; Decimals go out as exact strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)
