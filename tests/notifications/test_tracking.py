"""Open and click tracking: the instrumented HTML, the signed tokens, and the routes over HTTP."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from db.embedded import free_port
from subgraphs.kit.settings import Settings
from subgraphs.notifications.app import create_app
from subgraphs.notifications.models import Message, TrackingEvent
from subgraphs.notifications.service.tracking import (
    TokenExpired,
    TokenInvalid,
    instrument,
    read,
    record,
    sign,
)
from subgraphs.notifications.tracking_routes import PIXEL
from tests.support.live_server import LiveServer, serve

SECRET = "tracking-secret-for-tests-0123456789abcdef"
BASE = "https://mail.athena.example"
HTML = """<html><head><title>Your trip</title></head><body>
<p><a href="https://athena.example/trips/42?x=1&amp;y=2" class="btn">Your trip</a></p>
<p><A title="a > b" HREF='http://athena.example/pay'>Pay</A></p>
<p><a href=https://athena.example/bare>Bare</a></p>
<p><a href="mailto:desk@athena.example">Write to us</a> <a href="#top">Top</a>
<a href="tel:+14155550123">Call</a> <a data-href="https://athena.example/x" name="y">z</a></p>
<p>https://athena.example/plain-text-is-left-alone</p>
</body></html>"""


def tracking_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "notifications_tracking_secret": SECRET,
            "notifications_public_url": BASE,
            "notifications_tracking_ttl_seconds": 3600,
            **changes,
        }
    )


def hrefs(html: str) -> list[str]:
    return re.findall(r"""\shref=(?:"([^"]*)"|'[^']*'|\S+)""", html, flags=re.IGNORECASE)


def token_of(url: str, kind: str) -> str:
    prefix = f"/track/{kind}/"
    assert prefix in url, url
    return url.split(prefix, 1)[1]


# -- instrument --------------------------------------------------------------------------------


def test_instrument_routes_every_web_link_through_a_signed_redirect(settings):
    message_id = uuid.uuid4()

    out = instrument(HTML, message_id, tracking_settings(settings))

    clicks = re.findall(r'href="(https://mail\.athena\.example/track/click/[^"]+)"', out)
    assert len(clicks) == 3
    targets = [read(SECRET, token_of(url, "click"), "click").url for url in clicks]
    # the entity in the first link is the URL's "&", signed unescaped
    assert targets == [
        "https://athena.example/trips/42?x=1&y=2",
        "http://athena.example/pay",
        "https://athena.example/bare",
    ]
    assert all(read(SECRET, token_of(u, "click"), "click").message_id == message_id for u in clicks)
    # what is not a web link is exactly as it was
    for kept in (
        'href="mailto:desk@athena.example"',
        'href="#top"',
        'href="tel:+14155550123"',
        'data-href="https://athena.example/x"',
        "<p>https://athena.example/plain-text-is-left-alone</p>",
        'class="btn"',
        'title="a > b"',
    ):
        assert kept in out
    assert "athena.example/trips/42" not in out.replace(clicks[0], "")


def test_instrument_adds_one_open_pixel_before_the_end_of_the_body(settings):
    message_id = uuid.uuid4()

    out = instrument(HTML, message_id, tracking_settings(settings))

    pixels = re.findall(r'<img src="(https://mail\.athena\.example/track/open/[^"]+)"[^>]*>', out)
    assert len(pixels) == 1
    assert out.index(pixels[0]) < out.index("</body>")
    assert out.endswith("</body></html>")
    opened = read(SECRET, token_of(pixels[0], "open"), "open")
    assert (opened.message_id, opened.kind, opened.url) == (message_id, "open", "")
    assert 'width="1" height="1"' in out


def test_instrument_appends_the_pixel_to_a_fragment_and_leaves_tracked_links_alone(settings):
    s = tracking_settings(settings)
    once = instrument('<p><a href="https://athena.example/a">a</a></p>', uuid.uuid4(), s)

    assert once.startswith('<p><a href="https://mail.athena.example/track/click/')
    assert re.search(r'</p><img src="https://mail\.athena\.example/track/open/[^"]+"', once)
    twice = instrument(once, uuid.uuid4(), s)
    assert len(re.findall("/track/click/", twice)) == 1


def test_without_a_secret_the_html_goes_out_unchanged(settings):
    off = settings.model_copy(update={"notifications_tracking_secret": ""})

    assert instrument(HTML, uuid.uuid4(), off) == HTML


# -- tokens ------------------------------------------------------------------------------------


def test_a_tampered_token_is_refused():
    message_id = uuid.uuid4()
    token = sign(SECRET, message_id, "click", "https://athena.example/a", ttl_seconds=60)
    header, payload, signature = token.split(".")
    # the same claims with another target, under the original signature
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["u"] = "https://evil.example/"
    forged_payload = jwt.encode(
        claims, "another-secret-of-at-least-32-bytes!", algorithm="HS256"
    ).split(".")[1]

    with pytest.raises(TokenInvalid):
        read(SECRET, f"{header}.{forged_payload}.{signature}", "click")
    with pytest.raises(TokenInvalid):
        read(SECRET, f"{header}.{payload}.{signature[:-2]}AA", "click")
    with pytest.raises(TokenInvalid):
        read("another-secret-of-at-least-32-bytes!", token, "click")
    with pytest.raises(TokenInvalid):
        read(SECRET, "not-a-token", "click")
    with pytest.raises(TokenInvalid):  # an open token is no click token (and no redirect)
        read(SECRET, sign(SECRET, message_id, "open", "", ttl_seconds=60), "click")
    with pytest.raises(TokenInvalid):  # tracking off: nothing is valid
        read("", token, "click")
    assert read(SECRET, token, "click").url == "https://athena.example/a"


def test_a_token_expires_after_the_ttl():
    issued = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    token = sign(SECRET, uuid.uuid4(), "open", "", ttl_seconds=3600, now=issued)

    assert read(SECRET, token, "open", now=issued + timedelta(minutes=59)).kind == "open"
    with pytest.raises(TokenExpired):
        read(SECRET, token, "open", now=issued + timedelta(hours=1))
    with pytest.raises(TokenExpired):  # a real clock: issued long ago
        read(SECRET, token, "open")


# -- recording ---------------------------------------------------------------------------------


async def a_message(sessions: Any, status: str = "sent") -> uuid.UUID:
    message_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Message(
                id=message_id,
                idempotency_key=f"test:{message_id}",
                kind="booking_confirmed",
                channel="email",
                recipient="zoe@client.example",
                subject="Your trip",
                body_text="Your trip",
                body_html=HTML,
                status=status,
                sent_at=datetime.now(UTC) if status == "sent" else None,
            )
        )
    return message_id


async def state(sessions: Any, message_id: uuid.UUID) -> tuple[Message, list[TrackingEvent]]:
    async with sessions() as session:
        message = await session.get(Message, message_id)
        events = (
            await session.scalars(
                select(TrackingEvent)
                .where(TrackingEvent.message_id == message_id)
                .order_by(TrackingEvent.kind, TrackingEvent.url)
            )
        ).all()
    assert message is not None
    return message, list(events)


async def test_the_first_open_and_click_stamp_the_message_and_later_ones_record_nothing(sessions):
    message_id = await a_message(sessions)
    t1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    t2, t3 = t1 + timedelta(minutes=5), t1 + timedelta(minutes=9)

    async with sessions() as session, session.begin():
        assert await record(session, message_id, "open", "", "203.0.113.9", "Mail/1.0", t1)
    async with sessions() as session, session.begin():
        assert not await record(session, message_id, "open", "", "203.0.113.9", "Mail/1.0", t2)
    message, events = await state(sessions, message_id)
    assert (message.status, message.opened_at, message.clicked_at) == ("opened", t1, None)

    async with sessions() as session, session.begin():
        assert await record(session, message_id, "click", "https://a.example/1", None, None, t2)
        assert await record(session, message_id, "click", "https://a.example/2", None, None, t3)
    message, events = await state(sessions, message_id)
    assert (message.status, message.opened_at, message.clicked_at) == ("clicked", t1, t2)
    assert [(e.kind, e.url, e.ip_address) for e in events] == [
        ("click", "https://a.example/1", None),
        ("click", "https://a.example/2", None),
        ("open", "", "203.0.113.9"),
    ]


async def test_a_click_without_an_open_implies_one(sessions):
    message_id = await a_message(sessions)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    async with sessions() as session, session.begin():
        await record(session, message_id, "click", "https://a.example/", None, None, now)

    message, _ = await state(sessions, message_id)
    assert (message.status, message.opened_at, message.clicked_at) == ("clicked", now, now)


@pytest.mark.parametrize("status", ["queued", "sending", "failed"])
async def test_a_message_not_sent_is_recorded_but_keeps_its_status(sessions, status):
    message_id = await a_message(sessions, status=status)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    async with sessions() as session, session.begin():
        assert await record(session, message_id, "click", "https://a.example/", None, None, now)

    message, events = await state(sessions, message_id)
    assert message.status == status
    assert len(events) == 1


async def test_a_token_outliving_its_message_records_nothing(sessions):
    async with sessions() as session, session.begin():
        assert not await record(session, uuid.uuid4(), "open", "", None, None, datetime.now(UTC))


# -- the routes, through the real notifications app --------------------------------------------


@pytest.fixture(scope="module")
async def tracked_server(subgraph_settings: Settings) -> AsyncIterator[tuple[LiveServer, Settings]]:
    port = free_port()
    app_settings = tracking_settings(
        subgraph_settings,
        notifications_public_url=f"http://127.0.0.1:{port}",
        notifications_worker_enabled=False,
        notifications_jobs_enabled=False,
    )
    async with serve(create_app(app_settings), port=port) as server:
        yield server, app_settings


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as client:
        yield client


def links(html: str) -> tuple[str, list[str]]:
    pixel = re.search(r'<img src="([^"]+/track/open/[^"]+)"', html)
    assert pixel is not None
    return pixel.group(1), re.findall(r'href="([^"]+/track/click/[^"]+)"', html)


async def test_concurrent_fetches_of_the_pixel_record_one_open(
    sessions, tracked_server, web, caplog
):
    server, s = tracked_server
    message_id = await a_message(sessions)
    pixel, _ = links(instrument(HTML, message_id, s))
    assert pixel.startswith(server.base_url)

    answers = await asyncio.gather(
        *(web.get(pixel, headers={"User-Agent": "Mail/1.0"}) for _ in range(12))
    )

    assert {a.status_code for a in answers} == {200}
    for answer in answers:
        assert answer.headers["content-type"] == "image/gif"
        assert "no-store" in answer.headers["cache-control"]
        assert answer.content == PIXEL
    message, events = await state(sessions, message_id)
    assert [(e.kind, e.ip_address, e.user_agent) for e in events] == [
        ("open", "127.0.0.1", "Mail/1.0")
    ]
    assert message.status == "opened"
    assert message.opened_at is not None
    # the losers of the race were told "already recorded", not failed on the unique key
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]


async def test_a_click_redirects_to_the_signed_target_and_is_recorded(
    sessions, tracked_server, web
):
    _, s = tracked_server
    message_id = await a_message(sessions)
    _, clicks = links(instrument(HTML, message_id, s))
    # behind a trusted proxy (127.0.0.1 is one), the rightmost untrusted hop is the reader
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}

    first = await web.get(clicks[0], headers=forwarded)
    again = await web.get(clicks[0], headers=forwarded)

    for answer in (first, again):
        assert answer.status_code == 302
        assert answer.headers["location"] == "https://athena.example/trips/42?x=1&y=2"
        assert answer.headers["referrer-policy"] == "no-referrer"
    message, events = await state(sessions, message_id)
    assert [(e.kind, e.url, e.ip_address) for e in events] == [
        ("click", "https://athena.example/trips/42?x=1&y=2", "203.0.113.9")
    ]
    assert message.status == "clicked"
    assert message.clicked_at is not None
    assert message.opened_at is not None


async def test_bad_and_expired_tokens_record_nothing_and_never_redirect(
    sessions, tracked_server, web
):
    server, _ = tracked_server
    message_id = await a_message(sessions)
    long_ago = datetime.now(UTC) - timedelta(days=2)
    expired_click = sign(
        SECRET, message_id, "click", "https://a.example/", ttl_seconds=60, now=long_ago
    )
    expired_open = sign(SECRET, message_id, "open", "", ttl_seconds=60, now=long_ago)
    foreign = sign(
        "not-our-secret-but-32-bytes-long-too",
        message_id,
        "click",
        "https://evil.example/",
        ttl_seconds=60,
    )
    open_token = sign(SECRET, message_id, "open", "", ttl_seconds=60)

    for token in ("garbage", expired_open, foreign):
        pixel = await web.get(f"{server.base_url}/track/open/{token}")
        assert pixel.status_code == 200
        assert pixel.headers["content-type"] == "image/gif"
        assert pixel.content == PIXEL
    assert (await web.get(f"{server.base_url}/track/click/garbage")).status_code == 404
    assert (await web.get(f"{server.base_url}/track/click/{foreign}")).status_code == 404
    # an open token names no target: it is no redirect
    assert (await web.get(f"{server.base_url}/track/click/{open_token}")).status_code == 404
    gone = await web.get(f"{server.base_url}/track/click/{expired_click}")
    assert gone.status_code == 410
    assert "location" not in gone.headers

    message, events = await state(sessions, message_id)
    assert events == []
    assert (message.status, message.opened_at, message.clicked_at) == ("sent", None, None)
