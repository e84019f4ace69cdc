"""A contact's details in one stored form, so matching a person is exact.

E-mail: validated, then lower-cased whole. Phone: parsed by `phonenumbers`
(numbers without a country code are read as US numbers) and stored in E.164.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from subgraphs.kit.errors import Problem
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.service import audit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.sales.models import ClientContact

DEFAULT_REGION = "US"


def normal_email(value: str, field: str) -> str | Problem:
    text = value.strip()
    if len(text) > 254:
        return Problem(Code.TOO_LONG, "E-mail is longer than 254 characters.", field)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return Problem(Code.INVALID, f"E-mail is not valid: {exc}", field)
    return checked.normalized.lower()


def normal_phone(value: str, field: str) -> str | Problem:
    try:
        number = phonenumbers.parse(value.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return Problem(Code.INVALID, f"{value!r} is not a valid phone number.", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


MAX_CONTACTS = 50


@dataclass
class ContactDetails:
    """A contact as given; None means "leave as is" on update, "" clears title/phone/e-mail."""

    name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    is_primary: bool | None = None


def normalise(
    details: ContactDetails, *, prefix: str = "", creating: bool
) -> tuple[ContactDetails, list[Problem]]:
    """The details in stored form (trimmed, e-mail lower-case, phone E.164) and the problems."""
    problems: list[Problem] = []
    out = ContactDetails(is_primary=details.is_primary)
    if details.name is not None or creating:
        name = (details.name or "").strip()
        if not name:
            problems.append(Problem(Code.REQUIRED, "Name is required.", f"{prefix}name"))
        elif len(name) > 200:
            problems.append(Problem(Code.TOO_LONG, "Longer than 200.", f"{prefix}name"))
        out.name = name
    if details.title is not None:
        title = details.title.strip()
        if len(title) > 200:
            problems.append(Problem(Code.TOO_LONG, "Longer than 200.", f"{prefix}title"))
        out.title = title
    for attr, rule in (("email", normal_email), ("phone", normal_phone)):
        value = getattr(details, attr)
        if value is None:
            continue
        if not value.strip():
            setattr(out, attr, "")
            continue
        result = rule(value, f"{prefix}{attr}")
        if isinstance(result, Problem):
            problems.append(result)
        else:
            setattr(out, attr, result)
    return out, problems


def stored(details: ContactDetails) -> ContactDetails:
    """Empty strings become NULL for storage."""
    return ContactDetails(
        name=details.name,
        title=details.title or None,
        email=details.email or None,
        phone=details.phone or None,
        is_primary=bool(details.is_primary),
    )


def check_new(people: list[ContactDetails]) -> tuple[list[ContactDetails], list[Problem]]:
    """A new client's contacts: one primary (a lone contact is it), with an e-mail."""
    problems: list[Problem] = []
    if len(people) > MAX_CONTACTS:
        return [], [Problem(Code.OUT_OF_RANGE, f"At most {MAX_CONTACTS} contacts.", "contacts")]
    out: list[ContactDetails] = []
    for i, person in enumerate(people):
        clean, found = normalise(person, prefix=f"contacts.{i}.", creating=True)
        problems += found
        out.append(stored(clean))
    if len(out) == 1:
        out[0].is_primary = True
    primaries = [i for i, c in enumerate(out) if c.is_primary]
    if out and len(primaries) != 1:
        problems.append(
            Problem(Code.PRIMARY_CONTACT, "Mark exactly one contact as primary.", "contacts")
        )
    for i in primaries:
        if not out[i].email and not any(p.field == f"contacts.{i}.email" for p in problems):
            problems.append(
                Problem(
                    Code.REQUIRED, "The primary contact needs an e-mail.", f"contacts.{i}.email"
                )
            )
    return out, problems


def audit_contact(
    session: AsyncSession,
    row: ClientContact,
    action: str,
    actor: Viewer,
    before: dict[str, object] | None,
    after: dict[str, object] | None = None,
) -> bool:
    return audit.record(
        session,
        client_id=row.client_id,
        entity="contact",
        entity_id=row.id,
        action=action,
        actor=actor,
        before=before,
        after=audit.row_snapshot(row) if after is None and action != "remove_contact" else after,
    )
