"""Where trip photos' bytes live: a small interface and a local-disk backend.

Charters keeps its own copy of the pattern vendors uses for compliance
documents (`subgraphs/vendors/storage.py`) rather than importing it:
subgraphs ship and deploy on their own and never import one another. The
files go under the kit's storage location (`Settings.documents_path`), in
their own `trip-photos` folder. Keys are generated here, never taken from
input, so a key cannot name a path outside the storage root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{40}$")
FOLDER = "trip-photos"


class StorageError(Exception):
    pass


class PhotoStorage(Protocol):
    def new_key(self) -> str: ...

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class LocalDiskStorage:
    """Files under `root`, fanned out by the key's first two hex digits."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_key(self) -> str:
        token = secrets.token_hex(20)
        return f"{token[:2]}/{token}"

    def path_of(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StorageError(f"not a storage key: {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.path_of(key), data)

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path_of(key).read_bytes)
        except FileNotFoundError as exc:
            raise StorageError(f"no stored file for {key}") from exc

    async def delete(self, key: str) -> None:
        path = self.path_of(key)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write then rename: a reader never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with open(partial, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)


def storage_from(settings: Settings) -> PhotoStorage:
    return LocalDiskStorage(settings.documents_path / FOLDER)
