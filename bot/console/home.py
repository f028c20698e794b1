"""The console's home page at /staff/: the pilot's dashboard (issue 13).

Headline numbers with the change since the previous period, five charts (SVG images drawn on the
server, each with its summary as text alternative and its data table), a period form, and the
report to the Board for the same period in every format. The figures come from
`outreach.metrics`, like the CLI's and Slack's; this module only parses the period and renders.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bot.console.access import render, staff_route
from outreach.metrics import Figures, Period, PeriodError, collect, figures_to_json
from outreach.metrics.charts import charts, draw
from outreach.metrics.report import FORMATS, MEDIA_TYPES, application_tables, build, file_name
from subscribers.staff_models import StaffRole

MENU = [("Home", "/staff/", StaffRole.VIEWER)]
CHART_KEYS = ("signups", "funnel", "pool", "sectors", "deliveries")
CACHE_SECONDS = 60.0  # the page's images ask for the same figures within moments of the page

# period -> (when made, figures): the page and its five images share one count of the figures.
_recent: dict[Period, tuple[float, Figures]] = {}


async def _figures(period: Period) -> Figures:
    now = time.monotonic()
    for key, (made, _f) in list(_recent.items()):
        if now - made > CACHE_SECONDS:
            del _recent[key]
    if period not in _recent:
        _recent[period] = (now, await collect(period))
    return _recent[period][1]


def _period(request: Request) -> Period:
    query = request.query_params
    return Period.make(query.get("from") or None, query.get("to") or None, query.get("by") or None)


def _page(request: Request, values: dict[str, str], error: str = "", **context: object) -> Response:
    blank: dict[str, object] = {
        "figures": None,
        "period": None,
        "headlines": [],
        "charts": [],
        "application_tables": [],
        "query": "",
        "formats": FORMATS,
    }
    return render(
        request,
        "home.html",
        {**blank, **context, "values": values, "period_error": error},
        status=400 if error else 200,
    )


def _query(period: Period, **extra: str) -> str:
    return urlencode(
        {"from": period.first.isoformat(), "to": period.last.isoformat(), "by": period.grain.value, **extra}
    )


async def home(request: Request) -> Response:
    values = {k: request.query_params.get(k, "") for k in ("from", "to", "by")}
    try:
        period = _period(request)
    except PeriodError as exc:
        return _page(request, values, str(exc))
    figures = await _figures(period)
    return _page(
        request,
        values,
        figures=figures,
        period=period,
        headlines=figures.headlines,
        charts=charts(figures),
        application_tables=application_tables(figures),
        query=_query(period),
    )


async def chart_image(request: Request) -> Response:
    key = request.path_params["key"]
    try:
        period = _period(request)
    except PeriodError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    if key not in CHART_KEYS:
        return Response("No such chart.", status_code=404, media_type="text/plain")
    chart = next(c for c in charts(await _figures(period)) if c.key == key)
    svg = await asyncio.to_thread(draw, chart, "svg")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


async def report_download(request: Request) -> Response:
    fmt = request.query_params.get("format", "docx")
    try:
        period = _period(request)
    except PeriodError as exc:
        return _page(request, {}, str(exc))
    if fmt != "json" and fmt not in FORMATS:
        return _page(request, {}, "Choose docx, pdf, csv, xlsx or json.")
    figures = await _figures(period)
    if fmt == "json":
        body = json.dumps(figures_to_json(figures), indent=2, ensure_ascii=False).encode()
        name, media = file_name(figures, "csv").removesuffix(".csv") + ".json", "application/json"
    else:
        chosen = next(f for f in FORMATS if f == fmt)  # the Literal the writers take
        body = await asyncio.to_thread(build, figures, chosen)
        name, media = file_name(figures, chosen), MEDIA_TYPES[chosen]
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def routes() -> list[BaseRoute]:
    return [
        staff_route("/staff/", home, role=StaffRole.VIEWER),
        staff_route("/staff/charts/{key}.svg", chart_image, role=StaffRole.VIEWER),
        staff_route("/staff/report", report_download, role=StaffRole.VIEWER),
    ]
