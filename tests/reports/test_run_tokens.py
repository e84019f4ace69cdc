"""Reports runs a schedule as its owner: a grant obtained at create/enable, a token at run time.

Against the real identity server (its GraphQL and its internal route) and
the real reports server; tokens verified by the real subgraphs.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from subgraphs.identity.models import DelegationGrant
from subgraphs.reports.models import ReportsAudit, ReportSchedule, ReportTemplate
from subgraphs.reports.service.run_tokens import (
    IdentityRunTokens,
    RunTokenRefused,
    purpose_of,
)
from tests.reports.identity_users import staff_user
from tests.support.graphql_client import GraphQLClient

CREATE = """
mutation Create($input: CreateReportScheduleInput!) {
  createReportSchedule(input: $input) { schedule { id owner } userErrors { field code message } }
}"""
DISABLE = """
mutation Disable($id: ID!) {
  disableReportSchedule(id: $id) { schedule { id enabled } userErrors { field code message } }
}"""
ENABLE = """
mutation Enable($id: ID!) {
  enableReportSchedule(id: $id) { schedule { id owner } userErrors { field code message } }
}"""


@pytest.fixture
def adapter(identity_server: Any, http_client: httpx.AsyncClient) -> IdentityRunTokens:
    return IdentityRunTokens(http_client, identity_server.base_url)


async def _template(sessions: Any) -> uuid.UUID:
    async with sessions() as session, session.begin():
        row = ReportTemplate(
            id=uuid.uuid4(),
            name="Me",
            operation="query Me { me { id } }",
            rows_path="me",
            columns=[{"path": "id", "label": "Id", "format": "text"}],
            shared=True,
        )
        session.add(row)
    return row.id


def _input(template_id: uuid.UUID) -> dict[str, Any]:
    return {
        "templateId": str(template_id),
        "name": "Morning",
        "frequency": "DAILY",
        "atTime": "08:00",
        "recipients": ["boss@example.com"],
    }


async def _schedule(sessions: Any, schedule_id: str) -> ReportSchedule:
    async with sessions() as session:
        row = await session.get(ReportSchedule, uuid.UUID(schedule_id))
    assert row is not None
    return row


async def test_a_schedule_runs_as_its_owner_read_only_until_disabled(
    reports_server, reports_as, mint, sessions, adapter, http_client
):
    owner_id = await staff_user(sessions, "manager")
    owner = await reports_as("manager", user_id=owner_id)
    made = (await owner(CREATE, {"input": _input(await _template(sessions))})).ok()
    assert made["createReportSchedule"]["userErrors"] == []
    schedule = await _schedule(sessions, made["createReportSchedule"]["schedule"]["id"])
    assert schedule.delegation_grant_id is not None
    assert schedule.delegation_secret

    # The grant is the owner's, named after the schedule; its secret is in no audit row.
    async with sessions() as session:
        grant = await session.get(DelegationGrant, schedule.delegation_grant_id)
        audits = list(
            await session.scalars(select(ReportsAudit).where(ReportsAudit.entity_id == schedule.id))
        )
    assert grant is not None
    assert grant.user_id == owner_id
    assert grant.purpose == purpose_of(schedule.id)
    assert audits
    assert all(schedule.delegation_secret not in str(a.after) for a in audits)

    token = await adapter.token_for(schedule)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == str(owner_id)
    assert claims["act"] == {"sub": "reports"}
    # Reports itself verifies it as the owner's, and refuses it any change.
    as_owner = GraphQLClient(reports_server.graphql_url, http_client, token)
    listed = (await as_owner("{ reportSchedules { id } }")).ok()["reportSchedules"]
    assert {"id": str(schedule.id)} in listed
    assert (await as_owner(DISABLE, {"id": str(schedule.id)})).error_codes == ["FORBIDDEN"]

    # Disabled: the grant is revoked at identity and forgotten here.
    done = (await owner(DISABLE, {"id": str(schedule.id)})).ok()["disableReportSchedule"]
    assert done["userErrors"] == []
    disabled = await _schedule(sessions, str(schedule.id))
    assert disabled.delegation_grant_id is None
    assert disabled.delegation_secret is None
    async with sessions() as session:
        revoked = await session.get(DelegationGrant, grant.id)
    assert revoked is not None
    assert revoked.revoked_at is not None
    with pytest.raises(RunTokenRefused):
        await adapter.token_for(schedule)  # the old grant and secret no longer work
    with pytest.raises(RunTokenRefused, match="holds no grant"):
        await adapter.token_for(disabled)


async def test_enabling_gives_the_old_owners_grant_up_and_takes_the_enablers(
    reports_as, sessions, adapter
):
    first_id = await staff_user(sessions, "manager")
    second_id = await staff_user(sessions, "admin")
    first = await reports_as("manager", user_id=first_id)
    second = await reports_as("admin", user_id=second_id)
    made = (await first(CREATE, {"input": _input(await _template(sessions))})).ok()
    schedule_id = made["createReportSchedule"]["schedule"]["id"]
    old = await _schedule(sessions, schedule_id)

    enabled = (await second(ENABLE, {"id": schedule_id})).ok()["enableReportSchedule"]
    assert enabled["userErrors"] == []
    assert enabled["schedule"]["owner"] == str(second_id)
    new = await _schedule(sessions, schedule_id)
    assert new.delegation_grant_id not in (None, old.delegation_grant_id)
    token = await adapter.token_for(new)
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == str(second_id)
    with pytest.raises(RunTokenRefused, match="grant_revoked"):
        await adapter.token_for(old)


async def test_no_grant_no_schedule_for_an_account_identity_does_not_know(reports_as, sessions):
    stranger = await reports_as("manager", user_id=uuid.uuid4())  # a token, but no account
    answer = (await stranger(CREATE, {"input": _input(await _template(sessions))})).ok()
    errors = answer["createReportSchedule"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("templateId", "DELEGATION_FAILED")]
    async with sessions() as session:
        assert (await session.scalars(select(ReportSchedule))).all() == []


async def test_a_grant_of_another_account_is_never_used_for_the_owner(sessions, adapter, mint):
    owner_id = await staff_user(sessions, "manager")
    someone = await staff_user(sessions, "manager")
    grant = await adapter.grant(f"Bearer {await mint('manager', user_id=someone)}", "x")
    schedule = ReportSchedule(
        id=uuid.uuid4(),
        owner_id=owner_id,
        delegation_grant_id=grant.id,
        delegation_secret=grant.secret,
    )
    with pytest.raises(RunTokenRefused, match="another account"):
        await adapter.token_for(schedule)
