"""`madeinla check` and `madeinla preference`: same text as Slack, JSON contract, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from subscribers.eligibility import render_preference_text, render_screening_text, screen_text
from subscribers.eligibility.report import DISCLAIMER

EXAMPLE = [
    "zip=90021",
    "since=2019-03",
    "employees=42",
    "revenue=4.1M",
    "naics=315250",
    "garment=yes",
    "garment_registration=yes",
    "piece_rate=no",
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_check_prints_the_slack_text(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", *EXAMPLE, "--as-of", "2026-05-20"])
    assert result.exit_code == 0, result.output
    expected = render_screening_text(screen_text(" ".join(EXAMPLE), as_of=date(2026, 5, 20)))
    assert result.output == expected + "\n"
    assert DISCLAIMER in result.output


def test_check_json(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", *EXAMPLE, "--as-of", "2026-05-20", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["as_of"] == "2026-05-20"
    lsbe = data["programs"]["lsbe"]
    assert lsbe["verdict"] == "needs_review"
    assert {check["id"]: check["result"] for check in lsbe["checks"]}["certification"] == "unknown"
    assert data["programs"]["made_in_la"]["verdict"] == "needs_review"


def test_as_of_changes_the_rules(runner: CliRunner) -> None:
    args = ["check", "garment=yes", "garment_registration=yes", "piece_rate=yes", "--json"]
    before = json.loads(runner.invoke(main, [*args, "--as-of", "2021-12-31"]).output)
    after = json.loads(runner.invoke(main, [*args, "--as-of", "2022-01-01"]).output)
    assert before["programs"]["made_in_la"]["verdict"] != "not_eligible"
    assert after["programs"]["made_in_la"]["verdict"] == "not_eligible"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "zip=abc"], "zip 'abc' is not a ZIP code"),
        (["check", "employes=4"], "did you mean employees"),
        (["check", "zip=90021", "--as-of", "May 5"], "is not a date"),
        (["check", "hello"], "couldn't read 'hello'"),
        (["check", "zip=90021 employees=-5"], "employees '-5' can't be negative"),
        (["preference", "lowest=100000", "bid=112000", "other_rate=0.5"], "write 0.5% for 0.5 percent"),
        (["preference", "bid=3"], "needs lowest="),
        (["preference", "lowest=100", "bid=90", "type=lease"], "price or revenue"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(runner: CliRunner, args: list[str], words: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1


def test_preference_text_and_json(runner: CliRunner) -> None:
    text = runner.invoke(main, ["preference", "lowest=100000", "bid=112000"])
    assert text.exit_code == 0
    assert "Evaluated bid: $112,000 − $15,000 = $97,000" in text.output
    assert "$112,000" in text.output
    data = json.loads(runner.invoke(main, ["preference", "lowest=100000", "bid=112000", "--json"]).output)
    assert data["applies"] is True
    assert data["rate"] == 0.15
    assert data["preference"] == 15000
    assert data["evaluated_bid"] == 97000
    assert data["lsbe_wins"] is True
    assert "low bidder" in data["reason"]


def test_one_argument_with_several_pairs_reads_as_in_slack(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "zip=90021 employees=5", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["id"]: c for c in json.loads(result.output)["programs"]["lsbe"]["checks"]}
    assert checks["principal_place"]["result"] == "pass"
    assert "5 employees" in checks["employees"]["reason"]


def test_preference_when_other_preferences_use_the_whole_limit(runner: CliRunner) -> None:
    result = runner.invoke(main, ["preference", "lowest=100000", "bid=112000", "other_rate=15%"])
    assert result.exit_code == 0
    assert "does not apply" in result.output
    assert "The LSBE is ahead without it" not in result.output
    assert "($112,000 − $15,000) the LSBE's evaluated bid is $97,000" in result.output
    assert "ahead thanks to the other preferences" in result.output


def test_bid_smaller_than_its_preference_is_evaluated_at_zero(runner: CliRunner) -> None:
    result = runner.invoke(main, ["preference", "lowest=1000000", "bid=1"])
    assert result.exit_code == 0
    assert "$-" not in result.output and "-$" not in result.output
    assert "Evaluated bid: $1 − $150,000 = $0" in result.output
    assert "counts as $0" in result.output
    data = json.loads(runner.invoke(main, ["preference", "lowest=1000000", "bid=1", "--json"]).output)
    assert data["evaluated_bid"] == 0


def test_preference_exclusion_text(runner: CliRunner) -> None:
    result = runner.invoke(main, ["preference", "purchase=petty_cash"])
    assert result.exit_code == 0
    assert result.output.startswith("LSBE preference: does not apply")
    assert "[LACC 2.204.070 B]" in result.output


def test_help_lists_the_keys(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check", "--help"])
    assert result.exit_code == 0
    assert "garment_registration" in result.output and "--as-of" in result.output


def _madeinla() -> str:
    script = Path(sys.executable).with_name("madeinla")
    if not script.exists():
        pytest.skip("the madeinla script is not installed in this environment")
    return str(script)


def test_real_subprocess_check_json() -> None:
    completed = subprocess.run(
        [_madeinla(), "check", *EXAMPLE, "--as-of", "2026-05-20", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["programs"]["lsbe"]["checks"][0] == {
        "id": "principal_place",
        "result": "pass",
        "reason": "ZIP 90021 (Los Angeles) is in Los Angeles County.",
        "citation": "LACC 2.204.030 D.1",
    }


def test_real_subprocess_bad_zip_exits_2() -> None:
    completed = subprocess.run(
        [_madeinla(), "check", "zip=abc"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 2
    assert "zip 'abc' is not a ZIP code" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_preference_text_matches_renderer(runner: CliRunner) -> None:
    from subscribers.eligibility import calculate_preference, parse_pairs, parse_preference_inputs

    args = ["lowest=2000000", "bid=2140000", "other_rate=5%"]
    result = runner.invoke(main, ["preference", *args])
    expected = render_preference_text(calculate_preference(parse_preference_inputs(parse_pairs(args))))
    assert result.output == expected + "\n"


@pytest.mark.parametrize("command", ["check", "preference"])
@pytest.mark.parametrize("word", ["help", "HELP", "ayuda", "?"])
def test_help_as_a_word_shows_the_help(runner: CliRunner, command: str, word: str) -> None:
    result = runner.invoke(main, [command, word])
    assert result.exit_code == 0, result.output
    assert result.output == runner.invoke(main, [command, "--help"]).output
