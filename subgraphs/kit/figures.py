"""How every subgraph states a ratio in its report figures (issue 16).

Win rates, utilisation and margins are read side by side on one dashboard
and summed into reports, so they must round alike whichever subgraph owns
them: an exact `Decimal` share of 0..1 with 4 places, half up, and null when
there is nothing to divide by, so "no bids" never reads as a 0 % win rate.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

RATIO_PLACES = Decimal("0.0001")


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO_PLACES, ROUND_HALF_UP)
