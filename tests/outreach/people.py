"""Making subscribers for campaign tests."""

from __future__ import annotations

from typing import Any

from subscribers.models import BusinessProfile, Status, Subscriber

ALL_TOPICS = ["pilot_updates", "application_invitations", "working_group"]


async def person(
    email: str,
    *,
    role: str = "manufacturer",
    language: str = "en",
    topics: list[str] | None = None,
    status: Status = Status.ACTIVE,
    zip: str = "90021",
    name: str = "",
    organization: str = "",
    profile: dict[str, Any] | None = None,
) -> Subscriber:
    subscriber = Subscriber(
        email=email,
        role=role,
        language=language,
        status=status,
        zip=zip,
        name=name,
        organization=organization,
    )
    subscriber.topics = ALL_TOPICS if topics is None else topics
    await subscriber.save()
    if profile is not None:
        await BusinessProfile.create(subscriber=subscriber, **profile)
    return subscriber
