"""Run one subgraph under uvicorn: what `python -m subgraphs.<name>` does."""

from __future__ import annotations

import logging

import uvicorn

from subgraphs.kit.settings import get_settings


def serve(name: str) -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s %(levelname)s {name} %(name)s: %(message)s",
    )
    uvicorn.run(
        f"subgraphs.{name}.app:app",
        host=settings.host,
        port=settings.port_of(name),
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        # The kit decides whose X-Forwarded-For to believe (kit/auth/client_address.py);
        # uvicorn's default would already have replaced the peer for localhost.
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
