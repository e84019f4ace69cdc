"""Back up and restore the whole system: the database and the uploaded documents.

python -m db.backup backup [--to DIR]                         # `make backup [TO=DIR]`
python -m db.backup restore --from DIR [--overwrite-documents]  # `make restore FROM=DIR`

A backup folder holds `database.dump` (one `pg_dump -Fc` of the database: every schema
from one snapshot, alembic's version tables included, so a restore brings the migrations'
state too), `documents/` (a copy of `Settings.documents_path`) and `manifest.json`,
written last, so a folder without it is an interrupted backup. The manifest records
the row count and an md5 of every table's rows, computed in SQL inside the very
transaction whose snapshot pg_dump exports: a restore is then checked against exactly
what was dumped, not against a database that moved on while pg_dump ran.

Restore goes only into an empty database (a fresh cluster, or a `CREATE DATABASE`):
restoring over live tables would either fail halfway or silently mix two histories.
pg_restore runs in one transaction, so a damaged dump leaves the target as it was.
Objects are restored owned by the connecting user, without the source's grants: a
fresh cluster has none of the source's other roles.

The PostgreSQL client programs are the ones beside the server programs that
`db.embedded.binaries` finds (the same major version as the embedded server); the
password travels in PGPASSWORD, never on a command line other users can read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from db.embedded.binaries import postgres_binaries
from db.embedded.errors import EmbeddedError

MANIFEST = "manifest.json"
DUMP = "database.dump"
DOCUMENTS = "documents"
FORMAT = 1

#: Row text forms depend on these settings: fixed, so a checksum means the same on both sides.
_STABLE_TEXT = (
    "SET TIME ZONE 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
)
#: Tables holding rows (partitioned parents hold none) outside the system schemas,
#: not an extension's own.
_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2"""
_SCHEMAS = """
    SELECT n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1"""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Database:
    """libpq connection parameters from a SQLAlchemy URL (`postgresql+asyncpg://...`)."""

    host: str
    port: int
    user: str
    password: str | None
    name: str
    sslmode: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Database:
        parsed = make_url(url)
        if not parsed.database:
            raise BackupError(f"the database URL names no database: {parsed!r}")
        ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
        return cls(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            name=parsed.database,
            sslmode=ssl if isinstance(ssl, str) else None,
        )

    def env(self) -> dict[str, str]:
        """The environment for pg_dump/pg_restore: everything but the password is harmless."""
        env = {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.name,
        }
        env.pop("PGPASSWORD", None)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    def connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=self.name,
                sslmode=self.sslmode or "prefer",
            )
        except psycopg.OperationalError as exc:
            raise BackupError(
                f"cannot connect to database {self.name!r} at {self.host}:{self.port}: {exc}"
            ) from exc

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.name}"


# -- the client programs ---------------------------------------------------------


def client_program(name: str) -> str:
    """pg_dump or pg_restore of the embedded server's version, with a clear error if absent."""
    try:
        bins = postgres_binaries(install=False)
    except EmbeddedError as exc:
        raise BackupError(f"{exc}: run `make install` first") from exc
    path = bins.bindir / name
    if not path.exists():
        raise BackupError(
            f"{name} is not beside the server programs in {bins.bindir}: install the "
            f"client package of that version (Debian: postgresql-client-{bins.bindir.parent.name})"
        )
    return str(path)


def _run(argv: list[str], env: Mapping[str, str], what: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own argv; the password is in env
        argv, env=dict(env), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()[-3000:]}")
    return done.stdout


def pg_dump_version() -> str:
    return _run([client_program("pg_dump"), "--version"], os.environ, "pg_dump --version").strip()


# -- what a database holds ----------------------------------------------------------


def table_checksums(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """Rows and an md5 of their text forms, sorted bytewise, for every table.

    One statement per table in the caller's transaction (a snapshot, at backup). The
    whole table's text is aggregated in memory: fine for this system's sizes.
    """
    for statement in _STABLE_TEXT:
        conn.execute(statement)
    tables = conn.execute(_TABLES).fetchall()
    result: dict[str, dict[str, Any]] = {}
    for schema, table in tables:
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text"
            " COLLATE \"C\"), '')) FROM {}.{} AS r"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        row = conn.execute(query).fetchone()
        assert row is not None  # noqa: S101 - an aggregate always answers one row
        result[f"{schema}.{table}"] = {"rows": int(row[0]), "md5": str(row[1])}
    return result


def sequence_values(conn: psycopg.Connection[Any]) -> dict[str, int | None]:
    """Each sequence's last value: a restore that lost them would reuse ids."""
    rows = conn.execute(
        "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    ).fetchall()
    return {name: (int(value) if value is not None else None) for name, value in rows}


# -- documents -------------------------------------------------------------------------


def documents_summary(root: Path) -> dict[str, Any]:
    """File count, total bytes and one sha256 over every file's relative path and bytes."""
    digest = hashlib.sha256()
    files = 0
    size = 0
    for path in _files(root):
        relative = path.relative_to(root).as_posix()
        content = _sha256(path)
        length = path.stat().st_size
        digest.update(f"{relative}\0{length}\0{content}\n".encode())
        files += 1
        size += length
    return {"files": files, "bytes": size, "sha256": digest.hexdigest()}


def _files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return iter(())
    return iter(sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.as_posix()))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _non_empty(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


# -- backup ----------------------------------------------------------------------------


def default_folder(data_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return data_dir / "backups" / stamp


def backup(database_url: str, documents_dir: Path, folder: Path) -> dict[str, Any]:
    """Dump the database and copy the documents into `folder`; returns the manifest.

    The checksums are computed in the transaction whose snapshot pg_dump dumps. The
    documents are copied after that snapshot, so every file a dumped row names is
    there (files uploaded meanwhile come along too, harmlessly unreferenced).
    """
    db = Database.from_url(database_url)
    if _non_empty(folder):
        raise BackupError(f"{folder} is not empty: choose a new folder for the backup")
    pg_dump = client_program("pg_dump")
    version = pg_dump_version()
    folder.mkdir(parents=True, exist_ok=True)
    created_at = datetime.now(UTC)
    try:
        with db.connect() as conn:
            # before the first statement: psycopg's implicit BEGIN then takes them
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert snapshot is not None  # noqa: S101 - a function call answers one row
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot[0]}", "--file",
                 str(folder / DUMP), "--dbname", db.name],
                db.env(),
                "pg_dump",
            )  # fmt: skip
            tables = table_checksums(conn)
            sequences = sequence_values(conn)
            schemas = [r[0] for r in conn.execute(_SCHEMAS).fetchall()]
            server = conn.execute("SHOW server_version").fetchone()
            conn.rollback()
        if documents_dir.is_dir():
            shutil.copytree(documents_dir, folder / DOCUMENTS, symlinks=False)
        else:
            (folder / DOCUMENTS).mkdir()
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "database": db.describe(),
            "server_version": server[0] if server else None,
            "pg_dump_version": version,
            "dump": {
                "file": DUMP,
                "bytes": (folder / DUMP).stat().st_size,
                "sha256": _sha256(folder / DUMP),
            },
            "schemas": schemas,
            "tables": tables,
            "sequences": sequences,
            "documents": {"folder": DOCUMENTS, **documents_summary(folder / DOCUMENTS)},
        }
        partial = folder / f"{MANIFEST}.partial"
        partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        partial.replace(folder / MANIFEST)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return manifest


# -- restore ---------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(
            f"{folder} is not a backup: it has no {MANIFEST} (an interrupted backup has none)"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def restore(
    database_url: str, documents_dir: Path, folder: Path, *, overwrite_documents: bool = False
) -> dict[str, Any]:
    """Restore `folder` into an empty database and documents folder, then verify it.

    Everything that can be checked beforehand is (the dump's sha256, an empty
    target, the documents folder), so a refusal changes nothing; pg_restore runs in
    one transaction. Returns the manifest that was verified.
    """
    manifest = read_manifest(folder)
    dump = folder / manifest["dump"]["file"]
    if not dump.is_file():
        raise BackupError(f"{dump} is missing: nothing was restored")
    if _sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(
            f"{dump} is corrupted: its sha256 differs from the manifest's; nothing was restored"
        )
    saved_documents = folder / manifest["documents"]["folder"]
    if documents_summary(saved_documents) != _documents_expected(manifest):
        raise BackupError(
            f"{saved_documents} differs from the manifest (files changed or missing);"
            " nothing was restored"
        )
    if _non_empty(documents_dir) and not overwrite_documents:
        raise BackupError(
            f"the documents folder {documents_dir} is not empty: restore refuses to overwrite it"
            " (pass --overwrite-documents, OVERWRITE_DOCUMENTS=1 to make, to move it aside)"
        )
    db = Database.from_url(database_url)
    with db.connect() as conn:
        _refuse_non_empty(conn, db, manifest)
    _run(
        [client_program("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
         "--no-privileges", "--dbname", db.name, str(dump)],
        db.env(),
        f"pg_restore of {dump} (the target database was left as it was)",
    )  # fmt: skip
    with db.connect() as conn:
        tables = table_checksums(conn)
        sequences = sequence_values(conn)
        conn.rollback()
    _verify(manifest, tables, sequences, db)
    _restore_documents(saved_documents, documents_dir, manifest)
    return manifest


def _documents_expected(manifest: Mapping[str, Any]) -> dict[str, Any]:
    saved = manifest["documents"]
    return {"files": saved["files"], "bytes": saved["bytes"], "sha256": saved["sha256"]}


def _refuse_non_empty(
    conn: psycopg.Connection[Any], db: Database, manifest: Mapping[str, Any]
) -> None:
    schemas = {r[0] for r in conn.execute(_SCHEMAS).fetchall()}
    clashing = sorted(schemas & (set(manifest["schemas"]) - {"public"}))
    tables = {f"{s}.{t}" for s, t in conn.execute(_TABLES).fetchall()}
    clashing += sorted(tables & set(manifest["tables"]))
    conn.rollback()
    if clashing:
        shown = ", ".join(clashing[:8]) + (" ..." if len(clashing) > 8 else "")
        raise BackupError(
            f"database {db.describe()} already holds Athena's schemas or tables ({shown}):"
            " restore only into an empty database (a fresh cluster, or CREATE DATABASE);"
            " nothing was restored"
        )


def _verify(
    manifest: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, Any]],
    sequences: Mapping[str, int | None],
    db: Database,
) -> None:
    expected: Mapping[str, Mapping[str, Any]] = manifest["tables"]
    wrong = [name for name in expected if dict(tables.get(name, {})) != dict(expected[name])]
    wrong += [name for name in tables if name not in expected]
    wrong += [
        name
        for name, value in manifest.get("sequences", {}).items()
        if sequences.get(name) != value
    ]
    if wrong:
        raise BackupError(
            f"restored into {db.describe()}, but these differ from the manifest: "
            + ", ".join(sorted(wrong))
        )


def _restore_documents(saved: Path, target: Path, manifest: Mapping[str, Any]) -> None:
    """Copy the saved documents; a non-empty target (when allowed) is moved aside, kept."""
    if _non_empty(target):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(saved, target, dirs_exist_ok=True)
    if documents_summary(target) != _documents_expected(manifest):
        raise BackupError(f"the documents copied to {target} differ from the manifest")


# -- the command line ------------------------------------------------------------------


@contextmanager
def _embedded_postgres_if_stopped(for_restore: bool) -> Iterator[None]:
    """With the default (embedded) DATABASE_URL and `make run` stopped, start its PostgreSQL.

    A backup needs an initialised cluster; a restore may start a fresh one (an
    empty `athena` database), which is how a new machine is restored.
    """
    from subgraphs.kit.settings import EMBEDDED_POSTGRES_PORT, Settings, get_settings

    settings = get_settings()
    default_url = Settings.model_fields["database_url"].default
    if settings.database_url != default_url or _listening("127.0.0.1", EMBEDDED_POSTGRES_PORT):
        yield
        return
    from db.embedded import EmbeddedPostgres

    data = settings.data_dir.resolve() / "postgres"
    if not for_restore and not (data / "initialised").exists():
        raise BackupError(f"no database to back up: {data} holds no embedded cluster")
    print(f"db.backup: starting the embedded PostgreSQL ({data}) for the duration", flush=True)
    server = EmbeddedPostgres(
        data, EMBEDDED_POSTGRES_PORT, log_path=settings.data_dir.resolve() / "logs/postgres.log"
    )
    with server:
        yield


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    from subgraphs.kit.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m db.backup")
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("backup", help="dump DATABASE_URL and the documents into a folder")
    make.add_argument("--to", type=Path, help="the folder (default: <data_dir>/backups/<UTC>)")
    back = sub.add_parser("restore", help="restore a backup folder into an empty database")
    back.add_argument("--from", dest="source", type=Path, required=True)
    back.add_argument("--overwrite-documents", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        with ExitStack() as stack:
            stack.enter_context(_embedded_postgres_if_stopped(args.action == "restore"))
            if args.action == "backup":
                folder = (args.to or default_folder(settings.data_dir)).resolve()
                manifest = backup(settings.database_url, settings.documents_path, folder)
                rows = sum(t["rows"] for t in manifest["tables"].values())
                print(
                    f"backup: {folder}: {len(manifest['tables'])} tables, {rows} rows,"
                    f" {manifest['documents']['files']} documents"
                )
            else:
                manifest = restore(
                    settings.database_url,
                    settings.documents_path,
                    args.source.resolve(),
                    overwrite_documents=args.overwrite_documents,
                )
                print(
                    f"restore: {args.source} (made {manifest['created_at']}) restored and"
                    f" verified: {len(manifest['tables'])} tables,"
                    f" {manifest['documents']['files']} documents"
                )
    except (BackupError, EmbeddedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
