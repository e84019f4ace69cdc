"""Run PostgreSQL as an unprivileged user when we are root.

initdb and postgres refuse to run as root, and CI runs as root. We then run
them as the `postgres` system user (created by the Debian package, or by us),
which must own the data directory and be able to traverse every parent
directory of it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from db.embedded.errors import EmbeddedError

SERVICE_USER = "postgres"


@dataclass(frozen=True)
class Account:
    """Who a server process runs as, and the command prefix that makes it so."""

    uid: int
    gid: int
    name: str
    prefix: tuple[str, ...]

    def command(self, argv: list[str]) -> list[str]:
        return [*self.prefix, *argv]


def current_account(pdeathsig: str | None = None) -> Account:
    """Run as ourselves; `pdeathsig` asks the kernel to signal the server if we die."""
    prefix = _setpriv(pdeathsig) if pdeathsig else ()
    return Account(os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name, prefix)


def postgres_account(pdeathsig: str | None = None) -> Account:
    """The account initdb/postgres run under: ourselves, or `postgres` if we are root.

    setpriv execs the program in place (unlike runuser, which forks), so the
    pid we get is the server's own pid and signals reach it directly.
    """
    if os.geteuid() != 0:
        return current_account(pdeathsig)
    entry = _ensure_system_user(SERVICE_USER)
    prefix = (
        *_setpriv(pdeathsig),
        f"--reuid={entry.pw_uid}",
        f"--regid={entry.pw_gid}",
        "--init-groups",
        "--reset-env",
    )
    return Account(entry.pw_uid, entry.pw_gid, entry.pw_name, prefix)


def hand_over(path: Path, account: Account) -> None:
    """Make `path` (a directory) owned by `account` and reachable by it.

    Adds only the search (x) bit for others on parents that lack it, never
    read or write, so nothing becomes listable that was not before.
    """
    path.mkdir(parents=True, exist_ok=True)
    if account.uid == os.getuid():
        return
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(name, account.uid, account.gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(parent, mode | stat.S_IXOTH)


def _setpriv(pdeathsig: str | None) -> tuple[str, ...]:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.geteuid() == 0:
            raise EmbeddedError("setpriv (util-linux) is needed to run PostgreSQL as root")
        return ()
    return (setpriv, f"--pdeathsig={pdeathsig}") if pdeathsig else (setpriv,)


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    done = subprocess.run(  # noqa: S603 - fixed command
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell",  # noqa: S607
         "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise EmbeddedError(f"could not create system user {name!r}: {done.stderr.strip()}")
    return pwd.getpwnam(name)
