from __future__ import annotations

from subgraphs.kit.ids import input_uuid

parse_id = input_uuid
