"""Who we talk to: people, their consent, their business profile, and what changed when.

Email addresses are stored normalised (see `subscribers.addresses.normalise_email`), which makes the
unique constraint case-insensitive on every database. Topics are three booleans rather than a list:
they are fixed by the consent wording, every audience query filters on them, and booleans are plain
columns on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Role(StrEnum):
    MANUFACTURER = "manufacturer"
    WORKING_GROUP = "working_group"
    COUNTY_STAFF = "county_staff"
    OTHER = "other"


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Topic(StrEnum):
    PILOT_UPDATES = "pilot_updates"
    APPLICATION_INVITATIONS = "application_invitations"
    WORKING_GROUP = "working_group"


class Language(StrEnum):
    EN = "en"
    ES = "es"


class ConsentMethod(StrEnum):
    FORM = "form"
    IMPORT = "import"
    SLACK = "slack"


class Subscriber(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200, default="")
    organization = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=20, default=Role.OTHER)
    language = fields.CharEnumField(Language, max_length=5, default=Language.EN)
    zip = fields.CharField(max_length=10, default="")
    topic_pilot_updates = fields.BooleanField(default=False)
    topic_application_invitations = fields.BooleanField(default=False)
    topic_working_group = fields.BooleanField(default=False)
    status = fields.CharEnumField(Status, max_length=20, default=Status.PENDING)
    slack_user_id = fields.CharField(max_length=32, null=True)

    consent_method = fields.CharEnumField(ConsentMethod, max_length=10, default=ConsentMethod.FORM)
    consent_at = fields.DatetimeField(null=True)  # when the person consented (confirmation for the form)
    consent_wording_version = fields.CharField(max_length=20, default="")
    consent_source = fields.CharField(max_length=200, default="")  # imports: the list staff named

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    confirmation_sent_at = fields.DatetimeField(null=True)  # rate-limits resending the confirmation

    profile: fields.ReverseRelation[BusinessProfile]

    class Meta:
        table = "subscriber"
        indexes = (Index(fields=("status", "role")), Index(fields=("created_at",)))

    @property
    def topics(self) -> list[str]:
        return [topic.value for topic in Topic if getattr(self, f"topic_{topic.value}")]

    @topics.setter
    def topics(self, names: list[str] | set[str] | tuple[str, ...]) -> None:
        for topic in Topic:
            setattr(self, f"topic_{topic.value}", topic.value in names)


class BusinessProfile(Model):
    """What a manufacturer told us about their business, which the eligibility screener reads."""

    id = fields.IntField(primary_key=True)
    subscriber: fields.OneToOneRelation[Subscriber] = fields.OneToOneField(
        "models.Subscriber", related_name="profile", on_delete=fields.CASCADE
    )
    legal_name = fields.CharField(max_length=200, default="")
    principal_zip = fields.CharField(max_length=10, default="")
    production_zip = fields.CharField(max_length=10, default="")
    products = fields.TextField(default="")
    naics = fields.CharField(max_length=6, default="")
    employees = fields.IntField(null=True)
    years_in_county = fields.IntField(null=True)
    ca_small_business = fields.BooleanField(null=True)
    garment_work = fields.BooleanField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "business_profile"


class AuditEvent(Model):
    """Every change of status or consent, with who or what made it. Holds no personal data, so it
    survives erasure (the subscriber link is cleared)."""

    id = fields.BigIntField(primary_key=True)
    subscriber: fields.ForeignKeyNullableRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=40)  # e.g. "status", "consent", "preferences", "erased"
    old_value = fields.CharField(max_length=200, default="")
    new_value = fields.CharField(max_length=200, default="")
    actor = fields.CharField(max_length=100)  # "form", "import:<source>", "cli", "slack:U123", "sender"
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_event"
        # The second serves the pilot's figures (outreach.metrics): status changes in a period,
        # read from the index alone (it carries the values and the person counted).
        indexes = (
            Index(fields=("subscriber_id", "at")),
            Index(fields=("action", "at", "old_value", "new_value", "subscriber_id")),
        )


class Suppression(Model):
    """Addresses we must never mail again. Keyed by a hash so an erased person leaves no address."""

    email_hash = fields.CharField(max_length=64, primary_key=True)
    reason = fields.CharField(max_length=20)  # unsubscribed, bounced, complained, erased
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "suppression"
