"""A manufacturer correcting their business details on the preferences page: the ZIP codes and
what they make, which County buyers search (`/madeinla find`) and the screener reads."""

from __future__ import annotations

from dataclasses import dataclass, fields

from subscribers.models import BusinessProfile, Subscriber


@dataclass(frozen=True, slots=True)
class ProfileCorrection:
    """The details the preferences page offers, already checked (`bot.web.forms`)."""

    principal_zip: str = ""
    production_zip: str = ""
    products: str = ""


async def correct_profile(person: Subscriber, correction: ProfileCorrection) -> list[str]:
    """Save `correction` to the person's business profile (making one if they had none); the names
    of the fields that changed, for the audit trail (which keeps no values)."""
    values = {field.name: getattr(correction, field.name) for field in fields(correction)}
    profile = await BusinessProfile.filter(subscriber_id=person.id).select_for_update().first()
    if profile is None:
        if not any(values.values()):
            return []
        profile = BusinessProfile(subscriber_id=person.id)
    changed = [name for name, value in values.items() if getattr(profile, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(profile, name, values[name])
    await profile.save()
    if "principal_zip" in changed and person.zip != correction.principal_zip:
        # The person's own ZIP is the main place of business for a manufacturer (as at sign-up).
        person.zip = correction.principal_zip
        await person.save(update_fields=["zip", "updated_at"])
    return changed
