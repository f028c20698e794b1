"""Applications and the pool in the staff console: the review queue, one application with its
answers, screening and notes, the decisions (qualify, ask for information, decline: editor and
above; each audited and, for the applicant, emailed in their language), the pool with its search
and CSV, and the products list for ISD.

Thin over `subscribers.applications`, `subscribers.pool` and `outreach.application_mail`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from bot.console.access import current_staff, form_of, problem, redirect, render, staff_route
from bot.console.access import field as form_field
from bot.web.apply import application_link
from outreach import application_mail
from subscribers import applications, pool
from subscribers.application_models import ApplicationStatus, PoolEntry
from subscribers.applications import QUESTIONS, ApplicationFilter, DecisionError
from subscribers.product_categories import BY_CODE
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import ActionSource, StaffRole

MENU = [
    ("Applications", "/staff/applications", StaffRole.VIEWER),
    ("Pool", "/staff/pool", StaffRole.VIEWER),
]

STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted: to review",
    "info_requested": "Asked for information",
    "qualified": "Qualified (in the pool)",
    "declined": "Declined",
}
VERDICT_LABELS = {
    "looks_eligible": "Looks eligible",
    "needs_review": "Needs review",
    "not_eligible": "Not eligible",
}
ANSWER_LABELS = {
    "legal_name": "Legal name",
    "dba": "Doing business as",
    "principal_address": "Principal place of business",
    "principal_zip": "Principal ZIP",
    "production_sites": "Production sites",
    "production_zips": "Production ZIPs",
    "years_in_county": "Years in the County",
    "employees": "Employees (with affiliates)",
    "revenue_band": "Gross receipts (3-year average)",
    "naics": "NAICS",
    "cert_ca_sb": "State small business",
    "cert_lsbe": "County LSBE",
    "cert_other": "Other certifications",
    "products": "Products",
    "category": "Category",
    "capacity": "Capacity",
    "garment_work": "Garment work",
    "hourly_wage": "Pays minimum wage by the hour",
    "garment_registration": "Garment registration number",
    "wage_judgments": "Unpaid wage judgments",
    "debarred": "Debarred",
    "contact_name": "Contact",
    "contact_email": "Contact email",
    "contact_phone": "Contact phone",
    "consent": "Consents to contact",
}
# The form's choice -> (the decision, what the page then says).
DECISIONS = {
    "qualify": ("qualified", "Qualified: the business is in the pool, and the applicant was told."),
    "ask": (
        "info_requested",
        "Asked for information: the applicant got an email with your request and a link back.",
    ),
    "decline": ("declined", "Declined: the applicant got an email with your reason."),
}


def _actor(request: Request) -> Actor:
    return Actor.of_staff(current_staff(request), ActionSource.CONSOLE)


# The queue ------------------------------------------------------------------------------------------


async def queue_page(request: Request) -> Response:
    query = request.query_params
    values = {key: query.get(key, "").strip()[:200] for key in ("status", "verdict", "q")}
    if "status" not in query:
        values["status"] = "submitted"  # what needs a decision
    errors: dict[str, str] = {}
    status = None
    if values["status"] and values["status"] != "any":
        try:
            status = ApplicationStatus(values["status"])
        except ValueError:
            errors["status"] = "Choose a status from the list"
    if values["verdict"] and values["verdict"] not in VERDICT_LABELS:
        errors["verdict"] = "Choose a screening result from the list"
    found = (
        await applications.list_applications(
            ApplicationFilter(status=status, verdict=values["verdict"], text=values["q"])
        )
        if not errors
        else []
    )
    return render(
        request,
        "applications.html",
        {
            "values": values,
            "applications": found,
            "status_options": [("any", "Any status"), *STATUS_LABELS.items()],
            "verdict_options": list(VERDICT_LABELS.items()),
            "status_labels": STATUS_LABELS,
            "verdict_labels": VERDICT_LABELS,
        },
        errors=errors,
        status=400 if errors else 200,
    )


# One application ------------------------------------------------------------------------------------


async def application_page(request: Request) -> Response:
    found = await applications.get_application(request.path_params["application_id"])
    if found is None:
        return problem(
            request,
            "Not found",
            ["There is no application with this number."],
            404,
            link=("Back to applications", "/staff/applications"),
        )
    application, notes = found
    entry = await PoolEntry.get_or_none(application_id=application.id)
    answers = [(ANSWER_LABELS[name], _shown(name, application.answers.get(name, ""))) for name in QUESTIONS]
    return render(
        request,
        "application.html",
        {
            "application": application,
            "answers": answers,
            "notes": notes,
            "entry": entry,
            "status_label": STATUS_LABELS[application.status.value],
            "verdict_label": VERDICT_LABELS.get(application.verdict, "not screened yet"),
            "screening_text": applications.screening_text(application.screening),
            "can_decide": application.status in applications.DECIDABLE,
            "can_reopen": application.status == ApplicationStatus.QUALIFIED,
            "values": {"decision": "", "text": ""},
        },
    )


def _shown(name: str, value: str) -> str:
    if name == "category" and value in BY_CODE:
        return f"{value} {BY_CODE[value].en}"
    if name == "revenue_band":
        return {
            "under_1m": "under $1M",
            "1m_5m": "$1M to $5M",
            "5m_15m": "$5M to $15M",
            "over_15m": "over $15M",
        }.get(value, value)
    return value or "–"


async def decide(request: Request) -> Response:
    application_id = request.path_params["application_id"]
    form = form_of(request)
    decision, text = form_field(form, "decision"), form_field(form, "text")
    link = application_link(request, application_id)
    if decision not in DECISIONS:
        return problem(request, "Choose a decision", ["Go back and choose qualify, ask or decline."], 400)
    kind, done = DECISIONS[decision]
    try:
        await application_mail.decide(kind, application_id, _actor(request), text, link)
    except DecisionError as exc:
        return problem(
            request,
            "That decision can't be made",
            [str(exc), "Nothing was changed."],
            400,
            link=("Back to the application", f"/staff/applications/{application_id}"),
        )
    _wake_sender(request)
    return redirect(request, f"/staff/applications/{application_id}", notice=done)


async def add_note(request: Request) -> Response:
    application_id = request.path_params["application_id"]
    try:
        await applications.add_note(application_id, _actor(request), form_field(form_of(request), "note"))
    except DecisionError as exc:
        return problem(
            request,
            "The note can't be saved",
            [str(exc)],
            400,
            link=("Back to the application", f"/staff/applications/{application_id}"),
        )
    return redirect(request, f"/staff/applications/{application_id}", notice="Note added.")


async def locally_owned(request: Request) -> Response:
    application_id = request.path_params["application_id"]
    mark = form_field(form_of(request), "locally_owned") == "yes"
    try:
        await applications.set_locally_owned(application_id, _actor(request), mark)
    except DecisionError as exc:
        return problem(request, "The mark can't be set", [str(exc)], 400)
    notice = "Marked Locally Owned." if mark else "The Locally Owned mark was removed."
    return redirect(request, f"/staff/applications/{application_id}", notice=notice)


def _wake_sender(request: Request) -> None:
    """The decision's email is queued: let the sender take it now rather than on its next pass."""
    request.app.state.runtime.sender.wake()


# The pool and the products list ---------------------------------------------------------------------


async def pool_page(request: Request) -> Response:
    term = request.query_params.get("q", "").strip()[:200]
    interested = request.query_params.get("interested") == "yes"
    errors: dict[str, str] = {}
    results = None
    rows = []
    if term:
        try:
            results = await pool.search_pool(term, interested=interested, contacts=True, limit=50)
        except pool.BadSearch as exc:
            errors["q"] = str(exc)
    else:
        rows = [
            pool.Listing(
                kind="qualified",
                name=row["name"],
                zips=row["production_zips"],
                products=row["products"],
                category=row["category"],
                capacity=row["capacity"],
                locally_owned=row["locally_owned"],
                email=row["contact_email"],
                application_id=row["application_id"],
            )
            for row in await pool.pool_rows(contacts=True)
        ]
    kept = {key: value for key, value in (("q", term), ("interested", "yes" if interested else "")) if value}
    return render(
        request,
        "pool.html",
        {
            "values": {"q": term, "interested": interested},
            "results": results,
            "rows": rows,
            "export_url": "/staff/pool.csv" + (f"?{urlencode(kept)}" if term else ""),
        },
        errors=errors,
        status=400 if errors else 200,
    )


def _csv_response(chunks: AsyncIterator[str], name: str) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()  # Excel shows accents only with a byte-order mark
        async for chunk in chunks:
            yield chunk.encode()

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def export_pool(request: Request) -> Response:
    term = request.query_params.get("q", "").strip()[:200]
    if term:
        try:
            pool.clean_term(term)
        except pool.BadSearch as exc:
            return problem(request, "The search can't be used", [str(exc)], 400)
    await record_action(_actor(request), "pool.export", detail="with a search" if term else "the whole pool")
    return _csv_response(pool.pool_csv(contacts=True, term=term), "pool")


async def products_page(request: Request) -> Response:
    return render(request, "products.html", {"lines": await pool.products_list()})


async def export_products(request: Request) -> Response:
    async def chunks() -> AsyncIterator[str]:
        yield await pool.products_csv()

    return _csv_response(chunks(), "products")


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/applications", queue_page, role=StaffRole.VIEWER),
        staff_route("/staff/applications/{application_id:int}", application_page, role=StaffRole.VIEWER),
        staff_route(
            "/staff/applications/{application_id:int}/decide", decide, role=StaffRole.EDITOR, methods=["POST"]
        ),
        staff_route(
            "/staff/applications/{application_id:int}/note", add_note, role=StaffRole.EDITOR, methods=["POST"]
        ),
        staff_route(
            "/staff/applications/{application_id:int}/locally-owned",
            locally_owned,
            role=StaffRole.EDITOR,
            methods=["POST"],
        ),
        staff_route("/staff/pool", pool_page, role=StaffRole.VIEWER),
        staff_route("/staff/pool.csv", export_pool, role=StaffRole.EDITOR),
        staff_route("/staff/pool/products", products_page, role=StaffRole.VIEWER),
        staff_route("/staff/pool/products.csv", export_products, role=StaffRole.VIEWER),
    ]
