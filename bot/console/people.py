"""People: search and filter, a person's page, add one, correct details, erase, import a CSV
(a dry run first, then the import with progress), and export the current filter as CSV.

Thin over `subscribers.directory`, `subscribers.people`, `subscribers.importing` and
`outreach.campaigns.deliveries_for_person`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from bot.console.access import current_staff, form_of, problem, redirect, render, staff_route
from bot.console.access import field as form_field
from bot.console.parts import ConsoleParts
from outreach import contact_import
from outreach.campaigns import deliveries_for_person
from outreach.erasure import erase_subscriber
from subscribers import directory, importing
from subscribers.models import Language, Role, Status, Topic
from subscribers.people import (
    PersonError,
    add_person,
    check_details,
    check_reason,
    correct_details,
    person_record,
)
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import ActionSource, StaffRole

log = logging.getLogger(__name__)

MENU = [("People", "/staff/people", StaffRole.VIEWER)]
PAGE_SIZE = 50
UPLOAD_LIFETIME = dt.timedelta(hours=1)

ROLE_LABELS = {
    "manufacturer": "Manufacturer",
    "working_group": "Working-group member",
    "county_staff": "County staff",
    "other": "Other",
}
TOPIC_LABELS = {
    "pilot_updates": "Pilot updates",
    "application_invitations": "Application invitations",
    "working_group": "Working-group news",
}
LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}


def _actor(request: Request) -> Actor:
    return Actor.of_staff(current_staff(request), ActionSource.CONSOLE)


def _options() -> dict[str, Any]:
    return {
        "role_options": list(ROLE_LABELS.items()),
        "status_options": [(s.value, s.value.capitalize()) for s in Status],
        "language_options": list(LANGUAGE_LABELS.items()),
        "topic_options": list(TOPIC_LABELS.items()),
    }


# Search -------------------------------------------------------------------------------------------


def _filters(request: Request) -> tuple[directory.PeopleFilter, dict[str, str], dict[str, str]]:
    """The filter from the query string, the values to show back, and field errors."""
    query = request.query_params
    values = {
        key: query.get(key, "").strip()[:200] for key in ("q", "role", "status", "language", "topic", "zip")
    }
    errors: dict[str, str] = {}

    def choice(name: str, enum: Any) -> Any:
        if not values[name]:
            return None
        try:
            return enum(values[name])
        except ValueError:
            errors[name] = f"Choose a {name} from the list"
            return None

    zip_code = values["zip"]
    if zip_code and not (zip_code.isdigit() and 1 <= len(zip_code) <= 5):
        errors["zip"] = "Enter a ZIP code or its start, like 90021 or 900"
        zip_code = ""
    filters = directory.PeopleFilter(
        text=values["q"],
        role=choice("role", Role),
        status=choice("status", Status),
        language=choice("language", Language),
        topic=choice("topic", Topic),
        zip=zip_code,
    )
    return filters, values, errors


async def people_page(request: Request) -> Response:
    filters, values, errors = _filters(request)
    after_text = request.query_params.get("after", "0")
    after = int(after_text) if after_text.isdigit() and len(after_text) < 12 else 0
    page = await directory.search_people(filters, after=after, limit=PAGE_SIZE) if not errors else None
    kept = {key: value for key, value in values.items() if value}
    return render(
        request,
        "people.html",
        {
            **_options(),
            "values": values,
            "people": page.people if page else [],
            "next_url": f"/staff/people?{urlencode({**kept, 'after': page.next_after})}"
            if page and page.next_after
            else "",
            "first_url": f"/staff/people?{urlencode(kept)}" if after else "",
            "export_url": f"/staff/people/export.csv?{urlencode(kept)}",
            "filtered": bool(kept),
            "role_labels": ROLE_LABELS,
        },
        errors=errors,
        status=400 if errors else 200,
    )


async def export_people(request: Request) -> Response:
    filters, _values, errors = _filters(request)
    if errors:
        return problem(request, "The filter can't be used", list(errors.values()), 400)
    await record_action(_actor(request), "people.export", detail=_describe(filters))

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        _stream_export(filters),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="people-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _stream_export(filters: directory.PeopleFilter) -> AsyncIterator[bytes]:
    yield "\ufeff".encode()  # Excel shows accents only with a byte-order mark
    async for chunk in directory.export_chunks(filters):
        yield chunk.encode()


def _describe(filters: directory.PeopleFilter) -> str:
    parts = [
        f"{name}={getattr(value, 'value', value)}"
        for name, value in (
            ("role", filters.role),
            ("status", filters.status),
            ("language", filters.language),
            ("topic", filters.topic),
            ("zip", filters.zip),
        )
        if value
    ]
    if filters.text:
        parts.append("with a search")
    return "filter: " + (", ".join(parts) or "everyone")


# One person ---------------------------------------------------------------------------------------


async def person_page(request: Request) -> Response:
    found = await person_record(request.path_params["person_id"])
    if found is None:
        return problem(
            request,
            "Not found",
            ["Nobody in the registry has this number (erased?)."],
            404,
            link=("Back to people", "/staff/people"),
        )
    deliveries = await deliveries_for_person(found.person.email)
    return render(
        request,
        "person.html",
        {
            "record": found,
            "person": found.person,
            "deliveries": deliveries,
            "role_labels": ROLE_LABELS,
            "topic_labels": TOPIC_LABELS,
            "language_labels": LANGUAGE_LABELS,
        },
    )


def _details_values(form: Any) -> tuple[dict[str, str], list[str]]:
    values = {
        name: form_field(form, name)
        for name in ("email", "name", "organization", "role", "language", "zip", "consent_source", "reason")
    }
    topics = [value for value in form.getlist("topics") if isinstance(value, str)]
    return values, topics


async def new_person_page(request: Request) -> Response:
    values = {
        "email": "",
        "name": "",
        "organization": "",
        "role": "manufacturer",
        "language": "en",
        "zip": "",
        "consent_source": "",
        "reason": "",
    }
    return _person_form(request, "person_new.html", values, ["pilot_updates", "application_invitations"])


def _person_form(
    request: Request,
    template: str,
    values: dict[str, str],
    topics: list[str],
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    return render(
        request,
        template,
        {**_options(), "values": values, "topics": topics, **extra},
        errors=_ordered(errors or {}),
        status=status,
    )


FIELD_ORDER = (
    "email",
    "name",
    "organization",
    "role",
    "language",
    "zip",
    "topics",
    "consent_source",
    "reason",
)


def _ordered(errors: dict[str, str]) -> dict[str, str]:
    return {name: errors[name] for name in (*FIELD_ORDER, *errors) if name in errors}


async def add_person_submit(request: Request) -> Response:
    values, topics = _details_values(form_of(request))
    try:
        details = check_details(values, topics)
        added = await add_person(
            details, consent_source=values["consent_source"], reason=values["reason"], actor=_actor(request)
        )
    except PersonError as exc:
        errors = dict(exc.errors)
        # Show every problem at once, not the details first and the reason after.
        try:
            check_reason(values["reason"])
        except PersonError as more:
            errors.update({k: v for k, v in more.errors.items() if k not in errors})
        try:
            importing.clean_consent_source(values["consent_source"])
        except ValueError:
            errors.setdefault("consent_source", "Say where this person agreed to be emailed, in one line")
        return _person_form(request, "person_new.html", values, topics, errors, status=400)
    if added.subscriber_id is None:
        return _person_form(
            request, "person_new.html", values, topics, {"email": f"Not added: {added.why_not}"}, status=400
        )
    return redirect(request, f"/staff/people/{added.subscriber_id}", notice="Added, and active.")


async def edit_person_page(request: Request) -> Response:
    found = await person_record(request.path_params["person_id"])
    if found is None:
        return problem(request, "Not found", ["Nobody in the registry has this number."], 404)
    person = found.person
    values = {
        "email": person.email,
        "name": person.name,
        "organization": person.organization,
        "role": person.role.value,
        "language": person.language.value,
        "zip": person.zip,
        "reason": "",
    }
    return _person_form(request, "person_edit.html", values, person.topics, person=person)


async def edit_person_submit(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    found = await person_record(person_id)
    if found is None:
        return problem(request, "Not found", ["Nobody in the registry has this number."], 404)
    values, topics = _details_values(form_of(request))
    try:
        details = check_details(values, topics)
        changed = await correct_details(person_id, details, reason=values["reason"], actor=_actor(request))
    except PersonError as exc:
        errors = dict(exc.errors)
        if not values["reason"].strip():
            errors.setdefault("reason", "Say why, for the audit log")
        return _person_form(
            request, "person_edit.html", values, topics, errors, status=400, person=found.person
        )
    notice = f"Changed: {', '.join(changed)}." if changed else "Nothing was different, so nothing changed."
    return redirect(request, f"/staff/people/{person_id}", notice=notice)


async def erase_page(request: Request) -> Response:
    found = await person_record(request.path_params["person_id"])
    if found is None:
        return problem(
            request, "Not found", ["Nobody in the registry has this number (erased already?)."], 404
        )
    return render(request, "person_erase.html", {"person": found.person})


async def erase_submit(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    if form_field(form_of(request), "confirm") != "yes":
        found = await person_record(person_id)
        if found is None:
            return problem(request, "Not found", ["Nobody in the registry has this number."], 404)
        return render(
            request,
            "person_erase.html",
            {"person": found.person},
            errors={"confirm": "Tick the box to confirm the erasure"},
            status=400,
        )
    parts = ConsoleParts.of(request)
    try:
        result = await erase_subscriber(
            person_id, actor=_actor(request), outbox_dir=parts.settings.outbox_dir
        )
    except PersonError as exc:
        return problem(request, "Not erased", list(exc.errors.values()), 404)
    return redirect(
        request,
        "/staff/people",
        notice=f"Person #{person_id} was erased. Kept: the audit trail without personal data, and the "
        f"address as a hash on the suppression list. {result.outbox_files} outbox copies deleted.",
    )


# Import -------------------------------------------------------------------------------------------


@dataclass
class Upload:
    staff_id: int
    name: str
    data: bytes
    created: dt.datetime


@dataclass
class ImportJob:
    staff_id: int
    name: str
    phase: str = "check"
    done: int = 0
    total: int = 0
    finished: bool = False
    report: importing.ImportReport | None = None
    error: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def progress(self, phase: str, done: int, total: int) -> None:
        self.phase, self.done, self.total = phase, done, total


def _store(request: Request) -> dict[str, Any]:
    parts = ConsoleParts.of(request)
    store = parts.runtime.extras.setdefault("console_imports", {"uploads": {}, "jobs": {}})
    assert isinstance(store, dict)
    now = dt.datetime.now(dt.UTC)
    for key, upload in list(store["uploads"].items()):
        if now - upload.created > UPLOAD_LIFETIME:
            del store["uploads"][key]
    return store


def _import_options(form: Any) -> tuple[dict[str, str], list[str]]:
    values = {name: form_field(form, name) for name in ("role", "language", "consent_source", "skip_invalid")}
    return values, [value for value in form.getlist("topics") if isinstance(value, str)]


async def import_page(request: Request) -> Response:
    return render(
        request,
        "people_import.html",
        {
            **_options(),
            "values": {"role": "", "language": "", "consent_source": "", "skip_invalid": ""},
            "topics": [],
            "report": None,
            "upload": "",
        },
    )


def _defaults(values: dict[str, str], topics: list[str]) -> tuple[importing.Defaults, dict[str, str]]:
    errors: dict[str, str] = {}
    role = language = None
    chosen: frozenset[Topic] | None = None
    try:
        role = Role(values["role"]) if values["role"] else None
    except ValueError:
        errors["role"] = "Choose a role from the list"
    try:
        language = Language(values["language"]) if values["language"] else None
    except ValueError:
        errors["language"] = "Choose a language from the list"
    try:
        chosen = frozenset(Topic(name) for name in topics) or None
    except ValueError:
        errors["topics"] = "Choose topics from the list"
    return importing.Defaults(role=role, language=language, topics=chosen), errors


async def import_check(request: Request) -> Response:
    """The dry run: read and check the file, compare with the registry, write nothing."""
    form = form_of(request)
    values, topics = _import_options(form)
    store = _store(request)
    staff = current_staff(request)
    upload_key = form_field(form, "upload")
    file = form.get("file")
    errors: dict[str, str] = {}
    data, name = b"", ""
    if isinstance(file, UploadFile) and file.filename:
        name = file.filename[:100]
        data = await file.read(importing.MAX_FILE_BYTES + 1)
    elif upload_key in store["uploads"] and store["uploads"][upload_key].staff_id == staff.id:
        kept = store["uploads"][upload_key]
        data, name = kept.data, kept.name
    else:
        errors["file"] = "Choose a CSV file to upload"
    defaults, option_errors = _defaults(values, topics)
    errors.update(option_errors)
    source = None
    if values["consent_source"].strip():
        try:
            source = importing.clean_consent_source(values["consent_source"])
        except ValueError as exc:
            errors["consent_source"] = str(exc).replace("--consent-source", "The consent source")
    report = parsed = None
    if not errors:
        try:
            if len(data) > importing.MAX_FILE_BYTES:
                raise importing.ImportFileError("the file is larger than 100 MB: split it into smaller files")
            parsed = importing.read_csv(data, defaults)
            report = await contact_import.import_people(
                parsed, consent_source=source, dry_run=True, skip_invalid=bool(values["skip_invalid"])
            )
        except importing.ImportFileError as exc:
            errors["file"] = f"{name}: {exc}"
    key = ""
    if report is not None:
        key = secrets.token_urlsafe(16)
        store["uploads"][key] = Upload(staff.id, name, data, dt.datetime.now(dt.UTC))
    return render(
        request,
        "people_import.html",
        {
            **_options(),
            "values": values,
            "topics": topics,
            "report": report,
            "parsed": parsed,
            "upload": key,
            "file_name": name,
            "blocked": bool(report and report.rejected and not values["skip_invalid"]),
        },
        errors=errors,
        status=400 if errors else 200,
    )


async def import_run(request: Request) -> Response:
    form = form_of(request)
    values, topics = _import_options(form)
    store = _store(request)
    staff = current_staff(request)
    upload = store["uploads"].pop(form_field(form, "upload"), None)
    if upload is None or upload.staff_id != staff.id:
        return problem(
            request,
            "Upload the file again",
            ["The checked file is no longer here (it is kept for an hour). Nothing was imported."],
            400,
            link=("Import a CSV file", "/staff/people/import"),
        )
    defaults, errors = _defaults(values, topics)
    source = (
        importing.clean_consent_source(values["consent_source"]) if values["consent_source"].strip() else None
    )
    if errors:
        return problem(request, "The import options are wrong", list(errors.values()), 400)
    job_id = secrets.token_urlsafe(12)
    job = ImportJob(staff_id=staff.id, name=upload.name)
    store["jobs"][job_id] = job
    actor = _actor(request)
    parts = ConsoleParts.of(request)

    async def work() -> None:
        try:
            parsed = importing.read_csv(upload.data, defaults, on_progress=job.progress)
            job.report = await contact_import.import_people(
                parsed,
                consent_source=source,
                on_progress=job.progress,
                skip_invalid=bool(values["skip_invalid"]),
            )
            if job.report.written:
                await record_action(
                    actor,
                    "people.import",
                    detail=f"{job.report.imported} people from a CSV "
                    f"file, {'consent: ' + source if source else 'pending, confirmation emails'}",
                )
                parts.runtime.sender.wake()
        except (importing.ImportFileError, importing.ImportConflict) as exc:
            job.error = str(exc)
        except Exception:
            log.exception("console import failed")
            job.error = "The import failed and nothing was imported. Try again."
        finally:
            job.finished = True

    job.task = asyncio.create_task(work(), name=f"console-import-{job_id}")
    return redirect(request, f"/staff/people/import/{job_id}")


async def import_progress(request: Request) -> Response:
    store = _store(request)
    job = store["jobs"].get(request.path_params["job"])
    if job is None or job.staff_id != current_staff(request).id:
        return problem(
            request,
            "No such import",
            ["This import is not known (the service may have restarted)."],
            404,
            link=("People", "/staff/people"),
        )
    template = "people_import_progress.html"
    if request.headers.get("hx-request") == "true":
        template = "people_import_status.html"
    return render(request, template, {"job": job, "job_id": request.path_params["job"]})


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/people", people_page, role=StaffRole.VIEWER),
        staff_route("/staff/people/export.csv", export_people, role=StaffRole.EDITOR),
        staff_route("/staff/people/new", new_person_page, role=StaffRole.EDITOR),
        staff_route(
            "/staff/people/new", add_person_submit, role=StaffRole.EDITOR, methods=["POST"], name="add_person"
        ),
        staff_route("/staff/people/import", import_page, role=StaffRole.EDITOR),
        staff_route("/staff/people/import/check", import_check, role=StaffRole.EDITOR, methods=["POST"]),
        staff_route("/staff/people/import/run", import_run, role=StaffRole.EDITOR, methods=["POST"]),
        staff_route("/staff/people/import/{job}", import_progress, role=StaffRole.EDITOR),
        staff_route("/staff/people/{person_id:int}", person_page, role=StaffRole.VIEWER),
        staff_route("/staff/people/{person_id:int}/edit", edit_person_page, role=StaffRole.EDITOR),
        staff_route(
            "/staff/people/{person_id:int}/edit",
            edit_person_submit,
            role=StaffRole.EDITOR,
            methods=["POST"],
            name="edit_person",
        ),
        staff_route("/staff/people/{person_id:int}/erase", erase_page, role=StaffRole.EDITOR),
        staff_route(
            "/staff/people/{person_id:int}/erase",
            erase_submit,
            role=StaffRole.EDITOR,
            methods=["POST"],
            name="erase_person",
        ),
    ]
