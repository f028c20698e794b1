"""Saved messages for `madeinla bounces read`: .eml files, folders of them, mbox files and Maildirs
(what a mail program or an administrator exports from a mailbox by hand)."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


class SourceError(ValueError):
    """A path that can't be read as messages; the message is fit to show the user."""


def read_messages(paths: list[Path], *, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for every message under `paths`, in a stable order. A message larger
    than `max_bytes` is cut there (the reader works on its first bytes, where reports put what
    matters). Raises SourceError for a path that does not exist or can't be read."""
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        if path.is_dir():
            yield from _folder(path, max_bytes)
        else:
            yield from _file(path, max_bytes)


def _folder(path: Path, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as handle:
                yield f"{path}/{key}", handle.read(max_bytes + 1)
        return
    for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        yield from _file(child, max_bytes)


def _file(path: Path, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
            if head == b"From " and _is_mbox(path):
                handle.close()
                box = mailbox.mbox(path, factory=None, create=False)
                for index, key in enumerate(box.keys(), start=1):
                    with box.get_file(key) as message:
                        raw = message.read()
                    # get_file keeps the "From " line of the mbox; it is not part of the message.
                    if raw.startswith(b"From "):
                        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
                    yield f"{path}#{index}", raw[: max_bytes + 1]
                return
            yield str(path), head + handle.read(max_bytes + 1 - len(head))
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from None


def _is_mbox(path: Path) -> bool:
    """An mbox holds several messages, each after a "From " line; a single saved message may also
    start with one (flufl.bounce's samples do), which is harmless to read as an mbox of one."""
    return path.suffix.lower() not in (".eml", ".txt", ".msg")
