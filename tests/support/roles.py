"""Every role an account can hold, in one tuple, for the role tables of the security tests."""

from __future__ import annotations

from protocol.roles import Role

ROLES: tuple[str, ...] = tuple(role.value for role in Role)
