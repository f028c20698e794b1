"""The running service's parts, built once from the settings and shared by web, Slack and CLI code.

This is the one place that turns `Settings` into the small option objects the service layer takes
(`SmtpOptions`, `MessageOptions`, `SendOptions`, `ScheduleOptions`): `outreach/` never imports
`bot.settings`, as an httpx transport takes its own options rather than the client's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.bounces import bounce_processor, verp_signer
from bot.settings import Settings
from outreach.bounces.processing import BounceProcessor
from outreach.bounces.verp import VerpSigner
from outreach.mailer import MailTransport, SmtpOptions, build_transport
from outreach.messages import MessageBuilder, MessageOptions
from outreach.rendering import EmailTemplates
from outreach.scheduling import CampaignScheduler, ScheduleOptions
from outreach.sender import Sender, SendOptions
from subscribers.tokens import LinkSigner


def smtp_options(settings: Settings) -> SmtpOptions | None:
    """The relay's options, or None when there is no SMTP_HOST (mail goes to OUTBOX_DIR)."""
    if not settings.smtp_host:
        return None
    return SmtpOptions(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        tls=settings.smtp_tls,
        timeout_seconds=settings.smtp_timeout_seconds,
        pool_size=settings.smtp_pool_size,
    )


def message_options(settings: Settings) -> MessageOptions:
    return MessageOptions(
        public_base_url=settings.public_base_url,
        mail_from=settings.mail_from_address,
        message_id_key=hmac.new(settings.secret().encode(), b"message-id", hashlib.sha256).digest(),
        mail_reply_to=settings.mail_reply_to,
        postal_address=settings.postal_address,
        postal_address_es=settings.postal_address_es,
        pilot_start_date=settings.pilot_start_date,
    )


def send_options(settings: Settings) -> SendOptions:
    return SendOptions(
        batch_size=settings.send_batch_size,
        lease_seconds=settings.send_lease_seconds,
        rate_per_minute=settings.send_rate_per_minute,
        rate_per_hour=settings.send_rate_per_hour,
        retry_base_seconds=settings.retry_base_seconds,
        retry_for_hours=settings.retry_for_hours,
        failure_pause_ratio=settings.failure_pause_ratio,
        failure_pause_min_attempts=settings.failure_pause_min_attempts,
    )


def schedule_options(settings: Settings) -> ScheduleOptions:
    return ScheduleOptions(
        database_url=settings.database_url,
        grace_hours=settings.schedule_grace_hours,
        sweep_interval_seconds=settings.sweep_interval_seconds,
        digest_recipients=settings.staff_digest_email,
        dashboard_base_url=settings.public_base_url,
    )


def transport_for(settings: Settings) -> MailTransport:
    """SMTP when SMTP_HOST is set, else `.eml` files in OUTBOX_DIR."""
    assert settings.outbox_dir is not None  # filled in by Settings
    return build_transport(smtp_options(settings), settings.outbox_dir)


@dataclass
class Runtime:
    settings: Settings
    signer: LinkSigner
    email_templates: EmailTemplates
    transport: MailTransport
    builder: MessageBuilder
    sender: Sender
    bounces: BounceProcessor  # what comes back: one processor for the mailbox and `bounces read`
    verp: VerpSigner | None  # envelope senders naming each delivery, when BOUNCE_ADDRESS is set
    extras: dict[str, object] = field(default_factory=dict)  # scheduler, Slack app: owned by their modules


def build_runtime(settings: Settings, *, transport: MailTransport | None = None) -> Runtime:
    signer = LinkSigner(
        settings.secret(), confirm_max_age_seconds=settings.confirm_token_max_age_hours * 3600
    )
    templates = EmailTemplates()
    transport = transport or transport_for(settings)
    builder = MessageBuilder(message_options(settings), templates, signer)
    verp = verp_signer(settings)
    return Runtime(
        settings=settings,
        signer=signer,
        email_templates=templates,
        transport=transport,
        builder=builder,
        sender=Sender(
            send_options(settings), transport, builder, envelope_sender=verp.address if verp else None
        ),
        bounces=bounce_processor(settings, message_id_domain=builder.domain),
        verp=verp,
    )


async def start_scheduler(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    """Start the scheduler for `madeinla serve` / `madeinla worker`; returns its async stop function."""
    scheduler = CampaignScheduler(schedule_options(runtime.settings), wake=runtime.sender.wake)
    await scheduler.start()
    runtime.extras["scheduler"] = scheduler
    return scheduler.stop
