"""`python -m stack`: the whole system on one machine, no Docker (`make run`).

PostgreSQL and Redis from `db.embedded` under `.data/`, migrations, demo
data, one process per subgraph, the router (or, until it exists, a proxy to
the identity subgraph) on port 4000; Ctrl-C stops it all.
"""
