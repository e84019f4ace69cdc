"""Port helpers: a free port for tests, and a clear error when one is taken.

Checking before a server starts turns "the server exited, see its log" into
"port 55432 is already in use by postgres (pid 812)", which is what a person
needs to fix it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
from pathlib import Path

from db.embedded.errors import PortInUseError

LOCALHOST = "127.0.0.1"
#: Below this, ports are not handed out as the local end of outgoing connections.
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10000
_pick = random.SystemRandom()  # never the tests' seeded `random`: workers would pick alike


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now.

    Chosen at random below the kernel's ephemeral range: a port the kernel
    gave us (bind to port 0) and we let go can be handed to any outgoing
    connection before the server meant for it binds, which made a test
    worker's stack fail with "address already in use" while the other
    worker was busy. Random, so parallel workers do not collide the way a
    fixed range would; the kernel's own pick when no such port is free.
    """
    start = _ephemeral_start()
    if start - 1 > LOWEST:
        for _ in range(100):
            port = _pick.randint(LOWEST, start - 1)
            if port_is_free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        kernels: int = sock.getsockname()[1]
        return kernels


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """Whether we could listen on host:port.

    SO_REUSEADDR makes sockets in TIME_WAIT (a server we just stopped) count
    as free, as they would for the server itself, while a live listener,
    including one on 0.0.0.0, still makes the bind fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def ensure_port_free(port: int, service: str) -> None:
    """Raise `PortInUseError` naming the port and its holder if it is taken."""
    if not port_is_free(port):
        raise PortInUseError(port, service, describe_listener(port))


def describe_listener(port: int) -> str | None:
    """Best effort "name (pid N)" of the process listening on a TCP port.

    Reads /proc (Linux only); returns None when it cannot tell, for example
    when the listener belongs to another user and we are not root.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    proc = Path("/proc")
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (pid_dir / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        name = (pid_dir / "comm").read_text().strip()
                        return f"{name} (pid {pid_dir.name})"
    return None


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes of TCP listeners on `port`, from /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes
