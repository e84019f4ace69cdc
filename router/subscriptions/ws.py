"""graphql-transport-ws for clients: the router as the server side.

One connection carries many operations, each a registry task keyed by the
client's id. The connection's Authorization (from the `connection_init`
payload, else the upgrade request's header) goes upstream with every
operation. Protocol violations close the socket with the protocol's codes;
when the socket goes, every operation on it is cancelled, which closes its
upstream socket.

A connection opened with a token lives only as long as that token: when it
expires or its session is revoked (`router/guard/sessions.py`), each running
operation gets an `error` (code `UNAUTHENTICATED`) and the socket closes
with 4401, which graphql-ws clients treat as fatal (no silent reconnect
with the dead token): the client signs in again and reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketState

from protocol.viewer import Viewer
from router.gateway import Admission, GraphQLRequest
from router.guard.sessions import SessionEnded, SessionLimit, ended_error
from router.observability.metrics import SubscriptionWatch
from router.server.forwarded import HEADER as FORWARDED_FOR
from router.server.forwarded import forwarded_for
from router.server.holder import GatewayHolder
from router.server.payload import Payload
from router.server.pipeline import Pipeline, Refused
from router.subscriptions import protocol as P
from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.run import Message, run_operation

log = logging.getLogger("router.subscriptions")

#: decides whether a connection's Authorization may open the connection: False
#: refuses it; a `SessionLimit` (a verified token) also bounds how long it lives
Authorize = Callable[[str | None], Awaitable[bool | SessionLimit]]

_CLOSE_REASONS = {
    "expired": "Unauthorized: token expired",
    "revoked": "Unauthorized: session revoked",
}


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _authorization(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("Authorization", "authorization"):
        value = payload.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise _Close(P.FORBIDDEN, "Forbidden")
            return value
    return None


class Connection:
    def __init__(
        self,
        ws: WebSocket,
        holder: GatewayHolder,
        registry: SubscriptionRegistry,
        init_timeout: float,
        authorize: Authorize | None,
    ) -> None:
        self.ws = ws
        self.holder = holder
        self.registry = registry
        self.init_timeout = init_timeout
        self.authorize = authorize
        self.init_received = False
        self.acked = False
        self.authorization: str | None = ws.headers.get("authorization")
        self.forwarded_for = forwarded_for(
            ws.headers.getlist(FORWARDED_FOR), ws.client.host if ws.client else None
        )
        self.ops: dict[str, asyncio.Task[None]] = {}
        #: running operations whose last word (`error` or `complete`) is already sent: an
        #: operation that saw the session end in its own check must not get a second error
        self._answered: set[str] = set()
        self._send_lock = asyncio.Lock()
        #: set once a token was verified at connection_init
        self.limit: SessionLimit | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._ending: asyncio.Task[None] | None = None
        #: the caller, verified once at connection_init (anonymous without a token)
        self.viewer: Viewer | None = None

    def _pipeline(self) -> Pipeline | None:
        """The app's edge pipeline (absent only in apps built without `create_app`)."""
        state = getattr(self.ws.app, "state", None)
        return getattr(state, "pipeline", None)

    async def serve(self) -> None:
        if P.SUBPROTOCOL not in self.ws.scope.get("subprotocols", []):
            await self.ws.accept()
            await self.ws.close(P.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await self.ws.accept(subprotocol=P.SUBPROTOCOL)
        deadline = asyncio.get_running_loop().time() + self.init_timeout
        try:
            while True:
                try:
                    if self.init_received:
                        raw = await self.ws.receive()
                    else:
                        left = deadline - asyncio.get_running_loop().time()
                        async with asyncio.timeout(max(left, 0)):
                            raw = await self.ws.receive()
                except TimeoutError:
                    raise _Close(P.INIT_TIMEOUT, "Connection initialisation timeout") from None
                if raw["type"] == "websocket.disconnect":
                    return
                await self._handle(raw.get("text") or raw.get("bytes") or b"")
        except _Close as c:
            if (
                self.ws.client_state == WebSocketState.CONNECTED
                and self.ws.application_state == WebSocketState.CONNECTED
            ):
                await self.ws.close(c.code, c.reason)
        finally:
            for task in self.ops.values():
                task.cancel()
            if self._watcher is not None:
                self._watcher.cancel()

    async def send(self, message: dict[str, Any]) -> None:
        """Send unless the client is gone; the receive loop notices that itself."""
        async with self._send_lock:
            if (
                self.ws.client_state != WebSocketState.CONNECTED
                or self.ws.application_state != WebSocketState.CONNECTED
            ):
                return
            try:
                await self.ws.send_text(orjson.dumps(message).decode())
            except Exception:  # the socket closed under us
                log.debug("client went away while sending", exc_info=True)

    async def _handle(self, raw: str | bytes) -> None:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise _Close(P.BAD_REQUEST, "Invalid message received")
        kind = msg["type"]
        if kind == P.CONNECTION_INIT:
            await self._init(msg.get("payload"))
        elif kind == P.PING:
            pong: dict[str, Any] = {"type": P.PONG}
            if "payload" in msg:
                pong["payload"] = msg["payload"]
            await self.send(pong)
        elif kind == P.PONG:
            return
        elif kind == P.SUBSCRIBE:
            self._subscribe(msg)
        elif kind == P.COMPLETE:
            op_id = msg.get("id")
            task = self.ops.pop(op_id, None) if isinstance(op_id, str) else None
            if task is not None:
                task.cancel()
        else:
            raise _Close(P.BAD_REQUEST, f"Unexpected message type {kind!r}")

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            raise _Close(P.TOO_MANY_INIT, "Too many initialisation requests")
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            raise _Close(P.BAD_REQUEST, "Invalid connection_init payload")
        auth = _authorization(payload)
        if auth is not None:
            self.authorization = auth
        if self.authorize is not None:
            verdict = await self.authorize(self.authorization)
            if verdict is False:
                raise _Close(P.FORBIDDEN, "Forbidden")
            if isinstance(verdict, SessionLimit):
                self.limit = verdict
                self._watcher = asyncio.create_task(self._watch(verdict))
        pipeline = self._pipeline()
        if pipeline is not None and self.authorization is not None:
            verified = await pipeline.edge.authenticate({"authorization": self.authorization})
            self.viewer = verified.viewer
        self.acked = True
        await self.send({"type": P.CONNECTION_ACK})

    async def _watch(self, limit: SessionLimit) -> None:
        """End the connection when its token expires or its session is revoked."""
        await self._end_session(await limit.wait())

    def _end_soon(self, reason: str) -> None:
        """From inside an operation's task: end the connection without waiting on it."""
        if self._ending is None:
            self._ending = asyncio.create_task(self._end_session(reason))

    async def _end_session(self, reason: str) -> None:
        """Error every running operation (UNAUTHENTICATED), then close with 4401."""
        if self._ending is not None and self._ending is not asyncio.current_task():
            return
        self._ending = asyncio.current_task()
        ops = list(self.ops.items())
        self.ops.clear()
        for _, task in ops:
            task.cancel()
        await asyncio.gather(*(t for _, t in ops), return_exceptions=True)
        for op_id, _ in ops:
            if op_id not in self._answered:
                await self.send({"id": op_id, "type": P.ERROR, "payload": [ended_error(reason)]})
        async with self._send_lock:
            if (
                self.ws.client_state == WebSocketState.CONNECTED
                and self.ws.application_state == WebSocketState.CONNECTED
            ):
                await self.ws.close(P.UNAUTHORIZED, _CLOSE_REASONS[reason])

    def _subscribe(self, msg: dict[str, Any]) -> None:
        if not self.acked or self._ending is not None:
            raise _Close(P.UNAUTHORIZED, "Unauthorized")
        op_id, payload = msg.get("id"), msg.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            raise _Close(P.BAD_REQUEST, "Invalid subscribe message")
        query, variables = payload.get("query"), payload.get("variables")
        name = payload.get("operationName")
        if (
            # no query text: a persisted query's hash in `extensions` (the pipeline resolves it)
            (query is not None and not isinstance(query, str))
            or (variables is not None and not isinstance(variables, dict))
            or (name is not None and not isinstance(name, str))
        ):
            raise _Close(P.BAD_REQUEST, "Invalid subscribe payload")
        if op_id in self.ops:
            raise _Close(P.SUBSCRIBER_EXISTS, f"Subscriber for {op_id} already exists")
        extensions = payload.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise _Close(P.BAD_REQUEST, "Invalid subscribe payload")
        # a trusted document by id instead of query text (the pipeline resolves it)
        document_id = payload.get("documentId") or payload.get("doc_id")
        if document_id is not None and not isinstance(document_id, str):
            raise _Close(P.BAD_REQUEST, "Invalid subscribe payload")
        headers = {"authorization": self.authorization} if self.authorization else {}
        request = GraphQLRequest(
            query,
            variables,
            name or None,
            extensions,
            headers,
            viewer=self.viewer,
            forwarded_for=self.forwarded_for,
        )
        self._answered.discard(op_id)
        task = self.registry.start(self._run(op_id, request, document_id))
        self.ops[op_id] = task

    async def _run(
        self, op_id: str, request: GraphQLRequest, document_id: str | None = None
    ) -> None:
        async def emit(m: Message) -> None:
            if m.kind == "complete":
                await self.send({"id": op_id, "type": P.COMPLETE})
            else:
                await self.send({"id": op_id, "type": m.kind, "payload": m.payload})
            if m.kind != "next":
                self._answered.add(op_id)

        admission: Admission | None = None
        pipeline = self._pipeline()
        started = time.perf_counter()
        last: dict[str, Any] = {}
        errored = False
        #: a subscription's life in the metrics (queries and mutations over WS are requests)
        watch: SubscriptionWatch | None = None
        try:
            gw = self.holder.gateway
            if gw is None:
                await emit(
                    Message(
                        "error",
                        [
                            {
                                "message": "No supergraph is loaded.",
                                "extensions": {"code": "UNAVAILABLE"},
                            }
                        ],
                    )
                )
                return
            if pipeline is not None:
                # the one edge pipeline: persisted queries, limits, authorization, metrics
                payload = Payload(
                    request.query,
                    request.variables,
                    request.operation_name,
                    request.extensions,
                    document_id,
                )
                admitted = await pipeline.admit(payload, request, "WS")
                if isinstance(admitted, Refused):
                    pipeline.observe(admitted.operation_name, started, admitted.body, True)
                    await emit(Message("error", admitted.errors))
                    return
                gw, admission = admitted.gateway, admitted.admission
                if admission.kind == "subscription":
                    watch = pipeline.metrics.watch_subscription(admitted.label, "ws")

                async def observed(m: Message) -> None:
                    nonlocal last, errored
                    if m.kind == "next":
                        last = m.payload
                    elif m.kind == "error":
                        last, errored = {"errors": m.payload}, True
                    await emit(m)
                    if watch is not None:
                        if m.kind == "next":
                            watch.event(m.payload)
                        elif m.kind == "error":
                            watch.error()
                        else:
                            watch.complete()

                send = observed
            else:
                send = emit
            try:
                await run_operation(
                    gw, request, self.authorization, self.registry, send, self.limit, admission
                )
            except SessionEnded as ended:
                # run_operation sent this operation's error; the others end with the socket
                self._end_soon(ended.reason)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("subscription %s failed", op_id)
                if watch is not None:
                    watch.error()
                await emit(
                    Message(
                        "error",
                        [{"message": "Internal router error.", "extensions": {"code": "INTERNAL"}}],
                    )
                )
        finally:
            if self.ops.get(op_id) is asyncio.current_task():
                del self.ops[op_id]
                self._answered.discard(op_id)
            if admission is not None and pipeline is not None:
                pipeline.observe(request.operation_name, started, last, errored)
            if watch is not None:
                if self._ending is not None:  # the token expired or its session was revoked
                    watch.error()
                watch.end()
