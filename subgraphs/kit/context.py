"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from protocol.tokens import InvalidTokenError, bearer_token
from protocol.viewer import ANONYMOUS, Viewer
from subgraphs.kit.auth.client_address import client_address, parse_networks
from subgraphs.kit.loaders import LoaderRegistry

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from protocol.revocation import RevocationList
    from protocol.tokens import TokenVerifier
    from subgraphs.kit.settings import Settings


@dataclass
class Services:
    """Long-lived resources of one subgraph process, built at start-up."""

    name: str
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    verifier: TokenVerifier
    revocations: RevocationList
    extra: dict[str, Any] = field(default_factory=dict)
    #: The replica's sessions (`DATABASE_READ_URL`, kit/read_sessions.py); None: primary only.
    read_sessions: async_sessionmaker[AsyncSession] | None = None


class Context:
    def __init__(
        self,
        services: Services,
        request: Request | WebSocket,
        response: Response | WebSocket | None,
        request_id: str,
    ) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.request_id = request_id
        self.connection_params: dict[str, Any] | None = None
        self.loaders = LoaderRegistry(services.sessions)
        self._viewer: Viewer | None = None
        self._verifying: asyncio.Future[Viewer] | None = None
        #: Root fields reading from the replica and their loaders (kit/read_sessions.py).
        self.replica_reads: Any = None

    @property
    def known_viewer(self) -> Viewer | None:
        """The viewer if already verified, without awaiting.

        Lets hot per-field checks stay synchronous: a coroutine per field is most
        of the cost of a large answer.
        """
        return self._viewer

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.services.sessions

    @property
    def redis(self) -> Redis:
        return self.services.redis

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def client_ip(self) -> str:
        """The caller's address: `X-Forwarded-For` believed only from trusted proxies."""
        client = self.request.client
        return client_address(
            client.host if client else None,
            self.request.headers.get("x-forwarded-for"),
            parse_networks(self.settings.trusted_proxies),
        )

    def _authorization(self) -> str | None:
        params = self.connection_params or {}
        for key in ("Authorization", "authorization"):
            if isinstance(params.get(key), str):
                return str(params[key])
        return self.request.headers.get("authorization")

    async def get_viewer(self) -> Viewer:
        """Verify the bearer token once per request; an invalid one is anonymous.

        So is a token whose session has ended (logout, disabled account, ...).
        Concurrent callers (the resolvers of one `_entities` batch) share one
        verification and resume together, so the dataloader calls they make
        next still fall into one batch.
        """
        if self._viewer is not None:
            return self._viewer
        if self._verifying is None:
            self._verifying = asyncio.ensure_future(self._verify())
        self._viewer = await self._verifying
        return self._viewer

    async def _verify(self) -> Viewer:
        token = bearer_token(self._authorization())
        viewer = ANONYMOUS
        if token:
            try:
                claims = await self.services.verifier.verify(token)
                viewer = Viewer.from_claims(claims)
            except (InvalidTokenError, KeyError, ValueError):
                viewer = ANONYMOUS
        if viewer.session_id and await self.services.revocations.is_revoked(viewer.session_id):
            viewer = ANONYMOUS
        return viewer
