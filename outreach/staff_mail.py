"""The sign-in email for staff: a link made by `subscribers.staff_sessions`, queued ahead of any
campaign like every transactional message (so with no SMTP_HOST it lands in the outbox).

Whether the address is a staff account or not, the caller shows the same page, so the sign-in
form can't be used to learn who is staff; only a real account gets mail.
"""

from __future__ import annotations

from outreach.queue import enqueue_transactional
from subscribers.staff import find_active
from subscribers.staff_sessions import LINK_LIFETIME, SignInLinks

TEMPLATE = "staff_sign_in"
REASON = (
    "You get this email because someone asked to sign in to the Made in LA staff console with this address."
)


async def send_sign_in_link(email: str, browser_secret: str, *, links: SignInLinks, base_url: str) -> bool:
    """Queue a sign-in link for `email` if it is an active staff account. True if one was queued."""
    staff = await find_active(email)
    if staff is None:
        return False
    token = await links.create(staff, browser_secret)
    await enqueue_transactional(
        address=staff.email,
        template=TEMPLATE,
        language="en",
        context={
            "sign_in_link": f"{base_url}/staff/sign-in/{token}",
            "link_minutes": int(LINK_LIFETIME.total_seconds() // 60),
            "staff_name": staff.name,
            "reason": REASON,
        },
    )
    return True
