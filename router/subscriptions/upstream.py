"""The router as a graphql-transport-ws client of a root field's subgraph.

One socket per client subscription: the subgraph authenticates each socket
from its `connection_init` payload, so sockets of different callers cannot
be shared. The socket lives exactly as long as the generator: cancelling
the consumer closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from router.subscriptions import protocol as P
from router.subscriptions.registry import SubscriptionRegistry

log = logging.getLogger("router.subscriptions")


class UpstreamError(Exception):
    """The subgraph refused the subscription or its stream broke.

    `errors` are GraphQL errors ready for the client (with serviceName);
    `refused` tells a refusal (the subgraph sent `error` or never acked)
    from a stream that broke after it had started.
    """

    def __init__(self, errors: list[dict[str, Any]], refused: bool) -> None:
        super().__init__(errors[0]["message"] if errors else "upstream error")
        self.errors = errors
        self.refused = refused


def ws_url(http_url: str) -> str:
    if http_url.startswith("https://"):
        return "wss://" + http_url[len("https://") :]
    if http_url.startswith("http://"):
        return "ws://" + http_url[len("http://") :]
    return http_url


def _error(service: str, message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, "serviceName": service}}


class _Session:
    """One upstream socket speaking the protocol after the handshake."""

    def __init__(self, ws: ClientConnection, service: str) -> None:
        self.ws = ws
        self.service = service

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def receive(self) -> dict[str, Any]:
        """The next protocol message; pings are answered here, not by callers."""
        while True:
            raw = await self.ws.recv()
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                msg = None
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                raise UpstreamError(
                    [
                        _error(
                            self.service,
                            f"Subgraph '{self.service}' sent an invalid message.",
                            "SUBREQUEST_WEBSOCKET_ERROR",
                        )
                    ],
                    refused=False,
                )
            if msg["type"] == P.PING:
                await self.send({"type": P.PONG})
                continue
            if msg["type"] == P.PONG:
                continue
            return msg


async def upstream_events(
    url: str,
    service: str,
    init_payload: dict[str, Any] | None,
    body: dict[str, Any],
    registry: SubscriptionRegistry,
    ack_timeout: float = 10.0,
    headers: dict[str, str] | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield each `next` payload of one subscription on the subgraph at `url`.

    `headers` go on the upgrade request (the router's credential,
    `X-Forwarded-For`). Returns when the subgraph completes; raises
    `UpstreamError` when it refuses, errs or drops the socket.
    """
    started = False
    try:
        async with connect(
            ws_url(url),
            subprotocols=[Subprotocol(P.SUBPROTOCOL)],
            open_timeout=ack_timeout,
            max_size=None,
            additional_headers=headers,
        ) as ws:
            registry.upstream_sockets += 1
            try:
                s = _Session(ws, service)
                init: dict[str, Any] = {"type": P.CONNECTION_INIT}
                if init_payload:
                    init["payload"] = init_payload
                await s.send(init)
                async with asyncio.timeout(ack_timeout):
                    ack = await s.receive()
                if ack["type"] != P.CONNECTION_ACK:
                    raise UpstreamError(
                        [
                            _error(
                                service,
                                f"Subgraph '{service}' did not acknowledge the connection.",
                                "SUBREQUEST_WEBSOCKET_ERROR",
                            )
                        ],
                        refused=True,
                    )
                await s.send({"type": P.SUBSCRIBE, "id": "1", "payload": body})
                while True:
                    msg = await s.receive()
                    kind = msg["type"]
                    if kind == P.NEXT and isinstance(msg.get("payload"), dict):
                        started = True
                        yield msg["payload"]
                    elif kind == P.ERROR:
                        raise UpstreamError(_subgraph_errors(service, msg.get("payload")), True)
                    elif kind == P.COMPLETE:
                        return
            finally:
                registry.upstream_sockets -= 1
    except ConnectionClosed as exc:
        log.warning("subgraph %s closed its subscription socket: %s", service, exc)
        raise UpstreamError(
            [_error(service, _closed_message(service, exc), "SUBREQUEST_WEBSOCKET_ERROR")],
            refused=not started,
        ) from exc
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        # the detail names internal hosts: logs only, not the client
        log.warning("subgraph %s subscription unreachable (%s): %s", service, url, exc)
        raise UpstreamError(
            [
                _error(
                    service, f"Subgraph '{service}' is unavailable.", "SUBREQUEST_WEBSOCKET_ERROR"
                )
            ],
            refused=True,
        ) from exc


def _closed_message(service: str, exc: ConnectionClosed) -> str:
    rcvd = exc.rcvd
    if rcvd is not None and rcvd.code in (P.FORBIDDEN, P.UNAUTHORIZED):
        return f"Subgraph '{service}' refused the subscription: {rcvd.reason or 'forbidden'}."
    return f"Subgraph '{service}' closed the subscription."


def _subgraph_errors(service: str, payload: Any) -> list[dict[str, Any]]:
    errors = payload if isinstance(payload, list) else [payload]
    out: list[dict[str, Any]] = []
    for e in errors:
        if not isinstance(e, dict):
            e = {"message": str(e)}
        err: dict[str, Any] = {"message": e.get("message", "subgraph error")}
        if isinstance(e.get("path"), list):
            err["path"] = e["path"]
        ext = dict(e.get("extensions") or {})
        ext["serviceName"] = service
        err["extensions"] = ext
        out.append(err)
    return out
