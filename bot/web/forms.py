"""Reading and checking what the public forms send: one place for every rule about a field.

`read_form` turns a request body into fields, refusing what no browser sends (other content types,
bodies that are not UTF-8, far too many fields). `parse_signup` and `parse_preferences` check each
field and return either a request for the service layer or the errors to show, as message keys of
`bot.web.i18n`, in the order the fields appear on the page (the error summary lists them so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.models import Language, Role, Topic
from subscribers.person_text import InvalidText, Problem, clean_free_text, clean_name
from subscribers.profile_corrections import ProfileCorrection
from subscribers.signup import BusinessDetails, SignupRequest

MAX_BODY_BYTES = 32 * 1024  # the whole form filled to every limit is about 10 kB encoded
MAX_FIELDS = 64
MAX_EMPLOYEES = 100_000
MAX_YEARS = 150

E = TypeVar("E", Role, Language)

_ZIP = re.compile(r"([0-9]{5})(?:-[0-9]{4})?")
_NAICS = re.compile(r"[0-9]{2,6}")
_INTEGER = re.compile(r"-?[0-9]+")


class UnreadableForm(Exception):
    """The body is not a form a browser would send. `too_big` picks the page (413 rather than 400)."""

    def __init__(self, *, too_big: bool = False, wrong_type: bool = False) -> None:
        super().__init__("too big" if too_big else "wrong content type" if wrong_type else "unreadable")
        self.too_big = too_big
        self.wrong_type = wrong_type


async def read_form(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> FormData:
    """Read an `application/x-www-form-urlencoded` body of at most `max_bytes`.

    Starlette's own parser would turn raw bytes into Latin-1 and bad percent-escapes into U+FFFD and
    carry on; here a body that is not valid UTF-8 is refused, so mojibake never reaches the database.
    """
    # Parameters in any order, quoted or not (browsers and HTTP libraries differ in what they add).
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"application/x-www-form-urlencoded":
        raise UnreadableForm(wrong_type=True)
    if params.get(b"charset", b"").lower() not in (b"", b"utf-8", b"utf8", b"us-ascii"):
        raise UnreadableForm()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise UnreadableForm(too_big=True)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise UnreadableForm(too_big=True)
    try:
        text = body.decode("ascii")  # percent-encoding leaves only ASCII in a well-formed body
        pairs = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise UnreadableForm() from None
    return FormData(list[tuple[str, str | UploadFile]](pairs))


@dataclass
class Checked:
    """The outcome of checking a form: field errors (message keys) and the values to show back."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, name: str, key: str) -> None:
        self.errors.setdefault(name, key)


@dataclass
class SignupForm(Checked):
    request: SignupRequest | None = None


@dataclass
class PreferencesForm(Checked):
    topics: frozenset[Topic] = frozenset()
    language: Language = Language.EN
    name: str = ""
    organization: str = ""
    profile: ProfileCorrection = field(default_factory=ProfileCorrection)
    new_email: str = ""  # normalised; empty: keep the address


SIGNUP_FIELDS = (
    "email",
    "name",
    "organization",
    "role",
    "topics",
    "language",
    "legal_name",
    "principal_zip",
    "production_zip",
    "products",
    "naics",
    "employees",
    "years_in_county",
    "ca_small_business",
    "garment_work",
    "consent",
)


def parse_signup(form: FormData) -> SignupForm:
    checked = SignupForm()
    email = _email(form, checked)
    name = _line(form, "name", checked)
    organization = _line(form, "organization", checked)
    role = _choice(form, "role", Role, checked, "err_role_missing")
    topics = _topics(form, checked, "err_topics_missing")
    language = _choice(form, "language", Language, checked, "err_language_missing")
    business = BusinessDetails(
        legal_name=_line(form, "legal_name", checked),
        principal_zip=_zip(form, "principal_zip", checked),
        production_zip=_zip(form, "production_zip", checked),
        products=_text(form, "products", checked),
        naics=_pattern(form, "naics", _NAICS, checked),
        employees=_number(form, "employees", MAX_EMPLOYEES, checked),
        years_in_county=_number(form, "years_in_county", MAX_YEARS, checked),
        ca_small_business=_yes_no(form, "ca_small_business", checked),
        garment_work=_yes_no(form, "garment_work", checked),
    )
    consent = form.get("consent", "")
    checked.values["consent"] = consent == "yes"
    if consent != "yes":
        checked.fail("consent", "err_consent_missing")
    checked.errors = {name: checked.errors[name] for name in SIGNUP_FIELDS if name in checked.errors}
    if not checked.errors:
        assert email and role and language  # for the type checker: no errors means all were given
        checked.request = SignupRequest(
            email=email,
            role=role,
            language=language,
            topics=topics,
            name=name,
            organization=organization,
            business=business,
        )
    return checked


PREFERENCES_FIELDS = (
    "name",
    "organization",
    "topics",
    "language",
    "principal_zip",
    "production_zip",
    "products",
    "new_email",
)


def parse_preferences(form: FormData, *, business: bool = False, email: bool = False) -> PreferencesForm:
    """The preferences page; `business`: it shows a manufacturer's business details, `email`: the
    field for a new address. Fields the page doesn't show are left alone, whatever is posted."""
    checked = PreferencesForm()
    name = _line(form, "name", checked)
    organization = _line(form, "organization", checked)
    topics = _topics(form, checked, "err_preferences_topics_missing")
    language = _choice(form, "language", Language, checked, "err_language_missing")
    if business:
        checked.profile = ProfileCorrection(
            principal_zip=_zip(form, "principal_zip", checked),
            production_zip=_zip(form, "production_zip", checked),
            products=_text(form, "products", checked),
        )
    if email and _first(form, "new_email").strip():
        checked.new_email = _email(form, checked, name="new_email")
    checked.errors = {n: checked.errors[n] for n in PREFERENCES_FIELDS if n in checked.errors}
    if not checked.errors:
        assert language
        checked.topics, checked.language, checked.name = topics, language, name
        checked.organization = organization
    return checked


# Field rules ---------------------------------------------------------------------------------------


def _first(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _email(form: FormData, checked: Checked, *, name: str = "email") -> str:
    """An address, in the form we store (`normalise_email`); `name` is the field (its errors
    read the same whatever the field is called)."""
    raw = _first(form, name).strip()
    checked.values[name] = raw
    if not raw:
        checked.fail(name, "err_email_missing")
    elif len(raw) > 254:
        checked.fail(name, "err_email_too_long")
    else:
        try:
            return normalise_email(raw)
        except InvalidEmail as exc:
            checked.fail(name, "err_email_non_ascii" if exc.non_ascii_local else "err_email_format")
    return ""


def _line(form: FormData, name: str, checked: Checked) -> str:
    """A name (of a person, a business): the rule the import and Slack use too (`clean_name`)."""
    raw = _first(form, name)
    checked.values[name] = raw
    try:
        return clean_name(raw, field=name)
    except InvalidText as problem:
        checked.fail(name, text_error_key(name, problem.problem))
        return ""


def _text(form: FormData, name: str, checked: Checked) -> str:
    """Free text of several lines (what a business makes): see `clean_free_text`."""
    raw = _first(form, name)
    checked.values[name] = raw
    try:
        return clean_free_text(raw, field=name)
    except InvalidText as problem:
        checked.fail(name, text_error_key(name, problem.problem))
        return ""


def text_error_key(name: str, problem: Problem) -> str:
    """The `bot.web.i18n` message for a refused name or free text: too long, a leading formula
    character (which gets its own message, since the text is otherwise fine), or other characters."""
    if problem == Problem.TOO_LONG:
        return f"err_{name}_too_long"
    if problem == Problem.FORMULA:
        return f"err_{name}_starts_with"
    return f"err_{name}_characters"


def _choice(form: FormData, name: str, enum: type[E], checked: Checked, missing: str) -> E | None:
    raw = _first(form, name)
    checked.values[name] = raw
    try:
        return enum(raw)
    except ValueError:
        checked.fail(name, missing)
        return None


def _topics(form: FormData, checked: Checked, missing: str) -> frozenset[Topic]:
    raw = [value for value in form.getlist("topics") if isinstance(value, str)]
    checked.values["topics"] = raw
    known = {topic.value for topic in Topic}
    if not raw or any(value not in known for value in raw):
        checked.fail("topics", missing)
        return frozenset()
    return frozenset(Topic(value) for value in raw)


def _digits(raw: str) -> str:
    """Ignore the spaces and commas people type into numbers ("1,200", "90 021")."""
    return raw.replace(" ", "").replace(",", "").strip()


def _zip(form: FormData, name: str, checked: Checked) -> str:
    raw = _first(form, name)
    checked.values[name] = raw
    value = raw.strip().replace(" ", "")
    if not value:
        return ""
    match = _ZIP.fullmatch(value)
    if match is None:
        checked.fail(name, f"err_{name}_format")
        return ""
    return match.group(1)


def _pattern(form: FormData, name: str, pattern: re.Pattern[str], checked: Checked) -> str:
    raw = _first(form, name)
    checked.values[name] = raw
    value = _digits(raw)
    if value and pattern.fullmatch(value) is None:
        checked.fail(name, f"err_{name}_format")
        return ""
    return value


def _number(form: FormData, name: str, maximum: int, checked: Checked) -> int | None:
    raw = _first(form, name)
    checked.values[name] = raw
    value = _digits(raw)
    if not value:
        return None
    if _INTEGER.fullmatch(value) is None:
        checked.fail(name, f"err_{name}_format")
        return None
    if value.startswith("-") or len(value) > len(str(maximum)) or int(value) > maximum:
        checked.fail(name, f"err_{name}_range")
        return None
    return int(value)


def _yes_no(form: FormData, name: str, checked: Checked) -> bool | None:
    raw = _first(form, name)
    checked.values[name] = raw
    if raw == "":
        return None
    if raw in ("yes", "no"):
        return raw == "yes"
    checked.fail(name, f"err_{name}_choice")
    return None
