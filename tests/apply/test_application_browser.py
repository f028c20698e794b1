"""The application and its review in Debian's Chromium (Playwright), without JavaScript on our
side: a Spanish applicant on a 320-pixel phone asks for the link, fills in the form, meets errors,
saves, submits and reads the result; a staff editor at desktop width reads the queue and the
application, qualifies it, and searches the pool. axe-core checks every page (no serious or
critical violations) and no page scrolls sideways on the phone."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page

from bot.settings import Settings
from subscribers.application_models import Application, ApplicationStatus
from tests.apply.support import answers
from tests.console.support import make_staff
from tests.console.test_console_browser import chromium, new_page, serving, sign_in_by_email
from tests.mailserver import MailServer, free_port
from tests.web.support import text_of
from tests.web.test_browser import check_accessibility

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 320, "height": 640}
CHOICES = (
    "revenue_band",
    "cert_ca_sb",
    "cert_lsbe",
    "garment_work",
    "hourly_wage",
    "wage_judgments",
    "debarred",
)


async def fits(page: Page, label: str, *, phone: bool = True) -> None:
    if phone:
        extra = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert extra <= 0, f"{label}: {extra} px wider than the screen"
    await check_accessibility(page, label)


async def link_to(server: MailServer, email: str, base: str) -> str:
    for _ in range(500):
        mine = server.handler.messages_to(email)
        if mine:
            found = re.search(rf"{re.escape(base)}/application/[A-Za-z0-9._-]+", text_of(mine[0].message))
            assert found
            return found.group(0)
        await asyncio.sleep(0.02)
    raise AssertionError("no application link")


async def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        if name in CHOICES:
            await page.check(f"input[name={name}][value='{value}']")
        elif name == "category":
            await page.select_option("#field-category", value)
        elif name == "consent":
            if value == "yes":
                await page.check("#field-consent")
        else:
            await page.fill(f"#field-{name}", value)


async def test_apply_on_a_phone_then_review_at_a_desk(
    smtp_settings: Settings, mail_server: MailServer
) -> None:
    async with serving(smtp_settings, free_port()) as base, chromium() as browser:
        # JavaScript stays on only for axe-core: our pages carry no script (their CSP allows none).
        context = await browser.new_context(viewport=PHONE, bypass_csp=True)
        page = await context.new_page()
        page.set_default_timeout(15_000)

        await page.goto(f"{base}/apply?lang=es")
        await fits(page, "apply start (es)")
        await page.click("#submit")  # nothing typed
        assert "Escriba su correo electrónico" in await page.inner_text("#email-error")
        await fits(page, "apply start with an error (es)")
        await page.fill("#field-email", "rosa@example.com")
        await page.check("input[name=language][value=es]")
        await page.click("#submit")
        assert "Revise su correo" in await page.inner_text("h1")
        await fits(page, "apply: check your email (es)")

        await page.goto(await link_to(mail_server, "rosa@example.com", base) + "?lang=es")
        await fits(page, "application form (es)")
        wanted = answers(contact_email="rosa@example.com", legal_name="Costura Rosa")
        await fill(page, {**wanted, "principal_zip": "9002", "consent": ""})
        await page.click("#submit")
        assert "Escriba el código postal con 5 dígitos" in await page.inner_text("#principal_zip-error")
        await fits(page, "application with errors (es)")
        await page.fill("#field-principal_zip", "90021")
        await page.click("#save")
        assert "Sus respuestas están guardadas" in await page.inner_text("main")
        await fits(page, "application saved (es)")
        await page.check("#field-consent")
        await page.click("#submit")
        assert "Solicitud enviada" in await page.inner_text("h1")
        assert "El Condado de Los Ángeles decide" in await page.inner_text("main")
        await fits(page, "application submitted (es)")
        application = await Application.get(email="rosa@example.com")
        assert application.status == ApplicationStatus.SUBMITTED
        assert application.answers["legal_name"] == "Costura Rosa"

        # Staff at a desk: the queue, the application, a decision, the pool and the products list.
        await make_staff("maria@lacounty.gov", "editor")
        desk = await new_page(browser)
        await sign_in_by_email(desk, base, mail_server, "maria@lacounty.gov")
        await desk.goto(f"{base}/staff/applications")
        assert "Costura Rosa" in await desk.inner_text("main")
        await fits(desk, "applications queue", phone=False)
        await desk.click("text=#" + str(application.id))
        await fits(desk, "application page", phone=False)
        await desk.check("input[name=decision][value=qualify]")
        await desk.click("text=Record the decision")
        assert "Qualified" in await desk.inner_text("main")
        await fits(desk, "application qualified", phone=False)
        await desk.goto(f"{base}/staff/pool?q=camisetas&interested=yes")
        assert "Costura Rosa" in await desk.inner_text("main")
        await fits(desk, "pool search", phone=False)
        await desk.goto(f"{base}/staff/pool/products")
        assert "Clothing and apparel" in await desk.inner_text("main")
        await fits(desk, "products list", phone=False)

        # The applicant's link now shows where things stand, on the phone and at a desk.
        await page.reload()
        await fits(page, "application status, qualified (es)")
        await desk.goto(await link_to(mail_server, "rosa@example.com", base) + "?lang=en")
        assert "qualified" in await desk.inner_text("main")
        await fits(desk, "application status (en, desktop)", phone=False)
