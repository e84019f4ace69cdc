"""Who is asking: built only from a verified access token, never from input."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from subgraphs.kit.auth.roles import STAFF_ROLES, Role


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: uuid.UUID | None = None
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()
    session_id: uuid.UUID | None = None
    #: The staff member acting as this user ("view as client"), if any.
    impersonator_id: uuid.UUID | None = None
    #: For client accounts: the client company the caller acts for.
    client_id: uuid.UUID | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_impersonated(self) -> bool:
        return self.impersonator_id is not None

    def has_any_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Viewer:
        known = {r.value for r in Role}
        actor = claims.get("act") or {}
        return cls(
            user_id=uuid.UUID(str(claims["sub"])),
            roles=frozenset(Role(r) for r in claims.get("roles", ()) if r in known),
            scopes=frozenset(str(s) for s in claims.get("scopes", ())),
            session_id=uuid.UUID(str(claims["sid"])) if claims.get("sid") else None,
            impersonator_id=uuid.UUID(str(actor["sub"])) if actor.get("sub") else None,
            client_id=uuid.UUID(str(claims["client_id"])) if claims.get("client_id") else None,
            claims=dict(claims),
        )


ANONYMOUS = Viewer()
