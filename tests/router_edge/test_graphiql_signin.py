"""Signing in on the GraphiQL page, in a real headless Chromium, offline.

The real router over the real identity, charters and vendors subgraphs: the page's
sign-in calls the graph's own `login`, `refreshToken` and `logout`
mutations through the router, puts the access token into GraphiQL's
headers, and the operation typed into GraphiQL reads charters with it.
The vendors subgraph answers the headline query's vendor fields. Every asset comes from the router (`--disable-background-
networking`, and the page's CSP allows no other origin).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.identity.app import create_app as identity_app
from subgraphs.identity.service import accounts
from subgraphs.kit.settings import Settings
from tests.router_edge.test_graphiql_browser import RESULT, DevTools, chromium, save_screenshot
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"
PASSWORD = "correct horse battery staple"

#: The contract's headline query, over every charter the manager may read.
HEADLINE = """query Headline {
  charters(first: 5) {
    totalCount
    edges { node {
      reference status
      stops { address }
      vehicles {
        capacity vehicleType { name }
        vendor { name certifications { type expiresOn status } }
      }
      vendorCompliance { allVendorsCompliant }
    } }
  }
}"""

ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    userErrors { field code message }
  }
}"""

STATE = "document.getElementById('athena-auth').dataset.state"
MESSAGE = "document.getElementById('athena-message').textContent"
HEADERS = (
    "(() => { const eds = document.querySelectorAll('.graphiql-editor-tool .graphiql-editor"
    " .CodeMirror'); return eds.length ? eds[eds.length - 1].CodeMirror.getValue() : null; })()"
)
STORED = "sessionStorage.getItem('athena.graphiql.refreshToken')"


def rewrite(sdl: str, urls: dict[str, str]) -> str:
    return re.sub(
        r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
        lambda m: (
            f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], "http://127.0.0.1:9/graphql")}")'
        ),
        sdl,
    )


Stack = Callable[..., AbstractAsyncContextManager[LiveServer]]


@pytest.fixture
def stack(
    settings: Settings,
    charters_server: LiveServer,
    vendors_server: LiveServer,
    tmp_path: Path,
) -> Stack:
    """The router over identity (its own instance, so a test can shorten the
    access token's lifetime) and the session's charters and vendors servers."""

    @asynccontextmanager
    async def start(access_ttl_seconds: int | None = None) -> AsyncIterator[LiveServer]:
        identity_settings = settings
        if access_ttl_seconds is not None:
            identity_settings = settings.model_copy(
                update={"jwt_access_ttl_seconds": access_ttl_seconds}
            )
        async with serve(identity_app(identity_settings)) as identity:
            urls = {
                "identity": identity.graphql_url,
                "charters": charters_server.graphql_url,
                "vendors": vendors_server.graphql_url,
            }
            supergraph = tmp_path / "supergraph.graphql"
            supergraph.write_text(rewrite(SUPERGRAPH.read_text(), urls))
            config = Config(
                supergraph=str(supergraph),
                subgraph_timeout=10,
                jwks_url=f"{identity.base_url}/.well-known/jwks.json",
                redis_url=settings.redis_url,  # revoked sessions, as in production
            )
            holder = GatewayHolder(config)
            holder.try_load()
            async with serve(create_app(config, holder)) as router:
                yield router

    return start


@pytest.fixture
def make_user(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def make(*roles: str, name: str = "Maria Manager") -> str:
        email = f"staff-{uuid.uuid4().hex[:8]}@demo.athena"
        data = accounts.NewUser(email=email, name=name, roles=list(roles), password=PASSWORD)
        async with sessions() as session, session.begin():
            await accounts.create_user(session, data, actor_id=None)
        return email

    return make


class Page:
    """The GraphiQL page in Chromium, driven as a person would: typing and clicking."""

    def __init__(self, dt: DevTools) -> None:
        self.dt = dt

    async def type_into(self, element_id: str, text: str) -> None:
        await self.dt.js(
            f"(() => {{ const e = document.getElementById('{element_id}');"
            " e.focus(); e.select(); })()"
        )
        await self.dt.call("Input.insertText", text=text)

    async def click(self, element_id: str) -> None:
        await self.dt.js(f"document.getElementById('{element_id}').click()")

    async def sign_in(self, email: str, password: str) -> None:
        await self.type_into("athena-email", email)
        await self.type_into("athena-password", password)
        await self.click("athena-signin-button")

    async def headers(self) -> dict[str, str]:
        text = await self.dt.js(HEADERS)
        return json.loads(text) if text and text.strip() else {}

    async def run(self, query: str) -> dict[str, Any]:
        """Type `query` into GraphiQL, press run, and read the result pane."""
        await self.dt.js(
            "document.querySelector('.result-window .CodeMirror').CodeMirror.setValue('')"
        )
        await self.dt.js(
            "document.querySelector('.graphiql-query-editor .CodeMirror')"
            f".CodeMirror.setValue({json.dumps(query)})"
        )
        await self.dt.js("document.querySelector('.graphiql-execute-button').click()")
        text = await self.dt.wait_for(f"(() => {{ const t = {RESULT}; return t.trim() && t; }})()")
        answer: dict[str, Any] = json.loads(text)
        return answer


@asynccontextmanager
async def graphiql(router: LiveServer) -> AsyncIterator[Page]:
    with chromium(router.graphql_url) as ws_url:
        async with websockets.connect(ws_url, max_size=None) as ws:
            dt = DevTools(ws)
            await dt.call("Runtime.enable")
            await dt.wait_for("!!document.querySelector('.graphiql-execute-button')")
            await dt.wait_for("!!document.getElementById('athena-email')")
            yield Page(dt)
            exceptions = [e for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
            assert exceptions == []


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def whoami(router: LiveServer, http_client: httpx.AsyncClient, token: str) -> Any:
    """`me` through the router with `token`: the e-mail, or the error codes."""
    answer = await GraphQLClient(router.graphql_url, http_client, token)("{ me { email } }")
    return answer.data["me"]["email"] if answer.data else answer.error_codes


async def _unauthenticated(
    router: LiveServer, http_client: httpx.AsyncClient, token: str
) -> list[str] | None:
    codes = await whoami(router, http_client, token)
    return codes if codes == ["UNAUTHENTICATED"] else None


async def test_a_manager_signs_in_runs_the_headline_query_and_sees_data(
    stack: Stack,
    make_user: Any,
    bookable_charter: Any,
    make_vendor: Any,
    vendors_staff: GraphQLClient,
    projected: Any,
    http_client: httpx.AsyncClient,
) -> None:
    email = await make_user("manager")
    charter = await bookable_charter(vehicles=2)
    vendor = await make_vendor("Prairie Coaches")
    for vehicle in charter["vehicles"]:
        await projected(vehicle["id"])
        assigned = await vendors_staff(
            ASSIGN, {"cv": vehicle["id"], "vendor": vendor["id"], "amount": "800.00"}
        )
        assert assigned.ok() == {"assignVendor": {"userErrors": []}}

    async with stack() as router, graphiql(router) as page:
        assert await page.dt.js(STATE) == "signed-out"
        await page.sign_in(email, PASSWORD)
        await page.dt.wait_for(f"{STATE} === 'signed-in'")
        user = await page.dt.js("document.getElementById('athena-user').textContent")
        headers = await eventually(page.headers)
        answer = await page.run(HEADLINE)
        stored = await page.dt.js(STORED)
        local = await page.dt.js("JSON.stringify(Object.assign({}, localStorage))")
        shot = await page.dt.call("Page.captureScreenshot", format="png")
        save_screenshot(base64.b64decode(shot["data"]))
        token = headers["Authorization"].removeprefix("Bearer ")
        signed_in_as = await whoami(router, http_client, token)

        await page.click("athena-signout")
        await page.dt.wait_for(f"{STATE} === 'signed-out'")
        await eventually(lambda: page.dt.js(f"!{HEADERS}.includes('Authorization')"))
        headers_after = await page.headers()
        stored_after = await page.dt.js(STORED)
        after = await page.run(HEADLINE)
        # a "not revoked" answer is cached for a moment (REVOCATION_CACHE_SECONDS)
        revoked = await eventually(lambda: _unauthenticated(router, http_client, token), seconds=10)

    assert user == f"Maria Manager <{email}>"
    assert list(headers) == ["Authorization"]
    assert headers["Authorization"].startswith("Bearer ey")
    node = answer["data"]["charters"]["edges"][0]["node"]
    certifications = node["vehicles"][0]["vendor"].pop("certifications")
    node["vehicles"][1]["vendor"].pop("certifications")
    assert answer["data"]["charters"]["totalCount"] == 1
    assert node == {
        "reference": charter["reference"],
        "status": "QUOTE",
        "stops": [{"address": "1 Main St, Springfield"}, {"address": "9 Lake Rd, Shelbyville"}],
        "vehicles": [
            {"capacity": 56, "vehicleType": v["vehicleType"], "vendor": {"name": "Prairie Coaches"}}
            for v in charter["vehicles"]
        ],
        "vendorCompliance": {"allVendorsCompliant": True},
    }
    assert sorted(c["type"] for c in certifications) == ["DOT", "INSURANCE", "MC"]
    assert {c["status"] for c in certifications} == {"ACTIVE"}
    # the refresh token is kept for this tab only, never in localStorage
    assert stored
    assert stored not in local
    assert [k for k, v in json.loads(local).items() if "Bearer" in v] == []
    assert signed_in_as == email
    # sign-out: the header is gone, the refresh token forgotten, the session ended
    assert headers_after == {}
    assert stored_after is None
    assert after["data"] is None
    assert [e["extensions"]["code"] for e in after["errors"]] == ["UNAUTHENTICATED"]
    assert revoked == ["UNAUTHENTICATED"]


async def test_a_wrong_password_shows_identitys_message_and_signs_no_one_in(
    stack: Stack, make_user: Any
) -> None:
    email = await make_user("manager")

    async with stack() as router, graphiql(router) as page:
        await page.sign_in(email, "not the password")
        message = await page.dt.wait_for(
            f"{STATE} === 'signed-out' && {MESSAGE}.includes('incorrect') && {MESSAGE}"
        )
        tone = await page.dt.js("document.getElementById('athena-auth').dataset.tone")
        headers = await page.headers()
        stored = await page.dt.js(STORED)
        otp_hidden = await page.dt.js("document.getElementById('athena-otp-field').hidden")

    assert message == "E-mail or password is incorrect."
    assert tone == "error"
    assert "Authorization" not in headers
    assert stored is None
    assert otp_hidden is True


ENROL = "mutation { enrollMfa { secret userErrors { code } } }"
CONFIRM = "mutation($code: String!) { confirmMfa(code: $code) { userErrors { code } } }"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken userErrors { code } }
}"""


async def test_an_account_with_mfa_is_asked_for_its_code_then_signed_in(
    stack: Stack, make_user: Any, http_client: httpx.AsyncClient
) -> None:
    email = await make_user("dispatcher", name="Dana Dispatcher")

    async with stack() as router:
        gql = GraphQLClient(router.graphql_url, http_client)
        token = (await gql(LOGIN, {"email": email, "password": PASSWORD})).ok()["login"][
            "accessToken"
        ]
        secret = (await gql.as_user(token)(ENROL)).ok()["enrollMfa"]["secret"]
        totp = pyotp.TOTP(secret)
        confirmed = (await gql.as_user(token)(CONFIRM, {"code": totp.now()})).ok()
        assert confirmed == {"confirmMfa": {"userErrors": []}}

        async with graphiql(router) as page:
            hidden_before = await page.dt.js("document.getElementById('athena-otp-field').hidden")
            await page.sign_in(email, PASSWORD)
            await page.dt.wait_for("!document.getElementById('athena-otp-field').hidden")
            asked = await page.dt.js(MESSAGE)
            focused = await page.dt.js("document.activeElement.id")
            state_asked = await page.dt.js(STATE)
            # the next step's code: the current one was spent confirming
            await page.type_into("athena-otp", totp.at(time.time() + 30))
            await page.click("athena-signin-button")
            await page.dt.wait_for(f"{STATE} === 'signed-in'")
            user = await page.dt.js("document.getElementById('athena-user').textContent")
            headers = await eventually(page.headers)
            me = await page.run("query Me { me { email } }")

    assert hidden_before is True
    assert asked == "Enter the code from your authenticator app."
    assert focused == "athena-otp"
    assert state_asked == "signed-out"
    assert user == f"Dana Dispatcher <{email}>"
    assert headers["Authorization"].startswith("Bearer ")
    assert me == {"data": {"me": {"email": email}}}


async def test_the_token_is_renewed_before_it_expires_and_a_reload_keeps_the_session(
    stack: Stack, make_user: Any, bookable_charter: Any
) -> None:
    email = await make_user("manager")
    charter = await bookable_charter()
    ttl = 6  # renewed a quarter of its lifetime before expiry

    async with stack(access_ttl_seconds=ttl) as router, graphiql(router) as page:
        await page.sign_in(email, PASSWORD)
        await page.dt.wait_for(f"{STATE} === 'signed-in'")
        signed_in_at = time.monotonic()
        first = (await eventually(page.headers))["Authorization"]
        first_refresh = await page.dt.js(STORED)

        async def renewed() -> str | None:
            current = (await page.headers()).get("Authorization")
            return current if current and current != first else None

        second = await eventually(renewed, seconds=ttl)
        renewed_after = time.monotonic() - signed_in_at
        second_refresh = await page.dt.js(STORED)
        # past the first token's expiry: the operation goes out with the new one
        await asyncio.sleep(max(0.0, ttl + 1 - (time.monotonic() - signed_in_at)))
        late = await page.run("query Refs { charters(first: 1) { edges { node { reference } } } }")

        await page.dt.call("Page.reload")
        await page.dt.wait_for("!!document.querySelector('.graphiql-execute-button')")
        await page.dt.wait_for(f"{STATE} === 'signed-in'")
        restored = (await eventually(page.headers))["Authorization"]
        after_reload = await page.run(
            "query Refs { charters(first: 1) { edges { node { reference } } } }"
        )

    assert second.startswith("Bearer ")
    assert renewed_after < ttl
    assert second_refresh not in (None, first_refresh)
    refs = {"data": {"charters": {"edges": [{"node": {"reference": charter["reference"]}}]}}}
    assert late == refs
    assert restored not in (first, second)
    assert after_reload == refs
