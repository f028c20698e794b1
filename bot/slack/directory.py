"""`/madeinla find PRODUCT`: who in the pool of qualified manufacturers makes it (the motion's 1.c).

County buyers use this to see what is made locally. The search is `subscribers.pool.search_pool`,
the same the console and the CLI use. Replies are ephemeral. Everyone sees the qualified
businesses (name, production ZIPs, products, category, capacity); only staff
(STAFF_SLACK_USER_IDS) see contact addresses and, apart and marked, the manufacturers that only
filled in the interest form. Everyone else is told to ask staff for an introduction.
"""

from __future__ import annotations

from bot.slack.mrkdwn import clip, escape
from subscribers.pool import BadSearch, Listing, PoolResults, clean_term, search_pool

__all__ = ["BadSearch", "clean_term", "find", "render_results"]


async def find(term: str, *, staff: bool) -> PoolResults:
    """Raises BadSearch with a message fit to show."""
    return await search_pool(term, interested=staff, contacts=staff)


def _line(item: Listing, *, show_contacts: bool) -> str:
    line = f"• *{escape(clip(item.name, 80))}*"
    if item.locally_owned:
        line += " (Locally Owned)"
    if item.zips:
        line += f" · ZIP {escape(clip(item.zips, 60))}"
    if item.products:
        line += f" · {escape(clip(item.products, 160))}"
    if item.category:
        line += f" · {escape(item.category)}"
    if item.capacity:
        line += f" · can supply: {escape(clip(item.capacity, 120))}"
    if show_contacts and item.email:
        line += f" · {escape(item.email)}"
    return line


def _count(total: int, noun: str) -> str:
    return f"{total} {noun}{'s' if total != 1 else ''}"


def _showing(total: int, shown: int) -> str:
    return f" (showing the first {shown})" if total > shown else ""


def render_results(results: PoolResults, *, show_contacts: bool) -> str:
    shown = escape(results.term)
    lines: list[str] = []
    if results.qualified:
        heading = f"*{_count(results.qualified_total, 'qualified manufacturer')} in the pool make “{shown}”*"
        lines.append(heading + _showing(results.qualified_total, len(results.qualified)))
        lines += [_line(item, show_contacts=show_contacts) for item in results.qualified]
    else:
        lines.append(
            f"No qualified manufacturer in the pool makes “{shown}” yet. Try a shorter or more general "
            "word (like `scrubs` rather than `surgical scrubs`), a category (`apparel`) or a NAICS code."
        )
    if results.interested:
        count = _count(results.interested_total, "manufacturer")
        more = _showing(results.interested_total, len(results.interested))
        lines.append(
            f"*Interested, not qualified: {count}*{more} (interest form only; not the County's list)"
        )
        lines += [_line(item, show_contacts=show_contacts) for item in results.interested]
    if not show_contacts and results.qualified:
        lines.append("_Contact details are shared by DEO staff: ask them for an introduction._")
    return "\n".join(lines)
