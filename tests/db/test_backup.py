"""Backups (issue 19 §4): the demo data and two documents are backed up, restored into a
second, fresh database of the test server and compared table by table and byte by byte;
restore refuses a target that holds Athena's tables or documents, and a damaged dump
fails with a clear error leaving the target empty."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from db.backup import MANIFEST, BackupError, Database, backup, restore, table_checksums
from db.demo.__main__ import load_all
from subgraphs.kit.settings import Settings

DOCUMENTS = {
    "3f/3f" + "a" * 38: bytes(range(256)) * 40,  # a vendor document, binary
    "trip-photos/c0/c0" + "b" * 38: b"\xff\xd8\xff\xe0 not really a jpeg",
}


@pytest.fixture
def fresh_database(settings: Settings) -> Iterator[str]:
    """An empty database in the test server (the athena role may CREATE DATABASE)."""
    name = f"athena_restore_{secrets.token_hex(4)}"
    admin = Database.from_url(settings.database_url)
    with psycopg.connect(
        host=admin.host, port=admin.port, user=admin.user, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(settings.database_url).set(database=name).render_as_string(False)
        finally:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def documents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def moved_aside(root: Path) -> list[Path]:
    return list(root.glob("docs.before-restore-*"))


def write_documents(root: Path) -> None:
    for key, data in DOCUMENTS.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    with Database.from_url(url).connect() as conn:
        return conn.execute(statement).fetchall()


def checksums(url: str) -> dict[str, dict[str, Any]]:
    with Database.from_url(url).connect() as conn:
        return table_checksums(conn)


ATHENA_SCHEMAS = (
    "SELECT nspname FROM pg_namespace WHERE nspname IN ('identity', 'sales', 'charters',"
    " 'vendors', 'pricing', 'finance', 'notifications', 'tours', 'reports', 'jobs')"
)


async def test_the_demo_and_documents_come_back_identical_in_a_fresh_database(
    settings: Settings, fresh_database: str, tmp_path: Path
) -> None:
    await load_all()
    source_docs, restored_docs, folder = tmp_path / "docs", tmp_path / "restored", tmp_path / "b"
    write_documents(source_docs)
    source = settings.database_url

    manifest = await asyncio.to_thread(backup, source, source_docs, folder)

    assert sorted(p.name for p in folder.iterdir()) == ["database.dump", "documents", MANIFEST]
    assert json.loads((folder / MANIFEST).read_text()) == manifest
    assert manifest["pg_dump_version"].startswith("pg_dump (PostgreSQL)")
    tables = manifest["tables"]
    # every schema, alembic's version tables included, with the source's own counts
    for table in ("charters.charters", "finance.invoices", "identity.users"):
        (count,) = query(source, f"SELECT count(*) FROM {table}")[0]  # noqa: S608
        assert tables[table]["rows"] == count > 0
    for schema in ("identity", "charters", "vendors", "finance", "jobs"):
        assert tables[f"{schema}.alembic_version"]["rows"] == 1
    assert manifest["documents"]["files"] == 2
    assert manifest["documents"]["bytes"] == sum(len(d) for d in DOCUMENTS.values())

    await asyncio.to_thread(restore, fresh_database, restored_docs, folder)

    assert await asyncio.to_thread(checksums, fresh_database) == tables
    assert documents(restored_docs) == DOCUMENTS
    versions = "SELECT version_num FROM charters.alembic_version"
    assert query(fresh_database, versions) == query(source, versions)
    ids = "SELECT id::text FROM charters.charters ORDER BY id"
    assert query(fresh_database, ids) == query(source, ids)
    # the checksum sees a one-character change in one row
    with Database.from_url(fresh_database).connect() as conn:
        conn.execute("UPDATE identity.users SET email = 'x' || email WHERE ctid IN"
                     " (SELECT ctid FROM identity.users LIMIT 1)")  # fmt: skip
        conn.commit()
    after = await asyncio.to_thread(checksums, fresh_database)
    assert [t for t in tables if after[t] != tables[t]] == ["identity.users"]


async def test_restore_refuses_a_database_or_documents_folder_in_use(
    settings: Settings, fresh_database: str, tmp_path: Path
) -> None:
    source_docs, folder = tmp_path / "docs", tmp_path / "b"
    write_documents(source_docs)
    await asyncio.to_thread(backup, settings.database_url, source_docs, folder)
    empty_docs = tmp_path / "empty"

    with pytest.raises(BackupError, match="already holds Athena's schemas or tables"):
        await asyncio.to_thread(restore, settings.database_url, empty_docs, folder)
    assert not empty_docs.exists()

    with pytest.raises(BackupError, match="is not empty: restore refuses to overwrite"):
        await asyncio.to_thread(restore, fresh_database, source_docs, folder)
    assert query(fresh_database, ATHENA_SCHEMAS) == []
    assert documents(source_docs) == DOCUMENTS

    # told to, it moves the old folder aside and restores
    (source_docs / "stale.txt").write_bytes(b"old")
    await asyncio.to_thread(restore, fresh_database, source_docs, folder, overwrite_documents=True)
    assert documents(source_docs) == DOCUMENTS
    (aside,) = moved_aside(tmp_path)
    assert documents(aside) == {**DOCUMENTS, "stale.txt": b"old"}


async def test_a_damaged_dump_fails_restore_and_leaves_the_target_empty(
    settings: Settings, fresh_database: str, tmp_path: Path
) -> None:
    folder, target_docs = tmp_path / "b", tmp_path / "restored"
    manifest = await asyncio.to_thread(backup, settings.database_url, tmp_path / "none", folder)
    dump = folder / "database.dump"
    original = dump.read_bytes()
    data = bytearray(original)

    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"database\.dump is corrupted"):
        await asyncio.to_thread(restore, fresh_database, target_docs, folder)
    assert query(fresh_database, ATHENA_SCHEMAS) == []

    # damaged before its checksum was taken: the tail is gone, so pg_restore fails in the
    # last table's data after creating the schemas (which one transaction takes back)
    dump.write_bytes(original[:-16])
    manifest["dump"]["sha256"] = hashlib.sha256(dump.read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match=r"pg_restore .* left as it was"):
        await asyncio.to_thread(restore, fresh_database, target_docs, folder)
    assert query(fresh_database, ATHENA_SCHEMAS) == []
    assert not target_docs.exists()
