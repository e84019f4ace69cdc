"""A small GraphQL-over-HTTP client for tests, with the bearer token handled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class GraphQLResponse:
    status_code: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def error_codes(self) -> list[str | None]:
        return [(e.get("extensions") or {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        assert self.status_code == 200, self.body
        assert not self.errors, self.errors
        return self.data


@dataclass
class GraphQLClient:
    url: str
    http: httpx.AsyncClient
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        sent = {"content-type": "application/json", **self.headers, **(headers or {})}
        bearer = token if token is not None else self.token
        if bearer:
            sent["authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=sent
        )
        return GraphQLResponse(response.status_code, response.json())

    def as_user(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.url, self.http, token, dict(self.headers))
