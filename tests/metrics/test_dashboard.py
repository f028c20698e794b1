"""The dashboard at /staff/: headlines, charts (SVG images) with their tables, the period form,
the report downloads; the same figures as the CLI's JSON; axe-clean in Debian's Chromium."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document

from bot.settings import Settings
from outreach.metrics import collect, figures_to_json
from tests.console.conftest import SignedInClient
from tests.console.support import make_staff
from tests.console.test_console_browser import chromium, new_page, serving, sign_in_by_email
from tests.mailserver import MailServer, free_port
from tests.metrics.dataset import PERIOD, make_dataset
from tests.web.test_browser import check_accessibility

QUERY = "from=2026-11-02&to=2026-11-15&by=week"


async def test_dashboard_shows_the_figures_and_downloads_the_report(signed_in: SignedInClient) -> None:
    ids = await make_dataset()
    client = await signed_in("viewer@lacounty.gov", "viewer")
    page = await client.get(f"/staff/?{QUERY}")
    assert page.status_code == 200, page.text
    text = " ".join(page.text.split())
    assert '<th scope="row">Sign-ups</th><td class="number">8</td>' in text.replace("> <", "><")
    flat = text.replace("> <", "><")
    submitted = '<th scope="row">Applications submitted</th><td class="number">4</td><td class="number">1'
    assert submitted in flat
    assert '<th scope="row">Qualified (joined the pool)</th><td class="number">2</td>' in flat
    assert '<th scope="row">315 Clothing and apparel</th><td class="number">2</td>' in flat
    assert "8 sign-ups from November 2, 2026 to November 15, 2026, 38% of them manufacturers" in text
    for key in ("signups", "funnel", "pool", "sectors", "deliveries"):
        assert f'src="/staff/charts/{key}.svg?' in page.text
        image = await client.get(f"/staff/charts/{key}.svg?{QUERY}")
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in image.content
    assert f"#{ids['invitation']} application_invitation subject" in page.text

    # The figures agree with the JSON the CLI prints (both come from outreach.metrics.collect).
    download = await client.get(f"/staff/report?{QUERY}&format=json")
    expected = figures_to_json(await collect(PERIOD))
    got = json.loads(download.text)
    for section in ("interest", "outreach", "working_group", "applications"):
        assert got[section] == expected[section]
    docx = await client.get(f"/staff/report?{QUERY}&format=docx")
    assert docx.headers["content-disposition"] == (
        'attachment; filename="made-in-la-report-2026-11-02-to-2026-11-15.docx"'
    )
    cells = [[c.text for c in r.cells] for t in Document(io.BytesIO(docx.content)).tables for r in t.rows]
    assert ["Sign-ups", "8"] in cells


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-11-31", "The start date must be a date written YYYY-MM-DD"),
        ("from=2026-11-10&to=2026-11-01", "before it starts"),
        ("by=fortnight", "Group by week or month"),
    ],
)
async def test_a_bad_period_is_explained_on_the_page(
    signed_in: SignedInClient, query: str, message: str
) -> None:
    client = await signed_in("viewer@lacounty.gov", "viewer")
    page = await client.get(f"/staff/?{query}")
    assert page.status_code == 400
    assert message in page.text
    assert (await client.get(f"/staff/report?{query}")).status_code == 400
    assert (await client.get(f"/staff/charts/signups.svg?{query}")).status_code == 400


async def test_unknown_chart_or_format(signed_in: SignedInClient) -> None:
    client = await signed_in("viewer@lacounty.gov", "viewer")
    assert (await client.get("/staff/charts/nope.svg")).status_code == 404
    assert (await client.get("/staff/report?format=exe")).status_code == 400


@pytest.mark.browser
@pytest.mark.slow
async def test_dashboard_in_a_browser_is_accessible(smtp_settings: Settings, mail_server: MailServer) -> None:
    async with serving(smtp_settings, free_port()) as base, chromium() as browser:
        await make_dataset()
        await make_staff("viewer@lacounty.gov", "viewer")
        page = await new_page(browser)
        await sign_in_by_email(page, base, mail_server, "viewer@lacounty.gov")
        await page.goto(f"{base}/staff/?{QUERY}")
        for image in await page.query_selector_all("img.chart"):
            assert await image.evaluate("i => i.complete && i.naturalWidth > 0")
        await check_accessibility(page, "dashboard")
        await page.fill("#field-from", "2026-02-30")
        await page.click("form[aria-label=Period] button[type=submit]")
        assert "must be a date" in await page.inner_text("main")
        await check_accessibility(page, "dashboard with a bad period")
