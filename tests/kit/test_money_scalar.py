"""Money: a string on the wire, exactly two places; floats and more places refused."""

from __future__ import annotations

import pytest

ECHO = "query($amount: Money!) { money(amount: $amount) }"


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("12.5", "12.50"),
        ("12", "12.00"),
        ("0.05", "0.05"),
        ("-3.10", "-3.10"),
        ("1250.00", "1250.00"),
    ],
)
async def test_money_is_answered_as_a_string_with_two_places(gql, sent, answered):
    assert (await gql(ECHO, {"amount": sent})).ok() == {"money": answered}


async def test_a_decimal_returned_by_a_resolver_is_serialised_with_two_places(gql):
    assert (await gql("{ price }")).ok() == {"price": "12.50"}


@pytest.mark.parametrize("sent", [12.5, 12, True], ids=["float", "int", "bool"])
async def test_a_json_number_is_refused(gql, sent):
    response = await gql(ECHO, {"amount": sent})

    assert response.status_code == 200
    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert (
        'Money must be a string such as "1250.00", not a number.' in response.errors[0]["message"]
    )


@pytest.mark.parametrize("sent", ["12.345", "1e3", "12,50", "", "twelve", " 1.2.3"])
async def test_a_string_that_is_not_an_amount_with_two_places_is_refused(gql, sent):
    response = await gql(ECHO, {"amount": sent})

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]


async def test_a_float_literal_in_the_query_is_refused(gql):
    response = await gql("{ money(amount: 12.5) }")

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]


async def test_a_string_literal_in_the_query_is_accepted(gql):
    assert (await gql('{ money(amount: "7.1") }')).ok() == {"money": "7.10"}
