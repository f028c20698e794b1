"""bot.web.i18n: both languages say everything, and pages pick the right one."""

from __future__ import annotations

import re

from bot.web.i18n import EN, ES, duration, from_accept_language


def test_both_catalogues_have_the_same_messages_and_placeholders() -> None:
    assert EN.keys() == ES.keys()
    for key in EN:
        assert re.findall(r"{\w+}", EN[key]) == re.findall(r"{\w+}", ES[key]), key


def test_every_error_the_sign_up_form_can_give_has_words_in_both_languages() -> None:
    from starlette.datastructures import FormData

    from bot.web.forms import parse_signup

    worst = FormData(
        [(name, "\x00") for name in ("email", "name", "organization")]
        + [(name, "x") for name in ("role", "topics", "language", "principal_zip", "production_zip", "naics")]
        + [("legal_name", "\n"), ("products", "\x1b"), ("employees", "-1"), ("years_in_county", "y")]
        + [("ca_small_business", "?"), ("garment_work", "?")]
    )
    errors = parse_signup(worst).errors
    assert len(errors) == 16
    for key in errors.values():
        assert key in EN and key in ES


def test_accept_language() -> None:
    assert from_accept_language("") == "en"
    assert from_accept_language("es-MX,es;q=0.9,en;q=0.8") == "es"
    assert from_accept_language("en-US,en;q=0.9,es;q=0.8") == "en"
    assert from_accept_language("fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4") == "es"
    assert from_accept_language("es;q=0.2,en;q=0.9") == "en"
    assert from_accept_language("es;q=nonsense,en") == "en"
    assert from_accept_language("de") == "en"


def test_link_lifetime_in_words() -> None:
    assert duration("en", 72) == "3 days" and duration("es", 72) == "3 días"
    assert duration("en", 24) == "24 hours" and duration("es", 36) == "36 horas"
    assert duration("en", 1) == "1 hour"
