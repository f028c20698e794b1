"""The README states the bounce defaults the code has (tests/test_settings.py checks that the table
names every setting)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented() -> set[str]:
    """The variables named in the first column of the table under "## Configure it"."""
    section = README.read_text().split("## Configure it", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_readme_states_the_bounce_defaults() -> None:
    """The defaults the County's mail administrator reads are the ones the code has."""
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in README.read_text().splitlines()
        if line.startswith("| `BOUNCE_")
    }
    defaults = Settings.model_fields
    assert rows["`BOUNCE_IMAP_PORT`"] == str(defaults["bounce_imap_port"].default)
    assert rows["`BOUNCE_IMAP_TLS`"] == f"`{defaults['bounce_imap_tls'].default}`"
    assert rows["`BOUNCE_IMAP_FOLDER`"] == f"`{defaults['bounce_imap_folder'].default}`"
    assert rows["`BOUNCE_IMAP_DONE_FOLDER`"] == f"`{defaults['bounce_imap_done_folder'].default}`"
    assert (
        rows["`BOUNCE_IMAP_UNRECOGNISED_FOLDER`"]
        == f"`{defaults['bounce_imap_unrecognised_folder'].default}`"
    )
    assert rows["`BOUNCE_SCORE_THRESHOLD`, `BOUNCE_SCORE_DAYS`"] == (
        f"{defaults['bounce_score_threshold'].default}, {defaults['bounce_score_days'].default:g}"
    )
    assert rows["`BOUNCE_POLL_SECONDS`"] == f"{defaults['bounce_poll_seconds'].default:g}"
    assert rows["`BOUNCE_MAX_MESSAGE_KB`"] == str(defaults["bounce_max_message_kb"].default)
