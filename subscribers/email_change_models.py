"""A request to move a person's emails to a new address, waiting for the link sent there
(see `subscribers.email_change`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:  # a string reference at run time ("models.Subscriber"); the type for mypy
    from subscribers.models import Subscriber


class EmailChange(Model):
    """A new address a person asked for, not yet confirmed at that address.

    The emailed link names this row, so a link works only for the address it was sent to, and a
    newer request (which replaces the row) makes older links useless. Rows go when the change is
    made, replaced, or old, and with the person or the new address when either is erased.
    """

    id = fields.IntField(primary_key=True)
    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="email_changes", on_delete=fields.CASCADE
    )
    subscriber_id: int
    new_email = fields.CharField(max_length=254)  # normalised, like Subscriber.email
    requested_at = fields.DatetimeField()

    class Meta:
        table = "email_change"
        indexes = (Index(fields=("requested_at",)),)
