"""Throttles on every sensitive identity mutation, in Redis, shared by every replica.

The security review (issue 8, finding 9) found counters keyed by the TCP
peer (always the router) and by the e-mail alone: anyone could lock any
account, or every login, from anywhere. The limits below are keyed so that
a caller can only use them up for itself:

- **pair** (account + address): a handful of failures locks that account
  *from that address* only. This is the limit an online guesser meets; the
  owner at another address is not affected.
- **address**: failures (or attempts, for mails) from one address over all
  accounts, so one address cannot spray many accounts.
- **account**, login: a larger limit that bounds a guesser spread over many
  addresses. When it is reached, only addresses that logged in to the
  account successfully in the last 30 days may still try, so a botnet
  slows the attack down without locking the owner out at home or at work.
- **account**, MFA and reset mails: a second factor is only ever checked
  after the password, so whoever can use the account's MFA limit up
  already holds the password; a small per-account MFA limit is what stops
  60 guesses followed by the right code. Reset mails are limited per
  e-mail address (known or not, so the answer never tells which exist).

Counts are incremented once per resolver call, so 20 aliases in one request
are 20 attempts. Windows are fixed (first hit starts them). Every refusal is
a `RATE_LIMITED` user error: each limited mutation returns a payload.
Account keys are hashed so Redis never holds the address book.

Redis restarted: each throttle command is tried once more after a
`ConnectionError`, on a fresh connection (see `Throttle._once_more`); while
Redis stays down the second try fails too and the mutation fails closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError

from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from subgraphs.kit.settings import Settings

PREFIX = "identity:throttle:"
#: How long an address that logged in successfully stays "known" for its account.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
T = TypeVar("T")


class Scope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"
    PAIR = "pair"


@dataclass(frozen=True)
class Limit:
    """At most `max_count` counted events per key in a fixed window."""

    name: str
    scope: Scope
    max_count: int
    window_seconds: int

    def key(self, *, account: str | None, address: str) -> str:
        parts = {
            Scope.ACCOUNT: (account or "",),
            Scope.ADDRESS: (address,),
            Scope.PAIR: (account or "", address),
        }[self.scope]
        digest = hashlib.sha256("\x00".join(p.lower() for p in parts).encode()).hexdigest()
        return f"{PREFIX}{self.name}:{self.scope}:{digest}"

    @property
    def message(self) -> str:
        minutes = max(1, round(self.window_seconds / 60))
        return f"Too many failed attempts. Try again in {minutes} minutes."


@dataclass(frozen=True)
class ThrottlePolicy:
    """Every identity limit in one place; login's numbers come from settings."""

    login_pair: Limit
    login_address: Limit
    #: Reached: only addresses known to the account may still try.
    login_account: Limit
    mfa_pair: Limit
    mfa_account: Limit
    #: Reset mails queued per e-mail address, and requests per address.
    reset_request_account: Limit
    reset_request_address: Limit
    #: Wrong or expired reset tokens per address.
    reset_address: Limit
    change_password_pair: Limit
    change_password_address: Limit
    #: Invalid refresh tokens per address.
    refresh_address: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        window = settings.login_failure_window_seconds
        hour = 3600
        return cls(
            login_pair=Limit("login", Scope.PAIR, settings.login_max_failures_per_email, window),
            login_address=Limit("login", Scope.ADDRESS, settings.login_max_failures_per_ip, window),
            login_account=Limit("login", Scope.ACCOUNT, 50, window),
            mfa_pair=Limit("mfa", Scope.PAIR, 5, window),
            mfa_account=Limit("mfa", Scope.ACCOUNT, 10, window),
            reset_request_account=Limit("reset-request", Scope.ACCOUNT, 3, hour),
            reset_request_address=Limit("reset-request", Scope.ADDRESS, 10, hour),
            reset_address=Limit("reset", Scope.ADDRESS, 10, hour),
            change_password_pair=Limit("change-password", Scope.PAIR, 5, window),
            change_password_address=Limit(
                "change-password", Scope.ADDRESS, settings.login_max_failures_per_ip, window
            ),
            refresh_address=Limit("refresh", Scope.ADDRESS, 20, window),
        )


def _refusal(limit: Limit) -> ServiceError:
    return ServiceError.of(Code.RATE_LIMITED, limit.message)


@dataclass(frozen=True)
class Throttle:
    """The limits as seen by one caller (its address); services call it."""

    redis: Redis
    policy: ThrottlePolicy
    address: str

    async def refuse_if_reached(self, *limits: Limit, account: str | None = None) -> None:
        """Refuse before any work when a failure counter is already full."""
        keys = [limit.key(account=account, address=self.address) for limit in limits]
        counts = await self._once_more(lambda: self.redis.mget(keys))
        for limit, count in zip(limits, counts, strict=True):
            if int(count or 0) >= limit.max_count:
                raise _refusal(limit)

    async def failed(self, *limits: Limit, account: str | None = None) -> None:
        """Count one failure against each limit (kept even if the transaction rolls back)."""
        await self._increment(limits, account)

    async def attempt(self, *limits: Limit, account: str | None = None) -> None:
        """Count one attempt against each limit; refuse it if that goes over one."""
        counts = await self._increment(limits, account)
        for limit, count in zip(limits, counts, strict=True):
            if count > limit.max_count:
                raise _refusal(limit)

    async def _once_more(self, command: Callable[[], Awaitable[T]]) -> T:
        """`command`, tried again once on a fresh connection after a ConnectionError.

        After a Redis restart the pool's idle connections are dead, and redis-py's
        asyncio client does not retry: the first login after Redis came back
        answered INTERNAL (issue 19 §3). All idle connections are dropped, not just
        the one that failed, since every one of them belonged to the old server.
        The retry is here and not on the shared client, whose retries would hide
        consumers' blocking reads timing out. A failure after the server applied
        a pipeline could count one attempt twice: stricter, never looser.
        """
        try:
            return await command()
        except RedisConnectionError:
            await self.redis.connection_pool.disconnect(inuse_connections=False)
            return await command()

    async def _increment(self, limits: tuple[Limit, ...], account: str | None) -> list[int]:
        async def increment() -> list[int]:
            async with self.redis.pipeline(transaction=True) as pipe:
                for limit in limits:
                    key = limit.key(account=account, address=self.address)
                    pipe.incr(key)
                    pipe.expire(key, limit.window_seconds, nx=True)
                results = await pipe.execute()
            return [int(n) for n in results[0::2]]

        return await self._once_more(increment)

    async def refuse_unknown_address_if_reached(self, limit: Limit, *, account: str) -> None:
        """The per-account login limit: refuses only addresses new to the account."""
        key = limit.key(account=account, address=self.address)
        count, known = await self._once_more(lambda: self._account_state(key, account))
        if int(count or 0) >= limit.max_count and not known:
            raise _refusal(limit)

    async def _account_state(self, key: str, account: str) -> tuple[bytes | None, bool]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.sismember(_known_key(account), _address_digest(self.address))
            count, known = await pipe.execute()
        return count, bool(known)

    async def succeeded(self, *limits: Limit, account: str) -> None:
        """A successful login: clear this pair's failures, remember the address."""
        known = _known_key(account)

        async def clear() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                for limit in limits:
                    pipe.delete(limit.key(account=account, address=self.address))
                pipe.sadd(known, _address_digest(self.address))
                pipe.expire(known, KNOWN_ADDRESS_SECONDS)
                await pipe.execute()

        await self._once_more(clear)


def _known_key(account: str) -> str:
    return f"{PREFIX}known-addresses:{hashlib.sha256(account.lower().encode()).hexdigest()}"


def _address_digest(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()
