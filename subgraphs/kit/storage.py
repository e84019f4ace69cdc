"""Where uploaded files' bytes live: a small interface and a local-disk backend.

Rows (vendors' documents, charters' trip photos) hold the metadata and a
random `storage_key`; the bytes are behind `FileStorage`, so an object
store can replace the disk without touching a service. Each subgraph keeps
its files in its own folder under `Settings.documents_path`. Keys are
generated here, never taken from input, so a key cannot name a path outside
the storage root.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{40}$")
#: control characters and path separators: never part of a stored file name
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def clean_filename(name: str | None) -> str | None:
    """The uploader's file name, safe to show and to send back in Content-Disposition.

    Only the last path segment is kept (browsers send full paths on some systems),
    control characters and separators become `_`, and it is cut to 255 characters;
    None when nothing usable is left (the caller picks its default).
    """
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[:255] or None


class StorageError(Exception):
    pass


class FileStorage(Protocol):
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


def storage_from(settings: Settings, folder: str | None = None) -> FileStorage:
    """The storage of a subgraph's files: `folder` under the documents path (its root if None)."""
    return LocalDiskStorage(settings.documents_path / folder if folder else settings.documents_path)
