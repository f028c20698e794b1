"""People in the console: search and filters, a person's page, add, correct, erase, CSV import
(dry run, then the import with progress) and export. Faces over the same services as the CLI."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx

from outreach.models import Delivery, DeliveryState
from subscribers.models import AuditEvent, Status, Subscriber, Suppression
from subscribers.staff_models import StaffAction
from tests.console.conftest import SignedInClient
from tests.console.support import post_form
from tests.outreach.people import person
from tests.web.support import csrf_token


async def some_people() -> None:
    await person(
        "ana@example.com",
        name="Ana López",
        organization="López Uniforms",
        language="es",
        profile={"products": "work uniforms, face masks"},
    )
    await person(
        "ben@example.com",
        name="Ben Ortiz",
        organization="Ortiz Foods",
        role="working_group",
        zip="90058",
        topics=["working_group"],
    )
    await person("cy@example.com", name="Cy", status=Status.UNSUBSCRIBED)


async def test_search_and_filters(signed_in: SignedInClient) -> None:
    await some_people()
    viewer = await signed_in("v@lacounty.gov", "viewer")

    async def found(query: str) -> list[str]:
        response = await viewer.get(f"/staff/people?{query}")
        assert response.status_code == 200, response.text
        return sorted(
            e for e in ("ana@example.com", "ben@example.com", "cy@example.com") if e in response.text
        )

    assert await found("") == ["ana@example.com", "ben@example.com", "cy@example.com"]
    assert await found("q=l%C3%B3pez") == ["ana@example.com"]  # name, accents
    assert await found("q=ORTIZ+FOODS") == ["ben@example.com"]  # organization, any case
    assert await found("q=face+masks") == ["ana@example.com"]  # a product
    assert await found("q=Ben@Example.com") == ["ben@example.com"]  # an address
    assert await found("role=working_group") == ["ben@example.com"]
    assert await found("status=unsubscribed") == ["cy@example.com"]
    assert await found("language=es") == ["ana@example.com"]
    assert await found("topic=application_invitations&status=active") == ["ana@example.com"]
    assert await found("zip=9005") == ["ben@example.com"]
    bad = await viewer.get("/staff/people?zip=abc&role=king")
    assert bad.status_code == 400 and 'id="zip-error"' in bad.text and 'id="role-error"' in bad.text


async def test_pages_go_on_by_id(signed_in: SignedInClient) -> None:
    for i in range(120):
        await person(f"p{i:03d}@example.com")
    viewer = await signed_in("v@lacounty.gov", "viewer")
    first = await viewer.get("/staff/people")
    assert "p049@example.com" in first.text and "p050@example.com" not in first.text
    next_url = first.text.split('href="/staff/people?after=')[1].split('"')[0]
    second = await viewer.get(f"/staff/people?after={next_url}")
    assert "p050@example.com" in second.text and "p049@example.com" not in second.text


async def test_a_persons_page_shows_consent_changes_and_messages(signed_in: SignedInClient) -> None:
    await some_people()
    ana = await Subscriber.get(email="ana@example.com")
    await AuditEvent.create(
        subscriber=ana, action="status", old_value="pending", new_value="active", actor="form"
    )
    await Delivery.create(
        subscriber=ana,
        address=ana.email,
        template="confirm",
        state=DeliveryState.SENT,
        last_reply="250 2.0.0 Ok: queued as 4F2",
        next_attempt_at=ana.created_at,
    )
    viewer = await signed_in("v@lacounty.gov", "viewer")
    page = await viewer.get(f"/staff/people/{ana.id}")
    assert page.status_code == 200
    for text in ("López Uniforms", "work uniforms", "pending", "250 2.0.0 Ok: queued as 4F2", "Consent"):
        assert text in page.text
    assert "Erase this person" not in page.text  # a viewer sees no editing buttons
    assert (await viewer.get("/staff/people/999999")).status_code == 404


async def test_add_a_person_with_consent_source_and_reason(signed_in: SignedInClient) -> None:
    editor = await signed_in("e@lacounty.gov", "editor")
    empty = await post_form(editor, "/staff/people/new", "/staff/people/new", {"email": "x"})
    assert empty.status_code == 400
    for name in ("email", "topics", "consent_source", "reason"):
        assert f'id="{name}-error"' in empty.text, name
    response = await post_form(
        editor,
        "/staff/people/new",
        "/staff/people/new",
        {
            "email": "Dee@Example.com",
            "name": "Dee",
            "role": "manufacturer",
            "language": "es",
            "topics": ["pilot_updates"],
            "consent_source": "Workshop sheet, 3 March",
            "reason": "asked at the workshop",
        },
    )
    assert response.status_code == 303
    dee = await Subscriber.get(email="dee@example.com")
    assert dee.status == Status.ACTIVE and dee.consent_source == "Workshop sheet, 3 March"
    action = await StaffAction.get(action="person.add")
    assert action.actor == "e@lacounty.gov" and action.subscriber_id == dee.id and "workshop" in action.detail
    again = await post_form(
        editor,
        "/staff/people/new",
        "/staff/people/new",
        {"email": "dee@example.com", "topics": ["pilot_updates"], "consent_source": "x", "reason": "y"},
    )
    assert again.status_code == 400 and "already in the registry" in again.text


async def test_correct_details_is_audited(signed_in: SignedInClient) -> None:
    await some_people()
    ana = await Subscriber.get(email="ana@example.com")
    editor = await signed_in("e@lacounty.gov", "editor")
    page = f"/staff/people/{ana.id}/edit"
    data = {
        "email": "ana.lopez@example.com",
        "name": "Ana López",
        "organization": "López Uniforms LLC",
        "role": "manufacturer",
        "language": "es",
        "zip": "90021",
        "topics": ["pilot_updates"],
        "reason": "she phoned",
    }
    response = await post_form(editor, page, page, data)
    assert response.status_code == 303
    ana = await Subscriber.get(id=ana.id)
    assert ana.email == "ana.lopez@example.com" and ana.topics == ["pilot_updates"]
    event = await AuditEvent.get(subscriber_id=ana.id, action="details")
    assert event.new_value == "email, organization, topics" and "@" not in event.new_value
    assert await StaffAction.filter(action="person.correct", subscriber_id=ana.id).exists()
    taken = await post_form(editor, page, page, {**data, "email": "ben@example.com"})
    assert taken.status_code == 400 and "Another person already has this address" in taken.text


async def test_erase_needs_confirmation_and_says_what_is_kept(signed_in: SignedInClient) -> None:
    await some_people()
    ana = await Subscriber.get(email="ana@example.com")
    editor = await signed_in("e@lacounty.gov", "editor")
    confirm = await editor.get(f"/staff/people/{ana.id}/erase")
    assert "suppression list" in confirm.text and "audit trail" in confirm.text
    token = csrf_token(confirm.text)
    unticked = await editor.post(f"/staff/people/{ana.id}/erase", data={"csrf_token": token})
    assert unticked.status_code == 400 and await Subscriber.filter(id=ana.id).exists()
    done = await editor.post(f"/staff/people/{ana.id}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    assert not await Subscriber.filter(id=ana.id).exists()
    assert await Suppression.filter(reason="erased").count() == 1
    action = await StaffAction.get(action="person.erase")
    assert action.subscriber_id == ana.id and "@" not in action.detail


async def test_export_the_current_filter(signed_in: SignedInClient) -> None:
    await some_people()
    editor = await signed_in("e@lacounty.gov", "editor")
    response = await editor.get("/staff/people/export.csv?status=active&language=es")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["email"] for row in rows] == ["ana@example.com"]
    assert rows[0]["products"] == "work uniforms, face masks"
    assert await StaffAction.filter(action="people.export").exists()


async def test_csv_import_dry_run_then_import_with_progress(signed_in: SignedInClient) -> None:
    await person("known@example.com")
    editor = await signed_in("e@lacounty.gov", "editor")
    page = await editor.get("/staff/people/import")
    token = csrf_token(page.text)
    body = "email,name,role\nnew1@example.com,New One,manufacturer\nknown@example.com,,\nbad-address,,\n"
    checked = await editor.post(
        "/staff/people/import/check",
        data={"csrf_token": token, "consent_source": "Coalition list 2026"},
        files={"file": ("list.csv", body.encode(), "text/csv")},
    )
    assert checked.status_code == 200, checked.text
    assert "bad-address" in checked.text and "is not a valid address" in checked.text  # as the CLI says
    assert "already in the registry" in checked.text
    assert await Subscriber.all().count() == 1  # a dry run writes nothing
    upload = checked.text.split('name="upload" value="')[1].split('"')[0]
    blocked = 'action="/staff/people/import/check"' in checked.text
    assert blocked  # a rejected line blocks the import until staff choose to skip it
    again = await editor.post(
        "/staff/people/import/check",
        data={
            "csrf_token": token,
            "consent_source": "Coalition list 2026",
            "upload": upload,
            "skip_invalid": "yes",
        },
    )
    upload = again.text.split('name="upload" value="')[1].split('"')[0]
    assert "Import 1 people" in again.text
    started = await editor.post(
        "/staff/people/import/run",
        data={
            "csrf_token": token,
            "consent_source": "Coalition list 2026",
            "upload": upload,
            "skip_invalid": "yes",
        },
    )
    assert started.status_code == 303
    progress_url = started.headers["location"]
    for _ in range(200):
        status = await editor.get(progress_url, headers={"HX-Request": "true"})
        if "Imported" in status.text:
            break
        await asyncio.sleep(0.05)
    assert "Imported 1 people" in status.text
    new = await Subscriber.get(email="new1@example.com")
    assert new.status == Status.ACTIVE and new.consent_source == "Coalition list 2026"
    assert await StaffAction.filter(action="people.import", actor="e@lacounty.gov").exists()
    reused = await editor.post("/staff/people/import/run", data={"csrf_token": token, "upload": upload})
    assert reused.status_code == 400  # an upload is imported once


async def test_import_refuses_a_file_that_is_not_csv(signed_in: SignedInClient) -> None:
    editor = await signed_in("e@lacounty.gov", "editor")
    token = csrf_token((await editor.get("/staff/people/import")).text)
    response = await editor.post(
        "/staff/people/import/check",
        data={"csrf_token": token},
        files={"file": ("list.xlsx", b"PK\x03\x04rest", "application/octet-stream")},
    )
    assert response.status_code == 400 and "Excel workbook" in response.text
    none = await editor.post(
        "/staff/people/import/check", data={"csrf_token": token}, files={"x": ("", b"", "a/b")}
    )
    assert none.status_code == 400 and "Choose a CSV file" in none.text


async def _unused(client: httpx.AsyncClient) -> None:
    return None
