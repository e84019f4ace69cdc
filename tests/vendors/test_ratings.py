"""Ratings: staff (or the charter's client) rate a vendor for a completed charter it served."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.vendors.models import CharterFacts, Rating
from subgraphs.vendors.service.ratings import NewRating, may_rate, rating_problems
from tests.support.vendors_facts import FactCharter, served, vendor_user

RATE = """
mutation($vendor: ID!, $charter: ID!, $input: RatingInput!) {
  rateVendor(vendorId: $vendor, charterId: $charter, input: $input) {
    rating { id overall onTime comment response ratedBy { id } }
    userErrors { field code message }
  }
}"""
RESPOND = """
mutation($id: ID!, $response: String!) {
  respondToRating(id: $id, response: $response) {
    rating { id response respondedAt } userErrors { field code message }
  }
}"""
SUMMARY = """
query($id: ID!) {
  vendor(id: $id) {
    ratingSummary { count averages { overall vehicleCondition driverProfessionalism onTime communication value } }
    ratings { totalCount edges { node { overall comment } } }
  }
}"""


def scores(overall: Any = 5, **others: Any) -> dict[str, Any]:
    base = {
        "overall": overall,
        "vehicleCondition": 4,
        "driverProfessionalism": 5,
        "onTime": 3,
        "communication": 4,
        "value": 4,
    }
    return {**base, **others}


async def ratings_count(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Rating)) or 0)


@pytest.fixture
def served_charter(sessions: Any, make_vendor: Any, vendors_staff: Any, vendors_as: Any) -> Any:
    """A charter (in `status`) whose vehicle the vendor confirmed; the vendor and its login."""

    async def make(status: str = "completed", vendor: dict[str, Any] | None = None) -> Any:
        vendor = vendor or await make_vendor()
        portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
        charter = FactCharter()
        await charter.project(sessions, "confirmed")
        await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
        if status != "confirmed":
            await charter.project(sessions, status)
        return charter, vendor, portal

    return make


async def test_staff_rate_a_completed_charter_and_the_averages_are_exact(
    served_charter, vendors_staff, sessions
):
    first, vendor, _ = await served_charter()
    second, _, _ = await served_charter(vendor=vendor)
    third, _, _ = await served_charter(vendor=vendor)

    answers = [
        (
            await vendors_staff(
                RATE,
                {"vendor": vendor["id"], "charter": str(c.id), "input": scores(overall, onTime=t)},
            )
        ).ok()["rateVendor"]
        for c, overall, t in ((first, 5, 1), (second, 4, 2), (third, 4, 2))
    ]
    summary = (await vendors_staff(SUMMARY, {"id": vendor["id"]})).ok()["vendor"]

    assert [a["userErrors"] for a in answers] == [[], [], []]
    assert answers[0]["rating"]["overall"] == "5.0"
    assert summary["ratingSummary"] == {
        "count": 3,
        "averages": {
            "overall": "4.33",
            "vehicleCondition": "4.00",
            "driverProfessionalism": "5.00",
            "onTime": "1.67",
            "communication": "4.00",
            "value": "4.00",
        },
    }
    assert len(summary["ratings"]["edges"]) == summary["ratings"]["totalCount"] == 3


async def test_a_vendor_without_ratings_has_a_zero_count_and_no_averages(
    make_vendor, vendors_staff
):
    vendor = await make_vendor()

    summary = (await vendors_staff(SUMMARY, {"id": vendor["id"]})).ok()["vendor"]

    assert summary["ratingSummary"]["count"] == 0
    assert set(summary["ratingSummary"]["averages"].values()) == {None}
    assert summary["ratings"] == {"totalCount": 0, "edges": []}


async def test_one_rating_per_charter_per_vendor(served_charter, vendors_staff, sessions):
    charter, vendor, _ = await served_charter()
    variables = {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}
    first = (await vendors_staff(RATE, variables)).ok()["rateVendor"]

    again = (await vendors_staff(RATE, variables)).ok()["rateVendor"]

    assert first["userErrors"] == []
    assert again["rating"] is None
    assert again["userErrors"][0]["code"] == "CONFLICT"
    assert again["userErrors"][0]["field"] == "charterId"
    assert await ratings_count(sessions) == 1


async def test_only_completed_charters_are_rated(served_charter, vendors_staff, sessions):
    charter, vendor, _ = await served_charter(status="confirmed")

    answer = (
        await vendors_staff(
            RATE, {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}
        )
    ).ok()["rateVendor"]

    assert answer["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert "only completed charters" in answer["userErrors"][0]["message"]
    assert await ratings_count(sessions) == 0


async def test_only_a_vendor_that_served_the_charter_is_rated(
    served_charter, make_vendor, vendors_staff, sessions
):
    charter, _, _ = await served_charter()
    bystander = await make_vendor("Never There Coaches")

    answer = (
        await vendors_staff(
            RATE, {"vendor": bystander["id"], "charter": str(charter.id), "input": scores()}
        )
    ).ok()["rateVendor"]

    assert answer["userErrors"] == [
        {
            "field": "vendorId",
            "code": "NOT_ELIGIBLE",
            "message": f"This vendor did not serve {charter.reference}.",
        }
    ]
    assert await ratings_count(sessions) == 0


async def test_an_offered_but_unconfirmed_assignment_is_not_served(
    sessions, make_vendor, vendors_staff
):
    vendor = await make_vendor()
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    offered = (
        await vendors_staff(
            """mutation($cv: ID!, $v: ID!) { assignVendor(charterVehicleId: $cv, vendorId: $v,
               amount: "100.00") { userErrors { code } } }""",
            {"cv": str(charter.vehicle_ids[0]), "v": vendor["id"]},
        )
    ).ok()
    await charter.project(sessions, "completed")

    answer = (
        await vendors_staff(
            RATE, {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}
        )
    ).ok()["rateVendor"]

    assert offered["assignVendor"]["userErrors"] == []
    assert answer["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert await ratings_count(sessions) == 0


@pytest.mark.parametrize(
    ("field", "value"), [("onTime", 0), ("overall", 6), ("value", -1), ("communication", 9)]
)
async def test_scores_outside_one_to_five_name_the_field(
    served_charter, vendors_staff, sessions, field, value
):
    charter, vendor, _ = await served_charter()

    answer = (
        await vendors_staff(
            RATE,
            {"vendor": vendor["id"], "charter": str(charter.id), "input": scores(**{field: value})},
        )
    ).ok()["rateVendor"]

    assert answer["rating"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [(field, "OUT_OF_RANGE")]
    assert await ratings_count(sessions) == 0


async def test_unknown_charter_and_vendor_are_user_errors(make_vendor, vendors_staff, sessions):
    vendor = await make_vendor()

    no_charter = (
        await vendors_staff(
            RATE, {"vendor": vendor["id"], "charter": str(uuid.uuid4()), "input": scores()}
        )
    ).ok()["rateVendor"]
    no_vendor = (
        await vendors_staff(
            RATE, {"vendor": str(uuid.uuid4()), "charter": str(uuid.uuid4()), "input": scores()}
        )
    ).ok()["rateVendor"]

    assert [(e["field"], e["code"]) for e in no_charter["userErrors"]] == [
        ("charterId", "NOT_FOUND")
    ]
    assert [(e["field"], e["code"]) for e in no_vendor["userErrors"]] == [("vendorId", "NOT_FOUND")]
    assert await ratings_count(sessions) == 0


async def test_vendors_cannot_rate_and_clients_need_to_be_the_charters_client(
    served_charter, vendors_as, sessions
):
    charter, vendor, portal = await served_charter()
    unlinked = await vendors_as("client")
    someone_else = await vendors_as("client", client_id=uuid.uuid4())
    variables = {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}

    by_vendor = await portal(RATE, variables)
    by_unlinked = (await unlinked(RATE, variables)).ok()["rateVendor"]
    by_someone_else = (await someone_else(RATE, variables)).ok()["rateVendor"]

    assert by_vendor.error_codes == ["FORBIDDEN"]
    assert by_unlinked["userErrors"][0]["code"] == "FORBIDDEN"
    assert by_someone_else["userErrors"][0]["code"] == "FORBIDDEN"
    assert await ratings_count(sessions) == 0


async def test_the_charters_own_client_rates_the_vendor_over_http(
    served_charter, vendors_as, sessions
):
    charter, vendor, _portal = await served_charter()
    client = await vendors_as("client", client_id=charter.client_id)
    variables = {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}

    rated = (await client(RATE, variables)).ok()["rateVendor"]

    assert rated["userErrors"] == []
    assert await ratings_count(sessions) == 1


def test_a_client_whose_verified_token_names_the_charters_client_may_rate():
    charter = CharterFacts(charter_id=uuid.uuid4(), client_id=uuid.uuid4())
    own = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.CLIENT}), client_id=charter.client_id)
    other = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.CLIENT}), client_id=uuid.uuid4())
    vendor = Viewer(
        user_id=uuid.uuid4(), roles=frozenset({Role.VENDOR}), client_id=charter.client_id
    )

    assert may_rate(own, charter)
    assert not may_rate(other, charter)
    assert not may_rate(vendor, charter)
    assert may_rate(Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.DISPATCHER})), charter)


async def test_the_vendor_responds_once(served_charter, vendors_staff, sessions):
    charter, vendor, portal = await served_charter()
    rating = (
        await vendors_staff(
            RATE,
            {"vendor": vendor["id"], "charter": str(charter.id), "input": scores(comment="Late")},
        )
    ).ok()["rateVendor"]["rating"]

    first = (await portal(RESPOND, {"id": rating["id"], "response": "Traffic on I-90."})).ok()
    second = (await portal(RESPOND, {"id": rating["id"], "response": "Sorry again."})).ok()

    assert first["respondToRating"]["userErrors"] == []
    assert first["respondToRating"]["rating"]["response"] == "Traffic on I-90."
    assert first["respondToRating"]["rating"]["respondedAt"]
    assert second["respondToRating"]["rating"] is None
    assert second["respondToRating"]["userErrors"][0]["code"] == "CONFLICT"
    async with sessions() as session:
        assert await session.scalar(select(Rating.response)) == "Traffic on I-90."


async def test_another_vendor_cannot_respond_or_read_the_rating(
    served_charter, make_vendor, vendors_staff, vendors_as, sessions
):
    charter, vendor, _ = await served_charter()
    rival = await make_vendor("Rival Coaches")
    rival_portal, _ = await vendor_user(vendors_staff, vendors_as, rival["id"])
    rating = (
        await vendors_staff(
            RATE, {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}
        )
    ).ok()["rateVendor"]["rating"]

    answer = (await rival_portal(RESPOND, {"id": rating["id"], "response": "Not us."})).ok()
    peek = await rival_portal(SUMMARY, {"id": vendor["id"]})

    assert answer["respondToRating"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert peek.data is None
    assert peek.error_codes == ["NOT_FOUND"]
    async with sessions() as session:
        assert await session.scalar(select(Rating.response)) is None


async def test_an_empty_response_is_refused(served_charter, vendors_staff):
    charter, vendor, portal = await served_charter()
    rating = (
        await vendors_staff(
            RATE, {"vendor": vendor["id"], "charter": str(charter.id), "input": scores()}
        )
    ).ok()["rateVendor"]["rating"]

    answer = (await portal(RESPOND, {"id": rating["id"], "response": "   "})).ok()

    assert answer["respondToRating"]["userErrors"][0]["field"] == "response"
    assert answer["respondToRating"]["userErrors"][0]["code"] == "REQUIRED"


async def test_scores_take_one_decimal_and_are_stored_and_averaged_exactly(
    served_charter, vendors_staff, sessions
):
    first, vendor, _ = await served_charter()
    second, _, _ = await served_charter(vendor=vendor)
    third, _, _ = await served_charter(vendor=vendor)

    answers = [
        (
            await vendors_staff(
                RATE,
                {"vendor": vendor["id"], "charter": str(c.id), "input": scores(overall, onTime=t)},
            )
        ).ok()["rateVendor"]
        for c, overall, t in ((first, 4.5, "1.0"), (second, "4.0", 4.9), (third, 3.7, "5"))
    ]
    summary = (await vendors_staff(SUMMARY, {"id": vendor["id"]})).ok()["vendor"]

    assert [a["userErrors"] for a in answers] == [[], [], []]
    assert [(a["rating"]["overall"], a["rating"]["onTime"]) for a in answers] == [
        ("4.5", "1.0"),
        ("4.0", "4.9"),
        ("3.7", "5.0"),
    ]
    # (4.5 + 4.0 + 3.7) / 3 = 4.0666.. and (1.0 + 4.9 + 5.0) / 3 = 3.6333..: exact, half up.
    assert summary["ratingSummary"]["averages"]["overall"] == "4.07"
    assert summary["ratingSummary"]["averages"]["onTime"] == "3.63"
    async with sessions() as session:
        stored = sorted(await session.scalars(select(Rating.overall)))
    assert stored == [Decimal("3.7"), Decimal("4.0"), Decimal("4.5")]


@pytest.mark.parametrize(
    ("value", "code"),
    [(4.55, "INVALID"), ("4.25", "INVALID"), (0.9, "OUT_OF_RANGE"), ("5.1", "OUT_OF_RANGE")],
)
async def test_a_score_with_two_decimals_or_outside_the_range_is_refused(
    served_charter, vendors_staff, sessions, value, code
):
    charter, vendor, _ = await served_charter()

    answer = (
        await vendors_staff(
            RATE,
            {"vendor": vendor["id"], "charter": str(charter.id), "input": scores(value=value)},
        )
    ).ok()["rateVendor"]

    assert answer["rating"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("value", code)]
    assert await ratings_count(sessions) == 0


def test_the_score_rules_in_the_service():
    def problems(**given: str) -> list[tuple[str | None, str]]:
        base = dict.fromkeys(
            (
                "overall",
                "vehicle_condition",
                "driver_professionalism",
                "on_time",
                "communication",
                "value",
            ),
            Decimal("4.5"),
        )
        data = NewRating(**{**base, **{k: Decimal(v) for k, v in given.items()}})
        return [(p.field, p.code) for p in rating_problems(data)]

    assert problems() == []
    assert problems(overall="1.0", value="5.0", on_time="1") == []
    assert problems(overall="4.45") == [("overall", "INVALID")]
    assert problems(overall="0.9", communication="NaN") == [
        ("overall", "OUT_OF_RANGE"),
        ("communication", "OUT_OF_RANGE"),
    ]
