"""Staff accounts: add, list, remove, change a role. One function per action for every face
(`madeinla staff`, the console's staff page), each recorded in the audit log.

Removing an account or changing its role ends its sessions, so it takes effect at once; the
console also reads the role afresh on every request.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.person_text import InvalidText, clean_name
from subscribers.registry import utcnow
from subscribers.staff_audit import Actor, record_action
from subscribers.staff_models import ActionSource, StaffMember, StaffRole, StaffSession


class StaffError(ValueError):
    """A staff request can't be done; the message is fit to show the person who asked, and
    `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str = "email") -> None:
        super().__init__(message)
        self.field = field


def parse_role(text: str) -> StaffRole:
    try:
        return StaffRole(text.strip().lower())
    except ValueError:
        raise StaffError(
            f"{text!r} is not a role; use one of: {', '.join(StaffRole)}", field="role"
        ) from None


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidEmail as exc:
        raise StaffError(str(exc)) from None


async def find_active(email: str) -> StaffMember | None:
    """The active account with this address, or None (also for something that isn't an address)."""
    try:
        address = normalise_email(email)
    except InvalidEmail:
        return None
    return await StaffMember.get_or_none(email=address, removed_at__isnull=True)


async def list_staff(*, include_removed: bool = False) -> list[StaffMember]:
    query = StaffMember.all() if include_removed else StaffMember.filter(removed_at__isnull=True)
    return await query.order_by("email")


async def add_staff(email: str, role: StaffRole, *, name: str = "", actor: Actor) -> StaffMember:
    """Add an account (or bring back a removed one with the same address)."""
    address = _address(email)
    try:
        name = clean_name(name, field="name")
    except InvalidText as exc:
        raise StaffError(str(exc), field="name") from None
    async with in_transaction():
        existing = await StaffMember.filter(email=address).select_for_update().first()
        if existing is not None and existing.active:
            raise StaffError(f"{address} is already a staff account ({existing.role.value})")
        if existing is not None:
            existing.role, existing.name, existing.removed_at = role, name or existing.name, None
            await existing.save()
            member = existing
        else:
            member = await StaffMember.create(email=address, role=role, name=name)
        await record_action(actor, "staff.add", detail=f"{address} as {role.value}")
    return member


async def remove_staff(email: str, *, actor: Actor) -> StaffMember:
    member = await _active(email)
    if actor.staff_id == member.id:
        raise StaffError("you can't remove your own account; ask another admin")
    await _keep_an_admin(member, None)
    async with in_transaction():
        member.removed_at = utcnow()
        await member.save(update_fields=["removed_at", "updated_at"])
        await end_sessions(member.id, reason="account removed")
        await record_action(actor, "staff.remove", detail=member.email)
    return member


async def change_role(email: str, role: StaffRole, *, actor: Actor) -> StaffMember:
    member = await _active(email)
    if member.role == role:
        raise StaffError(f"{member.email} already has the role {role.value}")
    await _keep_an_admin(member, role)
    old = member.role
    async with in_transaction():
        member.role = role
        await member.save(update_fields=["role", "updated_at"])
        # A changed role is read afresh on the next request anyway; ending the sessions makes a
        # lowered role impossible to miss in a page left open.
        await end_sessions(member.id, reason="role changed")
        await record_action(actor, "staff.role", detail=f"{member.email}: {old.value} → {role.value}")
    return member


async def link_slack_user(email: str, slack_user_id: str, *, actor: Actor) -> StaffMember:
    """Link a Slack user to an account, so Slack approval buttons know who pressed them."""
    member = await _active(email)
    slack_user_id = slack_user_id.strip()
    if slack_user_id and not slack_user_id.isalnum():
        raise StaffError(f"{slack_user_id!r} is not a Slack user id, like U012AB3CD")
    member.slack_user_id = slack_user_id
    await member.save(update_fields=["slack_user_id", "updated_at"])
    await record_action(actor, "staff.slack", detail=f"{member.email}: {slack_user_id or 'unlinked'}")
    return member


async def end_sessions(staff_id: int, *, reason: str) -> int:
    return await StaffSession.filter(staff_id=staff_id, ended_at__isnull=True).update(
        ended_at=utcnow(), ended_reason=reason[:40]
    )


async def _active(email: str) -> StaffMember:
    address = _address(email)
    member = await StaffMember.get_or_none(email=address, removed_at__isnull=True)
    if member is None:
        raise StaffError(f"there is no staff account for {address}")
    return member


async def _keep_an_admin(member: StaffMember, new_role: StaffRole | None) -> None:
    """Never leave the service without an admin: someone must be able to manage staff."""
    if member.role != StaffRole.ADMIN or new_role == StaffRole.ADMIN:
        return
    admins = await StaffMember.filter(role=StaffRole.ADMIN, removed_at__isnull=True).count()
    if admins <= 1:
        raise StaffError(f"{member.email} is the last admin; make someone else admin first")


async def slack_actor(user_id: str) -> Actor:
    """Who a Slack user is for the audit log: their staff account if linked, else the Slack id."""
    member = (
        await StaffMember.get_or_none(slack_user_id=user_id, removed_at__isnull=True) if user_id else None
    )
    if member is not None:
        return Actor.of_staff(member, ActionSource.SLACK)
    return Actor.slack_user(user_id)
