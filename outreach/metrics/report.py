"""The report to the Board: the figures as a document DEO can file and edit (.docx, .pdf), and
their tables (.csv, .xlsx).

Every format is written from the same `sections(figures)`: the title page, the summary paragraph
written from the figures, each section's charts (PNG) with their tables, and the method. Nothing
here counts anything.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import matplotlib

from outreach.metrics.charts import (
    LANGUAGE_NAMES,
    PROGRAM_NAMES,
    ROLE_NAMES,
    Chart,
    charts,
    draw,
)
from outreach.metrics.figures import Figures
from outreach.metrics.period import county_date
from outreach.metrics.working_group import ORGANISATION_TYPES
from outreach.timeline import PILOT_TIMEZONE

Format = Literal["docx", "pdf", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("docx", "pdf", "csv", "xlsx")
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MOTION = (
    "Made in Los Angeles Program Pilot: Harnessing Los Angeles County's Purchasing Power to Support "
    "Local Manufacturing (motion by Supervisor Holly J. Mitchell, adopted May 5, 2026)"
)
TOPIC_NAMES = {
    "pilot_updates": "Pilot updates",
    "application_invitations": "Application invitations",
    "working_group": "Working group",
}

Cell = str | int


@dataclass(slots=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]


@dataclass(slots=True)
class Section:
    title: str
    text: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def all_tables(self) -> list[Table]:
        return [*(Table(c.title, c.headers, c.rows) for c in self.charts), *self.tables]


# What each figure counts: printed in the report, and the docs' reference.
METHOD = [
    (
        "Sign-ups",
        "New people in the period: the first status the registry recorded for them, from the form, "
        "Slack or an import (an address that signs up again is not counted twice).",
    ),
    (
        "Confirmed",
        "People who followed their confirmation link in the period (pending to active). The "
        "confirmation rate divides them by the sign-ups that had to confirm (the form's double opt-in).",
    ),
    ("Unsubscribed, bounced, complained", "People whose status changed to that in the period."),
    (
        "Erased",
        "People erased on request in the period. Their events stay, unnamed, so they are counted in "
        "every total; split by role they are counted as \u201cerased since\u201d.",
    ),
    ("Active (by role, language, topic, ZIP)", "People whose status is active when the report is made."),
    (
        "Manufacturers by sector and product",
        "Active manufacturers by the first three digits of the NAICS "
        "code in their profile (2022 NAICS titles), and by the products they list (each counted once).",
    ),
    (
        "The pool",
        "Active manufacturers' stored profiles, judged by the service's eligibility screener on "
        "the day the report is made. Profiles hold no labor answers, so the pilot's verdict is at best "
        "\u201cneeds review\u201d; the reasons are what the screener most often lacks.",
    ),
    (
        "Applications",
        "Online applications started in the period (the applicant confirmed their address or came "
        "from an invitation link), and of those: submitted at least once, qualified by staff, asked for "
        "more information at least once, declined. Applications of people later erased are deleted "
        "with them and are not counted.",
    ),
    (
        "Days from invitation to submission",
        "For the period's submitted applications that began from an invitation: the median number of "
        "days from the invitation to the latest submission.",
    ),
    (
        "The pool by category",
        "Businesses in the qualified pool when the report is made, by the product category (NAICS "
        "subsector) of their application.",
    ),
    (
        "Campaigns and messages",
        "Campaigns that started sending in the period and every message they "
        "queued: delivered (accepted by the mail server, no bounce since), bounced, deferred (still being "
        "retried), failed, not sent (the person left or was erased first), waiting.",
    ),
    ("Unsubscribed within 7 days", "People a campaign wrote to who unsubscribed within 7 days of its start."),
    (
        "Invitation funnel",
        "Application invitations handed to the mail server, and how many of them had "
        "their signed link followed, by the message's language and the person's role.",
    ),
    (
        "Working group",
        "Active people who follow the working group, by the organisation type they chose; "
        "working-group notices handed to the mail server in the period.",
    ),
]


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def summary_paragraph(figures: Figures) -> str:
    interest, outreach = figures.interest, figures.outreach.as_json()
    t = interest.totals
    manufacturers = interest.signups_by_role.get("manufacturer", 0)
    parts = [
        f"From {figures.period.describe()}, {t.signups:,} people signed up"
        + (f", {_percent(manufacturers, t.signups)} of them manufacturers" if t.signups else "")
        + f"; {t.confirmed:,} confirmed their address"
        + (
            f" ({_percent(t.confirmed, t.awaiting_confirmation)} of those who had to)"
            if t.awaiting_confirmation
            else ""
        )
        + f", and {t.unsubscribed:,} unsubscribed.",
        f"Today {interest.active:,} people receive updates, "
        f"{_percent(interest.active_by_language.get('es', 0), interest.active)} of them in Spanish, "
        "among them "
        f"{interest.active_by_role.get('manufacturer', 0):,} manufacturers.",
        f"{outreach['campaigns_sent']:,} campaigns started in the period and sent "
        f"{outreach['sent']:,} messages, "
        f"of which {outreach['delivered']:,} were delivered and {outreach['bounced']:,} bounced.",
    ]
    invitations = outreach["invitations"]
    if invitations["invited"]:
        parts.append(
            f"{invitations['invited']:,} businesses were invited to apply and "
            f"{invitations['clicked']:,} ({_percent(invitations['clicked'], invitations['invited'])}) "
            "followed the link."
        )
    pool = figures.pool
    if pool.with_profile:
        parts.append(
            f"Of {pool.with_profile:,} manufacturer profiles, the screener finds "
            f"{pool.verdicts['lsbe']['looks_eligible']:,} looking eligible for the LSBE preference; "
            f"{pool.verdicts['made_in_la']['needs_review']:,} need review for the pilot"
            + (f", most often for the {pool.review_reasons[0][1]}." if pool.review_reasons else ".")
        )
    applications = figures.applications
    if applications is not None:
        a = applications.figures
        parts.append(
            f"{a.started:,} applications were started in the period: {a.submitted:,} submitted, "
            f"{a.qualified:,} qualified, {a.asked_for_information:,} asked for more information and "
            f"{a.declined:,} declined; {applications.in_pool:,} businesses are in the qualified pool today."
        )
    return " ".join(parts)


def _number(value: int | float | None) -> Cell:
    """Counts stay numbers (so spreadsheets can add them); a median is written with one decimal."""
    if value is None:
        return ""
    return value if isinstance(value, int) else f"{value:.1f}"


def application_tables(figures: Figures) -> list[Table]:
    """The section's tables (the report, the CSV and xlsx, and the dashboard show these)."""
    applications = figures.applications
    if applications is None:
        return []
    return [
        Table(
            "Applications started in the period",
            ["Figure", "Applications"],
            [[label, _number(value)] for label, value in applications.rows()],
        ),
        Table(
            "The qualified pool by category",
            ["Category", "Businesses"],
            [[category, n] for category, n in applications.figures.pool_by_category.items()],
        ),
    ]


def _applications_section(figures: Figures) -> list[Section]:
    applications = figures.applications
    if applications is None:
        return []
    a = applications.figures
    median = a.median_days_invitation_to_submission
    text = (
        f"{a.started:,} applications were started in the period; {a.submitted:,} were submitted, "
        f"{a.qualified:,} qualified, {a.asked_for_information:,} asked for more information and "
        f"{a.declined:,} declined."
        + (
            f" Invited businesses took a median of {median:.1f} days from the invitation to submitting "
            f"({a.invited_and_submitted:,} applications)."
            if median is not None
            else ""
        )
        + f" {applications.in_pool:,} businesses are in the qualified pool today."
    )
    return [Section("Applications and the pool", text, [], application_tables(figures))]


def sections(figures: Figures) -> list[Section]:
    drawn = {chart.key: chart for chart in charts(figures)}
    interest, pool, wg = figures.interest, figures.pool, figures.working_group
    t = interest.totals
    rate = t.confirmation_rate
    return [
        Section(
            "Interest",
            drawn["signups"].summary,
            [drawn["signups"], drawn["sectors"]],
            [
                Table(
                    "Interest in the period",
                    ["Figure", "People"],
                    [
                        ["Sign-ups", t.signups],
                        ["Awaiting confirmation at sign-up", t.awaiting_confirmation],
                        ["Confirmed", t.confirmed],
                        ["Confirmation rate", "" if rate is None else f"{round(100 * rate)}%"],
                        ["Unsubscribed", t.unsubscribed],
                        ["Bounced", t.bounced],
                        ["Complained", t.complained],
                        ["Erased", t.erased],
                    ],
                ),
                Table(
                    "Active today by role",
                    ["Role", "People"],
                    [[ROLE_NAMES.get(r, r), n] for r, n in interest.active_by_role.items()],
                ),
                Table(
                    "Active today by language",
                    ["Language", "People"],
                    [[LANGUAGE_NAMES.get(lang, lang), n] for lang, n in interest.active_by_language.items()],
                ),
                Table(
                    "Active today by topic",
                    ["Topic", "People"],
                    [[TOPIC_NAMES.get(k, k), n] for k, n in interest.active_by_topic.items()],
                ),
                Table(
                    "Active today by ZIP (most common)",
                    ["ZIP", "City", "People"],
                    [[z, c, n] for z, c, n in interest.active_by_zip],
                ),
                Table(
                    "Manufacturers by product (most listed)",
                    ["Product", "Manufacturers"],
                    [[p, n] for p, n in interest.manufacturers_by_product],
                ),
            ],
        ),
        Section(
            "The pool",
            drawn["pool"].summary,
            [drawn["pool"]],
            [
                Table(
                    "Why profiles need review (most common)",
                    ["Program", "Missing", "Manufacturers"],
                    [[PROGRAM_NAMES.get(p, p), r, n] for p, r, n in pool.review_reasons],
                ),
            ],
        ),
        *_applications_section(figures),
        Section(
            "Outreach",
            drawn["deliveries"].summary + " " + drawn["funnel"].summary,
            [drawn["deliveries"], drawn["funnel"]],
        ),
        Section(
            "Working group",
            f"{wg.members:,} active people follow the working group; {wg.notices_sent:,} notices were "
            f"sent in {wg.notice_campaigns:,} mailings.",
            [],
            [
                Table(
                    "Working group members by organisation type",
                    ["Organisation type", "People"],
                    [[ORGANISATION_TYPES.get(k, k), n] for k, n in wg.members_by_type.items()],
                ),
                Table(
                    "Working group notices",
                    ["Figure", "Count"],
                    [["Notices sent", wg.notices_sent], ["Mailings", wg.notice_campaigns]],
                ),
            ],
        ),
    ]


def _made_on(figures: Figures) -> str:
    return county_date(figures.made_at.astimezone(PILOT_TIMEZONE).date())


def _title(figures: Figures) -> tuple[str, str]:
    return (
        "Made in Los Angeles pilot: outreach and interest report",
        f"Report to the Board of Supervisors for {figures.period.describe()}",
    )


def write_docx(figures: Figures, out: io.BytesIO) -> None:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Inches

    doc = Document()
    title, subtitle = _title(figures)
    doc.core_properties.title = title
    doc.core_properties.subject = subtitle
    doc.core_properties.author = "Department of Economic Opportunity"
    doc.add_heading(title, 0)
    doc.add_paragraph(subtitle)
    doc.add_paragraph(MOTION)
    doc.add_paragraph(f"Period: {figures.period.describe()}")
    doc.add_paragraph(f"Prepared: {_made_on(figures)}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("Summary", 1)
    doc.add_paragraph(summary_paragraph(figures))
    for section in sections(figures):
        doc.add_heading(section.title, 1)
        doc.add_paragraph(section.text)
        for chart in section.charts:
            doc.add_heading(chart.title, 2)
            doc.add_picture(io.BytesIO(draw(chart, "png")), width=Inches(6.3))
            doc.add_paragraph(chart.summary)
        for table in section.all_tables():
            _docx_table(doc, table)
    doc.add_heading("Method", 1)
    for name, text in METHOD:
        paragraph = doc.add_paragraph()
        paragraph.add_run(name + ". ").bold = True
        paragraph.add_run(text)
    doc.save(out)


def _docx_table(doc: object, table: Table) -> None:
    doc.add_paragraph(table.title).runs[0].bold = True  # type: ignore[attr-defined]
    grid = doc.add_table(rows=1, cols=len(table.headers))  # type: ignore[attr-defined]
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in table.rows or [["(none)", *[""] * (len(table.headers) - 1)]]:
        for cell, value in zip(grid.add_row().cells, row, strict=True):
            cell.text = f"{value:,}" if isinstance(value, int) else str(value)


def _font_path(name: str) -> str:
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


def write_pdf(figures: Figures, out: io.BytesIO) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(True, margin=18)
    # DejaVu (shipped with matplotlib) covers Spanish and every character staff may type.
    pdf.add_font("DejaVu", "", _font_path("DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", _font_path("DejaVuSans-Bold.ttf"))
    title, subtitle = _title(figures)
    pdf.set_title(title)
    pdf.set_author("Department of Economic Opportunity")
    pdf.set_creation_date(figures.made_at)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 20)
    pdf.ln(40)
    pdf.multi_cell(0, 10, title)
    pdf.set_font("DejaVu", "", 12)
    pdf.ln(4)
    for line in (subtitle, MOTION, f"Period: {figures.period.describe()}", f"Prepared: {_made_on(figures)}"):
        pdf.multi_cell(0, 7, line)
        pdf.ln(2)
    pdf.add_page()
    _pdf_heading(pdf, "Summary")
    _pdf_text(pdf, summary_paragraph(figures))
    for section in sections(figures):
        _pdf_heading(pdf, section.title)
        _pdf_text(pdf, section.text)
        for chart in section.charts:
            _pdf_heading(pdf, chart.title, 12)
            pdf.image(io.BytesIO(draw(chart, "png")), w=pdf.epw, alt_text=chart.summary)
            _pdf_text(pdf, chart.summary)
        for table in section.all_tables():
            pdf.set_font("DejaVu", "B", 10)
            pdf.multi_cell(0, 6, table.title)
            pdf.set_font("DejaVu", "", 9)
            rows: list[list[Cell]] = (
                [list(table.headers), *table.rows]
                if table.rows
                else [
                    list(table.headers),
                    ["(none)", *[""] * (len(table.headers) - 1)],
                ]
            )
            with pdf.table([[f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in rows]):
                pass  # the rows are given whole; the table is drawn when the block ends
            pdf.ln(3)
    _pdf_heading(pdf, "Method")
    for name, text in METHOD:
        _pdf_text(pdf, f"{name}. {text}")
    pdf.output(out)


def _pdf_heading(pdf: object, text: str, size: int = 15) -> None:
    pdf.set_font("DejaVu", "B", size)  # type: ignore[attr-defined]
    pdf.ln(3)  # type: ignore[attr-defined]
    pdf.multi_cell(0, size * 0.6, text)  # type: ignore[attr-defined]
    pdf.ln(1)  # type: ignore[attr-defined]


def _pdf_text(pdf: object, text: str) -> None:
    pdf.set_font("DejaVu", "", 10)  # type: ignore[attr-defined]
    pdf.multi_cell(0, 5.5, text)  # type: ignore[attr-defined]
    pdf.ln(2)  # type: ignore[attr-defined]


def all_tables(figures: Figures) -> Iterable[tuple[str, Table]]:
    for section in sections(figures):
        for table in section.all_tables():
            yield section.title, table


def write_csv(figures: Figures, out: io.StringIO) -> None:
    """Every table, one after another: its title on a line, its header, its rows, a blank line."""
    writer = csv.writer(out)
    writer.writerow([_title(figures)[1]])
    writer.writerow([])
    for section_title, table in all_tables(figures):
        writer.writerow([f"{section_title}: {table.title}"])
        writer.writerow(table.headers)
        writer.writerows(table.rows)
        writer.writerow([])


def write_xlsx(figures: Figures, out: io.BytesIO) -> None:
    """One worksheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.worksheets[0])  # a new workbook comes with one empty sheet
    used: set[str] = set()
    for _section_title, table in all_tables(figures):
        name = _sheet_name(table.title, used)
        sheet = book.create_sheet(name)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(table.headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
    book.properties.title = _title(figures)[1]
    book.save(out)


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28]
    name, n = base, 2
    while name in used:
        name, n = f"{base[:25]} {n}", n + 1
    used.add(name)
    return name


def build(figures: Figures, fmt: Format) -> bytes:
    """The document or tables in `fmt`, as bytes (the CLI writes them, the dashboard sends them)."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        write_csv(figures, text)
        return text.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    out = io.BytesIO()
    {"docx": write_docx, "pdf": write_pdf, "xlsx": write_xlsx}[fmt](figures, out)
    return out.getvalue()


def file_name(figures: Figures, fmt: Format) -> str:
    p = figures.period
    return f"made-in-la-report-{p.first.isoformat()}-to-{p.last.isoformat()}.{fmt}"
