"""Reading `/madeinla` text into commands, and mrkdwn escaping (pure functions)."""

from __future__ import annotations

import pytest

from bot.slack.commands import (
    Eligible,
    Find,
    Help,
    ListCampaigns,
    PauseCampaign,
    Preference,
    ResumeCampaign,
    ShowStatus,
    Subscribe,
    Unsubscribe,
    parse_command,
)
from bot.slack.mrkdwn import clip, code, escape


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("  HELP ", Help()),
        ("help check", Help("eligible")),
        ("help preference", Help("preference")),
        ("eligible", Eligible("")),
        ("Eligible  zip=90021   employees=12", Eligible("zip=90021   employees=12")),
        ("check zip=90021", Eligible("zip=90021")),
        ("preference lowest=1 bid=2", Preference("lowest=1 bid=2")),
        ("preference", Help("preference")),
        ("status", ShowStatus()),
        ("find  surgical scrubs ", Find("surgical scrubs")),
        ("find", Find("")),
        ("subscribe", Subscribe()),
        ("unsubscribe", Unsubscribe()),
        ("campaigns", ListCampaigns()),
        ("campaigns pause 12", PauseCampaign(12)),
        ("campaigns PAUSE #12 wrong list, sorry", PauseCampaign(12, "wrong list, sorry")),
        ("campaigns resume 7", ResumeCampaign(7)),
    ],
)
def test_parse_command(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dance", "I don't know the command `dance`."),
        ("help me", "There is no help on `me`."),
        ("status now", "`status` takes no arguments."),
        ("campaigns pause", "Say which campaign by its number"),
        ("campaigns pause 99999999999", "Say which campaign by its number"),
        ("campaigns pause -3", "Say which campaign by its number"),
        ("campaigns delete 3", "`campaigns` can list, `pause ID` or `resume ID`, not `delete`."),
        ("<!channel>", "I don't know the command `&lt;!channel&gt;`."),
    ],
)
def test_mistakes_become_help(text, problem):
    command = parse_command(text)
    assert isinstance(command, Help)
    assert command.problem.startswith(problem)


def test_escape_neutralises_slack_control_sequences():
    assert (
        escape("<!channel> & <@U1> <https://x|y>") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )
    assert code("a`b <c>") == "`a'b &lt;c&gt;`"
    assert code("   ") == ""


def test_clip_cuts_on_a_word():
    assert clip("surgical scrubs and isolation gowns", 20) == "surgical scrubs and…"
    assert clip("short", 20) == "short"
    assert len(clip("x" * 50, 10)) == 10
