"""Throwaway PostgreSQL + Redis for a test session.

The temporary directory is made under /tmp by hand, not with pytest's
tmp_path: pytest keeps /tmp/pytest-of-root at mode 0700 (and resets it),
which the `postgres` account cannot traverse when we run as root.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from db.embedded.errors import PortInUseError
from db.embedded.ports import free_port
from db.embedded.postgres_server import EmbeddedPostgres
from db.embedded.redis_server import EmbeddedRedis


@dataclass
class TemporaryServers:
    root: Path
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis


def make_temp_dir(prefix: str = "athena-") -> Path:
    """A fresh directory under the system temp dir that other accounts may traverse."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextmanager
def temporary_servers(prefix: str = "athena-test-") -> Iterator[TemporaryServers]:
    """Start ephemeral PostgreSQL and Redis on free ports; remove everything after."""
    root = make_temp_dir(prefix)
    postgres = EmbeddedPostgres(root / "postgres", free_port(), ephemeral=True)
    redis = EmbeddedRedis(root / "redis", free_port(), ephemeral=True)
    try:
        _start_retrying(postgres)
        _start_retrying(redis)
        yield TemporaryServers(root, postgres, redis)
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def _start_retrying(server: EmbeddedPostgres | EmbeddedRedis, attempts: int = 3) -> None:
    """A free port may be taken by a parallel worker before we bind it: pick another."""
    for attempt in range(attempts):
        try:
            server.start()
            return
        except PortInUseError:
            if attempt == attempts - 1:
                raise
            server.port = free_port()
