import hashlib

import httpx
import pytest
from starlette.applications import Starlette

from router.graphiql import page
from router.graphiql.page import (
    CONTENT_SECURITY_POLICY,
    graphiql_response,
    graphiql_routes,
    wants_graphiql,
)


@pytest.fixture(autouse=True)
def _assets() -> None:
    """Missing assets are a failure with the fix, not a silent skip."""
    if page.missing_assets():
        pytest.fail(f"GraphiQL assets missing: {page.INSTALL_HINT}")


@pytest.fixture
async def client():
    app = Starlette(routes=graphiql_routes(page_path="/graphiql"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://router"
    ) as c:
        yield c


async def test_the_page_loads_every_asset_from_the_router(client):
    response = await client.get("/graphiql")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    body = response.text
    assert "https://" not in body
    assert "http://" not in body
    for name in page.ASSETS:
        digest = hashlib.sha256(page.ASSETS[name].path.read_bytes()).hexdigest()[:16]
        assert f'"/graphiql/static/{name}?v={digest}"' in body
    assert 'data-endpoint="/graphql"' in body


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("graphiql.min.js", "text/javascript; charset=utf-8"),
        ("graphiql.min.css", "text/css; charset=utf-8"),
        ("react.production.min.js", "text/javascript; charset=utf-8"),
        ("react-dom.production.min.js", "text/javascript; charset=utf-8"),
        ("signin.js", "text/javascript; charset=utf-8"),
        ("signin.css", "text/css; charset=utf-8"),
        ("init.js", "text/javascript; charset=utf-8"),
    ],
)
async def test_assets_have_their_types_and_long_cache_headers(client, name, media_type):
    response = await client.get(f"/graphiql/static/{name}?v=x")

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == page.ASSETS[name].path.read_bytes()
    again = await client.get(
        f"/graphiql/static/{name}", headers={"if-none-match": response.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["package.json", "..%2Fpage.py", "graphiql.js"])
async def test_nothing_else_is_served(client, name):
    assert (await client.get(f"/graphiql/static/{name}")).status_code == 404


def test_missing_assets_give_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(
        page.ASSETS,  # type: ignore[arg-type]
        "graphiql.min.js",
        page.Asset(tmp_path / "absent.js", "text/javascript"),
    )
    response = graphiql_response()
    assert response.status_code == 503
    assert response.body == (
        b"GraphiQL assets are not installed (graphiql.min.js); "
        b"run `npm ci --prefix router/graphiql`."
    )


def test_only_browser_navigations_get_the_page():
    html = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    assert wants_graphiql("GET", html, {})
    assert not wants_graphiql("GET", html, {"query": "{ hello }"})
    assert not wants_graphiql("GET", {"accept": "application/json"}, {})
    assert not wants_graphiql("POST", html, {})
