"""Reports' GraphQL types; the ones other subgraphs' entities extend are listed for the schema."""

from __future__ import annotations

from typing import Any

#: Types the schema must know although no root field returns them (federation stubs).
FEDERATED_TYPES: list[Any] = []
