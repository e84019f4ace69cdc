"""The per-process services the HTTP edge needs besides the gateway.

Built once from `Config` and shared by every transport (HTTP here, the
WebSocket/SSE routes mounted through `create_app(extra_routes=...)`), so a
persisted query registered or a JWKS fetched by one is seen by all.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.config import Config
from router.guard.auth import Authenticator
from router.guard.persisted_queries import PersistedQueries


@dataclass(slots=True)
class Edge:
    apq: PersistedQueries
    authenticator: Authenticator
    #: None: CSRF prevention is off
    csrf_required_headers: tuple[str, ...] | None

    @classmethod
    def from_config(cls, config: Config) -> Edge:
        apq = PersistedQueries(
            redis_url=config.apq_redis_url,
            ttl_seconds=config.apq_ttl_seconds,
            lru_size=config.apq_lru_size,
            only_persisted=config.apq_only,
        )
        if config.jwks_url:
            auth = Authenticator.from_jwks(
                config.jwks_url, issuer=config.jwt_issuer, audience=config.jwt_audience
            )
        else:
            auth = Authenticator(None)
        return cls(apq, auth, config.csrf_required_headers)

    async def close(self) -> None:
        await self.apq.close()
