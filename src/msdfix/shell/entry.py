"""The command a stage runs (CMD and ENTRYPOINT as argv lists) and the scripts it starts,
read from the build context: what cache-mount, split-stages and non-root check a container
may run."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from msdfix.ecosystems.programs import SHELLS
from msdfix.model.context import BuildContext
from msdfix.model.stages import Stage
from msdfix.shell.classify import program_args, wrappers
from msdfix.shell.commands import parse_commands

_SCRIPT = re.compile(r"(\.(?:sh|bash)$|entrypoint[^/]*$)")


def _script(word: str) -> bool:
    """``_SCRIPT`` in ``word``. Any match lies in the last path component: searching from it
    keeps every "entrypoint" before a "/" from scanning to that "/" (quadratic)."""
    return _SCRIPT.search(word, word.rfind("/") + 1) is not None


@dataclass
class Command:
    """The final stage's CMD/ENTRYPOINT as argv lists, and scripts they run."""

    argvs: list[list[str]] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)


def entry_command(stage: Stage) -> Command | None:
    """CMD and ENTRYPOINT in effect; None when the Dockerfile sets neither."""
    found = [ins for ins in stage.entry() if ins is not None]
    if not found:
        return None
    command = Command()
    for ins in found:
        argv = ins.json_args()
        if argv is None:
            argv = ["/bin/sh", "-c", ins.args]
        command.argvs.append(argv)
        shell = len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in SHELLS and argv[1] == "-c"
        for cmd in parse_commands(argv[2] if shell else shlex.join(argv)):
            name, args = program_args(cmd)
            command.programs += [*wrappers(cmd), name]  # gosu app run: gosu needs root
            if name in SHELLS and args and not args[0].startswith("-"):
                command.scripts.append(args[0])
            elif cmd.argv and _script(cmd.argv[0]):
                command.scripts.append(cmd.argv[0])
    return command


def context_script(ctx: BuildContext, path: str) -> str | None:
    """The text of a script the command runs, found by name in the build context."""
    name = posixpath.basename(path)
    if not ctx.present:
        return None
    rel = ctx.named(name)
    return ctx.read_text(rel) if rel is not None else None
