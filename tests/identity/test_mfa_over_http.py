"""Two-factor login over HTTP: enrol, confirm, then login asks for the code."""

from __future__ import annotations

import time

import pyotp

ENROL = "mutation { enrollMfa { secret otpauthUri userErrors { code } } }"
CONFIRM = """
mutation($code: String!) { confirmMfa(code: $code) { recoveryCodes userErrors { field code } } }
"""


async def test_login_asks_for_the_code_once_mfa_is_confirmed(make_user, login, gql):
    user = await make_user("client")
    token = (await login(user.email))["accessToken"]
    enrolment = (await gql(ENROL, token=token)).ok()["enrollMfa"]
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = (await gql(CONFIRM, {"code": totp.now()}, token=token)).ok()["confirmMfa"]

    without_code = await login(user.email)
    with_code = await login(user.email, otp=totp.at(time.time() + 30))

    assert enrolment["userErrors"] == []
    assert enrolment["otpauthUri"].startswith("otpauth://totp/Athena:")
    assert confirmed["userErrors"] == []
    assert len(confirmed["recoveryCodes"]) == 10
    assert without_code["accessToken"] is None
    assert without_code["userErrors"] == [
        {
            "field": "otp",
            "code": "MFA_REQUIRED",
            "message": "Enter the code from your authenticator app.",
        }
    ]
    assert with_code["userErrors"] == []
    assert with_code["user"]["id"] == str(user.id)


async def test_a_wrong_confirmation_code_is_a_user_error(make_user, login, gql):
    user = await make_user("client")
    token = (await login(user.email))["accessToken"]
    secret = (await gql(ENROL, token=token)).ok()["enrollMfa"]["secret"]
    wrong = pyotp.TOTP(secret).at(time.time() + 600)

    confirmed = (await gql(CONFIRM, {"code": wrong}, token=token)).ok()["confirmMfa"]

    assert confirmed == {
        "recoveryCodes": None,
        "userErrors": [{"field": "code", "code": "INVALID_MFA_CODE"}],
    }
    assert (await login(user.email))["userErrors"] == []
