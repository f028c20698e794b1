"""Mail about an application, written in the same transaction as the change it tells of.

One email template, `application`, in English and Spanish, says one of five things (`kind`):
the link to continue (asked for on /apply, or on saving a draft), the submission's screening
result, a staff request for more information, a decline with its reason, and qualification.
Each carries the applicant's signed link back to their application (made by the caller, which
holds the link signer). The messages go through the Delivery queue like every other email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping

from tortoise.transactions import in_transaction

from outreach.queue import enqueue_transactional
from subscribers import applications
from subscribers.application_models import Application
from subscribers.applications import Submission
from subscribers.confirmation_limits import ConfirmationLimits, claim_confirmations
from subscribers.staff_audit import Actor

LinkMaker = Callable[[int], str]  # application id -> its signed link

TEMPLATE = "application"
REASONS = {
    "en": "You get this email because you started an application to the Made in Los Angeles pilot.",
    "es": "Recibe este correo porque empezó una solicitud para el programa piloto Made in Los Angeles.",
}


async def _queue(
    application: Application, kind: str, link: str, extra: Mapping[str, object] | None = None
) -> None:
    language = application.language if application.language in REASONS else "en"
    await enqueue_transactional(
        address=application.email,
        template=TEMPLATE,
        language=language,
        context={"kind": kind, "application_link": link, "reason": REASONS[language], **(extra or {})},
    )


async def send_application_link(
    email: str,
    language: str,
    link_for: LinkMaker,
    *,
    limits: ConfirmationLimits | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """/apply: mail the link to the address's application (a new draft if it has none). Anyone can
    type any address, so the mail counts against the form's per-inbox allowances and carries
    nothing that was typed. True when one was queued; the page says the same either way."""
    now = now or applications.utcnow()
    async with in_transaction():
        application = await applications.application_for_email(email, language)
        [allowed] = await claim_confirmations(
            [application.email], now=now, limits=limits or ConfirmationLimits()
        )
        if not allowed:
            return False
        await _queue(application, "link", link_for(application.id))
        return True


async def resend_link(
    application: Application,
    link: str,
    *,
    limits: ConfirmationLimits | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """ "Save and continue later": the link to come back, to the address it belongs to. Counted
    against the same per-inbox allowance as /apply, so saving again and again (or someone holding
    the link doing so) can't fill the applicant's inbox; the draft is saved either way."""
    now = now or applications.utcnow()
    async with in_transaction():
        [allowed] = await claim_confirmations(
            [application.email], now=now, limits=limits or ConfirmationLimits()
        )
        if allowed:
            await _queue(application, "link", link)
        return allowed


def verdict_context(application: Application) -> dict[str, object]:
    """What the mail and the page say about the screening: the pilot's verdict in the applicant's
    language, and each program's text exactly as Slack and the CLI word it."""
    return {
        "verdict": application.verdict,
        "verdict_words": applications.verdict_words(application.verdict, application.language),
        "screening_text": applications.screening_text(application.screening),
    }


async def submit_application(application_id: int, raw: Mapping[str, str], link: str) -> Submission:
    """Submit: check, screen, lock, and queue the confirmation with the result (all or nothing)."""
    async with in_transaction():
        submission = await applications.submit(application_id, raw)
        if submission.screening is not None and submission.application is not None:
            await _queue(submission.application, "submitted", link, verdict_context(submission.application))
        return submission


# A staff decision: the service function that makes it, and what its email adds to the context.
Decide = Callable[[int, Actor, str], Awaitable[Application]]
DECISIONS: dict[str, tuple[Decide, Callable[[Application], dict[str, object]]]] = {
    "qualified": (applications.qualify, lambda a: {"business_name": a.business_name}),
    "info_requested": (applications.ask_for_information, lambda a: {"staff_request": a.staff_request}),
    "declined": (applications.decline, lambda a: {"decline_reason": a.decline_reason}),
}


async def decide(kind: str, application_id: int, actor: Actor, text: str, link: str) -> Application:
    """Qualify, ask for information or decline (`kind`: a key of DECISIONS), audited, and tell the
    applicant by email in their language, in one transaction. Raises DecisionError."""
    make, extra = DECISIONS[kind]
    async with in_transaction():
        application = await make(application_id, actor, text)
        await _queue(application, kind, link, extra(application))
        return application
