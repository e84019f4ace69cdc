"""The two kinds of failure a client sees, per DESIGN.md's conventions.

Business-rule and input failures are *user errors*: values in a mutation
payload (`userErrors { field code message }`), raised from `service.py` as
`ServiceError` and turned into payloads at the GraphQL edge. Auth failures,
unknown top-level ids and internal faults are *GraphQL errors* carrying
`extensions.code`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"
    #: PostgreSQL or Redis could not be reached: the same request may succeed shortly.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Problem:
    """One user-facing problem with the input or with a business rule."""

    code: str
    message: str
    field: str | None = None


class ServiceError(Exception):
    """Raised by service functions; carries one or more problems.

    The caller's transaction must roll back: nothing is half-written.
    """

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = (
            (problems,) if isinstance(problems, Problem) else tuple(problems)
        )
        super().__init__("; ".join(p.message for p in self.problems))

    @classmethod
    def of(cls, code: str, message: str, field: str | None = None) -> ServiceError:
        return cls(Problem(code=code, message=message, field=field))


class CodedError(GraphQLError):
    """A GraphQL error that is safe to show: its code and message are intended."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code.value, **extensions})


class UnauthenticatedError(CodedError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(self, message: str = "You must be logged in.") -> None:
        super().__init__(message)


class ForbiddenError(CodedError):
    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class NotFoundError(CodedError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str = "Object", ident: object = None) -> None:
        suffix = f" {ident}" if ident is not None else ""
        super().__init__(f"{what}{suffix} was not found.")


class BadUserInputError(CodedError):
    code = ErrorCode.BAD_USER_INPUT


class ConflictError(CodedError):
    code = ErrorCode.CONFLICT
