"""The pricing demo: seed 002's rules price an Executive Coach as the seed did; smaller types
have their own rate card."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from db.demo.__main__ import load_all
from subgraphs.pricing.engine import TripFacts, VehicleFacts, price
from subgraphs.pricing.models import Amenity, Modifier, PromoCode, VehicleTypeFact
from subgraphs.pricing.service.rules import active_rules


async def test_the_demo_price_list_reproduces_the_seed_and_prices_every_type(sessions):
    first = await load_all()
    again = await load_all()

    async with sessions() as session:
        rules = await active_rules(session)
        types = {t.name: t for t in await session.scalars(select(VehicleTypeFact))}
        codes = set(await session.scalars(select(PromoCode.code)))
        amenities = await session.scalar(select(func.count()).select_from(Amenity))
        modifiers = await session.scalar(select(func.count()).select_from(Modifier))

    def total(type_name: str, day: int, miles: str) -> Decimal:
        coach = types[type_name]
        trip = TripFacts(
            pickup_local=datetime(2026, 12, day, 9),
            hours=Decimal(0),
            miles=Decimal(miles),
            trip_type="one_way",
            passengers=40,
            vehicles=(VehicleFacts(coach.id, coach.name),),
        )
        return price(trip, rules).total

    assert first["pricing"] > 0
    assert again["pricing"] == 0
    assert total("Executive Coach", 2, "150") == Decimal("726.50")  # a Wednesday
    assert total("Executive Coach", 5, "200") == Decimal("1114.50")  # a Saturday
    assert total("Sprinter", 2, "150") == Decimal("421.50")  # 180 + 150 x 1.60 + 1.50 fuel
    assert codes == {"WELCOME10", "SPRING50"}
    assert amenities == 5
    assert modifiers == 1
