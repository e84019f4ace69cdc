"""Issue 8, "Also": every identity mutation, asked by every role.

The expected table is data: for each field of identity's `Mutation` type,
the roles allowed past its role gate. Roles not allowed get FORBIDDEN, an
anonymous caller UNAUTHENTICATED (unless anyone may call it); allowed
callers may still get user errors or NOT_FOUND for the made-up arguments,
but never an auth error. A mutation missing from the table fails the test,
so a new mutation cannot ship without saying who may call it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from protocol.roles import STAFF_ROLES
from subgraphs.identity.app import schema
from tests.support.roles import ROLES

ANONYMOUS = "anonymous"
CALLERS = (*ROLES, ANONYMOUS)
AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
NOWHERE = str(uuid.UUID(int=1))

ANYONE = frozenset(CALLERS)
LOGGED_IN = frozenset(ROLES)
ADMIN = frozenset({"admin"})
STAFF = frozenset(r.value for r in STAFF_ROLES)


@dataclass(frozen=True)
class Expect:
    allowed: frozenset[str]
    arguments: str = ""


#: Who may call each identity mutation (made-up arguments: the gate comes first).
EXPECTED: dict[str, Expect] = {
    "login": Expect(ANYONE, 'email: "nobody@example.com", password: "wrong password!"'),
    "refreshToken": Expect(ANYONE, 'refreshToken: "made-up"'),
    "requestPasswordReset": Expect(ANYONE, 'email: "nobody@example.com"'),
    "resetPassword": Expect(ANYONE, 'token: "made-up", newPassword: "a long new password"'),
    "logout": Expect(LOGGED_IN),
    "changePassword": Expect(
        LOGGED_IN, 'currentPassword: "wrong password!", newPassword: "a long new password"'
    ),
    "enrollMfa": Expect(LOGGED_IN),
    "confirmMfa": Expect(LOGGED_IN, 'code: "000000"'),
    "disableMfa": Expect(LOGGED_IN, 'code: "000000"'),
    "createUser": Expect(
        ADMIN,
        'input: {email: "made.up@example.com", name: "Made Up", roles: [CLIENT],'
        ' password: "a long new password"}',
    ),
    "updateUser": Expect(ADMIN, f'id: "{NOWHERE}", input: {{name: "Renamed"}}'),
    "setUserRoles": Expect(ADMIN, f'id: "{NOWHERE}", roles: [CLIENT]'),
    "setUserClient": Expect(ADMIN, f'id: "{NOWHERE}", clientId: null'),
    "disableUser": Expect(ADMIN, f'id: "{NOWHERE}"'),
    "enableUser": Expect(ADMIN, f'id: "{NOWHERE}"'),
    # Sales agents only for their own clients: not possible before issue 10.
    "startImpersonation": Expect(
        frozenset({"admin", "manager", "sales_support"}), f'userId: "{NOWHERE}"'
    ),
    "stopImpersonation": Expect(LOGGED_IN),
    # Issue 16: staff let reports run their scheduled reports as them.
    "createDelegationGrant": Expect(STAFF, 'purpose: "made up"'),
    "revokeDelegationGrant": Expect(STAFF, f'id: "{NOWHERE}"'),
}


def mutation_fields() -> set[str]:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    return set(mutation.fields)


def test_finding_also_every_identity_mutation_is_in_the_role_table():
    assert mutation_fields() == set(EXPECTED)


def expected_codes(name: str, caller: str) -> list[str]:
    if caller in EXPECTED[name].allowed:
        return []
    return ["UNAUTHENTICATED"] if caller == ANONYMOUS else ["FORBIDDEN"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_finding_also_every_role_meets_each_mutations_gate(name, gql, mint):
    expect = EXPECTED[name]
    arguments = f"({expect.arguments})" if expect.arguments else ""
    query = f"mutation {{ {name}{arguments} {{ __typename }} }}"

    seen: dict[str, list[str]] = {}
    for caller in CALLERS:
        token = None if caller == ANONYMOUS else await mint(caller)
        response = await gql(query, token=token)
        assert response.status_code == 200, response.body
        seen[caller] = [str(c) for c in response.error_codes if c in AUTH_CODES]

    assert seen == {caller: expected_codes(name, caller) for caller in CALLERS}
