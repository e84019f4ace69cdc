"""Sales' GraphQL enums; their values are the strings stored in the tables."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What kind of customer a client is.")
class ClientType(Enum):
    CORPORATE = "corporate"
    PERSONAL = "personal"
    GOVERNMENT = "government"
    SCHOOL = "school"
    NONPROFIT = "nonprofit"


@strawberry.enum
class ClientStatus(Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@strawberry.enum(description="When the client's invoices fall due.")
class PaymentTerms(Enum):
    DUE_ON_RECEIPT = "due_on_receipt"
    NET_15 = "net_15"
    NET_30 = "net_30"
    NET_60 = "net_60"
