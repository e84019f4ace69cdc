"""The viewer of a plain HTTP route (a download, a CSV), judged like a GraphQL request.

The bearer token only (no cookie, no token in the URL), verified against
identity's keys, and refused when its session was ended (logout, disabled
account: `revocation.py`), so a download stops working when the session
does, as GraphQL does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import JSONResponse, Response

from protocol.tokens import InvalidTokenError, bearer_token
from protocol.viewer import Viewer

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services


async def viewer_of(request: Request, services: Services) -> Viewer | None:
    """The caller, or None when it is anonymous, its token invalid, or its session ended."""
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        return None
    try:
        viewer = Viewer.from_claims(await services.verifier.verify(token))
    except (InvalidTokenError, KeyError, ValueError):
        return None
    if viewer.session_id and await services.revocations.is_revoked(viewer.session_id):
        return None
    return viewer


def problem(status: int, code: str, message: str) -> Response:
    """A plain route's refusal: the GraphQL error codes, and a Bearer challenge on 401."""
    headers = {"WWW-Authenticate": 'Bearer realm="athena"'} if status == 401 else None
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)
