from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import asyncpg
import pytest

from db.embedded import (
    EmbeddedPostgres,
    PortInUseError,
    TemporaryServers,
    free_port,
)
from db.embedded.processes import pid_alive


async def _fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql)
        return rows
    finally:
        await conn.close()


async def test_connects_as_athena_with_btree_gist(servers: TemporaryServers) -> None:
    pg = servers.postgres
    assert pg.url == f"postgresql+asyncpg://athena@127.0.0.1:{pg.port}/athena"
    conn = await asyncpg.connect(pg.dsn())
    try:
        assert await conn.fetchval("SELECT current_user") == "athena"
        assert await conn.fetchval("SELECT current_database()") == "athena"
        assert int(await conn.fetchval("SHOW max_connections")) >= 300
        assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
        assert await conn.fetchval("SHOW fsync") == "off"  # ephemeral
        # Migrations create it as the database owner (it is a trusted extension).
        await conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    finally:
        await conn.close()


async def test_restart_keeps_data(servers: TemporaryServers) -> None:
    pg = servers.postgres
    await _fetch(pg.dsn(), "CREATE TABLE kept AS SELECT 42 AS answer")
    pg.stop()
    assert not pg.running
    pg.start()
    assert await _fetch(pg.dsn(), "SELECT answer FROM kept") == [(42,)]


async def test_stale_pid_file_of_another_process_does_not_block(
    servers: TemporaryServers, stranger: int
) -> None:
    pg = servers.postgres
    pg.stop()
    (pg.pgdata / "postmaster.pid").write_text(f"{stranger}\n{pg.pgdata}\n")
    pg.start()
    assert await _fetch(pg.dsn(), "SELECT 1 AS one") == [(1,)]
    assert pid_alive(stranger), "a stranger's pid must never be signalled"


async def test_orphan_of_the_same_data_dir_is_stopped(servers: TemporaryServers) -> None:
    """A server left running by a dead launcher is ours to stop, not a blocker."""
    old = servers.postgres
    orphan_pid = old.pid
    assert orphan_pid is not None
    new = EmbeddedPostgres(old.data_dir, old.port, ephemeral=True)
    new.start()
    assert old._proc is not None
    old._proc.wait(10)  # reap: the orphan was stopped by `new`
    servers.postgres = new  # the session fixture stops whatever is current
    assert await _fetch(new.dsn(), "SELECT 1 AS one") == [(1,)]


def test_busy_port_is_named_before_anything_starts(scratch: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", port))
        busy.listen()
        pg = EmbeddedPostgres(scratch / "pg", port)
        with pytest.raises(PortInUseError, match=f"port {port}") as info:
            pg.start()
    assert info.value.port == port
    assert "PostgreSQL" in str(info.value)
    assert not (scratch / "pg" / "pgdata").exists()


async def test_persistent_cluster_survives_a_crash(scratch: Path) -> None:
    """`make run` killed hard: committed data is there and the next start works."""
    pg = EmbeddedPostgres(scratch / "pg", free_port())
    try:
        pg.start()
        assert (scratch / "pg" / "initialised").exists()
        created = (pg.pgdata / "PG_VERSION").stat().st_mtime_ns
        await _fetch(pg.dsn(), "CREATE TABLE survived AS SELECT 7 AS n")
        assert pg.pid is not None
        os.kill(pg.pid, signal.SIGKILL)
        assert pg._proc is not None
        pg._proc.wait()
        assert (pg.pgdata / "postmaster.pid").exists()
        pg.start()
        assert await _fetch(pg.dsn(), "SELECT n FROM survived") == [(7,)]
        assert (pg.pgdata / "PG_VERSION").stat().st_mtime_ns == created  # reused, not re-made
    finally:
        pg.stop()
    assert not (pg.pgdata / "postmaster.pid").exists()  # clean shutdown
