"""Malformed and hostile submissions to the form and the emailed links: each gets a clear 4xx page
in words a person understands, and nothing is written (or, for links, nothing changes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import pytest

from outreach.models import Delivery
from outreach.signup import sign_up
from subscribers.models import AuditEvent, BusinessProfile, Language, Role, Status, Subscriber, Topic
from subscribers.signup import SignupRequest, unsubscribe
from subscribers.tokens import LinkSigner, Purpose
from tests.web.support import csrf_token, submit_signup, valid_form


@dataclass(frozen=True)
class FormCase:
    """One bad submission of the sign-up form."""

    changes: dict[str, object] = field(default_factory=dict)
    status: int = 400
    message: str = ""
    csrf: str = "valid"  # valid, missing, forged, other-browser
    raw: bytes | None = None  # send these bytes instead of the encoded form
    content_type: str = "application/x-www-form-urlencoded"


FORM_CASES = {
    "email-empty": FormCase({"email": ""}, message="Enter your email address"),
    "email-no-domain": FormCase({"email": "ana@"}, message="Enter an email address in the correct format"),
    "email-no-dot-in-domain": FormCase({"email": "ana@localhost"}, message="in the correct format"),
    "email-two-ats": FormCase({"email": "ana@@example.com"}, message="in the correct format"),
    "email-with-display-name": FormCase({"email": "Ana <ana@example.com>"}, message="in the correct format"),
    "email-with-space": FormCase({"email": "ana lopez@example.com"}, message="in the correct format"),
    "email-header-injection": FormCase(
        {"email": "ana@example.com\r\nBcc: everyone@example.org"}, message="in the correct format"
    ),
    "email-accented-before-the-at": FormCase(
        {"email": "josé@example.com"}, message="before the @ can use only unaccented letters"
    ),
    "email-non-latin-before-the-at": FormCase(
        {"email": "почта@example.com"}, message="before the @ can use only unaccented letters"
    ),
    "email-overlong": FormCase({"email": "a" * 250 + "@example.com"}, message="254 characters or fewer"),
    "name-crlf": FormCase({"name": "Ana\r\nBcc: x@example.org"}, message="Enter your name on one line"),
    "name-nul": FormCase({"name": "Ana\x00"}, message="Enter your name on one line"),
    "name-unicode-line-separator": FormCase({"name": "Ana\u2028Bcc"}, message="Enter your name on one line"),
    "name-with-web-address": FormCase(
        {"name": "Claim your prize at http://evil.example"}, message="without web addresses"
    ),
    "name-overlong": FormCase({"name": "A" * 201}, message="Your name must be 200 characters or fewer"),
    "name-10000-characters": FormCase({"name": "A" * 10_000}, message="200 characters or fewer"),
    "name-bidi-override": FormCase({"name": "Ana\u202egnp.exe"}, message="Enter your name on one line"),
    "name-script-tag": FormCase({"name": "<script>alert(1)</script>"}, message="Enter your name on one line"),
    "organization-hyperlink-formula": FormCase(
        {"organization": '=HYPERLINK("http://evil.example","x")'},
        message="The name of your business or organization cannot start with =, +, - or @",
    ),
    "legal-name-formula": FormCase({"legal_name": "@SUM(A1:A9)"}, message="The legal name cannot start with"),
    "organization-overlong": FormCase({"organization": "B" * 500}, message="200 characters or fewer"),
    "role-unknown": FormCase({"role": "admin"}, message="Select which of these describes you best"),
    "role-missing": FormCase({"role": None}, message="Select which of these describes you best"),
    "topics-none": FormCase({"topics": []}, message="Select at least one topic"),
    "topics-unknown": FormCase(
        {"topics": ["pilot_updates", "everything"]}, message="Select at least one topic"
    ),
    "language-unsupported": FormCase(
        {"language": "fr"}, message="Select the language we should write to you in"
    ),
    "consent-missing": FormCase({"consent": None}, message="Check the box to agree that we can email you"),
    "consent-not-yes": FormCase({"consent": "no"}, message="Check the box to agree"),
    "zip-too-short": FormCase({"principal_zip": "9002"}, message="main place of business as 5 digits"),
    "zip-letters": FormCase({"production_zip": "ABCDE"}, message="where you make your goods as 5 digits"),
    "naics-too-short": FormCase({"naics": "3"}, message="NAICS code of 2 to 6 digits"),
    "naics-too-long": FormCase({"naics": "3152501"}, message="NAICS code of 2 to 6 digits"),
    "employees-negative": FormCase({"employees": "-5"}, message="between 0 and 100,000"),
    "employees-words": FormCase({"employees": "lots"}, message="as a whole number"),
    "employees-huge": FormCase({"employees": "99999999999999999999"}, message="between 0 and 100,000"),
    "years-decimal": FormCase({"years_in_county": "3.5"}, message="number of years as a whole number"),
    "years-too-many": FormCase({"years_in_county": "999"}, message="between 0 and 150"),
    "yes-no-unknown": FormCase({"ca_small_business": "maybe"}, message="Select yes or no for California"),
    "products-overlong": FormCase({"products": "x" * 2001}, message="2,000 characters or fewer"),
    "products-terminal-escape": FormCase(
        {"products": "Masks\x1b[31m"}, message="without web addresses or special"
    ),
    "products-bidi-override": FormCase(
        {"products": "Masks\u202e"}, message="without web addresses or special"
    ),
    "csrf-missing": FormCase(csrf="missing", message="Your form timed out"),
    "csrf-forged": FormCase(csrf="forged", message="Your form timed out"),
    "csrf-from-another-browser": FormCase(csrf="other-browser", message="Your form timed out"),
    "body-bad-percent-utf8": FormCase(raw=b"email=ana%40example.com&name=%FF%FE", message="could not read"),
    "body-raw-latin1-bytes": FormCase(raw=b"email=ana@example.com&name=Jos\xe9", message="could not read"),
    "body-latin1-charset": FormCase(
        raw=b"email=ana%40example.com",
        content_type="application/x-www-form-urlencoded; charset=iso-8859-1",
        message="could not read",
    ),
    "body-json": FormCase(raw=b'{"email": "ana@example.com"}', content_type="application/json", status=415),
    "body-multipart": FormCase(
        raw=b"--x\r\nContent-Disposition: form-data; name=email\r\n\r\nana@example.com\r\n--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        status=415,
        message="could not read",
    ),
    "body-too-big": FormCase(raw=b"name=" + b"a" * 40_000, status=413, message="too long"),
    "body-too-many-fields": FormCase(
        raw=b"&".join(b"f%d=1" % i for i in range(200)), message="could not read"
    ),
}


@pytest.mark.parametrize("case", FORM_CASES.values(), ids=FORM_CASES.keys())
async def test_bad_form_submission_is_refused_clearly_and_writes_nothing(
    client: httpx.AsyncClient, app, case: FormCase
) -> None:
    page = await client.get("/")
    data = valid_form(**case.changes)
    if case.csrf == "valid":
        data["csrf_token"] = csrf_token(page.text)
    elif case.csrf == "forged":
        data["csrf_token"] = "eyJmb3JnZWQiOnRydWV9.forged.signature"
    elif case.csrf == "other-browser":
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            data["csrf_token"] = csrf_token((await other.get("/")).text)
    body = case.raw if case.raw is not None else urlencode(data, doseq=True).encode()
    answer = await client.post("/", content=body, headers={"Content-Type": case.content_type})

    assert answer.status_code == case.status
    assert answer.headers["content-type"].startswith("text/html")
    assert case.message in answer.text
    assert "Traceback" not in answer.text
    for model in (Subscriber, BusinessProfile, AuditEvent, Delivery):
        assert await model.all().count() == 0, model.__name__


# Emailed links -------------------------------------------------------------------------------------


async def pending_person() -> Subscriber:
    result = await sign_up(
        SignupRequest(
            email="ana@example.com",
            role=Role.MANUFACTURER,
            language=Language.EN,
            topics=frozenset({Topic.PILOT_UPDATES}),
        )
    )
    return await Subscriber.get(id=result.subscriber_id)


def signer_of(app) -> LinkSigner:
    return app.state.runtime.signer


def expired_token(app, purpose: Purpose, subscriber_id: int, monkeypatch: pytest.MonkeyPatch) -> str:
    """A genuine token signed long ago (its timestamp is in the past)."""
    import itsdangerous.timed

    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=500)).timestamp()
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.timed.time, "time", lambda: long_ago)
        return signer_of(app).sign(purpose, subscriber_id)


LINK_CASES = [
    "confirm-forged",
    "confirm-truncated",
    "confirm-with-manage-token",
    "confirm-expired",
    "confirm-overlong",
    "confirm-post-forged",
    "confirm-post-without-csrf",
    "confirm-for-erased-person",
    "unsubscribe-forged",
    "unsubscribe-with-confirm-token",
    "unsubscribe-post-forged",
    "unsubscribe-expired",
    "preferences-forged",
    "preferences-post-without-csrf",
    "preferences-post-no-topics",
    "preferences-post-unknown-language",
]


@pytest.mark.parametrize("case", LINK_CASES)
async def test_bad_link_is_refused_clearly_and_changes_nothing(
    client: httpx.AsyncClient, app, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await pending_person()
    signer = signer_of(app)
    confirm_token = signer.sign(Purpose.CONFIRM, person.id)
    manage_token = signer.sign(Purpose.MANAGE, person.id)
    audit_before = await AuditEvent.all().count()
    expected = "This link does not work"

    if case == "confirm-forged":
        answer = await client.get(f"/confirm/{confirm_token[:-3]}abc")
    elif case == "confirm-truncated":
        answer = await client.get(f"/confirm/{confirm_token[:10]}")
    elif case == "confirm-with-manage-token":
        answer = await client.get(f"/confirm/{manage_token}")
    elif case == "confirm-expired":
        answer = await client.get(f"/confirm/{expired_token(app, Purpose.CONFIRM, person.id, monkeypatch)}")
    elif case == "confirm-overlong":
        answer = await client.get("/confirm/" + "A" * 1000)
    elif case == "confirm-post-forged":
        page = await client.get(f"/confirm/{confirm_token}")
        answer = await client.post(
            f"/confirm/{signer.sign(Purpose.CONFIRM, person.id + 1)}x",
            data={"csrf_token": csrf_token(page.text)},
        )
    elif case == "confirm-post-without-csrf":
        await client.get(f"/confirm/{confirm_token}")
        answer = await client.post(f"/confirm/{confirm_token}", data={"csrf_token": ""})
        expected = "Your form timed out"
    elif case == "confirm-for-erased-person":
        await person.delete()
        answer = await client.get(f"/confirm/{confirm_token}")
    elif case == "unsubscribe-forged":
        answer = await client.get(f"/unsubscribe/{manage_token}x")
    elif case == "unsubscribe-with-confirm-token":
        answer = await client.post(f"/unsubscribe/{confirm_token}", content=b"List-Unsubscribe=One-Click")
    elif case == "unsubscribe-post-forged":
        answer = await client.post(f"/unsubscribe/{manage_token[:-1]}", content=b"List-Unsubscribe=One-Click")
    elif case == "unsubscribe-expired":
        token = expired_token(app, Purpose.MANAGE, person.id, monkeypatch)
        answer = await client.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click")
        expected = "The link is too old. To stop our emails"
    elif case == "preferences-forged":
        answer = await client.get(f"/preferences/{manage_token}.x")
    elif case == "preferences-post-without-csrf":
        answer = await client.post(
            f"/preferences/{manage_token}", data={"topics": "working_group", "language": "es"}
        )
        expected = "Your form timed out"
    elif case == "preferences-post-no-topics":
        page = await client.get(f"/preferences/{manage_token}")
        answer = await client.post(
            f"/preferences/{manage_token}", data={"csrf_token": csrf_token(page.text), "language": "es"}
        )
        expected = "Select at least one topic, or unsubscribe"
    elif case == "preferences-post-unknown-language":
        page = await client.get(f"/preferences/{manage_token}")
        answer = await client.post(
            f"/preferences/{manage_token}",
            data={"csrf_token": csrf_token(page.text), "topics": "working_group", "language": "xx"},
        )
        expected = "Select the language we should write to you in"
    else:
        raise AssertionError(case)

    assert answer.status_code == 400, answer.text[:300]
    assert expected in answer.text
    if case in ("unsubscribe-forged", "unsubscribe-post-forged", "preferences-forged"):
        # A damaged preferences or unsubscribe link says what to do about that link, not about
        # confirmation links (whose lifetime is beside the point here).
        assert "Some of the link may be missing or changed" in answer.text
        assert "To stop our emails, you can also write to us at" in answer.text
    if case.startswith(("unsubscribe-", "preferences-")):
        assert "Links to confirm" not in answer.text
    elif case.startswith("confirm-") and expected == "This link does not work":
        assert "Links to confirm a sign-up work for 3 days" in answer.text
    assert "ana@example.com" not in answer.text  # a link page never shows whose link it was
    if case != "confirm-for-erased-person":
        after = await Subscriber.get(id=person.id)
        assert (after.status, after.topics, after.language) == (
            Status.PENDING,
            ["pilot_updates"],
            Language.EN,
        )
        assert await AuditEvent.all().count() == audit_before


async def test_a_link_for_a_person_who_left_cannot_confirm_them_again(client: httpx.AsyncClient, app) -> None:
    """An old confirmation link after unsubscribing: a 400 page, the person stays unsubscribed."""
    person = await pending_person()
    token = signer_of(app).sign(Purpose.CONFIRM, person.id)
    await unsubscribe(person.id)
    page = await client.get(f"/confirm/{token}")
    assert page.status_code == 400 and "This link does not work" in page.text
    assert (await Subscriber.get(id=person.id)).status == Status.UNSUBSCRIBED


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=UTF-8; x=y",
        "application/x-www-form-urlencoded; x=y; charset=utf-8",
        'Application/X-WWW-Form-URLEncoded;charset="utf-8"',
        "application/x-www-form-urlencoded ; charset = utf-8",
    ],
)
async def test_content_types_with_any_parameters_are_read(
    client: httpx.AsyncClient, content_type: str
) -> None:
    """Browsers and libraries add parameters in any order: the charset is found wherever it is."""
    page = await client.get("/")
    data = valid_form(csrf_token=csrf_token(page.text))
    answer = await client.post(
        "/",
        content=urlencode(data, doseq=True).encode(),
        headers={"Content-Type": content_type},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "Check your email" in answer.text
    assert await Subscriber.filter(email="ana@example.com").exists()


async def test_an_accented_address_gets_its_message_in_spanish_too(client: httpx.AsyncClient) -> None:
    answer = await submit_signup(client, lang="es", email="josé@example.com")
    assert answer.status_code == 400
    assert "antes de la @ solo puede tener letras sin acentos ni eñes" in answer.text
    assert 'value="josé@example.com"' in answer.text  # kept as typed, to fix
    assert await Subscriber.all().count() == 0


async def test_a_damaged_manage_link_has_its_own_words_in_spanish(client: httpx.AsyncClient, app) -> None:
    person = await pending_person()
    token = signer_of(app).sign(Purpose.MANAGE, person.id)
    for path in (f"/preferences/{token}x?lang=es", f"/unsubscribe/{token[:-2]}?lang=es"):
        answer = await client.get(path)
        assert answer.status_code == 400 and "Este enlace no funciona" in answer.text
        assert "Puede que al enlace le falte una parte" in answer.text
        assert "confirmar una inscripción" not in answer.text
