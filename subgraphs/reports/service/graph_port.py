"""Where runs ask the graph: a port, and its adapter over HTTP to the router.

A run asks the router, not the subgraphs, and with the caller's own
`Authorization` header, so every subgraph applies its own rules to the
reader and a report never shows a row its reader could not read. Anything
short of a clean answer (unreachable, a timeout, a non-200, any GraphQL
error, even with partial data) is `RunFailed`: a report with holes in it
would be read as complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from subgraphs.kit.context import Services

#: Seconds one page may take; a run is many pages, each bounded.
TIMEOUT = 30.0
#: Services.extra key of the process's pooled client.
CLIENT_KEY = "reports.graph_client"
MAX_ERRORS = 3


class RunFailed(Exception):
    """The graph did not answer a page cleanly; the message says why, for the run's record."""


class GraphPort(Protocol):
    async def query(
        self, document: str, variables: dict[str, Any], authorization: str | None
    ) -> dict[str, Any]:
        """The `data` of one request; raises RunFailed for errors or no answer."""
        ...


def _errors(errors: list[Any]) -> str:
    messages = []
    for error in errors[:MAX_ERRORS]:
        message = str(error.get("message")) if isinstance(error, dict) else str(error)
        path = error.get("path") if isinstance(error, dict) else None
        messages.append(f"{message} (at {'.'.join(map(str, path))})" if path else message)
    more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
    return "The graph answered with errors: " + "; ".join(messages) + more


class HttpGraph:
    """GraphQL over HTTP to one URL (the router) through a pooled keep-alive client."""

    def __init__(self, client: httpx.AsyncClient, url: str, timeout: float = TIMEOUT) -> None:
        self.client = client
        self.url = url
        self.timeout = timeout

    async def query(
        self, document: str, variables: dict[str, Any], authorization: str | None
    ) -> dict[str, Any]:
        headers = {"Accept": "application/graphql-response+json, application/json"}
        if authorization:
            headers["Authorization"] = authorization
        try:
            response = await self.client.post(
                self.url,
                json={"query": document, "variables": variables},
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise RunFailed(f"The graph could not be reached: {exc!r}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RunFailed(f"The graph answered HTTP {response.status_code} without GraphQL.")
        if body.get("errors"):
            raise RunFailed(_errors(list(body["errors"])))
        data = body.get("data")
        if response.status_code != 200 or not isinstance(data, dict):
            raise RunFailed(f"The graph answered HTTP {response.status_code} with no data.")
        return data


def http_graph(services: Services) -> HttpGraph:
    """The process's adapter to the router: one pooled client, made on first use."""
    client = services.extra.get(CLIENT_KEY)
    if client is None:
        client = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=10))
        services.extra[CLIENT_KEY] = client
    return HttpGraph(client, services.settings.reports_graph_url)


async def close(services: Services) -> None:
    """Shutdown hook: close the pooled client if a run made one."""
    client = services.extra.pop(CLIENT_KEY, None)
    if client is not None:
        await client.aclose()
