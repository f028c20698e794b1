"""The console in Debian's Chromium (Playwright): sign in by the emailed link read from a real
SMTP server, and by single sign-on through a real OpenID provider (npm's oidc-provider); every
page checked with axe-core (WCAG 2.2 AA, no serious or critical violations); keyboard use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from bot.app import create_app
from bot.settings import Settings
from subscribers.staff_models import StaffAction, StaffSession
from tests.conftest import ON_POSTGRES
from tests.console.conftest import running_oidc_provider
from tests.console.support import make_staff, sign_in_path
from tests.console.test_campaigns import sending_campaign
from tests.mailserver import MailServer, free_port
from tests.outreach.people import person
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, check_accessibility

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@contextlib.asynccontextmanager
async def serving(settings: Settings, port: int, *, run_scheduler: bool = False) -> AsyncIterator[str]:
    """The real app under uvicorn on a loopback port (its emailed links point at it)."""
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_base_url": base})
    if ON_POSTGRES:
        from tortoise.contrib.test import truncate_all_models

        from bot.db import database

        async with database(settings.database_url):
            await truncate_all_models()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, run_scheduler=run_scheduler),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
        )
    )
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


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def wait_for_link(server: MailServer, email: str, count: int) -> str:
    for _ in range(500):
        mine = server.handler.messages_to(email)
        if len(mine) >= count:
            return sign_in_path(mine[count - 1].message)
        await asyncio.sleep(0.02)
    raise AssertionError("no sign-in email")


async def sign_in_by_email(page: Page, base: str, server: MailServer, email: str, count: int = 1) -> None:
    await page.goto(f"{base}/staff/sign-in")
    await page.fill("#field-email", email)
    await page.click("#submit")
    assert "Check your email" in await page.inner_text("h1")
    await page.goto(base + await wait_for_link(server, email, count))


async def test_sign_in_by_emailed_link_and_every_page_accessible(
    smtp_settings: Settings, mail_server: MailServer, tmp_path: Path
) -> None:
    async with serving(smtp_settings, free_port()) as base, chromium() as browser:
        await make_staff("admin@lacounty.gov", "admin", name="Rosa Admin")
        await make_staff("viewer@lacounty.gov", "viewer")
        page = await new_page(browser)

        await page.goto(f"{base}/staff/audit")
        assert page.url.startswith(f"{base}/staff/sign-in?next=")
        await check_accessibility(page, "sign-in")
        await page.click("#submit")  # no address
        assert (await page.title()).startswith("Error: ")
        assert "Enter an email address" in await page.inner_text("#email-error")
        await check_accessibility(page, "sign-in with an error")
        await page.fill("#field-email", "admin@lacounty.gov")
        await page.click("#submit")
        assert "Check your email" in await page.inner_text("h1")
        await check_accessibility(page, "check your email")
        await page.goto(base + await wait_for_link(mail_server, "admin@lacounty.gov", 1))
        assert page.url == f"{base}/staff/"
        assert "Signed in as admin@lacounty.gov" in await page.inner_text("main")
        await check_accessibility(page, "home")

        # Keyboard: the first Tab reaches the skip link, which moves the focus to the content.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip-link"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"

        await page.click("nav >> text=Staff")
        await check_accessibility(page, "staff accounts")
        await page.click("form[action='/staff/accounts/add'] button[type=submit]")
        assert await page.get_attribute("#field-email", "aria-invalid") == "true"
        await check_accessibility(page, "staff accounts with an error")
        await page.fill("#field-email", "new.editor@lacounty.gov")
        await page.select_option("#field-role", "editor")
        await page.click("form[action='/staff/accounts/add'] button[type=submit]")
        assert "Added new.editor@lacounty.gov as editor" in await page.inner_text("[role=status]")
        await check_accessibility(page, "staff added")

        await page.click("nav >> text=Audit log")
        assert "staff.add" in await page.inner_text("table")
        await check_accessibility(page, "audit log")

        # A viewer, in a second browser context: no Staff menu, and a 403 page for the address.
        viewer = await new_page(browser)
        await sign_in_by_email(viewer, base, mail_server, "viewer@lacounty.gov")
        assert await viewer.locator("nav >> text=Staff").count() == 0
        response = await viewer.goto(f"{base}/staff/accounts")
        assert response is not None and response.status == 403
        await check_accessibility(viewer, "403")

        # People: search, a person, add (with field errors), correct, import, erase.
        await person(
            "ana@example.com",
            name="Ana López",
            organization="López Uniforms",
            language="es",
            profile={"products": "work uniforms"},
        )
        await page.click("nav >> text=People")
        await check_accessibility(page, "people")
        await page.fill("#field-q", "uniforms")
        await page.select_option("#field-language", "es")
        await page.click("form[role=search] button[type=submit]")
        assert "ana@example.com" in await page.inner_text("table")
        await check_accessibility(page, "people filtered")
        await page.click("table a")
        assert "Ana López" in await page.inner_text("h1")
        await check_accessibility(page, "a person")
        await page.click("text=Correct details")
        await check_accessibility(page, "correct details")
        await page.fill("#field-zip", "900")
        await page.click("main form button[type=submit]")
        assert await page.get_attribute("#field-zip", "aria-invalid") == "true"
        assert "Say why" in await page.inner_text("#reason-error")
        await check_accessibility(page, "correct details with errors")
        await page.fill("#field-zip", "90058")
        await page.fill("#field-reason", "she phoned")
        await page.click("main form button[type=submit]")
        assert "Changed: zip" in await page.inner_text("[role=status]")
        await page.click("text=Erase this person")
        await check_accessibility(page, "erase")

        await page.goto(f"{base}/staff/people/new")
        await page.click("main form button[type=submit]")
        assert (await page.title()).startswith("Error: ")
        await check_accessibility(page, "add a person with errors")

        csv_file = tmp_path / "list.csv"
        csv_file.write_text("email,name\nnew@example.com,New Person\nnot-an-address,Bad\n")
        await page.goto(f"{base}/staff/people/import")
        await check_accessibility(page, "import")
        await page.set_input_files("#field-file", str(csv_file))
        await page.fill("#field-consent_source", "Coalition list, 2026")
        await page.click("main form button[type=submit]")
        assert "is not a valid address" in await page.inner_text("main")
        await check_accessibility(page, "import check")
        await page.check("#field-skip_invalid")
        await page.click("text=Check again with these options")
        await page.click("text=Import 1 people")
        await page.wait_for_selector("text=Imported 1 people")  # htmx replaced the progress
        await check_accessibility(page, "import done")

        # Campaigns: the list, a campaign's page (counts, controls, recipients), pausing it.
        campaign = await sending_campaign(5)
        await page.click("nav >> text=Campaigns")
        await check_accessibility(page, "campaigns")
        await page.click(f"a[href='/staff/campaigns/{campaign.id}']")
        await check_accessibility(page, "a campaign")
        await page.fill("#field-reason", "checking the numbers")
        await page.click("main button:has-text('Pause')")
        assert "paused" in await page.inner_text("[role=status]")
        await check_accessibility(page, "a paused campaign")

        await page.click("text=Sign out")
        assert "You are signed out" in await page.inner_text("h1")
        await check_accessibility(page, "signed out")
        await page.goto(f"{base}/staff/")
        assert "/staff/sign-in" in page.url


async def test_single_sign_on_through_a_real_openid_provider(smtp_settings: Settings) -> None:
    port = free_port()
    with running_oidc_provider(f"http://127.0.0.1:{port}/staff/sso/callback") as provider:
        settings = smtp_settings.model_copy(
            update={
                "staff_oidc_issuer": provider.issuer,
                "staff_oidc_client_id": provider.client_id,
                "staff_oidc_client_secret": provider.client_secret,
            }
        )
        from pydantic import SecretStr

        settings.staff_oidc_client_secret = SecretStr(provider.client_secret)
        async with serving(settings, port) as base, chromium() as browser:
            await make_staff("ana@lacounty.gov", "editor")

            async def through_provider(login: str) -> Page:
                page = await new_page(browser)
                await page.goto(f"{base}/staff/sign-in")
                await page.click("text=Sign in with your County account")
                await page.fill("input[name=login]", login)
                await page.fill("input[name=password]", "anything")
                await page.click("button[type=submit]")
                if await page.locator("text=Continue").count():
                    await page.click("text=Continue")
                await page.wait_for_url(f"{base}/staff/**")
                return page

            page = await through_provider("ana@lacounty.gov")
            assert page.url == f"{base}/staff/", (await page.inner_text("main"), await page.context.cookies())
            assert "Signed in as ana@lacounty.gov" in await page.inner_text("main")
            session = await StaffSession.get(staff__email="ana@lacounty.gov")
            assert session.method == "sso"
            assert await StaffAction.filter(action="staff.sign_in", detail="by sso").exists()

            refused = await through_provider("unverified:ana@lacounty.gov")
            assert "did not give a verified email" in await refused.inner_text("main")
            await check_accessibility(refused, "sso refused")
            stranger = await through_provider("stranger@example.org")
            assert "No staff account for you" in await stranger.inner_text("h1")
            assert await StaffSession.all().count() == 1
