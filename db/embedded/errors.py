"""Errors the launcher shows to a person, so their messages must say what to do."""

from __future__ import annotations


class EmbeddedError(RuntimeError):
    """An embedded server could not be installed, started or stopped."""


class PortInUseError(EmbeddedError):
    """A port we need is taken by another process.

    Raised before anything starts, so that the message names the port and,
    when we can tell, the process holding it, instead of a server failing
    later with a log line nobody reads.
    """

    def __init__(self, port: int, service: str, holder: str | None = None) -> None:
        self.port = port
        self.service = service
        self.holder = holder
        by = f" by {holder}" if holder else " by another process"
        super().__init__(
            f"port {port} (needed by {service}) is already in use{by} on 127.0.0.1; "
            f"stop that process or configure {service} to use another port"
        )
