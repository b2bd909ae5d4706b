"""What the commands of a RUN do to package caches and indexes, as far as msdfix can tell."""

from __future__ import annotations

import posixpath
import re
from collections import OrderedDict
from typing import NamedTuple

from msdfix.ecosystems.base import PackageManager
from msdfix.ecosystems.os import INDEX_REFRESHERS
from msdfix.ecosystems.registry import MANAGERS
from msdfix.model.paths import within
from msdfix.shell.classify import ToolCall, inline_script, is_inert, program_args, tool_calls
from msdfix.shell.commands import Command, parse_commands
from msdfix.shell.script import RunScript
from msdfix.transforms.cache_mount.targets import Resolver

_PROGRAMS = {p.lstrip("./") for m in MANAGERS for p in m.programs}
_READER_PROGRAMS = {prefix[0] for m in MANAGERS for prefix in m.index_readers}
_CLEANERS: dict[str, list[tuple[tuple[str, ...], PackageManager]]] = {}  # by program, in order
for _manager in MANAGERS:
    for _prefix in _manager.clean_commands:
        _CLEANERS.setdefault(_prefix[0], []).append((tuple(_prefix), _manager))
_READER_PREFIXES = {tuple(prefix) for m in MANAGERS for prefix in m.index_readers}
_READER_LENGTHS = sorted({len(prefix) for prefix in _READER_PREFIXES})


class Step(NamedTuple):
    """One command of a RUN, classified."""

    command: Command
    program: str
    args: tuple[str, ...]
    inlined: bool  # inside a ``sh -c`` string: analysed, never edited
    conditional: bool  # may not run: nested in if/for/subshell, or after ``||``
    call: ToolCall | None  # a package-manager command that downloads
    refresh: bool  # refreshes the package index
    reads_index: bool  # needs the package index the image (or the mount) holds
    unknown: bool  # msdfix cannot tell what it does
    cleaner: PackageManager | None  # whose cache-cleaning command this is (npm cache clean)

    def cleans(self, target: str, resolver: Resolver) -> bool:
        """True when this command deletes ``target`` or everything in it."""
        if self.program == "rm":
            return any(within(target, p) for p in removed_paths(self.args, resolver))
        manager = self.cleaner
        if manager is None or target in {c.path for c in manager.caches if c.index}:
            return False  # `apt-get clean` empties the archives, never the lists
        return target in resolver.targets(ToolCall(manager, self.command, list(self.args)))


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def expanded(arg: str, resolver: Resolver) -> str:
    """``arg`` with the variables msdfix knows replaced (HOME, ENV, ARG, the image's ENV)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        found = resolver.home if name == "HOME" else resolver.variable(name)
        return found if found is not None else match.group(0)

    if arg.startswith("~/") and resolver.home is not None:
        arg = resolver.home + arg[1:]
    return _VARIABLE.sub(value, arg) if "$" in arg else arg


def unresolved(args: tuple[str, ...] | list[str], resolver: Resolver) -> str | None:
    """The first ``rm`` argument whose path msdfix cannot know (a variable it cannot expand)."""
    return next((a for a in args if not a.startswith("-") and "$" in expanded(a, resolver)), None)


def removed_paths(args: tuple[str, ...] | list[str], resolver: Resolver) -> list[str]:
    """Directories an ``rm`` argument list deletes, or empties (``dir/*``), normalised."""
    paths = []
    for arg in args:
        if arg.startswith("-"):
            continue
        arg = expanded(arg, resolver)
        if not arg.startswith("/"):
            continue
        base = arg[:-1] if arg.endswith("/*") or arg.endswith("/.") else arg
        if any(ch in base for ch in "*?[$"):
            continue
        paths.append(posixpath.normpath(base))
    return paths


_KEPT = 128  # a file's RUNs, re-read on each pass (more slows the whole run: memory)
_cache: OrderedDict[tuple[str, tuple[tuple[str, ...], ...], bool], list[Step]] = OrderedDict()


def run_steps(script: RunScript, berry: bool) -> list[Step]:
    """Every command of the RUN (``sh -c`` scripts inlined), classified in execution order.

    The steps depend only on the commands (parsed from the script's text, or an exec form's
    argv when there is no text), so each script is classified once; callers must not change
    the list.
    """
    argv = () if script.text else tuple(tuple(c.argv) for c in script.commands)
    key = (script.text, argv, berry)
    steps = _cache.get(key)
    if steps is not None:
        _cache.move_to_end(key)
        return steps
    steps = _steps(script.commands, berry, inlined=False, outer_conditional=False, depth=3)
    _cache[key] = steps
    if len(_cache) > _KEPT:
        _cache.popitem(last=False)  # the least recently used
    return steps


def _steps(
    commands: list[Command], berry: bool, inlined: bool, outer_conditional: bool, depth: int
) -> list[Step]:
    steps: list[Step] = []
    calls = {id(c.command): c for c in tool_calls(commands, berry)}
    for command in commands:
        conditional = outer_conditional or command.nested or command.op_before == "||"
        script = inline_script(command) if depth > 0 else None
        if script is not None:
            inner = parse_commands(script)
            steps += _steps(inner, berry, True, conditional, depth - 1)
            continue
        program, args = program_args(command)
        call = calls.get(id(command))
        steps.append(_step(command, program, tuple(args), inlined, conditional, call))
    return steps


APT_PROGRAMS = frozenset({"apt-get", "apt", "aptitude"})
RUNS_COMMAND = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# apt subcommands that never read the package lists (the rest may: satisfy, source, ...).
APT_WITHOUT_INDEX = frozenset(
    {"clean", "autoclean", "remove", "purge", "autoremove", "autopurge", "help", "moo"}
)


def _step(
    command: Command,
    program: str,
    args: tuple[str, ...],
    inlined: bool,
    conditional: bool,
    call: ToolCall | None,
) -> Step:
    refresh = reads = unknown = False
    argv = [program, *args]
    if call is not None:
        manager = call.manager
        refresh = call.subcommand in manager.refresh
        reads = bool(manager.refresh) and not refresh
    elif program in INDEX_REFRESHERS:
        refresh = not any(a in INDEX_REFRESHERS[program] for a in args)
    elif program in APT_PROGRAMS:  # satisfy, source, download, ...: anything but these
        words = [a for a in args if not a.startswith("-")]
        reads = bool(words) and words[0] not in APT_WITHOUT_INDEX
    elif program in _READER_PROGRAMS or program.lstrip("./") in _PROGRAMS:
        reads = any(tuple(argv[:n]) in _READER_PREFIXES for n in _READER_LENGTHS)
    elif program and not is_inert(command):
        unknown = True
    elif program == "find" and any(a in RUNS_COMMAND for a in args):
        unknown = True  # find ... -exec apt-get install {} +: a command msdfix does not read
    cleaners = _CLEANERS.get(program)
    cleaner = (
        next((m for p, m in cleaners if tuple(argv[: len(p)]) == p), None) if cleaners else None
    )
    return Step(
        command, program, args, inlined, conditional, call, refresh, reads, unknown, cleaner
    )


def index_first(steps: list[Step]) -> Step | None:
    """The first step that refreshes, reads or may touch the package index."""
    return next((s for s in steps if s.refresh or s.reads_index or s.unknown), None)


def refreshes_first(steps: list[Step]) -> bool:
    """True when the RUN refreshes the package index before anything may read it."""
    first = index_first(steps)
    return first is not None and first.refresh and not first.conditional


def reads_image_index(steps: list[Step]) -> bool:
    """True when the RUN may read the package index the image holds (no refresh first)."""
    first = index_first(steps)
    return first is not None and not (first.refresh and not first.conditional)
