"""Private PostgreSQL and Redis servers for `make run` and the test suite.

The embedded stack must never touch the machine's default services (5432,
6379): each server runs from a data directory we own, on a port we choose,
listening on 127.0.0.1 only. One small module per job:

- `binaries`: find the server programs, installing them with apt when missing;
- `accounts`: run PostgreSQL as an unprivileged user when we are root;
- `ports`: free ports for tests, a clear error when a port is taken;
- `processes`: pid files left by a crash, waiting, stopping;
- `postgres_server` / `redis_server`: the two servers;
- `temporary`: both servers in a throwaway directory, for test fixtures.
"""

from db.embedded.errors import EmbeddedError, PortInUseError
from db.embedded.ports import ensure_port_free, free_port
from db.embedded.postgres_server import EmbeddedPostgres
from db.embedded.redis_server import EmbeddedRedis
from db.embedded.temporary import TemporaryServers, make_temp_dir, temporary_servers

__all__ = [
    "EmbeddedError",
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "PortInUseError",
    "TemporaryServers",
    "ensure_port_free",
    "free_port",
    "make_temp_dir",
    "temporary_servers",
]
