"""Reading a GraphQL multipart upload, refusing a value that is not a file.

The `Upload` scalar accepts any variable value, so a client that sends
`file` as a JSON string (not a multipart request) reaches the resolver with
a `str`; reading it failed as INTERNAL. It is the client's input at fault:
a user error on the field, raised before any transaction, so nothing changes.
"""

from __future__ import annotations

from typing import Final

from subgraphs.kit.errors import ServiceError

#: The user error code of an upload field that holds no file.
NOT_A_FILE: Final = "INVALID"


async def read_upload(file: object, max_bytes: int, field: str = "file") -> bytes:
    """The file's bytes, at most one byte over `max_bytes` (enough to say "too large").

    Raises a `ServiceError` on `field` when the value is not an uploaded file.
    """
    read = getattr(file, "read", None)
    if not callable(read):
        raise ServiceError.of(
            NOT_A_FILE,
            f"`{field}` is not a file: send it as a GraphQL multipart request "
            "(the file in its own part, `map` pointing at the variable).",
            field,
        )
    data = await read(max_bytes + 1)
    return data if isinstance(data, bytes) else bytes(data)
