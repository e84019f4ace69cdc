"""The templates every kind starts with: one folder per kind, read by `install_defaults`.

Each folder holds the Jinja2 sources an admin would otherwise type:
`subject.txt`, `body.txt` and `body.html` for e-mail (the HTML is the inner
part; `layout.html` wraps it, so one edit restyles every default), and
`sms.txt` for kinds that go out by SMS. They are English; the values in
them (money, dates, times) are formatted in each reader's own locale.
Once installed they are the admins' to change: a new version in the
database, never a file edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
_CONTENT_MARKER = "<!-- content -->"


@dataclass(frozen=True, slots=True)
class DefaultSource:
    subject: str | None
    html: str | None
    text: str


def _read(kind: str, name: str) -> str:
    return (HERE / kind / name).read_text(encoding="utf-8")


@cache
def default_source(kind: str, channel: str) -> DefaultSource:
    """The shipped sources of `kind` on `channel`; FileNotFoundError when none are shipped."""
    if channel == "sms":
        return DefaultSource(subject=None, html=None, text=_read(kind, "sms.txt").strip())
    layout = (HERE / "layout.html").read_text(encoding="utf-8")
    return DefaultSource(
        subject=_read(kind, "subject.txt").strip(),
        html=layout.replace(_CONTENT_MARKER, _read(kind, "body.html").rstrip()),
        text=_read(kind, "body.txt"),
    )
