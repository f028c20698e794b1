"""Who a campaign goes to: a validated audience and the subscriber query it stands for.

Staff write an audience as `role=manufacturer,topic=pilot_updates,language=es,zip=90021|90058`
(`|` separates alternatives, `,` separates conditions that must all hold). It is stored on the
campaign as JSON and turned into a query only when the campaign starts, so people who join before
then are included and people who left are not.

Two rules hold whatever staff write: only `active` people (who confirmed) get campaign mail, and
only people who chose the campaign's topic: a pilot update never reaches someone who asked for
working-group notices only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from outreach.models import CampaignKind
from subscribers.models import Language, Role, Status, Subscriber, Topic
from subscribers.orm import ids

# The topic a person must have chosen to get each kind of campaign.
KIND_TOPIC = {
    CampaignKind.PILOT_UPDATE: Topic.PILOT_UPDATES,
    CampaignKind.APPLICATION_INVITATION: Topic.APPLICATION_INVITATIONS,
    CampaignKind.WORKING_GROUP_NOTICE: Topic.WORKING_GROUP,
}

_YES = {"yes": True, "true": True, "y": True, "1": True, "no": False, "false": False, "n": False, "0": False}
_ZIP = re.compile(r"^\d{5}$")
_NAICS = re.compile(r"^\d{2,6}$")

KEYS_HELP = """\
role=manufacturer|working_group|county_staff|other, topic=pilot_updates|application_invitations|
working_group, language=en|es, status=active, zip=90021|90058 (5 digits), garment=yes|no,
small_business=yes|no, naics=315|311 (code prefixes). Separate conditions with commas and
alternatives with |. Everyone must be active and have chosen the campaign's topic."""


class AudienceError(ValueError):
    """The audience staff wrote can't be used; the message names the key or value and what works."""


@dataclass(frozen=True)
class Audience:
    """Conditions that must all hold; within one condition any listed value will do."""

    roles: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    naics: tuple[str, ...] = ()
    garment: bool | None = None
    small_business: bool | None = None
    statuses: tuple[str, ...] = field(default=(Status.ACTIVE.value,))

    # Reading -------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Audience:
        """Read the CLI form. An empty string means everyone (active, with the campaign's topic)."""
        values: dict[str, list[str]] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or not value.strip():
                raise AudienceError(f"{part!r} needs a value, like role=manufacturer")
            if key in values:
                raise AudienceError(f"{key} is given twice; list alternatives with |, like {key}=a|b")
            values[key] = [v.strip() for v in value.split("|") if v.strip()]
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Audience:
        """Read a dict (the stored JSON, a Slack form): values may be one string or a list."""
        unknown = sorted(set(data) - set(_READERS))
        if unknown:
            raise AudienceError(
                f"unknown audience key {unknown[0]!r}; use one of: {', '.join(sorted(_READERS))}"
            )
        kwargs: dict[str, Any] = {}
        for key, raw in data.items():
            values = _as_list(raw)
            if not values:
                continue
            attribute, value = _READERS[key](key, values)
            kwargs[attribute] = value
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, attribute in _ATTRIBUTES.items():
            value = getattr(self, attribute)
            if isinstance(value, tuple) and value:
                data[key] = list(value)
            elif isinstance(value, bool):
                data[key] = value
        return data

    def describe(self) -> str:
        """The CLI form again, for listings: `role=manufacturer,zip=90021|90058`."""
        parts = []
        for key, value in self.to_json().items():
            text = ("yes" if value else "no") if isinstance(value, bool) else "|".join(value)
            parts.append(f"{key}={text}")
        return ",".join(parts)

    # Querying ------------------------------------------------------------------------------------

    def query(self, kind: str) -> QuerySet[Subscriber]:
        """The people this audience means for a campaign of `kind`."""
        query = Subscriber.filter(status__in=list(self.statuses))
        query = query.filter(**{f"topic_{KIND_TOPIC[CampaignKind(kind)].value}": True})
        if self.topics:
            query = query.filter(Q(*(Q(**{f"topic_{t}": True}) for t in self.topics), join_type="OR"))
        if self.roles:
            query = query.filter(role__in=list(self.roles))
        if self.languages:
            query = query.filter(language__in=list(self.languages))
        if self.zips:
            query = query.filter(zip__in=list(self.zips))
        if self.garment is not None:
            query = query.filter(profile__garment_work=self.garment)
        if self.small_business is not None:
            query = query.filter(profile__ca_small_business=self.small_business)
        if self.naics:
            query = query.filter(
                Q(*(Q(profile__naics__startswith=code) for code in self.naics), join_type="OR")
            )
        return query

    async def count(self, kind: str) -> int:
        return await self.query(kind).count()

    async def count_by_language(self, kind: str) -> dict[str, int]:
        """How many people it means in each language (every language listed, even at 0)."""
        rows = await self.query(kind).annotate(n=Count("id")).group_by("language").values("language", "n")
        counts = {lang.value: 0 for lang in Language}
        for row in rows:
            counts[str(row["language"])] = int(row["n"])
        return counts

    async def includes(self, kind: str, subscriber_id: int) -> bool:
        return await self.query(kind).filter(id=subscriber_id).exists()

    async def stream_ids(self, kind: str, *, batch_size: int = 2000) -> AsyncIterator[list[int]]:
        """The ids of everyone in the audience, a batch at a time, in ascending order.

        Keyset pagination (`id > last`) keeps each query as cheap as the first and never holds
        more than one batch in memory, however large the audience.
        """
        last_id = 0
        while True:
            batch = await ids(self.query(kind).filter(id__gt=last_id).order_by("id").limit(batch_size))
            if not batch:
                return
            yield batch
            last_id = batch[-1]
            if len(batch) < batch_size:
                return


def _as_list(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, bool):
        return ["yes" if raw else "no"]
    if isinstance(raw, str):
        return [v.strip() for v in raw.split("|") if v.strip()]
    if isinstance(raw, list | tuple | set | frozenset):
        return [str(v).strip() for v in raw if str(v).strip()]
    raise AudienceError(f"audience value {raw!r} is not text or a list")


def _choices(allowed: list[str]):
    def read(key: str, values: list[str]) -> tuple[str, tuple[str, ...]]:
        chosen = []
        for value in (v.lower() for v in values):
            if value not in allowed:
                raise AudienceError(f"{key}={value} is not allowed; {key} can be {'|'.join(allowed)}")
            if value not in chosen:
                chosen.append(value)
        return _ATTRIBUTES[key], tuple(chosen)

    return read


def _status(key: str, values: list[str]) -> tuple[str, tuple[str, ...]]:
    for value in (v.lower() for v in values):
        if value not in {s.value for s in Status}:
            raise AudienceError(f"status={value} is not a status; campaign mail goes to status=active")
        if value != Status.ACTIVE.value:
            raise AudienceError(
                f"status={value} can't receive campaign mail: only active people, who confirmed "
                "their sign-up, get campaigns"
            )
    return "statuses", (Status.ACTIVE.value,)


def _zips(key: str, values: list[str]) -> tuple[str, tuple[str, ...]]:
    for value in values:
        if not _ZIP.match(value):
            raise AudienceError(f"zip={value} is not a 5-digit ZIP code, like 90021")
    return "zips", tuple(dict.fromkeys(values))


def _naics(key: str, values: list[str]) -> tuple[str, tuple[str, ...]]:
    for value in values:
        if not _NAICS.match(value):
            raise AudienceError(f"naics={value} is not a NAICS code or prefix (2 to 6 digits, like 315)")
    return "naics", tuple(dict.fromkeys(values))


def _yes_no(attribute: str):
    def read(key: str, values: list[str]) -> tuple[str, bool]:
        if len(values) != 1 or values[0].lower() not in _YES:
            raise AudienceError(f"{key}={'|'.join(values)} must be yes or no")
        return attribute, _YES[values[0].lower()]

    return read


_ATTRIBUTES = {
    "role": "roles",
    "topic": "topics",
    "language": "languages",
    "status": "statuses",
    "zip": "zips",
    "naics": "naics",
    "garment": "garment",
    "small_business": "small_business",
}
_READERS = {
    "role": _choices([r.value for r in Role]),
    "topic": _choices([t.value for t in Topic]),
    "language": _choices([lang.value for lang in Language]),
    "status": _status,
    "zip": _zips,
    "naics": _naics,
    "garment": _yes_no("garment"),
    "small_business": _yes_no("small_business"),
}
