"""Managing staff accounts in the console (admins): the same service functions as
`madeinla staff`, so the same rules hold (no duplicate accounts, never without an admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bot.console.access import current_staff, field, form_of, redirect, render, staff_route
from subscribers import staff as accounts
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource, StaffRole

MENU = [("Staff", "/staff/accounts", StaffRole.ADMIN)]


def _actor(request: Request) -> Actor:
    return Actor.of_staff(current_staff(request), ActionSource.CONSOLE)


async def accounts_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "accounts.html",
        {
            "accounts": await accounts.list_staff(),
            "roles": [role.value for role in StaffRole],
            "role_pairs": [(role.value, role.value) for role in StaffRole],
            "values": values or {"email": "", "name": "", "role": StaffRole.VIEWER.value},
        },
        errors=errors,
        status=status,
    )


async def list_accounts(request: Request) -> Response:
    return await accounts_page(request)


async def add_account(request: Request) -> Response:
    form = form_of(request)
    values = {name: field(form, name) for name in ("email", "name", "role")}
    errors: dict[str, str] = {}
    try:
        role = accounts.parse_role(values["role"])
    except accounts.StaffError as exc:
        errors[exc.field] = str(exc)
    if not errors:
        try:
            member = await accounts.add_staff(
                values["email"], role, name=values["name"], actor=_actor(request)
            )
        except accounts.StaffError as exc:
            errors[exc.field] = str(exc)
        else:
            return redirect(
                request, "/staff/accounts", notice=f"Added {member.email} as {member.role.value}."
            )
    return await accounts_page(request, errors=errors, values=values, status=400)


async def change_account(request: Request) -> Response:
    form = form_of(request)
    email = field(form, "email")
    try:
        if field(form, "action") == "remove":
            member = await accounts.remove_staff(email, actor=_actor(request))
            notice = f"Removed {member.email}; their sessions have ended."
        else:
            role = accounts.parse_role(field(form, "role"))
            member = await accounts.change_role(email, role, actor=_actor(request))
            notice = f"{member.email} is now {member.role.value}."
    except accounts.StaffError as exc:
        return await accounts_page(request, errors={"accounts": str(exc)}, status=400)
    return redirect(request, "/staff/accounts", notice=notice)


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/accounts", list_accounts, role=StaffRole.ADMIN),
        staff_route("/staff/accounts/add", add_account, role=StaffRole.ADMIN, methods=["POST"]),
        staff_route("/staff/accounts/change", change_account, role=StaffRole.ADMIN, methods=["POST"]),
    ]
