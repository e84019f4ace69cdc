"""Codes of reports' user errors; clients switch on these, not on messages."""

from __future__ import annotations

from enum import StrEnum


class ReportsErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    #: The operation does not parse or validate against the current API schema.
    INVALID_OPERATION = "INVALID_OPERATION"
    #: A column, grouping or rows path not selected by the operation.
    UNKNOWN_PATH = "UNKNOWN_PATH"
    #: sum/average/min/max over a column that is not a number or money.
    NOT_A_NUMBER = "NOT_A_NUMBER"
    #: A cron expression that does not parse or never fires.
    INVALID_CRON = "INVALID_CRON"
    #: The template is marked broken (its operation no longer validates); not run.
    BROKEN_TEMPLATE = "BROKEN_TEMPLATE"
    #: The graph answered with errors or could not be reached while running.
    RUN_FAILED = "RUN_FAILED"
    #: Identity refused a schedule's delegation grant, or would not exchange it for its
    #: owner's token at delivery (no grant, revoked, owner disabled, identity unreachable).
    #: Identity unreachable while creating or enabling a schedule is CONFLICT: try again.
    DELEGATION_FAILED = "DELEGATION_FAILED"
