"""A local mail catcher for `make run`: every message lands in `.data/mail/`.

A newcomer's stack sends real mail (password resets, compliance alerts)
over SMTP; with no mail server configured it goes here instead of
failing. Each message is kept as an `.eml` file (any mail program opens
it) and announced with one line naming its recipients and subject.
aiosmtpd runs its own event loop on a thread, so the launcher stays the
simple synchronous supervisor it is.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path, announce: Callable[[str], None]) -> None:
        self.folder = folder
        self.announce = announce

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(content)
        message = email.message_from_bytes(content, policy=email.policy.default)
        to = ", ".join(envelope.rcpt_tos)
        self.announce(f"mail: to {to}: {message.get('Subject', '(no subject)')} -> {path}")
        return "250 Message accepted for delivery"


class Mailbox:
    def __init__(self, folder: Path, port: int, announce: Callable[[str], None]) -> None:
        self.folder = folder
        self.port = port
        self._controller = Controller(
            _SaveToFolder(folder, announce), hostname="127.0.0.1", port=port
        )
        self._started = False

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._controller.stop()
            self._started = False
