"""Codes of notifications' user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class NotificationsErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    #: A phone number that is not E.164 (+ and 8 to 15 digits), so no SMS could reach it.
    INVALID_PHONE = "INVALID_PHONE"
    #: A template names a variable its kind does not provide, or does not parse.
    TEMPLATE_INVALID = "TEMPLATE_INVALID"
