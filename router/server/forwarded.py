"""`X-Forwarded-For` for subgraphs: who the router's caller was.

Every subgraph request comes from the router's address, so per-address
limits in the subgraphs (failed logins, password resets) would lump all
callers together unless the router says who asked. It appends the TCP peer
it saw to whatever `X-Forwarded-For` the request carried: the subgraph
trusts the router (and any load balancer it is configured to trust) and
takes the rightmost entry that is not a trusted proxy, so what a client
wrote to the left is kept for the logs but never believed.

The router does not drop or rewrite the incoming value: behind a load
balancer, that value's last entry is the real caller, and only the
subgraph's trusted-proxy list decides how far to believe it.
"""

from __future__ import annotations

from collections.abc import Iterable

HEADER = "x-forwarded-for"
#: a peer the server could not name (a Unix socket): never a trusted proxy
UNKNOWN = "unknown"


def forwarded_for(incoming: Iterable[str], peer: str | None) -> str:
    """The value to send on: the incoming header(s), then the peer.

    Several incoming `X-Forwarded-For` headers are one list in order
    (RFC 9110 field lines combine with commas).
    """
    hops = [h.strip() for value in incoming for h in value.split(",") if h.strip()]
    hops.append(peer or UNKNOWN)
    return ", ".join(hops)
