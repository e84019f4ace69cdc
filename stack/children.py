"""Child processes whose output goes both to a log file and, prefixed, to stdout.

One reader thread per child copies its merged stdout/stderr line by line:
the file keeps everything for later (`.data/logs/<name>.log`), the console
shows who said what. Children run in their own session so that Ctrl-C
reaches only the launcher, which then stops them in order; setpriv's
pdeathsig makes the kernel send SIGTERM if the launcher dies without that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TextIO

from db.embedded.processes import tail

_console_lock = threading.Lock()


def say(text: str, stream: TextIO | None = None) -> None:
    """Write whole lines to the console without interleaving with child output."""
    out = stream or sys.stdout
    with _console_lock:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()


class Child:
    """A named child process, logged to `log_dir/<name>.log`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: Mapping[str, str],
        cwd: Path,
        prefix_width: int = 9,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self.env = dict(env)
        self.cwd = cwd
        self.prefix = f"{name:>{prefix_width}} | "
        self.proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        setpriv = shutil.which("setpriv")
        argv = [setpriv, "--pdeathsig=TERM", *self.argv] if setpriv else self.argv
        self.proc = subprocess.Popen(  # noqa: S603 - our own argv
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        stdout = self.proc.stdout
        if stdout is None:  # impossible with stdout=PIPE; keeps the types honest
            raise RuntimeError("child started without a stdout pipe")
        self._reader = threading.Thread(target=self._copy_output, args=(stdout,), daemon=True)
        self._reader.start()

    def _copy_output(self, stdout: IO[bytes]) -> None:
        with self.log_path.open("ab") as log_file:
            for line in iter(stdout.readline, b""):
                log_file.write(line)
                log_file.flush()
                say(self.prefix + line.decode(errors="replace").rstrip("\n"))

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for exit and for the last output lines to be copied."""
        assert self.proc is not None  # noqa: S101
        code = self.proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(5)
        return code

    def terminate(self) -> None:
        """SIGTERM once, to the child itself: it stops what it started.

        Not to its whole group: a subgraph serving with several workers
        (`SUBGRAPH_WORKERS`, `ATHENA_REPLICAS`) has uvicorn's supervisor as the
        child, and workers that exit before the supervisor has seen its own
        signal are taken for crashed and started again, which holds the stop
        past the grace period. What is left of the group is killed in `finish`.
        """
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def finish(self, grace: float) -> int | None:
        """Wait up to `grace` seconds after terminate(), then SIGKILL; None if never started."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            say(f"stack: {self.name} did not stop within the grace period: killing it")
            self._signal_group(signal.SIGKILL)
            self.proc.wait()
        else:
            self._signal_group(signal.SIGKILL)  # helpers it left behind, if any
        if self._reader is not None:
            self._reader.join(2)
        return self.proc.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        """The whole process group: a child's own helpers must go too."""
        assert self.proc is not None  # noqa: S101
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)
