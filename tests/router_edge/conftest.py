"""Fixtures for the router's edge: guard, GraphiQL and metrics.

The supergraph fixture is what @theguild/federation-composition 0.x writes
for subgraphs that use @authenticated and @requiresScopes (composed once in
a scratch directory and trimmed): the directives are linked with
`for: SECURITY` and appear on fields, object types, scalars and enums.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, build_schema

SUPERGRAPH_SDL = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY) {
  query: Query
}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
scalar join__FieldSet
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar requiresScopes__Scope
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

enum join__Graph {
  A @join__graph(name: "a", url: "http://a")
  B @join__graph(name: "b", url: "http://b")
}

scalar Token @join__type(graph: A) @requiresScopes(scopes: [["tok"]])

type Query @join__type(graph: A) @join__type(graph: B) {
  me: User @join__field(graph: A) @authenticated
  publicThing: String @join__field(graph: A)
  users(first: Int): [User!]! @join__field(graph: A) @requiresScopes(scopes: [["read:users"], ["admin"]])
  secret: Secret @join__field(graph: A)
  token: Token @join__field(graph: A)
  level: Level @join__field(graph: A)
  nodes: [Node!]! @join__field(graph: A)
  search: [Result!]! @join__field(graph: A)
  other: Int @join__field(graph: B)
}

type User implements Node @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @join__implements(graph: A, interface: "Node") {
  id: ID!
  name: String @join__field(graph: A)
  email: String @join__field(graph: A) @requiresScopes(scopes: [["read:email", "read:users"]])
  salary: Int! @join__field(graph: B) @authenticated @requiresScopes(scopes: [["hr"]])
  label: String @join__field(graph: A)
}

type Secret implements Node @join__type(graph: A) @join__implements(graph: A, interface: "Node") @authenticated {
  id: ID!
  code: String
  label: String
}

interface Node @join__type(graph: A) {
  id: ID!
  label: String
}

union Result @join__type(graph: A) @join__unionMember(graph: A, member: "User") @join__unionMember(graph: A, member: "Secret") = User | Secret

enum Level @join__type(graph: A) @authenticated {
  LOW @join__enumValue(graph: A)
  HIGH @join__enumValue(graph: A)
}
"""

#: The same rules reached through renamed imports, as Apollo's composition may write them.
RENAMED_SDL = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "signedIn", for: SECURITY)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", import: [{name: "@requiresScopes", as: "@scoped"}], for: SECURITY) {
  query: Query
}
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
directive @signedIn on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @scoped(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @authenticated on FIELD_DEFINITION
type Query {
  a: String @signedIn
  b: String @scoped(scopes: [["x", "y"]])
  c: String @authenticated
}
"""


@pytest.fixture(scope="session")
def supergraph_schema() -> GraphQLSchema:
    """Field and type names match the API schema's, which is all the guard reads from it."""
    return build_schema(SUPERGRAPH_SDL)


LIMITS_SDL = """
type Query {
  hello: String
  user(id: ID!): User
  users(first: Int, limit: Int): [User!]!
  people(first: Int, last: Int): UserConnection!
}
type UserConnection { edges: [UserEdge!]! nodes: [User!]! totalCount: Int! }
type UserEdge { cursor: String! node: User! }
type User {
  id: ID!
  name: String
  friends(first: Int): [User!]!
  tags: [String!]!
  best: User
}
"""


@pytest.fixture(scope="session")
def limits_schema() -> GraphQLSchema:
    return build_schema(LIMITS_SDL)
