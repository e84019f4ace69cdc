"""Migration 0002 (security review finding 2): self-certified rows stop counting.

On a scratch database: the vendors schema at 0001 with a vendor whose
insurance its own user added (never verified), one a manager added and one
a manager verified; after upgrading to head only the self-certified one is
`pending_verification`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from db.migrate import _run


async def test_finding_2_migration_puts_unverified_self_certifications_back_to_pending(settings):
    scratch = f"vendors_migration_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    url = make_url(settings.database_url).set(database=scratch).render_as_string(False)
    try:
        await _run(url, "upgrade", "vendors", revision="0001_vendors")
        vendor, user, manager = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self_made, staff_made, verified = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO vendors.vendors (id, business_name, vendor_type, status,"
                    " vehicle_count, vehicle_types, service_states, preferred)"
                    " VALUES (:v, 'Old Coaches', 'broker', 'active', 0, '{}', '{}', false)"
                ),
                {"v": vendor},
            )
            await conn.execute(
                text("INSERT INTO vendors.vendor_users (user_id, vendor_id) VALUES (:u, :v)"),
                {"u": user, "v": vendor},
            )
            for cert, actor, verified_at in (
                (self_made, user, None),
                (staff_made, manager, None),
                (verified, user, datetime.now(UTC)),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO vendors.certifications (id, vendor_id, cert_type, number,"
                        " issued_on, expires_on, status, verified_at) VALUES (:c, :v, 'insurance',"
                        " 'COI', current_date - 10, current_date + 300, 'active', :at)"
                    ),
                    {"c": cert, "v": vendor, "at": verified_at},
                )
                await conn.execute(
                    text(
                        "INSERT INTO vendors.vendor_audit (id, vendor_id, entity, entity_id,"
                        " action, actor_id) VALUES (:id, :v, 'certification', :c, 'add', :a)"
                    ),
                    {"id": uuid.uuid4(), "v": vendor, "c": cert, "a": actor},
                )
        await _run(url, "upgrade", "vendors", revision="head")
        async with engine.connect() as conn:
            statuses = dict(
                (await conn.execute(text("SELECT id, status FROM vendors.certifications"))).all()
            )
        await engine.dispose()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        await admin.dispose()

    assert statuses == {
        self_made: "pending_verification",
        staff_made: "active",
        verified: "active",
    }
