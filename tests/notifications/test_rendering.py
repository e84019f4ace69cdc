"""Templates: rendering rules (escaping, strictness, locales, time zones), defaults, versions."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from subgraphs.kit.errors import ServiceError
from subgraphs.notifications.models import Template, TemplateVersion
from subgraphs.notifications.service.catalogue import KINDS
from subgraphs.notifications.service.rendering import RenderError, check, render_text
from subgraphs.notifications.service.templates import (
    TemplateError,
    install_defaults,
    preview,
    publish_version,
    render,
    set_active,
)

EVERY_TEMPLATE = [(kind.name, channel) for kind in KINDS.values() for channel in kind.channels]
CHICAGO = "America/Chicago"


def _text(source: str, locale: str = "en_US", **variables: object) -> str:
    return render_text(source, dict(variables), locale=locale, html=False)


async def _template(sessions, kind: str, channel: str, locale: str = "en") -> Template:
    async with sessions() as s:
        found = await s.scalar(
            select(Template).where(
                Template.kind == kind, Template.channel == channel, Template.locale == locale
            )
        )
    assert found is not None
    return found


async def _versions(sessions, template_id: uuid.UUID) -> list[int]:
    async with sessions() as s:
        return list(
            await s.scalars(
                select(TemplateVersion.version)
                .where(TemplateVersion.template_id == template_id)
                .order_by(TemplateVersion.version)
            )
        )


# -- the renderer -----------------------------------------------------------------------------


def test_html_parts_escape_a_clients_markup_and_text_parts_keep_it() -> None:
    name = '<script>alert("x")</script>'
    html = render_text("<p>{{ name }}</p>", {"name": name}, locale="en", html=True)
    text = render_text("Hello {{ name }}", {"name": name}, locale="en", html=False)
    assert html == "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"
    assert text == 'Hello <script>alert("x")</script>'


def test_a_name_not_passed_is_an_error_not_an_empty_hole() -> None:
    with pytest.raises(RenderError, match="'quote_link' is undefined"):
        _text("Accept: {{ quote_link }}", recipient_name="Dana")
    # a null is passed on purpose, and the template may word around it
    assert _text("{{ driver_name or 'to be confirmed' }}", driver_name=None) == "to be confirmed"


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(RenderError, match="unsafe"):
        _text("{{ name.__class__.__mro__ }}", name="x")


def test_check_names_unknown_variables_syntax_errors_and_unknown_filters() -> None:
    allowed = {"charter_reference", "quote_total"}
    assert check("{{ charter_reference }} {{ quote_total | money }}", allowed) == []
    assert check("{{ charter_reference }} {{ secret }} {{ other }}", allowed) == [
        "unknown variable 'other'",
        "unknown variable 'secret'",
    ]
    assert check("{% for i in range(2) %}{{ loop.index }}{% endfor %}", allowed) == []
    assert check("Total {{ quote_total | money }", allowed)[0].startswith("line 1: ")
    assert check("{% if charter_reference %}open", allowed)[0].startswith("line 1: ")
    assert check("{{ quote_total | shout }}", allowed) == ["line 1: No filter named 'shout'."]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", "$1,234.50"),
        ("de_DE", "1.234,50 $"),
        ("en-US", "$1,234.50"),
        ("fr_FR", "1 234,50 $US"),
    ],
)
def test_money_follows_the_readers_locale(locale: str, expected: str) -> None:
    total = {"amount": "1234.50", "currency": "USD"}
    assert _text("{{ total | money }}", locale, total=total) == expected


def test_money_in_html_keeps_its_no_break_space_and_refuses_floats() -> None:
    total = {"amount": "1234.50", "currency": "EUR"}
    html = render_text("{{ t | money }}", {"t": total}, locale="de_DE", html=True)
    assert html == "1.234,50\u00a0€"
    assert _text("{{ t | money('EUR') }}", "en_US", t="99.90") == "€99.90"
    with pytest.raises(RenderError, match="not money"):
        _text("{{ t | money }}", t=12.5)


def test_a_pickup_time_shows_in_the_pickups_zone() -> None:
    source = "{{ at | time(tz=zone) }}"
    assert _text(source, "en_US", at="2026-07-04T14:30:00+00:00", zone=CHICAGO) == "9:30 AM"
    assert _text(source, "en_US", at="2026-07-04T14:30:00Z", zone="America/Denver") == "8:30 AM"
    assert _text(source, "de_DE", at="2026-07-04T14:30:00Z", zone=CHICAGO) == "09:30"
    # the same local time in winter is an hour later in UTC (CST, UTC-6)
    assert _text(source, "en_US", at="2026-01-15T15:30:00Z", zone=CHICAGO) == "9:30 AM"


def test_times_on_the_day_daylight_saving_starts_keep_their_local_meaning() -> None:
    source = "{{ at | datetime(tz='America/Chicago') }}"
    # 2026-03-08 02:00 CST becomes 03:00 CDT: an hour of UTC apart is two hours of clock
    assert _text(source, at="2026-03-08T07:30:00Z") == "Mar 8, 2026, 1:30 AM"
    assert _text(source, at="2026-03-08T08:30:00Z") == "Mar 8, 2026, 3:30 AM"
    # and on the day it ends, 1:30 AM happens twice
    assert _text(source, at="2026-11-01T06:30:00Z") == "Nov 1, 2026, 1:30 AM"
    assert _text(source, at="2026-11-01T07:30:00Z") == "Nov 1, 2026, 1:30 AM"


def test_dates_convert_to_the_zone_before_taking_the_day() -> None:
    late_evening = "2026-07-05T03:00:00+00:00"  # 10 PM on July 4 in Chicago
    assert _text("{{ at | date(tz=zone) }}", at=late_evening, zone=CHICAGO) == "Jul 4, 2026"
    assert _text("{{ at | date }}", at=late_evening) == "Jul 5, 2026"
    assert _text("{{ d | date(format='long') }}", "de_DE", d="2026-06-01") == "1. Juni 2026"


def test_a_moment_without_an_offset_or_an_unknown_zone_is_refused() -> None:
    with pytest.raises(RenderError, match="no UTC offset"):
        _text("{{ at | time(tz=zone) }}", at="2026-07-04T14:30:00", zone=CHICAGO)
    with pytest.raises(RenderError, match="unknown time zone"):
        _text("{{ at | time(tz=zone) }}", at="2026-07-04T14:30:00Z", zone="Mars/Olympus")


# -- the defaults -----------------------------------------------------------------------------


async def test_install_defaults_creates_one_of_each_and_then_nothing(sessions) -> None:
    async with sessions() as s, s.begin():
        assert await install_defaults(s) == len(EVERY_TEMPLATE)
    async with sessions() as s, s.begin():
        assert await install_defaults(s) == 0
    async with sessions() as s:
        pairs = (await s.execute(select(Template.kind, Template.channel))).all()
        versions = await s.scalar(select(func.count()).select_from(TemplateVersion))
    assert sorted(pairs) == sorted(EVERY_TEMPLATE)
    assert versions == len(EVERY_TEMPLATE)


async def test_two_processes_installing_at_once_make_one_of_each(sessions) -> None:
    async def install() -> int:
        async with sessions() as s, s.begin():
            return await install_defaults(s)

    made = await asyncio.gather(install(), install())
    assert sorted(made) == [0, len(EVERY_TEMPLATE)]
    async with sessions() as s:
        templates = await s.scalar(select(func.count()).select_from(Template))
        ones = await s.scalar(
            select(func.count()).select_from(TemplateVersion).where(TemplateVersion.version == 1)
        )
    assert templates == ones == len(EVERY_TEMPLATE)


async def test_install_defaults_never_overwrites_an_admins_version(
    sessions, default_templates
) -> None:
    template = await _template(sessions, "quote_sent", "sms")
    async with sessions() as s, s.begin():
        await publish_version(
            s, template.id, subject=None, html=None, text="Quote {{ quote_link }}", actor=None
        )
    async with sessions() as s, s.begin():
        assert await install_defaults(s) == 0
    async with sessions() as s:
        rendered = await render(s, "quote_sent", "sms", "en", KINDS["quote_sent"].sample)
    assert (rendered.version, rendered.text) == (
        2,
        f"Quote {KINDS['quote_sent'].sample['quote_link']}",
    )


@pytest.mark.parametrize(("kind", "channel"), EVERY_TEMPLATE)
@pytest.mark.parametrize("locale", ["en_US", "de_DE"])
async def test_every_default_renders_its_sample(
    sessions, default_templates, kind, channel, locale
) -> None:
    async with sessions() as s:
        rendered = await render(s, kind, channel, locale, KINDS[kind].sample)
    assert rendered.version == 1
    assert rendered.text.strip()
    if channel == "email":
        assert rendered.subject
        assert "\n" not in rendered.subject
        assert rendered.html
        assert rendered.html.startswith("<!DOCTYPE html>")
    else:
        assert (rendered.subject, rendered.html) == (None, None)
        assert len(rendered.text) <= 320  # two SMS segments at most


async def test_the_shipped_trip_reminder_says_the_local_pickup_time(
    sessions, default_templates
) -> None:
    values = {**KINDS["trip_reminder"].sample, "recipient_name": "<b>Ann</b>"}
    async with sessions() as s:
        mail = await render(s, "trip_reminder", "email", "en_US", values)
        sms = await render(s, "trip_reminder", "sms", "en_US", values)
    assert mail.subject == "[Athena] Your trip CH-2026-000123 tomorrow at 9:30 AM"
    assert "Pickup: Saturday, July 4, 2026 at 9:30 AM (America/Chicago)" in mail.text
    assert "Hello <b>Ann</b>," in mail.text
    assert mail.html is not None
    assert "Hello &lt;b&gt;Ann&lt;/b&gt;," in mail.html
    assert "pickup 9:30 AM" in sms.text


async def test_the_shipped_mails_say_what_the_old_ones_did(sessions, default_templates) -> None:
    """Moving a mail here must not lose a sentence the reader relied on."""
    async with sessions() as s:
        reset = await render(s, "password_reset", "email", "en", KINDS["password_reset"].sample)
        expired = await render(
            s,
            "vendor_compliance_alert",
            "email",
            "en",
            {**KINDS["vendor_compliance_alert"].sample, "expired": True, "suspends": True},
        )
        recovery = await render(
            s, "vendor_recovery_alert", "email", "en", KINDS["vendor_recovery_alert"].sample
        )
    assert reset.subject == "[Athena] Reset your password"
    assert "Your reset code: sample-reset-code\nIt works once, within 30 minutes." in reset.text
    assert "ignore this message: your password stays as it is." in reset.text
    assert expired.subject == "[Athena] Insurance certification COI-88231 expired on Jul 15, 2026"
    assert "no new work can be assigned and the vendor account is suspended." in expired.text
    assert recovery.subject == "[Athena] Recovery: CH-2026-000123, 4 Jul 09:30"
    assert (
        "When: Saturday, July 4, 2026 at 9:30 AM (America/Chicago)\nVehicle: 56-seat coach\n"
        in (recovery.text)
    )


# -- finding the template ---------------------------------------------------------------------


async def test_a_readers_locale_falls_back_to_its_language_then_english(
    sessions, default_templates
) -> None:
    async with sessions() as s, s.begin():
        german = Template(
            kind="quote_sent", channel="sms", locale="de", name="Angebot (SMS)", current_version=1
        )
        s.add(german)
        await s.flush()
        s.add(
            TemplateVersion(
                template_id=german.id, version=1, text="Ihr Angebot: {{ quote_total | money }}"
            )
        )
    sample = KINDS["quote_sent"].sample
    async with sessions() as s:
        austrian = await render(s, "quote_sent", "sms", "de_AT", sample)
        canadian = await render(s, "quote_sent", "sms", "fr_CA", sample)
    assert austrian.text == "Ihr Angebot: $ 1.234,50"  # Austrian German puts the sign first
    assert canadian.text.startswith("Athena: your quote CH-2026-000123 is ready, 1 234,50 $")


async def test_an_inactive_template_or_a_missing_value_fails_with_a_reason(
    sessions, default_templates
) -> None:
    template = await _template(sessions, "trip_reminder", "sms")
    async with sessions() as s:
        with pytest.raises(TemplateError) as missing:
            await render(s, "trip_reminder", "sms", "en", {"recipient_name": "Ann"})
    assert "is undefined" in missing.value.reason
    async with sessions() as s, s.begin():
        await set_active(s, template.id, False, actor=None)
    async with sessions() as s:
        with pytest.raises(TemplateError) as inactive:
            await render(s, "trip_reminder", "sms", "en", KINDS["trip_reminder"].sample)
        with pytest.raises(TemplateError, match="not sent by sms"):
            await render(s, "payment_receipt", "sms", "en", KINDS["payment_receipt"].sample)
    assert inactive.value.reason == "the en sms template for trip_reminder is inactive"


async def test_a_value_with_a_newline_cannot_add_a_header_line(sessions, default_templates) -> None:
    values = {**KINDS["quote_sent"].sample, "charter_reference": "CH-1\r\nBcc: x@evil.test"}
    async with sessions() as s:
        rendered = await render(s, "quote_sent", "email", "en", values)
    assert rendered.subject == "[Athena] Your quote CH-1 Bcc: x@evil.test: $1,234.50"


# -- publishing -------------------------------------------------------------------------------


async def test_publishing_makes_a_new_current_version_with_its_author(
    sessions, default_templates
) -> None:
    template = await _template(sessions, "booking_confirmed", "email")
    admin = uuid.uuid4()
    async with sessions() as s, s.begin():
        version = await publish_version(
            s,
            template.id,
            subject="Booked: {{ charter_reference }}",
            html="<p>{{ total | money }}</p>",
            text="Total {{ total | money }}",
            actor=admin,
        )
    assert (version.version, version.created_by) == (2, admin)
    sample = KINDS["booking_confirmed"].sample
    async with sessions() as s:
        rendered = await render(s, "booking_confirmed", "email", "de_DE", sample)
        first = await preview(s, template_id=template.id, version=1)
    assert (rendered.version, rendered.subject, rendered.html, rendered.text) == (
        2,
        "Booked: CH-2026-000123",
        "<p>1.234,50\u00a0$</p>",
        "Total 1.234,50 $",
    )
    assert first.version == 1
    assert first.subject == "[Athena] Booking confirmed: CH-2026-000123"
    assert await _versions(sessions, template.id) == [1, 2]


@pytest.mark.parametrize(
    ("parts", "field", "message"),
    [
        ({"text": "Hi {{ recipient_name }} {{ password }}"}, "text", "unknown variable 'password'"),
        ({"subject": "Booked {{ charter_reference", "text": "ok"}, "subject", "line 1: "),
        ({"html": "{% if total %}<p>open", "text": "ok"}, "html", "line 1: "),
        ({"text": "{{ pickup_address | money }}"}, "text", "Does not render with the sample"),
        ({"subject": "   ", "text": "ok"}, "subject", "An e-mail needs a subject."),
    ],
)
async def test_a_bad_email_part_is_refused_by_name_and_changes_nothing(
    sessions, default_templates, parts, field, message
) -> None:
    template = await _template(sessions, "booking_confirmed", "email")
    given = {"subject": "Booked", "html": None, **parts}
    with pytest.raises(ServiceError) as refused:
        async with sessions() as s, s.begin():
            await publish_version(s, template.id, actor=None, **given)
    problems = refused.value.problems
    assert [p.field for p in problems] == [field]
    assert problems[0].message.startswith(message)
    assert problems[0].code in {"TEMPLATE_INVALID", "REQUIRED"}
    assert await _versions(sessions, template.id) == [1]
    assert (await _template(sessions, "booking_confirmed", "email")).current_version == 1


async def test_an_sms_template_takes_only_text_and_fits_an_sms(sessions, default_templates) -> None:
    template = await _template(sessions, "trip_reminder", "sms")
    with pytest.raises(ServiceError) as parts:
        async with sessions() as s, s.begin():
            await publish_version(
                s, template.id, subject="Trip", html="<p>x</p>", text="Trip", actor=None
            )
    assert [(p.field, p.code) for p in parts.value.problems] == [
        ("subject", "INVALID"),
        ("html", "INVALID"),
    ]
    long = "{{ pickup_address }} " * 40  # the sample address is 34 characters: 1400 in all
    with pytest.raises(ServiceError) as too_long:
        async with sessions() as s, s.begin():
            await publish_version(
                s, template.id, subject=None, html=None, text=long * 2, actor=None
            )
    assert [(p.field, p.code) for p in too_long.value.problems] == [("text", "TEMPLATE_INVALID")]
    assert "at most 1600" in too_long.value.problems[0].message
    async with sessions() as s, s.begin():
        fits = await publish_version(s, template.id, subject=None, html=None, text=long, actor=None)
    assert fits.version == 2


async def test_a_preview_takes_overrides_and_any_locale(sessions, default_templates) -> None:
    async with sessions() as s:
        shown = await preview(
            s,
            kind="deposit_reminder",
            channel="email",
            locale="de_DE",
            variables={"amount_due": {"amount": "99.00", "currency": "EUR"}},
        )
        with pytest.raises(TemplateError, match="no version 7"):
            await preview(s, kind="deposit_reminder", channel="email", version=7)
    assert shown.subject == "[Athena] Deposit of 99,00 € due 01.06.2026: CH-2026-000123"
