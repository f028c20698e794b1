"""`madeinla report`: the document (read back with python-docx and pypdf), the tables and the
JSON give the same figures as `campaigns show`, for the hand-counted data set."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader
from tortoise.contrib.test import truncate_all_models

from bot.cli import main
from bot.db import database
from tests.conftest import ON_POSTGRES
from tests.metrics.dataset import make_dataset

PERIOD = ["--from", "2026-11-02", "--to", "2026-11-15", "--by", "week"]
SECTIONS = [
    "Summary",
    "Interest",
    "The pool",
    "Applications and the pool",
    "Outreach",
    "Working group",
    "Method",
]
CHARTS = 5
TABLES = 16  # each chart's data, and the figures without a chart (report.sections lists them)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    for key, value in {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "report-test-secret-0123456789",
    }.items():
        monkeypatch.setenv(key, value)

    async def fill() -> dict[str, int]:
        async with database(database_url):
            if ON_POSTGRES:
                await truncate_all_models()
            return await make_dataset()

    return asyncio.run(fill())


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_figures_everywhere(env: dict[str, int], tmp_path: Path) -> None:
    figures = json.loads(run("report", *PERIOD, "--json"))
    shown = json.loads(run("campaigns", "show", str(env["invitation"]), "--json"))
    invitation = next(c for c in figures["outreach"]["campaigns"] if c["id"] == env["invitation"])
    # campaigns show and the report count the same messages
    assert (shown["counts"]["sent"], shown["counts"]["deferred"], shown["counts"]["failed"]) == (4, 1, 1)
    assert (invitation["delivered"], invitation["deferred"], invitation["failed"]) == (4, 1, 1)
    assert shown["clicked"] == invitation["clicked"] == 2
    assert figures["interest"]["signups"] == 8 and figures["interest"]["confirmed"] == 6
    applications = figures["applications"]
    assert (applications["started"], applications["submitted"], applications["qualified"]) == (5, 4, 2)
    assert applications["median_days_invitation_to_submission"] == 3.0
    # the same figures, as the tables print them
    expected_rows = [
        ["Started", "5"],
        ["Submitted", "4"],
        ["Qualified (joined the pool)", "2"],
        ["Asked for more information", "1"],
        ["Declined", "1"],
        ["Submitted after an invitation", "2"],
        ["Median days from invitation to submission", "3.0"],
        ["315 Clothing and apparel", "2"],
        ["311 Food", "1"],
    ]

    run("report", *PERIOD, "--format", "csv", "--out", str(tmp_path / "t.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert ["Sign-ups", "8"] in rows and ["Confirmed", "6"] in rows
    assert ["Applications and the pool: Applications started in the period"] in rows
    assert all(row in rows for row in expected_rows)
    assert any(
        row[:1] == [f"#{env['invitation']} application_invitation subject"] and row[2] == "4" for row in rows
    )

    run("report", *PERIOD, "--out", str(tmp_path / "t.xlsx"))
    book = load_workbook(tmp_path / "t.xlsx")
    values = [tuple(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    assert ("Sign-ups", 8) in values and ("Confirmed", 6) in values
    assert all((label, int(n) if n.isdigit() else n) in values for label, n in expected_rows)

    run("report", *PERIOD, "--out", str(tmp_path / "t.docx"))
    doc = Document(str(tmp_path / "t.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for section in SECTIONS:
        assert section in headings
    assert len(doc.inline_shapes) == CHARTS
    assert "November 2, 2026 to November 15, 2026" in "\n".join(p.text for p in doc.paragraphs[:6])
    assert "Board of Supervisors" in doc.paragraphs[1].text
    assert len(doc.tables) == TABLES
    cells = [[c.text for c in row.cells] for table in doc.tables for row in table.rows]
    assert ["Sign-ups", "8"] in cells and ["Confirmed", "6"] in cells
    assert all(row in cells for row in expected_rows)
    summary = doc.paragraphs[[p.text for p in doc.paragraphs].index("Summary") + 1].text
    assert "8 people signed up, 38% of them manufacturers; 6 confirmed" in summary
    assert "5 applications were started in the period: 4 submitted, 2 qualified" in summary

    run("report", *PERIOD, "--out", str(tmp_path / "t.pdf"))
    reader = PdfReader(str(tmp_path / "t.pdf"))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for section in SECTIONS:
        assert section in text
    assert "8 people signed up" in " ".join(text.split())
    assert sum(len(page.images) for page in reader.pages) == CHARTS
    assert "Working group members by organisation type" in text and "Why profiles need review" in text
    assert "The qualified pool by category" in text and "Median days from invitation to submission" in text
    assert "5 applications were started in the period: 4 submitted, 2 qualified" in " ".join(text.split())
    assert "gus" not in text.lower() and "gus" not in json.dumps(figures).lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30", "--json"], "The start date must be a date written YYYY-MM-DD"),
        (["--from", "2026-11-10", "--to", "2026-11-01", "--json"], "before it starts"),
        (["--out", "report.doc"], "--out must end in .docx, .pdf, .csv or .xlsx"),
        ([], "say where to write the report"),
    ],
)
def test_bad_input_gets_a_clear_message(args: list[str], message: str, env: dict[str, int]) -> None:
    result = CliRunner().invoke(main, ["report", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
