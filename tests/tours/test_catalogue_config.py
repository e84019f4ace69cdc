"""The booking rules' one row: created on first read, even by many first readers at once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from subgraphs.kit.errors import ServiceError
from subgraphs.tours.models import ToursConfig
from subgraphs.tours.service import config
from subgraphs.tours.service.changes import SYSTEM


async def test_ten_first_readers_at_once_all_get_the_defaults_from_one_row(sessions):
    async def read() -> tuple[int, Decimal, int]:
        async with sessions() as session, session.begin():
            row = await config.get_config(session)
            return row.cutoff_hours, row.child_rate_percent, row.party_max

    answers = await asyncio.gather(*(read() for _ in range(10)))

    assert set(answers) == {(24, Decimal("70.00"), 50)}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ToursConfig)) == 1


async def test_an_edit_is_checked_whole_and_a_bad_one_changes_nothing(sessions):
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await config.update_config(
                session,
                config.ConfigChange(
                    tax_rate_percent=Decimal("100.5"), cutoff_hours=-1, offer_hold_hours=0
                ),
                SYSTEM,
            )
    assert [(p.code, p.field) for p in caught.value.problems] == [
        ("OUT_OF_RANGE", "taxRatePercent"),
        ("OUT_OF_RANGE", "cutoffHours"),
        ("OUT_OF_RANGE", "offerHoldHours"),
    ]

    async with sessions() as session, session.begin():
        changed = await config.update_config(
            session, config.ConfigChange(child_rate_percent=Decimal("65.50"), party_max=20), SYSTEM
        )
    assert (changed.child_rate_percent, changed.party_max, changed.tax_rate_percent) == (
        Decimal("65.50"),
        20,
        Decimal("10.00"),
    )
