"""Process helpers shared by both servers: pid files, waiting, stopping.

A crash (or `kill -9` of the launcher) leaves pid files behind and sometimes
the server itself still running. Telling "a live server of this very data
directory" from "a number that now belongs to some other program" is what
lets the next start proceed instead of refusing or killing a stranger.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def read_pid(pid_file: Path) -> int | None:
    """The pid on the first line of a pid file, or None if absent or garbled."""
    try:
        first = pid_file.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def process_matches(pid: int, program: str, marker: str) -> bool:
    """Whether `pid` is alive, runs `program` and mentions `marker`.

    `marker` is something only our server has: the data directory for
    PostgreSQL (in its command line or as its working directory), the
    port for Redis. /proc is Linux-only, which is what we run on.
    """
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = (proc / "status").read_text()
    except OSError:
        return False
    if "\nState:\tZ" in status:  # a zombie is dead, whatever its pid says
        return False
    if program not in cmdline:
        return False
    if marker in cmdline:
        return True
    with contextlib.suppress(OSError):
        return os.readlink(proc / "cwd") == marker
    return False


def pid_alive(pid: int) -> bool:
    """Whether a process exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if "\nState:\tZ" in (Path("/proc") / str(pid) / "status").read_text():
            return False
    return True


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `check` until it is true or `timeout` seconds pass; return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop_pid(pid: int, sig: signal.Signals, timeout: float) -> None:
    """Send `sig` to a process we did not start, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if not wait_until(lambda: not pid_alive(pid), timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5)


def stop_child(proc: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> int:
    """Send `sig` to a child we started, then SIGKILL if it lingers; return its code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
