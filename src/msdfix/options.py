"""Command-line options that msdfix, ``msdfix verify`` and ``msdfix pr`` share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


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
