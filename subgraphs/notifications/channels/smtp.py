"""E-mail over SMTP (aiosmtplib), configured by `Settings.smtp_*`.

The Message-ID is derived from the delivery log's id, not random: a
message that reached the recipient and was then sent again (a timeout
after the server took it) carries the same Message-ID, so mail programs
and staff reading headers can tell it is one message. `X-Athena-Message-Id`
says the same to anything that only reads our own header.

SMTP reply codes decide whether to retry: 5xx is the server's final word
on this message (unknown recipient, rejected content), 4xx and anything
below SMTP (refused connection, timeout, dropped link) may pass.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from subgraphs.notifications.channels.base import ChannelError, Outgoing

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

MESSAGE_ID_DOMAIN = "athena.local"
HEADER_MESSAGE_ID = "X-Athena-Message-Id"
#: a MIME type or subtype name (RFC 6838 restricted-name)
_MIME_NAME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def message_id_header(message_id: object) -> str:
    return f"<{message_id}@{MESSAGE_ID_DOMAIN}>"


def recipient_address(outgoing: Outgoing) -> Address:
    """The To address, checked before any connection: a malformed one is never retried."""
    try:
        valid = validate_email(outgoing.recipient, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ChannelError(f"invalid e-mail address: {exc}", permanent=True) from exc
    if not valid.ascii_email:  # an address that needs SMTPUTF8, which we do not require
        raise ChannelError("e-mail address needs SMTPUTF8", permanent=True)
    local, _, domain = valid.ascii_email.rpartition("@")
    return Address(display_name=one_line(outgoing.recipient_name), username=local, domain=domain)


def one_line(value: str | None) -> str:
    """A header value on one line: a line break from a template or a name never starts a header."""
    return " ".join((value or "").split())


def compose(outgoing: Outgoing, sender: str, now: datetime | None = None) -> EmailMessage:
    """The message as sent: text, HTML as its alternative when there is one, then any files."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient_address(outgoing)
    message["Subject"] = one_line(outgoing.subject)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id_header(outgoing.message_id)
    message[HEADER_MESSAGE_ID] = str(outgoing.message_id)
    message.set_content(outgoing.text)
    if outgoing.html is not None:
        message.add_alternative(outgoing.html, subtype="html")
    for attached in outgoing.attachments:
        maintype, subtype = mime_type(attached.content_type)
        # the body becomes the first part of a multipart/mixed message, each file a part after it
        message.add_attachment(
            attached.content,
            maintype=maintype,
            subtype=subtype,
            filename=one_line(attached.file_name) or "attachment",
        )
    return message


def mime_type(content_type: str) -> tuple[str, str]:
    """The type and subtype of a Content-Type (parameters dropped); octet-stream if unreadable."""
    maintype, _, subtype = content_type.split(";", 1)[0].strip().lower().partition("/")
    if _MIME_NAME.fullmatch(maintype) and _MIME_NAME.fullmatch(subtype):
        return maintype, subtype
    return "application", "octet-stream"


def _refusal(exc: aiosmtplib.SMTPResponseException, what: str) -> ChannelError:
    permanent = 500 <= exc.code < 600
    return ChannelError(f"SMTP {what}: {exc.code} {exc.message}", permanent=permanent)


class EmailChannel:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, outgoing: Outgoing) -> str:
        s = self.settings
        message = compose(outgoing, s.notifications_from)
        envelope_from = parseaddr(s.notifications_from)[1] or s.notifications_from
        try:
            await aiosmtplib.send(
                message,
                sender=envelope_from,
                recipients=[message["To"].addresses[0].addr_spec],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_use_tls,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            raise _refusal(refused, f"refused recipient {refused.recipient}") from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our credentials, not this message: worth retrying once they are fixed.
            raise ChannelError(
                f"SMTP authentication failed: {exc.code} {exc.message}", permanent=False
            ) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise _refusal(exc, f"refused sender {exc.sender}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _refusal(exc, "refused the message") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ChannelError(
                f"SMTP {s.smtp_host}:{s.smtp_port} unavailable: {exc}", permanent=False
            ) from exc
        return str(message["Message-ID"])
