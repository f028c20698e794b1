"""The pages this round changed or added, in Debian's Chromium at the narrowest phone width (320 CSS
pixels), checked by axe-core like every page: "check your email" after the redirect (and its reload),
a long address read back, the preferences page with business details and a new email address, the
page that confirms it, the link pages' refusals, and the 404 page of a crafted path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from outreach.models import Delivery
from subscribers.models import BusinessProfile, Status, Subscriber
from tests.mailserver import MailServer
from tests.web.support import text_of, wait_for_mail
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, check_accessibility, live_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 320, "height": 640}
LONG_ADDRESS = "maria.guadalupe.hernandez@costura-los-angeles.example.com"

LINE_BREAKS = """(element) => {
  // The characters on either side of each line break inside `element`.
  const breaks = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let previousTop = null, previous = "";
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (previousTop !== null && box.top > previousTop + 2) breaks.push(previous + node.data[i]);
      previousTop = box.top;
      previous = node.data[i];
    }
  }
  return breaks;
}"""


async def fits(page: Page, label: str) -> None:
    """No sideways scrolling at phone width, and axe-core's serious and critical checks pass."""
    extra = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert extra <= 0, f"{label}: {extra} px wider than the screen"
    await check_accessibility(page, label)


def link(message, kind: str, base: str) -> str:  # type: ignore[no-untyped-def]
    found = re.search(rf"{re.escape(base)}/{kind}/[A-Za-z0-9._-]+", text_of(message))
    assert found, f"no {kind} link in the email"
    return found.group(0)


async def test_the_new_and_changed_pages_at_320_pixels(
    live_server: str,  # noqa: F811
    mail_server: MailServer,
    tmp_path: Path,
) -> None:
    base = live_server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=PHONE, bypass_csp=True)
            page = await context.new_page()
            page.set_default_timeout(15_000)

            # Sign up in Spanish: the redirect lands on "Revise su correo", which survives a reload.
            await page.goto(f"{base}/?lang=es")
            await page.fill("#field-email", LONG_ADDRESS)
            await page.check("#field-role")  # manufacturer
            await page.check("#field-topics")
            await page.fill("#field-principal_zip", "90021")
            await page.fill("#field-products", "Uniformes")
            await page.check("#field-consent")
            await page.click("#submit")
            assert page.url == f"{base}/check-email?lang=es"
            assert "Revise su correo" in await page.inner_text("h1")
            breaks = await page.eval_on_selector(".email-read-back", LINE_BREAKS)
            assert breaks, "the long address should need more than one line at 320 px"
            for pair in breaks:  # after the @, before a dot, or after a hyphen: never mid-word
                assert pair[0] in "@-" or pair[1] == ".", (pair, breaks)
            await page.screenshot(path=str(tmp_path / "check-email-es.png"), full_page=True)
            await fits(page, "check your email (Spanish)")
            await page.reload()
            assert "Revise su correo" in await page.inner_text("h1")
            assert LONG_ADDRESS in (await page.inner_text(".email-read-back")).replace("\u200b", "")
            [message] = await wait_for_mail(mail_server, 1)
            assert await Subscriber.all().count() == 1 and await Delivery.all().count() == 1

            await page.goto(link(message, "confirm", base))
            await page.click("#submit")
            assert "Su inscripción está confirmada" in await page.inner_text("h1")
            await fits(page, "confirmed (Spanish)")

            # Preferences: business details and a new address, saved in English from the Spanish page.
            await page.goto(link(message, "preferences", base))
            await fits(page, "preferences (Spanish)")
            await page.fill("#field-products", "Uniformes y batas de laboratorio")
            await page.fill("#field-production_zip", "90058")
            await page.fill("#field-new_email", "maria.new@example.org")
            await page.check("#field-language")  # English
            await page.click("#submit")
            assert await page.get_attribute("html", "lang") == "en"
            notice = await page.inner_text(".notice-success")
            assert "Your preferences are saved." in notice and "maria.new@example.org" in notice
            await page.screenshot(path=str(tmp_path / "preferences-saved.png"), full_page=True)
            await fits(page, "preferences saved, link sent")
            person = await Subscriber.get(email=LONG_ADDRESS)
            profile = await BusinessProfile.get(subscriber_id=person.id)
            assert (profile.production_zip, person.language.value) == ("90058", "en")

            [_, change] = await wait_for_mail(mail_server, 2)
            await page.goto(link(change, "email", base))
            assert "maria.new@example.org" in await page.inner_text("main")
            await fits(page, "confirm a new address")
            await page.click("#submit")
            assert "We now send your emails to maria.new@example.org" in await page.inner_text(
                ".notice-success"
            )
            await fits(page, "address changed")
            assert (await Subscriber.get(id=person.id)).email == "maria.new@example.org"
            assert (await Subscriber.get(id=person.id)).status == Status.ACTIVE

            await page.goto(link(change, "email", base))  # used once
            assert "This link does not work" in await page.inner_text("h1")
            await fits(page, "used email link")

            # Invalid input on the preferences page: the error summary, at phone width.
            await page.goto(link(message, "preferences", base))
            await page.fill("#field-new_email", "not-an-address")
            await page.fill("#field-principal_zip", "9002")
            await page.click("#submit")
            assert (await page.title()).startswith("Error: ")
            await fits(page, "preferences with errors")

            await page.goto(f"{base}/%2F%2Fevil.example")
            assert "Page not found" in await page.inner_text("h1")
            switch = await page.get_attribute(".language-switch", "href")
            assert switch is not None and switch.startswith("/") and not switch.startswith("//")
            await fits(page, "not found (crafted path)")

            await page.goto(f"{base}/check-email")  # without the cookie: no address, same layout
            await page.context.clear_cookies()
            await page.reload()
            assert "the address you gave us" in await page.inner_text("main")
            await fits(page, "check your email without a cookie")
        finally:
            await browser.close()
