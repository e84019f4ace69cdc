"""A promo code is never used past its limit: 100 concurrent redemptions of a 10-use code."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from sqlalchemy import func, select

from subgraphs.pricing.models import PromoCode, PromoRedemption
from tests.pricing.conftest import ERRORS

CREATE = f"""mutation($input: PromoCodeInput!) {{
  createPromoCode(input: $input) {{ promoCode {{ id code uses maxUses }} {ERRORS} }} }}"""
APPLY = f"""mutation($charter: ID!, $code: String!) {{
  applyPromoCode(charterId: $charter, code: $code) {{ redemption {{ charterId }} {ERRORS} }} }}"""
REMOVE = (
    f"""mutation($charter: ID!) {{ removePromoCode(charterId: $charter) {{ removed {ERRORS} }} }}"""
)


async def test_100_concurrent_redemptions_of_a_10_use_code_give_exactly_10(
    pricing_manager, pricing_as, charter_fact, sessions
):
    code = (
        await pricing_manager(
            CREATE,
            {
                "input": {
                    "code": "launch10",
                    "discountType": "PERCENTAGE",
                    "value": "10",
                    "maxUses": 10,
                }
            },
        )
    ).ok()["createPromoCode"]
    assert code["userErrors"] == []
    assert code["promoCode"]["code"] == "LAUNCH10"
    charters = [await charter_fact() for _ in range(100)]
    agent = await pricing_as("sales_support")

    answers = await asyncio.gather(
        *(agent(APPLY, {"charter": str(c), "code": "launch10"}) for c in charters)
    )

    payloads = [a.ok()["applyPromoCode"] for a in answers]
    won = [p for p in payloads if p["redemption"] is not None]
    lost = [p for p in payloads if p["redemption"] is None]
    assert len(won) == 10
    assert Counter(e["code"] for p in lost for e in p["userErrors"]) == {"PROMO_USED_UP": 90}
    assert all("limit" in p["userErrors"][0]["message"] for p in lost)
    async with sessions() as session:
        assert await session.scalar(select(PromoCode.uses)) == 10
        assert await session.scalar(select(func.count()).select_from(PromoRedemption)) == 10


async def test_removing_a_code_gives_its_use_back_and_a_charter_holds_one_code(
    pricing_manager, pricing_as, charter_fact, sessions
):
    await pricing_manager(
        CREATE, {"input": {"code": "ONCE", "discountType": "FIXED", "value": "25.00", "maxUses": 1}}
    )
    first, second = await charter_fact(), await charter_fact()
    agent = await pricing_as("sales_support")

    assert (await agent(APPLY, {"charter": str(first), "code": "once"})).ok()["applyPromoCode"][
        "userErrors"
    ] == []
    again = (await agent(APPLY, {"charter": str(first), "code": "once"})).ok()["applyPromoCode"]
    used_up = (await agent(APPLY, {"charter": str(second), "code": "once"})).ok()["applyPromoCode"]
    removed = (await agent(REMOVE, {"charter": str(first)})).ok()["removePromoCode"]
    reused = (await agent(APPLY, {"charter": str(second), "code": "once"})).ok()["applyPromoCode"]

    assert [e["code"] for e in again["userErrors"]] == ["PROMO_ALREADY_APPLIED"]
    assert [e["code"] for e in used_up["userErrors"]] == ["PROMO_USED_UP"]
    assert removed == {"removed": True, "userErrors": []}
    assert reused["userErrors"] == []
    async with sessions() as session:
        assert await session.scalar(select(PromoCode.uses)) == 1


async def test_once_per_client_codes_hold_under_concurrency(
    pricing_manager, pricing_as, charter_fact, sessions
):
    await pricing_manager(
        CREATE,
        {
            "input": {
                "code": "WELCOME",
                "discountType": "FIXED",
                "value": "50.00",
                "oncePerClient": True,
            }
        },
    )
    client = uuid.uuid4()
    charters = [await charter_fact(client_id=client) for _ in range(10)]
    agent = await pricing_as("sales_support")

    answers = await asyncio.gather(
        *(agent(APPLY, {"charter": str(c), "code": "WELCOME"}) for c in charters)
    )

    codes = Counter(e["code"] for a in answers for e in a.ok()["applyPromoCode"]["userErrors"])
    assert codes == {"PROMO_ALREADY_USED_BY_CLIENT": 9}
    async with sessions() as session:
        assert await session.scalar(select(PromoCode.uses)) == 1


async def test_why_a_code_cannot_be_applied(
    pricing_manager, pricing_as, charter_fact, vehicle_type
):
    mini = await vehicle_type("Minibus", 24)
    coach = await vehicle_type("Motorcoach", 56)
    for given in (
        {"code": "OLD", "discountType": "FIXED", "value": "5.00", "validUntil": "2020-01-01"},
        {"code": "SOON", "discountType": "FIXED", "value": "5.00", "validFrom": "2099-01-01"},
        {"code": "MINI", "discountType": "FIXED", "value": "5.00", "vehicleTypeIds": [str(mini)]},
        {"code": "LOCAL", "discountType": "FIXED", "value": "5.00", "tripTypes": ["LOCAL"]},
        {"code": "OFF", "discountType": "FIXED", "value": "5.00"},
    ):
        made = (await pricing_manager(CREATE, {"input": given})).ok()["createPromoCode"]
        assert made["userErrors"] == [], made
    off = (await pricing_manager("{ promoCodes(first: 10) { edges { node { id code } } } }")).ok()
    off_id = next(e["node"]["id"] for e in off["promoCodes"]["edges"] if e["node"]["code"] == "OFF")
    await pricing_manager(
        "mutation($id: ID!) { setPromoCodeActive(id: $id, active: false) { promoCode { active } } }",
        {"id": off_id},
    )
    charter = await charter_fact(vehicle_type_ids=(coach,))
    agent = await pricing_as("sales_support")

    reasons = {}
    for code in ("OLD", "SOON", "MINI", "LOCAL", "OFF", "NOPE"):
        answer = (await agent(APPLY, {"charter": str(charter), "code": code})).ok()[
            "applyPromoCode"
        ]
        assert answer["redemption"] is None
        [error] = answer["userErrors"]
        assert error["field"] == "code"
        reasons[code] = error["code"]

    assert reasons == {
        "OLD": "PROMO_EXPIRED",
        "SOON": "PROMO_NOT_YET_VALID",
        "MINI": "PROMO_INELIGIBLE",
        "LOCAL": "PROMO_INELIGIBLE",
        "OFF": "PROMO_INACTIVE",
        "NOPE": "PROMO_UNKNOWN",
    }


async def test_a_sales_agent_applies_codes_only_to_its_own_charters(
    pricing_manager, pricing_as, charter_fact
):
    await pricing_manager(
        CREATE, {"input": {"code": "AGENT", "discountType": "FIXED", "value": "5.00"}}
    )
    me = uuid.uuid4()
    mine, theirs = await charter_fact(agent_id=me), await charter_fact(agent_id=uuid.uuid4())
    agent = await pricing_as("sales_agent", user_id=me)

    ok = (await agent(APPLY, {"charter": str(mine), "code": "AGENT"})).ok()["applyPromoCode"]
    refused = (await agent(APPLY, {"charter": str(theirs), "code": "AGENT"})).ok()["applyPromoCode"]
    booked = await charter_fact(agent_id=me, status="booked")
    closed = (await agent(APPLY, {"charter": str(booked), "code": "AGENT"})).ok()["applyPromoCode"]
    unknown = (await agent(APPLY, {"charter": str(uuid.uuid4()), "code": "AGENT"})).ok()[
        "applyPromoCode"
    ]

    assert ok["userErrors"] == []
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in closed["userErrors"]] == ["QUOTE_CLOSED"]
    assert [e["code"] for e in unknown["userErrors"]] == ["UNKNOWN_CHARTER"]
