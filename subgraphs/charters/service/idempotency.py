"""createCharter with an idempotency key: a repeat answers the first charter.

Another subgraph creates quotes through charters' own API (sales' lead
conversion, DESIGN.md: a write that spans subgraphs goes through the
owner's API with an idempotency key). Its call can fail after charters
committed, so it retries with the same key, and charters must answer the
charter it already made instead of a second one.

The key row is inserted first, in the charter's own transaction, naming the
charter id chosen up front (its foreign key is deferred to commit). A
concurrent call with the same key blocks on the key's primary key until the
first commits, then finds the first's row and answers its charter; if the
first rolls back (a user error), the waiting insert goes through and this
call creates the charter itself. A key is bound to its actor and to the
request's hash: the same key with other input, or by someone else, is a
CONFLICT on `idempotencyKey` and creates nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, IdempotencyKey
from subgraphs.charters.service import charters as charter_service
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

FIELD = "idempotencyKey"
MAX_KEY = 200
#: NewCharter fields that are configuration, not the caller's request (`coordinates`
#: are the geocoder's answer, which may differ between a call and its retry).
_NOT_REQUEST = frozenset({"id", "horizon_days", "coordinates"})


def request_hash(data: charter_service.NewCharter) -> str:
    """sha256 of the request in one canonical form (sorted keys, ISO times, ids as text)."""
    values: dict[str, Any] = {
        f.name: getattr(data, f.name)
        for f in dataclasses.fields(data)
        if f.name not in _NOT_REQUEST
    }
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=_text)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _text(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat() if callable(isoformat) else value)


def check_key(key: str) -> str:
    if not key.strip():
        raise ServiceError.of(Code.REQUIRED, "An idempotency key cannot be empty.", FIELD)
    if len(key) > MAX_KEY:
        raise ServiceError.of(Code.TOO_LONG, f"Longer than {MAX_KEY} characters.", FIELD)
    return key


async def create_once(
    session: AsyncSession, data: charter_service.NewCharter, actor: Viewer, key: str
) -> Charter:
    """The charter for `key`: created now, or the one an earlier call with it created."""
    check_key(key)
    digest = request_hash(data)
    charter_id = uuid.uuid4()
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(key=key, actor_id=actor.user_id, request_hash=digest, charter_id=charter_id)
        .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return await charter_service.create(
            session, dataclasses.replace(data, id=charter_id), actor
        )
    # Read committed: this statement sees the row the conflicting call committed.
    held = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key))
    if held is None:  # the conflicting row was committed to get here; kept for the type
        raise ServiceError.of(Code.CONFLICT, "The key is in use; try again.", FIELD)
    if held.actor_id != actor.user_id:
        raise ServiceError.of(Code.CONFLICT, "This key was used by someone else.", FIELD)
    if held.request_hash != digest:
        raise ServiceError.of(
            Code.CONFLICT, "This key was used for a different charter request.", FIELD
        )
    return await charter_service.get(session, held.charter_id)
