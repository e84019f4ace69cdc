"""HTTP webhooks of the vendors subgraph (not GraphQL: external senders post JSON).

POST /webhooks/vendor-onboarding
    Body: a JSON object with `submissionId`, `businessName`, `vendorType`,
    `email` and optional profile fields (see service/onboarding.PROFILE_KEYS).
    Header `X-Athena-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
    with the shared secret `ONBOARDING_WEBHOOK_SECRET`.
    201 stored; 200 the same `submissionId` again (the stored submission,
    nothing written); 401 missing or bad signature; 400 malformed JSON or
    fields; 413 body over 64 KiB; 503 the webhook is not configured (no
    secret, or a published default one: refused whatever the signature, and
    logged as an error). Nothing is stored unless the answer is 201.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.routing import Route

from subgraphs.kit.errors import ServiceError
from subgraphs.vendors.service import onboarding

if TYPE_CHECKING:
    from starlette.requests import Request

    from subgraphs.kit.context import Services
    from subgraphs.vendors.models import OnboardingSubmission

log = logging.getLogger(__name__)


def _view(row: OnboardingSubmission) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "submissionId": row.submission_id,
        "status": row.status.upper(),
        "receivedAt": row.received_at.isoformat() if row.received_at else None,
    }


async def vendor_onboarding(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    secret = services.settings.onboarding_webhook_secret
    if not onboarding.secret_usable(secret):
        log.error(
            "vendor onboarding webhook refused a submission: ONBOARDING_WEBHOOK_SECRET is %s",
            "not set" if not secret else "a published default",
        )
        return JSONResponse({"error": "onboarding webhook not configured"}, status_code=503)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > onboarding.MAX_BODY_BYTES:
        return JSONResponse({"error": "body too large"}, status_code=413)
    body = await request.body()
    if len(body) > onboarding.MAX_BODY_BYTES:
        return JSONResponse({"error": "body too large"}, status_code=413)
    if not onboarding.signature_ok(secret, body, request.headers.get(onboarding.SIGNATURE_HEADER)):
        log.warning("vendor onboarding webhook: missing or bad signature")
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    try:
        async with services.sessions() as session, session.begin():
            received = await onboarding.receive(session, parsed)
    except ServiceError as error:
        return JSONResponse(
            {
                "error": "invalid submission",
                "problems": [
                    {"field": p.field, "code": str(p.code), "message": p.message}
                    for p in error.problems
                ],
            },
            status_code=400,
        )
    return JSONResponse(_view(received.submission), status_code=201 if received.created else 200)


routes = [Route("/webhooks/vendor-onboarding", vendor_onboarding, methods=["POST"])]
