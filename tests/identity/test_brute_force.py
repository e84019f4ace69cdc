"""Brute-force limits on login over HTTP: per e-mail and per client address."""

from __future__ import annotations

from subgraphs.identity.models import AuthSession

RATE_LIMITED = [
    {
        "field": None,
        "code": "RATE_LIMITED",
        "message": "Too many failed attempts. Try again in 15 minutes.",
    }
]
INVALID_CREDENTIALS = [
    {"field": None, "code": "INVALID_CREDENTIALS", "message": "E-mail or password is incorrect."}
]


async def test_after_five_failures_for_an_email_even_the_right_password_is_limited(
    make_user, login, count_rows
):
    user = await make_user("client")
    failures = [await login(user.email, "wrong password!") for _ in range(5)]

    sixth = await login(user.email)

    assert [f["userErrors"] for f in failures] == [INVALID_CREDENTIALS] * 5
    assert sixth["accessToken"] is None
    assert sixth["userErrors"] == RATE_LIMITED
    assert await count_rows(AuthSession) == 0


async def test_the_email_limit_is_case_insensitive(make_user, login):
    user = await make_user("client", email="case@example.com")
    for variant in ("case@example.com", "CASE@example.com", "Case@Example.com", "cAse@example.com"):
        await login(variant, "wrong password!")
    await login("CASE@EXAMPLE.COM", "wrong password!")

    assert (await login(user.email))["userErrors"] == RATE_LIMITED


async def test_twenty_failures_from_one_address_limit_every_email(make_user, login, count_rows):
    user = await make_user("client")
    failures = [await login(f"guess-{i}@example.com", "wrong password!") for i in range(20)]

    after = await login(user.email)

    assert [f["userErrors"] for f in failures] == [INVALID_CREDENTIALS] * 20
    assert after["userErrors"] == RATE_LIMITED
    assert await count_rows(AuthSession) == 0


async def test_an_unknown_email_is_limited_exactly_like_a_known_one(make_user, login):
    user = await make_user("client")
    for _ in range(5):
        await login(user.email, "wrong password!")
        await login("nobody@example.com", "wrong password!")

    known = await login(user.email, "wrong password!")
    unknown = await login("nobody@example.com", "wrong password!")

    assert known == unknown
    assert known["userErrors"] == RATE_LIMITED


async def test_unknown_email_and_wrong_password_answer_identically(make_user, gql):
    user = await make_user("client")
    query = (
        'mutation($e: String!) { login(email: $e, password: "wrong password!") '
        "{ accessToken refreshToken accessTokenExpiresAt user { id } "
        "userErrors { field code message } } }"
    )

    wrong = await gql(query, {"e": user.email})
    unknown = await gql(query, {"e": "nobody@example.com"})

    assert (wrong.status_code, wrong.body) == (unknown.status_code, unknown.body)
    assert wrong.body == {
        "data": {
            "login": {
                "accessToken": None,
                "refreshToken": None,
                "accessTokenExpiresAt": None,
                "user": None,
                "userErrors": INVALID_CREDENTIALS,
            }
        }
    }
