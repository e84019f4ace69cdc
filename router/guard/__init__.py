"""The request guard: limits, persisted queries, CSRF, authentication and authorization.

Each module is independent; the server and gateway call them in this order:
CSRF, persisted queries, (parse/validate), limits, authorization.
"""
