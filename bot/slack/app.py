"""The Bolt app: built from our settings only, with thin listeners that call `commands`.

`process_before_response=True`: Bolt's default runs each listener as a detached task and polls
every 10 ms for the ack, which adds about 10 ms to every reply and lets work outlive the request
unsupervised. Our listeners answer from the ack in well under Slack's 3 seconds (the screener is
pure; database commands are bounded queries with a time limit), so running them to completion
before the HTTP response is both faster and simpler to reason about.

The one answer that can't come from the ack is the form's: it is posted with Slack's Web API,
which may take seconds, after the modal has closed. That posting runs in `Deliveries`, tasks we
keep and finish on shutdown (rather than Bolt's lazy listeners, which start tasks nobody holds
a reference to, run even after a validation error, and log exception messages that may quote
what someone typed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.settings import Settings
from bot.slack import report, spanish
from bot.slack.approvals import register_approvals
from bot.slack.commands import (
    Eligible,
    Invocation,
    MemberLookupError,
    OpenModal,
    Reply,
    ReportReply,
    eligibility_reply,
    parse_command,
    pilot_today,
    run_command,
    screening_message,
    typed_in_spanish,
)
from bot.slack.mrkdwn import escape, unescape
from bot.slack.spanish import say
from bot.slack.views import ELIGIBILITY_CALLBACK, answer_errors, private_metadata, submitted_answers
from outreach.metrics import Figures
from outreach.metrics.charts import signups_png
from subscribers.addresses import InvalidEmail, normalise_email
from subscribers.eligibility import parse_screening_inputs as screening_inputs
from subscribers.eligibility import screen
from subscribers.slack_membership import SlackMember

log = logging.getLogger(__name__)

COMMAND = "/madeinla"
# Slack waits 3 s for an answer. Work that talks to the database or to Slack gets this long, then
# the person is told to try again (a timed-out transaction is rolled back, so nothing is half-done).
WORK_SECONDS = 2.4
SLACK_CALL_SECONDS = 2.0

# Variables AsyncApp() reads by itself when an argument is missing or falsy. Both SLACK_CLIENT_ID
# and SLACK_CLIENT_SECRET being set silently switches it to the OAuth flow, ignoring our token.
_BOLT_ENVIRONMENT = (
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_VERIFICATION_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
)


class SlackNotConfigured(RuntimeError):
    pass


class Deliveries:
    """Answers posted after the HTTP response has gone (the form's result).

    asyncio keeps only weak references to tasks, so each is held here until it finishes; on
    shutdown the ones still running get a few seconds to finish, then are cancelled.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The type only: the message may hold the answer, which quotes what someone typed.
            log.error("posting a Slack answer failed: %s", type(error).__name__)

    async def close(self, seconds: float = 2 * SLACK_CALL_SECONDS + 1) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            log.warning("shutting down: a Slack answer was not posted in time (%s)", task.get_name())
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


class MemberLanguages:
    """Each person's Slack language ("en" or "es"), from `users.info` and kept for an hour.

    One call per person per hour (per process), with a short time limit: Slack being slow or
    down means English, tried again a minute later, never a late answer.
    """

    KEEP_SECONDS = 3600.0
    RETRY_SECONDS = 60.0
    LOOKUP_SECONDS = 1.0

    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._known: dict[str, tuple[str, float]] = {}  # user id -> (language, until)

    async def of(self, user_id: str) -> str:
        now = self._clock()
        known = self._known.get(user_id)
        if known is not None and known[1] > now:
            return known[0]
        language, keep = await self._look_up(user_id)
        if len(self._known) > 50_000:  # a whole County's workspace fits; this only stops runaway growth
            self._known = {user: entry for user, entry in self._known.items() if entry[1] > now}
        self._known[user_id] = (language, now + keep)
        return language

    async def _look_up(self, user_id: str) -> tuple[str, float]:
        if not user_id:
            return "en", self.RETRY_SECONDS
        try:
            async with asyncio.timeout(self.LOOKUP_SECONDS):
                response = await self._client.users_info(user=user_id, include_locale=True)
        except (SlackClientError, TimeoutError) as error:
            log.info("users.info (locale) failed for %s: %s", user_id, _slack_error(error))
            return "en", self.RETRY_SECONDS
        user = response.get("user")
        locale = user.get("locale") if isinstance(user, dict) else None
        spanish_locale = isinstance(locale, str) and spanish.is_spanish_locale(locale)
        return ("es" if spanish_locale else "en"), self.KEEP_SECONDS


def is_configured(settings: Settings) -> bool:
    return bool(
        settings.slack_signing_secret.get_secret_value() and settings.slack_bot_token.get_secret_value()
    )


def build_web_client(settings: Settings) -> AsyncWebClient:
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


def build_slack_app(settings: Settings, deliveries: Deliveries | None = None) -> AsyncApp:
    """The Bolt app for one workspace, from `settings` and nothing else.

    `deliveries` runs what is posted after a response; whoever builds the app closes it on shutdown.
    """
    if not is_configured(settings):
        raise SlackNotConfigured("set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN")
    with _hidden(_BOLT_ENVIRONMENT):
        bolt = AsyncApp(
            name="madeinla",
            client=build_web_client(settings),
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            # /slack/events checks the signature (and replays) before Bolt parses anything
            # (bot.slack.intake); Bolt checking it again would only cost time.
            request_verification_enabled=False,
            process_before_response=True,
            logger=_bolt_logger(settings),
        )
    _register(bolt, settings, deliveries if deliveries is not None else Deliveries())
    return bolt


def _bolt_logger(settings: Settings) -> logging.Logger:
    """Bolt's own INFO and DEBUG lines quote whole payloads (a refused signature logs the body,
    which may hold what someone typed), so below WARNING they are kept only when LOG_LEVEL=debug.
    Bolt copies this logger's level to each of its loggers."""
    logger = logging.getLogger("bot.slack.bolt")
    logger.setLevel(logging.DEBUG if settings.log_level == "debug" else logging.WARNING)
    return logger


@contextlib.contextmanager
def _hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Hide variables from AsyncApp's constructor (it is synchronous: nothing else runs meanwhile)."""
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _register(bolt: AsyncApp, settings: Settings, deliveries: Deliveries) -> None:
    staff = settings.staff_slack_user_ids
    pilot_start = settings.pilot_start_date
    languages = MemberLanguages(bolt.client)

    @bolt.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = unescape(command.get("text") or "")
        user_id = command.get("user_id", "")
        language = "es" if typed_in_spanish(text) else await languages.of(user_id)
        parsed = parse_command(text, language)
        if isinstance(parsed, Eligible) and parsed.arguments:
            # The common case answers straight from the ack: no database, and no Slack call once
            # the person's language is known.
            await _send(ack, eligibility_reply(parsed.arguments, pilot_today(), language))
            return
        invocation = Invocation(
            user_id=user_id,
            channel_id=command.get("channel_id", ""),
            response_url=command.get("response_url", ""),
            is_staff=user_id in staff,
            today=pilot_today(),
            pilot_start=pilot_start,
            member=lambda: _look_up_member(client, user_id, user_id in staff, language),
            language=language,
        )
        reply: Reply | None
        try:
            async with asyncio.timeout(WORK_SECONDS):
                outcome = await run_command(parsed, invocation)
                if isinstance(outcome, OpenModal):
                    reply = await _open_modal(client, command.get("trigger_id", ""), outcome)
                elif isinstance(outcome, ReportReply):
                    reply = Reply(outcome.text)
                    chart = _send_chart(bolt.client, user_id, outcome.figures)
                    deliveries.start(chart, name="slack-report-chart")
                else:
                    reply = outcome
        except TimeoutError:
            reply = Reply(
                say(
                    language,
                    "Sorry, that took too long and nothing was changed. Please try again.",
                    "Lo sentimos, tardó demasiado y no se cambió nada. Inténtelo de nuevo.",
                )
            )
        await _send(ack, reply)

    @bolt.view(ELIGIBILITY_CALLBACK)
    async def on_eligibility_form(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        answers = submitted_answers(view)
        errors = answer_errors(answers)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        # Screened before the ack, so an unexpected failure still reaches the person (the modal
        # shows the apology); posting waits on Slack, so it runs after the modal has closed.
        screening = screen(screening_inputs(answers), as_of=pilot_today())
        shown = " ".join(f"{key}={value}" for key, value in answers.items())
        user_id = user_of(body)
        text = screening_message(f"`{escape(shown)}`", screening, await languages.of(user_id))
        await ack()  # closes the modal; the answer follows as a private message
        deliveries.start(
            _post_privately(bolt.client, user_id, private_metadata(view), text), name="slack-form-answer"
        )

    # Anything else Slack sends us (another command pointed here, a button on an old message) gets
    # a polite answer instead of Bolt's "unhandled request" warning, which logs the whole payload.
    register_approvals(bolt)  # before the catch-all action listener below

    @bolt.command(re.compile(".*"))
    async def on_other_command(ack: Any) -> None:
        await ack(text=f"This app only answers `{COMMAND}`. Try `{COMMAND} help`.", response_type="ephemeral")

    @bolt.action(re.compile(".*"))
    async def on_other_action(ack: Any) -> None:
        await ack()

    @bolt.view(re.compile(".*"))
    async def on_other_view(ack: Any) -> None:
        await ack()

    @bolt.view_closed(re.compile(".*"))
    async def on_closed_view(ack: Any) -> None:
        await ack()

    @bolt.shortcut(re.compile(".*"))
    async def on_shortcut(ack: Any) -> None:
        await ack()

    @bolt.options(re.compile(".*"))
    async def on_options(ack: Any) -> None:
        await ack(options=[])

    @bolt.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        # Acknowledged at once; the figures and views.publish follow (Slack wants an answer in 3 s).
        user_id = event.get("user")
        if event.get("tab", "home") == "home" and isinstance(user_id, str) and user_id:
            deliveries.start(_publish_home(bolt.client, user_id, settings), name="slack-app-home")

    @bolt.event(re.compile(".*"))
    async def on_other_event() -> None:
        pass

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        return apology(error, body)


def user_of(body: dict[str, Any]) -> str:
    """The id of the person behind an interaction (`user` is an object there, a bare id in events)."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else user
    return found if isinstance(found, str) else ""


async def _send(ack: Any, reply: Reply | None) -> None:
    """Answer in the HTTP response: only the person who ran the command sees it."""
    if reply is None:
        await ack()
    else:
        await ack(text=reply.text, response_type="ephemeral")


async def _open_modal(client: AsyncWebClient, trigger_id: str, modal: OpenModal) -> Reply | None:
    """Open the form. The trigger expires 3 s after the command, so this happens before the ack."""
    try:
        async with asyncio.timeout(SLACK_CALL_SECONDS):
            await client.views_open(trigger_id=trigger_id, view=modal.view)
    except (SlackClientError, TimeoutError) as error:
        log.warning("views.open failed: %s", _slack_error(error))
        return Reply(
            "Sorry, Slack didn't open the form in time. Try again, or give the answers in the "
            "command itself, like `/madeinla eligible zip=90021 employees=12`."
        )
    return None


async def _look_up_member(client: AsyncWebClient, user_id: str, is_staff: bool, language: str) -> SlackMember:
    """The person's verified Slack address (needs the `users:read.email` scope)."""
    try:
        async with asyncio.timeout(SLACK_CALL_SECONDS):
            response = await client.users_info(user=user_id)
    except (SlackClientError, TimeoutError) as error:
        log.warning("users.info failed for %s: %s", user_id, _slack_error(error))
        raise MemberLookupError(
            say(
                language,
                "Sorry, Slack didn't tell me your email address just now, so nothing was changed. "
                "Please try again in a minute.",
                "Lo sentimos, Slack no nos dio su correo en este momento; no se cambió nada. "
                "Inténtelo de nuevo en un minuto.",
            )
        ) from None
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    raw = profile.get("email") or ""
    if user.get("is_bot") or not raw or user.get("is_email_confirmed") is False:
        raise MemberLookupError(
            say(
                language,
                "Slack has no confirmed email address for your account, so I can't subscribe it. "
                "You can sign up with the form on our website instead.",
                "Slack no tiene un correo confirmado para su cuenta, así que no puedo inscribirla. "
                "Puede inscribirse con el formulario de nuestro sitio web.",
            )
        )
    try:
        email = normalise_email(raw)
    except InvalidEmail:
        raise MemberLookupError(
            say(
                language,
                "Your Slack email address doesn't look usable for email from us.",
                "Su correo de Slack no parece servir para recibir nuestros mensajes.",
            )
        ) from None
    name = profile.get("real_name") or user.get("real_name") or ""
    return SlackMember(user_id=user_id, email=email, name=str(name), is_staff=is_staff)


async def _post_privately(client: AsyncWebClient, user_id: str, metadata: dict[str, str], text: str) -> None:
    """Post the form's answer where the command was run, visible to that person only.

    The command's `response_url` works in any conversation, even one the bot is not in; it
    expires after 30 minutes, and then the answer goes to the person as a direct message.
    """
    url = metadata.get("response_url", "")
    if url.startswith(("https://", "http://")):
        try:
            async with asyncio.timeout(SLACK_CALL_SECONDS):
                result = await AsyncWebhookClient(url).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
            if result.status_code == 200:
                return
            log.info("response_url answered %s; sending a direct message instead", result.status_code)
        except (SlackClientError, OSError, TimeoutError) as error:
            log.warning("response_url failed: %s", type(error).__name__)
    try:
        async with asyncio.timeout(SLACK_CALL_SECONDS):
            await client.chat_postMessage(channel=user_id, text=text)
    except (SlackClientError, TimeoutError) as error:
        log.error("could not send the screening to %s: %s", user_id, _slack_error(error))


REPORT_POST_SECONDS = 20.0


async def _send_chart(client: AsyncWebClient, user_id: str, figures: Figures) -> None:
    """Upload the report's sign-ups chart into the person's direct messages with the app."""
    try:
        async with asyncio.timeout(REPORT_POST_SECONDS):
            png = await asyncio.to_thread(signups_png, figures)  # matplotlib: seconds of CPU, not the loop's
            opened = await client.conversations_open(users=user_id)
            channel = (opened.get("channel") or {}).get("id", "")
            await client.files_upload_v2(
                channel=channel,
                file=png,
                filename="madeinla-signups.png",
                title=report.chart_title(figures),
                initial_comment=escape(report.chart_title(figures)),
            )
    except (SlackClientError, TimeoutError) as error:
        log.warning("could not upload the report chart for %s: %s", user_id, _slack_error(error))


async def _publish_home(client: AsyncWebClient, user_id: str, settings: Settings) -> None:
    """The App Home tab: this month's headline numbers and the sign-ups chart, fresh on each opening."""
    today = pilot_today()
    figures = await report.collect_report("month", today)
    secret = settings.secret()
    view = report.home_view(figures, report.chart_link(secret, settings.public_base_url, "month", today))
    try:
        async with asyncio.timeout(SLACK_CALL_SECONDS):
            await client.views_publish(user_id=user_id, view=view)
    except (SlackClientError, TimeoutError) as error:
        log.warning("views.publish failed for %s: %s", user_id, _slack_error(error))


def _slack_error(error: BaseException) -> str:
    if isinstance(error, SlackApiError) and isinstance(error.response.data, dict):
        return str(error.response.data.get("error", "unknown error"))
    return type(error).__name__


def apology(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A polite answer for anything unexpected, with a reference staff can find in the log.

    The log line carries the reference, the kind of request, the exception's type and where it
    was raised (file, line, function), but not its message, the source lines or the payload,
    any of which may hold what someone typed or an address.
    """
    reference = secrets.token_hex(4)
    kind = body.get("type") or ("command" if "command" in body else "request")
    frames = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(error.__traceback__)
    )
    log.error("Slack %s failed, reference %s: %s\n%s", kind, reference, type(error).__name__, frames)
    text = (
        f"Sorry, something went wrong on our side (reference {reference}). "
        "Please try again, or tell DEO staff the reference."
    )
    if kind == "view_submission":
        answer: dict[str, Any] = {
            "response_action": "update",
            "view": {
                "type": "modal",
                "title": {"type": "plain_text", "text": "Made in LA screener"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            },
        }
    elif kind == "command":
        answer = {"response_type": "ephemeral", "text": text}
    else:
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps(answer), headers={"content-type": "application/json"})
