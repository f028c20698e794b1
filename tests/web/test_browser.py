"""The form in a real browser: Debian's Chromium (through Playwright) at phone width fills it in, the
confirmation email comes from a real SMTP server (aiosmtpd), the link is followed, and axe-core checks
every page on the way (WCAG 2.2 AA rules); any serious or critical violation fails the test."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright

from bot.app import create_app
from bot.settings import Settings
from subscribers.models import Status, Subscriber
from tests.conftest import ON_POSTGRES
from tests.mailserver import MailServer, free_port
from tests.web.support import text_of, wait_for_mail

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.fixture
async def live_server(smtp_settings: Settings) -> AsyncIterator[str]:
    """The real app served by uvicorn on a loopback port, its emailed links pointing at it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = smtp_settings.model_copy(update={"public_base_url": base, "form_rate_limit_per_minute": 6})
    config = uvicorn.Config(
        create_app(settings, run_scheduler=False),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
    )
    if ON_POSTGRES:
        # Emptied before the server (and its sender) starts: mail an earlier test left queued in
        # the shared database would otherwise be sent to this test's mail server.
        from tortoise.contrib.test import truncate_all_models

        from bot.db import database

        async with database(settings.database_url):
            await truncate_all_models()
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, timeout=15)


async def check_accessibility(page: Page, label: str) -> None:
    """Run axe-core in the page; fail on serious or critical violations."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{label}: {bad}"


def link_in(message, kind: str, base: str) -> str:
    match = re.search(rf"{re.escape(base)}/{kind}/[A-Za-z0-9._-]+", text_of(message))
    assert match, f"no {kind} link in the email"
    return match.group(0)


async def test_sign_up_in_a_browser_with_every_page_accessible(
    live_server: str, mail_server: MailServer, tmp_path: Path
) -> None:
    base = live_server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # bypass_csp lets the test inject axe: the pages themselves allow no scripts.
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, bypass_csp=True, java_script_enabled=True
            )
            page = await context.new_page()
            page.set_default_timeout(15_000)

            await page.goto(f"{base}/")
            assert await page.get_attribute("html", "lang") == "en"
            await check_accessibility(page, "landing")
            await page.screenshot(path=str(tmp_path / "landing-en.png"), full_page=True)

            # Sending the empty form: the error summary takes the focus and names each problem.
            await page.click("#submit")
            assert (await page.title()).startswith("Error: ")
            focused = await page.evaluate("document.activeElement.className")
            assert "error-summary" in focused
            await check_accessibility(page, "form with errors")
            await page.click(".error-summary-list a[href='#field-email']")
            assert await page.evaluate("document.activeElement.id") == "field-email"

            await page.fill("#field-email", "Maria@Example.com")
            await page.fill("#field-name", "María Pérez")
            await page.check("#field-role")  # manufacturer
            await page.check("#field-topics")  # pilot updates
            await page.fill("#field-principal_zip", "90021")
            await page.fill("#field-naics", "315250")
            await page.check("#field-consent")
            await page.click("#submit")
            assert "Check your email" in await page.inner_text("h1")
            await check_accessibility(page, "check your email")

            [message] = await wait_for_mail(mail_server, 1)
            assert await Subscriber.filter(email="maria@example.com", status=Status.PENDING).exists()

            await page.goto(link_in(message, "confirm", base))
            await check_accessibility(page, "confirm")
            await page.click("#submit")
            assert "You are signed up" in await page.inner_text("h1")
            await check_accessibility(page, "confirmed")
            person = await Subscriber.get(email="maria@example.com")
            assert person.status == Status.ACTIVE and person.consent_at is not None

            await page.goto(link_in(message, "preferences", base))
            await check_accessibility(page, "preferences")
            await page.check("#field-topics-3")  # working group
            await page.check("#field-language-2")  # Español
            await page.click("#submit")
            assert await page.is_visible(".notice-success")
            await check_accessibility(page, "preferences saved")
            person = await Subscriber.get(id=person.id)
            assert person.topics == ["pilot_updates", "working_group"] and person.language.value == "es"

            await page.goto(link_in(message, "unsubscribe", base))
            await check_accessibility(page, "unsubscribe")
            assert (await Subscriber.get(id=person.id)).status == Status.ACTIVE
            await page.click("button[type=submit]")
            await check_accessibility(page, "unsubscribed")
            assert (await Subscriber.get(id=person.id)).status == Status.UNSUBSCRIBED

            await page.goto(f"{base}/privacy")
            await check_accessibility(page, "privacy")

            await page.goto(f"{base}/?lang=es")
            assert await page.get_attribute("html", "lang") == "es"
            await check_accessibility(page, "landing in Spanish")
            await page.screenshot(path=str(tmp_path / "landing-es.png"), full_page=True)
            await page.click("#submit")
            assert "Hay un problema" in await page.inner_text(".error-summary")
            await check_accessibility(page, "errors in Spanish")

            await page.goto(f"{base}/confirm/not-a-real-token")
            assert "This link does not work" in await page.inner_text("h1")
            await check_accessibility(page, "bad link")

            # The per-client limit (6 a minute here): keep sending until the friendly 429 page.
            for _ in range(10):
                await page.goto(f"{base}/?lang=es")
                await page.fill("#field-email", "kept@example.com")
                async with page.expect_navigation() as navigation:
                    await page.click("#submit")
                response = await navigation.value
                if response is not None and response.status == 429:
                    break
            else:
                raise AssertionError("the rate limit never answered")
            summary = await page.inner_text(".error-summary")
            assert "Envió este formulario demasiadas veces" in summary  # the form, still filled in
            assert await page.input_value("#field-email") == "kept@example.com"
            assert await page.get_attribute("html", "lang") == "es"
            await check_accessibility(page, "too many tries")
        finally:
            await browser.close()
