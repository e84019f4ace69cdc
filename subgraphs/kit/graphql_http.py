"""A subgraph's GraphQL endpoint: Strawberry's ASGI view, speaking GraphQL over HTTP.

The same rules as the router's edge, so a subgraph reached directly (tests,
tools, the spec audit) answers like the graph does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cross_web import HTTPException  # what Strawberry's views raise (its HTTP layer)
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from subgraphs.kit import json
from subgraphs.kit.context import Context, Services
from subgraphs.kit.request_id import current_request_id

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send
    from strawberry.http import GraphQLHTTPResponse
    from strawberry.schema.base import BaseSchema
    from strawberry.types.execution import ExecutionResult


GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
#: request bodies a subgraph reads: JSON, and the GraphQL multipart request spec
ACCEPTED_BODIES = frozenset({JSON, "multipart/form-data"})
#: `request.state` flag: the answer is a request error (nothing was executed)
_REQUEST_ERROR = "athena_request_error"


def answer_media(accept: str | None) -> str:
    """The answer's media type, by the client's `Accept` preference (as the router does).

    `application/graphql-response+json` when the client prefers it to every
    other JSON type it lists; otherwise `application/json` (also with no
    Accept at all: the spec's default, and what the router asks for).
    """
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept or "").split(",")):
        media, *params = (f.strip() for f in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, i, media.lower()))
    for _, _, media in sorted(ranked):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


def _essence(content_type: str | None) -> str | None:
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    return essence or None


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: parsing, validation or variable coercion failed.

    Such errors carry no path; a field error always does, even one that
    nulled the whole `data`.
    """
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


class SubgraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, speaking the GraphQL over HTTP spec like the router.

    A client that asks for `application/graphql-response+json` gets it, and
    HTTP 400 for a request error; `application/json` (what the router asks
    for) is HTTP 200 whatever the errors. A request error has no `data`
    entry. A POST must say what it carries: JSON or multipart, else 415.
    """

    def __init__(self, schema: BaseSchema, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media = answer_media(request.headers.get("accept"))
        essence = _essence(request.headers.get("content-type"))
        if request.method == "POST" and essence not in ACCEPTED_BODIES:
            message = (
                "A POST must carry a Content-Type (application/json)."
                if essence is None
                else f"Unsupported Content-Type {essence!r}: send application/json "
                "(or multipart/form-data for uploads)."
            )
            body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
            response: Response = Response(json.dumps(body), 415, media_type=media)
        else:
            try:
                response = await self.run(request)
            except HTTPException as e:
                response = PlainTextResponse(e.reason, status_code=e.status_code)
            if response.media_type == JSON and not isinstance(response, StreamingResponse):
                response.headers["content-type"] = media
                if media == GRAPHQL_RESPONSE and getattr(request.state, _REQUEST_ERROR, False):
                    response.status_code = 400
        await response(scope, receive, send)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if is_request_error(result):
            setattr(request.state, _REQUEST_ERROR, True)
            answer.pop("data", None)
        return answer

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        services: Services = request.app.state.services
        return Context(services, request, response, current_request_id())

    def encode_json(self, data: object) -> bytes:
        return json.dumps(data)
