"""Codes of sales' user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class SalesErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    PRIMARY_CONTACT = "PRIMARY_CONTACT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    UNKNOWN_AGENT = "UNKNOWN_AGENT"
    #: convertLead: the lead was converted already, under another idempotency key.
    ALREADY_CONVERTED = "ALREADY_CONVERTED"
    #: convertLead: charters could not be reached; retry with the same idempotency key.
    CHARTERS_UNAVAILABLE = "CHARTERS_UNAVAILABLE"
