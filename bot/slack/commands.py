"""`/madeinla` subcommands: read the text into a typed command, run it, say what to reply.

No Slack SDK types here: the Bolt listener (bot.slack.app) hands over an `Invocation` and sends
back the `Reply`. A mistake in what someone typed always becomes the help text with the problem
on top, never an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.slack import campaigns as campaign_replies
from bot.slack import directory, status
from bot.slack.mrkdwn import code, escape
from bot.slack.views import eligibility_modal
from subscribers.eligibility import (
    PREFERENCE_KEYS,
    SCREENING_KEYS,
    ScreenerInputError,
    calculate_preference,
    parse_pairs,
    parse_preference_inputs,
    render_preference_text,
    render_screening_text,
    screen_text,
)
from subscribers.slack_membership import (
    CONSENT_WORDING,
    MembershipOutcome,
    SlackMember,
    actor_for,
    subscribe_slack_member,
    unsubscribe_slack_member,
)

PILOT_TIMEZONE = ZoneInfo("America/Los_Angeles")
# The reply quotes what was typed, up to this many characters (a slash command may hold 4,000).
ECHO_LIMIT = 300


def pilot_today() -> dt.date:
    """Today in Los Angeles: the rules and the pilot calendar follow the County's days."""
    return dt.datetime.now(PILOT_TIMEZONE).date()


# --- the commands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Help:
    topic: str = ""  # "", "eligible" or "preference"
    problem: str = ""  # mrkdwn, already escaped: shown first when the help answers a mistake


@dataclass(frozen=True, slots=True)
class Eligible:
    arguments: str


@dataclass(frozen=True, slots=True)
class Preference:
    arguments: str


@dataclass(frozen=True, slots=True)
class ShowStatus:
    pass


@dataclass(frozen=True, slots=True)
class Find:
    term: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    pass


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    pass


@dataclass(frozen=True, slots=True)
class ListCampaigns:
    pass


@dataclass(frozen=True, slots=True)
class PauseCampaign:
    campaign_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ResumeCampaign:
    campaign_id: int


Command = (
    Help
    | Eligible
    | Preference
    | ShowStatus
    | Find
    | Subscribe
    | Unsubscribe
    | ListCampaigns
    | PauseCampaign
    | ResumeCampaign
)

_ALIASES = {"eligibility": "eligible", "check": "eligible", "screen": "eligible", "search": "find"}


def parse_command(text: str) -> Command:
    """`eligible zip=90021`, `campaigns pause 12 wrong list`, ... -> a typed command."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return Help()
    name = _ALIASES.get(words[0].lower(), words[0].lower())
    rest = words[1].strip() if len(words) > 1 else ""
    match name:
        case "help" | "?":
            topic = _ALIASES.get(rest.lower(), rest.lower())
            if topic and topic not in ("eligible", "preference"):
                return Help(problem=f"There is no help on {code(rest)}.")
            return Help(topic)
        case "eligible":
            return Eligible(rest)
        case "preference":
            return Preference(rest) if rest else Help("preference")
        case "status":
            return ShowStatus() if not rest else Help(problem="`status` takes no arguments.")
        case "find":
            return Find(rest)
        case "subscribe" | "join":
            return Subscribe() if not rest else Help(problem="`subscribe` takes no arguments.")
        case "unsubscribe" | "leave":
            return Unsubscribe() if not rest else Help(problem="`unsubscribe` takes no arguments.")
        case "campaigns" | "campaign":
            return _parse_campaigns(rest)
    return Help(problem=f"I don't know the command {code(words[0])}.")


def _parse_campaigns(rest: str) -> Command:
    if not rest:
        return ListCampaigns()
    words = rest.split(maxsplit=2)
    action = words[0].lower()
    if action not in ("pause", "resume"):
        return Help(problem=f"`campaigns` can list, `pause ID` or `resume ID`, not {code(words[0])}.")
    number = words[1].lstrip("#") if len(words) > 1 else ""
    if not number.isdigit() or not 0 < int(number) < 2**31:
        return Help(problem=f"Say which campaign by its number, like `/madeinla campaigns {action} 12`.")
    if action == "pause":
        return PauseCampaign(int(number), words[2].strip() if len(words) > 2 else "")
    if len(words) > 2:
        return Help(problem="`campaigns resume` takes only the campaign number.")
    return ResumeCampaign(int(number))


# --- running them ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """mrkdwn text, already escaped; always private to the person who ran the command."""

    text: str


@dataclass(frozen=True, slots=True)
class OpenModal:
    view: dict


class MemberLookupError(Exception):
    """Slack could not tell us who the person is; the message is fit to show them."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who ran the command and where; `member()` asks Slack for their profile when needed."""

    user_id: str
    channel_id: str
    response_url: str
    is_staff: bool
    today: dt.date
    pilot_start: dt.date | None
    member: Callable[[], Awaitable[SlackMember]]


def eligibility_reply(arguments: str, today: dt.date) -> Reply:
    """The screening for `zip=90021 employees=12 ...`; pure and fast, so it can answer in the ack."""
    try:
        screening = screen_text(arguments, as_of=today)
    except ScreenerInputError as error:
        return help_reply(Help("eligible", escape(_problems(error))))
    return Reply(
        f"*Eligibility screening* for {_echo(arguments)}\n\n{escape(render_screening_text(screening))}"
    )


def preference_reply(arguments: str) -> Reply:
    try:
        result = calculate_preference(parse_preference_inputs(parse_pairs(arguments)))
    except ScreenerInputError as error:
        return help_reply(Help("preference", escape(_problems(error))))
    return Reply(f"*LSBE bid preference* for {_echo(arguments)}\n\n{escape(render_preference_text(result))}")


def _echo(arguments: str) -> str:
    return code(arguments if len(arguments) <= ECHO_LIMIT else arguments[:ECHO_LIMIT] + "…")


def _problems(error: ScreenerInputError) -> str:
    """The problems without the screener's list of keys: the help below lists them."""
    text = "; ".join(error.problems)
    return text[:1].upper() + text[1:] + "."


async def run_command(command: Command, invocation: Invocation) -> Reply | OpenModal:
    match command:
        case Help():
            return help_reply(command)
        case Eligible(arguments=""):
            return OpenModal(
                eligibility_modal(channel_id=invocation.channel_id, response_url=invocation.response_url)
            )
        case Eligible(arguments=arguments):
            return eligibility_reply(arguments, invocation.today)
        case Preference(arguments=arguments):
            return preference_reply(arguments)
        case ShowStatus():
            return await status_reply(invocation)
        case Find(term=term):
            return await find_reply(term, invocation)
        case Subscribe():
            return await subscribe_reply(invocation)
        case Unsubscribe():
            return await unsubscribe_reply(invocation)
        case ListCampaigns():
            return Reply(await campaign_replies.campaigns_text())
        case PauseCampaign() | ResumeCampaign():
            if not invocation.is_staff:
                return Reply("Sorry, only DEO staff can pause or resume campaigns.")
            actor = actor_for(invocation.user_id)
            if isinstance(command, PauseCampaign):
                return Reply(
                    await campaign_replies.pause(command.campaign_id, reason=command.reason, actor=actor)
                )
            return Reply(await campaign_replies.resume(command.campaign_id, actor=actor))
    raise AssertionError(f"unhandled command {command!r}")


async def status_reply(invocation: Invocation) -> Reply:
    phase = status.pilot_phase(invocation.today, invocation.pilot_start)
    roles = await status.subscribers_by_role()
    profiles = await status.screen_active_manufacturers(invocation.today)
    lines = await campaign_replies.status_lines()
    return Reply(status.render_status(phase, roles, profiles, lines))


async def find_reply(term: str, invocation: Invocation) -> Reply:
    try:
        results = await directory.find(term, staff=invocation.is_staff)
    except directory.BadSearch as error:
        return Reply(str(error))
    return Reply(directory.render_results(results, show_contacts=invocation.is_staff))


async def subscribe_reply(invocation: Invocation) -> Reply:
    try:
        member = await invocation.member()
    except MemberLookupError as error:
        return Reply(str(error))
    result = await subscribe_slack_member(member)
    address = escape(member.email)
    match result.outcome:
        case MembershipOutcome.REFUSED:
            text = (
                f"{address} was removed from our lists at your request, so we can't add it again. "
                "If you want our email after all, please ask DEO staff."
            )
        case MembershipOutcome.ALREADY_SUBSCRIBED:
            text = f"You're already on the working-group list at {address}. Nothing changed."
        case _:
            text = (
                f"You're on the Made in LA working-group list at {address}. {CONSENT_WORDING} "
                "Use `/madeinla unsubscribe` or the link in any of our emails to stop."
            )
    return Reply(text)


async def unsubscribe_reply(invocation: Invocation) -> Reply:
    try:
        member = await invocation.member()
    except MemberLookupError as error:
        return Reply(str(error))
    result = await unsubscribe_slack_member(member)
    address = escape(member.email)
    if result.outcome is MembershipOutcome.NOT_SUBSCRIBED:
        return Reply(f"{address} isn't on any of our lists, so there's nothing to stop.")
    return Reply(f"Done: we won't email {address} again. `/madeinla subscribe` puts you back on the list.")


# --- help -----------------------------------------------------------------------------------

GENERAL_HELP = """\
*/madeinla* answers questions about LA County's Made in Los Angeles pilot. Only you see the replies.
• `/madeinla eligible zip=90021 since=2019-03 employees=12 revenue=1.2M` does a business look \
eligible for the County's local small business preference (LSBE) and the pilot? \
`/madeinla eligible` alone opens a form.
• `/madeinla preference lowest=100000 bid=112000` the LSBE bid preference on a solicitation.
• `/madeinla status` where the pilot stands, who has signed up, what campaigns are doing.
• `/madeinla find scrubs` qualified manufacturers in the pool that make a product \
(English or Spanish words, a category or a NAICS code).
• `/madeinla subscribe` or `unsubscribe` working-group email at your Slack address.
• `/madeinla campaigns` upcoming and recent email campaigns. \
DEO staff: `/madeinla campaigns pause 12 reason` and `/madeinla campaigns resume 12`.
• `/madeinla help eligible` or `/madeinla help preference` every key you can give."""


def _keys_help(title: str, keys: dict[str, str], example: str) -> str:
    lines = [title, *(f"• `{key}` {escape(text)}" for key, text in keys.items()), f"Example: `{example}`"]
    return "\n".join(lines)


ELIGIBLE_HELP = _keys_help(
    "*`/madeinla eligible KEY=VALUE ...`* Answer what you know; anything left out is treated as unknown "
    "(yes/no keys also take `unknown`). With no keys it opens a form.",
    SCREENING_KEYS,
    "/madeinla eligible zip=90021 since=2019-03 employees=12 revenue=1.2M manufacturer=yes",
)
PREFERENCE_HELP = _keys_help(
    "*`/madeinla preference KEY=VALUE ...`* The LSBE preference (LACC 2.204.060) on one solicitation. "
    "Rates are percents: `5%` or `5`; write `0.5%` for half a percent (a bare `0.5` is refused as unclear).",
    PREFERENCE_KEYS,
    "/madeinla preference lowest=100000 bid=112000",
)
HELP_TEXT = {"": GENERAL_HELP, "eligible": ELIGIBLE_HELP, "preference": PREFERENCE_HELP}


def help_reply(command: Help) -> Reply:
    text = HELP_TEXT[command.topic]
    if command.problem:
        text = f":warning: {command.problem}\n\n{text}"
    return Reply(text)
