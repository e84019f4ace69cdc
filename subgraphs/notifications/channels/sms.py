"""SMS through Twilio's Messages API with the official `twilio` library.

`Settings.twilio_api_base` points the library's `api` domain elsewhere
(a Twilio-speaking test server, a regional proxy); empty keeps Twilio's own.
The library's asynchronous HTTP client (aiohttp) is used, one short-lived
client per send, bounded by `SEND_TIMEOUT_SECONDS`: the channel has no
lifecycle to close a pool in, and a hung API must not hold a worker slot.

Numbers are checked as E.164 before any request: a malformed one would
only be refused by Twilio (error 21211) on every retry. Twilio's 4xx
answers are its final word on the message (permanent), except 429 (rate
limited) and 401/403 (our credentials, worth retrying once fixed); 5xx,
refused connections and timeouts are transient.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import aiohttp
import phonenumbers
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from subgraphs.notifications.channels.base import ChannelError, Outgoing

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

SEND_TIMEOUT_SECONDS = 20.0
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
#: Twilio 4xx answers that say nothing about the message itself
RETRYABLE_CLIENT_STATUSES = frozenset({401, 403, 408, 429})


def check_e164(number: str) -> str:
    """The number if it is a possible E.164 number; a permanent failure otherwise."""
    if not E164.fullmatch(number):
        raise ChannelError(f"not an E.164 phone number: {number!r}", permanent=True)
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise ChannelError(f"not an E.164 phone number: {number!r}", permanent=True) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ChannelError(f"not a possible phone number: {number!r}", permanent=True)
    return number


def _refusal(status: int, code: object, text: str) -> ChannelError:
    permanent = 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES
    return ChannelError(f"Twilio {status} (error {code}): {text}", permanent=permanent)


class SmsChannel:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self, http: AsyncTwilioHttpClient) -> Client:
        s = self.settings
        client = Client(s.twilio_account_sid, s.twilio_auth_token, http_client=http)
        if s.twilio_api_base:
            # The library builds every Messages URL from its `api` domain's base URL.
            client.api.base_url = s.twilio_api_base.rstrip("/")
            # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite that host.
            client.edge = None
            client.region = None
        return client

    async def _create(self, outgoing: Outgoing) -> str | None:
        async with AsyncTwilioHttpClient() as http:
            message = await self._client(http).messages.create_async(
                to=outgoing.recipient, from_=self.settings.twilio_from_number, body=outgoing.text
            )
        sid = message.sid
        return str(sid) if sid else None

    async def send(self, outgoing: Outgoing) -> str:
        check_e164(outgoing.recipient)
        try:
            sid = await asyncio.wait_for(self._create(outgoing), SEND_TIMEOUT_SECONDS)
        except TwilioRestException as exc:
            raise _refusal(exc.status, exc.code, exc.msg) from exc
        except TwilioServiceException as exc:
            raise _refusal(exc.status, exc.code, exc.detail or exc.title) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ChannelError(f"Twilio unreachable: {exc!r}", permanent=False) from exc
        except TwilioException as exc:
            raise ChannelError(f"Twilio: {exc}", permanent=False) from exc
        if not sid:
            # Twilio took the request: sending again could text the recipient twice.
            raise ChannelError("Twilio answered without a message SID", permanent=True)
        return sid
