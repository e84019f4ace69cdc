"""Schema extensions: what a client may learn from an error.

Errors raised before execution (syntax, validation, input coercion) and
`CodedError`s are meant for the client and pass through with a code.
Anything else is a fault of ours: logged with the request id and traceback,
answered as `INTERNAL` with no message detail, stack trace or SQL.
A fault that is PostgreSQL or Redis being unreachable (down, restarting,
connection closed under a statement) is answered `SERVICE_UNAVAILABLE`
instead, with a fixed message: the client can act on it (retry shortly),
and the driver's text is still never shown.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator

from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    CrashShutdownError,
    PostgresConnectionError,
)
from graphql import GraphQLError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import SchemaExtension

from subgraphs.kit.errors import ErrorCode
from subgraphs.kit.request_id import current_request_id

log = logging.getLogger("athena.errors")

UNAVAILABLE_MESSAGE = "A service this request needs is temporarily unavailable; retry shortly."
#: Exceptions that mean a server could not be reached (or went away mid-request).
_UNREACHABLE: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe
    RedisConnectionError,  # also Redis still loading its data
    PostgresConnectionError,  # also asyncpg's "connection was closed in the middle of operation"
    CannotConnectNowError,  # PostgreSQL starting up or shutting down
    AdminShutdownError,
    CrashShutdownError,
)
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH}


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or what it wraps, is PostgreSQL or Redis being unreachable."""
    for _ in range(10):  # SQLAlchemy wraps asyncpg wraps OSError: a short chain
        if error is None:
            return False
        if isinstance(error, _UNREACHABLE):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, OSError) and (
            error.errno in _UNREACHABLE_ERRNOS
            # asyncio's connect to several addresses: "Multiple exceptions: ... Connect call failed"
            or (type(error) is OSError and "Connect call failed" in str(error))
        ):
            return True
        error = error.__cause__ or error.__context__ or getattr(error, "orig", None)
    return False


def _is_intended(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or error.path is None:
        return True
    return isinstance(original, GraphQLError) and bool((original.extensions or {}).get("code"))


def present_error(error: GraphQLError) -> GraphQLError:
    if _is_intended(error):
        extensions = dict(error.extensions or {})
        extensions.setdefault(
            "code",
            ErrorCode.BAD_USER_INPUT.value if error.path is None else ErrorCode.INTERNAL.value,
        )
        error.extensions = extensions
        return error
    request_id = current_request_id()
    if is_unavailable(error.original_error):
        log.warning(
            "request %s at %s: a server is unreachable: %r",
            request_id,
            ".".join(map(str, error.path or ())),
            error.original_error,
        )
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.SERVICE_UNAVAILABLE.value, "requestId": request_id},
        )
    log.error(
        "internal error in request %s at %s",
        request_id,
        ".".join(map(str, error.path or ())),
        exc_info=error.original_error,
    )
    return GraphQLError(
        "Internal error.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value, "requestId": request_id},
    )


class MaskInternalErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        # Strawberry also keeps execution errors in `pre_execution_errors`:
        # present (and log) each error once, whichever lists hold it.
        presented: dict[int, GraphQLError] = {}

        def present(error: GraphQLError) -> GraphQLError:
            if id(error) not in presented:
                presented[id(error)] = present_error(error)
            return presented[id(error)]

        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [present(e) for e in errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [present(e) for e in pre]
