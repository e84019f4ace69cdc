from __future__ import annotations

import strawberry

from subgraphs.kit.payloads import UserError
from subgraphs.vendors.types import Certification, Vendor, VendorAssignment


@strawberry.type
class VendorPayload:
    vendor: Vendor | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CertificationPayload:
    certification: Certification | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssignmentPayload:
    assignment: VendorAssignment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
