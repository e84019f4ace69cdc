"""Running a schedule as its owner: delegation grants from identity, and tokens from them.

Reports has no token of its own (issue 16 §3): a scheduled report must show
what its OWNER may see, so it asks the graph with the owner's access token.
When the owner creates or enables a schedule (with their own bearer token),
reports asks identity's `createDelegationGrant` for a grant and keeps its
id and secret on the schedule; at each run it trades them, at identity's
internal route, for a 5-minute token of the owner with the owner's current
roles, refused once the grant is revoked or the owner disabled. That token
only reads (`Viewer.delegate`): a report can show, never change.

The ports are `RunTokens` (what the delivery job needs) and `Delegations`
(what schedule changes need); `IdentityRunTokens` is both, over HTTP, its
requests signed with the router credential when one is configured (the
internal route and, in production, identity's GraphQL hear nothing else),
as `subgraphs/sales/service/charters_port.py` signs its calls to charters.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from protocol import router_credential
from subgraphs.reports.service.graph_port import RunFailed

if TYPE_CHECKING:
    from subgraphs.kit.context import Services
    from subgraphs.reports.models import ReportSchedule

log = logging.getLogger(__name__)

CREATE_GRANT = """
mutation ReportsDelegationGrant($purpose: String!) {
  createDelegationGrant(purpose: $purpose) {
    grant { id }
    secret
    userErrors { field code message }
  }
}"""
TOKEN_PATH = "/internal/delegated-token"  # noqa: S105 - a path, not a password
REVOKE_PATH = "/internal/delegation-grants/revoke"
TIMEOUT = 10.0
#: Services.extra key of the process's adapter (one pooled client).
SERVICE_KEY = "reports.run_tokens"


@dataclass(frozen=True)
class Grant:
    id: uuid.UUID
    secret: str


class DelegationRefused(Exception):
    """Identity would not grant: the caller's token, account or input (the message says)."""


class IdentityUnavailable(RunFailed):
    """Identity could not be asked or did not answer; the same call may be retried."""


class RunTokenRefused(RunFailed):
    """No token for the owner: no grant, a revoked one, or a disabled owner (the message says)."""


class RunTokens(Protocol):
    async def token_for(self, schedule: ReportSchedule) -> str:
        """An access token of the schedule's owner (raw, without `Bearer `); RunFailed if none."""
        ...


class Delegations(Protocol):
    async def grant(self, authorization: str, purpose: str) -> Grant:
        """A new grant of the caller (`authorization` is its own header): DelegationRefused."""
        ...

    async def give_up(self, grant_id: uuid.UUID, secret: str) -> None:
        """Revoke a grant reports holds and no longer needs (best effort: never raises)."""
        ...


def purpose_of(schedule_id: uuid.UUID) -> str:
    return f"report schedule {schedule_id}"


@dataclass
class IdentityRunTokens:
    http: httpx.AsyncClient
    base_url: str
    router_secrets: Sequence[str] = ()
    timeout: float = TIMEOUT

    async def _post(self, path: str, payload: dict[str, Any], **headers: str) -> httpx.Response:
        body = json.dumps(payload).encode()
        sent = {"content-type": "application/json", "accept": "application/json", **headers}
        if self.router_secrets:
            sent[router_credential.HEADER] = router_credential.sign(self.router_secrets[0], body)
        try:
            return await self.http.post(
                self.base_url + path, content=body, headers=sent, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"Identity could not be reached: {exc!r}") from exc

    async def grant(self, authorization: str, purpose: str) -> Grant:
        response = await self._post(
            "/graphql",
            {"query": CREATE_GRANT, "variables": {"purpose": purpose}},
            authorization=authorization,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise IdentityUnavailable(f"Identity answered HTTP {response.status_code}.")
        errors = answer.get("errors") or []
        if errors:
            messages = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
            raise DelegationRefused(messages or "Identity refused the grant.")
        payload = (answer.get("data") or {}).get("createDelegationGrant") or {}
        problems = payload.get("userErrors") or []
        if problems:
            raise DelegationRefused("; ".join(str(p.get("message")) for p in problems))
        try:
            return Grant(id=uuid.UUID(payload["grant"]["id"]), secret=str(payload["secret"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise IdentityUnavailable("Identity answered neither a grant nor a reason.") from exc

    async def give_up(self, grant_id: uuid.UUID, secret: str) -> None:
        try:
            response = await self._post(REVOKE_PATH, {"grantId": str(grant_id), "secret": secret})
        except IdentityUnavailable as exc:
            log.warning("could not revoke delegation grant %s: %s", grant_id, exc)
            return
        if response.status_code != 200:
            log.warning(
                "identity refused to revoke delegation grant %s: HTTP %s",
                grant_id,
                response.status_code,
            )

    async def token_for(self, schedule: ReportSchedule) -> str:
        grant_id, secret = schedule.delegation_grant_id, schedule.delegation_secret
        if grant_id is None or not secret or schedule.owner_id is None:
            raise RunTokenRefused(
                "The schedule holds no grant to run as its owner; its owner must enable it again."
            )
        response = await self._post(TOKEN_PATH, {"grantId": str(grant_id), "secret": secret})
        try:
            answer = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        if response.status_code == 403:
            raise RunTokenRefused(
                f"Identity refused to run it as its owner ({answer.get('error')}): "
                f"{answer.get('message')} The owner must enable it again."
            )
        token = answer.get("accessToken")
        if response.status_code != 200 or not isinstance(token, str):
            raise IdentityUnavailable(
                f"Identity answered HTTP {response.status_code} without a token "
                f"({answer.get('error')})."
            )
        if answer.get("userId") != str(schedule.owner_id):
            # The grant is the schedule's owner's or it is nobody's: never run as someone else.
            raise RunTokenRefused("The schedule's grant belongs to another account than its owner.")
        return token


def identity_run_tokens(services: Services) -> IdentityRunTokens:
    """The process's adapter: one pooled client, made on first use."""
    adapter = services.extra.get(SERVICE_KEY)
    if adapter is None:
        adapter = IdentityRunTokens(
            httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=5)),
            services.settings.reports_identity_base_url,
            services.settings.router_secret_list,
        )
        services.extra[SERVICE_KEY] = adapter
    return adapter


async def close(services: Services) -> None:
    """Shutdown hook: close the pooled client if one was made."""
    adapter = services.extra.pop(SERVICE_KEY, None)
    if adapter is not None:
        await adapter.http.aclose()
