"""`/madeinla find PRODUCT`: which manufacturers on our list make it (the motion's item 1.c).

The query is `subscribers.directory.find_manufacturers` (the console can use it too); this face
checks the term and formats the answer.

County buyers use this to see what is made locally. Replies are ephemeral. Business names, ZIPs
and products are what a manufacturer told us to describe the business, so any workspace member
may see them; contact emails are personal data given to DEO, so only staff (STAFF_SLACK_USER_IDS)
see them, and everyone else is told to ask staff for an introduction.
"""

from __future__ import annotations

from bot.slack.mrkdwn import clip, escape
from subscribers.directory import Listing

MIN_TERM, MAX_TERM = 2, 80


class BadSearch(ValueError):
    """The search term can't be used; the message says why."""


def clean_term(raw: str) -> str:
    term = " ".join(raw.split())
    if len(term) < MIN_TERM:
        raise BadSearch(
            f"Tell me what to look for, at least {MIN_TERM} letters, like `/madeinla find scrubs`."
        )
    if len(term) > MAX_TERM:
        raise BadSearch(f"That search is too long; use up to {MAX_TERM} characters.")
    return term


def render_listings(term: str, listings: list[Listing], total: int, *, show_contacts: bool) -> str:
    shown = escape(term)
    if not listings:
        return (
            f"No manufacturer on our list mentions “{shown}” yet. Try a shorter or more general word "
            "(like `scrubs` rather than `surgical scrubs`)."
        )
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
        lines.append("_Contact details are shared by DEO staff: ask them for an introduction._")
    return "\n".join(lines)
