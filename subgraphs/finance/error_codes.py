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
    #: A consolidated invoice with no booked, priced, not-yet-invoiced charter to bill.
    NOTHING_TO_INVOICE = "NOTHING_TO_INVOICE"
    #: Purchase orders: a client type not allowed them, or over the PO credit limit.
    PO_NOT_ALLOWED = "PO_NOT_ALLOWED"
    PO_CREDIT_LIMIT = "PO_CREDIT_LIMIT"
    #: The payer's bank or card network said no; nothing was recorded.
    DECLINED = "DECLINED"
    #: The payment configuration does not allow autopay (seed 001 section 7: `autopay_allowed`).
    AUTOPAY_NOT_ALLOWED = "AUTOPAY_NOT_ALLOWED"
    #: The provider could not be reached or refused the request; retry with the same key.
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    #: A refund over what the payment paid that charter, less what was refunded.
    EXCEEDS_REFUNDABLE = "EXCEEDS_REFUNDABLE"
    PLAN_TOTAL = "PLAN_TOTAL"
