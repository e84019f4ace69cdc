"""DateTime needs an offset and is answered in UTC; Date is an ISO calendar date."""

from __future__ import annotations

import pytest


async def test_datetime_with_an_offset_is_answered_in_utc(gql):
    response = await gql(
        "query($v: DateTime!) { instant(value: $v) }", {"v": "2026-05-31T10:15:00+02:00"}
    )

    assert response.ok() == {"instant": "2026-05-31T08:15:00Z"}


async def test_the_resolver_receives_the_instant_in_utc(gql):
    response = await gql(
        "query($v: DateTime!) { instantAsReceived(value: $v) }", {"v": "2026-01-01T00:30:00-05:00"}
    )

    assert response.ok() == {"instantAsReceived": "2026-01-01T05:30:00+00:00"}


@pytest.mark.parametrize(
    "sent", ["2026-05-31T10:15:00", "2026-05-31", "yesterday", 1780000000], ids=str
)
async def test_datetime_without_an_offset_is_refused(gql, sent):
    response = await gql("query($v: DateTime!) { instant(value: $v) }", {"v": sent})

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]


async def test_date_round_trips(gql):
    assert (await gql('{ day(value: "2028-02-29") }')).ok() == {"day": "2028-02-29"}


@pytest.mark.parametrize("sent", ["2026-02-30", "31/05/2026", 20260531], ids=str)
async def test_an_invalid_date_is_refused(gql, sent):
    response = await gql("query($v: Date!) { day(value: $v) }", {"v": sent})

    assert response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]
