"""The words people read: Spanish pages and emails entirely in Spanish and without a gender for the
reader, and US English throughout the English ones."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from bot.web.i18n import EN, ES
from outreach.application_mail import REASONS as APPLICATION_REASONS
from outreach.campaigns import REASONS as CAMPAIGN_REASONS
from outreach.messages import REASONS
from subscribers.signup import CONSENT_WORDING
from tests.mailserver import MailServer
from tests.web.support import submit_signup, text_of, wait_for_mail

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def words_in(language: str) -> dict[str, str]:
    """Every text a person can read in `language`: page texts, page content, email templates."""
    found = {f"i18n:{key}": value for key, value in (ES if language == "es" else EN).items()}
    found["application reason"] = APPLICATION_REASONS[language]  # the application's texts are in EN/ES
    found["consent"] = CONSENT_WORDING[language]
    found["email reason"] = REASONS[language]
    found |= {f"campaign reason:{kind}": texts[language] for kind, texts in CAMPAIGN_REASONS.items()}
    for path in sorted((TEMPLATES / "web" / "content" / language).glob("*.html")):
        found[str(path.relative_to(ROOT))] = path.read_text()
    for path in sorted(TEMPLATES.glob(f"email/*/{language}/*")):
        found[str(path.relative_to(ROOT))] = path.read_text()
    for path in sorted(TEMPLATES.glob("email/_layout.*")):
        found[str(path.relative_to(ROOT))] = path.read_text()
    return found


# Adjectives and nouns that give the reader a gender ("Ya está inscrito"). Plurals describing other
# people ("personas inscritas") agree with their noun and are fine.
GENDERED = re.compile(
    r"\b(inscrit[oa]|suscrit[oa]|registrad[oa]|dueñ[oa]|interesad[oa]|bienvenid[oa]|invitad[oa]|"
    r"seguro de|segura de|list[oa] para|informad[oa]|obligad[oa])\b",
    re.IGNORECASE,
)


def test_spanish_never_gives_the_reader_a_gender() -> None:
    found = {where: GENDERED.findall(text) for where, text in words_in("es").items() if GENDERED.search(text)}
    assert not found, found


# British spellings and words, as whole words; American English is the pilot's language.
BRITISH = re.compile(
    r"\b(tick|ticked|organis\w*|colour\w*|centre\w*|licence|programme\w*|enrol|enrolment|whilst|"
    r"favour\w*|behaviour\w*|cancelled|cancelling|travell\w*|labour|catalogue|realis\w*|recognis\w*|"
    r"apologis\w*|postcode|post code|mobile phone|fulfil|amongst|learnt|spelt|judgement|cheque|"
    r"per cent|fortnight|maths|analys(?:e|ed|ing)|practise|defence|offence|grey|storey|minimis\w*|"
    r"optimis\w*|authoris\w*|summaris\w*|prioritis\w*|customis\w*|utilis\w*|emphasis(?:e|ed|ing))\b",
    re.IGNORECASE,
)


def test_english_is_american_english() -> None:
    found = {where: BRITISH.findall(text) for where, text in words_in("en").items() if BRITISH.search(text)}
    assert not found, found


def footer_of(html: str) -> str:
    return html[html.index("<footer") : html.index("</footer>")]


async def test_spanish_pages_and_emails_give_the_postal_address_in_spanish(
    client: httpx.AsyncClient, mail_server: MailServer
) -> None:
    spanish = footer_of((await client.get("/?lang=es")).text)
    assert "Departamento de Oportunidades Económicas del Condado de Los Ángeles" in spanish
    assert "Department of Economic Opportunity" not in spanish
    english = footer_of((await client.get("/?lang=en")).text)
    assert "Los Angeles County Department of Economic Opportunity" in english
    await submit_signup(client, lang="es", email="ana@example.com", language="es")
    [message] = await wait_for_mail(mail_server, 1)
    assert "Departamento de Oportunidades Económicas del Condado de Los Ángeles" in text_of(message)
    assert "Department of Economic Opportunity" not in text_of(message)


def test_a_postal_address_set_by_staff_is_used_in_spanish_unless_it_has_a_spanish_form() -> None:
    from bot.settings import load_settings

    custom = load_settings(postal_address="DEO, 1 Main St., Los Angeles, CA 90012")
    assert custom.postal_address_for("es") == "DEO, 1 Main St., Los Angeles, CA 90012"
    both = load_settings(
        postal_address="DEO, 1 Main St., Los Angeles, CA 90012",
        postal_address_es="DEO (Departamento de Oportunidades Económicas), 1 Main St., Los Angeles, CA 90012",
    )
    assert both.postal_address_for("es").startswith("DEO (Departamento")
    assert both.postal_address_for("en") == "DEO, 1 Main St., Los Angeles, CA 90012"


@pytest.mark.parametrize("key", ["confirmed_title", "preferences_inactive"])
def test_the_reported_spanish_texts_are_worded_for_everyone(key: str) -> None:
    assert "inscrito" not in ES[key]


def test_the_consent_error_is_american() -> None:
    assert "Tick" not in EN["err_consent_missing"] and "box" in EN["err_consent_missing"]


async def test_the_landing_page_follows_the_pilots_calendar(smtp_settings) -> None:  # type: ignore[no-untyped-def]
    """Once the pilot runs, the page no longer says the County is still deciding."""
    import datetime as dt

    from bot.app import create_app
    from outreach.timeline import long_date, pilot_today

    start = pilot_today() - dt.timedelta(days=30)
    app = create_app(smtp_settings.model_copy(update={"pilot_start_date": start}), run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            english = (await client.get("/?lang=en")).text
            spanish = (await client.get("/?lang=es")).text
    assert f"The pilot started on {long_date(start, 'en')}" in english
    assert "still deciding" not in english
    assert f"El programa piloto empezó el {long_date(start, 'es')}" in spanish
