import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import build_schema, parse, print_ast, validate

from protocol.tokens import TokenVerifier
from protocol.viewer import ANONYMOUS, Viewer
from router.guard.auth import (
    Authenticator,
    AuthIndex,
    Requirement,
    authorize_operation,
)
from tests.router_edge.conftest import RENAMED_SDL, SUPERGRAPH_SDL

USER = Viewer(user_id=uuid.uuid4())


def scoped(*scopes: str) -> Viewer:
    return Viewer(user_id=uuid.uuid4(), scopes=frozenset(scopes))


def err(*path: str) -> dict:
    return {
        "message": "Unauthorized field or type",
        "path": list(path),
        "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
    }


@pytest.fixture(scope="module")
def index(supergraph_schema):
    return AuthIndex.build(SUPERGRAPH_SDL, supergraph_schema)


def test_index_reads_the_directives_as_the_composer_writes_them(index):
    assert index.types == {
        "Token": Requirement(scopes=frozenset({frozenset({"tok"})})),
        "Secret": Requirement(authenticated=True),
        "Level": Requirement(authenticated=True),
    }
    assert index.fields == {
        ("Query", "me"): Requirement(authenticated=True),
        ("Query", "users"): Requirement(
            scopes=frozenset({frozenset({"read:users"}), frozenset({"admin"})})
        ),
        ("User", "email"): Requirement(scopes=frozenset({frozenset({"read:email", "read:users"})})),
        ("User", "salary"): Requirement(True, frozenset({frozenset({"hr"})})),
    }


def test_index_follows_renames_through_link():
    schema = build_schema(RENAMED_SDL)
    index = AuthIndex.build(parse(RENAMED_SDL), schema)
    assert index.fields == {
        ("Query", "a"): Requirement(authenticated=True),
        ("Query", "b"): Requirement(scopes=frozenset({frozenset({"x", "y"})})),
    }


def test_requirements_combine_as_and_of_ors():
    a = Requirement(scopes=frozenset({frozenset({"a"}), frozenset({"b"})}))
    c = Requirement(authenticated=True, scopes=frozenset({frozenset({"c"})}))
    both = a & c
    assert both == Requirement(True, frozenset({frozenset({"a", "c"}), frozenset({"b", "c"})}))
    assert both.allows(scoped("b", "c"))
    assert not both.allows(scoped("a", "b"))
    assert not both.allows(ANONYMOUS)


def run(index, schema, query, viewer, variables=None, name=None):
    doc = parse(query)
    assert validate(schema, doc) == []
    decision = authorize_operation(index, doc, name, variables, viewer)
    assert validate(schema, decision.document) == []
    return decision


def test_an_allowed_operation_is_returned_untouched(index, supergraph_schema):
    doc = parse("{ me { name email } users { id } }")
    decision = authorize_operation(index, doc, None, None, scoped("read:users", "read:email"))
    assert decision.document is doc
    assert (decision.errors, decision.denied, decision.cache_key) == ([], [], ())


def test_anonymous_callers_lose_protected_fields_and_keep_the_rest(index, supergraph_schema):
    d = run(index, supergraph_schema, "{ me { name } publicThing other }", ANONYMOUS)

    assert print_ast(d.document) == "{\n  publicThing\n  other\n}"
    assert d.errors == [err("me")]
    assert [x.coordinate for x in d.denied] == ["Query.me"]
    assert d.cache_key == ("Query.me",)


def test_fields_behind_lists_get_at_markers_and_empty_sets_get_typename(index, supergraph_schema):
    q = "{ users(first: 2) { email } me { mail: email name } }"
    d = run(index, supergraph_schema, q, scoped("read:users"))

    assert print_ast(d.document) == (
        "{\n  users(first: 2) {\n    __typename\n  }\n  me {\n    name\n  }\n}"
    )
    assert d.errors == [err("users", "@", "email"), err("me", "mail")]
    assert d.cache_key == ("User.email",)


def test_a_field_needs_its_own_scopes_and_authentication(index, supergraph_schema):
    q = "{ me { salary } }"
    assert run(index, supergraph_schema, q, scoped("hr")).errors == []
    assert run(index, supergraph_schema, q, USER).errors == [err("me", "salary")]


def test_types_scalars_and_enums_protect_the_fields_returning_them(index, supergraph_schema):
    q = "{ secret { code } token level publicThing }"
    d = run(index, supergraph_schema, q, ANONYMOUS)
    assert print_ast(d.document) == "{\n  publicThing\n}"
    assert d.errors == [err("secret"), err("token"), err("level")]
    assert run(index, supergraph_schema, q, scoped("tok")).errors == []


def test_fragments_are_filtered_and_reported_where_they_are_spread(index, supergraph_schema):
    q = """
    query Q { me { ...U } users { ...U } }
    fragment U on User { name email }
    """
    d = run(index, supergraph_schema, q, scoped("admin"), name="Q")
    assert print_ast(d.document).split("\n\n")[1] == "fragment U on User {\n  name\n}"
    assert d.errors == [err("me", "email"), err("users", "@", "email")]


def test_interface_fields_need_every_implementation_and_denied_types_drop_out(
    index, supergraph_schema
):
    q = """
    { nodes { id label ... on Secret { code } ...S }
      search { ... on User { name } ... on Secret { code } } }
    fragment S on Secret { label }
    """
    d = run(index, supergraph_schema, q, ANONYMOUS)

    assert print_ast(d.document) == (
        "{\n  nodes {\n    __typename\n  }\n  search {\n    ... on User {\n      name\n    }\n  }\n}"
    )
    assert d.errors == [
        err("nodes", "@", "id"),
        err("nodes", "@", "label"),
        err("nodes", "@", "code"),
        err("search", "@", "code"),
    ]
    assert d.cache_key == ("Node.id", "Node.label", "Secret", "Secret.label")
    assert run(index, supergraph_schema, q, USER).errors == []


def test_skipped_fields_are_removed_but_not_reported(index, supergraph_schema):
    q = "query($s: Boolean!) { me @skip(if: $s) { name } publicThing }"
    assert run(index, supergraph_schema, q, ANONYMOUS, {"s": True}).errors == []
    d = run(index, supergraph_schema, q, ANONYMOUS, {"s": False})
    assert d.errors == [err("me")]
    assert print_ast(d.document) == "{\n  publicThing\n}"  # the unused $s is gone too


def test_fragment_cycles_do_not_hang(index, supergraph_schema):
    doc = parse("{ me { ...A } } fragment A on User { email ...B } fragment B on User { ...A }")
    d = authorize_operation(index, doc, None, None, USER)
    assert d.errors == [err("me", "email")]


# -- authentication -----------------------------------------------------------


class _Keys:
    def __init__(self, jwk) -> None:
        self.jwk = jwk

    async def get_key(self, kid):
        return self.jwk if kid == "k1" else None


@pytest.fixture(scope="module")
def signing():
    private = Ed25519PrivateKey.generate()
    public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    public_jwk.update(kid="k1", alg="EdDSA")
    verifier = TokenVerifier(_Keys(jwt.PyJWK(public_jwk)), issuer="iss", audience="aud")
    return private, Authenticator(verifier)


def token(private, **overrides) -> str:
    now = int(time.time())
    claims = {"sub": str(uuid.uuid4()), "iss": "iss", "aud": "aud", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1"})


async def test_a_valid_token_yields_a_viewer_with_scopes(signing):
    private, auth = signing
    sub = str(uuid.uuid4())
    t = token(private, sub=sub, scopes=["a"], scope="b c")

    result = await auth.authenticate({"Authorization": f"Bearer {t}"})

    assert result.invalid_token is False
    assert str(result.viewer.user_id) == sub
    assert result.viewer.scopes == frozenset({"a", "b", "c"})


async def test_missing_or_invalid_tokens_mean_anonymous(signing):
    private, auth = signing
    assert await auth.authenticate({}) == (await auth.authenticate({"accept": "x"}))
    assert (await auth.authenticate({})).invalid_token is False

    expired = token(private, exp=int(time.time()) - 120)
    for headers in (
        {"authorization": f"Bearer {expired}"},
        {"authorization": "Basic abc"},
        {"authorization": "Bearer not-a-jwt"},
        {"authorization": f"Bearer {token(private, sub='not-a-uuid')}"},
        {"authorization": f"Bearer {token(private, aud='elsewhere')}"},
    ):
        result = await auth.authenticate(headers)
        assert (result.viewer, result.invalid_token) == (ANONYMOUS, True), headers

    unconfigured = await Authenticator(None).authenticate_token("x")
    assert (unconfigured.viewer, unconfigured.invalid_token) == (ANONYMOUS, True)
