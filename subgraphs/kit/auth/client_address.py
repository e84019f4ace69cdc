"""The caller's network address, as far as it can be known.

Behind the router every subgraph request comes from the router's address,
so per-address limits keyed on the TCP peer would lump every caller
together (20 failed logins by anyone blocked all logins). The router
appends the peer it saw to `X-Forwarded-For`; a subgraph believes that
header only from peers it is configured to trust, and takes the rightmost
entry that is not itself a trusted proxy: entries to its left may have
been written by the client and are never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(value: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip()
    )


def _is_trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The first untrusted hop walking `X-Forwarded-For` from the right."""
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address
