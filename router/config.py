"""Router settings from the command line and ROUTER_* environment variables.

Every knob has one environment variable (for containers) and most have a
flag; the dataclass defaults are what an embedded `make run` needs, so a
bare `Config()` in tests behaves like production minus the environment.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.guard.csrf import DEFAULT_REQUIRED_HEADERS
from router.guard.limits import Limits

_FALSE = ("0", "false", "no", "off")


@dataclass
class Config:
    supergraph: str = "schema/supergraph.graphql"
    host: str = "127.0.0.1"
    port: int = 4000
    subgraph_timeout: float = 30.0
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    #: subgraph name -> URL replacing the supergraph's @join__graph(url:)
    subgraph_urls: dict[str, str] = field(default_factory=dict)
    plan_cache_size: int = 1000
    introspection: bool = True
    graphiql: bool = True
    max_body_bytes: int = 2_000_000
    #: a multipart upload's whole body (operations, map and files), counted while
    #: it is read; 11 MiB: a 10 MiB vendor document and its framing
    max_upload_bytes: int = 11 * 1024 * 1024
    log_level: str = "warning"
    limits: Limits = field(default_factory=Limits)
    #: None: CSRF prevention off; else a request needs one of these headers
    #: (or a non-simple Content-Type) to run an operation
    csrf_required_headers: tuple[str, ...] | None = DEFAULT_REQUIRED_HEADERS
    #: headers sent on to subgraphs besides Authorization (lower case)
    propagate_headers: tuple[str, ...] = ()
    #: Redis shared by replicas: persisted queries (None: in-process LRU only)
    #: and the revoked sessions identity writes (None: no revocation check)
    redis_url: str | None = None
    apq_ttl_seconds: int = 7 * 24 * 3600
    apq_lru_size: int = 2000
    #: refuse operations that are not already persisted (a safelist)
    apq_only: bool = False
    #: "" switches token verification off (every caller is anonymous); None
    #: here and below: the shared Settings (JWT_JWKS_URL, JWT_ISSUER, ...)
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    #: seconds a "session not revoked" answer is cached (a revoked one is kept)
    revocation_cache_seconds: float = 2.0
    #: seconds between checks that a subscription's token has not been revoked
    #: (it is also checked before each event, and its expiry has its own timer)
    session_check_seconds: float = 2.0
    #: secrets of the router's credential (`subgraphs/kit/auth/router_credential.py`):
    #: the first signs every subgraph request; () sends none; None: the shared
    #: Settings (`ROUTER_SECRETS`), read on the first fetch
    router_secrets: tuple[str, ...] | None = None

    def jwt_settings(self) -> tuple[str, str, str]:
        """(JWKS URL, issuer, audience), the unset ones from the shared Settings.

        Read when the first token arrives, not at start-up: pydantic-settings
        costs a noticeable part of a second to import.
        """
        from subgraphs.kit.settings import Settings

        s = Settings()
        return (
            s.jwks_url if self.jwks_url is None else self.jwks_url,
            s.jwt_issuer if self.jwt_issuer is None else self.jwt_issuer,
            s.jwt_audience if self.jwt_audience is None else self.jwt_audience,
        )

    def signing_secret(self) -> str | None:
        """The secret that signs subgraph requests; None: they go unsigned.

        Read on the first fetch, like the JWT settings, to keep start-up fast.
        """
        secrets = self.router_secrets
        if secrets is None:
            from subgraphs.kit.settings import get_settings

            secrets = get_settings().router_secret_list
        return secrets[0] if secrets else None


def _pairs(text: str) -> dict[str, str]:
    """`name=value,name=value` -> mapping (values may contain '=' and ':')."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected name=value, got {part!r}")
        out[name.strip()] = value.strip()
    return out


def _timeouts(text: str) -> dict[str, float]:
    """`name=seconds,name=seconds` -> mapping."""
    return {k: float(v) for k, v in _pairs(text).items()}


def _secrets(text: str) -> tuple[str, ...]:
    """`ROUTER_SECRETS`, parsed as the shared Settings parse it (comma-separated)."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip().lower() for n in text.split(",") if n.strip())


def _limit(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """A limit from the environment; 0 or a negative number switches it off."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    return value if value > 0 else None


def _limits(env: Mapping[str, str]) -> Limits:
    d = Limits()
    return Limits(
        max_depth=_limit(env, "ROUTER_MAX_DEPTH", d.max_depth),
        max_aliases=_limit(env, "ROUTER_MAX_ALIASES", d.max_aliases),
        max_root_fields=_limit(env, "ROUTER_MAX_ROOT_FIELDS", d.max_root_fields),
        max_cost=_limit(env, "ROUTER_MAX_COST", d.max_cost),
        default_list_size=int(env.get("ROUTER_DEFAULT_LIST_SIZE", d.default_list_size)),
    )


def _csrf_headers(env: Mapping[str, str]) -> tuple[str, ...] | None:
    if env.get("ROUTER_CSRF", "1").lower() in _FALSE:
        return None
    listed = env.get("ROUTER_CSRF_REQUIRED_HEADERS")
    return _names(listed) if listed is not None else DEFAULT_REQUIRED_HEADERS


def load_config(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    p = argparse.ArgumentParser(prog="python -m router", description="Athena federation router")
    p.add_argument("--supergraph", default=env.get("ROUTER_SUPERGRAPH", Config.supergraph))
    p.add_argument("--host", default=env.get("ROUTER_HOST", Config.host))
    p.add_argument("--port", type=int, default=int(env.get("ROUTER_PORT", Config.port)))
    p.add_argument(
        "--subgraph-timeout",
        type=float,
        default=float(env.get("ROUTER_SUBGRAPH_TIMEOUT", Config.subgraph_timeout)),
    )
    p.add_argument(
        "--subgraph-timeouts",
        default=env.get("ROUTER_SUBGRAPH_TIMEOUTS", ""),
        help="per-subgraph timeouts, e.g. 'vendors=5,finance=10'",
    )
    p.add_argument(
        "--subgraph-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="replace a subgraph's URL from the supergraph (repeatable; "
        "adds to ROUTER_SUBGRAPH_URLS='identity=http://identity:4101/graphql,...')",
    )
    p.add_argument("--log-level", default=env.get("ROUTER_LOG_LEVEL", Config.log_level))
    p.add_argument(
        "--no-introspection",
        action="store_true",
        default=env.get("ROUTER_INTROSPECTION", "1").lower() in _FALSE,
    )
    a = p.parse_args(argv)
    urls = _pairs(env.get("ROUTER_SUBGRAPH_URLS", ""))
    for item in a.subgraph_url:
        urls.update(_pairs(item))
    config = Config(
        supergraph=a.supergraph,
        host=a.host,
        port=a.port,
        subgraph_timeout=a.subgraph_timeout,
        subgraph_timeouts=_timeouts(a.subgraph_timeouts),
        subgraph_urls=urls,
        introspection=not a.no_introspection,
        graphiql=env.get("ROUTER_GRAPHIQL", "1").lower() not in _FALSE,
        max_body_bytes=int(env.get("ROUTER_MAX_BODY_BYTES", Config.max_body_bytes)),
        max_upload_bytes=int(env.get("ROUTER_MAX_UPLOAD_BYTES", Config.max_upload_bytes)),
        log_level=a.log_level,
        limits=_limits(env),
        csrf_required_headers=_csrf_headers(env),
        propagate_headers=_names(env.get("ROUTER_PROPAGATE_HEADERS", "")),
        redis_url=env.get("ROUTER_REDIS_URL") or env.get("REDIS_URL") or None,
        apq_ttl_seconds=int(env.get("ROUTER_APQ_TTL_SECONDS", Config.apq_ttl_seconds)),
        apq_only=env.get("ROUTER_APQ_ONLY", "0").lower() not in (*_FALSE, ""),
        revocation_cache_seconds=float(
            env.get("ROUTER_REVOCATION_CACHE_SECONDS")
            or env.get("REVOCATION_CACHE_SECONDS")
            or Config.revocation_cache_seconds
        ),
        session_check_seconds=float(
            env.get("ROUTER_SESSION_CHECK_SECONDS") or Config.session_check_seconds
        ),
    )
    if "ROUTER_SECRETS" in env:
        config.router_secrets = _secrets(env["ROUTER_SECRETS"])
    # the JWT settings default to the shared Settings (JWT_JWKS_URL, JWT_ISSUER, ...)
    if "ROUTER_JWKS_URL" in env:
        config.jwks_url = env["ROUTER_JWKS_URL"]
    if "ROUTER_JWT_ISSUER" in env:
        config.jwt_issuer = env["ROUTER_JWT_ISSUER"]
    if "ROUTER_JWT_AUDIENCE" in env:
        config.jwt_audience = env["ROUTER_JWT_AUDIENCE"]
    return config
