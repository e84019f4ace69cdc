"""Uploads: the GraphQL multipart request spec, through the router to one subgraph.

https://github.com/jaydenseric/graphql-multipart-request-spec (what Apollo's
and urql's upload clients send): an `operations` part (the GraphQL request,
each file variable null), a `map` part (`{"0": ["variables.file"]}`), then
one part per file, in that order.

The body is read as a stream, with a running count against
`ROUTER_MAX_UPLOAD_BYTES` (413 as soon as it is passed; the rest is never
read). `operations` and `map` come first, so the whole edge pipeline
(persisted queries, parse and validate, limits, authorization) and the plan
run before a single file byte is read: a request the router refuses, or
one from an anonymous caller, never reaches a subgraph and its files are
never read. Only a mutation may carry files, and every field that takes a
file must be planned into one root fetch (one subgraph); anything else is a
400 that says so.

Files are then spooled (`SpooledTemporaryFile`: memory up to 1 MiB, disk
beyond) while the SHA-256 of the multipart body the router will send is
computed, so the router's credential can sign it
(`router_credential.sign_digest`) without holding it in memory. The root
fetch goes to its subgraph as a multipart request (`Fetcher.post_streamed`)
with the operations and map of that fetch; every other fetch of the plan
(entity jumps for the answer) is the usual JSON.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, cast

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from router.execution.executor import Executor
from router.execution.fetcher import Fetcher, StreamedBody
from router.execution.shaping import Shaper
from router.gateway import GraphQLRequest, GraphQLResponse
from router.planning.plan import FetchNode, QueryPlan
from router.planning.planner import PlanError
from router.server.payload import Payload, Refusal, typed_payload
from router.server.pipeline import Admitted, Pipeline, Refused

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["PreparedUpload", "read_upload", "run_upload"]

#: Files up to this size stay in memory; larger ones go to a temporary file.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
#: what stands for a file in the variables the router validates (the spec's null
#: would fail `Upload!`); the subgraph gets null again, and the file in its place
PLACEHOLDER = "<upload>"
SPEC = "see the GraphQL multipart request spec"


@dataclass(slots=True)
class _File:
    key: str
    header: bytes
    spool: IO[bytes]
    size: int = 0


@dataclass(slots=True)
class _Body:
    """The multipart body sent to the subgraph: a `StreamedBody`."""

    boundary: bytes
    head: bytes
    files: list[_File] = field(default_factory=list)
    digest: Any = field(default_factory=hashlib.sha256)
    length: int = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary.decode()}"

    @property
    def tail(self) -> bytes:
        return b"--" + self.boundary + b"--\r\n"

    def add(self, data: bytes) -> None:
        self.digest.update(data)
        self.length += len(data)

    def sha256(self) -> Any:
        return self.digest.copy()

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.head
        for f in self.files:
            yield f.header
            f.spool.seek(0)
            while chunk := f.spool.read(CHUNK_BYTES):
                yield chunk
            yield b"\r\n"
        yield self.tail


@dataclass(slots=True)
class PreparedUpload:
    """An admitted upload whose files are spooled: ready to run."""

    admitted: Admitted
    plan: QueryPlan
    node: FetchNode
    body: _Body

    def close(self) -> None:
        for f in self.body.files:
            f.spool.close()


class _Bad(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.refused = Refused([_error(message, code)], status)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _too_large(limit: int) -> _Bad:
    return _Bad(f"Upload too large (more than {limit} bytes).", 413, "PAYLOAD_TOO_LARGE")


class _Events:
    """python-multipart's callbacks, queued so they are handled in async code."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, Any]] = []
        self._field = b""
        self._value = b""
        self._headers: dict[str, str] = {}
        self.ended = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": lambda: self.queue.append(("end", None)),
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers = {}
        self._field = self._value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("latin-1")
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        self.queue.append(("part", self._headers))

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.queue.append(("data", bytes(data[start:end])))

    def _end(self) -> None:
        self.ended = True


def _disposition(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(name, filename) of a part."""
    kind, params = parse_options_header(headers.get("content-disposition"))
    if kind != b"form-data":
        return None, None
    name = params.get(b"name")
    filename = params.get(b"filename")
    return (
        name.decode("utf-8", "replace") if name is not None else None,
        filename.decode("utf-8", "replace") if filename is not None else None,
    )


def _clean(value: str) -> str:
    """A header parameter value that cannot break out of its quotes or line."""
    return "".join(c for c in value if c not in "\r\n").replace('"', "%22")


def _part_header(boundary: bytes, name: str, filename: str | None, content_type: str) -> bytes:
    disposition = f'form-data; name="{_clean(name)}"'
    if filename is not None:
        disposition += f'; filename="{_clean(filename)}"'
    return (
        b"--"
        + boundary
        + b"\r\n"
        + f"Content-Disposition: {disposition}\r\nContent-Type: {_clean(content_type)}\r\n\r\n".encode()
    )


def _parse_map(raw: bytes) -> dict[str, list[list[str]]]:
    try:
        files = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"The map part is not valid JSON ({SPEC}).") from exc
    if not isinstance(files, dict) or not all(
        isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths)
        for paths in files.values()
    ):
        raise _Bad(f'The map part must be an object like {{"0": ["variables.file"]}} ({SPEC}).')
    out: dict[str, list[list[str]]] = {}
    for key, paths in files.items():
        split = [p.split(".") for p in paths]
        for p in split:
            if len(p) < 2 or p[0] != "variables" or not all(p):
                raise _Bad(f"The map names {'.'.join(p)!r}: files go into variables ({SPEC}).")
        out[key] = split
    return out


def _place(variables: dict[str, Any], path: list[str], value: Any) -> None:
    """Put `value` where `path` (after "variables") points; the client sent null there."""
    target: Any = variables
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(target, dict):
            if step not in target:
                raise _Bad(f"The map names variables.{'.'.join(path)}, which the operations lack.")
            if last:
                target[step] = value
            else:
                target = target[step]
        elif isinstance(target, list) and step.isdigit() and int(step) < len(target):
            if last:
                target[int(step)] = value
            else:
                target = target[int(step)]
        else:
            raise _Bad(f"The map names variables.{'.'.join(path)}, which the operations lack.")


def _payload(raw: bytes, placed: dict[str, list[list[str]]]) -> Payload:
    try:
        ops = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"The operations part is not valid JSON ({SPEC}).") from exc
    if isinstance(ops, list):
        raise _Bad("Batched operations are not accepted: send one operation per request.")
    if not isinstance(ops, dict):
        raise _Bad("The operations part must be a JSON object.")
    # read as a JSON POST's body is (documentId/doc_id included), so a persisted
    # or trusted document is looked up by `Pipeline.admit` as on every transport
    payload = typed_payload(ops)
    if isinstance(payload, Refusal):
        raise _Bad("Invalid GraphQL request in the operations part.")
    variables = payload.variables if payload.variables is not None else {}
    for paths in placed.values():
        for path in paths:
            _place(variables, path[1:], PLACEHOLDER)
    return replace(payload, variables=variables)


def _fetch_for_files(plan: QueryPlan, roots: set[str]) -> FetchNode:
    """The one root fetch that takes every file variable, or a 400 that says why not."""
    nodes = [n for n in plan.nodes if roots & set(n.variables)]
    unused = roots - {v for n in nodes for v in n.variables}
    if unused:
        names = ", ".join(f"${v}" for v in sorted(unused))
        raise _Bad(f"No field of the operation takes the file variable {names}.")
    if len(nodes) != 1 or nodes[0].is_entity:
        services = ", ".join(sorted({n.service_name for n in nodes}))
        raise _Bad(
            "Files go to one subgraph: the fields that take them must be root mutation "
            f"fields of one subgraph (here they are planned over {services})."
        )
    return nodes[0]


def _outgoing(
    node: FetchNode, variables: dict[str, Any], placed: dict[str, list[list[str]]]
) -> tuple[bytes, bytes]:
    """The root fetch's operations (files null again, as the spec sends them) and map."""
    vars_ = orjson.loads(orjson.dumps({v: variables[v] for v in node.variables if v in variables}))
    for paths in placed.values():
        for path in paths:
            _place(vars_, path[1:], None)
    ops: dict[str, Any] = {"query": node.query}
    if vars_:
        ops["variables"] = vars_
    files = {str(i): [".".join(p) for p in paths] for i, paths in enumerate(placed.values())}
    return orjson.dumps(ops), orjson.dumps(files)


async def read_upload(
    request: Request,
    pipeline: Pipeline,
    caller: GraphQLRequest,
    max_upload_bytes: int,
    max_field_bytes: int,
) -> PreparedUpload | Refused:
    """Read and admit a multipart upload; its files are spooled when this returns.

    Refused: nothing was sent anywhere, and no file byte past the chunk that
    carried the end of `map` was read.
    """
    out = _Body(boundary=secrets.token_hex(16).encode(), head=b"")
    prepared: PreparedUpload | None = None
    try:
        prepared = await _read(request, pipeline, caller, max_upload_bytes, max_field_bytes, out)
        return prepared
    except _Bad as bad:
        return bad.refused
    except _Refusal as r:
        return r.refused
    except ClientDisconnect:
        return Refused([_error("The client went away during the upload.", "BAD_REQUEST")])
    finally:
        if prepared is None:
            for f in out.files:
                f.spool.close()


class _Refusal(Exception):
    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.errors[0]["message"] if refused.errors else "refused")
        self.refused = refused


async def _read(
    request: Request,
    pipeline: Pipeline,
    caller: GraphQLRequest,
    limit: int,
    field_limit: int,
    out: _Body,
) -> PreparedUpload:
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise _Bad("A multipart request needs a boundary in its Content-Type.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    events = _Events()
    parser = MultipartParser(boundary, cast("MultipartCallbacks", events.callbacks()))
    stage = "operations"  # then "map", then "files"
    fields: dict[str, bytearray] = {}
    placed: dict[str, list[list[str]]] = {}
    admitted: Admitted | None = None
    plan: QueryPlan | None = None
    node: FetchNode | None = None
    current: _File | None = None
    current_field: str | None = None
    received: set[str] = set()
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            raise _Bad(f"Malformed multipart body ({exc}).") from exc
        for kind, value in events.queue:
            if kind == "part":
                name, filename = _disposition(value)
                if stage in ("operations", "map"):
                    if name != stage:
                        raise _Bad(
                            f"Expected the {stage!r} part here, got {name!r}: operations, "
                            f"then map, then the files ({SPEC})."
                        )
                    current_field = name
                    fields[name] = bytearray()
                    continue
                if name is None or name not in placed:
                    raise _Bad(f"The file part {name!r} is not in the map.")
                if name in received:
                    raise _Bad(f"The file part {name!r} came twice.")
                received.add(name)
                ctype = value.get("content-type") or "application/octet-stream"
                index = list(placed).index(name)
                current = _File(
                    name,
                    _part_header(out.boundary, str(index), filename or "file", ctype),
                    tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by PreparedUpload.close
                        max_size=SPOOL_IN_MEMORY_BYTES
                    ),
                )
                out.files.append(current)
                out.add(current.header)
            elif kind == "data":
                if current is not None:
                    current.spool.write(value)
                    current.size += len(value)
                    out.add(value)
                elif current_field is not None:
                    buf = fields[current_field]
                    buf += value
                    if len(buf) > field_limit:
                        raise _Bad(
                            f"The {current_field} part is too large.", 413, "PAYLOAD_TOO_LARGE"
                        )
            elif kind == "end":
                if current is not None:
                    out.add(b"\r\n")
                    current = None
                elif current_field == "operations":
                    stage, current_field = "map", None
                elif current_field == "map":
                    stage, current_field = "files", None
                    placed = _parse_map(bytes(fields["map"]))
                    admitted, plan, node = await _admit(
                        pipeline, caller, bytes(fields["operations"]), placed
                    )
                    ops, files_map = _outgoing(node, admitted.admission.variables, placed)
                    out.head = (
                        _part_header(out.boundary, "operations", None, "application/json")
                        + ops
                        + b"\r\n"
                        + _part_header(out.boundary, "map", None, "application/json")
                        + files_map
                        + b"\r\n"
                    )
                    out.add(out.head)
        events.queue.clear()
    parser.finalize()
    if not events.ended:
        raise _Bad("The multipart body ended early.")
    if admitted is None or plan is None or node is None:
        raise _Bad(f"An upload needs the operations and map parts ({SPEC}).")
    missing = [k for k in placed if k not in received]
    if missing:
        raise _Bad(f"The map names files that were not sent: {', '.join(missing)}.")
    out.add(out.tail)
    return PreparedUpload(admitted, plan, node, out)


async def _admit(
    pipeline: Pipeline,
    caller: GraphQLRequest,
    operations: bytes,
    placed: dict[str, list[list[str]]],
) -> tuple[Admitted, QueryPlan, FetchNode]:
    """The edge pipeline, then the upload's own rules; before any file byte is read."""
    payload = _payload(operations, placed)
    admitted = await pipeline.admit(payload, caller, "POST")
    if isinstance(admitted, Refused):
        raise _Refusal(admitted)
    if admitted.kind != "mutation":
        raise _Bad("Only a mutation may carry files.")
    viewer = admitted.request.viewer
    if viewer is None or not viewer.is_authenticated:
        raise _Bad("Uploads need a signed-in caller.", 401, "UNAUTHENTICATED")
    if admitted.admission.decision.errors:
        # a field the caller may not run: no file goes anywhere
        raise _Refusal(
            Refused(
                [dict(e) for e in admitted.admission.decision.errors], 403, False, admitted.label
            )
        )
    try:
        plan = admitted.gateway.plan_admitted(admitted.admission, admitted.request.operation_name)
    except PlanError as exc:
        raise _Bad(f"Query planning failed: {exc}", 400, "QUERY_PLANNING_FAILED") from exc
    roots = {p[1] for paths in placed.values() for p in paths}
    return admitted, plan, _fetch_for_files(plan, roots)


class _UploadFetcher(Fetcher):
    """The gateway's fetcher, except that the root fetch carries the files."""

    def __init__(self, inner: Fetcher, upload: PreparedUpload) -> None:
        super().__init__(inner.timeout, inner.timeouts)
        self._inner = inner
        self._upload = upload
        self._sent = False

    async def post(
        self,
        service: str,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        dedupe: bool = True,
    ) -> dict[str, Any]:
        node = self._upload.node
        if not self._sent and url == node.url and body.get("query") == node.query:
            self._sent = True
            return await self._inner.post_streamed(service, url, self._upload.body, headers)
        return await self._inner.post(service, url, body, headers, dedupe=dedupe)

    async def post_streamed(
        self,
        service: str,
        url: str,
        body: StreamedBody,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return await self._inner.post_streamed(service, url, body, headers)


async def run_upload(upload: PreparedUpload) -> GraphQLResponse:
    """Run the plan with the files on its root fetch, and shape the answer."""
    admitted = upload.admitted
    gw = admitted.gateway
    executor = Executor(_UploadFetcher(gw.fetcher, upload), gw.executor.abstract)
    data, errors = await executor.run(
        upload.plan, admitted.admission.variables, gw.forwarded_headers(admitted.request)
    )
    shaped = Shaper(errors).shape_root(upload.plan.shape, data)
    body: dict[str, Any] = {"data": shaped}
    if errors:
        body["errors"] = errors
    return GraphQLResponse(body, False, admitted.kind)
