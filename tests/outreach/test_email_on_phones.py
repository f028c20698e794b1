"""Every email on the smallest phone: each template, in each language, rendered by Debian's Chromium
at 320 CSS pixels (an iPhone SE's width) must fit without scrolling sideways, with the longest
values we allow (a 200-character name, long links, a meeting link, staff's message), and pass
axe-core's serious and critical checks like our pages."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from bot.runtime import build_runtime
from bot.settings import Settings
from outreach.messages import MessageBuilder, Recipient
from outreach.rendering import EmailTemplates
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, check_accessibility

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 320, "height": 640}
LONG_WORD = "Manufacturing" * 6  # a name or link part with nowhere to break
MEETING_LINK = "https://lacounty.zoom.us/j/98765432101?pwd=" + "Ab12Cd34Ef56Gh78Ij90" * 3

# What staff give each campaign template (--var), at its longest; the templates the form and the
# pages send get their values from the code. A new template must be added here.
VALUES: dict[str, dict[str, object]] = {
    "confirm": {"link_valid_hours": 72},
    "already_subscribed": {},
    "email_change": {"change_id": 2**31 - 1, "link_valid_hours": 72},
    "email_changed": {"new_email_masked": "m***@example.org"},
    "staff_sign_in": {
        "staff_name": f"Guadalupe {LONG_WORD}",
        "sign_in_link": "https://madeinla.lacounty.gov/staff/sign-in/" + "Ab12Cd34Ef56Gh78Ij90" * 4,
        "link_minutes": 15,
    },
    "staff_digest": {
        "week": "September 28, 2026 to October 4, 2026",
        "week_first": "September 28, 2026",
        "headlines": [
            {"label": "Messages sent", "value": "1,234,567", "change": "up 1,234,567"},
            {"label": "Unsubscribed", "value": "0", "change": "no change"},
        ],
        "dashboard_link": "https://madeinla.lacounty.gov/staff/?from=2026-09-28&to=2026-10-04&by=week",
    },
    "application": {
        "kind": "submitted",
        "application_link": "https://madeinla.lacounty.gov/application/" + "Ab12Cd34Ef56Gh78Ij90" * 3,
        "verdict_words": "needs review",
        "screening_text": "Made in LA pilot: needs review\n? Garment registration not given ["
        + LONG_WORD
        + "]",
        "reason": "You get this email because you started an application to the Made in Los Angeles pilot.",
    },
    "pilot_update": {"message": f"See {MEETING_LINK} for the slides. " * 3},
    "application_invitation": {"message": f"Questions? {MEETING_LINK}", "deadline": "January 15"},
    "working_group_notice": {
        "meeting_when": "Tuesday, December 8, 10:00 a.m. to 12:00 p.m. (Pacific Time)",
        "meeting_where": f"Online: {MEETING_LINK}",
        "agenda": "Design of the pilot; product categories; " + LONG_WORD,
        "message": f"Join at {MEETING_LINK}",
    },
}


def emails(builder: MessageBuilder) -> list[tuple[str, str, str]]:
    """(template, language, HTML) for every template and language, built as the sender builds them."""
    built = []
    for name in EmailTemplates().names():
        assert name in VALUES, f"add sample values for the new template {name!r} to this test"
        for language in builder.templates.languages(name):
            recipient = Recipient(
                address=f"{LONG_WORD.lower()}@{LONG_WORD.lower()}.example.org",
                subscriber_id=2**31 - 1,
                name=f"María Guadalupe {LONG_WORD} de los Ángeles",
                organization=f"Costura {LONG_WORD} de Los Ángeles, Sociedad Cooperativa",
                role="manufacturer",
                language=language,
            )
            message = builder.build(
                name, recipient, list_mail=True, delivery_id=2**40, extra=dict(VALUES[name])
            )
            parsed = message_from_bytes(message.data, policy=policy.default)
            html = parsed.get_body(("html",)).get_content()  # type: ignore[attr-defined]
            built.append((name, language, html))
    return built


async def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0: no sideways scrolling)."""
    width: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return max(0, width)


async def test_every_email_fits_a_320_pixel_phone_in_every_language(
    settings: Settings, tmp_path: Path
) -> None:
    later = dt.date.today() + dt.timedelta(days=40)
    builder = build_runtime(
        settings.model_copy(
            update={"public_base_url": "https://madeinla.lacounty.gov", "pilot_start_date": later}
        )
    ).builder
    built = emails(builder)
    assert {(name, language) for name, language, _ in built} >= {
        ("application_invitation", "es"),
        ("pilot_update", "en"),
        ("confirm", "es"),
    }
    too_wide = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=PHONE, bypass_csp=True)
            page = await context.new_page()
            for name, language, html in built:
                await page.set_content(html)
                extra = await overflow(page)
                if extra:
                    await page.screenshot(path=str(tmp_path / f"{name}-{language}.png"), full_page=True)
                    too_wide.append(f"{name} ({language}): {320 + extra} px wide")
                await check_accessibility(page, f"email {name} ({language})")
        finally:
            await browser.close()
    assert not too_wide, too_wide
