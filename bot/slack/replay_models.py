"""Slack request signatures seen lately, shared by every process on PostgreSQL (see `bot.slack.replay`)."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class SlackRequestSeen(Model):
    """One signed Slack request that was let in: a second request with its signature is a replay.

    The signature is an HMAC of the request, not the request: the table holds nothing anyone typed.
    Rows are deleted once their timestamp is too old for the signature check to pass anyway.
    """

    signature = fields.CharField(max_length=100, primary_key=True)
    expires_at = fields.BigIntField()  # Unix seconds

    class Meta:
        table = "slack_request_seen"
        indexes = (Index(fields=("expires_at",)),)
