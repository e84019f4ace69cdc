"""GET /track/open/{token} (the pixel) and GET /track/click/{token} (the redirect).

Reached by mail programs, not the router, so they are outside the router
gate; the signed token is their only proof (`service/tracking.py`).

The pixel answers the same transparent GIF whatever the token: a reader
learns nothing about which tokens are valid, and a broken pixel would
show in the mail. Only a valid token is recorded. The redirect goes only
to the target signed into the token (302, never cached, no Referer
carrying the token to the target); an unknown or tampered token is 404,
an expired one 410. A failure to record never keeps the reader from the
image or the link: it is logged.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from subgraphs.kit.auth.client_address import client_address, parse_networks
from subgraphs.notifications.service.tracking import (
    Kind,
    TokenExpired,
    TokenInvalid,
    Tracked,
    read,
    record,
)

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

#: a 1x1 transparent GIF
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


def caller_ip(request: Request, services: Services) -> str:
    """As `Context.client_ip`: `X-Forwarded-For` believed only from trusted proxies."""
    client = request.client
    return client_address(
        client.host if client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(services.settings.trusted_proxies),
    )


async def _record(request: Request, tracked: Tracked, now: datetime) -> None:
    services: Services = request.app.state.services
    try:
        async with services.sessions() as session, session.begin():
            await record(
                session,
                tracked.message_id,
                tracked.kind,
                tracked.url,
                caller_ip(request, services),
                request.headers.get("user-agent"),
                now,
            )
    except Exception:  # the reader gets the image or the link whatever broke here
        log.exception("could not record a %s of message %s", tracked.kind, tracked.message_id)


def _read(request: Request, kind: Kind, now: datetime) -> Tracked:
    services: Services = request.app.state.services
    return read(
        services.settings.notifications_tracking_secret, request.path_params["token"], kind, now
    )


async def track_open(request: Request) -> Response:
    now = datetime.now(UTC)
    try:
        tracked = _read(request, "open", now)
    except TokenInvalid:
        pass
    else:
        await _record(request, tracked, now)
    return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)


async def track_click(request: Request) -> Response:
    now = datetime.now(UTC)
    try:
        tracked = _read(request, "click", now)
    except TokenExpired:
        return PlainTextResponse("This link has expired.", status_code=410, headers=NO_CACHE)
    except TokenInvalid:
        return PlainTextResponse("This link is not valid.", status_code=404, headers=NO_CACHE)
    await _record(request, tracked, now)
    return RedirectResponse(
        tracked.url, status_code=302, headers={**NO_CACHE, "Referrer-Policy": "no-referrer"}
    )


routes = [
    Route("/track/open/{token}", track_open, methods=["GET"]),
    Route("/track/click/{token}", track_click, methods=["GET"]),
]
