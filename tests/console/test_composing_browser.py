"""End to end in Debian's Chromium: a sender signs in by the emailed link (read from the real SMTP
server), composes a campaign (errors next to the fields, the live count), previews each language,
sends a test to themself and submits it; an approver, signed in in a second browser context,
approves it; the campaign arrives at the SMTP server. axe-core checks every new page."""

from __future__ import annotations

import asyncio

import pytest

from bot.settings import Settings
from outreach.models import Campaign, CampaignStatus
from tests.console.support import make_staff
from tests.console.test_console_browser import chromium, new_page, serving, sign_in_by_email
from tests.mailserver import MailServer, free_port
from tests.outreach.people import person
from tests.web.support import text_of
from tests.web.test_browser import check_accessibility

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUDIENCE = ("en0@example.com", "en1@example.com", "es0@example.com")


def with_approval(settings: Settings) -> Settings:
    """Campaigns to more than two people need approval; the scheduler sweeps every half second."""
    return settings.model_copy(update={"approval_threshold": 2, "sweep_interval_seconds": 0.5})


async def test_compose_preview_approve_and_send_in_a_browser(
    smtp_settings: Settings, mail_server: MailServer
) -> None:
    settings = with_approval(smtp_settings)
    async with serving(settings, free_port(), run_scheduler=True) as base, chromium() as browser:
        await make_staff("sam@lacounty.gov", "sender", name="Sam Sender")
        await make_staff("ana@lacounty.gov", "approver", name="Ana Approver")
        await person("en0@example.com")
        await person("en1@example.com")
        await person("es0@example.com", language="es")

        author = await new_page(browser)
        await sign_in_by_email(author, base, mail_server, "sam@lacounty.gov")
        await author.click("nav >> text=Campaigns")
        await author.click("text=New campaign")
        assert await author.inner_text("h1") == "New campaign"
        assert "3 people" in await author.inner_text("#audience-count")
        await check_accessibility(author, "compose")

        # Nothing filled in: each problem is said next to its field.
        await author.click("button:text('Save as a draft')")
        assert (await author.title()).startswith("Error: ")
        assert "Give the campaign a name" in await author.inner_text("#name-error")
        assert "is not a campaign kind" in await author.inner_text("#kind-error")
        assert await author.get_attribute("#field-name", "aria-invalid") == "true"
        await check_accessibility(author, "compose with errors")

        await author.fill("#field-name", "January pilot update")
        await author.select_option("#field-kind", "pilot_update")
        await author.select_option("#field-template", "pilot_update")
        # The count follows the audience as it changes (htmx from our own static files).
        await author.check("label:text('Spanish')")
        await author.wait_for_function(
            "document.querySelector('#audience-count').innerText.includes('1 person')"
        )
        await author.uncheck("label:text('Spanish')")
        await author.wait_for_function(
            "document.querySelector('#audience-count').innerText.includes('3 people')"
        )
        await author.fill("#field-value-message", "Applications open on January 5.")
        await author.click("button:text('Save as a draft')")
        assert "tick “send the English text to Spanish readers”" in await author.inner_text(
            "#value-message_es-error"
        )
        await author.fill("#field-value-message_es", "Las solicitudes abren el 5 de enero.")
        await author.click("button:text('Save as a draft')")
        assert "Saved as a draft" in await author.inner_text("[role=status]")
        campaign_url = author.url.split("?")[0]
        campaign_id = int(campaign_url.rsplit("/", 1)[1])
        await check_accessibility(author, "campaign draft with previews")

        # The preview: each language's HTML in a sandboxed frame, and the text part.
        spanish = author.frame_locator("iframe[src$='/preview/es']")
        assert "Las solicitudes abren el 5 de enero." in await spanish.locator("body").inner_text()
        assert await author.get_attribute("iframe[src$='/preview/es']", "sandbox") == ""
        english = author.frame_locator("iframe[src$='/preview/en']")
        assert "Applications open on January 5." in await english.locator("body").inner_text()

        await author.select_option("#field-language", "es")
        await author.click("button:text('Send me a test')")
        assert "A test went to sam@lacounty.gov" in await author.inner_text("[role=status]")
        [test] = mail_server.handler.messages_to("sam@lacounty.gov")[1:]
        assert test.message["Subject"].startswith("[TEST] ")
        assert "Las solicitudes abren" in text_of(test.message)

        await author.click("button:text('Submit')")
        assert "a second person with the approver role must approve it" in await author.inner_text(
            "[role=status]"
        )
        assert "Approve and schedule" not in await author.inner_text("main")  # not their own
        await check_accessibility(author, "campaign awaiting approval")

        # A second staff member, in a browser context of their own, approves it.
        approver = await new_page(browser)
        await sign_in_by_email(approver, base, mail_server, "ana@lacounty.gov")
        await approver.goto(campaign_url)
        assert "Waiting for a second person" in await approver.inner_text("main")
        await check_accessibility(approver, "campaign to approve")
        await approver.click("button:text('Approve and schedule')")
        assert "Approved" in await approver.inner_text("[role=status]")

        # It arrives at the SMTP server: each person once, in their language.
        for _ in range(600):
            if all(mail_server.handler.messages_to(address) for address in AUDIENCE):
                break
            await asyncio.sleep(0.05)
        for address in AUDIENCE:
            [received] = mail_server.handler.messages_to(address)
            expected = "Las solicitudes abren" if address.startswith("es") else "Applications open"
            assert expected in text_of(received.message), address
        await author.goto(campaign_url)
        campaign = await Campaign.get(id=campaign_id)
        assert campaign.approved_by == "ana@lacounty.gov"
        assert campaign.status in (CampaignStatus.SENDING, CampaignStatus.FINISHED)
        await check_accessibility(author, "campaign sending")
