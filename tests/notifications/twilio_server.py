"""A small local server speaking Twilio's Messages API, for the SMS channel's tests.

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` as Twilio does:
HTTP basic auth `sid:token`, a form body (`To`, `From`, `Body`), a 201 with
a message resource (`sid` "SM...", `status` "queued"), or Twilio's error
JSON. Every request is kept as received (headers and raw body), so tests
assert the bytes the `twilio` library really sent; `fail_with` makes the
next answers a chosen failure (400/21211 "invalid To", 500, 503, 429).
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.live_server import LiveServer, serve

ERRORS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), strict_parsing=True).items()}

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


@dataclass
class TwilioServer:
    account_sid: str
    auth_token: str
    received: list[Received] = field(default_factory=list)
    #: the status every answer fails with while set (400 is Twilio's 21211, "invalid To")
    fail_with: int | None = None
    base_url: str = ""

    def error(self, status: int) -> Response:
        code, message = ERRORS.get(status, (20001, "Error"))
        return JSONResponse(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status_code=status,
        )

    async def messages(self, request: Request) -> Response:
        body = await request.body()
        got = Received(request.url.path, dict(request.headers), body)
        self.received.append(got)
        if got.basic_auth != (self.account_sid, self.auth_token) or (
            request.path_params["sid"] != self.account_sid
        ):
            return self.error(401)
        if self.fail_with is not None:
            return self.error(self.fail_with)
        form = got.form
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        return JSONResponse(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
                },
                "to": form.get("To"),
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status_code=201,
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self.messages, methods=["POST"])
            ]
        )


@contextlib.asynccontextmanager
async def twilio_server(account_sid: str, auth_token: str) -> AsyncIterator[TwilioServer]:
    twilio = TwilioServer(account_sid, auth_token)
    server: LiveServer
    async with serve(twilio.app()) as server:
        twilio.base_url = server.base_url
        yield twilio
