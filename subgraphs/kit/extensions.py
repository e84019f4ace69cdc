"""Schema extensions: what a client may learn from an error.

Errors raised before execution (syntax, validation, input coercion) and
`CodedError`s are meant for the client and pass through with a code.
Anything else is a fault of ours: logged with the request id and traceback,
answered as `INTERNAL` with no message detail, stack trace or SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from subgraphs.kit.errors import ErrorCode
from subgraphs.kit.request_id import current_request_id

log = logging.getLogger("athena.errors")


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
