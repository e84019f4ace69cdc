"""What crosses the wire between the router and the subgraphs.

Two deployables speak it: the router (`router/`) and every subgraph
(`subgraphs/`). Neither may import the other, so the rules both must apply
the same way live here: the claims of an access token (`viewer`, `roles`),
how one is verified (`tokens`), which sessions have ended (`revocation`),
how a subgraph knows a request came through the router (`router_credential`)
and what the custom scalars accept (`scalars`). Nothing here imports
`router` or `subgraphs`; only third-party libraries.
"""
