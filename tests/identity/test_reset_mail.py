"""A password-reset request sends its mail, and the mailed code resets (issue 9, part 4)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from pathlib import Path

import httpx

from db.embedded import free_port
from stack.mailbox import Mailbox
from subgraphs.identity.app import create_app
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve

REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) { ok } }"
RESET = """mutation($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { ok userErrors { code } } }"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken userErrors { code } } }"""


def _mails(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


async def _wait_for_mail(folder: Path, within: float = 15.0) -> list[Path]:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        found = await asyncio.to_thread(_mails, folder)
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_the_reset_mail_arrives_and_its_code_resets_the_password(
    settings, make_user, tmp_path, http: httpx.AsyncClient
):
    user = await make_user("client", email="ada@example.com")
    port = free_port()
    mailbox = Mailbox(tmp_path / "mail", port, lambda _line: None)
    mailbox.start()
    app = create_app(
        settings.model_copy(
            update={"identity_mailer_enabled": True, "smtp_port": port, "portal_url": ""}
        )
    )
    try:
        async with serve(app) as server:
            gql = GraphQLClient(server.graphql_url, http)
            assert (await gql(REQUEST, {"email": "ADA@example.com"})).ok()
            [stored] = await _wait_for_mail(tmp_path / "mail")
            message = email.message_from_bytes(stored.read_bytes(), policy=email.policy.default)
            code = re.search(r"Your reset code: (\S+)", message.get_content())
            assert code is not None
            reset = await gql(RESET, {"token": code.group(1), "password": "a new long passphrase"})
            login = await gql(LOGIN, {"email": user.email, "password": "a new long passphrase"})
    finally:
        mailbox.stop()

    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "[Athena] Reset your password"
    assert reset.ok()["resetPassword"] == {"ok": True, "userErrors": []}
    assert login.ok()["login"]["accessToken"]


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(settings, tmp_path, http):
    port = free_port()
    mailbox = Mailbox(tmp_path / "mail", port, lambda _line: None)
    mailbox.start()
    app = create_app(
        settings.model_copy(update={"identity_mailer_enabled": True, "smtp_port": port})
    )
    try:
        async with serve(app) as server:
            answer = await GraphQLClient(server.graphql_url, http)(
                REQUEST, {"email": "nobody@example.com"}
            )
            assert await _wait_for_mail(tmp_path / "mail", within=1.0) == []
    finally:
        mailbox.stop()

    assert answer.ok() == {"requestPasswordReset": {"ok": True}}


async def test_an_unreachable_mail_server_is_one_warning_line_and_a_retry(
    settings, make_user, http, caplog
):
    await make_user("client", email="grace@example.com")
    app = create_app(
        settings.model_copy(update={"identity_mailer_enabled": True, "smtp_port": free_port()})
    )
    caplog.set_level("WARNING", logger="subgraphs.kit.consumer")
    async with serve(app) as server:
        await GraphQLClient(server.graphql_url, http)(REQUEST, {"email": "grace@example.com"})
        await asyncio.sleep(1.0)  # a few attempts, with back-off

    records = [r for r in caplog.records if r.name == "subgraphs.kit.consumer"]
    assert records
    assert all(r.levelname == "WARNING" and r.exc_info is None for r in records)
    assert "unavailable" in records[0].getMessage()
