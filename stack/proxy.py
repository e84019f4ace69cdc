"""A byte-level TCP proxy: the router's port until the router exists.

The issue asks for http://127.0.0.1:4000/graphql to work from the first
subgraph on. Forwarding raw bytes to the identity subgraph (rather than a
second identity process) keeps one source of signing keys and sessions and
carries HTTP keep-alive and WebSocket upgrades without understanding them.

Run: python -m stack.proxy --port 4000 --target-port 4101
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

LOCALHOST = "127.0.0.1"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof() if writer.can_write_eof() else writer.close()


async def _handle(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    target_port: int,
) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(LOCALHOST, target_port)
    except OSError:
        # The target is down: answer like a gateway would, so health checks fail clearly.
        client_writer.write(
            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            await client_writer.drain()
        client_writer.close()
        return
    await asyncio.gather(
        _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
    )
    for writer in (client_writer, upstream_writer):
        writer.close()


async def serve(port: int, target_port: int) -> None:
    """Forward every connection on 127.0.0.1:`port` to 127.0.0.1:`target_port` until SIGTERM."""
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, target_port), LOCALHOST, port, reuse_address=True
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target-port", type=int, required=True)
    args = parser.parse_args(argv)
    print(f"proxy: 127.0.0.1:{args.port} -> 127.0.0.1:{args.target_port}", flush=True)
    asyncio.run(serve(args.port, args.target_port))


if __name__ == "__main__":
    main()
