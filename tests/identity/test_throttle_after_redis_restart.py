"""The first login after Redis came back succeeds (issue 19 §3, Redis restarted).

The throttle's pooled connections died with the old Redis; redis-py's
asyncio client does not retry, so the next throttle command on such a
connection failed with "Connection closed by server" and login answered
INTERNAL. The test starts its own `redis-server` on a free port (never the
session's), fills the client's pool, restarts that server on the same port
and logs in; while it is down, login fails closed with an error the API
answers `SERVICE_UNAVAILABLE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from db.embedded import free_port
from db.embedded.binaries import redis_server_binary
from db.embedded.processes import stop_child, wait_until
from subgraphs.identity.rate_limit import Throttle, ThrottlePolicy
from subgraphs.identity.service import authentication
from subgraphs.kit.extensions import is_unavailable
from tests.identity.conftest import PASSWORD

ADDRESS = "203.0.113.19"


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def redis_on(port: int, directory: Path) -> Iterator[None]:
    """A throwaway `redis-server` on `port`, persisting nothing."""
    with (directory / "redis.log").open("ab") as log:
        process = subprocess.Popen(
            [
                redis_server_binary(),
                *("--port", str(port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--dir", str(directory)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: _answers(port), 10), (directory / "redis.log").read_text()
        yield
    finally:
        stop_child(process, signal.SIGTERM, 10)


async def test_the_first_login_after_a_redis_restart_succeeds(
    tmp_path: Path, make_user: Any, sessions: Any, signing_key: Any, settings: Any
) -> None:
    user = await make_user("dispatcher")
    port = free_port()
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    throttle = Throttle(client, ThrottlePolicy.from_settings(settings), ADDRESS)
    policy = throttle.policy
    # another replica's client, asking while Redis is down (this one's pool stays stale)
    other = Redis.from_url(f"redis://127.0.0.1:{port}/0")

    async def log_in(throttle: Throttle = throttle) -> Any:
        async with sessions() as session, session.begin():
            return await authentication.login(
                session,
                throttle,
                signing_key,
                settings,
                email=user.email,
                password=PASSWORD,
                otp=None,
            )

    try:
        with redis_on(port, tmp_path):
            await log_in()
            # several idle pooled connections, as a busy replica holds them
            await asyncio.gather(
                *(
                    throttle.refuse_if_reached(policy.login_pair, account=user.email)
                    for _ in range(4)
                )
            )
            assert len(client.connection_pool._available_connections) >= 2
        # down: the throttle fails closed, with an error the API answers as unavailable
        with pytest.raises(RedisConnectionError) as down:
            await log_in(Throttle(other, policy, ADDRESS))
        with redis_on(port, tmp_path):
            pair = await log_in()
            again = await log_in()
    finally:
        await client.aclose()
        await other.aclose()

    assert is_unavailable(down.value)
    assert pair.access_token
    assert again.access_token
