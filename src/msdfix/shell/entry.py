"""The command a stage runs (CMD and ENTRYPOINT as argv lists) and the scripts it starts,
read from the build context: what cache-mount, split-stages and non-root check a container
may run."""

from __future__ import annotations

import posixpath
import re
import shlex
import sys
from dataclasses import dataclass, field

from msdfix.ecosystems.node.scripts import SCRIPT_RUNNERS, other_package, script_bodies
from msdfix.ecosystems.programs import (
    APP_STARTERS,
    HARMLESS,
    POSIX_SHELLS,
    SHELLS,
    bare_interpreter,
)
from msdfix.model.context import BuildContext
from msdfix.model.stages import Stage
from msdfix.shell.classify import after_wrappers, inner_script, program_args, unwrapped, wrappers
from msdfix.shell.commands import Command as ShellCommand
from msdfix.shell.commands import parse_commands, substituted_commands
from msdfix.syntax import Instruction

# What a container's start command runs first and then hands over to the program after it.
_ENTRY_WRAPPERS = frozenset({"exec", "env", "tini", "dumb-init"})
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
    calls: list[tuple[str, list[str]]] = field(default_factory=list)  # (program, its words)


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
            command.calls.append((name, args))
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


@dataclass
class Entry:
    """What the container runs: argv of the first command, and whether a shell is needed."""

    argv: list[str]
    shell: bool
    commands: list[list[str]]
    # commands of the shell's ``$(...)`` and backquotes (``REV=$(git rev-parse HEAD)``):
    # programs the image must have, not the app the image starts
    substituted: list[list[str]] = field(default_factory=list)

    @property
    def interactive(self) -> bool:
        """The container starts a shell with no script, or an interpreter with no program
        (``ENTRYPOINT ["python"]``): its users run their own commands."""
        bare_shell = bool(self.argv) and posixpath.basename(self.argv[0]) in SHELLS
        return (bare_shell and len(self.argv) == 1) or bare_interpreter(self.argv)


def toolbox(found: Entry | None) -> bool:
    """An image that starts no program of its own (no CMD/ENTRYPOINT, a bare shell or
    interpreter) is a tool environment: what its users run in it is unknown."""
    return found is None or found.interactive


def entry(stage: Stage) -> Entry | None:
    """ENTRYPOINT + CMD of the stage as argv; None when there is neither."""
    entrypoint, cmd = stage.entry()
    parts: list[list[str]] = []
    shell = False
    script: str | None = None  # what `sh -c` runs, when the shell form is the whole command
    for ins in (entrypoint, cmd):
        if ins is None:
            continue
        argv = ins.json_args()
        if argv is None:
            shell = True
            parsed = parse_commands(ins.args)
            parts.append(parsed[0].argv if parsed else [])
            script = ins.args if not parts[:-1] else None
            if ins is entrypoint:
                break  # shell-form ENTRYPOINT ignores CMD
        else:
            parts.append(argv)
    argv = [a for p in parts for a in p]
    if not argv:
        return None
    inner = inner_script(posixpath.basename(argv[0]), argv[1:], as_other_user=False)
    sh_c = inner is not None and posixpath.basename(argv[0]) in POSIX_SHELLS  # sh -ec '...'
    if sh_c:
        shell, script = True, inner
    commands, substituted = [argv], []
    if script is not None:  # every command the shell runs: `a && git log`, `$(git log)`
        commands = [c.argv for c in parse_commands(script) if c.argv] or commands
        substituted = [c.argv for c in substituted_commands(script) if c.argv]
        argv = commands[0] if sh_c else argv
    argv = after_wrappers(argv, _ENTRY_WRAPPERS)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    commands += _passed_on(entrypoint, cmd)
    return Entry(argv, shell, commands, substituted)


def _passed_on(entrypoint: Instruction | None, cmd: Instruction | None) -> list[list[str]]:
    """The CMD's own commands when an exec-form ENTRYPOINT script runs it (``exec "$@"``, the
    official images' docker-entrypoint.sh): ``ENTRYPOINT ["./docker-entrypoint.sh"]`` with
    ``CMD ["sh", "-c", "npm ci && npm start"]`` installs at start as the bare CMD would."""
    argv = entrypoint.json_args() if entrypoint is not None else None
    if cmd is None or not argv or not _script(argv[0]):
        return []
    words = cmd.json_args()
    if words is None:
        return [c.argv for c in parse_commands(cmd.args) if c.argv]
    inner = (
        inner_script(posixpath.basename(words[0]), words[1:], as_other_user=False)
        if words
        else None
    )
    if inner is not None and posixpath.basename(words[0]) in POSIX_SHELLS:
        return [c.argv for c in parse_commands(inner) if c.argv]
    return [words] if words else []


_VERSIONED = re.compile(r"^(?:python|pypy|node|ruby|php|perl)[0-9.]*$")


def _module(command: ShellCommand) -> str | None:
    """The top-level module ``python -m pkg.mod`` runs (None: not such a command)."""
    words = unwrapped(command)
    if not words or not _VERSIONED.match(posixpath.basename(words[0])) or "-m" not in words:
        return None
    at = words.index("-m") + 1
    return words[at].split(".")[0] if at < len(words) else None


def opaque_program(argvs: list[list[str]], ctx: BuildContext) -> str | None:
    """The first program the start commands ``argvs`` run whose own code msdfix cannot read,
    and so not which tools it runs (``pre-commit`` runs git): not a shell, wrapper, harmless
    builtin, interpreter or known app server (``APP_STARTERS``), not a file of the app (a path
    outside a ``bin`` folder, or a file of the build context). None when every one is known."""
    for argv in argvs:
        for command in parse_commands(shlex.join(argv)) if argv else []:
            name, _ = program_args(command)
            elsewhere = other_package([posixpath.basename(name), *command.argv[1:]])
            if elsewhere is not None and posixpath.basename(name) in SCRIPT_RUNNERS:
                return f"{posixpath.basename(name)} {elsewhere}"  # another package's script
            module = _module(command)
            if module is not None:  # python -m X: the app's package, the stdlib, or installed
                if module in sys.stdlib_module_names or not ctx.present:
                    continue  # without the context, like ``python app.py``: the app's own
                if ctx.named(f"{module}.py") or ctx.glob(f"*{module}/__init__.py"):
                    continue  # a module or package of the context (src/shop/ too)
                name = module.replace("_", "-")
            base = posixpath.basename(name)
            folder = posixpath.dirname(name)
            if not base or "$" in name or base in SHELLS or base in HARMLESS:
                continue
            if base in APP_STARTERS or _VERSIONED.match(base) or base.startswith("-"):
                continue
            if folder and not folder.endswith("/bin"):
                continue  # ./server, /app/run: the app's own files or build outputs
            if ctx.present and ctx.named(base) is not None:
                continue  # a script of the context: read where it runs
            return base
    return None


def run_scripts(argv: list[str], package: dict[str, object]) -> list[str]:
    """The package.json scripts a runner call runs, with the pre/post hooks npm and yarn 1
    run around them (``npm start``: prestart, start, poststart); nested runner calls in them
    are followed a few levels."""
    found: list[str] = []
    todo, seen = [argv], 0
    while todo and seen < 20:
        call, seen = todo.pop(), seen + 1
        for body in script_bodies(call, package):
            found.append(body)
            todo += [c.argv for c in parse_commands(body) if c.argv and c.argv[0] in SCRIPT_RUNNERS]
    return found


def with_start_scripts(ctx: BuildContext, argvs: list[list[str]]) -> list[list[str]]:
    """``argvs`` (a container's start commands) and the commands of the package.json scripts
    they run (``npm start`` whose ``start`` is ``npm ci && node server.js``, with its pre/post
    hooks; the context's package.json, as slim-base reads it): built for real, such a start
    installed offline from the npm cache the original image carried, and failed on the
    mounted cache and in a split's runtime (EAI_AGAIN)."""
    package = ctx.read_json("package.json") if ctx.present else None
    if not isinstance(package, dict):
        return argvs
    found = list(argvs)
    for argv in argvs:
        call = [posixpath.basename(argv[0]), *argv[1:]] if argv else []
        for body in run_scripts(call, package) if call and call[0] in SCRIPT_RUNNERS else []:
            found += [c.argv for c in parse_commands(body) if c.argv]
    return found
