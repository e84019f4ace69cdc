"""`SessionLoader.load_now`: `load_many`'s answers, one batch of the keys not cached yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from subgraphs.kit.loaders import SessionLoader


class Squares(SessionLoader[int, Any]):
    """Answers n*n; a key of 13 is an error value, as a batch may return one."""

    def __init__(self) -> None:
        super().__init__(sessions=None)  # type: ignore[arg-type]  # never opens one
        self.batches: list[list[int]] = []

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        self.batches.append(list(keys))
        return [ValueError("unlucky") if k == 13 else k * k for k in keys]


async def test_it_answers_as_load_many_with_one_batch_of_distinct_keys() -> None:
    now, many = Squares(), Squares()

    assert await now.load_now([3, 1, 3, 2]) == await many.load_many([3, 1, 3, 2]) == [9, 1, 9, 4]
    assert now.batches == many.batches == [[3, 1, 2]]


async def test_what_it_loaded_is_cached_for_load_and_cached_keys_are_not_loaded_again() -> None:
    loader = Squares()
    assert await loader.load(5) == 25

    assert await loader.load_now([5, 6]) == [25, 36]
    assert await loader.load(6) == 36
    assert await loader.load_now([6, 5]) == [36, 25]
    assert loader.batches == [[5], [6]]


async def test_an_error_value_is_raised_and_stays_cached_as_load_would_keep_it() -> None:
    loader = Squares()
    with pytest.raises(ValueError, match="unlucky"):
        await loader.load_now([2, 13])
    with pytest.raises(ValueError, match="unlucky"):
        await loader.load(13)
    assert await loader.load(2) == 4
    assert loader.batches == [[2, 13]]


async def test_a_loader_without_a_cache_or_with_a_batch_limit_takes_load_many() -> None:
    uncached = Squares()
    uncached.cache = False
    assert await uncached.load_now([1, 2]) == [1, 4]
    assert await uncached.load_now([1]) == [1]
    assert uncached.batches == [[1, 2], [1]]

    limited = Squares()
    limited.max_batch_size = 2
    assert await limited.load_now([1, 2, 3]) == [1, 4, 9]
    assert limited.batches == [[1, 2], [3]]
