"""Reading a Federation v2 supergraph into an API schema and per-subgraph models."""
