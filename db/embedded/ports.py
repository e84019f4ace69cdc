"""Port helpers: a free port for tests, and a clear error when one is taken.

Checking before a server starts turns "the server exited, see its log" into
"port 55432 is already in use by postgres (pid 812)", which is what a person
needs to fix it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from pathlib import Path

from db.embedded.errors import PortInUseError

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now.

    The kernel picks it (bind to port 0), so parallel test workers do not
    collide the way they would with a fixed range.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


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
