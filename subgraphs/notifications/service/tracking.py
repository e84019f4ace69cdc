"""Open and click tracking: signed links in the HTML, and what a fetch of one records.

Every tracked URL carries a token signed with `notifications_tracking_secret`
(PyJWT, HS256, expiring after `notifications_tracking_ttl_seconds`) naming
the message, the kind and, for a click, the link's target. The redirect
goes only where a token signed by us says, so `/track/click/...` can never
be used as an open redirect, and nobody can mark another message opened
by guessing its id. No secret: messages go out untracked, unchanged.

A fetch is recorded once per (message, kind, url) by the table's unique
constraint (`INSERT ... ON CONFLICT DO NOTHING`): mail programs fetch the
pixel again on every view and security scanners follow links, and
concurrent fetches race. The first open and first click also stamp the
message (`opened_at`, `clicked_at`) and move its status along `ON_OPEN`
and `ON_CLICK`; a click implies an open. Only a sent (or opened) message
moves: one still `sending` when its pixel arrives (the reader was faster
than the worker's record), or failed after the server may have taken it,
keeps its status so the delivery record is never overwritten, but the
times are kept, being facts.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import jwt
from sqlalchemy import case, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from subgraphs.notifications.models import Message, TrackingEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.settings import Settings

Kind = Literal["open", "click"]

ALGORITHM = "HS256"
#: tokens signed for tracking are accepted nowhere else, and no other token here
AUDIENCE = "athena.notifications.tracking"
OPEN_PATH = "/track/open/"
CLICK_PATH = "/track/click/"

#: status moves a first open or click makes (a status not listed is left as it is)
ON_OPEN: dict[str, str] = {"sent": "opened"}
ON_CLICK: dict[str, str] = {"sent": "clicked", "opened": "clicked"}

# An <a ...> start tag, attribute values quoted or not (a quoted ">" does not end it).
_A_TAG = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
# Its href attribute: preceded by whitespace so data-href or xhref never match.
_HREF = re.compile(
    r"""(?P<lead>\s)href\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+))""",
    re.IGNORECASE,
)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
_TRACKABLE = re.compile(r"^https?://", re.IGNORECASE)


class TokenInvalid(Exception):
    """Not a tracking token of ours (malformed, tampered, wrong kind)."""


class TokenExpired(TokenInvalid):
    """Ours, but older than the tracking TTL."""


@dataclass(frozen=True, slots=True)
class Tracked:
    message_id: uuid.UUID
    kind: Kind
    #: the click's target ("" for an open)
    url: str


def sign(
    secret: str,
    message_id: uuid.UUID,
    kind: Kind,
    url: str,
    *,
    ttl_seconds: int,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "m": str(message_id),
        "k": kind,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if kind == "click":
        claims["u"] = url
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(secret: str, token: str, kind: Kind, now: datetime | None = None) -> Tracked:
    """The token's message and target, when we signed it for `kind` and it has not expired."""
    if not secret:
        raise TokenInvalid("tracking is off")
    now = now or datetime.now(UTC)
    try:
        # The signature first; expiry against `now` after, so only our tokens are "expired".
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "m", "k"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    exp = claims["exp"]
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise TokenInvalid("malformed expiry")
    if exp <= now.timestamp():
        raise TokenExpired("the tracking link has expired")
    if claims.get("k") != kind:
        raise TokenInvalid(f"not a {kind} token")
    url = str(claims.get("u") or "")
    if kind == "click" and not _TRACKABLE.match(url):
        raise TokenInvalid("a click token without an http(s) target")
    try:
        message_id = uuid.UUID(str(claims["m"]))
    except ValueError as exc:
        raise TokenInvalid("malformed message id") from exc
    return Tracked(message_id, kind, url)


def instrument(
    html: str, message_id: uuid.UUID, settings: Settings, now: datetime | None = None
) -> str:
    """The HTML with every http(s) link through the click redirect and the open pixel added.

    `mailto:`, `tel:`, in-page anchors and links already tracked are left alone.
    """
    secret = settings.notifications_tracking_secret
    if not secret:
        return html
    now = now or datetime.now(UTC)
    base = settings.notifications_base_url
    ttl = settings.notifications_tracking_ttl_seconds

    def rewrite_href(match: re.Match[str]) -> str:
        raw = match.group("dq")
        if raw is None:
            raw = match.group("sq")
        if raw is None:
            raw = match.group("bare")
        target = html_lib.unescape(raw).strip()
        if not _TRACKABLE.match(target) or target.startswith(base + "/track/"):
            return match.group(0)
        token = sign(secret, message_id, "click", target, ttl_seconds=ttl, now=now)
        return f'{match.group("lead")}href="{html_lib.escape(base + CLICK_PATH + token)}"'

    def rewrite_tag(match: re.Match[str]) -> str:
        return _HREF.sub(rewrite_href, match.group(0), count=1)

    tracked = _A_TAG.sub(rewrite_tag, html)
    pixel_token = sign(secret, message_id, "open", "", ttl_seconds=ttl, now=now)
    pixel = (
        f'<img src="{html_lib.escape(base + OPEN_PATH + pixel_token)}" width="1" height="1"'
        ' alt="" style="display:block;border:0;width:1px;height:1px" />'
    )
    ends = list(_BODY_END.finditer(tracked))
    if not ends:
        return tracked + pixel
    at = ends[-1].start()
    return tracked[:at] + pixel + tracked[at:]


async def record(
    session: AsyncSession,
    message_id: uuid.UUID,
    kind: Kind,
    url: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> bool:
    """Record a fetch once; True when it was the first of its (message, kind, url).

    The insert selects from `messages`, so a token outliving its message (purged
    from the log) records nothing rather than failing on the foreign key.
    """
    url = url if kind == "click" else ""
    event = (
        insert(TrackingEvent)
        .from_select(
            ["id", "message_id", "kind", "url", "ip_address", "user_agent", "at"],
            select(
                literal(uuid.uuid4()),
                Message.id,
                literal(kind),
                literal(url),
                literal(ip[:64] if ip else None),
                literal(user_agent[:1000] if user_agent else None),
                literal(now),
            ).where(Message.id == message_id),
        )
        .on_conflict_do_nothing(index_elements=["message_id", "kind", "url"])
        .returning(TrackingEvent.id)
    )
    if (await session.execute(event)).scalar_one_or_none() is None:
        return False
    moves = ON_CLICK if kind == "click" else ON_OPEN
    status = case(
        *((Message.status == before, literal(after)) for before, after in moves.items()),
        else_=Message.status,
    )
    values: dict[str, object] = {
        "status": status,
        "opened_at": func.coalesce(Message.opened_at, now),
        "updated_at": now,
    }
    if kind == "click":
        values["clicked_at"] = func.coalesce(Message.clicked_at, now)
    await session.execute(update(Message).where(Message.id == message_id).values(**values))
    return True
