"""The `madeinla` command. Each group lives in its own module and is loaded only when used."""

from __future__ import annotations

import difflib
import importlib

import click

# name -> "module:attribute"; loading lazily keeps `madeinla --help` and `madeinla check` fast.
COMMANDS = {
    "serve": "bot.cli.service:serve",
    "worker": "bot.cli.service:worker",
    "migrate": "bot.cli.service:migrate",
    "info": "bot.cli.info:info",
    "makemigrations": "bot.cli.service:makemigrations",
    "subscribers": "bot.cli.subscribers:subscribers",
    "campaigns": "bot.cli.campaigns:campaigns",
    "bounces": "bot.cli.bounces:bounces",
    "suppressions": "bot.cli.suppressions:suppressions",
    "staff": "bot.cli.staff:staff",
    "check": "bot.cli.eligibility:check",
    "pool": "bot.cli.pool:pool",
    "applications": "bot.cli.applications:applications",
    "preference": "bot.cli.eligibility:preference",
    "report": "bot.cli.report:report",
}

SHORT_HELP = {
    "serve": "Run the web app, the sender and the scheduler.",
    "worker": "Run a sender without the web server.",
    "migrate": "Apply pending database migrations.",
    "info": "Show the settings in force and the database in use (secrets hidden).",
    "makemigrations": "Write a migration for model changes (developers).",
    "subscribers": "Import, list, export and erase subscribers.",
    "campaigns": "Create, watch and control outreach campaigns.",
    "bounces": "Read saved bounce messages; list bounces and complaints.",
    "suppressions": "The addresses we never mail: list, add, remove.",
    "staff": "Add, list and remove staff console accounts; change roles.",
    "check": "Does a business look eligible? (LSBE and Made in LA pilot)",
    "pool": "Search the pool of qualified manufacturers; the products list.",
    "applications": "List and read applications to the pilot.",
    "preference": "Work out the LSBE bid preference for a solicitation.",
    "report": "The pilot's figures for a period: Board report, tables or JSON.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            ctx.fail(f"there is no command {name!r}; {hint}The commands are: {', '.join(sorted(COMMANDS))}.")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SHORT_HELP[name]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--create",
    is_flag=True,
    help="Let a command make a new, empty SQLite database when there is none yet "
    "(serve and migrate always may).",
)
@click.version_option(package_name="madeinla-outreach")
def main(create: bool) -> None:
    """Made in LA Outreach: the interest form, outreach email and Slack bot for the Made in
    Los Angeles procurement pilot.

    Settings come from environment variables or a .env file in the current folder; `madeinla info`
    shows the ones in force. Every command has --help.
    """
    from bot.logs import install_redaction

    install_redaction()  # whatever a command logs, addresses and quoted rows stay out of it
