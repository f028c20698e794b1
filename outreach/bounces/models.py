"""What came back, as records: each message read once (`InboundMessage`), and what each said and did
(`BounceEvent`). Neither holds an address: a bounce event points at its delivery and person, which
erasure clears, and its diagnostic text has addresses taken out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from outreach.models import Delivery
    from subscribers.models import Subscriber


class InboundMessage(Model):
    """A message from the bounce mailbox or a file, processed: its key makes processing idempotent."""

    key = fields.CharField(max_length=64, primary_key=True)  # reports.Report.key
    kind = fields.CharField(max_length=20)  # reports.ReportKind
    source = fields.CharField(max_length=10)  # imap, file
    processed_at = fields.DatetimeField()

    class Meta:
        table = "inbound_message"


class BounceEvent(Model):
    """What one message said about one delivery (or about none we know), and what it did."""

    id = fields.BigIntField(primary_key=True)
    message_key = fields.CharField(max_length=64)
    at = fields.DatetimeField()
    kind = fields.CharField(max_length=20)  # reports.ReportKind: bounce, delayed, complaint...
    bounce_type = fields.CharField(max_length=10, default="")  # hard, soft, refused
    status = fields.CharField(max_length=12, default="")  # 5.1.1
    diagnostic = fields.CharField(max_length=300, default="")
    delivery: fields.ForeignKeyNullableRelation[Delivery] = fields.ForeignKeyField(
        "models.Delivery", related_name="bounce_events", null=True, on_delete=fields.SET_NULL
    )
    subscriber: fields.ForeignKeyNullableRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="bounce_events", null=True, on_delete=fields.SET_NULL
    )
    matched_by = fields.CharField(max_length=12, default="")  # verp, message-id, recipient; "" none
    effect = fields.CharField(max_length=200, default="")  # what it did, in words
    source = fields.CharField(max_length=10, default="")  # imap, file

    class Meta:
        table = "bounce_event"
        indexes = (Index(fields=("at",)), Index(fields=("subscriber_id", "bounce_type", "at")))
