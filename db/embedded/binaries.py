"""Find the PostgreSQL and Redis server programs, installing them when missing.

A fresh machine (and CI, a fresh clone running as root) has Python, Node and
apt but no database: rather than asking people to install things by hand,
the first start installs the Debian packages. Parallel test workers may all
arrive here at once, so installation is serialised with a file lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from db.embedded.errors import EmbeddedError

log = logging.getLogger(__name__)

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
APT_LOCK = Path("/tmp/athena-embedded-apt.lock")  # noqa: S108 - a lock, not data
POSTGRES_PACKAGES = ("postgresql", "postgresql-contrib")
REDIS_PACKAGES = ("redis-server",)


@dataclass(frozen=True)
class PostgresBinaries:
    """Where one PostgreSQL version's programs and extension files live."""

    bindir: Path
    sharedir: Path

    def program(self, name: str) -> str:
        return str(self.bindir / name)

    @property
    def has_btree_gist(self) -> bool:
        """Migrations run CREATE EXTENSION btree_gist (exclusion constraints)."""
        return (self.sharedir / "extension" / "btree_gist.control").exists()


def postgres_binaries(install: bool = True) -> PostgresBinaries:
    """Find initdb/postgres (and btree_gist), installing the packages if missing."""
    found = _find_postgres()
    if found is not None and found.has_btree_gist:
        return found
    if not install:
        raise EmbeddedError("PostgreSQL (with contrib) is not installed")
    apt_install(POSTGRES_PACKAGES)
    _find_postgres.cache_clear()
    found = _find_postgres()
    if found is None:
        raise EmbeddedError("PostgreSQL is still missing after apt-get install")
    if not found.has_btree_gist:
        raise EmbeddedError(f"btree_gist is missing from {found.sharedir}/extension")
    return found


def redis_server_binary(install: bool = True) -> str:
    """Path of redis-server, installing the package if missing."""
    path = shutil.which("redis-server")
    if path:
        return path
    if not install:
        raise EmbeddedError("redis-server is not installed")
    apt_install(REDIS_PACKAGES)
    path = shutil.which("redis-server")
    if not path:
        raise EmbeddedError("redis-server is still missing after apt-get install")
    return path


@lru_cache(maxsize=1)
def _find_postgres() -> PostgresBinaries | None:
    """Prefer Debian's versioned directories (newest first), then PATH.

    Debian puts initdb and postgres in /usr/lib/postgresql/<version>/bin,
    which is not on PATH; other systems put them on PATH.
    """
    candidates: list[Path] = []
    if DEBIAN_PG_ROOT.is_dir():
        versions = [p for p in DEBIAN_PG_ROOT.iterdir() if re.fullmatch(r"\d+", p.name)]
        candidates += [v / "bin" for v in sorted(versions, key=lambda p: -int(p.name))]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return PostgresBinaries(bindir, _sharedir(bindir))
    return None


def _sharedir(bindir: Path) -> Path:
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        out = subprocess.run(  # noqa: S603 - fixed program path
            [str(pg_config), "--sharedir"], capture_output=True, text=True, check=False
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    # Debian layout without pg_config (it lives in libpq-dev on some versions).
    return Path("/usr/share/postgresql") / bindir.parent.name


def apt_install(packages: tuple[str, ...]) -> None:
    """apt-get update + install, as root (or through passwordless sudo).

    The packages' own services may start on the default ports; we leave them
    alone and use our own ports.
    """
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise EmbeddedError(
                f"{' '.join(packages)} missing and we are not root: "
                f"run `sudo apt-get install -y {' '.join(packages)}`"
            )
        prefix = ["sudo", "-n"]
    if not shutil.which("apt-get"):
        raise EmbeddedError(f"{' '.join(packages)} missing and apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with APT_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers: one installs
        log.warning("installing %s with apt-get (first run on this machine)", packages)
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        ):
            done = subprocess.run(  # noqa: S603 - fixed commands
                prefix + cmd, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise EmbeddedError(
                    f"`{' '.join(cmd)}` failed ({done.returncode}):\n{done.stderr[-2000:]}"
                )
