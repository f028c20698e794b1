"""Hearing back, built from the settings: the processor every way in shares, the VERP signer, and
the mailbox poller `serve` and `worker` run when BOUNCE_IMAP_HOST is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.settings import Settings
from outreach.bounces.mailbox import MAILBOX_LOCK_KEY, BounceMailbox, MailboxOptions
from outreach.bounces.processing import BounceOptions, BounceProcessor
from outreach.bounces.reports import ReportReader
from outreach.bounces.verp import VerpSigner
from outreach.scheduling import Leadership

log = logging.getLogger(__name__)


def verp_signer(settings: Settings) -> VerpSigner | None:
    """Makes `bounces+TOKEN@domain` envelope senders when BOUNCE_ADDRESS is set."""
    return VerpSigner(settings.secret(), settings.bounce_address) if settings.bounce_address else None


def bounce_processor(settings: Settings, *, message_id_domain: str) -> BounceProcessor:
    reader = ReportReader(
        message_id_domain=message_id_domain,
        verp=verp_signer(settings),
        max_bytes=settings.bounce_max_message_kb * 1024,
    )
    options = BounceOptions(
        score_threshold=settings.bounce_score_threshold,
        score_days=settings.bounce_score_days,
        failure_pause_ratio=settings.failure_pause_ratio,
        failure_pause_min_attempts=settings.failure_pause_min_attempts,
        match_by_recipient=not settings.bounce_address,
    )
    return BounceProcessor(reader, options)


def mailbox_options(settings: Settings) -> MailboxOptions:
    return MailboxOptions(
        host=settings.bounce_imap_host,
        port=settings.bounce_imap_port,
        username=settings.bounce_imap_username,
        password=settings.bounce_imap_password.get_secret_value(),
        tls=settings.bounce_imap_tls,
        folder=settings.bounce_imap_folder,
        done_folder=settings.bounce_imap_done_folder,
        unrecognised_folder=settings.bounce_imap_unrecognised_folder,
        poll_seconds=settings.bounce_poll_seconds,
        max_bytes=settings.bounce_max_message_kb * 1024,
    )


async def start_bounce_mailbox(
    settings: Settings, processor: BounceProcessor
) -> Callable[[], Awaitable[None]] | None:
    """Start polling the bounce mailbox in the background; returns its stop function (None when
    no BOUNCE_IMAP_HOST is set)."""
    if not settings.bounce_imap_host:
        return None
    lock = Leadership(settings.database_url, key=MAILBOX_LOCK_KEY, job="the bounce mailbox")
    mailbox = BounceMailbox(mailbox_options(settings), processor, lock=lock)
    stop = asyncio.Event()
    task = asyncio.create_task(mailbox.run(stop), name="bounce-mailbox")

    async def stop_mailbox() -> None:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=15)
        except TimeoutError:
            log.warning("the bounce mailbox did not stop in time; stopping it mid-pass (nothing is lost)")
        except Exception:
            log.exception("the bounce mailbox stopped with an error")
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    return stop_mailbox
