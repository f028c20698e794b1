"""The note an erasure leaves: when, and how many messages the person's record held. No personal data."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ErasureRecord(Model):
    """One erasure of an address, found again only by someone who types that address.

    Keyed by the same hash as the suppression list (`subscribers.addresses.email_hash`), so
    `campaigns history ADDRESS` can say "erased on ..." instead of "nothing was ever sent".
    """

    id = fields.IntField(primary_key=True)
    email_hash = fields.CharField(max_length=64, db_index=True)
    erased_at = fields.DatetimeField()
    messages = fields.IntField()  # messages queued or sent to them, made anonymous by the erasure

    class Meta:
        table = "erasure_record"
