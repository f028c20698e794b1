"""What we send and when: campaigns, and one `Delivery` row per message we mean to send.

Every message, a bulk campaign's or a single confirmation email, is a `Delivery` row written before
anything is sent. The sender claims due rows, sends them and records the outcome, so a crash loses
nothing and the row says what the mail server answered.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:  # a string reference at run time ("models.Subscriber"); the type for mypy
    from subscribers.models import Subscriber


class CampaignKind(StrEnum):
    PILOT_UPDATE = "pilot_update"
    APPLICATION_INVITATION = "application_invitation"
    WORKING_GROUP_NOTICE = "working_group_notice"


class CampaignStatus(StrEnum):
    DRAFT = "draft"  # being composed, or changed after it was submitted: never sent as it is
    AWAITING_APPROVAL = "awaiting_approval"  # submitted; large sends wait for a second person
    SCHEDULED = "scheduled"  # waiting for send_at (or, recurring, for its next occurrence)
    SENDING = "sending"  # deliveries exist and are being sent
    PAUSED = "paused"  # by staff, or by itself (see paused_reason)
    FINISHED = "finished"  # nothing left queued or deferred
    CANCELLED = "cancelled"
    MISSED = "missed"  # its time passed longer ago than the grace period while the service was down


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender until lease_until
    SENT = "sent"
    DEFERRED = "deferred"  # a temporary failure; retried at next_attempt_at
    FAILED = "failed"  # permanent failure, or retried for longer than RETRY_FOR_HOURS
    SUPPRESSED = "suppressed"  # the person unsubscribed, bounced or was erased before we sent
    BOUNCED = "bounced"  # the relay took it, then a bounce came back (see bounce_type, outreach.bounces)


class Priority(IntEnum):
    """Lower goes first: confirmations must never wait behind a bulk campaign."""

    TRANSACTIONAL = 0
    BULK = 10


class Campaign(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(
        max_length=200, default="", db_default=""
    )  # what staff call it: "January pilot update"
    kind = fields.CharEnumField(CampaignKind, max_length=30)
    template = fields.CharField(max_length=100)
    subject = fields.CharField(max_length=200, default="")  # empty: the template's own subject
    audience: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)  # see outreach.audience
    # campaign-wide template values (meeting time, place)
    context: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(CampaignStatus, max_length=20, default=CampaignStatus.SCHEDULED)
    paused_reason = fields.CharField(max_length=300, default="")
    send_at = fields.DatetimeField(null=True)  # UTC; for a recurring campaign, its next occurrence
    cron = fields.CharField(max_length=100, default="")  # recurring: crontab in America/Los_Angeles
    parent: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="occurrences", null=True, on_delete=fields.SET_NULL
    )
    occurrence_at = fields.DatetimeField(null=True)  # for a recurring campaign's child: which one
    created_by = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # (db_default: so the columns can be added to a table that has rows, on SQLite too.)
    # Approval (outreach.campaigns.submit_campaign): who last changed what is sent, who submitted
    # it, how many people it reached then, and who approved it (empty: not approved).
    english_for_spanish = fields.BooleanField(
        default=False, db_default=False
    )  # staff chose to send English text to Spanish readers
    changed_by = fields.CharField(max_length=100, default="", db_default="")
    submitted_by = fields.CharField(max_length=100, default="", db_default="")
    audience_size = fields.IntField(null=True)
    approved_by = fields.CharField(max_length=100, default="", db_default="")
    approved_at = fields.DatetimeField(null=True)
    approval_note = fields.CharField(max_length=300, default="", db_default="")  # why it was rejected
    started_at = fields.DatetimeField(null=True)  # when a process claimed it and began drawing the audience
    audience_resolved_at = fields.DatetimeField(null=True)  # every Delivery row is written
    finished_at = fields.DatetimeField(null=True)

    deliveries: fields.ReverseRelation[Delivery]

    class Meta:
        table = "campaign"
        unique_together = (("parent", "occurrence_at"),)
        indexes = (Index(fields=("status", "send_at")),)


class Delivery(Model):
    id = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="deliveries", null=True, on_delete=fields.CASCADE
    )
    campaign_id: int | None  # the foreign keys' columns, which Tortoise adds
    subscriber: fields.ForeignKeyNullableRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    address = fields.CharField(max_length=254)  # cleared when the person is erased
    template = fields.CharField(max_length=100)  # e.g. "confirm" or the campaign's template
    language = fields.CharField(max_length=5, default="en")
    subscriber_id: int | None
    # extra template values for transactional mail
    context: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    priority = fields.SmallIntField(default=Priority.BULK)
    # The description is the one the first migration recorded: a new one would make Tortoise alter
    # the column, which on SQLite rebuilds the table without its unique constraint and indexes
    # (Tortoise 1.1.9). It is only a comment; DeliveryState lists every state.
    state = fields.CharEnumField(
        DeliveryState,
        max_length=12,
        default=DeliveryState.QUEUED,
        description="QUEUED: queued\nSENDING: sending\nSENT: sent\nDEFERRED: deferred\nFAILED: failed\n"
        "SUPPRESSED: suppressed",
    )
    attempts = fields.SmallIntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_reply = fields.CharField(max_length=500, default="")  # the mail server's last answer
    message_id = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    clicked_at = fields.DatetimeField(null=True)  # application invitations: the signed link was followed
    # What came back later (outreach.bounces): a bounce, or a complaint that it was spam.
    bounced_at = fields.DatetimeField(null=True)
    bounce_type = fields.CharField(max_length=10, default="", db_default="")  # hard, soft, refused
    bounce_status = fields.CharField(max_length=12, default="", db_default="")  # DSN status code: 5.1.1
    bounce_diagnostic = fields.CharField(max_length=300, default="", db_default="")  # no addresses
    complained_at = fields.DatetimeField(null=True)  # the person reported this message as spam

    class Meta:
        table = "delivery"
        unique_together = (("campaign", "subscriber"),)
        indexes = (
            Index(fields=("subscriber_id",)),
            # Per-campaign counts, "is it finished?", and the sender's claim (due rows of one campaign
            # in one state, oldest first) as an index range scan instead of a sort.
            Index(fields=("campaign_id", "state", "next_attempt_at")),
            # The console's recipients list: a campaign's rows (of one state) in id order, paged
            # from a cursor (outreach.recipients).
            Index(fields=("campaign_id", "id")),
            Index(fields=("campaign_id", "state", "id")),
            # Erasure finds every message to an address, including ones no subscriber row links to
            # any more (outreach.erasure).
            Index(fields=("address",)),
        )


class SendCounter(Model):
    """Messages sent per minute and per hour window, so rate limits hold across restarts and processes."""

    window = fields.CharField(max_length=20, primary_key=True)  # "m:2026-11-22T09:05", "h:2026-11-22T09"
    sent = fields.IntField(default=0)

    class Meta:
        table = "send_counter"
