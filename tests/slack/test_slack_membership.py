"""`/madeinla subscribe` and `unsubscribe`: the Slack address, consent from Slack, the audit trail."""

from __future__ import annotations

from subscribers.addresses import email_hash
from subscribers.models import AuditEvent, ConsentMethod, Role, Status, Subscriber, Suppression
from subscribers.registry import suppress
from subscribers.slack_membership import (
    CONSENT_WORDING_VERSION,
    MembershipOutcome,
    SlackMember,
    subscribe_slack_member,
)
from tests.slack.conftest import MEMBER, STAFF, SignedSlack
from tests.slack.fakeslack import FakeSlack


async def audit(person: Subscriber) -> list[tuple[str, str, str, str]]:
    events = await AuditEvent.filter(subscriber_id=person.id).order_by("id")
    return [(e.action, e.old_value, e.new_value, e.actor) for e in events]


async def test_subscribe_uses_the_slack_address_and_is_active_at_once(
    slack: SignedSlack, fake_slack: FakeSlack
):
    text = await slack.reply("subscribe", user=MEMBER)
    # One call for the person's language (include_locale), one for their address.
    asked = [call for call in fake_slack.calls_to("users.info") if "include_locale" not in call]
    assert [call["user"] for call in asked] == [MEMBER]
    assert "You're on the Made in LA working-group list at ana@example.com" in text
    person = await Subscriber.get(email="ana@example.com")
    assert person.status == Status.ACTIVE
    assert person.role == Role.WORKING_GROUP
    assert person.topics == ["working_group"]
    assert person.name == "Ana Member"
    assert person.slack_user_id == MEMBER
    assert person.consent_method == ConsentMethod.SLACK
    assert person.consent_source == f"Slack user {MEMBER}"
    assert person.consent_wording_version == CONSENT_WORDING_VERSION
    assert person.consent_at is not None
    assert await audit(person) == [
        ("status", "", "pending", f"slack:{MEMBER}"),
        ("status", "pending", "active", f"slack:{MEMBER}"),
        ("consent", "", f"slack {CONSENT_WORDING_VERSION}", f"slack:{MEMBER}"),
    ]


async def test_staff_join_as_county_staff_with_a_normalised_address(slack: SignedSlack):
    await slack.reply("subscribe", user=STAFF)
    person = await Subscriber.get(email="staff.person@example.gov")
    assert person.role == Role.COUNTY_STAFF


async def test_subscribing_twice_changes_nothing(slack: SignedSlack):
    await slack.reply("subscribe")
    text = await slack.reply("subscribe")
    assert "already on the working-group list" in text
    assert await Subscriber.filter(email="ana@example.com").count() == 1


async def test_unsubscribe_stops_all_mail_and_can_be_undone(slack: SignedSlack):
    await slack.reply("subscribe")
    text = await slack.reply("unsubscribe")
    assert "we won't email ana@example.com again" in text
    person = await Subscriber.get(email="ana@example.com")
    assert person.status == Status.UNSUBSCRIBED
    assert (await Suppression.get(email_hash=email_hash("ana@example.com"))).reason == "unsubscribed"
    assert ("status", "active", "unsubscribed", f"slack:{MEMBER}") in await audit(person)

    assert "isn't on any of our lists" in await slack.reply("unsubscribe")
    await slack.reply("subscribe")
    await person.refresh_from_db()
    assert person.status == Status.ACTIVE
    assert person.topics == ["working_group"]
    assert await Suppression.filter(email_hash=email_hash("ana@example.com")).count() == 0


async def test_known_manufacturer_keeps_role_and_topics(slack: SignedSlack):
    person = await Subscriber.create(
        email="ana@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE, topic_pilot_updates=True
    )
    await slack.reply("subscribe")
    await person.refresh_from_db()
    assert person.role == Role.MANUFACTURER
    assert person.topics == ["pilot_updates", "working_group"]
    assert person.consent_method == ConsentMethod.FORM  # their form consent stays on record
    assert (
        "preferences",
        "topics=pilot_updates language=en",
        "topics=pilot_updates+working_group language=en",
        f"slack:{MEMBER}",
    ) in await audit(person)


async def test_pending_form_signup_is_confirmed_by_slack(db):
    person = await Subscriber.create(email="ana@example.com", status=Status.PENDING, topic_pilot_updates=True)
    result = await subscribe_slack_member(SlackMember(MEMBER, "ana@example.com"))
    await person.refresh_from_db()
    assert result.outcome is MembershipOutcome.RESUBSCRIBED
    assert person.status == Status.ACTIVE
    assert person.topics == ["pilot_updates", "working_group"]


async def test_erased_address_is_never_added_again(slack: SignedSlack):
    await suppress("ana@example.com", "erased")
    text = await slack.reply("subscribe")
    assert "can't add it again" in text
    assert await Subscriber.filter(email="ana@example.com").count() == 0


async def test_slack_without_a_confirmed_email_changes_nothing(slack: SignedSlack, fake_slack: FakeSlack):
    fake_slack.add_user("UGUEST", "guest@example.com", "Guest", is_email_confirmed=False)
    assert "no confirmed email address" in await slack.reply("subscribe", user="UGUEST")
    fake_slack.add_user("UBOT2", "bot@example.com", "Some Bot", is_bot=True)
    assert "no confirmed email address" in await slack.reply("subscribe", user="UBOT2")
    assert await Subscriber.all().count() == 0


async def test_slack_failing_to_answer_changes_nothing(slack: SignedSlack, fake_slack: FakeSlack):
    fake_slack.fail("users.info", "missing_scope")
    assert "didn't tell me your email address" in await slack.reply("subscribe")
    assert "didn't tell me your email address" in await slack.reply("unsubscribe")
    assert await Subscriber.all().count() == 0


async def test_subscribe_takes_no_arguments(slack: SignedSlack):
    text = await slack.reply("subscribe someone@else.example")
    assert text.startswith(":warning: `subscribe` takes no arguments.")
    assert await Subscriber.all().count() == 0
