"""Who is asking: built only from a verified access token, never from input."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.roles import STAFF_ROLES, Role

#: The services a user may delegate to (identity's `delegation_grants.audience`).
DELEGATES = frozenset({"reports"})


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
    #: The service acting for this user through a delegation grant ("reports" running
    #: the user's scheduled report): the token's `act.sub` when it names a service,
    #: not a staff member. Such a token only reads (`subgraphs/kit/guard.py`).
    delegate: str | None = None
    #: Any staff role: asked on every governed field of an answer, so worked out once.
    is_staff: bool = field(init=False, default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_staff", bool(self.roles & STAFF_ROLES))

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_impersonated(self) -> bool:
        return self.impersonator_id is not None

    @property
    def is_delegated(self) -> bool:
        return self.delegate is not None

    def has_any_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Viewer:
        known = {r.value for r in Role}
        actor = claims.get("act") or {}
        acting = str(actor["sub"]) if actor.get("sub") else None
        # RFC 8693's actor: a staff member's id (impersonation), or a service's name
        # (a delegation grant: identity mints those, naming the service).
        delegate = acting if acting in DELEGATES else None
        return cls(
            user_id=uuid.UUID(str(claims["sub"])),
            roles=frozenset(Role(r) for r in claims.get("roles", ()) if r in known),
            scopes=frozenset(str(s) for s in claims.get("scopes", ())),
            session_id=uuid.UUID(str(claims["sid"])) if claims.get("sid") else None,
            impersonator_id=uuid.UUID(acting) if acting and delegate is None else None,
            client_id=uuid.UUID(str(claims["client_id"])) if claims.get("client_id") else None,
            claims=dict(claims),
            delegate=delegate,
        )


ANONYMOUS = Viewer()
