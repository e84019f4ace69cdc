"""Rate limits at the router: a token bucket per caller, kept in Redis.

Replicas share one bucket per caller, so a client cannot multiply its
allowance by spreading requests over replicas. A bucket is one Redis hash
updated by one Lua script (read, refill, take, write in one atomic step,
on Redis's own clock so replicas with skewed clocks agree): one round trip
per operation, and only when a limit is configured.

Who the caller is: a verified token's subject has its own bucket (callers
behind one NAT or proxy are not lumped together); an anonymous caller (no
token, or one that did not verify) is limited by its address, taken from
`X-Forwarded-For` as far as the trusted proxies vouch for it, as the
subgraphs do (`subgraphs/kit/auth/client_address.py`).

Redis is a safety net here, never a dependency: when it fails the router
lets requests through (fail open), logs the outage once, counts each
unchecked operation, and tries Redis again after a pause.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # redis is imported on first use: it costs ~0.4 s of router start-up
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

__all__ = [
    "CODE",
    "Limited",
    "RateLimit",
    "RateLimiter",
    "caller_address",
    "parse_rate_limit",
]

CODE = "RATE_LIMITED"

#: KEYS[1] the bucket; ARGV: tokens per second, capacity, cost.
#: Returns {1 | 0 allowed, seconds to wait as a string} (Lua numbers become
#: integers on the way out, so the fraction travels as text).
_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*([smh]?)\s*$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`count` operations per `period` seconds, with bursts up to `burst`."""

    count: int
    period: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.period


def parse_rate_limit(text: str) -> RateLimit | None:
    """`"120/60s"`, `"120/1m burst=200"` (or `,burst=200`) -> a limit; "" -> None (off).

    The burst (the bucket's capacity) defaults to the count: a caller idle
    for a whole period may spend it at once.
    """
    text = text.strip()
    if not text:
        return None
    rate, *tail = re.split(r"[,\s]+", text, maxsplit=1)
    rest = tail[0] if tail else ""
    m = _RATE.match(rate)
    if m is None:
        raise ValueError(f"expected a rate like '120/60s', got {text!r}")
    count = int(m.group(1))
    period = float(m.group(2) or 1) * _UNITS[m.group(3)]
    burst = count
    if rest:
        name, sep, value = rest.partition("=")
        if name.strip() != "burst" or not sep or not value.strip().isdigit():
            raise ValueError(f"expected 'burst=N' after the rate, got {rest!r}")
        burst = int(value)
    if count <= 0 or period <= 0 or burst <= 0:
        raise ValueError(f"a rate limit must be positive, got {text!r}")
    return RateLimit(count, period, burst)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(value: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip()
    )


def _trusted(hop: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(hop)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def caller_address(forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The rightmost hop that is not a trusted proxy.

    `forwarded_for` is what the router sends on (`server/forwarded.py`):
    the incoming `X-Forwarded-For` with the TCP peer appended, so walking it
    from the right is exactly the subgraphs' rule (the peer first, then
    what trusted proxies wrote); entries a client wrote are never believed.
    """
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    if not hops:
        return "unknown"
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0]


@dataclass(frozen=True, slots=True)
class Limited:
    """Over the limit: retry after this many whole seconds (rounded up)."""

    scope: str
    retry_after: int

    def error(self) -> dict[str, Any]:
        return {
            "message": f"Rate limit exceeded: retry in {self.retry_after} s.",
            "extensions": {"code": CODE, "retryAfter": self.retry_after},
        }


class RateLimiter:
    """Token buckets per user (a verified token's subject) and per address."""

    def __init__(
        self,
        *,
        user: RateLimit | None,
        address: RateLimit | None,
        redis_url: str | None = None,
        redis: Redis | None = None,
        trusted_proxies: str = "127.0.0.1/32,::1/128",
        key_prefix: str = "athena:ratelimit:",
        retry_after_seconds: float = 10.0,
        redis_timeout_seconds: float = 0.5,
    ) -> None:
        if redis is None and not redis_url:
            raise ValueError("rate limits need Redis (ROUTER_REDIS_URL or REDIS_URL)")
        self.user = user
        self.address = address
        self.trusted = parse_networks(trusted_proxies)
        self.key_prefix = key_prefix
        self.retry_after_seconds = retry_after_seconds
        self._owns_redis = redis is None
        self._redis: Redis | None = redis
        self._redis_url = redis_url
        self._redis_timeout = redis_timeout_seconds
        self._script: Any = None
        self._down_until = 0.0
        self._outage_logged = False
        #: operations let through unchecked because Redis failed (the metric reads it)
        self.unchecked = 0

    @property
    def enabled(self) -> bool:
        return self.user is not None or self.address is not None

    async def close(self) -> None:
        if self._owns_redis and self._redis is not None:
            await self._redis.aclose()

    def bucket(
        self, subject: str | None, forwarded_for: str | None
    ) -> tuple[str, RateLimit] | None:
        """The bucket a caller draws from; None: no limit applies to it."""
        if subject:
            return ("user", self.user) if self.user is not None else None
        if self.address is None:
            return None
        return (f"address:{caller_address(forwarded_for, self.trusted)}", self.address)

    async def check(
        self, subject: str | None, forwarded_for: str | None, cost: int = 1
    ) -> Limited | None:
        """Take `cost` tokens from the caller's bucket; `Limited` when it has too few.

        `subject` is the verified token's subject (None for an anonymous
        caller); `forwarded_for` the value the router sends on.
        """
        chosen = self.bucket(subject, forwarded_for)
        if chosen is None:
            return None
        name, limit = chosen
        key = self.key_prefix + (f"user:{subject}" if name == "user" else name)
        scope = "user" if name == "user" else "address"
        script = self._usable_script()
        if script is None:
            self.unchecked += 1
            return None
        from redis.exceptions import RedisError

        try:
            allowed, wait = await script(keys=[key], args=[limit.per_second, limit.burst, cost])
        except (RedisError, OSError, TimeoutError) as exc:
            self._redis_failed(exc)
            self.unchecked += 1
            return None
        self._redis_ok()
        if int(allowed) == 1:
            return None
        seconds = float(wait.decode() if isinstance(wait, bytes) else wait)
        return Limited(scope, max(1, math.ceil(seconds)))

    # -- Redis, failing open -------------------------------------------------

    def _usable_script(self) -> Any:
        if self._redis is None:
            from protocol.redis_url import redis_from_url

            self._redis = redis_from_url(
                str(self._redis_url),
                socket_timeout=self._redis_timeout,
                socket_connect_timeout=self._redis_timeout,
            )
        if self._script is None:
            self._script = self._redis.register_script(_SCRIPT)
        if time.monotonic() < self._down_until:
            return None
        return self._script

    def _redis_failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_after_seconds
        if not self._outage_logged:
            self._outage_logged = True
            log.warning("rate limits: Redis unavailable, letting requests through: %s", exc)

    def _redis_ok(self) -> None:
        if self._outage_logged:
            self._outage_logged = False
            log.warning("rate limits: Redis is reachable again")
