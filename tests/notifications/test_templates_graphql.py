"""Templates through GraphQL: admins edit, staff read and preview, others are refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from subgraphs.notifications.models import TemplateVersion
from subgraphs.notifications.service.catalogue import KINDS
from tests.support.graphql_client import GraphQLClient

KINDS_QUERY = """{ notificationKinds { name topic transactional channels
  variables { name description } } }"""
TEMPLATES = """query($kind: String, $channel: NotificationChannel) {
  notificationTemplates(kind: $kind, channel: $channel) {
    id kind channel locale name active currentVersion
    versions { version subject text createdBy { id } } } }"""
TEMPLATE = """query($id: ID!) { notificationTemplate(id: $id) { id kind currentVersion } }"""
PREVIEW = """query($id: ID, $kind: String, $channel: NotificationChannel, $locale: String,
  $version: Int, $variables: JSON) {
  previewNotification(templateId: $id, kind: $kind, channel: $channel, locale: $locale,
    version: $version, variables: $variables) { templateId version subject html text } }"""
PUBLISH = """mutation($id: ID!, $input: NotificationTemplateInput!) {
  publishNotificationTemplate(templateId: $id, input: $input) {
    template { id currentVersion } version { version text createdBy { id } }
    userErrors { field code message } } }"""
SET_ACTIVE = """mutation($id: ID!, $active: Boolean!) {
  setNotificationTemplateActive(templateId: $id, active: $active) {
    template { id active } userErrors { field code } } }"""

EVERY_TEMPLATE = sum(len(kind.channels) for kind in KINDS.values())
STAFF = ["admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting"]


async def _template_id(client: GraphQLClient, kind: str, channel: str) -> str:
    found = (await client(TEMPLATES, {"kind": kind, "channel": channel})).ok()
    (template,) = found["notificationTemplates"]
    return str(template["id"])


async def _version_count(sessions) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(TemplateVersion)) or 0)


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
async def test_staff_read_the_catalogue_the_templates_and_previews(
    caller, default_templates, role
) -> None:
    staff = await caller(role)
    kinds = (await staff(KINDS_QUERY)).ok()["notificationKinds"]
    assert [k["name"] for k in kinds] == list(KINDS)
    listed = (await staff(TEMPLATES)).ok()["notificationTemplates"]
    assert len(listed) == EVERY_TEMPLATE
    shown = (await staff(PREVIEW, {"kind": "quote_sent", "channel": "SMS"})).ok()
    assert shown["previewNotification"]["text"].startswith("Athena: your quote CH-2026-000123")


@pytest.mark.parametrize("role", ["client", "vendor", "driver"])
async def test_clients_vendors_and_drivers_may_not_read_templates(
    caller, default_templates, role
) -> None:
    other = await caller(role, client_id=uuid.uuid4() if role == "client" else None)
    for query, variables in (
        (KINDS_QUERY, {}),
        (TEMPLATES, {}),
        (PREVIEW, {"kind": "quote_sent", "channel": "EMAIL"}),
    ):
        assert (await other(query, variables)).error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("role", [r for r in STAFF if r != "admin"] + ["client"])
async def test_only_admins_publish_or_switch_templates(
    caller, sessions, default_templates, role
) -> None:
    template_id = await _template_id(await caller("admin"), "trip_reminder", "SMS")
    other = await caller(role, client_id=uuid.uuid4() if role == "client" else None)
    refused = await other(PUBLISH, {"id": template_id, "input": {"text": "Trip tomorrow"}})
    assert refused.error_codes == ["FORBIDDEN"]
    switched = await other(SET_ACTIVE, {"id": template_id, "active": False})
    assert switched.error_codes == ["FORBIDDEN"]
    assert await _version_count(sessions) == EVERY_TEMPLATE


async def test_anonymous_callers_are_unauthenticated(
    notifications_server, http_client, default_templates
) -> None:
    anonymous = GraphQLClient(notifications_server.graphql_url, http_client)
    assert (await anonymous(KINDS_QUERY)).error_codes == ["UNAUTHENTICATED"]
    assert (await anonymous(PREVIEW, {"kind": "quote_sent", "channel": "EMAIL"})).error_codes == [
        "UNAUTHENTICATED"
    ]
    refused = await anonymous(PUBLISH, {"id": str(uuid.uuid4()), "input": {"text": "x"}})
    assert refused.error_codes == ["UNAUTHENTICATED"]


# -- what they do -----------------------------------------------------------------------------


async def test_the_catalogue_names_each_kinds_variables_and_rules(caller) -> None:
    staff = await caller("manager")
    kinds = {k["name"]: k for k in (await staff(KINDS_QUERY)).ok()["notificationKinds"]}
    receipt, reminder = kinds["payment_receipt"], kinds["trip_reminder"]
    assert (receipt["transactional"], receipt["topic"], receipt["channels"]) == (
        True,
        None,
        ["EMAIL"],
    )
    assert (reminder["transactional"], reminder["topic"], reminder["channels"]) == (
        False,
        "reminders",
        ["EMAIL", "SMS"],
    )
    variables = {v["name"]: v["description"] for v in reminder["variables"]}
    assert variables["pickup_time_zone"] == "The pickup's IANA time zone: show pickup_at in it."


async def test_publishing_through_graphql(caller, sessions, default_templates) -> None:
    admin_id = uuid.uuid4()
    admin = await caller("admin", user_id=admin_id)
    template_id = await _template_id(admin, "trip_reminder", "SMS")
    text = "Trip {{ charter_reference }} at {{ pickup_at | time(tz=pickup_time_zone) }}"
    done = (await admin(PUBLISH, {"id": template_id, "input": {"text": text}})).ok()[
        "publishNotificationTemplate"
    ]
    assert done == {
        "template": {"id": template_id, "currentVersion": 2},
        "version": {"version": 2, "text": text, "createdBy": {"id": str(admin_id)}},
        "userErrors": [],
    }
    (listed,) = (await admin(TEMPLATES, {"kind": "trip_reminder", "channel": "SMS"})).ok()[
        "notificationTemplates"
    ]
    assert [(v["version"], v["createdBy"]) for v in listed["versions"]] == [
        (2, {"id": str(admin_id)}),
        (1, None),
    ]
    shown = (await admin(PREVIEW, {"id": template_id})).ok()["previewNotification"]
    assert (shown["version"], shown["text"]) == (2, "Trip CH-2026-000123 at 9:30 AM")
    first = (await admin(PREVIEW, {"id": template_id, "version": 1})).ok()["previewNotification"]
    assert first["version"] == 1
    assert first["text"].startswith("Athena: trip CH-2026-000123")


async def test_an_unknown_variable_is_a_user_error_naming_the_part(
    caller, sessions, default_templates
) -> None:
    admin = await caller("admin")
    template_id = await _template_id(admin, "booking_confirmed", "EMAIL")
    answer = (
        await admin(
            PUBLISH,
            {
                "id": template_id,
                "input": {
                    "subject": "Booked {{ charter_reference }",
                    "html": "<p>{{ card_number }}</p>",
                    "text": "Total {{ total | money }}",
                },
            },
        )
    ).ok()["publishNotificationTemplate"]
    assert answer["template"] is None
    assert answer["version"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
        ("subject", "TEMPLATE_INVALID"),
        ("html", "TEMPLATE_INVALID"),
    ]
    assert answer["userErrors"][1]["message"] == "unknown variable 'card_number'"
    found = (await admin(TEMPLATE, {"id": template_id})).ok()["notificationTemplate"]
    assert found["currentVersion"] == 1
    assert await _version_count(sessions) == EVERY_TEMPLATE
    unknown = (await admin(PUBLISH, {"id": str(uuid.uuid4()), "input": {"text": "x"}})).ok()[
        "publishNotificationTemplate"
    ]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("templateId", "NOT_FOUND")]


async def test_switching_a_template_off_and_on(caller, default_templates) -> None:
    admin = await caller("admin")
    template_id = await _template_id(admin, "cancellation", "SMS")
    off = (await admin(SET_ACTIVE, {"id": template_id, "active": False})).ok()
    assert off["setNotificationTemplateActive"] == {
        "template": {"id": template_id, "active": False},
        "userErrors": [],
    }
    on = (await admin(SET_ACTIVE, {"id": template_id, "active": True})).ok()
    assert on["setNotificationTemplateActive"]["template"]["active"] is True


async def test_a_preview_formats_for_the_locale_asked(caller, default_templates) -> None:
    staff = await caller("sales_agent")
    german = (
        await staff(PREVIEW, {"kind": "quote_sent", "channel": "EMAIL", "locale": "de_DE"})
    ).ok()["previewNotification"]
    american = (
        await staff(PREVIEW, {"kind": "quote_sent", "channel": "EMAIL", "locale": "en_US"})
    ).ok()["previewNotification"]
    assert german["subject"] == "[Athena] Your quote CH-2026-000123: 1.234,50 $"
    assert american["subject"] == "[Athena] Your quote CH-2026-000123: $1,234.50"
    overridden = (
        await staff(
            PREVIEW,
            {
                "kind": "quote_sent",
                "channel": "EMAIL",
                "variables": {"recipient_name": "<script>x</script>"},
            },
        )
    ).ok()["previewNotification"]
    assert "Hello <script>x</script>," in overridden["text"]
    assert "Hello &lt;script&gt;x&lt;/script&gt;," in overridden["html"]


async def test_a_preview_that_cannot_render_or_find_says_why(caller, default_templates) -> None:
    staff = await caller("manager")
    bad = await staff(
        PREVIEW, {"kind": "trip_reminder", "channel": "SMS", "variables": {"pickup_at": "soon"}}
    )
    assert bad.error_codes == ["BAD_USER_INPUT"]
    assert "not an ISO 8601 moment" in bad.errors[0]["message"]
    missing = await staff(PREVIEW, {"id": str(uuid.uuid4())})
    assert missing.error_codes == ["NOT_FOUND"]
    not_json_object = await staff(
        PREVIEW, {"kind": "trip_reminder", "channel": "SMS", "variables": [1, 2]}
    )
    assert not_json_object.error_codes == ["BAD_USER_INPUT"]
    assert (await staff(TEMPLATE, {"id": str(uuid.uuid4())})).error_codes == ["NOT_FOUND"]
