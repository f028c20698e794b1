"""Audiences: what staff may write, and exactly whom each one reaches."""

from __future__ import annotations

import pytest

from outreach.audience import Audience, AudienceError
from subscribers.models import Status
from tests.outreach.people import person


def test_cli_form_is_read_and_written_back() -> None:
    audience = Audience.parse("role=manufacturer|working_group, language=es,zip=90021|90058,garment=yes")
    assert audience.roles == ("manufacturer", "working_group")
    assert audience.languages == ("es",)
    assert audience.zips == ("90021", "90058")
    assert audience.garment is True
    assert audience.statuses == ("active",)
    assert Audience.from_mapping(audience.to_json()) == audience
    assert audience.describe() == (
        "role=manufacturer|working_group,language=es,status=active,zip=90021|90058,garment=yes"
    )


def test_empty_audience_means_every_active_person() -> None:
    assert Audience.parse("") == Audience()
    assert Audience.parse(" , ") == Audience()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour=blue", "unknown audience key 'colour'; use one of: garment, language, naics, role,"),
        (
            "role=baker",
            "role=baker is not allowed; role can be manufacturer|working_group|county_staff|other",
        ),
        ("language=fr", "language can be en|es"),
        ("topic=news", "topic can be pilot_updates|application_invitations|working_group"),
        ("zip=9002", "zip=9002 is not a 5-digit ZIP code"),
        ("zip=90021-1234", "not a 5-digit ZIP code"),
        ("status=pending", "only active people, who confirmed their sign-up, get campaigns"),
        ("status=gone", "status=gone is not a status"),
        ("garment=maybe", "garment=maybe must be yes or no"),
        ("naics=31a", "naics=31a is not a NAICS code"),
        ("role", "'role' needs a value"),
        ("role=", "'role=' needs a value"),
        ("role=other,role=manufacturer", "role is given twice; list alternatives with |"),
    ],
)
def test_bad_audiences_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(AudienceError) as caught:
        Audience.parse(text)
    assert message in str(caught.value)


def test_mapping_form_accepts_lists_and_booleans() -> None:
    audience = Audience.from_mapping({"role": ["manufacturer"], "garment": False, "zip": "90021|90058"})
    assert audience.roles == ("manufacturer",)
    assert audience.garment is False
    assert audience.zips == ("90021", "90058")
    with pytest.raises(AudienceError):
        Audience.from_mapping({"role": {"nested": 1}})


async def _emails(audience: Audience, kind: str) -> set[str]:
    return set(await audience.query(kind).values_list("email", flat=True))


async def test_only_active_people_who_chose_the_campaigns_topic(db: str) -> None:
    await person("updates@example.com", topics=["pilot_updates"])
    await person("invites@example.com", topics=["application_invitations"])
    await person("pending@example.com", status=Status.PENDING)
    await person("left@example.com", status=Status.UNSUBSCRIBED)
    await person("bounced@example.com", status=Status.BOUNCED)
    everyone = Audience()
    assert await _emails(everyone, "pilot_update") == {"updates@example.com"}
    assert await _emails(everyone, "application_invitation") == {"invites@example.com"}
    assert await _emails(everyone, "working_group_notice") == set()
    assert await everyone.count("pilot_update") == 1


async def test_conditions_combine(db: str) -> None:
    await person("ana@example.com", role="manufacturer", language="es", zip="90021")
    await person("bo@example.com", role="manufacturer", language="en", zip="90058")
    await person("cy@example.com", role="working_group", language="es", zip="90021")
    await person("di@example.com", role="manufacturer", language="es", zip="91001")
    audience = Audience.parse("role=manufacturer,language=es,zip=90021|90058")
    assert await _emails(audience, "pilot_update") == {"ana@example.com"}
    assert await _emails(Audience.parse("zip=90021|90058"), "pilot_update") == {
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    }


async def test_topic_alternatives_narrow_within_the_campaigns_topic(db: str) -> None:
    await person("both@example.com", topics=["pilot_updates", "working_group"])
    await person("one@example.com", topics=["pilot_updates"])
    await person("wg@example.com", topics=["working_group"])
    audience = Audience.parse("topic=working_group|application_invitations")
    assert await _emails(audience, "pilot_update") == {"both@example.com"}


async def test_business_profile_fields(db: str) -> None:
    await person("sewing@example.com", profile={"garment_work": True, "naics": "315210"})
    await person("bakery@example.com", profile={"garment_work": False, "naics": "311812"})
    await person("unknown@example.com")  # no profile at all
    await person("small@example.com", profile={"ca_small_business": True, "naics": "332"})
    assert await _emails(Audience.parse("garment=yes"), "pilot_update") == {"sewing@example.com"}
    assert await _emails(Audience.parse("garment=no"), "pilot_update") == {"bakery@example.com"}
    assert await _emails(Audience.parse("naics=315|3118"), "pilot_update") == {
        "sewing@example.com",
        "bakery@example.com",
    }
    assert await _emails(Audience.parse("small_business=yes"), "pilot_update") == {"small@example.com"}


async def test_stream_pages_through_everyone_once_in_id_order(db: str) -> None:
    people = [await person(f"p{i}@example.com") for i in range(7)]
    await person("x@example.com", status=Status.UNSUBSCRIBED)
    batches = [batch async for batch in Audience().stream_ids("pilot_update", batch_size=3)]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [i for batch in batches for i in batch] == [p.id for p in people]
    assert [b async for b in Audience().stream_ids("pilot_update", batch_size=7)] == [[p.id for p in people]]
    assert await Audience().includes("pilot_update", people[0].id)
