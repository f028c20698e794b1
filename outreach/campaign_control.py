"""Pausing, resuming and cancelling a campaign for a staff member: the one function each face calls.

The state change is `outreach.campaigns` (which also records it in the campaign's own trail and
announces it to the Slack channel); here it is tied to the staff audit log, so the console, the
CLI and Slack cannot do one without the other.
"""

from __future__ import annotations

from outreach import campaigns
from subscribers.staff_audit import Actor, record_action


async def pause(campaign_id: int, *, reason: str, actor: Actor) -> bool:
    """Stop sending until resumed (see `campaigns.pause_campaign`); False if not pausable."""
    done = await campaigns.pause_campaign(campaign_id, reason=reason, actor=actor.label)
    if done:
        await record_action(actor, "campaign.pause", campaign_id=campaign_id, detail=reason)
    return done


async def resume(campaign_id: int, *, actor: Actor) -> bool:
    """Carry on from where it stopped (see `campaigns.resume_campaign`); False if not paused."""
    done = await campaigns.resume_campaign(campaign_id, actor=actor.label)
    if done:
        await record_action(actor, "campaign.resume", campaign_id=campaign_id)
    return done


async def cancel(campaign_id: int, *, actor: Actor, reason: str = "") -> bool:
    """Stop for good (see `campaigns.cancel_campaign`); False if already finished or cancelled."""
    done = await campaigns.cancel_campaign(campaign_id, actor=actor.label)
    if done:
        await record_action(actor, "campaign.cancel", campaign_id=campaign_id, detail=reason)
    return done
