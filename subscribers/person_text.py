"""What we accept as a name and as free text, from every way people reach us: one rule per kind.

Two kinds of text, each with one rule, used by the web form, the CSV import and Slack subscribe:

- `clean_name`: a person's name, a business's name, a legal name. One line of at most 200 characters.
- `clean_free_text`: what a business makes. Several lines, at most 2,000 characters.

Kept, because real people type them: any letter or script (García, Ñ, Nguyễn, 王), apostrophes and
hyphens inside a name (O'Brien, O’Neil, Mary-Jane), "&" and punctuation, emoji. Spacing is tidied rather
than refused: text is NFC-normalised, trimmed, and runs of spaces, tabs (pasted from a spreadsheet)
and no-break spaces become one space.

Refused, because no one types them and each is a way to abuse what we do with the text:

- line breaks in a name (CR/LF in an email greeting or header is how header injection starts);
- control characters (NUL, ESC sequences that garble terminals), unpaired surrogates, and the
  bidirectional overrides and isolates U+202A-U+202E and U+2066-U+2069 that make text display in
  another order than it is stored ("Trojan Source" names, "Ana<U+202E>gnp.exe");
- web addresses: names are put into emails ("Hello Ana,"), including the confirmation sent to an
  address no one has confirmed yet, and a link there is a phishing or spam channel;
- `<` or `>` in a name: no name has them, while email display names, Slack and HTML give them meaning;
- a name starting with = + - or @. Spreadsheets run such a cell as a formula (CSV injection). The
  export neutralises every cell anyway (`subscribers.directory.spreadsheet_safe`), but names are also
  shown where nothing neutralises them (`madeinla subscribers list`, Slack `find`), and staff paste
  those into spreadsheets; no name starts that way, so refusing costs no one anything. Free text is
  exempt: a list of products typed as "- uniforms" is normal there, and the export covers it.

Errors are `InvalidText`, a ValueError whose message is English fit for the person (and for staff
reading an import report) and whose `problem` lets the web form pick its message in either language.
Messages never repeat the value: it may be hostile, or 10,000 characters long.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

MAX_NAME = 200  # the database's name columns
MAX_FREE_TEXT = 2000

# What a text editor treats as the end of a line (as str.splitlines, less the file/group/record
# separators U+001C-U+001E, which are plain control characters to anyone typing).
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
# Never accepted anywhere: control characters except tab and the line breaks above (those depend on
# the kind of text), bidirectional embeddings, overrides and isolates, and unpaired surrogates (which
# only a hand-made JSON request can send, and which the database would refuse to store).
_NEVER = "\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_NOT_IN_A_NAME = re.compile(f"[{_NEVER}{_LINE_BREAKS}]")
_NOT_IN_FREE_TEXT = re.compile(f"[{_NEVER}]")
_OTHER_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_WEB_ADDRESS = re.compile(r"://|www\.|\.(?:com|net|org|ru|xyz|info|biz)/", re.IGNORECASE)
FORMULA_STARTS = ("=", "+", "-", "@")


class Problem(StrEnum):
    LINE_BREAK = "line_break"
    CONTROL_CHARACTER = "control_character"
    WEB_ADDRESS = "web_address"
    MARKUP = "markup"
    FORMULA = "formula"
    TOO_LONG = "too_long"


class InvalidText(ValueError):
    """Text we don't accept. `field` names it as the message does ("name", "organization")."""

    def __init__(self, field: str, problem: Problem, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.problem = problem


def clean_name(raw: str, *, field: str = "name", limit: int = MAX_NAME) -> str:
    """A person's or a business's name as we store it: one tidy line, or "" for none.

    Raises InvalidText (see the module's docstring for what is refused and why).
    """
    value = _nfc(raw)
    if not value.isprintable():  # only then can it hold what we refuse (an import checks 100,000)
        bad = _NOT_IN_A_NAME.search(value)
        if bad is not None:
            if bad.group() in _LINE_BREAKS:
                raise InvalidText(field, Problem.LINE_BREAK, "contains a line break")
            raise _control_character(field, bad.group())
    value = _single_spaced(value)
    if value.startswith(FORMULA_STARTS):
        raise InvalidText(
            field, Problem.FORMULA, f"starts with {value[0]!r}, which spreadsheets run as a formula"
        )
    if "<" in value or ">" in value:
        raise InvalidText(field, Problem.MARKUP, "contains < or >, which a name never does")
    _refuse_web_address(value, field)
    return _within(value, field, limit)


def clean_free_text(raw: str, *, field: str = "products", limit: int = MAX_FREE_TEXT) -> str:
    """Free text of several lines as we store it: each line tidied, line breaks as "\\n".

    Every kind of line break (CRLF from browsers, a lone CR, Word's vertical tab, U+2028) becomes
    "\\n". Raises InvalidText for control characters, bidirectional overrides, web addresses and
    length; `<`, `>` and a leading "-" are fine in prose.
    """
    value = _OTHER_LINE_BREAKS.sub("\n", _nfc(raw))
    bad = _NOT_IN_FREE_TEXT.search(value)
    if bad is not None:
        raise _control_character(field, bad.group())
    value = "\n".join(_single_spaced(line) for line in value.strip().split("\n"))
    _refuse_web_address(value, field)
    return _within(value, field, limit)


def _nfc(raw: str) -> str:
    if raw.isascii() or unicodedata.is_normalized("NFC", raw):
        return raw
    return unicodedata.normalize("NFC", raw)


def _single_spaced(value: str) -> str:
    """Trimmed, with every run of whitespace (spaces, tabs, no-break spaces) as one space."""
    if value.isprintable() and "  " not in value and value == value.strip():
        return value  # the usual, already tidy name: skip the split
    return " ".join(value.split())


def _control_character(field: str, char: str) -> InvalidText:
    return InvalidText(field, Problem.CONTROL_CHARACTER, f"contains a control character (U+{ord(char):04X})")


def _refuse_web_address(value: str, field: str) -> None:
    if ("." in value or "/" in value) and _WEB_ADDRESS.search(value):
        raise InvalidText(field, Problem.WEB_ADDRESS, "contains a web address")


def _within(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidText(field, Problem.TOO_LONG, f"is longer than {limit:,} characters ({len(value):,})")
    return value
