"""Notification preferences: defaults, changes by whom, validation, and what they let through."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.notifications.models import PreferencesAudit
from subgraphs.notifications.service.preferences import (
    DEFAULTS,
    Preferences,
    allows,
    client_preferences,
    set_client_preferences,
)

CLIENT_PREFS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { notificationPreferences { quotes reminders followUps marketing email smsOptIn smsPhone } } } }"""
UPDATE_CLIENT = """mutation($id: ID!, $input: NotificationPreferencesInput!) {
  updateClientNotificationPreferences(clientId: $id, input: $input) {
    preferences { quotes marketing smsOptIn smsPhone } userErrors { field code message } } }"""
UPDATE_MINE = """mutation($input: NotificationPreferencesInput!) {
  updateMyNotificationPreferences(input: $input) {
    preferences { reminders email } userErrors { field code message } } }"""
MINE = "{ myNotificationPreferences { reminders email smsOptIn } }"


def _reps(client_id: uuid.UUID) -> dict:
    return {"reps": [{"__typename": "Client", "id": str(client_id)}]}


# -- the rule ---------------------------------------------------------------------------------


def test_defaults_are_every_topic_and_email_on_sms_off() -> None:
    assert (
        Preferences(
            quotes=True,
            reminders=True,
            follow_ups=True,
            marketing=True,
            email=True,
            sms_opt_in=False,
        )
        == DEFAULTS
    )


@pytest.mark.parametrize("topic", ["quotes", "reminders", "follow_ups", "marketing"])
def test_each_topic_opt_out_stops_its_messages_but_not_transactional_ones(topic: str) -> None:
    off = Preferences(**{topic: False})
    assert allows(off, topic, "email", transactional=False) is False
    assert allows(off, topic, "email", transactional=True) is True
    others = [t for t in ("quotes", "reminders", "follow_ups", "marketing") if t != topic]
    assert all(allows(off, t, "email", transactional=False) for t in others)


def test_email_off_stops_all_but_transactional_mail() -> None:
    off = Preferences(email=False)
    assert allows(off, "quotes", "email", transactional=False) is False
    assert allows(off, None, "email", transactional=False) is False
    assert allows(off, None, "email", transactional=True) is True


def test_sms_needs_the_opt_in_and_a_phone_even_for_transactional() -> None:
    assert allows(DEFAULTS, None, "sms", transactional=True) is False
    opted = Preferences(sms_opt_in=True, sms_phone="+13125550100")
    assert allows(opted, "reminders", "sms", transactional=False) is True
    assert (
        allows(
            Preferences(sms_opt_in=True, sms_phone="+13125550100", reminders=False),
            "reminders",
            "sms",
            transactional=False,
        )
        is False
    )


# -- the service ------------------------------------------------------------------------------


async def test_a_change_keeps_the_other_choices_and_is_audited(sessions) -> None:
    client_id, actor = uuid.uuid4(), Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.CLIENT}))
    async with sessions() as s, s.begin():
        await set_client_preferences(s, client_id, {"marketing": False}, actor)
    async with sessions() as s, s.begin():
        after = await set_client_preferences(
            s, client_id, {"sms_opt_in": True, "sms_phone": "+1 (312) 555-0100"}, actor
        )
    assert after == Preferences(marketing=False, sms_opt_in=True, sms_phone="+13125550100")
    async with sessions() as s:
        assert await client_preferences(s, client_id) == after
        audit = (
            await s.scalars(
                select(PreferencesAudit)
                .where(PreferencesAudit.client_id == client_id)
                .order_by(PreferencesAudit.at)
            )
        ).all()
    assert [(a.before, a.after, a.actor_id) for a in audit] == [
        ({"marketing": True}, {"marketing": False}, actor.user_id),
        (
            {"sms_opt_in": False, "sms_phone": None},
            {"sms_opt_in": True, "sms_phone": "+13125550100"},
            actor.user_id,
        ),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"sms_opt_in": True}, "smsPhone"), ({"sms_phone": "555-0100"}, "smsPhone")],
)
async def test_bad_sms_input_is_a_user_error_and_changes_nothing(sessions, changes, field) -> None:
    client_id, actor = uuid.uuid4(), Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ADMIN}))
    with pytest.raises(ServiceError) as refused:
        async with sessions() as s, s.begin():
            await set_client_preferences(s, client_id, changes, actor)
    assert refused.value.problems[0].field == field
    async with sessions() as s:
        assert await client_preferences(s, client_id) == DEFAULTS


# -- through GraphQL, by caller ---------------------------------------------------------------


async def test_a_client_user_reads_and_changes_its_own_company_only(caller) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    client = await caller("client", client_id=mine)

    read = (await client(CLIENT_PREFS, _reps(mine))).ok()["_entities"][0]
    assert read["notificationPreferences"]["marketing"] is True
    changed = (await client(UPDATE_CLIENT, {"id": str(mine), "input": {"marketing": False}})).ok()[
        "updateClientNotificationPreferences"
    ]
    assert changed == {
        "preferences": {"quotes": True, "marketing": False, "smsOptIn": False, "smsPhone": None},
        "userErrors": [],
    }

    assert (await client(CLIENT_PREFS, _reps(theirs))).error_codes == ["FORBIDDEN"]
    refused = await client(UPDATE_CLIENT, {"id": str(theirs), "input": {"marketing": False}})
    assert refused.error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("role", ["admin", "manager", "sales_agent", "sales_support"])
async def test_staff_who_work_clients_change_them(caller, role) -> None:
    client_id = uuid.uuid4()
    staff = await caller(role)
    done = (await staff(UPDATE_CLIENT, {"id": str(client_id), "input": {"quotes": False}})).ok()[
        "updateClientNotificationPreferences"
    ]
    assert done["preferences"]["quotes"] is False


@pytest.mark.parametrize("role", ["dispatcher", "accounting", "vendor", "driver"])
async def test_others_may_not_touch_a_clients_choices(caller, role) -> None:
    client_id = uuid.uuid4()
    other = await caller(role)
    assert (await other(CLIENT_PREFS, _reps(client_id))).error_codes == ["FORBIDDEN"]
    refused = await other(UPDATE_CLIENT, {"id": str(client_id), "input": {"quotes": False}})
    assert refused.error_codes == ["FORBIDDEN"]


async def test_anonymous_is_unauthenticated(caller, notifications_server, http_client) -> None:
    from tests.support.graphql_client import GraphQLClient

    anonymous = GraphQLClient(notifications_server.graphql_url, http_client)
    assert (await anonymous(MINE)).error_codes == ["UNAUTHENTICATED"]
    assert (await anonymous(CLIENT_PREFS, _reps(uuid.uuid4()))).error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("role", ["driver", "vendor", "client", "dispatcher"])
async def test_every_account_sets_its_own(caller, role) -> None:
    me = await caller(role, client_id=uuid.uuid4() if role == "client" else None)
    assert (await me(MINE)).ok()["myNotificationPreferences"]["reminders"] is True
    done = (await me(UPDATE_MINE, {"input": {"reminders": False}})).ok()[
        "updateMyNotificationPreferences"
    ]
    assert done == {"preferences": {"reminders": False, "email": True}, "userErrors": []}
    assert (await me(MINE)).ok()["myNotificationPreferences"]["reminders"] is False


async def test_a_bad_phone_through_graphql_names_the_field(caller) -> None:
    client_id = uuid.uuid4()
    client = await caller("client", client_id=client_id)
    answer = (
        await client(
            UPDATE_CLIENT, {"id": str(client_id), "input": {"smsOptIn": True, "smsPhone": "12"}}
        )
    ).ok()["updateClientNotificationPreferences"]
    assert answer["preferences"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
        ("smsPhone", "INVALID_PHONE")
    ]


USER_PREFS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on User { notificationPreferences { reminders } } } }"""


@pytest.mark.parametrize(
    ("role", "own", "allowed"),
    [
        ("dispatcher", True, True),
        ("admin", False, True),
        ("manager", False, False),
        ("client", False, False),
        ("driver", False, False),
    ],
)
async def test_a_persons_choices_are_read_by_that_person_and_admins(
    caller, role, own, allowed
) -> None:
    someone = uuid.uuid4()
    reader = await caller(
        role,
        user_id=someone if own else None,
        client_id=uuid.uuid4() if role == "client" else None,
    )
    answer = await reader(USER_PREFS, {"reps": [{"__typename": "User", "id": str(someone)}]})
    if allowed:
        assert answer.ok()["_entities"][0]["notificationPreferences"] == {"reminders": True}
    else:
        assert answer.error_codes == ["FORBIDDEN"]
