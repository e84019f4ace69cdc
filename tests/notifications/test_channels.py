"""The channels against real local servers: SMTP (aiosmtpd) and a Twilio-speaking one."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from db.embedded import free_port
from subgraphs.kit.settings import Settings
from subgraphs.notifications.channels import EmailChannel, SmsChannel, channels_from
from subgraphs.notifications.channels.base import ChannelError, Outgoing
from tests.notifications.twilio_server import twilio_server

SID = "AC" + "0" * 31 + "1"
TOKEN = "twilio-test-token"
FROM_NUMBER = "+15005550006"


def mail_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_use_tls": False,
            "smtp_username": "",
            "smtp_password": "",
            "notifications_from": "Athena Coaches <hello@athena.example>",
        }
    )


def sms_settings(settings: Settings, base: str) -> Settings:
    return settings.model_copy(
        update={
            "twilio_account_sid": SID,
            "twilio_auth_token": TOKEN,
            "twilio_from_number": FROM_NUMBER,
            "twilio_api_base": base,
        }
    )


def email(**changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": uuid.uuid4(),
        "channel": "email",
        "recipient": "zoe@client.example",
        "recipient_name": "Zoë Ångström",
        "subject": "Votre réservation est confirmée ✓",
        "text": "Bonjour Zoë,\nvotre autocar part à 08:30.\n",
        "html": "<html><body><p>Bonjour Zoë,</p><p>départ à 08:30</p></body></html>",
    }
    values.update(changes)
    return Outgoing(**values)


def sms(**changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": uuid.uuid4(),
        "channel": "sms",
        "recipient": "+14155550123",
        "recipient_name": "Zoë",
        "subject": None,
        "text": "Athena: your coach leaves at 08:30 from Gate 4 — reply STOP to opt out",
        "html": None,
    }
    values.update(changes)
    return Outgoing(**values)


def lines(text: str) -> str:
    """SMTP carries CRLF line ends; the parsed content keeps them."""
    return text.replace("\r\n", "\n")


# -- e-mail -----------------------------------------------------------------------------------


async def test_an_email_reaches_the_smtp_server_with_both_parts_and_encoded_headers(settings, smtp):
    inbox, port = smtp
    outgoing = email()

    provider_id = await EmailChannel(mail_settings(settings, port)).send(outgoing)

    assert provider_id == f"<{outgoing.message_id}@athena.local>"
    assert len(inbox.received) == 1
    mail_from, rcpt_tos, raw = inbox.received[0]
    assert mail_from == "hello@athena.example"
    assert rcpt_tos == ["zoe@client.example"]
    # Headers travel as 7-bit RFC 2047 encoded words, decoded back exactly.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head.lower()
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Votre réservation est confirmée ✓"
    to = message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("Zoë Ångström", "zoe@client.example")
    assert message["From"].addresses[0].addr_spec == "hello@athena.example"
    assert message["Message-ID"] == f"<{outgoing.message_id}@athena.local>"
    assert message["X-Athena-Message-Id"] == str(outgoing.message_id)
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert lines(parts[0].get_content()) == outgoing.text
    assert lines(parts[1].get_content()).strip() == outgoing.html


async def test_an_email_without_html_is_plain_text_and_without_a_name_is_the_bare_address(
    settings, smtp
):
    inbox, port = smtp
    await EmailChannel(mail_settings(settings, port)).send(
        email(html=None, recipient_name=None, subject="Plain")
    )

    message = message_from_bytes(inbox.received[0][2], policy=policy.default)
    assert message.get_content_type() == "text/plain"
    assert lines(message.get_content()) == "Bonjour Zoë,\nvotre autocar part à 08:30.\n"
    assert str(message["To"]) == "zoe@client.example"


async def test_line_breaks_in_a_name_or_subject_never_start_a_header(settings, smtp):
    inbox, port = smtp
    await EmailChannel(mail_settings(settings, port)).send(
        email(recipient_name="Zoë\r\nBcc: spy@evil.example", subject="Hi\nBcc: spy@evil.example")
    )

    _, rcpt_tos, raw = inbox.received[0]
    assert rcpt_tos == ["zoe@client.example"]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: spy@evil.example"
    assert message["To"].addresses[0].display_name == "Zoë Bcc: spy@evil.example"


async def test_a_refused_smtp_connection_is_transient(settings):
    channel = EmailChannel(mail_settings(settings, free_port()))  # nothing listens there

    with pytest.raises(ChannelError) as failure:
        await channel.send(email())

    assert failure.value.permanent is False
    assert "unavailable" in failure.value.reason


async def test_a_recipient_the_server_refuses_is_permanent(settings, smtp):
    inbox, port = smtp

    with pytest.raises(ChannelError) as failure:
        await EmailChannel(mail_settings(settings, port)).send(
            email(recipient="nobody@athena.example")
        )

    assert failure.value.permanent is True
    assert "550" in failure.value.reason
    assert inbox.received == []


async def test_a_malformed_address_is_permanent_and_never_reaches_the_server(settings, smtp):
    inbox, port = smtp

    with pytest.raises(ChannelError) as failure:
        await EmailChannel(mail_settings(settings, port)).send(email(recipient="not-an-address"))

    assert failure.value.permanent is True
    assert inbox.received == []


# -- SMS ----------------------------------------------------------------------------------------


async def test_an_sms_posts_twilios_form_and_returns_the_sid(settings):
    async with twilio_server(SID, TOKEN) as twilio:
        outgoing = sms()

        sid = await SmsChannel(sms_settings(settings, twilio.base_url)).send(outgoing)

        assert len(twilio.received) == 1
        got = twilio.received[0]
        assert got.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
        assert got.basic_auth == (SID, TOKEN)
        assert got.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert got.form == {"To": "+14155550123", "From": FROM_NUMBER, "Body": outgoing.text}
        assert sid.startswith("SM")
        assert len(sid) == 34


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (503, False), (500, False), (429, False)]
)
async def test_twilio_failures_are_permanent_for_4xx_and_transient_for_5xx_and_429(
    settings, status, permanent
):
    async with twilio_server(SID, TOKEN) as twilio:
        twilio.fail_with = status

        with pytest.raises(ChannelError) as failure:
            await SmsChannel(sms_settings(settings, twilio.base_url)).send(sms())

        assert failure.value.permanent is permanent
        assert str(status) in failure.value.reason
        assert len(twilio.received) == 1
    if status == 400:
        assert "21211" in failure.value.reason


async def test_a_refused_twilio_connection_is_transient(settings):
    channel = SmsChannel(sms_settings(settings, f"http://127.0.0.1:{free_port()}"))

    with pytest.raises(ChannelError) as failure:
        await channel.send(sms())

    assert failure.value.permanent is False


@pytest.mark.parametrize("number", ["4155550123", "+1 415 555 0123", "+0123456789", "+1415", ""])
async def test_a_number_that_is_not_e164_is_permanent_without_any_request(settings, number):
    async with twilio_server(SID, TOKEN) as twilio:
        with pytest.raises(ChannelError) as failure:
            await SmsChannel(sms_settings(settings, twilio.base_url)).send(sms(recipient=number))

        assert failure.value.permanent is True
        assert twilio.received == []


def test_sms_is_a_channel_only_when_twilio_is_configured(settings):
    assert set(channels_from(settings.model_copy(update={"twilio_account_sid": ""}))) == {"email"}
    configured = channels_from(sms_settings(settings, "http://127.0.0.1:9"))
    assert set(configured) == {"email", "sms"}
    assert isinstance(configured["sms"], SmsChannel)
    half = sms_settings(settings, "").model_copy(update={"twilio_from_number": ""})
    assert set(channels_from(half)) == {"email"}
