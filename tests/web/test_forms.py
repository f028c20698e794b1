"""bot.web.forms: names and free text follow `subscribers.person_text`, with messages in both languages."""

from __future__ import annotations

import unicodedata

import pytest
from starlette.datastructures import FormData

from bot.web.forms import parse_preferences, parse_signup
from bot.web.i18n import EN, ES
from tests.web.support import valid_form


def form(**changes: object) -> FormData:
    pairs: list[tuple[str, str]] = []
    for name, value in valid_form(**changes).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, str(item)))
    return FormData(pairs)


def test_names_are_kept_as_people_type_them_and_tidied() -> None:
    checked = parse_signup(
        form(
            name=unicodedata.normalize("NFD", "  Seán\tO’Brien-Ñúñez "),
            organization="Tortillería La Ñ 🌮 & Sons",
            legal_name="Taller\u00a0Ana,  LLC",
            products="- uniforms\r\n- face masks < 50 units",
        )
    )
    assert checked.errors == {}
    assert checked.request is not None
    assert checked.request.name == "Seán O’Brien-Ñúñez"
    assert checked.request.organization == "Tortillería La Ñ 🌮 & Sons"
    assert checked.request.business.legal_name == "Taller Ana, LLC"
    assert checked.request.business.products == "- uniforms\n- face masks < 50 units"


HOSTILE = [
    "Ana\r\nBcc: x@example.org",
    "An\x00a",
    "Ana\u202egnp.exe",
    "A" * 10_000,
    '=HYPERLINK("http://evil.example","x")',
    "-2+3",
    "<script>alert(1)</script>",
    "see www.example.com",
]


# Free text has several lines, may start with "-" (a list) and may say "<" (escaped wherever shown).
FINE_IN_PROSE = {HOSTILE[0], "-2+3", "<script>alert(1)</script>"}


@pytest.mark.parametrize("field", ["name", "organization", "legal_name", "products"])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_every_refusal_has_words_in_both_languages(field: str, value: str) -> None:
    checked = parse_signup(form(**{field: value}))
    if field == "products" and value in FINE_IN_PROSE:
        assert checked.errors == {}
        return
    key = checked.errors[field]
    assert key.startswith(f"err_{field}_") and key in EN and key in ES
    assert checked.request is None
    assert checked.values[field] == value  # shown back as typed, escaped by the template


def test_a_formula_start_gets_its_own_message() -> None:
    assert parse_signup(form(organization="@tallerana")).errors == {
        "organization": "err_organization_starts_with"
    }
    assert EN["err_organization_starts_with"].endswith("cannot start with =, +, - or @")
    assert ES["err_organization_starts_with"].endswith("no puede empezar con =, +, - o @")


def test_the_preferences_page_uses_the_same_rule_for_the_name() -> None:
    ok = parse_preferences(
        FormData([("name", " Ana\tLópez "), ("topics", "pilot_updates"), ("language", "es")])
    )
    assert ok.errors == {} and ok.name == "Ana López"
    bad = parse_preferences(FormData([("name", "=1+1"), ("topics", "pilot_updates"), ("language", "es")]))
    assert bad.errors == {"name": "err_name_starts_with"}
