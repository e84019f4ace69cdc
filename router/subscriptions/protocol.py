"""graphql-transport-ws: message types and close codes, shared by both sides.

The numbers are the protocol's own (enisdenjo/graphql-ws PROTOCOL.md), so
any compliant client or subgraph understands why a socket was closed.
"""

from __future__ import annotations

SUBPROTOCOL = "graphql-transport-ws"

CONNECTION_INIT = "connection_init"
CONNECTION_ACK = "connection_ack"
PING = "ping"
PONG = "pong"
SUBSCRIBE = "subscribe"
NEXT = "next"
ERROR = "error"
COMPLETE = "complete"

BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INIT = 4429
