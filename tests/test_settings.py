"""Settings: safe defaults, and one clear line naming the variable when a value is wrong."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

MADEINLA = str(Path(sys.executable).with_name("madeinla"))


def test_defaults_need_no_server(tmp_path: Path) -> None:
    """With nothing set, the database is a SQLite file and mail goes to an outbox folder under DATA_DIR."""
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite://{tmp_path.as_posix()}/madeinla.sqlite3"
    assert settings.outbox_dir == tmp_path / "outbox"
    assert settings.smtp_host == ""
    assert settings.form_rate_limit_per_minute == 10


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    """An unset SECRET_KEY is generated on first use and reused, so links keep working after a restart."""
    first = load_settings(data_dir=tmp_path).secret()
    second = load_settings(data_dir=tmp_path).secret()
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SMTP_TLS", "sometimes", "SMTP_TLS"),
        ("SMTP_PORT", "seventy", "SMTP_PORT"),
        ("SMTP_PORT", "70000", "SMTP_PORT"),
        ("PUBLIC_BASE_URL", "madeinla.example.gov", "PUBLIC_BASE_URL"),
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL"),
        ("MAIL_FROM", "not an address", "MAIL_FROM"),
        ("MAIL_FROM", "a@b.org\r\nBcc: everyone@example.com", "MAIL_FROM"),
        ("FORM_RATE_LIMIT_PER_MINUTE", "-1", "FORM_RATE_LIMIT_PER_MINUTE"),
        ("SMTP_POOL_SIZE", "0", "SMTP_POOL_SIZE"),
        ("PILOT_START_DATE", "next spring", "PILOT_START_DATE"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """Each bad value raises SettingsError whose one-line message starts with the variable's name."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected + ":")
    assert "\n" not in message


def test_secret_values_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected secret is named but never printed back."""
    monkeypatch.setenv("SECRET_KEY", "tooshort")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "tooshort" not in str(caught.value)


def test_staff_ids_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """STAFF_SLACK_USER_IDS takes plain comma-separated ids, spaces allowed."""
    monkeypatch.setenv("STAFF_SLACK_USER_IDS", "U01, U02 ,,U03")
    assert load_settings().staff_slack_user_ids == frozenset({"U01", "U02", "U03"})


def test_cli_stops_with_one_clear_line(tmp_path: Path) -> None:
    """`madeinla serve` with a bad variable exits 2 and prints one line naming it, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "DATABASE_URL"))}
    env.update(SMTP_TLS="maybe", DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [MADEINLA, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "SMTP_TLS" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_readme_documents_every_setting() -> None:
    """The README's settings table names every setting the service reads, and nothing it doesn't."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.split("## Configure it", 1)[1].split("\n### ", 1)[0]
    documented: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    settings = {name.upper() for name in Settings.model_fields}
    assert sorted(settings - documented) == [], "settings missing from the README's table"
    assert sorted(documented - settings) == [], "the README's table names settings that don't exist"


def test_tls_choice_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """SMTP_TLS=STARTTLS, as mail administrators write it, is the same as starttls."""
    monkeypatch.setenv("SMTP_TLS", "STARTTLS")
    monkeypatch.setenv("LOG_LEVEL", "Warning")
    settings = load_settings()
    assert (settings.smtp_tls, settings.log_level) == ("starttls", "warning")


def _bad_value_for(annotation: object) -> str | None:
    """A value the setting's type can't take, or None for free text."""
    text = repr(annotation)
    if "date" in text:
        return "next spring"
    if "Literal" in text:
        return "sometimes"
    if "int" in text or "float" in text:
        return "lots"
    return None


TYPED_SETTINGS = sorted(
    name for name, field in Settings.model_fields.items() if _bad_value_for(field.annotation) is not None
)


@pytest.mark.parametrize("name", TYPED_SETTINGS)
def test_every_setting_error_is_one_plain_line(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Whatever the setting, a value of the wrong kind gets one line in plain words, never pydantic's."""
    bad = _bad_value_for(Settings.model_fields[name].annotation)
    assert bad is not None and len(TYPED_SETTINGS) > 20
    monkeypatch.setenv(name.upper(), bad)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(name.upper() + ": must be"), message
    assert "\n" not in message
    for jargon in ("Input should", "valid integer", "pydantic", "type=", "literal"):
        assert jargon not in message


def test_date_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad PILOT_START_DATE says how to write a date, not pydantic's parser error."""
    monkeypatch.setenv("PILOT_START_DATE", "2027-13-01")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        "PILOT_START_DATE: must be a date written year-month-day, like 2027-01-04 (got '2027-13-01')"
    )
