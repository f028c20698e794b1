"""The compiled campaign message (fast path) against `MessageBuilder.build` (the slow path).

Both messages are parsed with Python's `email` package and compared: the headers people see, both
parts' text, and the links. Names are the awkward ones: accents, quotes, markup, line breaks meant
to add a header, long non-ASCII names that need several encoded words.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import time
from email.message import EmailMessage
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st
from markupsafe import escape

from bot.runtime import message_options
from bot.settings import Settings
from outreach.compose import CompiledCampaign, TokenMinter, encoded_words
from outreach.messages import MessageBuilder, Recipient
from outreach.rendering import EMAIL_TEMPLATES_DIR, EmailTemplates, one_line
from subscribers.tokens import LinkSigner, Purpose

NAMES = [
    "Ana María Pérez",
    'Bob "the Builder" O\'Brien',
    "<script>alert('x')</script> & <b>bold</b>",
    "José\r\nBcc: victim@example.com",
    "Nguyễn Thị Minh Khai de la Santísima Trinidad y Muñoz-Fernández Garcilaso 🧵🪡",
    "",
    ".starts with a dot",
]
CAMPAIGN_VALUES = {
    "meeting": "Tuesday 9:00 <Room 5> & online",
    "meeting_when": "Tuesday, December 1, 9:00",
    "meeting_where": "Room 5 & online",
    "deadline": "January 15",
    "reason": "You asked for pilot news.",
}


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.fixture
def templates(tmp_path: Path) -> EmailTemplates:
    """The real layout plus a campaign template that uses every personal value, in two languages."""
    for name in ("_layout.html", "_layout.txt"):
        shutil.copy(EMAIL_TEMPLATES_DIR / name, tmp_path / name)
    bodies = {
        "subject.txt": (
            "{{ 'Noticias para' if language == 'es' else 'News for' }} {{ name or 'you' }} — Made in LA"
        ),
        "body.txt": (
            '{% extends "_layout.txt" %}{% block content %}Hello {{ name }} of {{ organization }}'
            " ({{ email }}).\n{% if 'working_group' in topics %}Working group news.\n{% endif %}"
            "Meeting: {{ meeting }}\nApply: {{ links.apply }}\n{% endblock %}"
        ),
        "body.html": (
            '{% extends "_layout.html" %}{% block content %}<p>Hello <b>{{ name }}</b> of {{ organization }}'
            ' ({{ email }})</p>{% if role == "working_group" %}<p>For the working group.</p>{% endif %}'
            '<p>{{ meeting }}</p><p><a href="{{ links.apply }}">Apply</a> '
            '<a href="{{ links.preferences }}">Preferences</a></p>{% endblock %}'
        ),
    }
    for language in ("en", "es"):
        folder = tmp_path / "news" / language
        folder.mkdir(parents=True)
        for file, text in bodies.items():
            (folder / file).write_text(text)
    shouty = tmp_path / "shouty" / "en"
    shouty.mkdir(parents=True)
    (shouty / "subject.txt").write_text("Hi")
    (shouty / "body.txt").write_text("HELLO {{ name|upper }} {{ links.unsubscribe }}\n")
    (shouty / "body.html").write_text("<p>{{ name|truncate(8) }} {{ name|length }}</p>")
    return EmailTemplates(tmp_path)


@pytest.fixture
def builder(settings: Settings, templates: EmailTemplates) -> MessageBuilder:
    return MessageBuilder(message_options(settings), templates, LinkSigner(settings.secret()))


def recipient(
    name: str, *, language: str = "es", role: str = "manufacturer", topics: list[str] | None = None
):  # type: ignore[no-untyped-def]
    return Recipient(
        address="ana.perez@example.com",
        subscriber_id=42,
        name=one_line(name),  # the sender folds names to one line for both paths
        organization="Café & Costura <LA>",
        role=role,
        language=language,
        topics=topics if topics is not None else ["pilot_updates", "working_group"],
    )


def both(builder: MessageBuilder, person: Recipient, *, template: str = "news", subject: str = ""):  # type: ignore[no-untyped-def]
    compiled = CompiledCampaign(
        builder, template=template, subject=subject, values_for=lambda lang: CAMPAIGN_VALUES
    )
    message_id = builder.delivery_message_id(7)
    fast = compiled.message(person, delivery_id=7, message_id=message_id)
    slow = builder.build(
        template,
        person,
        list_mail=True,
        delivery_id=7,
        extra=CAMPAIGN_VALUES,
        subject=subject,
        message_id=message_id,
    )
    return compiled, fast, slow


def without_tokens(text: str) -> str:
    """Links carry signed tokens with a timestamp: compare them by what they point to."""
    return re.sub(r"/(preferences|unsubscribe|apply)/[\w.-]+", r"/\1/TOKEN", text)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def assert_same(fast: bytes, slow: bytes) -> None:
    """The same message for a reader. Header values are compared with runs of whitespace folded:
    `EmailMessage` folds long headers in ways that add a space on parsing ("Tri nidad", a leading
    space); `test_headers_say_exactly_what_the_template_and_the_name_say` checks the fast path exactly."""
    a, b = parse(fast), parse(slow)
    for header in ("From", "Message-ID", "List-Unsubscribe-Post", "Content-Language"):
        assert str(a[header]) == str(b[header]), header
    assert squeeze(str(a["Subject"])) == squeeze(str(b["Subject"]))
    [to_a], [to_b] = a["To"].addresses, b["To"].addresses
    assert to_a.addr_spec == to_b.addr_spec
    assert to_a.display_name.replace(" ", "") == to_b.display_name.replace(" ", "")
    assert without_tokens(str(a["List-Unsubscribe"]).strip()) == without_tokens(
        str(b["List-Unsubscribe"]).strip()
    )
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    for kind in ("plain", "html"):
        part_a, part_b = a.get_body((kind,)), b.get_body((kind,))
        assert part_a is not None and part_b is not None
        assert part_a.get_content_charset() == "utf-8"
        assert without_tokens(part_a.get_content()) == without_tokens(part_b.get_content()), kind


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_fast_path_reads_exactly_like_the_slow_path(
    builder: MessageBuilder, name: str, language: str
) -> None:
    compiled, fast, slow = both(builder, recipient(name, language=language))
    assert compiled.slow_messages == 0
    assert_same(fast.data, slow.data)
    assert (fast.sender, fast.recipient, fast.message_id) == (slow.sender, slow.recipient, slow.message_id)


@pytest.mark.parametrize("role", ["manufacturer", "working_group"])
@pytest.mark.parametrize("topics", [[], ["working_group"]])
def test_each_shape_of_person_gets_its_own_rendering(
    builder: MessageBuilder, role: str, topics: list[str]
) -> None:
    _compiled, fast, slow = both(builder, recipient("Ana", role=role, topics=topics))
    assert_same(fast.data, slow.data)
    text = parse(fast.data).get_body(("plain",)).get_content()
    assert ("Working group news." in text) == ("working_group" in topics)


def test_the_real_campaign_templates_match(settings: Settings) -> None:
    real = MessageBuilder(message_options(settings), EmailTemplates(), LinkSigner(settings.secret()))
    for template in ("pilot_update", "application_invitation", "working_group_notice"):
        for name in NAMES[:4]:
            compiled = CompiledCampaign(real, template=template, values_for=lambda lang: CAMPAIGN_VALUES)
            person = recipient(name)
            fast = compiled.message(person, delivery_id=3, message_id="<m@example.gov>")
            slow = real.build(
                template,
                person,
                list_mail=True,
                delivery_id=3,
                extra=CAMPAIGN_VALUES,
                message_id="<m@example.gov>",
            )
            assert_same(fast.data, slow.data)
            assert compiled.slow_messages == 0


@pytest.mark.parametrize("name", [*NAMES, "=?utf-8?q?looks_encoded?="])
def test_headers_say_exactly_what_the_template_and_the_name_say(builder: MessageBuilder, name: str) -> None:
    """Exact Subject and To, whatever the name: a name that looks like an encoded word stays as typed
    (the slow path lets the reader's mail program decode it), a long one keeps its spaces."""
    person = recipient(name, language="en")
    _compiled, fast, _slow = both(builder, person)
    message = parse(fast.data)
    assert message["Subject"] == f"News for {one_line(name) or 'you'} — Made in LA"
    [to] = message["To"].addresses
    assert to.addr_spec == "ana.perez@example.com"
    # Python's address parser keeps the gap between two encoded words (RFC 2047 says to drop it);
    # the encoder cuts after a space, so at worst a reader like it shows a double space.
    assert squeeze(to.display_name) == one_line(name)


def test_a_subject_set_on_the_campaign_replaces_the_templates(builder: MessageBuilder) -> None:
    _compiled, fast, slow = both(builder, recipient("Ana"), subject="Reunión del grupo — martes")
    assert parse(fast.data)["Subject"] == "Reunión del grupo — martes"
    assert_same(fast.data, slow.data)


def test_a_template_that_transforms_a_name_is_rendered_in_full(builder: MessageBuilder) -> None:
    """`name|upper` can't be filled into a skeleton: those messages take the slow path, unchanged."""
    compiled, fast, slow = both(builder, recipient("Ana María", language="en"), template="shouty")
    assert compiled.slow_messages == 1
    assert "HELLO ANA MARÍA" in parse(fast.data).get_body(("plain",)).get_content()
    assert_same(fast.data, slow.data)


def test_no_value_can_add_a_header(builder: MessageBuilder) -> None:
    _compiled, fast, _slow = both(builder, recipient("José\r\nBcc: victim@example.com\r\n\r\nbody"))
    message = parse(fast.data)
    assert "Bcc" not in message
    assert "victim" not in fast.data.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("=?utf-8?b?", "")
    assert message["To"].addresses[0].addr_spec == "ana.perez@example.com"
    assert "\n" not in message["To"].addresses[0].display_name


def test_markup_in_a_name_is_escaped_in_html_and_left_alone_in_text(builder: MessageBuilder) -> None:
    _compiled, fast, _slow = both(builder, recipient("<script>alert(1)</script>"))
    message = parse(fast.data)
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in message.get_body(("plain",)).get_content()


def test_lines_are_within_the_limits(builder: MessageBuilder) -> None:
    _compiled, fast, _slow = both(builder, recipient(NAMES[4] * 2))
    head, body = fast.data.split(b"\r\n\r\n", 1)
    assert b"\n" not in fast.data.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    for word in re.findall(rb"=\?utf-8\?b\?[^?]*\?=", head):
        assert len(word) <= 75
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))  # quoted-printable
    assert fast.data.isascii()


def test_links_carry_valid_tokens_for_the_person_and_the_delivery(builder: MessageBuilder) -> None:
    _compiled, fast, _slow = both(builder, recipient("Ana"))
    message = parse(fast.data)
    text = message.get_body(("plain",)).get_content()
    signer = builder.signer
    unsubscribe = message["List-Unsubscribe"].strip("<> ")
    assert signer.unsign(Purpose.MANAGE, unsubscribe.rsplit("/", 1)[1]) == 42
    [apply] = re.findall(r"http://testserver/apply/([\w.-]+)", text)
    assert signer.unsign(Purpose.INVITATION, apply) == 7


def test_tokens_are_the_ones_the_link_signer_makes(settings: Settings) -> None:
    signer = LinkSigner(settings.secret())
    for purpose in (Purpose.MANAGE, Purpose.INVITATION):
        minter = TokenMinter(signer, purpose)
        for object_id in (1, 42, 10**9):
            for _ in range(3):  # both within the same second (that's in the token)
                second = int(time.time())
                fast, slow = minter(object_id), signer.sign(purpose, object_id)
                if int(time.time()) == second:
                    break
            assert fast == slow
            assert signer.unsign(purpose, fast) == object_id


class PublicSide:
    """A LinkSigner as code outside subscribers/tokens.py may see it: no private attributes."""

    def __init__(self, signer: LinkSigner) -> None:
        self.signer = signer

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(f"{name} is private to LinkSigner")
        return getattr(self.signer, name)


def test_the_minter_needs_only_the_link_signers_public_side(settings: Settings) -> None:
    signer = LinkSigner(settings.secret())
    minter = TokenMinter(PublicSide(signer), Purpose.MANAGE)  # type: ignore[arg-type]  # a duck-typed LinkSigner
    assert signer.unsign(Purpose.MANAGE, minter(42)) == 42


def test_message_ids_are_stable_per_delivery_and_unique_across_deliveries(builder: MessageBuilder) -> None:
    ids = {builder.delivery_message_id(n) for n in range(1000)}
    assert len(ids) == 1000
    assert builder.delivery_message_id(5) == builder.delivery_message_id(5)
    assert all(re.fullmatch(r"<[0-9a-f]{32}@example\.gov>", i) for i in ids)


@pytest.mark.parametrize("text", ["Ana", "José", "🧵" * 30, "a" * 200, "Ñ" * 100 + "é"])
def test_encoded_words_decode_back(text: str) -> None:
    from email.header import decode_header, make_header

    encoded = encoded_words(text)
    assert all(len(word) <= 75 for word in encoded.split("\r\n "))
    assert str(make_header(decode_header(encoded.replace("\r\n", "")))) == text


@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(name=st.text(max_size=120), organization=st.text(max_size=60))
def test_any_name_and_organization_arrive_as_typed_and_break_nothing(
    builder: MessageBuilder, name: str, organization: str
) -> None:
    person = Recipient(
        address="someone@example.com",
        subscriber_id=5,
        name=one_line(name),
        organization=one_line(organization),
        language="en",
        topics=["pilot_updates"],
    )
    compiled = CompiledCampaign(builder, template="news", values_for=lambda lang: CAMPAIGN_VALUES)
    data = compiled.message(person, delivery_id=9, message_id="<m@example.gov>").data
    assert data.isascii()
    head, body = data.split(b"\r\n\r\n", 1)
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert all(len(line) <= 76 and not line.startswith(b".") for line in body.split(b"\r\n"))
    message = parse(data)
    assert sorted(message.keys()) == sorted(
        ["From", "Subject", "To", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
         "Content-Language", "MIME-Version", "Content-Type"]
    )  # fmt: skip
    [to] = message["To"].addresses
    assert to.addr_spec == "someone@example.com"
    # Python's address parser puts a space between two encoded words (RFC 2047 says to join them).
    assert squeeze(to.display_name).replace(" ", "") == squeeze(person.name[:100]).replace(" ", "")
    assert squeeze(message["Subject"]) == squeeze(f"News for {person.name or 'you'} — Made in LA")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Hello {person.name} of {person.organization} (someone@example.com)" in text
    assert f"<b>{escape(person.name)}</b> of {escape(person.organization)}" in html
