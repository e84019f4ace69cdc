from __future__ import annotations

from subgraphs.identity.service import accounts
from tests.identity.conftest import ME, PASSWORD


async def test_login_then_me_returns_the_account(make_user, login, gql):
    user = await make_user("admin", email="Ada@Example.com")

    payload = await login("ada@example.com")

    assert payload["userErrors"] == []
    assert payload["user"] == {"id": str(user.id), "email": "ada@example.com", "roles": ["ADMIN"]}
    me = (await gql(ME, token=payload["accessToken"])).ok()["me"]
    assert me["email"] == "ada@example.com"
    assert me["roles"] == ["ADMIN"]


async def test_me_without_token_is_unauthenticated(gql):
    response = await gql(ME)

    assert response.data is None
    assert response.error_codes == ["UNAUTHENTICATED"]


async def test_wrong_password_and_unknown_email_answer_the_same(make_user, login):
    user = await make_user("client")

    wrong = await login(user.email, password="not the password")
    unknown = await login("nobody@example.com", password="not the password")

    assert wrong == unknown
    assert wrong["accessToken"] is None
    assert wrong["userErrors"] == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "E-mail or password is incorrect.",
        }
    ]


async def test_disabled_account_cannot_log_in(make_user, login, sessions, revocations):
    user = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, user.id, "disabled", actor_id=None, revocations=revocations
        )

    payload = await login(user.email, PASSWORD)

    assert payload["accessToken"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["ACCOUNT_DISABLED"]


async def test_malformed_email_is_a_user_error_naming_the_field(login):
    payload = await login("not-an-email", PASSWORD)

    assert payload["userErrors"][0]["field"] == "email"
    assert payload["userErrors"][0]["code"] == "INVALID_EMAIL"
