"""Erasure removes a person's personal data everywhere we keep it, and keeps them from ever coming back."""

from __future__ import annotations

import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from outreach import contact_import
from outreach import erasure as mail_erasure
from outreach.models import Campaign, CampaignKind, Delivery, DeliveryState
from outreach.queue import enqueue_transactional, utcnow
from subscribers import erasure, importing
from subscribers.addresses import InvalidEmail, email_hash
from subscribers.models import AuditEvent, BusinessProfile, Status, Subscriber, Suppression
from subscribers.registry import change_status, record, suppression_reason


async def make_person(email: str = "ana@example.com") -> Subscriber:
    person = await Subscriber.create(
        email=email, name="Ana García", organization="Taller Ana", status=Status.PENDING
    )
    await record(person.id, "status", "", "pending", "form")
    await change_status(person, Status.ACTIVE, actor="form")
    await BusinessProfile.create(subscriber=person, legal_name="Taller Ana LLC", principal_zip="90011")
    return person


@pytest.fixture
async def person(db: str) -> Subscriber:
    return await make_person()


async def test_erase_removes_the_person_their_profile_and_their_address_from_mail(person: Subscriber) -> None:
    campaign = await Campaign.create(kind=CampaignKind.PILOT_UPDATE, template="pilot_update")
    sent = await Delivery.create(
        campaign=campaign,
        subscriber=person,
        address=person.email,
        template="pilot_update",
        context={"name": "Ana"},
        state=DeliveryState.SENT,
        last_reply="250 2.0.0 Ok: queued as ana@example.com",
        next_attempt_at=utcnow(),
    )
    waiting = await enqueue_transactional(
        address=person.email, template="confirm", language="es", subscriber_id=person.id
    )
    stray = await enqueue_transactional(
        address=person.email, template="test", language="en"
    )  # no subscriber link
    someone_else = await make_person("bo@example.com")
    other_mail = await enqueue_transactional(
        address=someone_else.email, template="confirm", language="en", subscriber_id=someone_else.id
    )
    events_before = await AuditEvent.filter(subscriber_id=person.id).count()

    result = await mail_erasure.erase(" ANA@example.com ", actor="cli")

    assert result.found and result.subscriber_id == person.id
    assert (result.deliveries, result.cancelled, result.was_suppressed) == (3, 2, None)
    assert not await Subscriber.filter(id=person.id).exists()
    assert not await BusinessProfile.filter(subscriber_id=person.id).exists()

    for delivery_id in (sent.id, waiting.id, stray.id):
        row = await Delivery.get(id=delivery_id)
        assert (row.address, row.context, row.subscriber_id) == ("", {}, None)
        assert "@" not in row.last_reply
    assert (await Delivery.get(id=sent.id)).state == DeliveryState.SENT  # the campaign's counts still add up
    assert (await Delivery.get(id=waiting.id)).state == DeliveryState.SUPPRESSED
    assert (await Delivery.get(id=stray.id)).state == DeliveryState.SUPPRESSED

    kept = (
        await AuditEvent.filter(subscriber_id__isnull=True)
        .order_by("id")
        .values_list("action", "new_value", "actor")
    )
    assert len(kept) == events_before + 1
    assert kept[-1] == ("erased", "", "cli")
    assert await suppression_reason("ana@example.com") == "erased"

    # Nobody else was touched.
    assert await Subscriber.filter(id=someone_else.id).exists()
    assert (await Delivery.get(id=other_mail.id)).address == "bo@example.com"
    assert await AuditEvent.filter(subscriber_id=someone_else.id).count() == 2


async def test_no_trace_of_the_address_is_left_in_the_database(person: Subscriber) -> None:
    await enqueue_transactional(
        address=person.email, template="confirm", language="es", subscriber_id=person.id
    )
    await mail_erasure.erase(person.email, actor="cli")
    dumps = []
    for model in (Subscriber, BusinessProfile, AuditEvent, Suppression, Delivery):
        dumps += [str(row) for row in await model.all().values()]
    text = "\n".join(dumps)
    assert "ana@example.com" not in text
    assert "Ana García" not in text
    assert email_hash("ana@example.com") in text  # the suppression key, which can't be reversed


async def test_an_erased_address_is_never_imported_again(person: Subscriber) -> None:
    await mail_erasure.erase(person.email, actor="cli")
    parsed = importing.read_csv(b"email\nana@example.com\n")
    report = await contact_import.import_people(parsed, consent_source="Coalition list")
    assert report.imported == 0
    assert "erased" in report.skipped[0].reason
    assert not await Subscriber.filter(email="ana@example.com").exists()


async def test_erasing_again_is_harmless(person: Subscriber) -> None:
    await mail_erasure.erase(person.email, actor="cli")
    again = await mail_erasure.erase(person.email, actor="cli")
    assert not again.found
    assert again.was_suppressed == "erased"
    assert await Suppression.filter(email_hash=email_hash(person.email)).count() == 1


async def test_erasure_outranks_an_earlier_unsubscribe(person: Subscriber) -> None:
    await change_status(person, Status.UNSUBSCRIBED, actor="unsubscribe-link")
    assert await suppression_reason(person.email) == "unsubscribed"
    result = await mail_erasure.erase(person.email, actor="cli")
    assert result.was_suppressed == "unsubscribed"
    assert await suppression_reason(person.email) == "erased"


async def test_an_unknown_address_is_still_suppressed(db: str) -> None:
    target = await erasure.look_up("nobody@example.com")
    assert (target.person, target.suppression) == (None, None)
    result = await mail_erasure.erase("nobody@example.com", actor="cli")
    assert not result.found
    assert await suppression_reason("nobody@example.com") == "erased"
    assert await AuditEvent.all().count() == 0  # nothing happened to anyone we know


async def test_look_up_shows_who_would_be_erased(person: Subscriber) -> None:
    target = await erasure.look_up("Ana@Example.com")
    assert target.person is not None and target.person.id == person.id
    assert target.suppression is None


async def test_not_an_address(db: str) -> None:
    with pytest.raises(InvalidEmail):
        await mail_erasure.erase("ana at example", actor="cli")
    with pytest.raises(InvalidEmail):
        await erasure.look_up("")


def write_outbox(folder: Path, to: str, name: str = "Ana García") -> Path:
    """A message as the embedded transport leaves it: `<time>-<id>.eml`, headers first."""
    message = EmailMessage(policy=SMTP)
    message["From"] = "Made in LA <madeinla@example.gov>"
    message["To"] = Address(display_name=name, addr_spec=to) if "," not in to else to
    message["Subject"] = "Confirm your Made in LA updates"
    message.set_content(f"Hello {name}, {to}")
    folder.mkdir(exist_ok=True)
    path = folder / f"{len(list(folder.iterdir())):06d}.000000-{uuid.uuid4().hex[:12]}.eml"
    path.write_bytes(message.as_bytes())
    return path


async def test_erasure_deletes_the_outbox_copies_of_mail_to_them(person: Subscriber, tmp_path: Path) -> None:
    """The embedded transport keeps every message as a file: erasure must not leave those behind."""
    outbox = tmp_path / "outbox"
    theirs = [
        write_outbox(outbox, "ana@example.com"),
        write_outbox(outbox, "Ana@EXAMPLE.com", name=""),
        write_outbox(outbox, '"Ana García" <ana@example.com>, bo@example.com'),
    ]
    others = [
        write_outbox(outbox, "diana@example.com", name="Diana"),  # contains the address as text
        write_outbox(outbox, "ana@example.com.evil.test", name="Ana"),
        write_outbox(outbox, "bo@example.com", name="Bo"),
    ]
    (outbox / "garbage.eml").write_bytes(b"\xff\xfe not an email \x00")
    (outbox / "notes.txt").write_text("To: ana@example.com\n")  # not the transport's file

    result = await mail_erasure.erase("ANA@example.com", actor="cli", outbox_dir=outbox)

    assert result.outbox_files == 3
    assert not any(path.exists() for path in theirs)
    assert all(path.exists() for path in others)
    assert (outbox / "garbage.eml").exists() and (outbox / "notes.txt").exists()


async def test_outbox_copies_match_whatever_form_the_domain_is_in(db: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    write_outbox(outbox, "ana@xn--bcher-kva.de")
    write_outbox(outbox, "ana@bücher.de")  # written before addresses were stored in ASCII
    result = await mail_erasure.erase("Ana@Bücher.de", actor="cli", outbox_dir=outbox)
    assert result.outbox_files == 2 and list(outbox.iterdir()) == []


async def test_a_missing_outbox_folder_is_fine(person: Subscriber, tmp_path: Path) -> None:
    result = await mail_erasure.erase(person.email, actor="cli", outbox_dir=tmp_path / "never-made")
    assert result.found and result.outbox_files == 0


async def test_erasure_finds_their_messages_by_index_not_by_reading_every_message(person: Subscriber) -> None:
    """Erasing reads the messages to an address; with 100,000 deliveries a scan of the table took
    most of the time (bench/erase.py). The plan must use an index for both the address and the id."""
    query = mail_erasure.their_messages(person.email, person.id)
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        # Planners prefer a scan of a small table; forbidding it shows whether an index could serve.
        async with in_transaction() as tx:
            await tx.execute_script("SET LOCAL enable_seqscan = off")
            _, rows = await tx.execute_query("EXPLAIN " + query.sql(params_inline=True))
        plan = "\n".join(row[0] for row in rows)
        assert "Seq Scan" not in plan, plan
    else:
        _, rows = await conn.execute_query("EXPLAIN QUERY PLAN " + query.sql(params_inline=True))
        plan = "\n".join(str(row[-1]) for row in rows)
        assert "SCAN delivery" not in plan and "INDEX" in plan, plan
