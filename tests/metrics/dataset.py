"""A small data set whose figures can be counted by hand (see the table in each docstring).

Period: Monday 2026-11-02 to Sunday 2026-11-15 (two weeks); the previous period is 2026-10-19 to
2026-11-01. Times are Los Angeles noon unless said otherwise.

| person | role          | lang | ZIP   | what happened                                            |
|--------|---------------|------|-------|----------------------------------------------------------|
| Hal    | manufacturer  | en   | 91101 | signed up and confirmed Oct 20 (previous period); active  |
| Ana    | manufacturer  | es   | 90021 | signed up Nov 2, confirmed Nov 3; active; profile 315     |
| Ben    | manufacturer  | en   | 90021 | signed up and confirmed Nov 4; active; profile 311        |
| Cy     | working_group | en   | 90012 | signed up Nov 5, confirmed Nov 6; active; working group  |
| Dee    | other         | en   |       | signed up Nov 7; never confirmed (pending)                |
| Eve    | manufacturer  | es   |       | signed up and confirmed Nov 9; unsubscribed Nov 12        |
| Fay    | county_staff  | en   |       | imported active Nov 10; working group                     |
| Gus    | manufacturer  | en   |       | signed up and confirmed Nov 10; erased Nov 13             |
| Ivy    | other         | en   |       | signed up and confirmed Nov 11; bounced Nov 14            |

Campaigns: a pilot update on Oct 25 (Hal: sent); an application invitation on Nov 11 (Ana sent +
clicked, Ben sent, Eve sent, Gus sent + clicked, Hal deferred, Ivy failed); a working-group
notice on Nov 12 (Cy, Fay: sent).

Applications (created / confirmed / submitted; the invitation was queued Nov 11 10:00):

| applicant | from          | created | confirmed | submitted  | status          | pool     |
|-----------|---------------|---------|-----------|------------|-----------------|----------|
| Old Co    | /apply        | Oct 21  | Oct 21    | Oct 22     | qualified Oct 25| 311      |
| Zed Co    | /apply        | Nov 3   | Nov 3     | Nov 5      | declined Nov 6  |          |
| Kim Co    | /apply        | Nov 8   | never     |            | draft           |          |
| Uma Co    | /apply        | Nov 9   | Nov 9     | Nov 10     | qualified Nov 12| 315      |
| Ana       | invitation    | Nov 11  | Nov 11    | Nov 13 10:00 (2 days) | qualified Nov 14 | 315 |
| Ben       | invitation    | Nov 12  | Nov 12    | Nov 15 10:00 (4 days) | info requested Nov 15 |  |
| Eve       | invitation    | Nov 12  | Nov 12    |            | draft           |          |
| Late Co   | /apply        | Nov 17  | Nov 17    | Nov 18     | submitted       |          |

In the period: 5 started (Kim never confirmed), 4 submitted, 2 qualified, 1 asked for
information, 1 declined; 2 submitted after an invitation, median 3.0 days. Previous period: 1
submitted. The pool today: 311 Food 1, 315 Clothing and apparel 2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from outreach.erasure import erase
from outreach.metrics import Period
from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryState
from outreach.timeline import PILOT_TIMEZONE
from subscribers.application_models import Application, ApplicationNote, ApplicationStatus, PoolEntry
from subscribers.models import AuditEvent, BusinessProfile, Subscriber

PERIOD = Period.make("2026-11-02", "2026-11-15", "week")
TODAY = dt.date(2026, 11, 20)


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=PILOT_TIMEZONE).astimezone(dt.UTC)


async def _person(name: str, role: str, language: str, zip_code: str = "", **topics: bool) -> Subscriber:
    return await Subscriber.create(
        email=f"{name.lower()}@example.com", name=name, role=role, language=language, zip=zip_code, **topics
    )


async def _event(person: Subscriber, old: str, new: str, when: dt.datetime, actor: str = "form") -> None:
    await AuditEvent.create(subscriber_id=person.id, action="status", old_value=old, new_value=new,
                            actor=actor, at=when)  # fmt: skip


async def _status(person: Subscriber, status: str) -> None:
    person.status = status  # type: ignore[assignment]
    await person.save(update_fields=["status"])


async def _signup(person: Subscriber, signed: dt.datetime, confirmed: dt.datetime | None) -> None:
    await _event(person, "", "pending", signed)
    if confirmed:
        await _event(person, "pending", "active", confirmed)
        await _status(person, "active")


async def make_dataset() -> dict[str, Any]:
    hal = await _person("Hal", "manufacturer", "en", "91101", topic_pilot_updates=True)
    await _signup(hal, at(10, 20), at(10, 20, 13))
    await BusinessProfile.create(subscriber=hal)
    ana = await _person("Ana", "manufacturer", "es", "90021", topic_pilot_updates=True,
                        topic_application_invitations=True)  # fmt: skip
    await _signup(ana, at(11, 2), at(11, 3))
    await BusinessProfile.create(subscriber=ana, naics="315250", products="T-shirts, Uniforms",
                                 principal_zip="90021", employees=12)  # fmt: skip
    ben = await _person("Ben", "manufacturer", "en", "90021", topic_application_invitations=True)
    await _signup(ben, at(11, 4), at(11, 4, 18))
    await BusinessProfile.create(subscriber=ben, naics="311812", products="bread; uniforms")
    cy = await _person("Cy", "working_group", "en", "90012", topic_working_group=True)
    await _signup(cy, at(11, 5), at(11, 6))
    dee = await _person("Dee", "other", "en")
    await _signup(dee, at(11, 7, 23), None)  # 11 pm in Los Angeles: already Nov 8 in UTC, still week 1
    eve = await _person("Eve", "manufacturer", "es")
    await _signup(eve, at(11, 9), at(11, 9, 14))
    fay = await _person("Fay", "county_staff", "en", topic_working_group=True)
    await _event(fay, "", "active", at(11, 10), actor="import:County list")
    await _status(fay, "active")
    gus = await _person("Gus", "manufacturer", "en")
    await _signup(gus, at(11, 10), at(11, 10, 15))
    ivy = await _person("Ivy", "other", "en")
    await _signup(ivy, at(11, 11), at(11, 11, 13))

    earlier = await _campaign(CampaignKind.PILOT_UPDATE, at(10, 25))
    await _delivery(earlier, hal, DeliveryState.SENT)
    invitation = await _campaign(CampaignKind.APPLICATION_INVITATION, at(11, 11, 10))
    await _delivery(invitation, ana, DeliveryState.SENT, clicked=True)
    await _delivery(invitation, ben, DeliveryState.SENT)
    await _delivery(invitation, eve, DeliveryState.SENT)
    await _delivery(invitation, gus, DeliveryState.SENT, clicked=True)
    await _delivery(invitation, hal, DeliveryState.DEFERRED)
    await _delivery(invitation, ivy, DeliveryState.FAILED)
    notice = await _campaign(CampaignKind.WORKING_GROUP_NOTICE, at(11, 12, 9))
    await _delivery(notice, cy, DeliveryState.SENT)
    await _delivery(notice, fay, DeliveryState.SENT)

    await _event(eve, "active", "unsubscribed", at(11, 12))
    await _status(eve, "unsubscribed")
    await _event(ivy, "active", "bounced", at(11, 14))
    await _status(ivy, "bounced")
    await _applications(ana, ben, eve, invitation)
    await erase("gus@example.com", actor="test")
    await AuditEvent.filter(action="erased").update(at=at(11, 13))
    return {"invitation": invitation.id, "notice": notice.id, "earlier": earlier.id}


async def _campaign(kind: CampaignKind, started: dt.datetime) -> Campaign:
    return await Campaign.create(kind=kind, template=kind.value, subject=f"{kind.value} subject",
                                 status=CampaignStatus.FINISHED, send_at=started, started_at=started,
                                 audience_resolved_at=started, finished_at=started)  # fmt: skip


async def _delivery(
    campaign: Campaign, person: Subscriber, state: DeliveryState, clicked: bool = False
) -> None:
    started = campaign.started_at
    assert started is not None
    await Delivery.create(campaign=campaign, subscriber_id=person.id, address=person.email,
                          template=campaign.template, language=person.language, state=state,
                          next_attempt_at=started, sent_at=started if state == DeliveryState.SENT else None,
                          clicked_at=started + dt.timedelta(hours=1) if clicked else None)  # fmt: skip


async def _application(
    name: str,
    created: dt.datetime,
    *,
    person: Subscriber | None = None,
    invitation: Campaign | None = None,
    confirmed: bool = True,
    submitted: dt.datetime | None = None,
    status: ApplicationStatus = ApplicationStatus.DRAFT,
    decided: dt.datetime | None = None,
    category: str = "",
) -> Application:
    application = await Application.create(
        email=person.email if person else f"{name.lower().replace(' ', '')}@example.org",
        language=person.language if person else "en", subscriber=person, business_name=name,
        invited_at=invitation.started_at if invitation else None, status=status,
        confirmed_at=created if confirmed else None, submitted_at=submitted, decided_at=decided,
    )  # fmt: skip
    await Application.filter(id=application.id).update(created_at=created)  # auto_now_add otherwise
    if status == ApplicationStatus.INFO_REQUESTED:
        await ApplicationNote.create(application=application, author="staff", kind="info_requested",
                                     text="Your garment registration number, please.")  # fmt: skip
    if status == ApplicationStatus.DECLINED:
        await ApplicationNote.create(application=application, author="staff", kind="declined", text="No")
    if status == ApplicationStatus.QUALIFIED:
        assert decided is not None
        await PoolEntry.create(application=application, name=name, category=category, qualified_at=decided)
    return application


async def _applications(ana: Subscriber, ben: Subscriber, eve: Subscriber, invitation: Campaign) -> None:
    qualified, declined = ApplicationStatus.QUALIFIED, ApplicationStatus.DECLINED
    await _application("Old Co", at(10, 21), submitted=at(10, 22), status=qualified, decided=at(10, 25),
                       category="311")  # fmt: skip
    await _application("Zed Co", at(11, 3), submitted=at(11, 5), status=declined, decided=at(11, 6))
    await _application("Kim Co", at(11, 8), confirmed=False)
    await _application("Uma Co", at(11, 9), submitted=at(11, 10), status=qualified, decided=at(11, 12),
                       category="315")  # fmt: skip
    await _application("Ana's", at(11, 11, 11), person=ana, invitation=invitation, submitted=at(11, 13, 10),
                       status=qualified, decided=at(11, 14), category="315")  # fmt: skip
    await _application("Ben's", at(11, 12), person=ben, invitation=invitation, submitted=at(11, 15, 10),
                       status=ApplicationStatus.INFO_REQUESTED)  # fmt: skip
    await _application("Eve's", at(11, 12), person=eve, invitation=invitation)
    await _application("Late Co", at(11, 17), submitted=at(11, 18), status=ApplicationStatus.SUBMITTED)
