"""The identity subgraph: accounts, sessions, tokens and the public keys."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.identity import delegated_tokens
from subgraphs.identity.keys import Keyring
from subgraphs.identity.models import outbox
from subgraphs.identity.mutations import Mutation
from subgraphs.identity.queries import Query
from subgraphs.identity.service import client_agents, client_signup
from subgraphs.identity.types import Client, User
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.context import Services
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings

schema = build_schema(Query, Mutation, types=[User, Client])


def _keyring(services: Services) -> Keyring:
    keyring = services.extra.get("keyring")
    if keyring is None:
        keyring = services.extra["keyring"] = Keyring(
            services.sessions, access_ttl_seconds=services.settings.jwt_access_ttl_seconds
        )
    return keyring


async def jwks(request: Request) -> Response:
    keyring = _keyring(request.app.state.services)
    return JSONResponse(await keyring.jwks(), headers={"Cache-Control": "public, max-age=60"})


def create_app(settings: Settings | None = None) -> Starlette:
    return create_subgraph_app(
        "identity",
        schema,
        outbox=outbox,
        routes=[
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            # Issue 16 §3: a service (reports) trades a user's delegation grant for a token.
            *delegated_tokens.routes(_keyring, settings),
        ],
        key_source=_keyring,
        # Issue 14 §2: a client account for whoever accepted a quote by its link.
        projections={
            client_signup.QUOTE_ACCEPTED_BY_LINK: (
                client_signup.GROUP,
                client_signup.apply_signup_event,
            ),
            # Sales agents may view their own clients' portal (service/access.py).
            client_agents.CLIENT_CHANGED: (client_agents.GROUP, client_agents.apply_client_event),
        },
        settings=settings,
    )


app = create_app()
