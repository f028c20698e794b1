"""Recording and reading the staff audit log (`StaffAction`).

Every service function that acts for a staff member takes an `Actor` and calls `record_action`,
so the console, the CLI and Slack cannot forget it: the face only says who is acting.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

from subscribers.staff_models import ActionSource, StaffAction, StaffMember

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a staff account (console, or CLI with --as, or a linked Slack user), or
    what little is known (the operating-system user of a CLI command, a Slack user id)."""

    source: ActionSource
    label: str  # shown in the log: an address, "cli:maria", "slack:U123"
    staff_id: int | None = None

    @classmethod
    def of_staff(cls, staff: StaffMember, source: ActionSource) -> Actor:
        return cls(source=source, label=staff.email, staff_id=staff.id)

    @classmethod
    def cli_user(cls) -> Actor:
        """A CLI command run without --as: the operating-system user is all we know."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            user = "unknown"
        return cls(source=ActionSource.CLI, label=f"cli:{user}"[:100])

    @classmethod
    def slack_user(cls, user_id: str) -> Actor:
        return cls(source=ActionSource.SLACK, label=f"slack:{user_id}"[:100])

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(source=ActionSource.SYSTEM, label=what[:100])


async def record_action(
    actor: Actor,
    action: str,
    *,
    subscriber_id: int | None = None,
    campaign_id: int | None = None,
    detail: str = "",
) -> StaffAction:
    return await StaffAction.create(
        source=actor.source,
        actor=actor.label[:100],
        staff_id=actor.staff_id,
        action=action[:40],
        subscriber_id=subscriber_id,
        campaign_id=campaign_id,
        detail=" ".join(detail.split())[:500],
    )


@dataclass(frozen=True, slots=True)
class ActionFilter:
    subscriber_id: int | None = None
    campaign_id: int | None = None
    staff_id: int | None = None
    actor: str = ""  # an actor label (for CLI or Slack actions without an account)


@dataclass(frozen=True, slots=True)
class ActionPage:
    actions: list[StaffAction]
    next_before: int | None  # pass as `before` for the next (older) page; None on the last page


async def list_actions(
    filters: ActionFilter = ActionFilter(), *, before: int | None = None, limit: int = PAGE_SIZE
) -> ActionPage:
    """Newest first, a page at a time by id (keyset paging: page 100 costs what page 1 does)."""
    query = StaffAction.all()
    if filters.subscriber_id is not None:
        query = query.filter(subscriber_id=filters.subscriber_id)
    if filters.campaign_id is not None:
        query = query.filter(campaign_id=filters.campaign_id)
    if filters.staff_id is not None:
        query = query.filter(staff_id=filters.staff_id)
    if filters.actor:
        query = query.filter(actor=filters.actor)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ActionPage(rows, rows[-1].id if more and rows else None)


def when(moment: dt.datetime) -> dt.datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive ones back in some paths)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
