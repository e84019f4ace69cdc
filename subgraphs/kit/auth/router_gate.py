"""ASGI middleware: a subgraph's GraphQL endpoint answers only the router.

Applies to the GraphQL path only. The other routes carry their own proof
(the onboarding webhook its HMAC, document downloads the caller's bearer
token, the JWKS is public, `/health` is for the orchestrator).

A request without a well-formed, fresh credential is refused (401) before
its body is read. Otherwise the body is read as it arrives: hashed for the
signature (`router_credential.verify_digest`), counted against
`max_body_bytes` (413 as soon as it is passed, the rest left unread, the
app never called) and spooled, in memory up to `SPOOL_IN_MEMORY_BYTES` and
on disk beyond, so an upload is never held whole in memory. A verified body
is then replayed to the app in chunks.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

import orjson

from protocol import router_credential

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest body the GraphQL path reads by default: a 10 MB upload
#: (vendors' `document_max_bytes`) plus 2 MB for the multipart framing and
#: the operation, and far above any JSON fetch the router sends.
MAX_BODY_BYTES = 12 * 1024 * 1024
#: A spooled body moves from memory to a temporary file past this size.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
#: Size of the chunks a spooled body is replayed in.
REPLAY_CHUNK_BYTES = 64 * 1024


def _refusal(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


REFUSAL = _refusal("This subgraph answers only the router.", "UNAUTHENTICATED")
TOO_LARGE = _refusal("Request body too large.", "PAYLOAD_TOO_LARGE")


class RouterOnly:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secrets: Sequence[str],
        path: str = "/graphql",
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.secrets = tuple(secrets)
        self.path = path
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        header = _header(scope, router_credential.HEADER)
        # The query string is signed with the body: a GET carries its operation there.
        query = scope.get("query_string", b"")
        if scope["type"] == "websocket":
            if router_credential.verify(self.secrets, header, query):
                await self.app(scope, receive, send)
            else:  # closing before accept answers the upgrade with HTTP 403
                await send({"type": "websocket.close", "code": 4403})
            return
        if not router_credential.fresh(header):
            await _answer(send, 401, REFUSAL)
            return
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _answer(send, 413, TOO_LARGE)
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spool:
            digest = await _spool(receive, spool, self.max_body_bytes)
            if digest is None:
                await _answer(send, 413, TOO_LARGE)
                return
            digest.update(query)
            if not router_credential.verify_digest(self.secrets, header, digest.hexdigest()):
                await _answer(send, 401, REFUSAL)
                return
            size = spool.tell()
            spool.seek(0)
            await self.app(scope, _replay(spool, size, receive), send)


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers") or ():
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


async def _spool(receive: Receive, spool: IO[bytes], limit: int) -> hashlib._Hash | None:
    """Read the body into `spool`, hashing it; None as soon as it passes `limit`.

    Writes go to memory or the page cache of a temporary file: quick enough
    to stay on the event loop.
    """
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        digest.update(chunk)
        spool.write(chunk)
        if not message.get("more_body"):
            break
    return digest


def _replay(spool: IO[bytes], size: int, receive: Receive) -> Receive:
    """A `receive` that hands the app the spooled body, then the real messages."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(REPLAY_CHUNK_BYTES)
        more = spool.tell() < size
        if not more:
            done = True
        return {"type": "http.request", "body": chunk, "more_body": more}

    return replay
