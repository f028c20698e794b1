"""The bot in Spanish: by Slack language or by a Spanish subcommand; help words; "did you mean"."""

from __future__ import annotations

import pytest

from outreach.models import CampaignStatus
from subscribers.models import Status, Subscriber
from tests.slack.conftest import MEMBER, STAFF, SignedSlack
from tests.slack.fakeslack import FakeSlack
from tests.slack.test_slack_campaigns import sending_campaign

ROSA = "UROSA"  # Slack set to Spanish


@pytest.fixture(autouse=True)
def spanish_member(fake_slack: FakeSlack) -> None:
    fake_slack.add_user(ROSA, "rosa@example.com", "Rosa Costura", locale="es-LA")


def locale_lookups(fake_slack: FakeSlack, user: str) -> int:
    return sum(
        1
        for call in fake_slack.calls_to("users.info")
        if call.get("user") == user and call.get("include_locale")
    )


async def test_a_member_whose_slack_is_spanish_gets_spanish_and_slack_is_asked_once(
    slack: SignedSlack, fake_slack: FakeSlack
):
    text = await slack.reply("help", user=ROSA)
    assert text.startswith("*/madeinla* responde preguntas")
    assert "`/madeinla elegible" in text and "`/madeinla buscar" in text
    text = await slack.reply("eligible zip=90021 employees=12", user=ROSA)
    assert text.startswith("*Evaluación de elegibilidad* de `zip=90021 employees=12`")
    assert "LSBE (pequeña empresa local): requiere revisión" in text
    assert "Piloto Made in LA (reglas propuestas): requiere revisión" in text
    assert "Próximos pasos:" in text and "Reglas vigentes al " in text
    assert "Los motivos de cada requisito están en inglés" in text
    assert locale_lookups(fake_slack, ROSA) == 1  # remembered for the second command


async def test_an_english_member_gets_english(slack: SignedSlack, fake_slack: FakeSlack):
    assert (await slack.reply("help", user=MEMBER)).startswith("*/madeinla* answers questions")
    assert locale_lookups(fake_slack, MEMBER) == 1


async def test_slack_not_answering_the_language_question_means_english(
    slack: SignedSlack, fake_slack: FakeSlack
):
    fake_slack.fail("users.info", "ratelimited")
    text = await slack.reply("eligible zip=90021", user=ROSA)
    assert text.startswith("*Eligibility screening*")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ayuda", "*/madeinla* responde preguntas"),
        ("ayuda elegible", "*`/madeinla elegible CLAVE=VALOR ...`*"),
        ("elegible ayuda", "*`/madeinla elegible CLAVE=VALOR ...`*"),
        ("elegible zip=90021 employees=12", "*Evaluación de elegibilidad* de `zip=90021 employees=12`"),
        ("estado", "*Piloto Made in LA*"),
        (
            "buscar uniformes",
            "No qualified manufacturer in the pool makes “uniformes” yet.",
        ),  # the pool's list
        ("preferencia lowest=100000 bid=112000", "*Preferencia LSBE en la licitación* de"),
        ("elegible zip=9002", ":warning: "),
    ],
)
async def test_spanish_subcommands_work_and_answer_in_spanish(slack: SignedSlack, typed: str, expected: str):
    text = await slack.reply(typed, user=MEMBER)  # an English Slack: the word decides
    assert text.startswith(expected) or expected in text, text


async def test_spanish_status_has_spanish_headings(slack: SignedSlack):
    text = await slack.reply("estado", user=MEMBER)
    for heading in ("*Suscriptores*", "Total activos:", "*Perfiles de fabricantes*", "*Campañas*"):
        assert heading in text


async def test_suscribir_subscribes_in_spanish(slack: SignedSlack):
    text = await slack.reply("suscribir", user=ROSA)
    assert text.startswith("Está en la lista del grupo de trabajo de Made in LA con rosa@example.com")
    person = await Subscriber.get(email="rosa@example.com")
    assert person.status == Status.ACTIVE
    assert (await slack.reply("desuscribir", user=ROSA)).startswith("Listo: no volveremos a escribir")


async def test_staff_pause_in_spanish(slack: SignedSlack):
    campaign = await sending_campaign()
    text = await slack.reply(f"campañas pausar {campaign.id} lista equivocada", user=STAFF)
    assert text.startswith(f"Paused #{campaign.id}")  # campaign lines are staff wording, in English
    await campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    refused = await slack.reply(f"campañas reanudar {campaign.id}", user=ROSA)
    assert refused == "Lo sentimos, solo el personal del DEO puede pausar o reanudar campañas."


@pytest.mark.parametrize(
    ("typed", "user", "suggestion"),
    [
        ("eligable zip=90021", MEMBER, "Did you mean `eligible`?"),
        ("stauts", MEMBER, "Did you mean `status`?"),
        ("subscibe", MEMBER, "Did you mean `subscribe`?"),
        ("elegibel zip=90021", ROSA, "¿Quiso decir `elegible`?"),
        ("estdo", ROSA, "¿Quiso decir `estado`?"),
        ("suscirbir", ROSA, "¿Quiso decir `suscribir`?"),
    ],
)
async def test_a_mistyped_subcommand_gets_did_you_mean(
    slack: SignedSlack, typed: str, user: str, suggestion: str
):
    text = await slack.reply(typed, user=user)
    first = text.partition("\n\n")[0]
    assert first.startswith(":warning:") and suggestion in first


async def test_nothing_close_gets_no_suggestion(slack: SignedSlack):
    first = (await slack.reply("frobnicate")).partition("\n\n")[0]
    assert "Did you mean" not in first


@pytest.mark.parametrize("typed", ["check help", "eligible help", "eligible ?", "check HELP", "help check"])
async def test_help_words_after_eligible_show_its_help(slack: SignedSlack, typed: str):
    text = await slack.reply(typed)
    assert text.startswith("*`/madeinla eligible KEY=VALUE ...`*")
    assert ":warning:" not in text


async def test_preference_help(slack: SignedSlack):
    assert (await slack.reply("preference help")).startswith("*`/madeinla preference KEY=VALUE ...`*")


async def test_spanish_unknown_answers(slack: SignedSlack):
    text = await slack.reply('elegible zip=90021 manufacturer="no sé"', user=ROSA)
    assert text.startswith("*Evaluación de elegibilidad*"), text


async def test_apparel_naics_counts_as_garment_work_without_asking(slack: SignedSlack):
    text = await slack.reply("eligible zip=90021 naics=315250")
    assert "Add garment=yes or no" not in text
    assert "Garment work: not told whether it holds a current Labor Commissioner registration" in text
