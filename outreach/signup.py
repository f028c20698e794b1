"""The form's sign-up together with the email it owes the person, in one transaction.

`subscribers.signup` decides what a submission does to the registry and says what the person must
now be told (a `Notice`); it knows nothing about mail. Here the transaction is opened, the registry
side is called, and each notice becomes a queued `Delivery` before the commit: no person without
their confirmation email, no confirmation email without the person. The web form calls these.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from outreach.models import Delivery, Priority
from outreach.queue import enqueue_transactional
from subscribers.bulk_insert import insert_many
from subscribers.confirmation_limits import ConfirmationLimits
from subscribers.registry import utcnow
from subscribers.signup import (
    Notice,
    NoticeKind,
    SignupRequest,
    SignupResult,
    record_sign_up,
    record_sign_ups,
)

log = logging.getLogger(__name__)

# The email template for each notice.
TEMPLATES = {NoticeKind.CONFIRM: "confirm", NoticeKind.ALREADY_SUBSCRIBED: "already_subscribed"}


def _context(notice: Notice, confirm_link_hours: int) -> dict[str, Any]:
    # The confirmation says how long its link works.
    return {"link_valid_hours": confirm_link_hours} if notice.kind == NoticeKind.CONFIRM else {}


async def sign_up(
    request: SignupRequest,
    *,
    now: dt.datetime | None = None,
    confirm_link_hours: int = 72,
    limits: ConfirmationLimits | None = None,
) -> SignupResult:
    """Record a form submission and queue the email it calls for (see `subscribers.signup`).

    `confirm_link_hours` is how long the confirmation link works (the email says so).
    """
    now = now or utcnow()
    limits = limits or ConfirmationLimits()
    try:
        async with in_transaction():
            return await _sign_up(request, now, confirm_link_hours, limits)
    except IntegrityError:
        # Two submissions of a new address raced and the other one created the person first:
        # this one is now a re-submission.
        async with in_transaction():
            return await _sign_up(request, now, confirm_link_hours, limits)


async def _sign_up(
    request: SignupRequest, now: dt.datetime, confirm_link_hours: int, limits: ConfirmationLimits
) -> SignupResult:
    result = await record_sign_up(request, now=now, limits=limits)
    if result.notice is not None:
        notice = result.notice
        await enqueue_transactional(
            address=notice.address,
            template=TEMPLATES[notice.kind],
            language=notice.language.value,
            subscriber_id=notice.subscriber_id,
            context=_context(notice, confirm_link_hours),
        )
    return result


async def sign_up_many(
    requests: list[SignupRequest],
    *,
    now: dt.datetime | None = None,
    confirm_link_hours: int = 72,
    limits: ConfirmationLimits | None = None,
) -> list[SignupResult]:
    """`sign_up` for several submissions in one transaction, with the same outcomes; their emails
    go in with one multi-row statement. Raises IntegrityError if another process created one of the
    new addresses meanwhile; `SignupBatcher` then retries them one by one."""
    now = now or utcnow()
    limits = limits or ConfirmationLimits()
    async with in_transaction():
        results = await record_sign_ups(requests, now=now, limits=limits)
        # The rows enqueue_transactional writes, all in one statement.
        await insert_many(
            Delivery,
            [
                {
                    "address": n.address,
                    "template": TEMPLATES[n.kind],
                    "language": n.language.value,
                    "subscriber_id": n.subscriber_id,
                    "context": _context(n, confirm_link_hours),
                    "priority": Priority.TRANSACTIONAL,
                    "next_attempt_at": now,
                }
                for n in (result.notice for result in results)
                if n is not None
            ],
        )
        return results


class SignupBatcher:
    """Group commit for the form: sign-ups that arrive while one batch is being written go together
    in the next, so a busy form writes one transaction per batch instead of one per person.

    On SQLite every statement is a hop to the database thread and every commit a sync to disk;
    batching is what lets one process take many sign-ups a second. There is no waiting for a batch
    to fill: a lone sign-up is written at once. Each caller still gets its own result, and if a
    batch fails as a whole its sign-ups are retried one by one, so one bad row can't fail the rest.
    """

    def __init__(
        self,
        *,
        confirm_link_hours: int = 72,
        max_batch: int = 200,
        limits: ConfirmationLimits | None = None,
    ) -> None:
        self.confirm_link_hours = confirm_link_hours
        self.max_batch = max_batch
        self.limits = limits
        self._waiting: list[tuple[SignupRequest, asyncio.Future[SignupResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def sign_up(self, request: SignupRequest) -> SignupResult:
        future: asyncio.Future[SignupResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="signup-writer")
        return await asyncio.shield(future)  # a client hanging up must not cancel others' batch

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            try:
                results = await sign_up_many(
                    [r for r, _ in batch], confirm_link_hours=self.confirm_link_hours, limits=self.limits
                )
            except IntegrityError:
                # Expected now and then with several processes: another one created one of these
                # addresses since the batch looked. One by one, that sign-up is a re-submission.
                log.info(
                    "a batch of %d sign-ups met an address added meanwhile; writing them one by one",
                    len(batch),
                )
                await self._one_by_one(batch)
                continue
            except Exception:
                log.warning(
                    "a batch of %d sign-ups failed; writing them one by one", len(batch), exc_info=True
                )
                await self._one_by_one(batch)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[SignupRequest, asyncio.Future[SignupResult]]]) -> None:
        for request, future in batch:
            try:
                result = await sign_up(
                    request, confirm_link_hours=self.confirm_link_hours, limits=self.limits
                )
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)
