"""The shipped campaign templates: complete in both languages, and inert to what people type."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from markupsafe import escape

from bot.runtime import build_runtime, message_options
from bot.settings import Settings
from outreach.campaigns import CampaignError, check_template_renders, message_context
from outreach.messages import MessageBuilder, Recipient
from outreach.models import Campaign, CampaignKind
from outreach.rendering import EMAIL_TEMPLATES_DIR, EmailTemplates
from subscribers.models import Role

MEETING = {"meeting_when": "Tuesday, December 8, 2026, 10:00 a.m.", "meeting_where": "Online (Zoom)"}
VALUES = {kind: MEETING if kind == CampaignKind.WORKING_GROUP_NOTICE else {} for kind in CampaignKind}
HOSTILE = ["<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", '"><img src=x onerror=alert(1)>']


@pytest.fixture
def builder(settings: Settings) -> MessageBuilder:
    return build_runtime(settings).builder


def _render(
    builder: MessageBuilder,
    kind: str,
    language: str,
    *,
    name: str = "Ana",
    role: str = "manufacturer",
    values: dict | None = None,
    organization: str = "Costura LA",
):
    campaign = Campaign(kind=kind, template=kind, context=VALUES[kind] if values is None else values)
    recipient = Recipient(
        address="ana@example.com",
        subscriber_id=7,
        name=name,
        organization=organization,
        role=role,
        language=language,
    )
    links = builder.links(recipient, delivery_id=11)
    context = builder.context(recipient, links, message_context(campaign, language))
    return builder.templates.render(kind, language, context)


def test_a_template_ships_for_every_kind_in_english_and_spanish(builder: MessageBuilder) -> None:
    for kind in CampaignKind:
        assert builder.templates.languages(kind.value) == ["en", "es"]
        assert check_template_renders(builder, kind.value, kind.value, VALUES[kind]) == []


@pytest.mark.parametrize("kind", list(CampaignKind))
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_template_renders_for_every_role_and_language(
    builder: MessageBuilder, kind: CampaignKind, language: str, role: str
) -> None:
    rendered = _render(builder, kind.value, language, role=role)
    assert rendered.subject and "\n" not in rendered.subject
    for part in (rendered.text, rendered.html):
        assert "510 S. Vermont Ave." in part  # postal address in the footer
        assert "/unsubscribe/" in part and "/preferences/" in part
        assert ("Recibe este correo porque" if language == "es" else "You get this email because") in part
    greeting = "Hola Ana:" if language == "es" else "Hello Ana,"
    assert greeting in rendered.text
    assert f'<html lang="{language}">' in rendered.html


def test_each_kind_says_why_the_person_gets_it(builder: MessageBuilder) -> None:
    reasons = {kind: _render(builder, kind.value, "en").text for kind in CampaignKind}
    assert "asked for updates on the Made in Los Angeles pilot" in reasons[CampaignKind.PILOT_UPDATE]
    assert "tell you when businesses can apply" in reasons[CampaignKind.APPLICATION_INVITATION]
    assert "stakeholder working group" in reasons[CampaignKind.WORKING_GROUP_NOTICE]


def test_the_content_is_the_pilots(builder: MessageBuilder) -> None:
    update = _render(builder, "pilot_update", "en").text
    assert "May 5, 2026" in update and "September 2, 2026" in update
    actualizacion = _render(builder, "pilot_update", "es").text
    assert "5 de mayo de 2026" in actualizacion and "2 de septiembre de 2026" in actualizacion
    invitation = _render(builder, "application_invitation", "es")
    assert (
        "http://testserver/apply/" in invitation.text and 'href="http://testserver/apply/' in invitation.html
    )
    assert "Costura LA" in invitation.text
    notice = _render(builder, "working_group_notice", "es")
    assert "Tuesday, December 8, 2026" in notice.subject  # no Spanish value given: the English one
    spanish = _render(
        builder, "working_group_notice", "es", values={**MEETING, "meeting_when_es": "martes 8 de diciembre"}
    )
    assert (
        spanish.subject.endswith("martes 8 de diciembre") and "Cuándo: martes 8 de diciembre" in spanish.text
    )


def test_no_organization_reads_naturally(builder: MessageBuilder) -> None:
    assert (
        "we invite your business to apply"
        in _render(builder, "application_invitation", "en", organization="").text
    )
    assert (
        "la solicitud de su empresa" in _render(builder, "application_invitation", "es", organization="").text
    )


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("kind", list(CampaignKind))
def test_what_people_typed_stays_inert(builder: MessageBuilder, kind: CampaignKind, hostile: str) -> None:
    values = (
        {**VALUES[kind], "message": hostile}
        if kind != CampaignKind.WORKING_GROUP_NOTICE
        else {
            "meeting_when": hostile,
            "meeting_where": hostile,
            "message": hostile,
        }
    )
    rendered = _render(builder, kind.value, "en", name=hostile, organization=hostile, values=values)
    assert "<script>" not in rendered.html and "<img" not in rendered.html
    assert f"Hello {hostile}," in rendered.text  # plain text shows it as typed, nothing evaluated
    assert f"Hello {escape(hostile)}," in rendered.html  # HTML shows it escaped
    assert "Hello 49" not in rendered.text + rendered.html


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "email"
    shutil.copytree(EMAIL_TEMPLATES_DIR, folder)
    return folder


def test_a_staff_template_cannot_reach_python(settings: Settings, tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    evil = folder / "evil" / "en"
    evil.mkdir(parents=True)
    (evil / "subject.txt").write_text("Hi")
    (evil / "body.txt").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (evil / "body.html").write_text("<p>hi</p>")
    runtime = build_runtime(settings)
    builder = MessageBuilder(message_options(settings), EmailTemplates(folder), runtime.signer)
    with pytest.raises(CampaignError, match="does not render: SecurityError"):
        check_template_renders(builder, "evil", "pilot_update", {})


def test_a_template_missing_spanish_is_reported(settings: Settings, tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    shutil.rmtree(folder / "pilot_update" / "es")
    runtime = build_runtime(settings)
    builder = MessageBuilder(message_options(settings), EmailTemplates(folder), runtime.signer)
    assert check_template_renders(builder, "pilot_update", "pilot_update", {}) == ["es"]
