"""`/madeinla report [month|quarter]` and the App Home tab: the pilot's headline numbers and chart.

The figures and the chart are `outreach.metrics`' (the dashboard, the Board report and the weekly
email use the same functions); this module picks the period and puts them into Slack's words.

The chart is a PNG. For the command it is uploaded with the Web API's file upload
(`files_upload_v2`) into the person's direct messages with the app, so it stays as private as
the rest of the reply. The App Home tab can't hold an upload, so it shows the chart from our own
address (`/slack/charts/signups.png`, a link signed with SECRET_KEY that works for a day), when
Slack can reach that address over HTTPS; otherwise the chart's text summary stands in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.slack.mrkdwn import escape
from outreach.metrics import Figures, Period, collect
from outreach.metrics.charts import signups_chart

PERIODS = ("month", "quarter")
SPANISH_PERIODS = {"mes": "month", "trimestre": "quarter"}
CHART_LINK_SECONDS = 24 * 3600
_CHART_SALT = "slack-chart"


class UnknownPeriod(ValueError):
    pass


def report_period(word: str, today: dt.date) -> Period:
    """`month`: this calendar month so far; `quarter`: this calendar quarter so far (by week)."""
    chosen = SPANISH_PERIODS.get(word.lower(), word.lower()) or "month"
    if chosen == "month":
        first = today.replace(day=1)
    elif chosen == "quarter":
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    else:
        raise UnknownPeriod(word)
    return Period.make(first, today, "week", today=today)


async def collect_report(word: str, today: dt.date) -> Figures:
    return await collect(report_period(word, today), today=today)


def headline_lines(figures: Figures) -> list[str]:
    lines = []
    for headline in figures.headlines:
        line = f"• {headline.label}: *{headline.value:,}*"
        if headline.change is not None:
            line += f" ({headline.change:+,} on the {figures.period.days} days before)"
        lines.append(line)
    return lines


def report_text(figures: Figures, *, chart_follows: bool) -> str:
    """The command's reply: the period, the headline numbers, what the chart shows."""
    lines = [f"*Made in LA pilot, {figures.period.describe()}*", *headline_lines(figures)]
    lines.append(escape(signups_chart(figures).summary))
    if chart_follows:
        lines.append("_The sign-ups chart is on its way to your direct messages with this app._")
    return "\n".join(lines)


def chart_title(figures: Figures) -> str:
    return f"Made in LA sign-ups, {figures.period.describe()}"


def home_view(figures: Figures, chart_url: str | None) -> dict[str, Any]:
    """The App Home tab: the same numbers as `/madeinla report month`, and the chart."""
    chart = signups_chart(figures)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Made in LA pilot"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{figures.period.describe()}*\n" + "\n".join(headline_lines(figures)),
            },
        },
    ]
    if chart_url:
        blocks.append(
            {
                "type": "image",
                "image_url": chart_url,
                "alt_text": chart.summary[:2000],
                "title": {"type": "plain_text", "text": chart.title},
            }
        )
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(chart.summary)}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Refreshed each time you open this tab. `/madeinla report quarter` for the "
                    "quarter; `/madeinla help` for everything else.",
                }
            ],
        },
    ]
    return {"type": "home", "blocks": blocks}


def chart_link(secret: str, base_url: str, word: str, today: dt.date) -> str | None:
    """A signed address of the chart, or None when Slack couldn't fetch it (no HTTPS)."""
    if not base_url.startswith("https://"):
        return None
    token = URLSafeTimedSerializer(secret, salt=_CHART_SALT).dumps([word, today.isoformat()])
    return f"{base_url.rstrip('/')}/slack/charts/signups.png?t={token}"


def read_chart_link(secret: str, token: str) -> str | None:
    """The period word a chart link was signed for, or None when it is forged or too old."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_CHART_SALT).loads(token, max_age=CHART_LINK_SECONDS)
    except BadSignature:
        return None
    if isinstance(data, list) and data and data[0] in PERIODS:
        return str(data[0])
    return None
