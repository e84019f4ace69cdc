"""Ports for test servers: never one the kernel may give an outgoing connection meanwhile."""

from __future__ import annotations

import socket

from db.embedded import ports


def test_a_free_port_lies_below_the_ephemeral_range_and_binds() -> None:
    start = ports._ephemeral_start()
    picked = {ports.free_port() for _ in range(20)}
    assert all(ports.LOWEST <= port < start for port in picked)
    for port in picked:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((ports.LOCALHOST, port))


def test_a_port_someone_listens_on_is_not_free() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ports.LOCALHOST, ports.free_port()))
        sock.listen()
        assert not ports.port_is_free(sock.getsockname()[1])
