"""The channels a message can go out on, behind one port (`base.Channel`).

E-mail is always there (SMTP: a local catcher by default). SMS only when
Twilio is configured: without it an SMS message fails as "no sms channel
configured" instead of pretending to have been sent. Push notifications
are out of scope (issue 14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.notifications.channels.base import Channel, ChannelError, Outgoing
from subgraphs.notifications.channels.sms import SmsChannel
from subgraphs.notifications.channels.smtp import EmailChannel

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

__all__ = ["Channel", "ChannelError", "EmailChannel", "Outgoing", "SmsChannel", "channels_from"]


def channels_from(settings: Settings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"email": EmailChannel(settings)}
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        channels["sms"] = SmsChannel(settings)
    return channels
