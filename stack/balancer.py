"""The local load balancer in front of router replicas: HAProxy, configured here.

`ATHENA_REPLICAS=2 make run` starts two routers on internal ports; HAProxy
(Debian's `haproxy` package) listens on the router's public port and sends
each connection round robin to a router that answers `GET /health`. Routers
are stateless (persisted queries live in Redis, subscriptions read the
subgraphs' streams), so any of them may take any request; a WebSocket is
one upgraded connection that stays on the router it reached (`timeout
tunnel`). The same shape a production load balancer or a Kubernetes
Service gives, on one machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

#: Debian's package name; `scripts/bootstrap.sh` installs it.
HAPROXY: Final = "haproxy"
INSTALL_HINT: Final = (
    "HAProxy is needed to run more than one replica (ATHENA_REPLICAS > 1): "
    "`make install` installs it, or `sudo apt-get install -y haproxy`"
)


def haproxy_path(environ: Mapping[str, str] | None = None) -> str | None:
    """The HAProxy to run: `HAPROXY` (a name or a path; default `haproxy`), or None.

    Looked up on PATH, then in /usr/sbin, where Debian puts it (not on every PATH).
    """
    name = (environ if environ is not None else os.environ).get("HAPROXY") or HAPROXY
    return shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin")


def haproxy_argv(executable: str, config: Path) -> tuple[str, ...]:
    """Foreground (`-db`), so the launcher watches and stops it like any child."""
    return (executable, "-db", "-f", str(config))


def render_config(host: str, port: int, backends: Sequence[tuple[str, int]]) -> str:
    """haproxy.cfg: one HTTP frontend on `host:port`, round robin over `backends`.

    Timeouts: a router answers an ordinary request well within `server`;
    subscriptions over SSE and multipart send heartbeats more often than it;
    a WebSocket, once upgraded, lives under `tunnel` (an hour idle: the
    graphql-transport-ws pings keep busy boards far below it). A router
    that fails two health checks gets no new connections until it answers again.
    """
    servers = "\n".join(
        f"    server {name} {host}:{backend_port} check inter 1s fall 2 rise 1"
        for name, backend_port in backends
    )
    return f"""\
# Written by `python -m stack` (stack/balancer.py) on every start: edits are lost.
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
    timeout http-keep-alive 10s
    timeout tunnel 1h
    timeout client-fin 5s

frontend router
    bind {host}:{port}
    default_backend routers

backend routers
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{servers}
"""
