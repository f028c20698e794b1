"""`madeinla info`: the settings in force and the database this folder's commands use."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from pydantic import SecretStr

from bot.cli.common import describe_database, settings_or_exit
from bot.settings import Settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(as_json: bool) -> None:
    """Show the settings in force (secrets hidden) and which database commands run here use.

    Settings come from environment variables, then a .env file in the current folder, then defaults.
    """
    settings = settings_or_exit()
    report = settings_report(settings, Path.cwd())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"Database: {report['database']}")
    click.echo(f"Current folder: {report['folder']}")
    click.echo("Settings (* = set in the environment or .env; the others are defaults):")
    width = max(len(row["name"]) for row in report["settings"])
    for row in report["settings"]:
        mark = "*" if row["set"] else " "
        click.echo(f"{mark} {row['name']:<{width}}  {row['value']}")


def settings_report(settings: Settings, folder: Path) -> dict[str, Any]:
    """Every setting with the value in force; secrets say only whether they are set."""
    from bot.db import sqlite_path

    database = describe_database(settings.database_url)
    path = sqlite_path(settings.database_url)
    if path is not None:
        database = f"SQLite file {os.path.abspath(path)}" + ("" if path.exists() else " (not created yet)")
    rows = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name == "secret_key" and not value.get_secret_value():
            rows.append(
                {
                    "name": "SECRET_KEY",
                    "value": f"(generated, kept in {settings.data_dir / 'secret_key'})",
                    "set": False,
                }
            )
            continue
        rows.append({"name": name.upper(), "value": _shown(name, value), "set": settings.is_given(name)})
    return {"database": database, "folder": str(folder), "settings": rows}


def _shown(name: str, value: object) -> str:
    if isinstance(value, SecretStr):
        return "(set, hidden)" if value.get_secret_value() else "(not set)"
    if name == "database_url":
        return describe_database(str(value)) if "@" in str(value) else str(value)
    if isinstance(value, (set, frozenset)):
        return ",".join(sorted(value)) or "(none)"
    if isinstance(value, Path):
        return f"{value} ({os.path.abspath(value)})" if not value.is_absolute() else str(value)
    return "(not set)" if value in ("", None) else str(value)
