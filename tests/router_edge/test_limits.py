import time

from graphql import GraphQLSchema, get_introspection_query, parse

from router.guard.limits import Limits, Measurement, check_limits, measure


def m(schema: GraphQLSchema, q: str, variables=None, name=None, limits=None) -> Measurement:
    result = measure(parse(q), name, schema, variables, limits)
    assert result is not None
    return result


def test_counts_depth_aliases_root_fields_and_cost(limits_schema):
    q = "{ hello a: hello user(id: 1) { name b: best { name } } }"

    assert m(limits_schema, q) == Measurement(depth=3, aliases=2, root_fields=3, cost=6)


def test_list_fields_multiply_by_their_size_argument_or_the_default(limits_schema):
    assert m(limits_schema, "{ users(first: 3) { name } }").cost == 3 * (1 + 1)
    assert m(limits_schema, "{ users(limit: 4) { name } }").cost == 4 * 2
    assert m(limits_schema, "{ users { name } }").cost == 10 * 2
    assert m(limits_schema, "{ users { tags } }").cost == 10 * (1 + 10)
    q = "query($n: Int) { users(first: $n) { friends(first: 5) { name } } }"
    assert m(limits_schema, q, {"n": 2}).cost == 2 * (1 + 5 * (1 + 1))
    assert m(limits_schema, "{ users { name } }", limits=Limits(default_list_size=7)).cost == 14


def test_a_connections_slicing_argument_sizes_its_edges_and_nodes(limits_schema):
    edges = "{ people(first: %s) { totalCount edges { cursor node { name } } } }"
    assert m(limits_schema, edges % 1).cost == 1 + 1 + 1 * (1 + 1 + 2)
    assert m(limits_schema, edges % 100).cost == 1 + 1 + 100 * (1 + 1 + 2)
    assert m(limits_schema, "{ people(last: 7) { nodes { name } } }").cost == 1 + 7 * 2
    # without one, the default list size, as for any list
    assert m(limits_schema, "{ people { nodes { name } } }").cost == 1 + 10 * 2
    # variables, inline fragments and fragments (memoised per size) all see it
    q = """
    query($n: Int) { a: people(first: $n) { ...P } b: people(first: 2) { ...P ... { nodes { id } } } }
    fragment P on UserConnection { nodes { name } }
    """
    assert m(limits_schema, q, {"n": 50}).cost == (1 + 50 * 2) + (1 + 2 * 2 + 2 * 2)
    # a list inside a node keeps its own size; the connection's does not leak into it
    nested = "{ people(first: 3) { nodes { friends { id } } } }"
    assert m(limits_schema, nested).cost == 1 + 3 * (1 + 10 * 2)


def test_typename_is_free_and_introspection_counts(limits_schema):
    assert m(limits_schema, "{ __typename user(id: 1) { __typename } }") == Measurement(1, 0, 1, 1)
    assert m(limits_schema, '{ __type(name: "User") { name fields { name } } }') == Measurement(
        depth=3, aliases=0, root_fields=1, cost=1 + 1 + 1 * (1 + 1)
    )


def test_fragments_are_followed_and_aliases_count_per_spread(limits_schema):
    q = """
    query { user(id: 1) { ...F } other: user(id: 2) { ...F } }
    fragment F on User { x: name best { ... on User { y: name best { id } } } }
    """
    assert m(limits_schema, q) == Measurement(depth=4, aliases=5, root_fields=2, cost=12)


def test_a_fragment_cycle_does_not_hang(limits_schema):
    q = """
    { user(id: 1) { ...A } }
    fragment A on User { best { ...B } }
    fragment B on User { best { ...A } }
    """
    assert m(limits_schema, q) == Measurement(depth=3, aliases=0, root_fields=1, cost=3)


def test_exponential_fragment_fan_out_is_measured_in_linear_time(limits_schema):
    frags = ["fragment F0 on User { name }"]
    for i in range(1, 40):
        frags.append(f"fragment F{i} on User {{ ...F{i - 1} best {{ ...F{i - 1} }} }}")
    q = "{ user(id: 1) { ...F39 } }\n" + "\n".join(frags)

    started = time.perf_counter()
    result = m(limits_schema, q)

    assert time.perf_counter() - started < 1.0
    assert result.cost > 2**39
    assert check_limits(parse(q), None, limits_schema)[-1]["extensions"]["code"] == (
        "OPERATION_TOO_COSTLY"
    )


def test_skip_and_include_are_honoured(limits_schema):
    q = "query($s: Boolean!) { hello user(id: 1) @skip(if: $s) { name } x: hello @include(if: $s) }"
    assert m(limits_schema, q, {"s": True}) == Measurement(1, 1, 2, 2)
    assert m(limits_schema, q, {"s": False}) == Measurement(2, 0, 2, 3)


def test_the_named_operation_is_measured(limits_schema):
    q = "query A { hello } query B { hello user(id: 1) { name } }"
    assert m(limits_schema, q, name="B").root_fields == 2
    assert measure(parse(q), None, limits_schema) is None
    assert check_limits(parse(q), "C", limits_schema) == []


def test_graphiql_introspection_fits_the_default_limits(limits_schema):
    q = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert check_limits(parse(q), None, limits_schema) == []


def test_each_limit_refuses_with_its_code(limits_schema):
    deep = "{ user(id: 1) { best { best { best { name } } } } }"
    assert check_limits(parse(deep), None, limits_schema, limits=Limits(max_depth=4)) == [
        {
            "message": "Operation is too deep: depth 5 exceeds the limit of 4.",
            "extensions": {"code": "OPERATION_TOO_DEEP", "limit": 4, "measured": 5},
        }
    ]
    assert check_limits(parse(deep), None, limits_schema, limits=Limits(max_depth=5)) == []

    aliases = "{ " + " ".join(f"a{i}: hello" for i in range(31)) + " }"
    errors = check_limits(parse(aliases), None, limits_schema)
    assert [e["extensions"]["code"] for e in errors] == ["TOO_MANY_ALIASES", "TOO_MANY_ROOT_FIELDS"]
    assert errors[0]["extensions"] == {"code": "TOO_MANY_ALIASES", "limit": 30, "measured": 31}
    assert errors[1]["extensions"] == {"code": "TOO_MANY_ROOT_FIELDS", "limit": 20, "measured": 31}

    costly = "{ users(first: 100) { friends(first: 100) { friends(first: 100) { id } } } }"
    errors = check_limits(parse(costly), None, limits_schema)
    assert errors == [
        {
            "message": "Operation is too costly: estimated cost 2010100 exceeds the limit of 50000.",
            "extensions": {"code": "OPERATION_TOO_COSTLY", "limit": 50000, "measured": 2010100},
        }
    ]
    no_cost_limit = Limits(max_cost=None)
    assert check_limits(parse(costly), None, limits_schema, limits=no_cost_limit) == []
