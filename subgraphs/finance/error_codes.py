"""Codes of finance's user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class FinanceErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    IN_THE_FUTURE = "IN_THE_FUTURE"
    UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
    EXCEEDS_PAYMENT = "EXCEEDS_PAYMENT"
    EXCEEDS_BALANCE = "EXCEEDS_BALANCE"
    NOT_PAYABLE = "NOT_PAYABLE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
