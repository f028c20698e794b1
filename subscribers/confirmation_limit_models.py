"""How many confirmations the form has mailed to one mailbox or one domain in its current window
(see `subscribers.confirmation_limits`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class ConfirmationWindow(Model):
    """Emails the form asked to send one mailbox or domain in its current window.

    Keyed by a hash, so the table holds no address; rows whose window ended are deleted now and then.
    """

    key = fields.CharField(max_length=80, primary_key=True)  # "mailbox:<sha256>" or "domain:<sha256>"
    resets_at = fields.BigIntField()  # Unix seconds: when this window ends and counting restarts
    confirmations = fields.IntField(default=0)  # asked for in this window (granted or not)

    class Meta:
        table = "confirmation_window"
        indexes = (Index(fields=("resets_at",)),)
