"""Recognise package-manager commands in a RUN script."""

from __future__ import annotations

import re
from dataclasses import dataclass

from msdfix.knowledge.package_managers import MANAGERS, PackageManager
from msdfix.shell.commands import Command

_PYTHON = re.compile(r"^python[0-9.]*$")
_WRAPPERS = {"sudo", "exec", "command", "nice", "time"}


@dataclass(frozen=True)
class ToolCall:
    """A command that runs package manager ``manager``; ``args`` follow the program."""

    manager: PackageManager
    command: Command
    args: list[str]

    @property
    def subcommand(self) -> str:
        """First argument that is not an option ('' when there is none)."""
        return next((a for a in self.args if not a.startswith("-")), "")


def program_args(command: Command) -> tuple[str, list[str]]:
    """Program name and arguments, looking through sudo/env/``python -m`` (computed once)."""
    cached: tuple[str, list[str]] | None = command.__dict__.get("_program_args")
    if cached is None:
        cached = _program_args(command)
        command.__dict__["_program_args"] = cached
    return cached[0], list(cached[1])


def _program_args(command: Command) -> tuple[str, list[str]]:
    argv = command.argv
    while argv and (argv[0] in _WRAPPERS or argv[0] == "env"):
        argv = [a for a in argv[1:]]
        while argv and (argv[0].startswith("-") or "=" in argv[0]):
            argv = argv[1:]
    if not argv:
        return "", []
    program = argv[0].rsplit("/", 1)[-1] if not argv[0].startswith("./") else argv[0]
    if _PYTHON.match(program) and len(argv) >= 3 and argv[1] == "-m":
        return argv[2], argv[3:]
    return program, argv[1:]


def tool_calls(commands: list[Command], berry: bool = False) -> list[ToolCall]:
    """Package-manager calls that download packages, in script order."""
    calls = []
    for command in commands:
        program, args = program_args(command)
        for manager in MANAGERS:
            if program not in manager.programs:
                continue
            if manager.id == ("yarn" if berry else "yarn-berry"):
                continue
            call = ToolCall(manager, command, args)
            if not manager.subcommands or call.subcommand in manager.subcommands:
                calls.append(call)
            break
    return calls
