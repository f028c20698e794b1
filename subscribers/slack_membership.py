"""Joining and leaving the working-group list from Slack (`/madeinla subscribe`, `unsubscribe`).

The address is the one Slack holds for the person running the command, and the request reaches us
signed by Slack under that person's user id. That proves the person controls the address as well
as a confirmation email would, so a Slack sign-up is active at once (no double opt-in mail); the
consent record says it came from Slack and which user asked.

No Slack types here: the bot looks the address up and passes a `SlackMember`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from subscribers.models import ConsentMethod, Role, Status, Subscriber, Topic
from subscribers.person_text import InvalidText, clean_name
from subscribers.registry import change_status, record, suppression_reason, utcnow
from subscribers.signup import describe_preferences, unsubscribe

# What the person agrees to by running the command; the bot's reply repeats it.
CONSENT_WORDING_VERSION = "slack-2026-11-v1"
CONSENT_WORDING = (
    "The Los Angeles County Department of Economic Opportunity can email you about the Made in "
    "Los Angeles working group at your Slack address. You can unsubscribe at any time."
)


def actor_for(user_id: str) -> str:
    """How the audit trail names a Slack user."""
    return f"slack:{user_id}"


@dataclass(frozen=True, slots=True)
class SlackMember:
    """A Slack user as the bot found them. `email` is already normalised (`normalise_email`)."""

    user_id: str
    email: str
    name: str = ""
    is_staff: bool = False


class MembershipOutcome(StrEnum):
    SUBSCRIBED = "subscribed"  # new to us: active, working-group topic
    RESUBSCRIBED = "resubscribed"  # had unsubscribed, bounced, complained or never confirmed: active again
    TOPIC_ADDED = "topic_added"  # already active on other topics: working group added
    ALREADY_SUBSCRIBED = "already_subscribed"
    REFUSED = "refused"  # the address was erased at the person's request: never stored again
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"  # nothing to unsubscribe


@dataclass(frozen=True, slots=True)
class MembershipResult:
    outcome: MembershipOutcome
    subscriber_id: int | None = None
    topics: tuple[str, ...] = ()


async def subscribe_slack_member(member: SlackMember) -> MembershipResult:
    """Put the person on the working-group list, active, with consent recorded as from Slack.

    A new person gets the role `county_staff` if they are on the staff list and `working_group`
    otherwise; someone we already know keeps their role (a manufacturer stays a manufacturer).
    """
    if await suppression_reason(member.email) == "erased":
        return MembershipResult(MembershipOutcome.REFUSED)
    try:
        async with in_transaction():
            return await _subscribe(member)
    except IntegrityError:
        # Two commands for a new address raced and the other created the person first.
        async with in_transaction():
            return await _subscribe(member)


async def _subscribe(member: SlackMember) -> MembershipResult:
    actor = actor_for(member.user_id)
    person = await Subscriber.filter(email=member.email).select_for_update().first()
    if person is None:
        person = Subscriber(
            email=member.email,
            name=_usable_name(member.name),
            role=Role.COUNTY_STAFF if member.is_staff else Role.WORKING_GROUP,
            status=Status.PENDING,
            slack_user_id=member.user_id,
        )
        person.topics = [Topic.WORKING_GROUP.value]
        _take_consent(person, member)
        await person.save()
        await record(person.id, "status", "", Status.PENDING.value, actor)
        await change_status(person, Status.ACTIVE, actor=actor)
        await _record_consent(person, actor)
        return _result(MembershipOutcome.SUBSCRIBED, person)

    person.slack_user_id = member.user_id
    if person.status == Status.ACTIVE:
        if Topic.WORKING_GROUP.value in person.topics:
            await person.save(update_fields=["slack_user_id", "updated_at"])
            return _result(MembershipOutcome.ALREADY_SUBSCRIBED, person)
        old = describe_preferences(person)
        person.topics = [*person.topics, Topic.WORKING_GROUP.value]
        await person.save(update_fields=["slack_user_id", "topic_working_group", "updated_at"])
        await record(person.id, "preferences", old, describe_preferences(person), actor)
        await _record_consent(person, actor)
        return _result(MembershipOutcome.TOPIC_ADDED, person)

    # Pending (never confirmed) keeps the topics it asked for: Slack has now confirmed the address.
    # Gone (unsubscribed, bounced, complained) starts over with only what was asked for now.
    old = describe_preferences(person)
    if person.status == Status.PENDING:
        person.topics = sorted({*person.topics, Topic.WORKING_GROUP.value})
    else:
        person.topics = [Topic.WORKING_GROUP.value]
    _take_consent(person, member)
    await person.save()
    if describe_preferences(person) != old:
        await record(person.id, "preferences", old, describe_preferences(person), actor)
    await change_status(person, Status.ACTIVE, actor=actor)
    await _record_consent(person, actor)
    return _result(MembershipOutcome.RESUBSCRIBED, person)


def _usable_name(slack_name: str) -> str:
    """The Slack profile's name if the form would accept it, else none.

    The name is optional and the person didn't type it for us, so a name we can't store (a URL as
    a display name, a 300-character one) is left out rather than refusing the sign-up.
    """
    try:
        return clean_name(slack_name)
    except InvalidText:
        return ""


def _take_consent(person: Subscriber, member: SlackMember) -> None:
    person.consent_method = ConsentMethod.SLACK
    person.consent_wording_version = CONSENT_WORDING_VERSION
    person.consent_source = f"Slack user {member.user_id}"
    person.consent_at = utcnow()


async def _record_consent(person: Subscriber, actor: str) -> None:
    await record(person.id, "consent", "", f"{ConsentMethod.SLACK.value} {CONSENT_WORDING_VERSION}", actor)


def _result(outcome: MembershipOutcome, person: Subscriber) -> MembershipResult:
    return MembershipResult(outcome, person.id, tuple(person.topics))


async def unsubscribe_slack_member(member: SlackMember) -> MembershipResult:
    """Stop all mail to the person's Slack address (the same rule as the unsubscribe link)."""
    person = await Subscriber.get_or_none(email=member.email)
    if person is None or person.status not in (Status.ACTIVE, Status.PENDING):
        return MembershipResult(MembershipOutcome.NOT_SUBSCRIBED, person.id if person else None)
    await unsubscribe(person.id, actor=actor_for(member.user_id))
    return MembershipResult(MembershipOutcome.UNSUBSCRIBED, person.id)
