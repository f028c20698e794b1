"""`/madeinla find PRODUCT`: which manufacturers on our list make it (the motion's item 1.c).

County buyers use this to see what is made locally. Replies are ephemeral. Business names, ZIPs
and products are what a manufacturer told us to describe the business, so any workspace member
may see them; contact emails are personal data given to DEO, so only staff (STAFF_SLACK_USER_IDS)
see them, and everyone else is told to ask staff for an introduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from tortoise.expressions import Q

from bot.slack.mrkdwn import clip, escape
from subscribers.models import BusinessProfile, Role, Status, Subscriber

MAX_RESULTS = 10
MIN_TERM, MAX_TERM = 2, 80


@dataclass(frozen=True, slots=True)
class Listing:
    name: str
    zip: str
    products: str
    email: str


class BadSearch(ValueError):
    """The search term can't be used; the message says why (`spanish`: the same in Spanish)."""

    def __init__(self, message: str, spanish: str) -> None:
        super().__init__(message)
        self.spanish = spanish


def clean_term(raw: str) -> str:
    term = " ".join(raw.split())
    if len(term) < MIN_TERM:
        raise BadSearch(
            f"Tell me what to look for, at least {MIN_TERM} letters, like `/madeinla find scrubs`.",
            f"Dígame qué buscar, al menos {MIN_TERM} letras, como `/madeinla buscar uniformes`.",
        )
    if len(term) > MAX_TERM:
        raise BadSearch(
            f"That search is too long; use up to {MAX_TERM} characters.",
            f"Esa búsqueda es demasiado larga; use hasta {MAX_TERM} caracteres.",
        )
    return term


async def find_manufacturers(term: str, *, limit: int = MAX_RESULTS) -> tuple[list[Listing], int]:
    """Active manufacturers whose products or business name mention `term` (any case), and how
    many there are in all."""
    matches = Subscriber.filter(role=Role.MANUFACTURER, status=Status.ACTIVE).filter(
        Q(profile__products__icontains=term)
        | Q(profile__legal_name__icontains=term)
        | Q(organization__icontains=term)
    )
    total = await matches.count()
    people = await matches.order_by("organization", "id").limit(limit).prefetch_related("profile")
    listings = []
    for person in people:
        # A one-to-one back relation: once prefetched, the profile itself or None.
        profile = cast(BusinessProfile | None, person.profile)
        listings.append(
            Listing(
                name=(profile.legal_name if profile and profile.legal_name else person.organization)
                or "(no business name given)",
                zip=(profile.production_zip or profile.principal_zip) if profile else person.zip,
                products=profile.products if profile else "",
                email=person.email,
            )
        )
    return listings, total


def render_listings(
    term: str, listings: list[Listing], total: int, *, show_contacts: bool, language: str = "en"
) -> str:
    shown = escape(term)
    spanish = language == "es"
    if not listings and spanish:
        return (
            f"Ningún fabricante de nuestra lista menciona “{shown}” todavía. Pruebe una palabra más "
            "corta o más general (como `uniformes` en vez de `uniformes quirúrgicos`)."
        )
    if not listings:
        return (
            f"No manufacturer on our list mentions “{shown}” yet. Try a shorter or more general word "
            "(like `scrubs` rather than `surgical scrubs`)."
        )
    if spanish:
        heading = f"*{total} fabricante{'s' if total != 1 else ''} de nuestra lista mencionan “{shown}”*"
        if total == 1:
            heading = f"*1 fabricante de nuestra lista menciona “{shown}”*"
        if total > len(listings):
            heading += f" (se muestran los primeros {len(listings)})"
    else:
        heading = f"*{total} manufacturer{'s' if total != 1 else ''} on our list mention “{shown}”*"
        if total > len(listings):
            heading += f" (showing the first {len(listings)})"
    lines = [heading]
    for item in listings:
        line = f"• *{escape(clip(item.name, 80))}*"
        if item.zip:
            line += f" · ZIP {escape(item.zip)}"
        if item.products:
            line += f" · {escape(clip(item.products, 160))}"
        if show_contacts:
            line += f" · {escape(item.email)}"
        lines.append(line)
    if not show_contacts:
        lines.append(
            "_Los datos de contacto los comparte el personal del DEO: pídales una presentación._"
            if spanish
            else "_Contact details are shared by DEO staff: ask them for an introduction._"
        )
    return "\n".join(lines)
