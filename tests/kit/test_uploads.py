"""`read_upload`: a value that is not an uploaded file is a user error on its field."""

from __future__ import annotations

import pytest

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.uploads import read_upload


class _File:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[int] = []

    async def read(self, size: int) -> bytes:
        self.asked.append(size)
        return self.data[:size]


@pytest.mark.parametrize("value", ["JVBERi0xLjQK", {"name": "a.pdf"}, 42, None])
async def test_a_value_that_is_not_a_file_names_the_field(value: object) -> None:
    with pytest.raises(ServiceError) as caught:
        await read_upload(value, 100, field="photo")

    assert [(p.field, p.code) for p in caught.value.problems] == [("photo", "INVALID")]
    assert "multipart" in caught.value.problems[0].message


async def test_a_file_is_read_to_one_byte_over_the_limit() -> None:
    file = _File(b"x" * 10)

    assert await read_upload(file, 4) == b"xxxxx"
    assert file.asked == [5]
