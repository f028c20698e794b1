"""The figures' rollups: counters kept current by the database as the registry and the ledger change.

The dashboard must cost about the same with 100,000 people as with 10,000, so it reads counters
instead of counting rows. Triggers (`outreach.metrics.triggers`) append a `TallyChange` for every
change that moves a figure, in the writer's own transaction; `fold_changes` adds them into `Tally`
now and then. Readers sum both, so a figure is exact the moment the writer commits.

Appending instead of updating a shared counter row means two senders never wait for, or deadlock
on, the same counter.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Tally(Model):
    """One counter: how many rows of a kind have these values (see outreach.metrics.tally)."""

    id = fields.BigIntField(primary_key=True)
    figure = fields.CharField(max_length=20)  # person, zip, event, delivery, unsubscribed_7d, fact
    scope = fields.BigIntField(default=0)  # the County day (event), the campaign (delivery), or 0
    key = fields.CharField(max_length=300)  # the counted values, joined with "|"
    n = fields.BigIntField(default=0)

    class Meta:
        table = "tally"
        unique_together = (("figure", "scope", "key"),)


class TallyChange(Model):
    """A change to one counter, appended by a trigger, folded into Tally and deleted later."""

    id = fields.BigIntField(primary_key=True)
    figure = fields.CharField(max_length=20)
    scope = fields.BigIntField(default=0)
    key = fields.CharField(max_length=300)
    n = fields.BigIntField()

    class Meta:
        table = "tally_change"
        indexes = (Index(fields=("figure", "scope")),)


class ProfileFact(Model):
    """One thing the figures read from a business profile: a product, a verdict, what to ask for.

    Sector, each product it lists, the screener's verdict for each program and what it would ask
    for. Screening is Python, so these rows are written by `outreach.metrics.profiles`, not by a
    trigger; the triggers count the facts of active manufacturers into the "fact" figure."""

    id = fields.BigIntField(primary_key=True)
    profile_id = fields.IntField()
    subscriber_id = fields.IntField()
    kind = fields.CharField(max_length=20)  # profile, sector, product, verdict, ask
    value = fields.CharField(max_length=250)

    class Meta:
        table = "profile_fact"
        indexes = (Index(fields=("profile_id",)), Index(fields=("subscriber_id",)))


class ProfileToScreen(Model):
    """A business profile changed since its facts were written (appended by a trigger).

    A row per change, not per profile: a change made while the profile is being screened leaves a
    newer row, so it is screened again."""

    id = fields.BigIntField(primary_key=True)
    profile_id = fields.IntField()

    class Meta:
        table = "profile_to_screen"


class FigureState(Model):
    """Small named values the rollups keep: the rules the stored verdicts were screened with."""

    name = fields.CharField(max_length=40, primary_key=True)
    value = fields.CharField(max_length=200)

    class Meta:
        table = "figure_state"
