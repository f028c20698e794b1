"""The working group (motion item 2): who follows it, by the kind of organisation they come from,
and the notices sent to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outreach.metrics.tally import counts
from outreach.metrics.triggers import TOPIC_PART
from subscribers.models import Role, Status, Topic

# The registry's role is the organisation type people chose on the form.
ORGANISATION_TYPES = {
    Role.MANUFACTURER.value: "Manufacturers",
    Role.WORKING_GROUP.value: "Industry and worker organisations",
    Role.COUNTY_STAFF.value: "County departments",
    Role.OTHER.value: "Other",
}


@dataclass(slots=True)
class WorkingGroup:
    members_by_type: dict[str, int]  # role -> active people who follow the working group
    notices_sent: int  # working-group notice messages handed to the mail server in the period
    notice_campaigns: int

    @property
    def members(self) -> int:
        return sum(self.members_by_type.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "members_by_type": self.members_by_type,
            "notices_sent": self.notices_sent,
            "notice_campaigns": self.notice_campaigns,
        }


async def members_by_type() -> dict[str, int]:
    """Active people who follow the working group, by role (from the person counters)."""
    found = dict.fromkeys(ORGANISATION_TYPES, 0)
    for person in await counts("person"):
        status, role = person.parts[:2]
        if status == Status.ACTIVE.value and person.parts[TOPIC_PART[Topic.WORKING_GROUP]] == "1":
            found[role] = found.get(role, 0) + person.n
    return found
