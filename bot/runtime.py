"""The running service's parts, built once from the settings and shared by web, Slack and CLI code."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.bounces import bounce_processor, verp_signer
from bot.settings import Settings
from outreach.bounces.processing import BounceProcessor
from outreach.bounces.verp import VerpSigner
from outreach.mailer import MailTransport, build_transport
from outreach.messages import MessageBuilder
from outreach.rendering import EmailTemplates
from outreach.sender import Sender
from subscribers.tokens import LinkSigner


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
    transport = transport or build_transport(settings)
    builder = MessageBuilder(settings, templates, signer)
    verp = verp_signer(settings)
    return Runtime(
        settings=settings,
        signer=signer,
        email_templates=templates,
        transport=transport,
        builder=builder,
        sender=Sender(settings, transport, builder, envelope_sender=verp.address if verp else None),
        bounces=bounce_processor(settings, message_id_domain=builder.domain),
        verp=verp,
    )
