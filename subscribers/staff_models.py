"""The people who run the outreach (DEO staff), how they sign in, and what they did.

Staff are not subscribers: an account has a role, sign-in links and sessions, and every action a
staff member takes (in the console, the CLI or Slack) is a `StaffAction` row. These models sit at
the bottom of the layers so that any service (erasure here, campaigns in `outreach`) can record
into the same audit log.

A removed account is kept (with `removed_at`) so the audit log can still say who did what.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class StaffRole(StrEnum):
    """Each role includes the ones before it (see `RANK`)."""

    VIEWER = "viewer"  # sees people, campaigns, reports
    EDITOR = "editor"  # adds and edits people, imports, drafts campaigns
    SENDER = "sender"  # schedules and sends campaigns, pauses, cancels
    APPROVER = "approver"  # approves other people's sends
    ADMIN = "admin"  # manages staff

    @property
    def rank(self) -> int:
        return RANK[self]

    def includes(self, other: StaffRole) -> bool:
        return RANK[self] >= RANK[other]


RANK = {role: number for number, role in enumerate(StaffRole)}


class ActionSource(StrEnum):
    CONSOLE = "console"
    CLI = "cli"
    SLACK = "slack"
    SYSTEM = "system"  # the sender or scheduler acting on its own


class StaffMember(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)  # normalised, like a subscriber's
    name = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(StaffRole, max_length=12)
    slack_user_id = fields.CharField(max_length=32, default="")  # links Slack buttons to the account
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    removed_at = fields.DatetimeField(null=True)  # removed accounts stay, so the audit log names them

    class Meta:
        table = "staff_member"

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def label(self) -> str:
        return self.email


class SignInLink(Model):
    """One emailed sign-in link: single use, short-lived, and usable only in the browser that
    asked for it (`browser_hash` is a hash of a random value in that browser's cookie)."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sign_in_links", on_delete=fields.CASCADE
    )
    staff_id: int  # the foreign key's column, which Tortoise adds
    secret_hash = fields.CharField(max_length=64)  # SHA-256 of the link's random part
    browser_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_sign_in_link"
        indexes = (Index(fields=("staff_id", "created_at")),)


class StaffSession(Model):
    """A signed-in browser. The cookie holds a random key and the row only its hash, so a copy of
    the database signs nobody in. Ending a session is setting `ended_at`."""

    # (No semicolons in model docstrings: Tortoise writes them into the schema as comments and
    # its SQLite migrations split statements at semicolons.)

    key_hash = fields.CharField(max_length=64, primary_key=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sessions", on_delete=fields.CASCADE
    )
    method = fields.CharField(max_length=10)  # "link" or "sso"
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()  # the absolute limit, whatever the activity
    ended_at = fields.DatetimeField(null=True)
    ended_reason = fields.CharField(max_length=40, default="")

    class Meta:
        table = "staff_session"
        indexes = (Index(fields=("staff_id", "ended_at")),)


class StaffAction(Model):
    """The staff audit log: who did what, to which person or campaign, from where.

    `actor` is what was known of who acted (a staff address, `cli:<os user>`, `slack:U123`) and
    stays readable after the account is removed. `detail` is a short summary for people and must
    not hold a subscriber's address (erasure leaves the log alone), so it names people by id.
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    source = fields.CharEnumField(ActionSource, max_length=10)
    actor = fields.CharField(max_length=100)
    staff: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="actions", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=40)  # e.g. "person.add", "campaign.approve", "staff.role"
    subscriber_id = fields.IntField(null=True)  # a plain id: the person may be erased later
    campaign_id = fields.IntField(null=True)
    detail = fields.CharField(max_length=500, default="")

    class Meta:
        table = "staff_action"
        indexes = (
            Index(fields=("subscriber_id", "id")),
            Index(fields=("campaign_id", "id")),
            Index(fields=("staff_id", "id")),
        )
