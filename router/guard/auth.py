"""Who is calling, and which parts of an operation they may see.

Two jobs, kept apart so each can be tested and wired on its own:

1. `Authenticator` turns the `Authorization: Bearer` header into a `Viewer`
   by verifying the JWT against identity's JWKS (the same verifier every
   subgraph uses). A missing or invalid token means an anonymous caller,
   not a failed request: public fields must keep working. An invalid token
   is recorded so the server can say so (or log it). A token whose session
   identity has ended (logout, disabled account, demotion, refresh-token
   reuse, end of an impersonation: `protocol/revocation.py`) is
   invalid too, though its signature and lifetime are fine.

2. `AuthIndex` reads `@authenticated` and `@requiresScopes` from the
   supergraph SDL (under whatever names its `@link`s give them) and
   `authorize_operation` removes from an operation every field the viewer
   may not see, before planning, so those fields are never requested from a
   subgraph. It also returns one error per removed field with its response
   path; the gateway shapes the response with the client's original
   operation, where the removed fields are simply missing, hence null.

Rules (those of Apollo Router's authorization directives):
- A field's requirement is the AND of its own directives, those of its
  parent type and those of the named type it returns (object, interface,
  scalar, enum). `@requiresScopes(scopes: [[a, b], [c]])` means (a AND b)
  OR c, and two requirements together need both.
- A field selected on an interface needs the requirements of that field on
  every implementation (and of each implementing type): the router cannot
  know before execution which one it will get.
- An inline fragment or fragment spread on a type the viewer may not see
  is removed and each field it selected is reported.
- A selection set left empty gets `__typename`, so the document stays valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListValueNode,
    NameNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    parse,
    visit,
)

from protocol.viewer import ANONYMOUS, Viewer

if TYPE_CHECKING:  # jwt, cryptography and httpx load on first use (router start-up time)
    from protocol.revocation import RevocationList
    from protocol.tokens import TokenVerifier

__all__ = [
    "UNAUTHORIZED_CODE",
    "AuthDecision",
    "AuthIndex",
    "Authentication",
    "Authenticator",
    "Denial",
    "Requirement",
    "authorize_operation",
]

UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"
AUTHENTICATED_SPEC = "https://specs.apollo.dev/authenticated/"
REQUIRES_SCOPES_SPEC = "https://specs.apollo.dev/requiresScopes/"
#: more denials than this in one response are not reported one by one
MAX_REPORTED_DENIALS = 100

# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authentication:
    viewer: Viewer
    #: a token was presented but refused: the caller is treated as anonymous
    invalid_token: bool = False
    reason: str | None = None
    #: refused because its session was revoked: the token must go no further
    revoked: bool = False


def _scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from `scopes` (a list, ours) and `scope` (RFC 8693's space-separated string)."""
    out: set[str] = set()
    listed = claims.get("scopes")
    if isinstance(listed, list | tuple):
        out.update(str(s) for s in listed)
    spaced = claims.get("scope")
    if isinstance(spaced, str):
        out.update(spaced.split())
    return frozenset(out)


class Authenticator:
    """Bearer token -> `Authentication`; `verifier=None` makes everyone anonymous.

    `revocations` (None: no check) says whether a verified token's session
    (`sid`) has ended.
    """

    def __init__(
        self, verifier: TokenVerifier | None, revocations: RevocationList | None = None
    ) -> None:
        self.verifier = verifier
        self.revocations = revocations

    @classmethod
    def from_jwks(
        cls,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        min_refresh_seconds: float = 5.0,
        revocations: RevocationList | None = None,
    ) -> Authenticator:
        from protocol.tokens import RemoteJwks, TokenVerifier

        keys = RemoteJwks(jwks_url, min_refresh_seconds=min_refresh_seconds)
        return cls(TokenVerifier(keys, issuer=issuer, audience=audience), revocations)

    async def authenticate(self, headers: Mapping[str, str]) -> Authentication:
        """Read `Authorization` from request headers (any casing)."""
        value = headers.get("authorization")
        if value is None:
            value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if value is None:
            return Authentication(ANONYMOUS)
        from protocol.tokens import bearer_token

        token = bearer_token(value)
        if token is None:
            return Authentication(ANONYMOUS, True, "not a bearer token")
        return await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Authentication:
        """For transports without headers (graphql-transport-ws `connection_init`)."""
        if self.verifier is None:
            return Authentication(ANONYMOUS, True, "token verification is not configured")
        from protocol.tokens import InvalidTokenError

        try:
            claims = await self.verifier.verify(token)
            viewer = Viewer.from_claims(claims)
        except InvalidTokenError as exc:
            return Authentication(ANONYMOUS, True, str(exc))
        except (KeyError, ValueError, TypeError) as exc:
            return Authentication(ANONYMOUS, True, f"unusable claims: {exc}")
        if await self.is_revoked(viewer):
            return Authentication(ANONYMOUS, True, "session revoked", revoked=True)
        viewer = dataclasses.replace(viewer, scopes=viewer.scopes | _scopes_of(claims))
        return Authentication(viewer)

    async def is_revoked(self, viewer: Viewer) -> bool:
        """Whether the session of this (verified) viewer has ended since its token was issued."""
        if self.revocations is None or viewer.session_id is None:
            return False
        return await self.revocations.is_revoked(viewer.session_id)


# --------------------------------------------------------------------------
# The directive index
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    authenticated: bool = False
    #: OR of ANDs (each inner set must be held entirely); None: no scope needed
    scopes: frozenset[frozenset[str]] | None = None

    @property
    def empty(self) -> bool:
        return not self.authenticated and self.scopes is None

    def __and__(self, other: Requirement) -> Requirement:
        if other.scopes is None:
            scopes = self.scopes
        elif self.scopes is None:
            scopes = other.scopes
        else:
            scopes = frozenset(a | b for a in self.scopes for b in other.scopes)
        return Requirement(self.authenticated or other.authenticated, scopes)

    def allows(self, viewer: Viewer) -> bool:
        if self.authenticated and not viewer.is_authenticated:
            return False
        return self.scopes is None or any(alt <= viewer.scopes for alt in self.scopes)


NONE = Requirement()


def _str_arg(d: DirectiveNode, name: str) -> str | None:
    for a in d.arguments or ():
        if a.name.value == name and isinstance(a.value, StringValueNode):
            return a.value.value
    return None


def _directive_names(doc: DocumentNode) -> tuple[set[str], set[str]]:
    """Names under which the supergraph uses @authenticated and @requiresScopes.

    Per the link spec, a directive named like its spec is used as `@<as>`
    (default: the spec name), unless `import` renames it. Without a link,
    the standard names are assumed (harmless: nothing else uses them).
    """
    auth: set[str] = set()
    scopes: set[str] = set()
    for node in doc.definitions:
        if not isinstance(node, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for d in node.directives or ():
            if d.name.value not in ("link", "core"):
                continue
            url = _str_arg(d, "url") or _str_arg(d, "feature") or ""
            if url.startswith(AUTHENTICATED_SPEC):
                target, spec = auth, "authenticated"
            elif url.startswith(REQUIRES_SCOPES_SPEC):
                target, spec = scopes, "requiresScopes"
            else:
                continue
            name = _str_arg(d, "as") or spec
            for a in d.arguments or ():
                if a.name.value == "import" and isinstance(a.value, ListValueNode):
                    for imp in a.value.values:
                        renamed = _import_rename(imp, spec)
                        if renamed:
                            name = renamed
            target.add(name)
    return auth or {"authenticated"}, scopes or {"requiresScopes"}


def _import_rename(imp: ValueNode, spec: str) -> str | None:
    if isinstance(imp, StringValueNode) and imp.value == f"@{spec}":
        return spec
    if isinstance(imp, ObjectValueNode):
        fields = {
            f.name.value: f.value.value for f in imp.fields if isinstance(f.value, StringValueNode)
        }
        if fields.get("name") == f"@{spec}":
            return (fields.get("as") or fields["name"]).lstrip("@")
    return None


def _scope_sets(d: DirectiveNode) -> frozenset[frozenset[str]]:
    alternatives: set[frozenset[str]] = set()
    for a in d.arguments or ():
        if a.name.value != "scopes" or not isinstance(a.value, ListValueNode):
            continue
        for inner in a.value.values:
            values = inner.values if isinstance(inner, ListValueNode) else (inner,)
            alternatives.add(frozenset(v.value for v in values if isinstance(v, StringValueNode)))
    return frozenset(alternatives)


_TYPE_NODES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
)


def _unwrap(t: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(t, GraphQLList)
        t = t.of_type
    return t, is_list


class AuthIndex:
    """Which types and fields need authentication or scopes, for one supergraph.

    Build it once per loaded supergraph (`AuthIndex.build`) and keep it next
    to the planner; it is read-only afterwards.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        types: dict[str, Requirement],
        fields: dict[tuple[str, str], Requirement],
    ) -> None:
        self.schema = schema
        self.types = types
        self.fields = fields
        self._effective: dict[tuple[str, str], Requirement] = {}

    @classmethod
    def build(cls, supergraph: DocumentNode | str, api_schema: GraphQLSchema) -> AuthIndex:
        """`supergraph` is the raw supergraph SDL (text or parsed), not the API schema."""
        doc = parse(supergraph) if isinstance(supergraph, str) else supergraph
        auth_names, scope_names = _directive_names(doc)
        types: dict[str, Requirement] = {}
        fields: dict[tuple[str, str], Requirement] = {}

        def read(directives: Iterable[DirectiveNode]) -> Requirement:
            req = NONE
            for d in directives:
                if d.name.value in auth_names:
                    req = req & Requirement(authenticated=True)
                elif d.name.value in scope_names:
                    req = req & Requirement(scopes=_scope_sets(d))
            return req

        for node in doc.definitions:
            if not isinstance(node, _TYPE_NODES):
                continue
            tname = node.name.value
            treq = read(node.directives or ())
            if not treq.empty:
                types[tname] = types.get(tname, NONE) & treq
            fdefs: tuple[FieldDefinitionNode, ...] = tuple(getattr(node, "fields", None) or ())
            for f in fdefs:
                freq = read(f.directives or ())
                if not freq.empty:
                    key = (tname, f.name.value)
                    fields[key] = fields.get(key, NONE) & freq
        return cls(api_schema, types, fields)

    @property
    def empty(self) -> bool:
        """Nothing to enforce: callers can skip `authorize_operation` entirely."""
        return not self.types and not self.fields

    def type_requirement(self, type_name: str) -> Requirement:
        return self.types.get(type_name, NONE)

    def field_requirement(self, parent: GraphQLNamedType, field_name: str) -> Requirement:
        """Everything needed to see `parent.field_name` (memoised)."""
        key = (parent.name, field_name)
        cached = self._effective.get(key)
        if cached is not None:
            return cached
        req = self._own(parent, field_name)
        if isinstance(parent, GraphQLInterfaceType):
            for impl in self.schema.get_possible_types(parent):
                req = req & self._own(impl, field_name)
        self._effective[key] = req
        return req

    def _own(self, parent: GraphQLNamedType, field_name: str) -> Requirement:
        req = self.fields.get((parent.name, field_name), NONE) & self.type_requirement(parent.name)
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fdef = parent.fields.get(field_name)
            if fdef is not None:
                named, _ = _unwrap(fdef.type)
                req = req & self.type_requirement(named.name)
        return req


# --------------------------------------------------------------------------
# Filtering an operation
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Denial:
    #: response path; "@" stands for every position of a list crossed on the way
    path: tuple[str, ...]
    #: schema coordinate, e.g. "User.email"
    coordinate: str
    node: FieldNode


@dataclass(slots=True)
class AuthDecision:
    #: the operation to plan and execute; the very same object when nothing was removed
    document: DocumentNode
    denied: list[Denial] = field(default_factory=list)
    #: errors to add to the response (before shaping), one per denied field occurrence
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: what was removed, sorted; add it to the plan cache key (empty: nothing removed)
    cache_key: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.cache_key)


_TYPENAME = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())


def _included(node: SelectionNode, variables: Mapping[str, Any]) -> bool:
    for d in node.directives or ():
        name = d.name.value
        if name not in ("skip", "include"):
            continue
        value: Any = None
        for a in d.arguments or ():
            if a.name.value != "if":
                continue
            if isinstance(a.value, BooleanValueNode):
                value = a.value.value
            elif isinstance(a.value, VariableNode):
                value = variables.get(a.value.name.value)
        if name == "skip" and value is True:
            return False
        if name == "include" and value is not True:
            return False
    return True


class _Filter:
    """Removes what the viewer may not see; context-free, so each set is done once."""

    def __init__(self, index: AuthIndex, viewer: Viewer) -> None:
        self.index = index
        self.viewer = viewer
        self.removed: set[str] = set()
        self.fragment_conditions: dict[str, str] = {}

    def type_denied(self, type_name: str) -> bool:
        return not self.index.type_requirement(type_name).allows(self.viewer)

    def field_denied(self, parent: GraphQLNamedType | None, name: str) -> bool:
        if parent is None or name.startswith("__"):
            return False
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return False
        if name not in parent.fields:
            return False
        return not self.index.field_requirement(parent, name).allows(self.viewer)

    def child_type(self, parent: GraphQLNamedType | None, name: str) -> GraphQLNamedType | None:
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fdef = parent.fields.get(name)
            if fdef is not None:
                return _unwrap(fdef.type)[0]
        return None

    def selection_set(
        self, parent: GraphQLNamedType | None, ss: SelectionSetNode
    ) -> SelectionSetNode:
        out: list[SelectionNode] = []
        changed = False
        for sel in ss.selections:
            new: SelectionNode | None = sel
            if isinstance(sel, FieldNode):
                name = sel.name.value
                if parent is not None and self.field_denied(parent, name):
                    self.removed.add(f"{parent.name}.{name}")
                    new = None
                elif sel.selection_set is not None:
                    child = self.selection_set(self.child_type(parent, name), sel.selection_set)
                    if child is not sel.selection_set:
                        new = dataclasses.replace(sel, selection_set=child)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                if cond is not None and self.type_denied(cond):
                    self.removed.add(cond)
                    new = None
                else:
                    ctype = self.index.schema.get_type(cond) if cond else parent
                    child = self.selection_set(ctype, sel.selection_set)
                    if child is not sel.selection_set:
                        new = dataclasses.replace(sel, selection_set=child)
            elif isinstance(sel, FragmentSpreadNode):
                cond = self.fragment_conditions.get(sel.name.value)
                if cond is not None and self.type_denied(cond):
                    self.removed.add(cond)
                    new = None
            if new is None or new is not sel:
                changed = True
            if new is not None:
                out.append(new)
        if not changed:
            return ss
        return dataclasses.replace(ss, selections=tuple(out or (_TYPENAME,)))

    def document(self, doc: DocumentNode) -> DocumentNode:
        self.fragment_conditions = {
            d.name.value: d.type_condition.name.value
            for d in doc.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        defs: list[Any] = []
        changed = False
        for d in doc.definitions:
            new: Any = d
            if isinstance(d, OperationDefinitionNode):
                ss = self.selection_set(
                    self.index.schema.get_root_type(d.operation), d.selection_set
                )
                if ss is not d.selection_set:
                    new = dataclasses.replace(d, selection_set=ss)
            elif isinstance(d, FragmentDefinitionNode):
                ss = self.selection_set(
                    self.index.schema.get_type(d.type_condition.name.value), d.selection_set
                )
                if ss is not d.selection_set:
                    new = dataclasses.replace(d, selection_set=ss)
            changed = changed or new is not d
            defs.append(new)
        if not changed:
            return doc
        return DocumentNode(definitions=tuple(_tidy(defs)))


def _spreads(node: Any, out: set[str]) -> None:
    ss = getattr(node, "selection_set", None)
    if ss is None:
        return
    for s in ss.selections:
        if isinstance(s, FragmentSpreadNode):
            out.add(s.name.value)
        else:
            _spreads(s, out)


def _reachable(node: Any, frags: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    used: set[str] = set()
    todo: set[str] = set()
    _spreads(node, todo)
    while todo:
        name = todo.pop()
        if name in used or name not in frags:
            continue
        used.add(name)
        found: set[str] = set()
        _spreads(frags[name], found)
        todo |= found - used
    return used


class _VariableUses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _variables_used(nodes: Iterable[Any]) -> set[str]:
    uses = _VariableUses()
    for n in nodes:
        visit(n.selection_set, uses)
        for d in n.directives or ():
            visit(d, uses)
    return uses.names


def _tidy(defs: list[Any]) -> list[Any]:
    """Drop what removals orphaned: fragments and variable definitions.

    Validation rejects both ("never used"), and so would a subgraph. The
    gateway still coerces variables with the client's original operation.
    """
    frags = {d.name.value: d for d in defs if isinstance(d, FragmentDefinitionNode)}
    used: set[str] = set()
    out: list[Any] = []
    for d in defs:
        if isinstance(d, OperationDefinitionNode):
            reach = _reachable(d, frags)
            used |= reach
            if d.variable_definitions:
                names = _variables_used([d, *(frags[n] for n in reach)])
                kept = tuple(v for v in d.variable_definitions if v.variable.name.value in names)
                if len(kept) != len(d.variable_definitions):
                    d = dataclasses.replace(d, variable_definitions=kept)
        out.append(d)
    return [d for d in out if not isinstance(d, FragmentDefinitionNode) or d.name.value in used]


class _Reporter:
    """Walks the selected operation as it will run, to report each denial's path."""

    def __init__(
        self,
        flt: _Filter,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.flt = flt
        self.fragments = fragments
        self.variables = variables
        self.denied: list[Denial] = []
        self.seen: set[tuple[str, ...]] = set()

    def deny(self, path: tuple[str, ...], coordinate: str, node: FieldNode) -> None:
        if path not in self.seen and len(self.denied) < MAX_REPORTED_DENIALS:
            self.seen.add(path)
            self.denied.append(Denial(path, coordinate, node))

    def walk(
        self,
        parent: GraphQLNamedType | None,
        ss: SelectionSetNode,
        path: tuple[str, ...],
        active: frozenset[str],
        denied_type: str | None = None,
    ) -> None:
        for sel in ss.selections:
            if len(self.denied) >= MAX_REPORTED_DENIALS or not _included(sel, self.variables):
                continue
            if isinstance(sel, FieldNode):
                self.field(parent, sel, path, active, denied_type)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                ctype = self.flt.index.schema.get_type(cond) if cond else parent
                blocked = denied_type or (cond if cond and self.flt.type_denied(cond) else None)
                self.walk(ctype, sel.selection_set, path, active, blocked)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in active:
                    continue  # unknown or cyclic: validation's business; never loop
                cond = frag.type_condition.name.value
                blocked = denied_type or (cond if self.flt.type_denied(cond) else None)
                self.walk(
                    self.flt.index.schema.get_type(cond),
                    frag.selection_set,
                    path,
                    active | {name},
                    blocked,
                )

    def field(
        self,
        parent: GraphQLNamedType | None,
        node: FieldNode,
        path: tuple[str, ...],
        active: frozenset[str],
        denied_type: str | None,
    ) -> None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        here = (*path, key)
        pname = parent.name if parent is not None else "?"
        if name == "__typename":
            return
        if denied_type is not None:
            self.deny(here, f"{denied_type}.{name}", node)
            return
        if self.flt.field_denied(parent, name):
            self.deny(here, f"{pname}.{name}", node)
            return
        if node.selection_set is None or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return
        fdef = parent.fields.get(name)
        if fdef is None:
            return
        child, is_list = _unwrap(fdef.type)
        self.walk(child, node.selection_set, (*here, "@") if is_list else here, active)


def _operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name is not None and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def authorize_operation(
    index: AuthIndex,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    viewer: Viewer,
) -> AuthDecision:
    """Remove what `viewer` may not see from a validated document.

    Every operation and fragment of the document is filtered (the result
    depends only on the viewer, so `cache_key` is enough to cache plans);
    errors are reported for the selected operation as `variables` make it
    run (@skip/@include honoured), with paths of response keys where "@"
    marks a list, e.g. ["users", "@", "email"].
    """
    if index.empty:
        return AuthDecision(document)
    flt = _Filter(index, viewer)
    filtered = flt.document(document)
    if filtered is document:
        return AuthDecision(document)
    op = _operation(document, operation_name)
    reporter = _Reporter(
        flt,
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)},
        variables or {},
    )
    if op is not None:
        reporter.walk(index.schema.get_root_type(op.operation), op.selection_set, (), frozenset())
    errors = [
        {
            "message": "Unauthorized field or type",
            "path": list(d.path),
            "extensions": {"code": UNAUTHORIZED_CODE},
        }
        for d in reporter.denied
    ]
    return AuthDecision(filtered, reporter.denied, errors, tuple(sorted(flt.removed)))
