"""The figures' charts, each with a text summary and its data table, drawn on the server.

A `Chart` is data (title, summary, table, series); `draw(chart, "svg"|"png")` turns it into an
image with matplotlib's object API (no pyplot state, so threads may draw at once). The dashboard
shows the SVG with the summary as its text alternative and the table beside it; the report and
Slack use the PNG. Nothing here needs JavaScript.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib's: no display on a server

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from outreach.metrics.figures import Figures
from outreach.metrics.interest import ERASED, ROLES

ROLE_NAMES = {
    "manufacturer": "Manufacturers",
    "working_group": "Working group",
    "county_staff": "County staff",
    "other": "Others",
    ERASED: "Erased since",
}
VERDICT_NAMES = {
    "looks_eligible": "Looks eligible",
    "needs_review": "Needs review",
    "not_eligible": "Not eligible",
}
PROGRAM_NAMES = {"made_in_la": "Made in LA pilot", "lsbe": "LSBE"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
# Okabe-Ito: told apart by people with any common colour-vision deficiency.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@dataclass(slots=True)
class Chart:
    key: str
    title: str
    summary: str  # one or two sentences saying what the chart shows, in numbers
    headers: list[str]
    rows: list[list[str | int]]
    kind: Literal["stacked", "grouped", "barh"] = "grouped"
    categories: list[str] = field(default_factory=list)  # x axis (or y for barh)
    series: dict[str, list[int]] = field(default_factory=dict)  # legend name -> value per category
    y_label: str = ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def signups_chart(figures: Figures) -> Chart:
    interest = figures.interest
    grain = figures.period.grain.value
    labels = [f"{p.bucket.first:%b} {p.bucket.first.day}" for p in interest.series]
    roles = [*ROLES, ERASED]
    series = {ROLE_NAMES[r]: [p.signups_by_role.get(r, 0) for p in interest.series] for r in roles}
    series = {name: values for name, values in series.items() if any(values)} or {
        "Sign-ups": [0] * len(labels)
    }
    total = interest.totals.signups
    manufacturers = interest.signups_by_role.get("manufacturer", 0)
    busiest = max(interest.series, key=lambda p: p.totals.signups, default=None)
    summary = f"{_plural(total, 'sign-up')} from {figures.period.describe()}"
    if total:
        summary += f", {round(100 * manufacturers / total)}% of them manufacturers"
        if busiest is not None:
            summary += (
                f". The busiest {grain} began {busiest.bucket.first:%B} {busiest.bucket.first.day}"
                f" ({_plural(busiest.totals.signups, 'sign-up')})"
            )
    rows: list[list[str | int]] = [
        [p.bucket.first.isoformat(), *[p.signups_by_role.get(r, 0) for r in roles], p.totals.signups]
        for p in interest.series
    ]
    return Chart(
        "signups",
        f"Sign-ups by {grain} and role",
        summary + ".",
        [grain.capitalize() + " from", *[ROLE_NAMES[r] for r in roles], "Total"],
        rows,
        "stacked",
        labels,
        series,
        "People",
    )


def funnel_chart(figures: Figures) -> Chart:
    invitations = figures.outreach.as_json()["invitations"]
    by_language = invitations["by_language"]
    languages = sorted(by_language)
    invited, clicked = invitations["invited"], invitations["clicked"]
    summary = (
        f"{_plural(invited, 'application invitation')} reached the mail server; {clicked:,} "
        f"({round(100 * clicked / invited) if invited else 0}%) were followed to the application."
    )
    rows: list[list[str | int]] = [
        [LANGUAGE_NAMES.get(lang, lang), by_language[lang]["invited"], by_language[lang]["clicked"]]
        for lang in languages
    ]
    rows += [
        [f"Role: {ROLE_NAMES.get(role, role)}", v["invited"], v["clicked"]]
        for role, v in sorted(invitations["by_role"].items())
    ]
    rows.append(["All", invited, clicked])
    categories = ["All", *[LANGUAGE_NAMES.get(lang, lang) for lang in languages]]
    return Chart(
        "funnel",
        "Invitation funnel: invited, then clicked",
        summary,
        ["Group", "Invited", "Clicked"],
        rows,
        "grouped",
        categories,
        {
            "Invited": [invited, *[by_language[lang]["invited"] for lang in languages]],
            "Clicked": [clicked, *[by_language[lang]["clicked"] for lang in languages]],
        },
        "Messages",
    )


def pool_chart(figures: Figures) -> Chart:
    pool = figures.pool
    verdicts = list(VERDICT_NAMES)
    series = {
        PROGRAM_NAMES[program]: [pool.verdicts[program][v] for v in verdicts] for program in PROGRAM_NAMES
    }
    review = pool.verdicts["made_in_la"]["needs_review"]
    summary = (
        f"Of {_plural(pool.with_profile, 'active manufacturer')} with a profile, the screener finds "
        f"{pool.verdicts['made_in_la']['looks_eligible']:,} looking eligible for the pilot and {review:,} "
        f"needing review; for LSBE, {pool.verdicts['lsbe']['looks_eligible']:,} look eligible."
    )
    if pool.review_reasons:
        summary += f" Most often missing: {pool.review_reasons[0][1]}."
    rows: list[list[str | int]] = [
        [VERDICT_NAMES[v], *[pool.verdicts[p][v] for p in PROGRAM_NAMES]] for v in verdicts
    ]
    return Chart(
        "pool",
        f"The pool by verdict (screened {pool.as_of:%B} {pool.as_of.day}, {pool.as_of.year})",
        summary,
        ["Verdict", *PROGRAM_NAMES.values()],
        rows,
        "grouped",
        [VERDICT_NAMES[v] for v in verdicts],
        series,
        "Manufacturers",
    )


def sectors_chart(figures: Figures) -> Chart:
    sectors = figures.interest.manufacturers_by_sector
    total = sum(n for _c, _t, n in sectors)
    summary = f"{_plural(total, 'active manufacturer')} by NAICS subsector"
    if sectors:
        code, title, n = sectors[0]
        summary += f"; the largest is {title} ({code}) with {n:,}"
    shown = sectors[:12]
    return Chart(
        "sectors",
        "Manufacturers by sector (2022 NAICS)",
        summary + ".",
        ["NAICS", "Title", "Manufacturers"],
        [[c, t, n] for c, t, n in sectors],
        "barh",
        [f"{c} {t}"[:48] for c, t, _n in shown],
        {"Manufacturers": [n for _c, _t, n in shown]},
        "Manufacturers",
    )


OUTCOME_NAMES = {
    "delivered": "Delivered",
    "bounced": "Bounced",
    "deferred": "Deferred",
    "failed": "Failed",
    "suppressed": "Not sent (left or erased)",
    "waiting": "Waiting",
}


def delivery_chart(figures: Figures) -> Chart:
    campaigns = [c.as_json() for c in figures.outreach.campaigns]
    totals = figures.outreach.total()
    summary = (
        f"{_plural(len(campaigns), 'campaign')} started in the period, with {totals['messages']:,} messages: "
        f"{totals['delivered']:,} delivered, {totals['bounced']:,} bounced, {totals['failed']:,} failed, "
        f"{totals['deferred']:,} still being retried."
    )
    rows: list[list[str | int]] = [
        [
            f"#{c['id']} {c['name']}",
            c["started_at"][:10],
            *[c[k] for k in OUTCOME_NAMES],
            c["complained"],
            c["unsubscribed_within_7_days"],
        ]
        for c in campaigns
    ]
    return Chart(
        "deliveries",
        "Delivery outcomes per campaign",
        summary,
        ["Campaign", "Started", *OUTCOME_NAMES.values(), "Complaints", "Unsubscribed within 7 days"],
        rows,
        "stacked",
        [f"#{c['id']}" for c in campaigns],
        {name: [c[k] for c in campaigns] for k, name in OUTCOME_NAMES.items()},
        "Messages",
    )


def charts(figures: Figures) -> list[Chart]:
    return [
        signups_chart(figures),
        funnel_chart(figures),
        pool_chart(figures),
        sectors_chart(figures),
        delivery_chart(figures),
    ]


def draw(
    chart: Chart, fmt: Literal["svg", "png"] = "svg", *, width: float = 7.5, height: float = 3.6
) -> bytes:
    """The chart as an image. SVG keeps its text as text (fonts are the reader's) and carries no date."""
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.add_subplot()
    categories = chart.categories
    positions = list(range(len(categories)))
    if not categories:
        axes.text(0.5, 0.5, "Nothing to show for this period", ha="center", va="center")
        axes.set_axis_off()
    elif chart.kind == "barh":
        values = next(iter(chart.series.values()), [])
        axes.barh(positions[: len(values)], values, color=COLOURS[0])
        axes.set_yticks(positions, categories)
        axes.invert_yaxis()
        axes.set_xlabel(chart.y_label)
    else:
        count = max(len(chart.series), 1)
        width_each = 0.8 / count if chart.kind == "grouped" else 0.8
        bottoms = [0] * len(categories)
        for i, (name, values) in enumerate(chart.series.items()):
            if chart.kind == "stacked":
                axes.bar(positions, values, width_each, bottom=bottoms, label=name, color=COLOURS[i % 8])
                bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
            else:
                shifted = [p - 0.4 + width_each * (i + 0.5) for p in positions]
                axes.bar(shifted, values, width_each, label=name, color=COLOURS[i % 8])
        axes.set_xticks(
            positions,
            categories,
            rotation=45 if len(categories) > 8 else 0,
            ha="right" if len(categories) > 8 else "center",
        )
        axes.set_ylabel(chart.y_label)
        if chart.series:
            axes.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if categories:
        (axes.xaxis if chart.kind == "barh" else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    if fmt == "svg":
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": chart.key}):
            figure.savefig(out, format="svg", metadata={"Date": None})
    else:
        figure.savefig(out, format="png", dpi=120, metadata={"Software": None})
    return out.getvalue()


def signups_png(figures: Figures) -> bytes:
    """The sign-ups chart as PNG (Slack's `/madeinla report`, App Home)."""
    return draw(signups_chart(figures), "png")
