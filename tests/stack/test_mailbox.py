"""`make run` catches every mail into `.data/mail/` (issue 9, part 4)."""

from __future__ import annotations

import email
import email.policy
import uuid
from pathlib import Path

from db.embedded import free_port
from stack.mailbox import Mailbox
from subgraphs.kit.settings import Settings
from subgraphs.notifications.channels import EmailChannel
from subgraphs.notifications.channels.base import Outgoing


async def test_a_sent_mail_is_stored_as_eml_and_announced(tmp_path: Path) -> None:
    lines: list[str] = []
    port = free_port()
    mailbox = Mailbox(tmp_path / "mail", port, lines.append)
    mailbox.start()
    try:
        # what notifications sends: its own e-mail channel, pointed at the catcher
        channel = EmailChannel(Settings(smtp_host="127.0.0.1", smtp_port=port))
        await channel.send(
            Outgoing(
                message_id=uuid.uuid4(),
                channel="email",
                recipient="ada@example.com",
                recipient_name=None,
                subject="Reset your password",
                text="Hello",
                html=None,
            )
        )
    finally:
        mailbox.stop()

    [stored] = list((tmp_path / "mail").glob("*.eml"))
    message = email.message_from_bytes(stored.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Reset your password"
    assert message.get_content().strip() == "Hello"
    assert lines == [f"mail: to ada@example.com: Reset your password -> {stored}"]


def test_stopping_a_mailbox_that_never_started_is_harmless(tmp_path: Path) -> None:
    Mailbox(tmp_path, free_port(), print).stop()
