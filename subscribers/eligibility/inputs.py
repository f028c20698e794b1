"""Reading what people type: one parser for Slack text and CLI arguments, then typed values.

Slack sends one string (`zip=90021 employees=42 revenue=$4.1M since=2019-03`), sometimes with
smart quotes, commas, `key: value` or upper-case keys; the CLI sends a list of tokens. Both go
through `parse_pairs`, then `parse_screening_inputs` / `parse_preference_inputs` turn the
strings into typed values. Anything wrong becomes one `ScreenerInputError` listing every
problem and the accepted form, so callers can show it as is and never a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from subscribers.eligibility.formatting import CENT
from subscribers.eligibility.parameters import NON_AGREEMENT_THRESHOLD

# A reply lists at most this many problems: a pasted list of 900 repeats must not become a
# 17,000-character message. The rest are counted, not shown.
MAX_PROBLEMS = 8


class ScreenerInputError(ValueError):
    """Input a person can fix. `str(error)` is one line fit to show them; `problems` lists each.

    Each problem appears once (a key given five times is one mistake), and after MAX_PROBLEMS
    the rest are summed up in one last item.
    """

    def __init__(self, problems: Sequence[str], hint: str = "") -> None:
        unique = list(dict.fromkeys(problems))
        if len(unique) > MAX_PROBLEMS:
            more = len(unique) - MAX_PROBLEMS
            unique = [*unique[:MAX_PROBLEMS], f"and {more} more problem{'s' if more > 1 else ''}"]
        self.problems = tuple(unique)
        self.hint = hint
        message = "; ".join(self.problems)
        super().__init__(f"{message}. {hint}".strip() if hint else f"{message}.")


# key -> the accepted form, shown in help and in error messages. Same names in Slack, CLI, code.
SCREENING_KEYS: dict[str, str] = {
    "zip": "ZIP of the principal place of business, 5 digits (90021 or 90021-1234)",
    "production_zip": "ZIP where the goods are made (defaults to zip)",
    "years": "years the principal place of business has been in LA County (1, 2.5)",
    "since": "date it has been in LA County since (2019, 2019-03 or 2019-03-15)",
    "employees": "employees including affiliates (42)",
    "revenue": "average yearly gross receipts over 3 years ($4.1M, 950k, 4100000)",
    "manufacturer": "primarily makes new products from materials (yes/no)",
    "naics": "NAICS code, 2 to 6 digits (315250)",
    "ca_sb": "certified small business by the State of California (yes/no)",
    "other_cert": "small-business certification by another agency, LACC 2.204.030 D.3 (yes/no)",
    "federally_funded": "the solicitation is federally funded and bars local preferences (yes/no)",
    "federal_small": "small under SBA size standards and active in SAM (yes/no)",
    "garment": "does garment work: sewing, cutting, dyeing, finishing, labeling (yes/no)",
    "garment_registration": "current garment registration with the Labor Commissioner (yes/no)",
    "piece_rate": "pays garment workers by the piece (yes/no)",
    "wage_violations": "has unpaid wage judgments or citations (yes/no)",
    "debarred": "debarred by the County or another government (yes/no)",
}

PREFERENCE_KEYS: dict[str, str] = {
    "lowest": "lowest responsible bid from another bidder; for type=revenue the best other offer ($100,000)",
    "bid": "the LSBE's bid or revenue offer ($112,000)",
    "type": "price (default) or revenue",
    "requested": "the LSBE asked for the preference in its response (yes/no, default yes)",
    "statute_rate": "a lower preference rate set by statute, in percent (7% or 7; 0 means none)",
    "other_rate": "other County preferences the bidder also gets, e.g. DVBE or SE, in percent (5%)",
    "purchase": "gpo, petty_cash, purchase_card or non_agreement",
    "amount": "value of a non-agreement purchase (defaults to lowest)",
    "federal_conflict": "federal funding terms conflict with the preference (yes/no)",
}

_TRUE = {"yes", "y", "true", "t", "si", "sí"}
_FALSE = {"no", "n", "false", "f"}
# Any key may say "I don't know": it is treated as not given (so never a failed check).
_UNKNOWN = {
    "unknown",
    "?",
    "idk",
    "not sure",
    "dont know",
    "don't know",
    "n/a",
    "na",
    "no sé",
    "no se",
    "desconocido",
}

_QUOTES = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\uff1d": "=",
        "\uff1a": ":",
        "\u2013": "-",
        "\u2014": "-",
    }
)
_KEY = r"[A-Za-z][A-Za-z0-9_\-]*"
_UNIT = r"(?:k|m|mm|mil|b|bn|thousand|million|billion)"
_PAIR = re.compile(
    rf"""(?P<q>["']?)(?P<key>{_KEY})(?P=q)[ \t]*[=:][ \t]*
        (?: "(?P<dq>[^"]*)"?
          | '(?P<sq>[^']*)'?
          | (?P<bare>(?!{_KEY}[ \t]*[=:])
                (?:\$[ \t]*)?[^\s,;"']+(?:,(?=[0-9])[^\s,;"']+)*   # 4,100,000 stays one value
                (?:[ \t]+{_UNIT}(?![A-Za-z0-9_\-]|[ \t]*[=:]))?       # 4.1 million
            )
        )?""",
    re.VERBOSE | re.IGNORECASE,
)
_SEPARATOR = re.compile(r"[\s,;]+")
_STRAY = re.compile(r"[^\s,;]+")
_TOKEN_WITH_SPACE = re.compile(rf"^\s*({_KEY})\s*[=:]\s*(.*\s.*?)\s*$", re.DOTALL)
# A further `key=` inside a CLI token: the token holds several pairs ("zip=90021 employees=5"),
# as one quoted shell argument, and must read as Slack reads the same text.
_ANOTHER_KEY = re.compile(rf"(?:^|[\s,;]){_KEY}[ \t]*[=:]")
# What nearly everyone types: `key=value` words, nothing but spaces between them, no quotes,
# commas or units. `_PAIR` reads each such word whole, so splitting on spaces gives the same pairs.
_PLAIN_WORDS = re.compile(rf"\s*(?:{_KEY}=[^\s,;\"'=:]+(?:\s+|\Z))*")


def parse_pairs(text: str | Sequence[str]) -> dict[str, str]:
    """`key=value` pairs from Slack text or CLI tokens, keys lower-cased with `-` as `_`.

    Accepts `key=value`, `key: value`, quoted values (straight or smart quotes), commas or
    semicolons between pairs, and thousands separators inside numbers (`revenue=4,100,000`).
    Raises ScreenerInputError for stray words, empty values and repeated keys.
    """
    if not isinstance(text, str):
        text = " ".join(_quote_token(str(token)) for token in text)
    if text.isascii() and _PLAIN_WORDS.fullmatch(text):
        plain = _plain_pairs(text)
        if plain is not None:
            return plain
    text = text.translate(_QUOTES)
    pairs: dict[str, str] = {}
    problems: list[str] = []
    position = 0
    while position < len(text):
        gap = _SEPARATOR.match(text, position)
        if gap:
            position = gap.end()
            continue
        match = _PAIR.match(text, position)
        if match is None and text[position] in "\"'":
            position += 1  # a quote around a whole pair: "zip=90021"
            continue
        if match is None:
            stray = _STRAY.match(text, position)
            end = stray.end() if stray else position + 1
            problems.append(f"couldn't read {text[position:end]!r} (write key=value)")
            position = end
            continue
        position = match.end()
        key = match["key"].lower().replace("-", "_")
        value = match["dq"] if match["dq"] is not None else match["sq"]
        if value is None:
            bare = match["bare"] or ""
            value = bare.rstrip(".!?") or bare  # "no." ends a sentence; a lone "?" means unknown
        value = value.strip()
        if not value:
            problems.append(f"{key} has no value")
        elif key in pairs:
            problems.append(f"{key} is given twice")
        else:
            pairs[key] = value
    if problems:
        raise ScreenerInputError(problems, "Write each item as key=value, like zip=90021 employees=42")
    return pairs


def _plain_pairs(text: str) -> dict[str, str] | None:
    """`zip=90021 employees=12` without the general loop; None when a key repeats (its message
    comes from the loop)."""
    pairs = {}
    for word in text.split():
        key, _, value = word.partition("=")
        pairs[key.lower().replace("-", "_")] = value.rstrip(".!?") or value
    return pairs if len(pairs) == text.count("=") else None


def _quote_token(token: str) -> str:
    """A CLI token like `revenue=4.1 M` keeps its space once the tokens are joined; one holding
    several pairs (`"zip=90021 employees=5"`) is left as it is, to read like Slack text."""
    match = _TOKEN_WITH_SPACE.match(token)
    if match and '"' not in match[2] and not _ANOTHER_KEY.search(match[2]):
        return f'{match[1]}="{match[2]}"'
    return token


# ---- typed values ---------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen, like the results in verdict.py: built once per screening
class PartialDate:
    """A date given as a year, a month or a day; `earliest` and `latest` bound what it means."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        if self.day is not None and self.month is not None:
            return date(self.year, self.month, self.day)
        if self.month is None:
            return date(self.year, 12, 31)
        if self.month == 12:
            return date(self.year, 12, 31)
        return date.fromordinal(date(self.year, self.month + 1, 1).toordinal() - 1)

    @property
    def is_exact(self) -> bool:
        return self.day is not None

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(slots=True)  # not frozen either
class ScreeningInputs:
    """What we know about a business. None means "not told", which never fails a check."""

    zip: str | None = None
    production_zip: str | None = None
    years: Decimal | None = None
    since: PartialDate | None = None
    employees: Decimal | None = None
    revenue: Decimal | None = None
    manufacturer: bool | None = None
    naics: str | None = None
    ca_sb: bool | None = None
    other_cert: bool | None = None
    federally_funded: bool | None = None
    federal_small: bool | None = None
    garment: bool | None = None
    garment_registration: bool | None = None
    piece_rate: bool | None = None
    wage_violations: bool | None = None
    debarred: bool | None = None


class ContractType(StrEnum):
    PRICE = "price"  # award to the lowest bid (2.204.060 B, C)
    REVENUE = "revenue"  # award to the best revenue offer (2.204.060 D)


class PurchaseKind(StrEnum):
    """The purchases 2.204.070 excludes from the preference."""

    GPO = "gpo"  # A: national / group purchasing organization contracts
    PETTY_CASH = "petty_cash"  # B: revolving fund
    PURCHASE_CARD = "purchase_card"  # C
    NON_AGREEMENT = "non_agreement"  # D: excluded only under $5,000


@dataclass(frozen=True, slots=True)
class PreferenceInputs:
    lowest: Decimal | None = None
    bid: Decimal | None = None
    type: ContractType = ContractType.PRICE
    requested: bool | None = None  # None: assume yes, and say so
    statute_rate: Decimal | None = None  # a fraction: 0.07 is 7%
    other_rate: Decimal | None = None
    purchase: PurchaseKind | None = None
    amount: Decimal | None = None
    federal_conflict: bool | None = None


_ZIP = re.compile(r"^([0-9]{5})(?:-?[0-9]{4})?$")
_NUMBER = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$|^\.[0-9]+$")
_MONEY = re.compile(
    r"^(?:usd)?\s*\$?\s*(?P<number>[0-9.,]+)\s*(?P<suffix>k|m|mm|mil|b|bn|thousand|million|billion)?$",
    re.IGNORECASE,
)
_MULTIPLIERS = {
    None: 1,
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mil": 1_000_000,
    "million": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_DATE = re.compile(r"^([0-9]{4})(?:[-/.]([0-9]{1,2})(?:[-/.]([0-9]{1,2}))?)?$")
_RATE = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<percent>%)?$")
_NAICS = re.compile(r"^[0-9]{2,6}$")
_MAX_NUMBER = Decimal(10) ** 15  # a sanity bound: nothing real is bigger, and it keeps maths exact
_PURCHASE_ALIASES = {
    "gpo": PurchaseKind.GPO,
    "group_purchasing": PurchaseKind.GPO,
    "cooperative": PurchaseKind.GPO,
    "coop": PurchaseKind.GPO,
    "national": PurchaseKind.GPO,
    "petty_cash": PurchaseKind.PETTY_CASH,
    "pettycash": PurchaseKind.PETTY_CASH,
    "petty": PurchaseKind.PETTY_CASH,
    "revolving_fund": PurchaseKind.PETTY_CASH,
    "purchase_card": PurchaseKind.PURCHASE_CARD,
    "pcard": PurchaseKind.PURCHASE_CARD,
    "p_card": PurchaseKind.PURCHASE_CARD,
    "procurement_card": PurchaseKind.PURCHASE_CARD,
    "non_agreement": PurchaseKind.NON_AGREEMENT,
    "nonagreement": PurchaseKind.NON_AGREEMENT,
}


# The parsers below first try what nearly everyone types, plain ASCII digits, without a regular
# expression; anything else takes the general path, which gives the same value or the error.


def _plain_digits(text: str) -> bool:
    return text.isdigit() and text.isascii()  # isdigit alone also accepts "²" and "٤"


def parse_zip(text: str, key: str = "zip") -> str:
    """A 5-digit ZIP (ZIP+4 accepted, the +4 dropped)."""
    if len(text) == 5 and _plain_digits(text):
        return text
    match = _ZIP.match(text.strip())
    if match is None:
        raise _one(f"{key} {text!r} is not a ZIP code (5 digits, like 90021 or 90021-1234)")
    return match[1]


def parse_bool(text: str, key: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _one(f"{key} {text!r} should be yes or no (also y/n, true/false)")


def parse_count(text: str, key: str) -> Decimal:
    """A non-negative number such as 42, 1,200 or 2.5."""
    cleaned = text.strip()
    if len(cleaned) <= 15 and _plain_digits(cleaned):  # under _MAX_NUMBER
        return Decimal(cleaned)
    if _is_negative(cleaned, _NUMBER):
        raise _one(f"{key} {text!r} can't be negative")
    if not _NUMBER.match(cleaned):
        raise _one(f"{key} {text!r} is not a number (like 42 or 2.5)")
    value = Decimal(cleaned.replace(",", ""))
    if value > _MAX_NUMBER:
        raise _one(f"{key} {text!r} is too large")
    return value


def parse_money(text: str, key: str) -> Decimal:
    """Dollars such as 4100000, $4,100,000, 4.1M, $950k or 1.2 million."""
    match = _MONEY.match(text.strip())
    number = match["number"] if match else ""
    if match is None and _is_negative(text.strip(), _MONEY):
        raise _one(f"{key} {text!r} can't be negative")
    if match is None or not _NUMBER.match(number):
        raise _one(f"{key} {text!r} is not an amount (like 4100000, $4.1M or 950k)")
    suffix = match["suffix"].lower() if match["suffix"] else None
    value = Decimal(number.replace(",", "")) * _MULTIPLIERS[suffix]
    if value > _MAX_NUMBER:
        raise _one(f"{key} {text!r} is too large")
    return value


def _is_negative(cleaned: str, pattern: re.Pattern[str]) -> bool:
    """`-5`, `-$5`, `$-5`: a minus in front of something that would otherwise read."""
    if "-" not in cleaned[:3]:
        return False
    return pattern.match(cleaned.replace("-", "", 1).strip()) is not None


def parse_since(text: str, key: str = "since") -> PartialDate:
    """A year, year-month or full date: 2019, 2019-03, 2019-03-15 (/ or . also work)."""
    if len(text) == 4 and _plain_digits(text) and 1850 <= int(text) <= 2200:
        return PartialDate(int(text))
    match = _DATE.match(text.strip())
    if match is not None:
        year = int(match[1])
        month = int(match[2]) if match[2] else None
        day = int(match[3]) if match[3] else None
        month_ok = month is None or 1 <= month <= 12
        if 1850 <= year <= 2200 and month_ok and (day is None or _is_date(year, month or 1, day)):
            return PartialDate(year, month, day)
    raise _one(f"{key} {text!r} is not a date (2019, 2019-03 or 2019-03-15)")


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def parse_as_of(text: str) -> date:
    """The date the rules are applied on: a full date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _one(f"as-of date {text!r} is not a date (YYYY-MM-DD, like 2026-05-20)") from None


def parse_rate(text: str, key: str) -> Decimal:
    """A rate in percent: 7% or 7 mean seven percent, 0 means none. Returns a fraction (0.07).

    A bare number between 0 and 1 is refused: `0.5` may mean half a percent or a fraction (50%),
    and guessing either way silently changes the answer, so the person is asked to add `%`.
    """
    cleaned = text.strip()
    match = _RATE.match(cleaned)
    if match is None:
        if _is_negative(cleaned, _RATE):
            raise _one(f"{key} {text!r} can't be negative")
        raise _one(f"{key} {text!r} is not a rate (a percent, like 7% or 2.5%)")
    number = Decimal(match["number"])
    if not match["percent"] and 0 < number < 1:
        raise _one(
            f"{key} {text!r} is unclear: rates are in percent, so write {_percent_text(number)} "
            f"for {number} percent, or {_percent_text(number * 100)} if {number} was a fraction"
        )
    rate = number / 100
    if rate > 1:
        raise _one(f"{key} {text!r} is more than 100%")
    return rate


def _percent_text(number: Decimal) -> str:
    return f"{number.normalize():f}%"


def parse_naics(text: str, key: str = "naics") -> str:
    cleaned = text.strip()
    if not _NAICS.match(cleaned):
        raise _one(f"{key} {text!r} is not a NAICS code (2 to 6 digits, like 315250)")
    return cleaned


def parse_contract_type(text: str, key: str = "type") -> ContractType:
    try:
        return ContractType(text.strip().lower())
    except ValueError:
        raise _one(f"{key} {text!r} should be price or revenue") from None


def parse_purchase(text: str, key: str = "purchase") -> PurchaseKind:
    word = re.sub(r"[\s\-]+", "_", text.strip().lower())
    if word in _PURCHASE_ALIASES:
        return _PURCHASE_ALIASES[word]
    raise _one(f"{key} {text!r} should be gpo, petty_cash, purchase_card or non_agreement")


def _one(problem: str) -> ScreenerInputError:
    return ScreenerInputError([problem])


ValueParser = Callable[[str, str], object]  # (text, key) -> value, or raise ScreenerInputError

_SCREENING_PARSERS: dict[str, ValueParser] = {
    "zip": parse_zip,
    "production_zip": parse_zip,
    "years": parse_count,
    "since": parse_since,
    "employees": parse_count,
    "revenue": parse_money,
    "naics": parse_naics,
}
_PREFERENCE_PARSERS: dict[str, ValueParser] = {
    "lowest": parse_money,
    "bid": parse_money,
    "amount": parse_money,
    "type": parse_contract_type,
    "statute_rate": parse_rate,
    "other_rate": parse_rate,
    "purchase": parse_purchase,
}


def parse_screening_inputs(pairs: Mapping[str, object]) -> ScreeningInputs:
    """Typed screening inputs from `parse_pairs` output (or any mapping of key -> value)."""
    values, problems = _convert(pairs, SCREENING_KEYS, _SCREENING_PARSERS, other=PREFERENCE_KEYS)
    if values.get("years") is not None and values.get("since") is not None:
        problems.append("give years or since, not both")
    _raise_if(problems, pairs, SCREENING_KEYS)
    # Each value came from its key's parser, which returns that field's type.
    return ScreeningInputs(**values)  # type: ignore[arg-type]


def parse_preference_inputs(pairs: Mapping[str, object]) -> PreferenceInputs:
    """Typed preference inputs; checks that the amounts needed for the answer are there."""
    values, problems = _convert(pairs, PREFERENCE_KEYS, _PREFERENCE_PARSERS, other=SCREENING_KEYS)
    _raise_if(problems, pairs, PREFERENCE_KEYS)
    if values.get("type") is None:
        values.pop("type", None)
    inputs = PreferenceInputs(**values)  # type: ignore[arg-type]  # as above: typed by its parser
    for key in ("lowest", "bid", "amount"):
        amount = getattr(inputs, key)
        if amount is not None and amount < CENT:
            problems.append(f"{key} must be at least $0.01")
    if inputs.purchase is PurchaseKind.NON_AGREEMENT and inputs.amount is None and inputs.lowest is None:
        problems.append(
            "purchase=non_agreement needs amount= (the purchase value) to tell whether it is "
            f"under ${NON_AGREEMENT_THRESHOLD:,.0f}"
        )
    if not _is_excluded_without_bids(inputs):
        missing = [key for key in ("lowest", "bid") if getattr(inputs, key) is None]
        if missing:
            problems.append(f"the preference needs {' and '.join(f'{k}=' for k in missing)} (amounts)")
    _raise_if(problems, pairs, PREFERENCE_KEYS)
    return inputs


def _is_excluded_without_bids(inputs: PreferenceInputs) -> bool:
    """Exclusions and a missing request answer the question without any bid amounts."""
    if inputs.federal_conflict or inputs.requested is False:
        return True
    if inputs.purchase in (PurchaseKind.GPO, PurchaseKind.PETTY_CASH, PurchaseKind.PURCHASE_CARD):
        return True
    if inputs.purchase is PurchaseKind.NON_AGREEMENT:
        value = inputs.amount if inputs.amount is not None else inputs.lowest
        return value is not None and value < NON_AGREEMENT_THRESHOLD
    return False


def _convert(
    pairs: Mapping[str, object],
    keys: Mapping[str, str],
    parsers: Mapping[str, ValueParser],
    *,
    other: Mapping[str, str],
) -> tuple[dict[str, object], list[str]]:
    values: dict[str, object] = {}
    problems: list[str] = []
    for raw_key, raw_value in pairs.items():
        # parse_pairs hands over keys already in their written form
        key = raw_key if type(raw_key) is str and raw_key in keys else _key_form(raw_key)
        if key not in keys:
            problems.append(_unknown_key(key, keys, other))
            continue
        if raw_value is None:
            continue
        text = raw_value if type(raw_value) is str else _as_text(raw_value)
        if text.strip().lower() in _UNKNOWN:
            continue
        parser = parsers.get(key, parse_bool)  # every other key is yes/no
        try:
            values[key] = parser(text, key)
        except ScreenerInputError as error:
            problems.extend(error.problems)
    return values, problems


def _key_form(key: object) -> str:
    return str(key).strip().lower().replace("-", "_")


def _as_text(value: object) -> str:
    """Values from code (True, 42, a date) read the same as typed text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _unknown_key(key: str, keys: Mapping[str, str], other: Mapping[str, str]) -> str:
    if key in other:
        return f"{key} is not used here"
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.7)
    return f"{key!r} is not a key we know" + (f" (did you mean {close[0]}?)" if close else "")


def _raise_if(problems: list[str], pairs: Mapping[str, object], keys: Mapping[str, str]) -> None:
    if not problems:
        return
    wrong_key = any(_key_form(key) not in keys for key in pairs)
    hint = f"Keys: {', '.join(keys)}" if wrong_key else ""
    raise ScreenerInputError(problems, hint)
