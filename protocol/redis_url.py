"""Redis clients from one URL, which may name a Sentinel-watched master.

Every process that reaches Redis (each subgraph, its job runner, the router)
builds its clients here, so one variable moves them all from a single server to
a highly available one, and a mistyped URL stops the process at start-up naming
the variable rather than failing on the first request:

- `redis://`, `rediss://`, `unix://`: one server, as `redis.asyncio.Redis.from_url`.
- `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service_name[/db]`
  (`rediss+sentinel://` for TLS to the master): the Sentinels are asked for
  the master of `service_name` on every (re)connection, so a fail-over moves
  every client to the promoted replica. The password is the master's; the
  Sentinels' own, if they have one, is the `sentinel_password` query parameter.
- `redis+cluster://` is refused: identity's login limiter counts per-account and
  per-address keys in one MULTI, which a cluster rejects unless every key shares
  a slot (CROSSSLOT), and nothing here was proven against a cluster. Half-working
  login limits are worse than a clear "use a Sentinel" at start-up.

It lives in `protocol/` because the router and the subgraphs both read the
same `REDIS_URL` and neither may import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

PLAIN_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
DEFAULT_SENTINEL_PORT = 26379
SENTINEL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]"
#: Query parameters a Sentinel URL accepts.
_SENTINEL_QUERY = ("sentinel_password",)
#: Client options that also bound how long a Sentinel may keep us waiting.
_SHARED_WITH_SENTINELS = ("socket_timeout", "socket_connect_timeout")


class RedisUrlError(ValueError):
    """A Redis URL that cannot be used; the message names the variable it came from."""


@dataclass(frozen=True)
class SentinelTarget:
    """Where a `redis+sentinel://` URL points: the Sentinels and the master they watch."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    ssl: bool = False


def _scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep else ""


def parse_redis_url(url: str, variable: str = "REDIS_URL") -> SentinelTarget | None:
    """The Sentinel target of `url`, None for a single server; RedisUrlError if unusable."""
    scheme = _scheme(url)
    if scheme in PLAIN_SCHEMES:
        return None
    if scheme in CLUSTER_SCHEMES:
        raise RedisUrlError(
            f"{variable}: Redis Cluster ({scheme}://) is not supported: identity's login "
            "limits update several keys in one transaction, which a cluster refuses across "
            f"slots. Use a single server or a Sentinel-watched master ({SENTINEL_FORM})."
        )
    if scheme not in SENTINEL_SCHEMES:
        accepted = ", ".join(f"{s}://" for s in (*PLAIN_SCHEMES, *SENTINEL_SCHEMES))
        shown = f"{scheme}://" if scheme else "no scheme"
        raise RedisUrlError(f"{variable}: unsupported Redis URL ({shown}); use one of {accepted}")
    return _parse_sentinel(url, scheme, variable)


def _parse_sentinel(url: str, scheme: str, variable: str) -> SentinelTarget:
    rest = url.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if not at:
        hosts = netloc
    username = password = None
    if userinfo:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_address(part, variable) for part in hosts.split(","))
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise RedisUrlError(
            f"{variable}: a Sentinel URL must name the master's service after the hosts: "
            f"{SENTINEL_FORM}"
        )
    if len(parts) > 2:
        raise RedisUrlError(f"{variable}: too many path parts in the Sentinel URL: {SENTINEL_FORM}")
    db = 0
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise RedisUrlError(f"{variable}: the database {parts[1]!r} is not a number")
        db = int(parts[1])
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(_SENTINEL_QUERY))
    if unknown:
        raise RedisUrlError(
            f"{variable}: unknown Sentinel URL parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(_SENTINEL_QUERY)}"
        )
    return SentinelTarget(
        sentinels=sentinels,
        service_name=unquote(parts[0]),
        db=db,
        username=username,
        password=password,
        sentinel_password=options.get("sentinel_password") or None,
        ssl=scheme.startswith("rediss"),
    )


def _address(part: str, variable: str) -> tuple[str, int]:
    text = part.strip()
    if text.startswith("["):  # [IPv6]:port
        host, bracket, tail = text[1:].partition("]")
        if not bracket:
            raise RedisUrlError(f"{variable}: unclosed '[' in Sentinel address {text!r}")
        port_text = tail[1:] if tail.startswith(":") else ""
        if tail and not tail.startswith(":"):
            raise RedisUrlError(f"{variable}: bad Sentinel address {text!r}")
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            host, port_text = text, ""
    if not host:
        raise RedisUrlError(f"{variable}: a Sentinel address has no host: {part!r}")
    if not port_text:
        return host, DEFAULT_SENTINEL_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RedisUrlError(
            f"{variable}: bad port {port_text!r} in Sentinel address {text!r} (1 to 65535)"
        )
    return host, int(port_text)


def check_redis_url(url: str, variable: str = "REDIS_URL") -> str:
    """`url` unchanged if a client can be built from it; RedisUrlError naming `variable` if not."""
    parse_redis_url(url, variable)
    return url


class SentinelRedis(Redis):
    """The master's client; closing it also closes its connections to the Sentinels."""

    watchers: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.watchers is not None:
            for client in self.watchers.sentinels:
                await client.aclose()


def redis_from_url(url: str, *, variable: str = "REDIS_URL", **options: Any) -> Redis:
    """A client for `url` (see the module's docstring); `options` as `Redis.from_url`'s."""
    target = parse_redis_url(url, variable)
    if target is None:
        client: Redis = Redis.from_url(url, **options)
        return client
    sentinel_options: dict[str, Any] = {
        k: options[k] for k in _SHARED_WITH_SENTINELS if k in options
    }
    if target.sentinel_password:
        sentinel_options["password"] = target.sentinel_password
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels), sentinel_kwargs=sentinel_options
    )
    master_options = {**options, "db": target.db}
    if target.password is not None:
        master_options["password"] = target.password
    if target.username is not None:
        master_options["username"] = target.username
    if target.ssl:
        master_options["ssl"] = True
    master: SentinelRedis = sentinel.master_for(
        target.service_name, redis_class=SentinelRedis, **master_options
    )
    master.watchers = sentinel
    return master
