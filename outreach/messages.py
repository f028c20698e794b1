"""Turn one delivery into the bytes we hand to the mail server.

Each message is multipart (plain text and HTML), has its own Message-ID and Date, and names in its
footer why the person gets it, our postal address, a preferences link and an unsubscribe link. List
mail also carries `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058), which Gmail and Yahoo
require of bulk senders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from outreach.mailer import OutgoingMessage, new_message_id
from outreach.rendering import EmailTemplates, RenderedEmail, one_line
from outreach.timeline import Timeline, pilot_today, template_values
from subscribers.tokens import LinkSigner, Purpose

REASONS = {
    "en": "You get this email because you signed up for updates on the Made in Los Angeles pilot.",
    "es": (
        "Recibe este correo porque se inscribió para recibir noticias "
        "del programa piloto Made in Los Angeles."
    ),
}

# Mail that anyone can make us send by typing an address into the public form, before its owner has
# confirmed anything. Whatever else the typist chose (a name like "Win cash at scam.example") must
# not reach the inbox in our name, so these never carry the stored name or organisation: not in the
# greeting, not as the To header's display name.
UNCONFIRMED_TEMPLATES = frozenset({"confirm", "already_subscribed", "email_change"})
# Mail about a change of address carries no links to manage the person's emails: the link to
# confirm a new address may reach a stranger (a mistyped address), and the old address is no
# longer where the person reads their mail.
UNLINKED_TEMPLATES = frozenset({"email_change", "email_changed"})


@dataclass(frozen=True, slots=True)
class MessageOptions:
    """What building a message needs to know about this service (`bot.runtime` makes it from the
    settings: PUBLIC_BASE_URL, MAIL_FROM, MAIL_REPLY_TO, POSTAL_ADDRESS(_ES), PILOT_START_DATE)."""

    public_base_url: str
    mail_from: Address
    message_id_key: bytes  # keys the opaque Message-IDs; derived from SECRET_KEY
    mail_reply_to: str = ""
    postal_address: str = ""
    postal_address_es: str = ""
    pilot_start_date: dt.date | None = None

    def postal_address_for(self, language: str) -> str:
        """The postal address printed in an email's footer, in its language."""
        return self.postal_address_es if language == "es" else self.postal_address


@dataclass(frozen=True, slots=True)
class Recipient:
    """What a message needs to know about the person it goes to."""

    address: str
    subscriber_id: int | None = None
    name: str = ""
    organization: str = ""
    role: str = "other"
    language: str = "en"
    topics: list[str] = field(default_factory=list)


class MessageBuilder:
    def __init__(self, options: MessageOptions, templates: EmailTemplates, signer: LinkSigner) -> None:
        self.options = options
        self.templates = templates
        self.signer = signer
        self.sender = options.mail_from
        self.domain = self.sender.domain
        self._message_id_mac = hmac.new(
            options.message_id_key, digestmod=hashlib.sha256
        )  # keyed once, copied per message

    def delivery_message_id(self, delivery_id: int) -> str:
        """The Message-ID of a delivery's message: the same on every attempt, so a copy sent again
        after a crash (or a retry the server had in fact accepted) carries the same Message-ID and
        mail clients show it once. Opaque: it gives away neither the row id nor the list size."""
        mac = self._message_id_mac.copy()
        mac.update(b"%d" % delivery_id)
        return f"<{mac.hexdigest()[:32]}@{self.domain or 'localhost'}>"

    def links(
        self, recipient: Recipient, *, delivery_id: int | None = None, confirm: bool = False
    ) -> dict[str, str]:
        base = self.options.public_base_url
        links: dict[str, str] = {"home": f"{base}/"}
        if recipient.subscriber_id is not None:
            manage = self.signer.sign(Purpose.MANAGE, recipient.subscriber_id)
            links["preferences"] = f"{base}/preferences/{manage}"
            links["unsubscribe"] = f"{base}/unsubscribe/{manage}"
            if confirm:
                links["confirm"] = (
                    f"{base}/confirm/{self.signer.sign(Purpose.CONFIRM, recipient.subscriber_id)}"
                )
        if delivery_id is not None:
            links["apply"] = f"{base}/apply/{self.signer.sign(Purpose.INVITATION, delivery_id)}"
        return links

    def change_links(self, change_id: int) -> dict[str, str]:
        """The links of mail about a new address: home, and the signed link that confirms it."""
        base = self.options.public_base_url
        return {
            "home": f"{base}/",
            "email_change": f"{base}/email/{self.signer.sign(Purpose.EMAIL_CHANGE, change_id)}",
        }

    def context(
        self, recipient: Recipient, links: dict[str, str], extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "name": recipient.name,
            "organization": recipient.organization,
            "role": recipient.role,
            "email": recipient.address,
            "language": recipient.language,
            "topics": recipient.topics,
            "links": links,
            "reason": REASONS.get(recipient.language, REASONS["en"]),
            "postal_address": self.options.postal_address_for(recipient.language),
            # Where the pilot stands on the day the message is built, not the day it was written.
            "pilot": template_values(
                Timeline(pilot_today(), self.options.pilot_start_date), recipient.language
            ),
        }
        context.update(extra or {})
        return context

    def compose(
        self,
        recipient: Recipient,
        rendered: RenderedEmail,
        *,
        list_mail: bool,
        links: dict[str, str],
        message_id: str = "",
    ) -> OutgoingMessage:
        msg = EmailMessage(policy=SMTP)
        message_id = message_id or new_message_id(self.domain)
        msg["Subject"] = rendered.subject
        msg["From"] = self.sender
        msg["To"] = Address(display_name=one_line(recipient.name)[:100], addr_spec=recipient.address)
        if self.options.mail_reply_to:
            msg["Reply-To"] = self.options.mail_reply_to
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        msg["Message-ID"] = message_id
        if list_mail and "unsubscribe" in links:
            msg["List-Unsubscribe"] = f"<{links['unsubscribe']}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
        msg["Content-Language"] = recipient.language  # after the body: set_content drops Content-* headers
        return OutgoingMessage(
            sender=self.sender.addr_spec,
            recipient=recipient.address,
            data=msg.as_bytes(),
            message_id=message_id,
        )

    def build(
        self,
        template: str,
        recipient: Recipient,
        *,
        list_mail: bool,
        delivery_id: int | None = None,
        extra: dict[str, Any] | None = None,
        subject: str = "",
        message_id: str = "",
    ) -> OutgoingMessage:
        if template in UNCONFIRMED_TEMPLATES:
            recipient = replace(recipient, name="", organization="")
        if template in UNLINKED_TEMPLATES:
            change_id = (extra or {}).get("change_id")
            links = (
                self.change_links(int(change_id))
                if change_id
                else {"home": f"{self.options.public_base_url}/"}
            )
        else:
            links = self.links(recipient, delivery_id=delivery_id, confirm=template == "confirm")
        rendered = self.templates.render(template, recipient.language, self.context(recipient, links, extra))
        if subject:
            rendered = RenderedEmail(subject=one_line(subject), text=rendered.text, html=rendered.html)
        return self.compose(recipient, rendered, list_mail=list_mail, links=links, message_id=message_id)
