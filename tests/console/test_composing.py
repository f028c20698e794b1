"""Composing and approving campaigns in the console: the form's checks next to each field, the
live count, previews, a test to yourself, submitting, approval by a second person, and what each
role is refused."""

from __future__ import annotations

import re

import pytest

from bot.settings import Settings
from outreach.models import Campaign, CampaignStatus
from subscribers.staff_models import StaffAction
from tests.console.conftest import SignedInClient
from tests.console.support import post_form
from tests.mailserver import MailServer
from tests.outreach.people import person
from tests.web.support import csrf_token

FORM = {
    "name": "January pilot update",
    "kind": "pilot_update",
    "template": "pilot_update",
    "role": "manufacturer",
    "value-message": "Applications open on January 5.",
    "value-message_es": "Las solicitudes abren el 5 de enero.",
    "when": "at",
    "send_at": "2099-01-12T09:00",
}


@pytest.fixture
def smtp_settings(smtp_settings: Settings) -> Settings:
    """Campaigns to more than two people need approval here."""
    return smtp_settings.model_copy(update={"approval_threshold": 2})


async def _people() -> None:
    for i in range(3):
        await person(f"en{i}@example.com")
    await person("es0@example.com", language="es")


async def _draft(client, form: dict[str, str] | None = None) -> int:  # type: ignore[no-untyped-def]
    saved = await post_form(client, "/staff/campaigns/new", "/staff/campaigns/new", form or FORM)
    assert saved.status_code == 303, saved.text
    match = re.fullmatch(r"/staff/campaigns/(\d+)(\?.*)?", saved.headers["location"])
    assert match, saved.headers["location"]
    return int(match.group(1))


async def test_compose_preview_submit_and_approve(signed_in: SignedInClient, mail_server: MailServer) -> None:
    await _people()
    editor = await signed_in("ed@lacounty.gov", "editor")
    form = await editor.get("/staff/campaigns/new")
    assert form.status_code == 200
    assert "4 people</strong> right now" in form.text and "3 in English, 1 in Spanish" in form.text

    campaign_id = await _draft(editor)
    campaign = await Campaign.get(id=campaign_id)
    assert campaign.status == CampaignStatus.DRAFT and campaign.name == "January pilot update"
    page = await editor.get(f"/staff/campaigns/{campaign_id}")
    assert "Las solicitudes abren el 5 de enero." in page.text  # the Spanish text part
    assert f'src="/staff/campaigns/{campaign_id}/preview/es" sandbox=""' in page.text
    html = await editor.get(f"/staff/campaigns/{campaign_id}/preview/es")
    assert html.status_code == 200 and "Las solicitudes abren" in html.text
    assert html.headers["content-security-policy"].startswith("sandbox;")

    tested = await post_form(
        editor, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/test", {"language": "es"}
    )
    assert tested.status_code == 303
    [test] = mail_server.handler.messages_to("ed@lacounty.gov")[-1:]
    assert test.message["Subject"].startswith("[TEST] ")

    # An editor drafts; sending needs the sender role.
    refused = await post_form(
        editor, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/submit", {}
    )
    assert refused.status_code == 403 and "needs the sender role" in refused.text

    sender = await signed_in("se@lacounty.gov", "approver")  # approver includes sender
    submitted = await post_form(
        sender, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/submit", {}
    )
    assert submitted.status_code == 303
    campaign = await Campaign.get(id=campaign_id)
    assert campaign.status == CampaignStatus.AWAITING_APPROVAL and campaign.audience_size == 4

    own = await post_form(
        sender, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/approve", {}
    )
    assert own.status_code == 403 and "someone else must approve it" in own.text
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.AWAITING_APPROVAL

    approver = await signed_in("ap@lacounty.gov", "approver")
    approved = await post_form(
        approver, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/approve", {}
    )
    assert approved.status_code == 303
    campaign = await Campaign.get(id=campaign_id)
    assert campaign.status == CampaignStatus.SCHEDULED and campaign.approved_by == "ap@lacounty.gov"
    actions = await StaffAction.filter(campaign_id=campaign_id).order_by("id").values_list("action", "actor")
    assert actions == [
        ("campaign.draft", "ed@lacounty.gov"),
        ("campaign.submit", "se@lacounty.gov"),
        ("campaign.approve.refused", "se@lacounty.gov"),  # their own: refused, and recorded
        ("campaign.approve", "ap@lacounty.gov"),
    ]

    # Any change after approval sends it back to draft, approval and all.
    changed = await post_form(
        editor,
        f"/staff/campaigns/{campaign_id}/edit",
        f"/staff/campaigns/{campaign_id}/edit",
        {**FORM, "send_at": "2099-01-13T09:00"},
    )
    assert changed.status_code == 303
    campaign = await Campaign.get(id=campaign_id)
    assert (
        campaign.status == CampaignStatus.DRAFT
        and campaign.approved_by == ""
        and campaign.approved_at is None
    )


async def test_the_form_says_what_is_wrong_next_to_the_field(signed_in: SignedInClient) -> None:
    editor = await signed_in("ed@lacounty.gov", "editor")
    bad = {
        **FORM,
        "name": " ",
        "kind": "application_invitation",
        "template": "confirm",
        "zip": "9002",
        "value-message_es": "",
    }
    answer = await post_form(editor, "/staff/campaigns/new", "/staff/campaigns/new", bad)
    assert answer.status_code == 400
    assert await Campaign.all().count() == 0
    assert 'id="name-error"' in answer.text and "Give the campaign a name" in answer.text
    assert 'id="zip-error"' in answer.text and "zip=9002 is not a 5-digit ZIP code" in answer.text
    assert 'id="value-message_es-error"' in answer.text
    assert "tick “send the English text to Spanish readers”" in answer.text
    # What was typed is kept.
    assert "Applications open on January 5." in answer.text

    # Only English for an English-only audience is fine; the template must fit the kind.
    wrong_template = {**FORM, "kind": "application_invitation", "template": "pilot_update"}
    answer = await post_form(editor, "/staff/campaigns/new", "/staff/campaigns/new", wrong_template)
    assert answer.status_code == 400 and 'id="template-error"' in answer.text
    assert "has no invitation link" in answer.text
    english_only = {**FORM, "language": "en", "value-message_es": ""}
    assert (
        await post_form(editor, "/staff/campaigns/new", "/staff/campaigns/new", english_only)
    ).status_code == 303
    ticked = {**FORM, "value-message_es": "", "english_for_spanish": "yes"}
    assert (
        await post_form(editor, "/staff/campaigns/new", "/staff/campaigns/new", ticked)
    ).status_code == 303


async def test_the_count_refreshes_with_and_without_script(signed_in: SignedInClient) -> None:
    await _people()
    editor = await signed_in("ed@lacounty.gov", "editor")
    fragment = await editor.get(
        "/staff/campaigns/audience-count",
        params={"kind": "pilot_update", "language": "es"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in fragment.text and "1 person</strong>" in fragment.text
    page = await editor.get("/staff/campaigns/new", params={"name": "Kept", "language": "en", "count": "1"})
    assert "3 people</strong>" in page.text and 'value="Kept"' in page.text


async def test_roles_and_forms_refused(signed_in: SignedInClient) -> None:
    await _people()
    editor = await signed_in("ed@lacounty.gov", "editor")
    campaign_id = await _draft(editor)
    viewer = await signed_in("vi@lacounty.gov", "viewer")
    for path in (
        "/staff/campaigns/new",
        f"/staff/campaigns/{campaign_id}/edit",
        "/staff/campaigns/audience-count",
    ):
        refused = await viewer.get(path)
        assert refused.status_code == 403 and "needs the editor role" in refused.text, path
    page = await viewer.get(f"/staff/campaigns/{campaign_id}")
    token = csrf_token(page.text)
    for verb, role in (
        ("test", "editor"),
        ("submit", "sender"),
        ("approve", "approver"),
        ("reject", "approver"),
    ):
        refused = await viewer.post(f"/staff/campaigns/{campaign_id}/{verb}", data={"csrf_token": token})
        assert refused.status_code == 403 and f"needs the {role} role" in refused.text, verb
    sender = await signed_in("se@lacounty.gov", "sender")
    page = await sender.get(f"/staff/campaigns/{campaign_id}")
    missing = await sender.post(f"/staff/campaigns/{campaign_id}/submit", data={"anything": "x"})
    forged = await sender.post(f"/staff/campaigns/{campaign_id}/submit", data={"csrf_token": "forged"})
    assert missing.status_code == forged.status_code == 403 and "Your form expired" in forged.text
    assert (await Campaign.get(id=campaign_id)).status == CampaignStatus.DRAFT
    refused = await post_form(
        sender, f"/staff/campaigns/{campaign_id}", f"/staff/campaigns/{campaign_id}/approve", {}
    )
    assert refused.status_code == 403 and "needs the approver role" in refused.text


async def test_a_started_campaign_cannot_be_changed(signed_in: SignedInClient) -> None:
    started = await Campaign.create(
        name="Sending", kind="pilot_update", template="pilot_update", status="sending"
    )
    editor = await signed_in("ed@lacounty.gov", "editor")
    page = await editor.get(f"/staff/campaigns/{started.id}/edit")
    assert page.status_code == 409 and "only a draft, or one not yet started, can be changed" in page.text
    missing = await editor.get("/staff/campaigns/987654/edit")
    assert missing.status_code == 404


async def test_values_made_elsewhere_are_kept_when_changed_here(signed_in: SignedInClient) -> None:
    editor = await signed_in("ed@lacounty.gov", "editor")
    campaign_id = await _draft(
        editor, {**FORM, "value-venue": "Hall of Administration", "value-venue_es": "Sala"}
    )
    page = await editor.get(f"/staff/campaigns/{campaign_id}/edit")
    assert 'id="field-value-venue"' in page.text and "Hall of Administration" in page.text
    changed = await post_form(
        editor,
        f"/staff/campaigns/{campaign_id}/edit",
        f"/staff/campaigns/{campaign_id}/edit",
        {**FORM, "name": "Renamed", "value-venue": "Hall of Administration", "value-venue_es": "Sala"},
    )
    assert changed.status_code == 303
    campaign = await Campaign.get(id=campaign_id)
    assert campaign.name == "Renamed" and campaign.context["venue_es"] == "Sala"
