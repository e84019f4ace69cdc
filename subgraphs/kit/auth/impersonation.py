"""“View as client” is read-only: the one statement of what it may still write.

Staff impersonating a client see the portal as the client does; a write
made in that session would be recorded as the client's own (a rating, an
acceptance, a payment). Every mutation is refused in an impersonated
session except the ones named here, which only end or renew that session.
"""

from __future__ import annotations

from typing import Final

#: Mutations an impersonated session may run, by GraphQL field name.
MUTATIONS_ALLOWED_WHILE_IMPERSONATING: Final = frozenset(
    {
        "stopImpersonation",  # ends the impersonated session
        "logout",  # ends it too
        "refreshToken",  # renews it (no viewer: the refresh token is the credential)
    }
)

NOT_ALLOWED_WHILE_IMPERSONATING: Final = "NOT_ALLOWED_WHILE_IMPERSONATING"
