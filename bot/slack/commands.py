"""`/madeinla` subcommands: read the text into a typed command, run it, say what to reply.

No Slack SDK types here: the Bolt listener (bot.slack.app) hands over an `Invocation` and sends
back the `Reply`. A mistake in what someone typed always becomes the help text with the problem
on top, never an error.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack import campaigns as campaign_replies
from bot.slack import directory, report, spanish, status
from bot.slack.mrkdwn import code, escape
from bot.slack.spanish import say
from bot.slack.views import eligibility_modal
from outreach.metrics import Figures
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
from subscribers.eligibility.verdict import Screening
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
class ShowReport:
    period: str  # "month" or "quarter"


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
    | ShowReport
    | Find
    | Subscribe
    | Unsubscribe
    | ListCampaigns
    | PauseCampaign
    | ResumeCampaign
)

_ALIASES = {
    "eligibility": "eligible",
    "check": "eligible",
    "screen": "eligible",
    "search": "find",
    "join": "subscribe",
    "leave": "unsubscribe",
    "campaign": "campaigns",
    "?": "help",
    **spanish.COMMAND_WORDS,
}
_COMMANDS = (
    "help",
    "eligible",
    "preference",
    "status",
    "report",
    "find",
    "subscribe",
    "unsubscribe",
    "campaigns",
)
_HELP_WORDS = ("help", "ayuda", "?")


def typed_in_spanish(text: str) -> bool:
    """The subcommand is a Spanish word: answer in Spanish whatever Slack's language says."""
    words = text.strip().split(maxsplit=1)
    return bool(words) and (words[0].lower() in spanish.COMMAND_WORDS)


def parse_command(text: str, language: str = "en") -> Command:
    """`eligible zip=90021`, `campaigns pause 12 wrong list`, `elegible zip=90021` ... -> a typed command."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return Help()
    name = _ALIASES.get(words[0].lower(), words[0].lower())
    rest = words[1].strip() if len(words) > 1 else ""
    match name:
        case "help":
            topic = _ALIASES.get(rest.lower(), rest.lower())
            if topic and topic not in ("eligible", "preference"):
                return Help(
                    problem=say(
                        language, f"There is no help on {code(rest)}.", f"No hay ayuda sobre {code(rest)}."
                    )
                )
            return Help(topic)
        case "eligible":
            return Help("eligible") if rest.lower() in _HELP_WORDS else Eligible(rest)
        case "preference":
            return Preference(rest) if rest and rest.lower() not in _HELP_WORDS else Help("preference")
        case "status":
            return ShowStatus() if not rest else Help(problem=_no_arguments("status", language))
        case "report":
            period = report.SPANISH_PERIODS.get(rest.lower(), rest.lower()) or "month"
            if period not in report.PERIODS:
                return Help(
                    problem=say(
                        language,
                        f"`report` takes `month` or `quarter`, not {code(rest)}.",
                        f"`informe` lleva `mes` o `trimestre`, no {code(rest)}.",
                    )
                )
            return ShowReport(period)
        case "find":
            return Find(rest)
        case "subscribe":
            return Subscribe() if not rest else Help(problem=_no_arguments("subscribe", language))
        case "unsubscribe":
            return Unsubscribe() if not rest else Help(problem=_no_arguments("unsubscribe", language))
        case "campaigns":
            return _parse_campaigns(rest, language)
    unknown = say(
        language, f"I don't know the command {code(words[0])}.", f"No conozco el comando {code(words[0])}."
    )
    return Help(problem=unknown + _did_you_mean(words[0].lower(), language))


def _no_arguments(name: str, language: str) -> str:
    return say(language, f"`{name}` takes no arguments.", f"`{name}` no lleva nada más.")


def _did_you_mean(word: str, language: str) -> str:
    """The closest subcommand in the person's language (a mistyped key gets the same, from the screener)."""
    names = [*spanish.COMMAND_WORDS, *_COMMANDS] if language == "es" else [*_COMMANDS, *_ALIASES]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.7)
    return (
        say(language, f" Did you mean {code(close[0])}?", f" ¿Quiso decir {code(close[0])}?") if close else ""
    )


def _parse_campaigns(rest: str, language: str) -> Command:
    if not rest:
        return ListCampaigns()
    words = rest.split(maxsplit=2)
    action = spanish.CAMPAIGN_ACTIONS.get(words[0].lower(), words[0].lower())
    if action not in ("pause", "resume"):
        return Help(
            problem=say(
                language,
                f"`campaigns` can list, `pause ID` or `resume ID`, not {code(words[0])}.",
                f"`campañas` puede listar, `pausar ID` o `reanudar ID`, no {code(words[0])}.",
            )
        )
    number = words[1].lstrip("#") if len(words) > 1 else ""
    if not number.isdigit() or not 0 < int(number) < 2**31:
        return Help(
            problem=say(
                language,
                f"Say which campaign by its number, like `/madeinla campaigns {action} 12`.",
                f"Diga qué campaña por su número, como `/madeinla campañas {words[0].lower()} 12`.",
            )
        )
    if action == "pause":
        return PauseCampaign(int(number), words[2].strip() if len(words) > 2 else "")
    if len(words) > 2:
        return Help(
            problem=say(
                language,
                "`campaigns resume` takes only the campaign number.",
                "`campañas reanudar` lleva solo el número de la campaña.",
            )
        )
    return ResumeCampaign(int(number))


# --- running them ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """mrkdwn text, already escaped; always private to the person who ran the command."""

    text: str


@dataclass(frozen=True, slots=True)
class ReportReply:
    """The report's text, and its figures for the chart posted after the answer."""

    text: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class OpenModal:
    view: dict[str, Any]


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
    language: str = "en"  # "es" when Slack's language is Spanish or a Spanish subcommand was typed


def eligibility_reply(arguments: str, today: dt.date, language: str = "en") -> Reply:
    """The screening for `zip=90021 employees=12 ...`; pure and fast, so it can answer in the ack."""
    try:
        screening = screen_text(arguments, as_of=today)
    except ScreenerInputError as error:
        return help_reply(Help("eligible", escape(_problems(error))), language)
    return Reply(screening_message(_echo(arguments), screening, language))


def screening_message(shown: str, screening: Screening, language: str) -> str:
    """The screening under a heading that quotes what was asked (`shown`: mrkdwn, escaped)."""
    text = render_screening_text(screening)
    if language == "es":
        spanish_text = escape(spanish.screening_text(text))
        return f"*Evaluación de elegibilidad* de {shown}\n\n{spanish_text}\n{spanish.REASONS_IN_ENGLISH}"
    return f"*Eligibility screening* for {shown}\n\n{escape(text)}"


def preference_reply(arguments: str, language: str = "en") -> Reply:
    try:
        result = calculate_preference(parse_preference_inputs(parse_pairs(arguments)))
    except ScreenerInputError as error:
        return help_reply(Help("preference", escape(_problems(error))), language)
    heading = say(language, "*LSBE bid preference* for", "*Preferencia LSBE en la licitación* de")
    return Reply(f"{heading} {_echo(arguments)}\n\n{escape(render_preference_text(result))}")


def _echo(arguments: str) -> str:
    return code(arguments if len(arguments) <= ECHO_LIMIT else arguments[:ECHO_LIMIT] + "…")


def _problems(error: ScreenerInputError) -> str:
    """The problems without the screener's list of keys: the help below lists them."""
    text = "; ".join(error.problems)
    return text[:1].upper() + text[1:] + "."


async def run_command(command: Command, invocation: Invocation) -> Reply | OpenModal | ReportReply:
    language = invocation.language
    match command:
        case Help():
            return help_reply(command, language)
        case Eligible(arguments=""):
            return OpenModal(
                eligibility_modal(channel_id=invocation.channel_id, response_url=invocation.response_url)
            )
        case Eligible(arguments=arguments):
            return eligibility_reply(arguments, invocation.today, language)
        case Preference(arguments=arguments):
            return preference_reply(arguments, language)
        case ShowStatus():
            return await status_reply(invocation)
        case ShowReport(period=period):
            figures = await report.collect_report(period, invocation.today)
            return ReportReply(report.report_text(figures, chart_follows=True), figures)
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
                return Reply(
                    say(
                        language,
                        "Sorry, only DEO staff can pause or resume campaigns.",
                        "Lo sentimos, solo el personal del DEO puede pausar o reanudar campañas.",
                    )
                )
            actor = actor_for(invocation.user_id)
            if isinstance(command, PauseCampaign):
                return Reply(
                    await campaign_replies.pause(command.campaign_id, reason=command.reason, actor=actor)
                )
            return Reply(await campaign_replies.resume(command.campaign_id, actor=actor))
    raise AssertionError(f"unhandled command {command!r}")


async def status_reply(invocation: Invocation) -> Reply:
    phase = status.pilot_phase(invocation.today, invocation.pilot_start, invocation.language)
    roles = await status.subscribers_by_role()
    profiles = await status.screen_active_manufacturers(invocation.today)
    lines = await campaign_replies.status_lines()
    return Reply(status.render_status(phase, roles, profiles, lines, invocation.language))


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
    language = invocation.language
    match result.outcome:
        case MembershipOutcome.REFUSED:
            text = say(
                language,
                f"{address} was removed from our lists at your request, so we can't add it again. "
                "If you want our email after all, please ask DEO staff.",
                f"{address} se quitó de nuestras listas a petición suya, así que no podemos volver a "
                "agregarla. Si ahora quiere nuestro correo, pídalo al personal del DEO.",
            )
        case MembershipOutcome.ALREADY_SUBSCRIBED:
            text = say(
                language,
                f"You're already on the working-group list at {address}. Nothing changed.",
                f"Ya está en la lista del grupo de trabajo con {address}. No cambió nada.",
            )
        case _:
            text = say(
                language,
                f"You're on the Made in LA working-group list at {address}. {CONSENT_WORDING} "
                "Use `/madeinla unsubscribe` or the link in any of our emails to stop.",
                f"Está en la lista del grupo de trabajo de Made in LA con {address}. Le enviaremos "
                "correo sobre el grupo de trabajo y el piloto. Para dejar de recibirlo use "
                "`/madeinla desuscribir` o el enlace de cualquiera de nuestros correos.",
            )
    return Reply(text)


async def unsubscribe_reply(invocation: Invocation) -> Reply:
    try:
        member = await invocation.member()
    except MemberLookupError as error:
        return Reply(str(error))
    result = await unsubscribe_slack_member(member)
    address = escape(member.email)
    language = invocation.language
    if result.outcome is MembershipOutcome.NOT_SUBSCRIBED:
        return Reply(
            say(
                language,
                f"{address} isn't on any of our lists, so there's nothing to stop.",
                f"{address} no está en ninguna de nuestras listas; no hay nada que detener.",
            )
        )
    return Reply(
        say(
            language,
            f"Done: we won't email {address} again. `/madeinla subscribe` puts you back on the list.",
            f"Listo: no volveremos a escribir a {address}. `/madeinla suscribir` le vuelve a inscribir.",
        )
    )


# --- help -----------------------------------------------------------------------------------

GENERAL_HELP = """\
*/madeinla* answers questions about LA County's Made in Los Angeles pilot. Only you see the replies.
• `/madeinla eligible zip=90021 since=2019-03 employees=12 revenue=1.2M` does a business look \
eligible for the County's local small business preference (LSBE) and the pilot? \
`/madeinla eligible` alone opens a form.
• `/madeinla preference lowest=100000 bid=112000` the LSBE bid preference on a solicitation.
• `/madeinla status` where the pilot stands, who has signed up, what campaigns are doing.
• `/madeinla report` or `report quarter` this month's (or quarter's) figures and the sign-ups chart.
• `/madeinla find scrubs` qualified manufacturers in the pool that make a product \
(English or Spanish words, a category or a NAICS code).
• `/madeinla subscribe` or `unsubscribe` working-group email at your Slack address.
• `/madeinla campaigns` upcoming and recent email campaigns. \
DEO staff: `/madeinla campaigns pause 12 reason` and `/madeinla campaigns resume 12`.
• `/madeinla help eligible` or `/madeinla help preference` every key you can give."""


def _keys_help(title: str, keys: dict[str, str], example: str) -> str:
    label = "Ejemplo" if title is spanish.ELIGIBLE_INTRO else "Example"
    lines = [title, *(f"• `{key}` {escape(text)}" for key, text in keys.items()), f"{label}: `{example}`"]
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
SPANISH_HELP_TEXT = {
    "": spanish.GENERAL_HELP,
    "eligible": _keys_help(spanish.ELIGIBLE_INTRO, spanish.SCREENING_KEYS, spanish.ELIGIBLE_EXAMPLE),
    "preference": spanish.PREFERENCE_INTRO,
}


def help_reply(command: Help, language: str = "en") -> Reply:
    text = (SPANISH_HELP_TEXT if language == "es" else HELP_TEXT)[command.topic]
    if command.problem:
        text = f":warning: {command.problem}\n\n{text}"
    return Reply(text)
