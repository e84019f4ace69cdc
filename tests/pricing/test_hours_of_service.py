"""FMCSA 49 CFR 395.5 limits as a second-driver recommendation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from subgraphs.kit.geo import great_circle_miles
from subgraphs.pricing.engine.hours_of_service import HoursRules, second_driver
from subgraphs.pricing.service.distance import estimated_miles

RULES = HoursRules()


@pytest.mark.parametrize(
    ("miles", "hours", "days", "needed", "reason"),
    [
        ("500", "10", 1, False, None),  # exactly 10 h of driving at 50 mph
        ("505", "11", 1, True, "driving"),
        ("300", "15", 1, False, None),
        ("300", "15.5", 1, True, "on duty a day"),
        ("900", "30", 2, False, None),  # two days of 9 h driving, 15 h on duty
        ("900", "62", 5, True, "in 5 days"),  # 62 h on duty within the 60 h / 7 days cycle
    ],
)
def test_limits(miles, hours, days, needed, reason):
    answer = second_driver(Decimal(miles), Decimal(hours), days, RULES)

    assert answer.needed is needed
    if reason:
        assert any(reason in r for r in answer.reasons), answer.reasons
    else:
        assert answer.reasons == ()


def test_the_limits_are_configurable():
    strict = HoursRules(max_driving_hours=Decimal(8))

    assert second_driver(Decimal("450"), Decimal("9"), 1, strict).needed
    assert not second_driver(Decimal("450"), Decimal("9"), 1, RULES).needed


def test_distance_is_great_circle_legs_times_the_road_factor():
    memphis, nashville, knoxville = (35.1495, -90.0490), (36.1627, -86.7816), (35.9606, -83.9207)

    leg = great_circle_miles(memphis, nashville)
    total = estimated_miles([memphis, nashville, knoxville], Decimal("1.2"))

    assert 195 < leg < 200  # about 197 miles as the crow flies
    assert total == Decimal("428.1")  # (196.3 + 160.4) x 1.2, checked by the law of cosines
    assert estimated_miles([memphis], Decimal("1.2")) == Decimal("0.0")
