"""Who may read and change what in pricing: the whole policy is the constants below.

- Admins and managers edit the price list: rules, modifiers, amenities,
  promo codes, hubs, hours-of-service limits (`EDIT_PRICE_LIST`).
- Sales staff price quotes: they read the price list and apply codes and
  amenities to charters (`PRICE_QUOTES`); a sales agent only on charters it
  sells, the others on any.
- Every staff role reads quotes; a client reads the quotes of its own
  company's charters (totals and lines), never the price list; vendors and
  drivers see no prices at all.
- Anyone, signed in or not, may use the public calculator (`estimateQuote`),
  which stores nothing and is rate limited per caller address.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import STAFF_ROLES, Role
from subgraphs.kit.errors import ServiceError
from subgraphs.pricing.error_codes import PricingErrorCode as Code

if TYPE_CHECKING:
    from protocol.viewer import Viewer

EDIT_PRICE_LIST = (Role.ADMIN, Role.MANAGER)
PRICE_ANY_QUOTE = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
PRICE_QUOTES = (*PRICE_ANY_QUOTE, Role.SALES_AGENT)
READ_PRICE_LIST = (*PRICE_QUOTES, Role.ACCOUNTING)
READ_QUOTES = tuple(sorted(STAFF_ROLES))
READ_OWN_QUOTES = (Role.CLIENT,)


def may_read_quote(viewer: Viewer, client_id: uuid.UUID | None) -> bool:
    if viewer.has_any_role(*READ_QUOTES):
        return True
    return (
        viewer.has_any_role(*READ_OWN_QUOTES)
        and viewer.client_id is not None
        and viewer.client_id == client_id
    )


def ensure_may_price(viewer: Viewer, sales_agent_id: uuid.UUID | None) -> None:
    """Sales agents change the quotes of charters they sell; other pricing staff any."""
    if viewer.has_any_role(*PRICE_ANY_QUOTE):
        return
    if viewer.has_any_role(Role.SALES_AGENT) and viewer.user_id == sales_agent_id:
        return
    raise ServiceError.of(
        Code.FORBIDDEN,
        "Only the charter's sales agent or sales management may change its quote.",
        "charterId",
    )
