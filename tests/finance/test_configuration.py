"""The payment configuration (issue 12 §1): read by finance staff, edited by accounting managers.

Every field editable; bad values are user errors naming the field and
change nothing; each edit is one ConfigAudit row (before, after, actor,
impersonator).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance.models import ConfigAudit, PaymentConfig
from subgraphs.finance.service import configuration
from subgraphs.kit.errors import ServiceError
from subgraphs.sales.models import CLIENT_TYPES
from tests.support.graphql_client import GraphQLClient

FIELDS = """depositPercent depositDaysBefore balanceDaysBefore autopayAllowed
  cardOnFileRequired poClientTypes poCreditLimit"""
READ = f"{{ paymentConfiguration {{ {FIELDS} }} }}"
UPDATE = f"""mutation($input: UpdatePaymentConfigurationInput!) {{
  updatePaymentConfiguration(input: $input) {{
    configuration {{ {FIELDS} updatedBy }} userErrors {{ field code message }} }} }}"""
DEFAULTS = {
    "depositPercent": "25.00",
    "depositDaysBefore": 30,
    "balanceDaysBefore": 2,
    "autopayAllowed": True,
    "cardOnFileRequired": False,
    "poClientTypes": ["government", "corporate"],
    "poCreditLimit": "50000.00",
}


def test_finance_knows_the_same_client_types_as_sales():
    assert configuration.CLIENT_TYPES == CLIENT_TYPES


async def test_finance_staff_read_the_seed_defaults(finance_server, http_client, mint):
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))

    answer = (await accounting(READ)).ok()["paymentConfiguration"]

    assert answer == DEFAULTS


async def test_a_manager_edits_every_field_and_the_edit_is_audited(
    sessions, finance_server, http_client, mint
):
    manager_id = uuid.uuid4()
    manager = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("manager", user_id=manager_id)
    )
    change = {
        "depositPercent": "30.5",
        "depositDaysBefore": 45,
        "balanceDaysBefore": 7,
        "autopayAllowed": False,
        "cardOnFileRequired": True,
        "poClientTypes": ["school", "government", "school"],
        "poCreditLimit": "20000.00",
    }

    answer = (await manager(UPDATE, {"input": change})).ok()["updatePaymentConfiguration"]
    again = (await manager(READ)).ok()["paymentConfiguration"]

    assert answer["userErrors"] == []
    assert again == {
        **change,
        "depositPercent": "30.50",
        "poClientTypes": ["government", "school"],
    }
    assert answer["configuration"]["updatedBy"] == str(manager_id)
    async with sessions() as session:
        audits = (await session.scalars(select(ConfigAudit))).all()
        assert len(audits) == 1
        assert audits[0].actor_id == manager_id
        assert audits[0].before == {
            "deposit_percent": "25.00",
            "deposit_days_before": 30,
            "balance_days_before": 2,
            "autopay_allowed": True,
            "card_on_file_required": False,
            "po_client_types": ["government", "corporate"],
            "po_credit_limit": "50000.00",
        }
        assert audits[0].after["po_client_types"] == ["government", "school"]
        assert audits[0].after["deposit_percent"] == "30.50"


async def test_bad_values_are_user_errors_naming_each_field_and_change_nothing(
    sessions, finance_server, http_client, mint
):
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    change = {
        "depositPercent": "100.01",
        "depositDaysBefore": -1,
        "balanceDaysBefore": -2,
        "poClientTypes": ["corporate", "airline"],
        "poCreditLimit": "-5.00",
    }

    answer = (await accounting(UPDATE, {"input": change})).ok()["updatePaymentConfiguration"]
    three_places = (await accounting(UPDATE, {"input": {"depositPercent": "10.125"}})).ok()[
        "updatePaymentConfiguration"
    ]

    assert answer["configuration"] is None
    assert {(e["field"], e["code"]) for e in answer["userErrors"]} == {
        ("depositPercent", "OUT_OF_RANGE"),
        ("depositDaysBefore", "OUT_OF_RANGE"),
        ("balanceDaysBefore", "OUT_OF_RANGE"),
        ("poClientTypes", "INVALID"),
        ("poCreditLimit", "OUT_OF_RANGE"),
    }
    assert [(e["field"], e["code"]) for e in three_places["userErrors"]] == [
        ("depositPercent", "INVALID")
    ]
    assert (await accounting(READ)).ok()["paymentConfiguration"] == DEFAULTS
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConfigAudit)) == 0


@pytest.mark.parametrize(
    "role", ["sales_agent", "sales_support", "dispatcher", "client", "vendor", "driver"]
)
async def test_others_neither_read_nor_edit_it(role, finance_server, http_client, mint):
    caller = GraphQLClient(
        finance_server.graphql_url,
        http_client,
        await mint(role, client_id=uuid.uuid4() if role == "client" else None),
    )

    read = await caller(READ)
    edit = await caller(UPDATE, {"input": {"autopayAllowed": False}})

    assert read.error_codes == ["FORBIDDEN"]
    assert edit.error_codes == ["FORBIDDEN"]


async def test_an_impersonated_edit_names_the_impersonator(sessions):
    actor = Viewer(
        user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}), impersonator_id=uuid.uuid4()
    )
    async with sessions() as session, session.begin():
        await configuration.update(
            session, configuration.ConfigChange(po_credit_limit=Decimal("1.00")), actor
        )
    with pytest.raises(ServiceError):
        async with sessions() as session, session.begin():
            await configuration.update(
                session, configuration.ConfigChange(deposit_days_before=400), actor
            )
    async with sessions() as session:
        audit = await session.scalar(select(ConfigAudit))
        assert (audit.actor_id, audit.impersonator_id) == (actor.user_id, actor.impersonator_id)
        assert (audit.before, audit.after) == (
            {"po_credit_limit": "50000.00"},
            {"po_credit_limit": "1.00"},
        )
        assert (await session.get(PaymentConfig, 1)).deposit_days_before == 30
