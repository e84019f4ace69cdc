"""Rendering a template source: Jinja2 in a sandbox, formatting by Babel in the reader's locale.

Templates are written by admins, so they run in Jinja2's immutable sandbox
(no attribute access to internals, no mutation of the values passed in,
`range` capped) and with StrictUndefined: a name the producer did not pass
is an error, never an empty hole in a message a client reads. HTML parts
autoescape (a client called `<script>` stays text); subjects, text bodies
and SMS do not, since they are not HTML and an `&lt;` would show as such.

Filters (values as `service/catalogue.py` describes them):

- `{{ total | money }}`: a money object `{"amount": "1234.50", "currency":
  "USD"}` in the reader's locale (en_US `$1,234.50`, de_DE `1.234,50 $`); a
  plain decimal string or number also works, with `money("EUR")` naming its
  currency (USD when not named).
- `{{ pickup_at | datetime(tz=pickup_time_zone) }}`, `| time(tz=...)`,
  `| date(tz=...)`: an ISO moment shown in the given IANA zone (its own
  offset when no zone is given), in the reader's locale; `format` is a
  Babel width (short, medium, long, full) or a CLDR pattern (`"d MMM HH:mm"`).
  A `datetime` by width shows the time without seconds (`Jul 4, 2026, 9:30 AM`). `| date` also
  takes a plain ISO date, which has no zone to convert.

Babel separates some parts with no-break spaces (U+00A0, U+202F: "9:30 AM",
"1.234,50 $"). HTML keeps a no-break space (the amount does not wrap); text
and SMS get a plain space, since U+202F is outside the GSM-7 alphabet and
one such character would make a whole SMS UCS-2 (70 characters a segment,
not 160).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from jinja2 import StrictUndefined, TemplateError, meta, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: the render variable the filters read the reader's locale from (set by render_text only)
_LOCALE_KEY = "__athena_locale__"
_NO_BREAK = ("\u202f", "\u00a0")
_WIDTHS = ("short", "medium", "long", "full")
_Width = Literal["short", "medium", "long", "full"]


class RenderError(Exception):
    """A template that cannot be rendered with these values: the reason, for people to read."""


def normalise_locale(locale: str | None) -> str:
    """`en-US`, `en_us` -> `en_US`; what Babel and the templates' `locale` column use."""
    if not locale:
        return "en"
    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return locale.replace("-", "_")


@functools.lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        # An unknown locale on a recipient must not stop their receipt: format as English.
        return Locale.parse("en_US")


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RenderError(f"unknown time zone {tz!r}") from exc


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise RenderError(f"{value!r} is not an ISO 8601 moment") from exc
    else:
        raise RenderError(f"{value!r} is not a moment")
    if moment.tzinfo is None:
        # A moment without an offset could be any of 24 hours: refuse to guess.
        raise RenderError(f"{value!r} has no UTC offset")
    return moment


def _spaces(text: str, html: bool) -> str:
    for char in _NO_BREAK:
        text = text.replace(char, "\u00a0" if html else " ")
    return text


def _make_filters(html: bool) -> dict[str, Any]:
    def locale_of(context: Context) -> Locale:
        return _babel_locale(str(context.get(_LOCALE_KEY) or "en"))

    @pass_context
    def money(context: Context, value: Any, currency: str | None = None) -> str:
        if isinstance(value, dict):
            amount, currency = value.get("amount"), value.get("currency") or currency
        else:
            amount = value
        if amount is None or isinstance(amount, bool | float):
            # floats are refused: money is exact (a decimal string) from end to end
            raise RenderError(f"{value!r} is not money")
        try:
            number = Decimal(str(amount))
        except InvalidOperation as exc:
            raise RenderError(f"{value!r} is not money") from exc
        formatted = babel_numbers.format_currency(
            number, currency or "USD", locale=locale_of(context)
        )
        return _spaces(formatted, html)

    @pass_context
    def datetime_(
        context: Context, value: Any, tz: str | None = None, format: str = "medium"
    ) -> str:
        moment = _moment(value)
        zone = _zone(tz) or moment.tzinfo
        locale = locale_of(context)
        if format not in _WIDTHS:
            shown = babel_dates.format_datetime(moment, format, tzinfo=zone, locale=locale)
            return _spaces(shown, html)
        # The locale's own glue of a date and a time, but never seconds: no message needs them.
        local = moment.astimezone(zone)
        glue = babel_dates.get_datetime_format(cast(_Width, format), locale=locale)
        shown = (
            str(glue)
            .replace("{0}", babel_dates.format_time(local, "short", locale=locale))
            .replace("{1}", babel_dates.format_date(local.date(), format, locale=locale))
        )
        return _spaces(shown, html)

    @pass_context
    def time_(context: Context, value: Any, tz: str | None = None, format: str = "short") -> str:
        moment = _moment(value)
        shown = babel_dates.format_time(
            moment, format, tzinfo=_zone(tz) or moment.tzinfo, locale=locale_of(context)
        )
        return _spaces(shown, html)

    @pass_context
    def date_(context: Context, value: Any, tz: str | None = None, format: str = "medium") -> str:
        day: date
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError as exc:
                raise RenderError(f"{value!r} is not an ISO 8601 date") from exc
        elif isinstance(value, date) and not isinstance(value, datetime):
            day = value
        else:
            moment = _moment(value)
            zone = _zone(tz)
            day = (moment.astimezone(zone) if zone else moment).date()
        return _spaces(babel_dates.format_date(day, format, locale=locale_of(context)), html)

    return {"money": money, "datetime": datetime_, "time": time_, "date": date_}


def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        # Text parts are not HTML: escaping them would show "&lt;" to the reader.
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        # a block tag on a line of its own leaves no blank line behind in a text body
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(_make_filters(html))
    return env


_ENVIRONMENTS = {True: _environment(True), False: _environment(False)}


@functools.lru_cache(maxsize=1024)
def _compiled(source: str, html: bool) -> Any:
    """Parsing is most of a render's cost; a template version's source never changes."""
    return _ENVIRONMENTS[html].from_string(source)


def _described(exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)  # syntax errors know their line, runtime ones do not
    return f"{'line ' + str(line) + ': ' if line else ''}{exc.message or exc}"


def render_text(source: str, variables: dict[str, Any], *, locale: str, html: bool) -> str:
    """`source` rendered with `variables`, formatted for `locale`; RenderError says why not."""
    try:
        template = _compiled(source, html)
        return str(template.render({**variables, _LOCALE_KEY: normalise_locale(locale)}))
    except RenderError:
        raise
    except TemplateError as exc:
        raise RenderError(_described(exc)) from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # What a template can do wrong with the values it was given (a filter on the wrong type).
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc


def check(source: str, allowed: set[str]) -> list[str]:
    """What is wrong with a source before any value reaches it: syntax, unknown names and filters.

    Names the environment provides (`range`, `loop`-style globals) are not the
    producer's to pass, so they are allowed; any other name must be one of the
    kind's catalogue variables, or the message would fail at send time.
    """
    env = _ENVIRONMENTS[False]
    try:
        parsed = env.parse(source)
        # compiling also finds unknown filters and tests, which parsing alone lets through
        env.from_string(source)
    except TemplateError as exc:
        return [_described(exc)]
    unknown = meta.find_undeclared_variables(parsed) - allowed - set(env.globals)
    return [f"unknown variable {name!r}" for name in sorted(unknown)]
