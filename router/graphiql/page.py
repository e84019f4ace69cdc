"""The GraphiQL page and its assets, served by the router with no CDN.

The assets come from npm (`npm ci --prefix router/graphiql`, pinned by the
committed package-lock.json) and are never committed. Only a fixed list of
files is served, by name, so the static route cannot be used to read
anything else under node_modules. URLs carry a content hash (`?v=`), which
makes year-long immutable caching safe across upgrades.

The page runs operations with JSON POSTs to the GraphQL endpoint (which
CSRF prevention lets through; they carry `graphql-preflight` as well, so a
stricter CSRF rule lets them through too) and subscriptions over
graphql-transport-ws on the same path.

Staff sign in on the page itself (`static/signin.js`): e-mail, password and,
once identity asks for it, the MFA code go to the graph's own `login`
mutation; the access token is put into GraphiQL's headers and renewed with
`refreshToken` shortly before `accessTokenExpiresAt`. The refresh token is
kept in sessionStorage (this tab only, gone when the tab closes), never in
localStorage or a cookie, and the access token only in memory.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = [
    "ASSETS",
    "STATIC_PREFIX",
    "AssetsMissingError",
    "graphiql_html",
    "graphiql_response",
    "graphiql_routes",
    "wants_graphiql",
]

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STATIC_PREFIX = "/graphiql/static"
INSTALL_HINT = "npm ci --prefix router/graphiql"


@dataclass(frozen=True, slots=True)
class Asset:
    path: Path
    media_type: str


ASSETS: Mapping[str, Asset] = {
    "react.production.min.js": Asset(
        NODE_MODULES / "react/umd/react.production.min.js", "text/javascript; charset=utf-8"
    ),
    "react-dom.production.min.js": Asset(
        NODE_MODULES / "react-dom/umd/react-dom.production.min.js",
        "text/javascript; charset=utf-8",
    ),
    "graphiql.min.js": Asset(
        NODE_MODULES / "graphiql/graphiql.min.js", "text/javascript; charset=utf-8"
    ),
    "graphiql.min.css": Asset(
        NODE_MODULES / "graphiql/graphiql.min.css", "text/css; charset=utf-8"
    ),
    "signin.css": Asset(HERE / "static/signin.css", "text/css; charset=utf-8"),
    "signin.js": Asset(HERE / "static/signin.js", "text/javascript; charset=utf-8"),
    "init.js": Asset(HERE / "static/init.js", "text/javascript; charset=utf-8"),
}

#: no inline script, no third-party origin; GraphiQL itself needs inline styles
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"


class AssetsMissingError(RuntimeError):
    """The npm assets are not installed; the message says how to install them."""


def missing_assets() -> list[str]:
    return [name for name, a in ASSETS.items() if not a.path.is_file()]


@cache
def _asset(name: str) -> tuple[bytes, str]:
    """Contents and short content hash; read once per process (a few MB in all)."""
    data = ASSETS[name].path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def _url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_asset(name)[1]}"


def graphiql_html(endpoint: str = "/graphql", title: str = "Athena GraphiQL") -> str:
    """The page; raises `AssetsMissingError` when the npm assets are absent."""
    missing = missing_assets()
    if missing:
        raise AssetsMissingError(
            f"GraphiQL assets are not installed ({', '.join(missing)}); run `{INSTALL_HINT}`."
        )
    t = html.escape(title)
    e = html.escape(endpoint, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}</title>
<link rel="stylesheet" href="{_url("graphiql.min.css")}">
<link rel="stylesheet" href="{_url("signin.css")}">
</head>
<body>
<div class="athena-page">
<header class="athena-auth" id="athena-auth" data-state="signed-out">
<span class="athena-brand">{t}</span>
<form class="athena-signin" id="athena-signin" autocomplete="on">
<label>E-mail <input id="athena-email" name="email" type="email" autocomplete="username" required></label>
<label>Password <input id="athena-password" name="password" type="password" autocomplete="current-password" required></label>
<label id="athena-otp-field" hidden>Code <input id="athena-otp" name="otp" autocomplete="one-time-code" inputmode="numeric" size="10" placeholder="123456"></label>
<button type="submit" id="athena-signin-button">Sign in</button>
</form>
<div class="athena-session" id="athena-session" hidden>
<span>Signed in as <strong id="athena-user"></strong> <span id="athena-roles"></span></span>
<span class="athena-expiry" id="athena-expiry"></span>
<button type="button" id="athena-signout">Sign out</button>
</div>
<p class="athena-message" id="athena-message" role="alert" aria-live="polite"></p>
</header>
<div id="graphiql" data-endpoint="{e}">Loading GraphiQL…</div>
</div>
<script src="{_url("react.production.min.js")}"></script>
<script src="{_url("react-dom.production.min.js")}"></script>
<script src="{_url("graphiql.min.js")}"></script>
<script src="{_url("signin.js")}"></script>
<script src="{_url("init.js")}"></script>
</body>
</html>
"""


def wants_graphiql(
    method: str, headers: Mapping[str, str], query_params: Mapping[str, str]
) -> bool:
    """A browser navigating to the endpoint: GET, HTML accepted, no operation in the URL."""
    if method.upper() != "GET" or "query" in query_params:
        return False
    return "text/html" in headers.get("accept", "")


def graphiql_response(endpoint: str = "/graphql") -> Response:
    """The page, or a 503 naming the install command when assets are missing."""
    try:
        page = graphiql_html(endpoint)
    except AssetsMissingError as exc:
        return PlainTextResponse(str(exc), status_code=503)
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    asset = ASSETS.get(name)
    if asset is None:
        return PlainTextResponse("Not found", status_code=404)
    if not asset.path.is_file():
        return PlainTextResponse(
            f"GraphiQL asset {name} is not installed; run `{INSTALL_HINT}`.", status_code=503
        )
    data, digest = _asset(name)
    etag = f'"{digest}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=asset.media_type, headers=headers)


def graphiql_routes(endpoint: str = "/graphql", page_path: str | None = None) -> list[Route]:
    """The static route, plus a page route at `page_path` if given (e.g. "/graphiql")."""

    async def page(request: Request) -> Response:
        return graphiql_response(endpoint)

    routes = [Route(STATIC_PREFIX + "/{name}", _static, methods=["GET", "HEAD"])]
    if page_path:
        routes.append(Route(page_path, page, methods=["GET"]))
    return routes
