"""`madeinla staff`: staff console accounts (the first admin is made here).

Thin over `subscribers.staff`. Every change is recorded in the staff audit log with who made it:
`--as EMAIL` (a staff account) or else the operating-system user.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from subscribers import staff as accounts
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource, StaffMember, StaffRole

T = TypeVar("T")
ROLE_CHOICE = click.Choice([role.value for role in StaffRole])
ROLES_HELP = """\b
ROLES (each includes the ones before it)
  viewer    sees people, campaigns, reports
  editor    adds and edits people, imports, drafts campaigns
  sender    schedules and sends campaigns, pauses, cancels
  approver  approves other people's sends
  admin     manages staff"""


def as_option(command: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--as",
        "as_email",
        metavar="EMAIL",
        help="Record the change as done by this staff account (default: your operating-system user).",
    )(command)


async def actor_for(as_email: str | None) -> Actor:
    """Who a CLI command acts as: the --as staff account, or the operating-system user."""
    if not as_email:
        return Actor.cli_user()
    member = await accounts.find_active(as_email)
    if member is None:
        raise UserError(f"--as {as_email}: there is no staff account with that address")
    return Actor.of_staff(member, ActionSource.CLI)


def _run(work: Callable[[], Awaitable[T]]) -> T:
    settings = settings_or_exit()

    async def guarded() -> T:
        try:
            return await work()
        except accounts.StaffError as exc:
            raise UserError(str(exc)) from None

    return run_with_db(settings, guarded)


@click.group(epilog=ROLES_HELP)
def staff() -> None:
    """Staff console accounts: add, list, remove, change a role.

    Make the first admin with `madeinla staff add you@lacounty.gov --role admin`; then sign in at
    /staff/ on the service's address (a link is emailed to you).
    """


@staff.command(epilog=ROLES_HELP)
@click.argument("email")
@click.option("--role", required=True, type=ROLE_CHOICE, help="What the account may do (see below).")
@click.option("--name", default="", help="The person's name, shown in the console and the audit log.")
@as_option
def add(email: str, role: str, name: str, as_email: str | None) -> None:
    """Add a staff account."""

    async def work() -> StaffMember:
        return await accounts.add_staff(email, StaffRole(role), name=name, actor=await actor_for(as_email))

    member = _run(work)
    click.echo(f"Added {member.email} as {member.role.value}. They sign in at /staff/ with an emailed link.")


@staff.command(name="list")
@click.option("--all", "include_removed", is_flag=True, help="Also list removed accounts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(include_removed: bool, as_json: bool) -> None:
    """List staff accounts."""
    members = _run(lambda: accounts.list_staff(include_removed=include_removed))
    rows = [
        {
            "email": m.email,
            "name": m.name,
            "role": m.role.value,
            "slack_user_id": m.slack_user_id,
            "removed": m.removed_at.isoformat() if m.removed_at else None,
        }
        for m in members
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No staff accounts yet. Add the first admin: madeinla staff add EMAIL --role admin")
        return
    for row in rows:
        removed = " (removed)" if row["removed"] else ""
        name = f"  {row['name']}" if row["name"] else ""
        click.echo(f"{row['email']:<40} {row['role']:<9}{name}{removed}")


@staff.command()
@click.argument("email")
@as_option
def remove(email: str, as_email: str | None) -> None:
    """Remove a staff account; its sessions end at once."""

    async def work() -> StaffMember:
        return await accounts.remove_staff(email, actor=await actor_for(as_email))

    member = _run(work)
    click.echo(f"Removed {member.email}; any open sessions have ended.")


@staff.command(epilog=ROLES_HELP)
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@as_option
def role(email: str, role: str, as_email: str | None) -> None:
    """Change a staff account's role (takes effect at once)."""

    async def work() -> StaffMember:
        return await accounts.change_role(email, StaffRole(role), actor=await actor_for(as_email))

    member = _run(work)
    click.echo(f"{member.email} is now {member.role.value}.")


@staff.command(name="link-slack")
@click.argument("email")
@click.argument("slack_user_id")
@as_option
def link_slack(email: str, slack_user_id: str, as_email: str | None) -> None:
    """Link a Slack user (like U012AB3CD) to a staff account, for Slack approval buttons."""

    async def work() -> StaffMember:
        return await accounts.link_slack_user(email, slack_user_id, actor=await actor_for(as_email))

    member = _run(work)
    click.echo(f"{member.email} is linked to Slack user {member.slack_user_id or '(none)'}.")
