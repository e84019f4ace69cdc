"""Input checks that produce every problem at once, each naming its field."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from protocol.roles import Role
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.kit.errors import Problem, ServiceError

MAX_NAME = 200
MAX_PHONE = 40
MIN_PASSWORD = 10
MAX_PASSWORD = 200


def normalise_email(email: str, field: str = "email") -> str:
    email = (email or "").strip()
    if not email:
        raise ServiceError.of(Code.REQUIRED, "E-mail is required.", field)
    if len(email) > 254:
        raise ServiceError.of(Code.TOO_LONG, "E-mail is longer than 254 characters.", field)
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError.of(Code.INVALID_EMAIL, f"E-mail is not valid: {exc}", field) from exc
    return checked.normalized.lower()


def text_problems(
    value: str | None, field: str, label: str, *, max_length: int, required: bool
) -> list[Problem]:
    stripped = (value or "").strip()
    if required and not stripped:
        return [Problem(Code.REQUIRED, f"{label} is required.", field)]
    if len(stripped) > max_length:
        return [Problem(Code.TOO_LONG, f"{label} is longer than {max_length} characters.", field)]
    return []


def password_problems(password: str, field: str = "password") -> list[Problem]:
    if len(password) < MIN_PASSWORD:
        return [
            Problem(
                Code.WEAK_PASSWORD, f"Password needs at least {MIN_PASSWORD} characters.", field
            )
        ]
    if len(password) > MAX_PASSWORD:
        return [Problem(Code.TOO_LONG, f"Password is longer than {MAX_PASSWORD}.", field)]
    return []


def parse_roles(roles: Iterable[str], field: str = "roles") -> list[str]:
    known = {r.value for r in Role}
    chosen = sorted({r.strip().lower() for r in roles})
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise ServiceError.of(Code.INVALID, f"Unknown role(s): {', '.join(unknown)}.", field)
    if not chosen:
        raise ServiceError.of(Code.REQUIRED, "At least one role is required.", field)
    return chosen


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ServiceError(problems)
