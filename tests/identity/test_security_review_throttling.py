"""Issue 8, finding 9: throttles keyed so nobody can lock anyone else out.

Callers are told apart by `X-Forwarded-For`: the test client reaches the
subgraph from 127.0.0.1, a trusted proxy, exactly as the router does. Each
alias of a mutation is one attempt, so several attempts go in one request.
"""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import select

from subgraphs.identity.models import User, outbox
from subgraphs.identity.service.password_reset import TOPIC as RESET_TOPIC
from tests.identity.conftest import LOGIN, PASSWORD

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.23"
WRONG = "wrong password!"
LIMITED = {"code": "RATE_LIMITED"}
INVALID_CREDENTIALS = {"code": "INVALID_CREDENTIALS"}


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def aliased(field: str, arguments: str, count: int, selection: str = "userErrors { code }") -> str:
    """One mutation document with `count` aliases of the same field."""
    body = "\n".join(f"  a{i}: {field}({arguments}) {{ {selection} }}" for i in range(count))
    return f"mutation {{\n{body}\n}}"


def answers(response, count: int) -> list[dict]:
    data = response.ok()
    return [data[f"a{i}"] for i in range(count)]


def codes(payloads: list[dict]) -> list[list[str]]:
    return [[e["code"] for e in p["userErrors"]] for p in payloads]


async def log_in(gql, email: str, password: str, address: str, otp: str | None = None) -> dict:
    response = await gql(
        LOGIN, {"email": email, "password": password, "otp": otp}, headers=at(address)
    )
    return response.ok()["login"]  # type: ignore[no-any-return]


async def token_of(gql, email: str, address: str = OWNER) -> str:
    payload = await log_in(gql, email, PASSWORD, address)
    assert payload["userErrors"] == [], payload
    return str(payload["accessToken"])


async def test_finding_9_twenty_failed_logins_from_one_address_do_not_block_another_address(
    make_user, gql
):
    user = await make_user("client")
    query = aliased("login", f'email: "{user.email}", password: "{WRONG}"', 20)

    attacked = answers(await gql(query, headers=at(ATTACKER)), 20)
    owner = await log_in(gql, user.email, PASSWORD, OWNER)

    assert codes(attacked) == [["INVALID_CREDENTIALS"]] * 5 + [["RATE_LIMITED"]] * 15
    assert owner["userErrors"] == []
    assert owner["user"]["id"] == str(user.id)


async def test_finding_9_five_failed_logins_from_an_attacker_do_not_lock_the_owner_out(
    make_user, gql
):
    user = await make_user("client")
    for _ in range(5):
        await log_in(gql, user.email, WRONG, ATTACKER)

    attacker_with_the_password = await log_in(gql, user.email, PASSWORD, ATTACKER)
    owner = await log_in(gql, user.email, PASSWORD, OWNER)

    assert attacker_with_the_password["accessToken"] is None
    assert attacker_with_the_password["userErrors"][0]["code"] == "RATE_LIMITED"
    assert owner["userErrors"] == []
    assert owner["accessToken"]


async def test_finding_9_one_address_spraying_many_accounts_is_limited(make_user, gql):
    user = await make_user("client")
    sprayed = [await log_in(gql, f"guess-{i}@example.com", WRONG, ATTACKER) for i in range(20)]

    from_attacker = await log_in(gql, user.email, PASSWORD, ATTACKER)
    from_owner = await log_in(gql, user.email, PASSWORD, OWNER)

    assert [p["userErrors"][0]["code"] for p in sprayed] == ["INVALID_CREDENTIALS"] * 20
    assert from_attacker["userErrors"][0]["code"] == "RATE_LIMITED"
    assert from_owner["userErrors"] == []


async def test_finding_9_a_guesser_on_many_addresses_meets_the_account_limit_the_owner_not(
    make_user, gql
):
    user = await make_user("client")
    assert await token_of(gql, user.email, OWNER)  # the owner's address is now known
    for block in range(10):
        query = aliased("login", f'email: "{user.email}", password: "{WRONG}"', 5)
        await gql(query, headers=at(f"203.0.113.{100 + block}"))

    newcomer = await log_in(gql, user.email, PASSWORD, "203.0.113.250")
    owner = await log_in(gql, user.email, PASSWORD, OWNER)

    assert newcomer["userErrors"][0]["code"] == "RATE_LIMITED"
    assert owner["userErrors"] == []


async def reset_mails(sessions) -> int:
    async with sessions() as session:
        rows = await session.execute(select(outbox.c.id).where(outbox.c.topic == RESET_TOPIC))
    return len(rows.all())


async def test_finding_9_twenty_aliased_reset_requests_queue_at_most_three_mails(
    make_user, gql, sessions
):
    user = await make_user("client")
    query = aliased("requestPasswordReset", f'email: "{user.email}"', 20, "ok userErrors { code }")

    known = answers(await gql(query, headers=at(ATTACKER)), 20)
    unknown = answers(
        await gql(query.replace(user.email, "nobody@example.com"), headers=at(OWNER)), 20
    )

    assert await reset_mails(sessions) == 3
    assert codes(known) == [[]] * 3 + [["RATE_LIMITED"]] * 17
    assert [p["ok"] for p in known] == [True] * 3 + [False] * 17
    # The answers do not tell whether the e-mail has an account.
    assert unknown == known


async def test_finding_9_reset_requests_are_limited_per_address(make_user, gql, sessions):
    users = [await make_user("client") for _ in range(12)]
    body = "\n".join(
        f'  a{i}: requestPasswordReset(email: "{u.email}") {{ ok userErrors {{ code }} }}'
        for i, u in enumerate(users)
    )

    payloads = answers(await gql(f"mutation {{\n{body}\n}}", headers=at(ATTACKER)), 12)

    assert codes(payloads) == [[]] * 10 + [["RATE_LIMITED"]] * 2
    assert await reset_mails(sessions) == 10


async def test_finding_9_wrong_reset_tokens_are_limited_per_address(gql):
    query = aliased("resetPassword", 'token: "made-up", newPassword: "a brand new passphrase"', 12)

    payloads = answers(await gql(query, headers=at(ATTACKER)), 12)
    elsewhere = answers(await gql(query, headers=at(OWNER)), 1)

    assert codes(payloads) == [["INVALID_RESET_TOKEN"]] * 10 + [["RATE_LIMITED"]] * 2
    assert codes(elsewhere) == [["INVALID_RESET_TOKEN"]]


async def test_finding_9_twenty_aliased_wrong_change_password_attempts_are_cut_off(
    make_user, gql, sessions
):
    user = await make_user("client")
    token = await token_of(gql, user.email, ATTACKER)
    query = aliased(
        "changePassword", f'currentPassword: "{WRONG}", newPassword: "another long one"', 20
    )

    guesses = answers(await gql(query, token=token, headers=at(ATTACKER)), 20)
    right = await gql(
        f'mutation {{ changePassword(currentPassword: "{PASSWORD}", '
        'newPassword: "another long one") { ok userErrors { code } } }',
        token=token,
        headers=at(ATTACKER),
    )

    assert codes(guesses) == [["INVALID_CREDENTIALS"]] * 5 + [["RATE_LIMITED"]] * 15
    assert right.ok()["changePassword"] == {"ok": False, "userErrors": [LIMITED]}
    async with sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored == user.password_hash


def wrong_codes(totp: pyotp.TOTP, count: int) -> list[str]:
    """Six-digit codes that are not valid anywhere near now."""
    now = time.time()
    valid = {totp.at(now + 30 * step) for step in range(-3, 4)}
    candidates = (f"{n:06d}" for n in range(100000, 1000000, 7919))
    return [c for c in candidates if c not in valid][:count]


async def enrol_mfa(gql, token: str, address: str) -> pyotp.TOTP:
    enrolment = (
        await gql("mutation { enrollMfa { secret } }", token=token, headers=at(address))
    ).ok()["enrollMfa"]
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = (
        await gql(
            "mutation($c: String!) { confirmMfa(code: $c) { userErrors { code } } }",
            {"c": totp.now()},
            token=token,
            headers=at(address),
        )
    ).ok()["confirmMfa"]
    assert confirmed["userErrors"] == []
    return totp


def disable_mfa_aliases(guesses: list[str]) -> str:
    body = "\n".join(
        f'  a{i}: disableMfa(code: "{code}") {{ userErrors {{ code }} }}'
        for i, code in enumerate(guesses)
    )
    return f"mutation {{\n{body}\n}}"


async def test_finding_9_sixty_wrong_disable_mfa_codes_then_the_right_one_is_refused(
    make_user, gql, sessions
):
    user = await make_user("client")
    token = await token_of(gql, user.email, ATTACKER)
    totp = await enrol_mfa(gql, token, ATTACKER)
    guesses = wrong_codes(totp, 60)

    first = answers(
        await gql(disable_mfa_aliases(guesses[:30]), token=token, headers=at(ATTACKER)), 30
    )
    second = answers(
        await gql(disable_mfa_aliases(guesses[30:]), token=token, headers=at(ATTACKER)), 30
    )
    right = await gql(
        "mutation($c: String!) { disableMfa(code: $c) { userErrors { code } } }",
        {"c": totp.at(time.time() + 30)},
        token=token,
        headers=at(ATTACKER),
    )

    assert codes(first + second) == [["INVALID_MFA_CODE"]] * 5 + [["RATE_LIMITED"]] * 55
    assert right.ok()["disableMfa"] == {"userErrors": [LIMITED]}
    async with sessions() as session:
        assert await session.scalar(select(User.mfa_enabled).where(User.id == user.id)) is True


async def test_finding_9_wrong_mfa_codes_at_login_lock_the_second_factor_for_a_while(
    make_user, gql
):
    user = await make_user("client")
    totp = await enrol_mfa(gql, await token_of(gql, user.email, OWNER), OWNER)
    guesses = wrong_codes(totp, 12)

    wrong = [
        await log_in(gql, user.email, PASSWORD, f"203.0.113.{i}", otp=g)
        for i, g in enumerate(guesses)
    ]
    right = await log_in(gql, user.email, PASSWORD, "203.0.113.99", otp=totp.at(time.time() + 30))

    # Five per address, ten per account: whoever reaches the code holds the password.
    assert [p["userErrors"][0]["code"] for p in wrong] == ["INVALID_MFA_CODE"] * 10 + [
        "RATE_LIMITED"
    ] * 2
    assert right["accessToken"] is None
    assert right["userErrors"][0]["code"] == "RATE_LIMITED"


async def test_finding_9_wrong_confirm_mfa_codes_are_limited(make_user, gql):
    user = await make_user("client")
    token = await token_of(gql, user.email, ATTACKER)
    secret = (
        await gql("mutation { enrollMfa { secret } }", token=token, headers=at(ATTACKER))
    ).ok()["enrollMfa"]["secret"]
    totp = pyotp.TOTP(secret)
    body = "\n".join(
        f'  a{i}: confirmMfa(code: "{code}") {{ userErrors {{ code }} }}'
        for i, code in enumerate(wrong_codes(totp, 8))
    )

    guesses = answers(await gql(f"mutation {{\n{body}\n}}", token=token, headers=at(ATTACKER)), 8)
    right = await gql(
        "mutation($c: String!) { confirmMfa(code: $c) { recoveryCodes userErrors { code } } }",
        {"c": totp.now()},
        token=token,
        headers=at(ATTACKER),
    )

    assert codes(guesses) == [["INVALID_MFA_CODE"]] * 5 + [["RATE_LIMITED"]] * 3
    assert right.ok()["confirmMfa"] == {"recoveryCodes": None, "userErrors": [LIMITED]}


async def test_finding_9_invalid_refresh_tokens_are_limited_per_address(make_user, gql):
    user = await make_user("client")
    query = aliased(
        "refreshToken", 'refreshToken: "made-up"', 22, "accessToken userErrors { code }"
    )

    guesses = answers(await gql(query, headers=at(ATTACKER)), 22)
    pair = await log_in(gql, user.email, PASSWORD, OWNER)
    from_attacker = answers(
        await gql(
            aliased("refreshToken", f'refreshToken: "{pair["refreshToken"]}"', 1),
            headers=at(ATTACKER),
        ),
        1,
    )
    from_owner = answers(
        await gql(
            aliased("refreshToken", f'refreshToken: "{pair["refreshToken"]}"', 1),
            headers=at(OWNER),
        ),
        1,
    )

    assert codes(guesses) == [["INVALID_REFRESH_TOKEN"]] * 20 + [["RATE_LIMITED"]] * 2
    assert codes(from_attacker) == [["RATE_LIMITED"]]
    assert codes(from_owner) == [[]]
