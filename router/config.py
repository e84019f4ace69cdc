"""Router settings from the command line and ROUTER_* environment variables.

Every knob has one environment variable (for containers) and most have a
flag; the dataclass defaults are what an embedded `make run` needs, so a
bare `Config()` in tests behaves like production minus the environment.

The router is its own deployable: it never imports the subgraphs' code. The
few values it shares with them (identity's JWKS, the token issuer and
audience, the router's credential, the environment's name) it reads from the
same variables the subgraphs' settings read (`subgraphs/kit/settings.py`),
with the same defaults, so one environment still configures the whole system.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.execution.breaker import BreakerSettings
from router.guard.csrf import DEFAULT_REQUIRED_HEADERS
from router.guard.limits import Limits
from router.guard.rate_limit import RateLimit, parse_rate_limit

_FALSE = ("0", "false", "no", "off")

#: The defaults of the variables shared with the subgraphs (`subgraphs/kit/settings.py`:
#: JWT_ISSUER, JWT_AUDIENCE, HOST and IDENTITY_PORT, which locate the JWKS by default).
DEFAULT_JWT_ISSUER = "https://athena.local/identity"
DEFAULT_JWT_AUDIENCE = "athena"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_IDENTITY_PORT = 4101
DEFAULT_ENVIRONMENT = "development"

#: Environments that may run without the router's secrets (`subgraphs/kit/startup_checks.py`
#: has the same rule for every subgraph).
RELAXED_ENVIRONMENTS = frozenset({"development", "test"})
#: Secrets that were ever published in this repository: never usable again.
PUBLISHED_SECRETS = frozenset(
    {
        "embedded-quote-link-secret-change-me",
        "embedded-onboarding-webhook-secret-change-me",
        "change-me",
        "secret",
    }
)
MIN_SECRET_LENGTH = 32


class UnsafeConfigError(RuntimeError):
    """Production must not start with a missing, short or published secret."""


def shared_jwt_settings(env: Mapping[str, str]) -> tuple[str, str, str]:
    """(JWKS URL, issuer, audience) as the subgraphs' settings read them from `env`."""
    host = env.get("HOST", DEFAULT_HOST)
    port = int(env.get("IDENTITY_PORT", DEFAULT_IDENTITY_PORT))
    return (
        env.get("JWT_JWKS_URL") or f"http://{host}:{port}/.well-known/jwks.json",
        env.get("JWT_ISSUER", DEFAULT_JWT_ISSUER),
        env.get("JWT_AUDIENCE", DEFAULT_JWT_AUDIENCE),
    )


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
    #: token buckets in Redis (`router/guard/rate_limit.py`): one per verified user,
    #: one per anonymous caller's address; None: that limit is off
    rate_limit_user: RateLimit | None = None
    rate_limit_address: RateLimit | None = None
    #: proxies whose X-Forwarded-For names the caller's address (as the subgraphs'
    #: TRUSTED_PROXIES): the rightmost hop that is not one of them is the caller
    trusted_proxies: str = "127.0.0.1/32,::1/128"
    #: per-subgraph circuit breakers (`router/execution/breaker.py`); None: off
    breaker: BreakerSettings | None = field(default_factory=BreakerSettings)
    #: extra attempts of a query's fetch whose connection failed before any answer
    #: (exponential backoff from `fetch_retry_base_seconds`, full jitter)
    fetch_retries: int = 2
    fetch_retry_base_seconds: float = 0.05
    fetch_retry_max_seconds: float = 1.0
    limits: Limits = field(default_factory=Limits)
    #: answer every operation with `extensions.cost: {estimated, actual}`
    #: (a request asks for it alone with `extensions: {"cost": true}`)
    cost_in_extensions: bool = False
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
    #: a trusted documents manifest (`router/guard/trusted_documents.py`): Apollo's
    #: persisted query manifest JSON or an `{id: document}` map; None: none
    trusted_documents: str | None = None
    #: refuse every operation whose document is not in that manifest (production portals)
    trusted_documents_only: bool = False
    #: accept a JSON array of operations in one POST (Apollo's BatchHttpLink)
    batching: bool = False
    #: most operations in one batch
    batch_max_size: int = 10
    #: "" switches token verification off (every caller is anonymous); None
    #: here and below: the variables shared with the subgraphs (JWT_JWKS_URL,
    #: JWT_ISSUER, ...: `shared_jwt_settings`), read when first needed
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    #: seconds a "session not revoked" answer is cached (a revoked one is kept)
    revocation_cache_seconds: float = 2.0
    #: seconds between checks that a subscription's token has not been revoked
    #: (it is also checked before each event, and its expiry has its own timer)
    session_check_seconds: float = 2.0
    #: seconds between heartbeat parts (`{}`) of a multipart subscription while no
    #: event arrives: 5, as Apollo Router, keeps idle-closing proxies away
    multipart_heartbeat_seconds: float = 5.0
    #: secrets of the router's credential (`protocol/router_credential.py`):
    #: the first signs every subgraph request; () sends none; None: the
    #: process's `ROUTER_SECRETS`, read on the first fetch
    router_secrets: tuple[str, ...] | None = None
    #: `ENVIRONMENT`, as the subgraphs read it: outside development and test the
    #: router refuses to start without safe secrets (`refuse_unsafe_config`)
    environment: str = DEFAULT_ENVIRONMENT

    def jwt_settings(self) -> tuple[str, str, str]:
        """(JWKS URL, issuer, audience), the unset ones from the process's environment."""
        shared = shared_jwt_settings(os.environ)
        return (
            shared[0] if self.jwks_url is None else self.jwks_url,
            shared[1] if self.jwt_issuer is None else self.jwt_issuer,
            shared[2] if self.jwt_audience is None else self.jwt_audience,
        )

    def secrets(self) -> tuple[str, ...]:
        """The router's credential secrets, the first signing; () when none."""
        if self.router_secrets is None:
            return _secrets(os.environ.get("ROUTER_SECRETS", ""))
        return self.router_secrets

    def signing_secret(self) -> str | None:
        """The secret that signs subgraph requests; None: they go unsigned."""
        secrets = self.secrets()
        return secrets[0] if secrets else None


def unsafe_config_problems(config: Config) -> list[str]:
    """Why `config` must not serve outside development; [] when it may.

    The rule of the subgraphs' start-up checks (`subgraphs/kit/startup_checks.py`)
    for the one secret the router holds: each of `ROUTER_SECRETS` set, at least
    32 characters long and never one that was published.
    """
    if config.environment.lower() in RELAXED_ENVIRONMENTS:
        return []
    problems = []
    for value in config.secrets() or ("",):
        if not value:
            problems.append("ROUTER_SECRETS is not set")
        elif value in PUBLISHED_SECRETS:
            problems.append("ROUTER_SECRETS is a published default")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"ROUTER_SECRETS is shorter than {MIN_SECRET_LENGTH} characters")
    return problems


def refuse_unsafe_config(config: Config) -> None:
    if config.redis_url:  # in every environment: a Redis URL that cannot work stops start-up
        from protocol.redis_url import RedisUrlError, check_redis_url

        try:
            check_redis_url(config.redis_url, "ROUTER_REDIS_URL or REDIS_URL")
        except RedisUrlError as exc:
            raise UnsafeConfigError(str(exc)) from exc
    problems = unsafe_config_problems(config)
    if problems:
        raise UnsafeConfigError(
            f"refusing to start in {config.environment}: " + "; ".join(problems)
        )


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
    """`ROUTER_SECRETS`, parsed as the subgraphs' settings parse it (comma-separated)."""
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


def _breaker(env: Mapping[str, str]) -> BreakerSettings | None:
    """ROUTER_BREAKER=0 switches circuit breaking off; ROUTER_BREAKER_* tune it."""
    if env.get("ROUTER_BREAKER", "1").lower() in _FALSE:
        return None
    d = BreakerSettings()
    return BreakerSettings(
        failures=int(env.get("ROUTER_BREAKER_FAILURES") or d.failures),
        failure_rate=float(env.get("ROUTER_BREAKER_FAILURE_RATE") or d.failure_rate),
        window=float(env.get("ROUTER_BREAKER_WINDOW_SECONDS") or d.window),
        min_calls=int(env.get("ROUTER_BREAKER_MIN_CALLS") or d.min_calls),
        cool_down=float(env.get("ROUTER_BREAKER_COOL_DOWN_SECONDS") or d.cool_down),
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
    p.add_argument(
        "--trusted-documents",
        default=env.get("ROUTER_TRUSTED_DOCUMENTS") or None,
        metavar="PATH",
        help="a persisted documents manifest (Apollo's JSON, or {id: document})",
    )
    p.add_argument(
        "--trusted-documents-only",
        action="store_true",
        default=env.get("ROUTER_TRUSTED_DOCUMENTS_ONLY", "0").lower() not in (*_FALSE, ""),
        help="run only the operations in the trusted documents manifest",
    )
    p.add_argument(
        "--batching",
        action="store_true",
        default=env.get("ROUTER_BATCHING", "0").lower() not in (*_FALSE, ""),
        help="accept batched operations (a JSON array in one POST)",
    )
    p.add_argument(
        "--batch-max-size",
        type=int,
        default=int(env.get("ROUTER_BATCH_MAX_SIZE") or Config.batch_max_size),
    )
    p.add_argument(
        "--rate-limit-user",
        default=env.get("ROUTER_RATE_LIMIT_USER", ""),
        metavar="RATE",
        help="per verified user, e.g. '120/60s' or '120/60s burst=200'; empty: off",
    )
    p.add_argument(
        "--rate-limit-address",
        default=env.get("ROUTER_RATE_LIMIT_ADDRESS", ""),
        metavar="RATE",
        help="per anonymous caller's address, e.g. '60/60s'; empty: off",
    )
    a = p.parse_args(argv)
    try:
        rate_limit_user = parse_rate_limit(a.rate_limit_user)
        rate_limit_address = parse_rate_limit(a.rate_limit_address)
    except ValueError as exc:
        p.error(str(exc))
    if a.trusted_documents_only and not a.trusted_documents:
        p.error("--trusted-documents-only (ROUTER_TRUSTED_DOCUMENTS_ONLY) needs a manifest")
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
        rate_limit_user=rate_limit_user,
        rate_limit_address=rate_limit_address,
        trusted_proxies=env.get("ROUTER_TRUSTED_PROXIES")
        or env.get("TRUSTED_PROXIES")
        or Config.trusted_proxies,
        breaker=_breaker(env),
        fetch_retries=int(env.get("ROUTER_FETCH_RETRIES") or Config.fetch_retries),
        limits=_limits(env),
        cost_in_extensions=env.get("ROUTER_COST_IN_EXTENSIONS", "0").lower() not in (*_FALSE, ""),
        csrf_required_headers=_csrf_headers(env),
        propagate_headers=_names(env.get("ROUTER_PROPAGATE_HEADERS", "")),
        redis_url=env.get("ROUTER_REDIS_URL") or env.get("REDIS_URL") or None,
        apq_ttl_seconds=int(env.get("ROUTER_APQ_TTL_SECONDS", Config.apq_ttl_seconds)),
        apq_only=env.get("ROUTER_APQ_ONLY", "0").lower() not in (*_FALSE, ""),
        trusted_documents=a.trusted_documents,
        trusted_documents_only=a.trusted_documents_only,
        batching=a.batching,
        batch_max_size=a.batch_max_size,
        revocation_cache_seconds=float(
            env.get("ROUTER_REVOCATION_CACHE_SECONDS")
            or env.get("REVOCATION_CACHE_SECONDS")
            or Config.revocation_cache_seconds
        ),
        session_check_seconds=float(
            env.get("ROUTER_SESSION_CHECK_SECONDS") or Config.session_check_seconds
        ),
        multipart_heartbeat_seconds=float(
            env.get("ROUTER_MULTIPART_HEARTBEAT_SECONDS") or Config.multipart_heartbeat_seconds
        ),
    )
    # shared with the subgraphs: their variables, unless a ROUTER_* one overrides
    config.router_secrets = _secrets(env.get("ROUTER_SECRETS", ""))
    config.environment = env.get("ENVIRONMENT", DEFAULT_ENVIRONMENT)
    jwks_url, issuer, audience = shared_jwt_settings(env)
    config.jwks_url = env.get("ROUTER_JWKS_URL", jwks_url)
    config.jwt_issuer = env.get("ROUTER_JWT_ISSUER", issuer)
    config.jwt_audience = env.get("ROUTER_JWT_AUDIENCE", audience)
    return config
