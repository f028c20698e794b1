"""Campaign notices: a tiny in-process hook that tells staff a campaign started, finished, paused or
was missed.

The service functions announce; whoever wants to hear registers a listener (the Slack module posts
to SLACK_NOTIFY_CHANNEL). A listener that fails is logged and skipped, never raised: a Slack outage
must not stop a campaign from starting or pausing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)


class NoticeKind(StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    PAUSED = "paused"
    RESUMED = "resumed"
    CANCELLED = "cancelled"
    MISSED = "missed"
    APPROVAL_REQUESTED = "approval_requested"  # a large campaign waits for a second person
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class CampaignNotice:
    kind: NoticeKind
    campaign_id: int
    campaign_kind: str  # pilot_update, application_invitation, working_group_notice
    template: str
    detail: str = ""  # why it paused or was missed; never personal data
    name: str = ""  # what staff call the campaign
    counts: dict[str, int] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def summary(self) -> str:
        """One line for a chat message or a log."""
        named = f" “{self.name}”" if self.name else ""
        text = f"Campaign {self.campaign_id}{named} ({self.campaign_kind}, template {self.template})"
        text += f" {self.kind.value.replace('_', ' ')}"
        if self.detail:
            text += f": {self.detail}"
        if set(self.counts) == {"total"}:
            text += f" ({self.counts['total']} people)"
        elif self.counts:
            shown = ", ".join(
                f"{self.counts.get(key, 0)} {key}" for key in ("sent", "failed", "suppressed", "total")
            )
            text += f" ({shown})"
        return text


Listener = Callable[[CampaignNotice], Awaitable[None]]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Register `listener`; returns a function that removes it again (for shutdown and tests)."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


async def announce(notice: CampaignNotice) -> None:
    log.info("campaign %s %s", notice.campaign_id, notice.kind.value)
    for listener in list(_listeners):
        try:
            await listener(notice)
        except Exception:  # a listener's failure (Slack down) must never stop the campaign
            log.exception("campaign notice listener failed for campaign %s", notice.campaign_id)
