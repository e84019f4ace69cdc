"""Fixtures for the embedded launcher's own tests.

These start their own servers (not the suite-wide ones of tests/conftest.py)
because the tests stop, crash and restart them.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.embedded import TemporaryServers, make_temp_dir, temporary_servers


@pytest.fixture(scope="session")
def servers() -> Iterator[TemporaryServers]:
    with temporary_servers(prefix="athena-stack-test-") as handle:
        yield handle


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temporary directory the `postgres` account can traverse (see db.embedded.temporary)."""
    path = make_temp_dir("athena-stack-scratch-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def stranger() -> Iterator[int]:
    """A live process that is neither PostgreSQL nor Redis: a pid a stale file may now name."""
    proc = subprocess.Popen(["sleep", "60"])  # noqa: S607
    yield proc.pid
    proc.kill()
    proc.wait()
