"""Lists for people at a terminal: a table when every value fits the width, otherwise one block per
row; either way no value is cut short or broken inside a word (an address is never split).

At 80 columns most tables don't fit: rich's tables then fold addresses mid-word and cut roles to
"working_g…". Here a row that can't be a table line becomes its first value on a line of its own
(an address, a date) followed by "title: value" pairs wrapped between words. `--json` stays the
machine format; this is only what people read.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence

import click
from rich.cells import cell_len

GAP = "  "
NBSP = "\u00a0"
PIPED_WIDTH = 200  # piped to a file or `less`, a wide table beats one wrapped at 80 columns


def output_width() -> int:
    """COLUMNS when set, else the terminal's width, else (piped) PIPED_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return PIPED_WIDTH


class Listing:
    """Rows printed as they come (a page at a time); the layout holds for the whole list."""

    def __init__(self, titles: Sequence[str], *, heading: int = 0, width: int | None = None) -> None:
        self.titles = list(titles)
        self.heading = heading  # the column whose value heads a row's block (an address, a date)
        self.width = width or output_width()
        self._widths = [cell_len(title) for title in self.titles]
        self._as_table: bool | None = None  # decided by the first page

    def print_page(self, rows: Sequence[Sequence[str]]) -> None:
        rows = [[" ".join(str(value).split()) for value in row] for row in rows]  # one line each
        if self._as_table is None:
            widths = self._natural_widths(rows)
            self._as_table = self._fits(widths)
            if self._as_table:
                self._widths = widths
                click.echo(click.style(self._line(self.titles).rstrip(), bold=True))
        if self._as_table:
            widths = self._natural_widths(rows)
            if not self._fits(widths):
                self._as_table = False  # a later page holds a longer value: blocks from here on
            else:
                self._widths = widths
                for row in rows:
                    click.echo(self._line(row).rstrip())
                return
        for row in rows:
            self._print_block(row)

    def _natural_widths(self, rows: Sequence[Sequence[str]]) -> list[int]:
        widths = list(self._widths)
        for row in rows:
            for index, value in enumerate(row):
                widths[index] = max(widths[index], cell_len(value))
        return widths

    def _fits(self, widths: Sequence[int]) -> bool:
        return sum(widths) + len(GAP) * (len(widths) - 1) <= self.width

    def _line(self, values: Sequence[str]) -> str:
        pairs = zip(values, self._widths, strict=True)
        return GAP.join(value + " " * (width - cell_len(value)) for value, width in pairs)

    def _print_block(self, row: Sequence[str]) -> None:
        click.echo(click.style(row[self.heading], bold=True))
        width = max(self.width, 20)
        pairs = [
            _unbroken(f"{title}: {value}", width - 2)
            for index, (title, value) in enumerate(zip(self.titles, row, strict=True))
            if value and index != self.heading
        ]
        wrapper = textwrap.TextWrapper(
            width=width,
            initial_indent="  ",
            subsequent_indent="  ",
            break_long_words=False,  # a long address or Message-ID runs past the edge, whole
            break_on_hyphens=False,
        )
        for line in wrapper.wrap((NBSP + "· ").join(pairs)):
            click.echo(line.replace(NBSP, " "))


def _unbroken(pair: str, width: int) -> str:
    """A "title: value" pair kept on one line when it fits one (textwrap breaks only at ASCII spaces)."""
    return pair.replace(" ", NBSP) if cell_len(pair) + 2 <= width else pair


def print_listing(titles: Sequence[str], rows: Sequence[Sequence[str]], *, heading: int = 0) -> None:
    Listing(titles, heading=heading).print_page(rows)
