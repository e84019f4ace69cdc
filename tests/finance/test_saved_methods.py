"""Saved payment methods (issue 12 §3): a token and how to recognise it, never a number.

Through a finance app configured for Stripe: the adapter asks the local
Stripe stand-in what a token is (`GET /v1/payment_methods/{id}`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from stack.card_sandbox import BANK_ACCOUNT, CARD_OK
from subgraphs.finance.models import FinanceAudit, Payment, SavedPaymentMethod
from subgraphs.finance.service.providers import payment_provider
from tests.finance.test_card_payments import pay
from tests.finance.test_refunds import make_charter, make_client, paid_of
from tests.support.graphql_client import GraphQLClient

SAVE = """mutation($input: SavePaymentMethodInput!) { savePaymentMethod(input: $input) {
  paymentMethod { id provider kind brand last4 expMonth expYear isDefault }
  userErrors { field code message } } }"""
REMOVE = """mutation($id: ID!) { removePaymentMethod(id: $id) {
  paymentMethod { id } userErrors { field code } } }"""
METHODS = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Client { savedPaymentMethods { id brand last4 isDefault kind } } } }"""


def methods_of(client) -> dict:
    return {"r": [{"__typename": "Client", "id": str(client)}]}


async def test_a_client_saves_its_own_card_and_reads_it_back(
    sessions, stripe_finance_server, fake_stripe_api, http_client, mint
):
    client = await make_client(sessions)
    own = GraphQLClient(
        stripe_finance_server.graphql_url, http_client, await mint("client", client_id=client)
    )

    saved = (await own(SAVE, {"input": {"clientId": str(client), "providerToken": CARD_OK}})).ok()[
        "savePaymentMethod"
    ]
    bank = (
        await own(
            SAVE,
            {
                "input": {
                    "clientId": str(client),
                    "providerToken": BANK_ACCOUNT,
                    "makeDefault": True,
                }
            },
        )
    ).ok()["savePaymentMethod"]
    listed = (await own(METHODS, methods_of(client))).ok()["_entities"][0]["savedPaymentMethods"]

    assert saved["userErrors"] == []
    assert {k: v for k, v in saved["paymentMethod"].items() if k != "id"} == {
        "provider": "stripe",
        "kind": "CARD",
        "brand": "visa",
        "last4": "4242",
        "expMonth": 12,
        "expYear": 2030,
        "isDefault": True,
    }
    assert bank["paymentMethod"]["kind"] == "ACH"
    assert [(m["last4"], m["isDefault"]) for m in listed] == [("4242", False), ("6789", True)]
    async with sessions() as session:
        tokens = set(await session.scalars(select(SavedPaymentMethod.token)))
        assert tokens == {CARD_OK, BANK_ACCOUNT}
        assert (
            await session.scalar(
                select(func.count()).where(FinanceAudit.entity == "payment_method")
            )
            == 2
        )


async def test_who_may_read_and_manage_a_clients_methods(
    sessions, stripe_finance_server, fake_stripe_api, http_client, mint
):
    client = await make_client(sessions)
    accounting = GraphQLClient(
        stripe_finance_server.graphql_url, http_client, await mint("accounting")
    )
    saved = (
        await accounting(SAVE, {"input": {"clientId": str(client), "providerToken": CARD_OK}})
    ).ok()["savePaymentMethod"]["paymentMethod"]

    refused = {}
    for role in ("sales_agent", "sales_support", "vendor", "driver", "client"):
        token = await mint(role, client_id=uuid.uuid4() if role == "client" else None)
        refused[role] = (
            (await accounting(METHODS, methods_of(client), token=token)).error_codes,
            (
                await accounting(
                    SAVE,
                    {"input": {"clientId": str(client), "providerToken": BANK_ACCOUNT}},
                    token=token,
                )
            ).error_codes,
            (await accounting(REMOVE, {"id": saved["id"]}, token=token)).error_codes,
        )
    anonymous_call = GraphQLClient(stripe_finance_server.graphql_url, http_client)
    anonymous = await anonymous_call(METHODS, methods_of(client))

    assert refused == {role: (["FORBIDDEN"],) * 3 for role in refused}
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SavedPaymentMethod)) == 1


async def test_removing_a_method_keeps_its_payments(
    sessions, stripe_finance_server, stripe_settings, fake_stripe_api, http_client, mint
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "500.00")
    own = GraphQLClient(
        stripe_finance_server.graphql_url, http_client, await mint("client", client_id=client)
    )
    saved = (await own(SAVE, {"input": {"clientId": str(client), "providerToken": CARD_OK}})).ok()[
        "savePaymentMethod"
    ]["paymentMethod"]
    payment = await pay(
        sessions, payment_provider(stripe_settings), charter, "50.00", saved=uuid.UUID(saved["id"])
    )

    removed = (await own(REMOVE, {"id": saved["id"]})).ok()["removePaymentMethod"]
    listed = (await own(METHODS, methods_of(client))).ok()["_entities"][0]["savedPaymentMethods"]

    assert isinstance(payment, Payment)
    assert payment.details["last4"] == "4242"
    assert removed == {"paymentMethod": {"id": saved["id"]}, "userErrors": []}
    assert listed == []
    async with sessions() as session:
        kept = await session.get(Payment, payment.id)
        assert kept.saved_method_id is None
        assert kept.details["last4"] == "4242"
    assert await paid_of(sessions, charter) == Decimal("50.00")


async def test_an_unknown_token_and_the_manual_provider_are_user_errors(
    sessions, stripe_finance_server, finance_server, fake_stripe_api, http_client, mint
):
    client = await make_client(sessions)
    token = await mint("accounting")
    stripe = GraphQLClient(stripe_finance_server.graphql_url, http_client, token)
    manual = GraphQLClient(finance_server.graphql_url, http_client, token)
    given = {"input": {"clientId": str(client), "providerToken": "pm_unknown"}}

    unknown = (await stripe(SAVE, given)).ok()["savePaymentMethod"]
    by_hand = (
        await manual(SAVE, {"input": {"clientId": str(client), "providerToken": CARD_OK}})
    ).ok()["savePaymentMethod"]

    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        ("providerToken", "NOT_FOUND")
    ]
    assert [(e["field"], e["code"]) for e in by_hand["userErrors"]] == [
        ("providerToken", "NOT_FOUND")
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SavedPaymentMethod)) == 0
