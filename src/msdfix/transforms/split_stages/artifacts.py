"""Where things are in a single-stage build: working dirs, copied paths, the entry command."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from msdfix.ecosystems.programs import SHELLS
from msdfix.model.args import expand
from msdfix.model.base_images import DEFAULT_WORKDIRS
from msdfix.model.context import BuildContext
from msdfix.model.stages import Model, Stage
from msdfix.shell.commands import parse_commands
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values

SYSTEM_DIRS = frozenset({
    "/", "/usr", "/usr/local", "/usr/local/bin", "/usr/bin", "/bin", "/sbin", "/etc", "/lib",
    "/usr/lib", "/usr/local/lib", "/opt", "/var", "/root", "/home", "/tmp", "/go", "/go/bin",
})  # fmt: skip


def resolve(path: str, cwd: str) -> str:
    """Absolute, normalised ``path`` relative to ``cwd``."""
    return posixpath.normpath(posixpath.join(cwd or "/", path))


def workdirs(model: Model, stage: Stage) -> dict[int, str]:
    """``id(ins)`` -> the working directory in effect when ``ins`` runs (WORKDIR: the new one)."""
    current = DEFAULT_WORKDIRS.get(stage.image.full_name, "/") if stage.parent is None else "/"
    found: dict[int, str] = {}
    for ins in stage.instructions:
        if ins.cmd == "workdir":
            values = instruction_values(ins)[1]
            if values:
                current = resolve(expand(values[0], model.stage_scope(stage, ins)), current)
        found[id(ins)] = current
    return found


@dataclass
class ContextCopy:
    """A COPY/ADD from the build context: its sources and the absolute paths they land on."""

    ins: Instruction
    sources: list[str]
    dest: str
    into_dir: bool  # sources land inside ``dest`` (a directory)

    def context_files(self, context: BuildContext) -> list[tuple[str, str]]:
        """(context path, image path) of every file this COPY brings in (context needed)."""
        pairs: list[tuple[str, str]] = []
        for src in self.sources:
            rel = posixpath.normpath(src).lstrip("/")
            prefix = "" if rel == "." else rel + "/"
            for f in context.files:
                if context.is_ignored(f):
                    continue
                if f == rel:
                    pairs.append(
                        (
                            f,
                            self.dest
                            if not self.into_dir
                            else resolve(posixpath.basename(f), self.dest),
                        )
                    )
                elif f.startswith(prefix):
                    pairs.append((f, resolve(f[len(prefix) :], self.dest)))
        return pairs


def context_copies(model: Model, stage: Stage, dirs: dict[int, str]) -> list[ContextCopy] | None:
    """Every COPY/ADD of the stage that reads the build context; None when one cannot be read."""
    found = []
    for ins in stage.of("copy", "add"):
        if ins.flag("from") is not None:
            return None
        values = instruction_values(ins)[1]
        if ins.heredocs or len(values) < 2:
            return None
        scope = model.stage_scope(stage, ins)
        *sources, dest_raw = [expand(v, scope) for v in values]
        if any("$" in s for s in [*sources, dest_raw]) or any("://" in s for s in sources):
            return None
        dest = resolve(dest_raw, dirs[id(ins)])
        into_dir = (
            dest_raw.endswith(("/", "/.", "/.."))
            or dest_raw in (".", "..")
            or len(sources) > 1
            or any(
                s in (".", "./") or s.endswith("/") or any(ch in s for ch in "*?[") for s in sources
            )
        )
        found.append(ContextCopy(ins, sources, dest, into_dir))
    return found


@dataclass
class Entry:
    """What the container runs: argv of the first command, and whether a shell is needed."""

    argv: list[str]
    shell: bool
    commands: list[list[str]]

    @property
    def interactive(self) -> bool:
        """The container starts a shell with no script: its users run their own commands."""
        return (
            bool(self.argv) and posixpath.basename(self.argv[0]) in SHELLS and len(self.argv) == 1
        )


def toolbox(found: Entry | None) -> bool:
    """An image that starts no program of its own (no CMD/ENTRYPOINT, or a bare shell) is a
    tool environment: what its users run in it is unknown."""
    return found is None or found.interactive


def entry(stage: Stage) -> Entry | None:
    """ENTRYPOINT + CMD of the stage as argv; None when there is neither."""
    entrypoint, cmd = stage.entry()
    parts: list[list[str]] = []
    shell = False
    for ins in (entrypoint, cmd):
        if ins is None:
            continue
        argv = ins.json_args()
        if argv is None:
            shell = True
            parsed = parse_commands(ins.args)
            parts.append(parsed[0].argv if parsed else [])
            if ins is entrypoint:
                break  # shell-form ENTRYPOINT ignores CMD
        else:
            parts.append(argv)
    argv = [a for p in parts for a in p]
    if not argv:
        return None
    commands = [argv]
    if len(argv) >= 3 and posixpath.basename(argv[0]) in ("sh", "bash", "ash") and argv[1] == "-c":
        shell = True
        commands = [c.argv for c in parse_commands(argv[2]) if c.argv]
        argv = commands[0] if commands else argv
    while argv and argv[0] in ("exec", "env", "tini", "dumb-init", "--"):
        argv = argv[1:]
    return Entry(argv, shell, commands)
