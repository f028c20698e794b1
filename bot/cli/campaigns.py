"""`madeinla campaigns`: create, watch and control outreach campaigns.

Thin over `outreach.campaigns`: these commands parse, call a service function, and print. Times
are shown in Los Angeles time. Sending itself happens in a running `madeinla serve` or
`madeinla worker`; `--wait` watches it happen.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from bot.cli.common import UserError, run_with_db, settings_or_exit
from bot.cli.listing import print_listing
from bot.cli.staff import actor_for, as_option
from bot.runtime import Runtime
from bot.settings import Settings
from outreach import campaign_control
from outreach import campaigns as service
from outreach.audience import KEYS_HELP, Audience
from outreach.models import Campaign, CampaignKind, CampaignStatus
from outreach.rendering import EmailTemplates
from outreach.timing import CRON_HELP, la_time, utcnow
from subscribers.erasure_models import ErasureRecord
from subscribers.staff_audit import Actor

T = TypeVar("T")
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
DONE = {CampaignStatus.FINISHED, CampaignStatus.PAUSED, CampaignStatus.CANCELLED, CampaignStatus.MISSED}


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run with the database open; a service refusal becomes a one-line UserError."""

    async def guarded() -> T:
        try:
            return await work()
        except service.CampaignError as exc:
            raise UserError(str(exc)) from None

    return run_with_db(settings, guarded)


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    from bot.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        return await work(runtime)
    finally:
        await runtime.transport.close()


def _values(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UserError(f"--var {pair!r} needs the form NAME=VALUE, like meeting_when='Tuesday 10:00'")
        values[key.strip()] = value
    return values


def _wait_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--give-up-after",
        type=click.FloatRange(1),
        default=60,
        show_default=True,
        metavar="SECONDS",
        help="With --wait: stop waiting (with a hint) when nothing has moved for this long.",
    )(command)
    return click.option("--wait", is_flag=True, help="Show progress until the campaign has been sent.")(
        command
    )


class CampaignNumber(click.ParamType[int, object]):
    """A campaign's number, as `madeinla campaigns list` shows it."""

    name = "CAMPAIGN_ID"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().lstrip("#")
        if text.isdigit() and 0 < int(text) < 2**31:
            return int(text)
        self.fail(
            f"{value!r} is not a campaign number (like 3); `madeinla campaigns list` shows them", param, ctx
        )


CAMPAIGN_ID = CampaignNumber()


@click.group()
def campaigns() -> None:
    """Create, watch and control outreach campaigns."""


VALUES_HELP = """\
The shipped templates read these values when given: message (a paragraph of news),
deadline (application_invitation), meeting_when and meeting_where (required by
working_group_notice), agenda. Add _es for the Spanish version, e.g. meeting_when_es."""


@campaigns.command(
    short_help="Create a campaign: kind, template, audience and when.",
    epilog=(
        f"\b\nAUDIENCE\n{KEYS_HELP}\n\n\b\nSCHEDULES\n{CRON_HELP}\n\n"
        f"\b\nTEMPLATE VALUES (--var)\n{VALUES_HELP}"
    ),
)
@click.option("--name", required=True, help='What staff call it, e.g. "January pilot update".')
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in CampaignKind]),
    help="What the campaign is; people only get kinds whose topic they chose.",
)
@click.option(
    "--template",
    required=True,
    help=f"The email to send: {', '.join(EmailTemplates().campaign_names())}, or a folder you add under "
    "templates/email/.",
)
@click.option("--subject", default="", help="Subject line instead of the template's own.")
@click.option(
    "--audience", default="", help="Who gets it, e.g. role=manufacturer,language=es,zip=90021|90058."
)
@click.option("--send-at", help="When, ISO 8601; without an offset it is Los Angeles time: 2026-12-01T09:00.")
@click.option("--now", "immediately", is_flag=True, help="Send as soon as the service picks it up.")
@click.option("--cron", help='Recurring, crontab in Los Angeles time: "0 9 * * 2#1" = first Tuesday 9:00.')
@click.option(
    "--var",
    "var",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for the template, e.g. --var meeting_when='Tue Dec 8, 10:00'. Repeatable.",
)
@_wait_options
@click.option(
    "--english-for-spanish",
    is_flag=True,
    help="Send values given only in English (and English-only templates) to Spanish readers as they are.",
)
@click.option("--yes", is_flag=True, help="With --now: don't ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign as JSON.")
@as_option
def create(
    name: str,
    kind: str,
    template: str,
    subject: str,
    audience: str,
    send_at: str | None,
    immediately: bool,
    cron: str | None,
    var: tuple[str, ...],
    english_for_spanish: bool,
    yes: bool,
    wait: bool,
    give_up_after: float,
    as_json: bool,
    as_email: str | None,
) -> None:
    """Create a campaign: a name, a kind, a template, an audience and a time (--now, --send-at or
    --cron). A campaign to more than APPROVAL_THRESHOLD people waits for an approver
    (`campaigns approve ID`)."""
    if sum((send_at is not None, cron is not None, immediately)) != 1:
        raise UserError("say when: give exactly one of --now, --send-at or --cron")
    if wait and cron:
        raise UserError("--wait watches one send; a recurring campaign sends many times (use show later)")
    plan = service.CampaignPlan(
        name=name,
        kind=kind,
        template=template,
        audience=audience,
        values=_values(var),
        subject=subject,
        english_for_spanish=english_for_spanish,
        send_at=send_at,
        cron=cron or "",
        immediately=immediately,
    )
    settings = settings_or_exit()
    if immediately and not yes:
        _confirm_now(settings, plan)

    async def work(runtime: Runtime) -> tuple[dict[str, Any], int, list[str]]:
        from bot.slack.approvals import approval_requests_posted

        actor = await actor_for(as_email)
        async with approval_requests_posted(settings):  # a large send asks in Slack too, if set up
            campaign = await service.create_campaign(
                **_plan_arguments(plan),
                builder=runtime.builder,
                created_by=actor,
                approval_threshold=settings.approval_threshold,
            )
        missing = [lang for lang in ("en", "es") if lang not in runtime.email_templates.languages(template)]
        size = await Audience.from_mapping(campaign.audience).count(campaign.kind)
        return await service.campaign_summary(campaign), size, missing

    summary, size, missing = _run(settings, lambda: _with_runtime(settings, work))
    if not as_json or wait:
        sweep_seconds = settings.sweep_interval_seconds if immediately else None
        _print_created(summary, size, missing, sweep_seconds=sweep_seconds, err=as_json)
    if summary["status"] == CampaignStatus.AWAITING_APPROVAL:
        click.secho(
            f"  {size} people is more than APPROVAL_THRESHOLD ({settings.approval_threshold}): it waits for "
            f"a second staff member with the approver role (in the console, or "
            f"`madeinla campaigns approve {summary['id']} --as APPROVER@EMAIL`)",
            fg="yellow",
            err=as_json,
        )
        wait = False
    if wait:
        summary = _wait(settings, summary["id"], stall_seconds=give_up_after)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    if wait and summary["status"] != CampaignStatus.FINISHED:
        raise SystemExit(1)


def _plan_arguments(plan: service.CampaignPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "kind": plan.kind,
        "template": plan.template,
        "audience": plan.audience,
        "values": plan.values,
        "subject": plan.subject,
        "english_for_spanish": plan.english_for_spanish,
        "send_at": plan.send_at,
        "cron": plan.cron,
        "immediately": plan.immediately,
    }


def _confirm_now(settings: Settings, plan: service.CampaignPlan) -> None:
    """`--now` sends at once: show who it reaches and ask first (the plan is checked before asking)."""

    async def work(runtime: Runtime) -> service.AudienceCount:
        checked = service.check_plan(plan, builder=runtime.builder, now=utcnow())
        return await service.count_audience(checked.audience, checked.kind)

    count = _run(settings, lambda: _with_runtime(settings, work))
    languages = ", ".join(f"{n} in {LANGUAGE_NAMES.get(lang, lang)}" for lang, n in count.by_language.items())
    click.echo(
        f"“{' '.join(plan.name.split())}” goes out now to {count.total} people ({languages}).", err=True
    )
    if not click.confirm("Send it now?", default=False, err=True):
        raise UserError("nothing was created (add --yes to send without asking)")


def _print_created(
    summary: dict[str, Any], size: int, missing: list[str], *, sweep_seconds: float | None, err: bool
) -> None:
    if summary["cron"]:
        when = f"recurring ({summary['cron']}), first {la_time(_parse(summary['send_at']))}"
    elif sweep_seconds is not None:
        when = f"now (the running service starts it within {sweep_seconds:g} seconds)"
    else:
        when = la_time(_parse(summary["send_at"]))
    click.echo(
        f"Campaign {summary['id']} “{summary['name']}” created: {summary['kind']}, "
        f"template {summary['template']}, {summary['status'].replace('_', ' ')}",
        err=err,
    )
    click.echo(f"  sends: {when}", err=err)
    click.echo(f"  audience: {summary['audience_text']} ({size} people right now)", err=err)
    if size == 0:
        click.secho("  nobody matches this audience yet", fg="yellow", err=err)
    for lang in missing:
        click.secho(f"  the template has no '{lang}' version: those people get English", fg="yellow", err=err)


@campaigns.command(name="list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(limit: int, as_json: bool) -> None:
    """The latest campaigns, newest first."""
    settings = settings_or_exit()

    async def work() -> list[dict[str, Any]]:
        return [await service.campaign_summary(c) for c in await service.list_campaigns(limit)]

    rows = _run(settings, work)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No campaigns yet. Create one with: madeinla campaigns create --help")
        return
    listing = []
    for row in rows:
        when = None
        if row["cron"]:
            upcoming = row["status"] == CampaignStatus.SCHEDULED
            when = row["cron"] + (f" (next {la_time(_parse(row['send_at']))})" if upcoming else "")
        counts = row["counts"]
        listing.append(
            [
                str(row["id"]) + (f" ↳{row['parent_id']}" if row["parent_id"] else ""),
                row["kind"],
                row["template"],
                row["status"],
                when or la_time(_parse(row["started_at"] or row["send_at"])),
                f"{counts['sent']}/{counts['failed']}/{counts['total']}",
            ]
        )
    print_listing(["ID", "Kind", "Template", "Status", "When (LA)", "Sent/fail/all"], listing)


@campaigns.command(short_help="A campaign's status and counts; --wait follows it.")
@click.argument("campaign_id", type=CAMPAIGN_ID)
@_wait_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(campaign_id: int, wait: bool, give_up_after: float, as_json: bool) -> None:
    """A campaign's status and counts (queued, sending, sent, deferred, failed, suppressed)."""
    settings = settings_or_exit()
    summary = _summary(settings, campaign_id)
    if wait:
        summary = _wait(settings, campaign_id, stall_seconds=give_up_after)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary)


def _summary(settings: Settings, campaign_id: int) -> dict[str, Any]:
    async def work() -> dict[str, Any]:
        return await service.campaign_summary(await service.get_campaign(campaign_id))

    return _run(settings, work)


def _print_summary(s: dict[str, Any]) -> None:
    click.echo(f"Campaign {s['id']} “{s['name']}”: {s['kind']}, template {s['template']}")
    status = s["status"] + (f" ({s['paused_reason']})" if s["paused_reason"] else "")
    click.echo(f"  status:    {status}")
    if s["approved_by"]:
        click.echo(f"  approved:  by {s['approved_by']} ({s['audience_size']} people when submitted)")
    elif s["status"] == CampaignStatus.AWAITING_APPROVAL:
        click.echo(f"  approval:  waiting ({s['audience_size']} people), submitted by {s['submitted_by']}")
    if s["approval_note"]:
        click.echo(f"  rejected:  {s['approval_note']}")
    if s["subject"]:
        click.echo(f"  subject:   {s['subject']}")
    click.echo(f"  audience:  {s['audience_text']}")
    for key, value in s["values"].items():
        click.echo(f"  value:     {key} = {value}")
    if s["cron"]:
        click.echo(f"  schedule:  {s['cron']} (Los Angeles time)")
        if s["status"] == CampaignStatus.SCHEDULED:
            click.echo(f"  next:      {la_time(_parse(s['send_at']))}")
    else:
        click.echo(f"  send at:   {la_time(_parse(s['send_at']))}")
    if s["parent_id"]:
        click.echo(f"  occurrence of campaign {s['parent_id']} for {la_time(_parse(s['occurrence_at']))}")
    for label, key in (("started", "started_at"), ("finished", "finished_at")):
        if s[key]:
            click.echo(f"  {label}:{' ' * (10 - len(label))}{la_time(_parse(s[key]))}")
    counts = s["counts"]
    click.echo(
        "  counts:    "
        + ", ".join(
            f"{counts[k]} {k}"
            for k in ("queued", "sending", "sent", "deferred", "failed", "suppressed", "bounced")
        )
        + f" (total {counts['total']})"
    )
    came_back = f"{counts['bounced']} bounced, {counts['complained']} complained (marked as spam)"
    click.echo(f"  came back: {came_back}")
    if "invited" in s:
        click.echo(f"  invited → clicked: {s['invited']} → {s['clicked']}")
    for child in s.get("occurrences", []):
        click.echo(f"  occurrence {child['id']}: {la_time(_parse(child['occurrence_at']))} {child['status']}")


@campaigns.command()
@click.argument("campaign_id", type=CAMPAIGN_ID)
@click.option("--email", required=True, help="The subscriber to preview it for.")
@click.option("--html", is_flag=True, help="Print the HTML part instead of the plain text.")
def preview(campaign_id: int, email: str, html: bool) -> None:
    """Show the campaign's message as this subscriber would get it."""
    settings = settings_or_exit()

    async def work(runtime: Runtime) -> service.Preview:
        return await service.preview(campaign_id, email, builder=runtime.builder)

    result = _run(settings, lambda: _with_runtime(settings, work))
    click.echo(f"Subject: {result.rendered.subject}")
    click.echo(f"Language: {result.language}")
    if not result.in_audience:
        click.secho("Note: this person is not in the campaign's audience right now.", fg="yellow", err=True)
    click.echo("")
    click.echo(result.rendered.html if html else result.rendered.text)


@campaigns.command(name="test-send", short_help="Send the message to one address now, marked [TEST].")
@click.argument("campaign_id", type=CAMPAIGN_ID)
@click.option("--to", "to", required=True, help="Where to send the test (usually your own address).")
@click.option("--language", type=click.Choice(["en", "es"]), default="en", show_default=True)
def test_send(campaign_id: int, to: str, language: str) -> None:
    """Send the campaign's message to one address now, with [TEST] in the subject."""
    settings = settings_or_exit()

    async def work(runtime: Runtime) -> service.TestSendResult:
        return await service.test_send(
            campaign_id, to, builder=runtime.builder, transport=runtime.transport, language=language
        )

    result = _run(settings, lambda: _with_runtime(settings, work))
    if not result.sent:
        raise click.ClickException(f"the test was not sent: {result.reply}")
    click.echo(f"Test sent (delivery {result.delivery_id}); the mail server said: {result.reply}")


@campaigns.command()
@click.argument("campaign_id", type=CAMPAIGN_ID)
@click.option("--reason", default="paused by staff", show_default=True, help="Shown with the status.")
@as_option
def pause(campaign_id: int, reason: str, as_email: str | None) -> None:
    """Stop sending until resumed; nothing already sent is sent again."""
    _control(
        campaign_id,
        "pause",
        lambda actor: campaign_control.pause(campaign_id, reason=reason, actor=actor),
        as_email,
    )


@campaigns.command()
@click.argument("campaign_id", type=CAMPAIGN_ID)
@_wait_options
@as_option
def resume(campaign_id: int, wait: bool, give_up_after: float, as_email: str | None) -> None:
    """Carry on sending a paused campaign from where it stopped."""
    _control(campaign_id, "resume", lambda actor: campaign_control.resume(campaign_id, actor=actor), as_email)
    if wait:
        settings = settings_or_exit()
        if _wait(settings, campaign_id, stall_seconds=give_up_after)["status"] != CampaignStatus.FINISHED:
            raise SystemExit(1)


@campaigns.command()
@click.argument("campaign_id", type=CAMPAIGN_ID)
@as_option
def cancel(campaign_id: int, as_email: str | None) -> None:
    """Stop for good: whatever is not yet sent never will be."""
    _control(campaign_id, "cancel", lambda actor: campaign_control.cancel(campaign_id, actor=actor), as_email)


def _control(
    campaign_id: int,
    verb: str,
    action: Callable[[Actor], Awaitable[bool]],
    as_email: str | None,
) -> None:
    settings = settings_or_exit()

    async def work() -> tuple[bool, Campaign]:
        actor = await actor_for(as_email)
        campaign = await service.get_campaign(campaign_id)
        done = await action(actor)
        return done, await service.get_campaign(campaign_id) if done else campaign

    done, campaign = _run(settings, work)
    if not done:
        allowed = {
            "pause": "scheduled or sending",
            "resume": "paused",
            "cancel": "scheduled, sending or paused",
        }[verb]
        raise UserError(
            f"campaign {campaign_id} is {campaign.status.value}; only a {allowed} campaign can be {verb}d"
        )
    click.echo(f"Campaign {campaign_id} is now {campaign.status.value}.")
    if verb != "cancel" and campaign.status == CampaignStatus.SCHEDULED:
        click.echo(f"  it will start at {la_time(campaign.send_at)}")


NOTHING_SENT = "Nothing has been sent to that address."


@campaigns.command()
@click.argument("campaign_id", type=int)
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Your staff account (approver role).")
def approve(campaign_id: int, as_email: str) -> None:
    """Approve a campaign waiting for approval (not one you wrote, changed or submitted)."""
    settings = settings_or_exit()

    async def work() -> Campaign:
        return await service.approve_campaign(campaign_id, actor=await actor_for(as_email))

    campaign = _run(settings, work)
    click.echo(f"Campaign {campaign_id} is approved and scheduled: it starts at {la_time(campaign.send_at)}.")


@campaigns.command()
@click.argument("campaign_id", type=int)
@click.option("--reason", required=True, help="What the author should change; they see it.")
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Your staff account (approver role).")
def reject(campaign_id: int, reason: str, as_email: str) -> None:
    """Send a campaign waiting for approval back to draft, with the reason."""
    settings = settings_or_exit()

    async def work() -> Campaign:
        return await service.reject_campaign(campaign_id, actor=await actor_for(as_email), reason=reason)

    _run(settings, work)
    click.echo(f"Campaign {campaign_id} is back to draft; its author sees your reason.")


@campaigns.command()
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(email: str, as_json: bool) -> None:
    """What was sent to one person, and what the mail server answered."""
    from subscribers.erasure import erasures_of

    settings = settings_or_exit()

    async def work() -> tuple[list[service.PersonDelivery], list[ErasureRecord]]:
        return await service.deliveries_for_person(email), await erasures_of(email)

    rows, erasures = _run(settings, work)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=2))
        return
    for erasure in erasures:
        held = f"{erasure.messages} message{'' if erasure.messages == 1 else 's'}"
        click.echo(
            f"This address was erased on {la_time(erasure.erased_at)}; the record then held {held} "
            "(kept only as counts, without the address)."
        )
    if not rows:
        click.echo("Nothing sent to that address since." if erasures else NOTHING_SENT)
        return
    listing = []
    for row in rows:
        campaign = f"{row.campaign_id} {row.kind}" if row.campaign_id else row.kind
        state = row.state + (" (clicked)" if row.clicked_at else "")
        if row.bounce_type:
            state += f" ({row.bounce_type} {row.bounce_status})".replace(" )", ")")
        if row.complained_at:
            state += " (complained)"
        listing.append(
            [
                la_time(row.created_at),
                campaign,
                row.template,
                state,
                la_time(row.sent_at),
                row.bounce_diagnostic or row.last_reply,
                row.message_id,
            ]
        )
    titles = ["Queued (LA)", "Campaign", "Template", "State", "Sent (LA)", "Mail server said", "Message-ID"]
    print_listing(titles, listing)


# Waiting -----------------------------------------------------------------------------------------


def _wait(
    settings: Settings, campaign_id: int, *, poll_seconds: float = 1.0, stall_seconds: float = 60
) -> dict:
    """Poll the counts with a progress bar until the campaign is done; give up with a hint when
    nothing moves (no `serve` or `worker` running, or everything left is waiting to retry)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    late_allowance = 2 * settings.sweep_interval_seconds + stall_seconds

    async def watch() -> dict[str, Any]:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        last_seen: tuple[Any, ...] = ()
        last_change = time.monotonic()
        with progress:
            task = progress.add_task(f"Campaign {campaign_id}", total=None, detail="")
            while True:
                summary = await service.campaign_summary(await service.get_campaign(campaign_id))
                counts, status = summary["counts"], summary["status"]
                handled = counts["sent"] + counts["failed"] + counts["suppressed"]
                detail = f"{status}; {counts['deferred']} deferred, {counts['failed']} failed"
                progress.update(task, total=counts["total"] or None, completed=handled, detail=detail)
                if status in DONE:
                    return summary
                seen = (status, tuple(sorted(counts.items())))
                if seen != last_seen:
                    last_seen, last_change = seen, time.monotonic()
                hint = _stall_hint(summary, time.monotonic() - last_change, stall_seconds, late_allowance)
                if hint:
                    progress.stop()
                    click.secho(hint, fg="yellow", err=True)
                    return summary
                await asyncio.sleep(poll_seconds)

    summary = _run(settings, watch)
    counts = summary["counts"]
    click.echo(
        f"Campaign {campaign_id} {summary['status']}: {counts['sent']} sent, {counts['failed']} failed, "
        f"{counts['suppressed']} suppressed, {counts['deferred']} deferred of {counts['total']}",
        err=True,
    )
    return summary


def _stall_hint(summary: dict[str, Any], still: float, stall_seconds: float, late_allowance: float) -> str:
    counts = summary["counts"]
    if summary["status"] == CampaignStatus.SCHEDULED:
        due = _parse(summary["send_at"])
        if due is not None and (utcnow() - due).total_seconds() > late_allowance:
            return (
                f"Campaign {summary['id']} is due but no service has started it. Is `madeinla serve` or "
                "`madeinla worker` running? It starts as soon as one is; check with `campaigns show`."
            )
        return ""
    if still < stall_seconds:
        return ""
    if counts["queued"] or counts["sending"]:
        return (
            f"Nothing has been sent for {int(still)} seconds. Is `madeinla serve` or `madeinla worker` "
            f"running? The campaign carries on when one is; check with `campaigns show {summary['id']}`."
        )
    if counts["deferred"]:
        return (
            f"{counts['deferred']} messages are waiting to be retried (the mail server asked us to try "
            f"later); the service keeps trying. Check with `campaigns show {summary['id']}`."
        )
    return ""


def _parse(value: str | None):
    import datetime as dt

    return dt.datetime.fromisoformat(value) if value else None
