"""`python -m router --supergraph PATH --port N`."""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> int:
    from router.config import UnsafeConfigError, load_config, refuse_unsafe_config

    config = load_config(argv)
    from router.observability.logs import configure

    configure(config.log_level)  # LOG_FORMAT json|text, secrets redacted
    try:  # production never starts with a missing or published secret
        refuse_unsafe_config(config)
    except UnsafeConfigError as exc:
        logging.getLogger("router").error("%s", exc)
        return 2
    import uvicorn

    from router.server.app import create_app
    from router.server.holder import GatewayHolder

    holder = GatewayHolder(config)
    holder.try_load()  # before the socket opens, so /health is true from the first poll
    app = create_app(config, holder)
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        loop=loop,
        http="httptools",
        log_level=config.log_level,
        access_log=False,
        log_config=None,  # configured above: uvicorn's lines go through the same handler
        lifespan="on",
        # The peer is who connected: the router appends it to X-Forwarded-For for
        # the subgraphs and believes nobody's header itself (they decide whom to
        # trust); uvicorn's default would replace it with a header from localhost.
        proxy_headers=False,
        # Open SSE streams must not hold shutdown (uvicorn waits for responses).
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
