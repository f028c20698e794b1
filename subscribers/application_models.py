"""Applications to the pilot and the pool of qualified businesses they lead to.

An `Application` is one business's answers, saved as they go (a draft), then submitted, screened
and decided by staff. Its answers are one JSON object of the strings the person typed (the form's
field names, see `subscribers.applications.QUESTIONS`): the form changes with the pilot's rules,
and a draft must keep whatever was typed, valid or not, until it is submitted.

A qualified application makes a `PoolEntry`: what County buyers search (products, categories,
capacity, production ZIPs), with a search document indexed by PostgreSQL full-text search or
SQLite FTS5 (see `subscribers.pool` and migration 0011).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from subscribers.models import Subscriber


class ApplicationStatus(StrEnum):
    DRAFT = "draft"  # being filled in; the applicant may change anything
    SUBMITTED = "submitted"  # locked, screened, waiting for staff
    INFO_REQUESTED = "info_requested"  # staff asked for more: open to the applicant again
    QUALIFIED = "qualified"  # in the pool
    DECLINED = "declined"


# Who may change the answers: the applicant, while the application is open to them.
OPEN_STATUSES = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED})


class Application(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254)  # normalised; where the links and decisions go
    language = fields.CharField(max_length=5, default="en")
    subscriber: fields.ForeignKeyNullableRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="applications", null=True, on_delete=fields.SET_NULL
    )
    invitation_id = fields.BigIntField(null=True)  # the Delivery whose link started it, if any
    invited_at = fields.DatetimeField(null=True)  # when that invitation was queued
    status = fields.CharEnumField(ApplicationStatus, max_length=20, default=ApplicationStatus.DRAFT)
    answers: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    business_name = fields.CharField(max_length=200, default="")  # for lists; also in answers
    verdict = fields.CharField(max_length=20, default="")  # the pilot's screening verdict at submission
    screening: fields.Field[dict[str, Any]] = fields.JSONField(
        default=dict
    )  # `screening_to_json` at submission
    staff_request = fields.TextField(default="")  # what staff asked for (info_requested)
    decline_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    confirmed_at = fields.DatetimeField(null=True)  # first opened from an emailed link
    submitted_at = fields.DatetimeField(null=True)  # the latest submission
    decided_at = fields.DatetimeField(null=True)

    notes: fields.ReverseRelation[ApplicationNote]

    class Meta:
        table = "application"
        indexes = (Index(fields=("status", "submitted_at")), Index(fields=("email",)))


class ApplicationNote(Model):
    """A staff note on an application (and the text of each decision), with who wrote it."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="notes", on_delete=fields.CASCADE
    )
    author = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=20, default="note")  # note, qualified, info_requested, declined
    text = fields.TextField(default="")
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "application_note"


class PoolEntry(Model):
    """A qualified business, as County buyers see it (no contact details here: staff read them
    from the application)."""

    id = fields.IntField(primary_key=True)
    application: fields.OneToOneRelation[Application] = fields.OneToOneField(
        "models.Application", related_name="pool_entry", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    products = fields.TextField(default="")
    category = fields.CharField(max_length=3, default="")  # NAICS subsector (subscribers.product_categories)
    naics = fields.CharField(max_length=6, default="")
    capacity = fields.TextField(default="")
    production_zips = fields.CharField(max_length=200, default="")  # space-separated
    locally_owned = fields.BooleanField(default=False)  # the motion's item 1.g, set by DEO
    qualified_at = fields.DatetimeField()
    # What full-text search reads: products, names, both languages' category words, NAICS prefixes.
    document = fields.TextField(default="")

    class Meta:
        table = "pool_entry"
        indexes = (Index(fields=("category",)),)
