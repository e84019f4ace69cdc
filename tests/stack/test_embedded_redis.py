from __future__ import annotations

import socket
from pathlib import Path

import pytest
from redis import Redis

from db.embedded import EmbeddedRedis, PortInUseError, TemporaryServers, free_port
from db.embedded.processes import pid_alive


def test_connects(servers: TemporaryServers) -> None:
    client = Redis.from_url(servers.redis.url)
    try:
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    finally:
        client.close()


def test_persistent_restart_keeps_data(scratch: Path) -> None:
    server = EmbeddedRedis(scratch / "redis", free_port())
    with server:
        client = Redis.from_url(server.url)
        client.set("kept", "yes")
        client.close()
    assert not server.pid_file.exists()  # clean shutdown removes it
    with server:
        client = Redis.from_url(server.url)
        assert client.get("kept") == b"yes"
        assert client.config_get("appendonly")["appendonly"] == "yes"
        client.close()


def test_stale_pid_file_does_not_block(scratch: Path, stranger: int) -> None:
    server = EmbeddedRedis(scratch / "redis", free_port(), ephemeral=True)
    server.data_dir.mkdir(parents=True)
    server.pid_file.write_text(f"{stranger}\n")
    with server:
        client = Redis.from_url(server.url)
        assert client.ping()
        client.close()
    assert pid_alive(stranger)


def test_orphan_on_the_same_port_is_stopped(scratch: Path) -> None:
    port = free_port()
    old = EmbeddedRedis(scratch / "redis", port, ephemeral=True)
    old.start()
    new = EmbeddedRedis(scratch / "redis", port, ephemeral=True)
    try:
        new.start()
        assert old._proc is not None
        old._proc.wait(10)
        assert new.running
    finally:
        new.stop()
        old.stop()


def test_busy_port_is_named(scratch: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(PortInUseError, match=f"port {port}.*Redis"):
            EmbeddedRedis(scratch / "redis", port).start()
