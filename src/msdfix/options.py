"""Command-line options that msdfix, ``msdfix verify`` and ``msdfix pr`` share."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from msdfix.render.quoting import printable


def joined_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """A repeatable ``--select``/``--ignore`` as one comma-separated list (None: not given),
    as ruff takes them: ``--select a --select b`` ran only ``b``, without a word."""
    return ",".join(values) if values else None


def select_and_ignore(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--select`` and ``--ignore``, the same in msdfix, ``msdfix verify`` and ``msdfix pr``."""
    for name, help_text in (
        ("--ignore", "Do not run these transforms (repeatable)."),
        ("--select", "Run only these transforms (repeatable)."),
    ):
        option = click.option(
            name, multiple=True, callback=joined_ids, metavar="ID,...", help=help_text
        )
        command = option(command)
    return command


class Directory(click.Path):
    """An existing directory (``--context``). click's ``file_okay=False`` refuses a regular
    file only: a FIFO or a device (``--context /dev/null``) passed, and msdfix then ran as if
    no build context were known, where Docker refuses the build."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(exists=True, file_okay=False, **kwargs)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path, after click's checks, when it is a directory (a link to one too)."""
        converted = super().convert(value, param, ctx)
        if not os.path.isdir(converted):
            name = printable(os.fsdecode(value))
            self.fail(f"Directory '{name}' is neither a file nor a directory.", param, ctx)
        return converted


class StdoutFailed(Exception):
    """Standard output refused a write (a closed pipe, a full disk): no bug in msdfix."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class Command(click.Command):
    """A click command whose ``--help`` and ``--version`` output failing reaches msdfix's
    ``main`` as ``StdoutFailed``: click's ``main`` ended a closed pipe with exit 1 (read as
    "changes pending") and let a full disk through as an internal error (exit 123). Reading
    the arguments writes nothing else: an OSError naming no file there is standard output's
    (``Path`` checks name theirs and are usage errors)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        try:
            return super().make_context(info_name, args, parent, **extra)
        except OSError as exc:
            if exc.filename is None:
                raise StdoutFailed(exc) from exc
            raise


@contextmanager
def writing_stdout() -> Iterator[None]:
    """A block that writes to standard output and nothing else: its OSError is raised as
    ``StdoutFailed`` (one line, exit 2; a closed pipe ends as SIGPIPE does), which click's
    ``main`` lets through."""
    try:
        yield
    except OSError as exc:
        raise StdoutFailed(exc) from exc
