"""The `madeinla` command. Each group lives in its own module and is loaded only when used."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; loading lazily keeps `madeinla --help` and `madeinla check` fast.
COMMANDS = {
    "serve": "bot.cli.service:serve",
    "worker": "bot.cli.service:worker",
    "migrate": "bot.cli.service:migrate",
    "makemigrations": "bot.cli.service:makemigrations",
    "subscribers": "bot.cli.subscribers:subscribers",
    "campaigns": "bot.cli.campaigns:campaigns",
    "staff": "bot.cli.staff:staff",
    "check": "bot.cli.eligibility:check",
    "preference": "bot.cli.eligibility:preference",
    "report": "bot.cli.report:report",
}

SHORT_HELP = {
    "serve": "Run the web app, the sender and the scheduler.",
    "worker": "Run a sender without the web server.",
    "migrate": "Apply pending database migrations.",
    "makemigrations": "Write a migration for model changes (developers).",
    "subscribers": "Import, list, export and erase subscribers.",
    "campaigns": "Create, watch and control outreach campaigns.",
    "staff": "Add, list and remove staff console accounts; change roles.",
    "check": "Does a business look eligible? (LSBE and Made in LA pilot)",
    "preference": "Work out the LSBE bid preference for a solicitation.",
    "report": "The pilot's figures for a period: Board report, tables or JSON.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SHORT_HELP[name]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="madeinla-outreach")
def main() -> None:
    """Made in LA Outreach: the interest form, outreach email and Slack bot for the Made in
    Los Angeles procurement pilot."""
    from bot.logs import install_redaction

    install_redaction()  # whatever a command logs, addresses and quoted rows stay out of it
