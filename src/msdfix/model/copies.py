"""What a stage takes from the build context: ``COPY``/``ADD`` sources and context bind mounts.

``# escape=``, JSON form and heredocs are handled by the parser; ``$VAR`` in a source is
expanded with the stage's ARG/ENV scope, and one that stays unknown copies "anything".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from msdfix.files import is_dockerfile_name
from msdfix.model.args import expand
from msdfix.model.context import BuildContext, ContextTooLarge
from msdfix.model.dockerignore import (
    MAX_PATTERN_CHARS,
    DockerIgnore,
    DockerIgnoreError,
    go_clean,
)
from msdfix.model.stages import Model, Stage
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values, unquote

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.I)


@dataclass(frozen=True)
class Source:
    """One context source of a ``COPY``/``ADD``/``RUN --mount``; ``pattern`` None means all."""

    pattern: str | None
    instruction: str  # e.g. "COPY . . (line 3)"
    excludes: tuple[str, ...] = ()
    unknown: bool = False  # a ``$VAR`` msdfix cannot expand (``pattern`` is then None)

    def copies(self, rel: str) -> bool:
        """True when this source brings the context file ``rel`` into the build."""
        if self.pattern is not None and not pattern_covers(self.pattern, rel):
            return False
        return not any(pattern_covers(e, rel) for e in self.excludes)


def pattern_covers(pattern: str, rel: str) -> bool:
    """A COPY source names ``rel`` itself or a directory above it (wildcards as Docker's)."""
    matcher = _matcher(pattern)
    return matcher is not None and matcher.excludes(rel)


@lru_cache(maxsize=1024)
def _matcher(pattern: str) -> DockerIgnore | None:
    if len(pattern) > MAX_PATTERN_CHARS:
        return None  # longer than any path the build can stat (ENAMETOOLONG): it fails
    try:
        return DockerIgnore.from_patterns([pattern])
    except DockerIgnoreError:
        return None  # a source Docker rejects copies nothing (the build fails)


def where(ins: Instruction) -> str:
    """A short quote of the instruction with its line, for messages."""
    text = " ".join(ins.logical.split())
    return f"{text if len(text) <= 60 else text[:57] + '...'} (line {ins.start_line})"


def clean_source(raw: str, scope: dict[str, str | None], escape: str | None) -> str | None:
    """A context-relative source; None for the whole context or an unknown (``$VAR``) one."""
    value = expand(raw, scope)
    if escape is not None:  # shell form: quotes and escapes are removed
        value = unquote(value, escape)
    if "$" in value:
        return None
    value = go_clean(value).lstrip("/")
    return None if value in ("", ".") else value


def _source(
    raw: str,
    scope: dict[str, str | None],
    escape: str | None,
    origin: str,
    excludes: tuple[str, ...] = (),
) -> Source:
    pattern = clean_source(raw, scope, escape)
    unknown = pattern is None and "$" in expand(raw, scope)
    return Source(pattern, origin, excludes, unknown=unknown)


def copy_sources(stage: Stage, ins: Instruction, model: Model) -> list[Source]:
    """The context sources of one ``COPY``/``ADD`` (none for ``--from``, URLs, heredocs)."""
    if ins.flag("from") is not None:
        return []
    _, values, is_json = instruction_values(ins)
    scope = model.stage_scope(stage, ins)
    escape = None if is_json else ins.escape
    excludes = tuple(f.value for f in ins.flags_named("exclude") if f.value)
    origin = where(ins)  # once: quoting the instruction per source is quadratic
    found = []
    for raw in values[:-1]:
        if (ins.heredocs and raw.startswith("<<")) or _URL.match(raw):
            continue  # inline file or remote source: nothing from the context
        found.append(_source(raw, scope, escape, origin, excludes))
    return found


def mount_sources(stage: Stage, ins: Instruction, model: Model) -> list[Source]:
    """``RUN --mount`` of the build context (type bind, the default, without ``from``)."""
    found = []
    origin = where(ins)
    for flag in ins.flags_named("mount"):
        fields = dict(
            part.partition("=")[::2] for part in (flag.value or "").split(",") if part.strip()
        )
        if fields.get("type", "bind") != "bind" or "from" in fields:
            continue
        raw = fields.get("source", fields.get("src", ""))
        scope = model.stage_scope(stage, ins)
        found.append(_source(raw, scope, ins.escape, origin))
    return found


def stage_sources(stage: Stage, model: Model) -> list[tuple[Instruction, Source]]:
    """Every context source of the stage's instructions, in file order."""
    found: list[tuple[Instruction, Source]] = []
    for ins in stage.instructions:
        if ins.cmd in ("copy", "add"):
            found += [(ins, s) for s in copy_sources(stage, ins, model)]
        elif ins.cmd == "run":
            found += [(ins, s) for s in mount_sources(stage, ins, model)]
        elif ins.cmd == "onbuild" and _ONBUILD_READS.match(ins.args):
            # ONBUILD COPY . /app runs in the builds of child images, on their context
            found.append((ins, Source(None, where(ins), unknown=True)))
    return found


# An ONBUILD trigger that reads the context of the child's build.
_ONBUILD_READS = re.compile(r"\s*(?:copy|add|run\b.*--mount)\b", re.I)


_WILDCARD = re.compile(r"[*?\[]")


def foreign_context(model: Model, ctx: BuildContext) -> tuple[int, str] | None:
    """(line, why) when the folder cannot be the file's build context: a local source that a
    COPY, ADD or bind mount names is not in it, or the file copies the whole context from a
    folder that holds nothing but Dockerfiles (``docker build -f docker/Dockerfile .``).
    None also when the folder is too large to tell (the transforms say so themselves)."""
    if not ctx.present:
        return None
    try:
        return _foreign(model, ctx)
    except ContextTooLarge:
        return None


def _foreign(model: Model, ctx: BuildContext) -> tuple[int, str] | None:
    for stage in model.stages:
        for ins, source in stage_sources(stage, model):
            if ins.cmd == "onbuild" or source.unknown:
                continue
            line = ins.start_line
            if source.pattern is None:
                if _only_dockerfiles(ctx):
                    return (
                        line,
                        f"line {line} copies all of {ctx.root}/, which holds no file but Dockerfiles",
                    )
                missing = _missing_project(model, ctx)
                if missing is not None:
                    return line, f"line {line} copies all of {ctx.root}/, but {missing}"
            elif not _WILDCARD.search(source.pattern) and not ctx.on_disk(source.pattern):
                return line, f"`{source.pattern}` is not in {ctx.root}/"
    return None


# A build tool's subcommands that need its project file, and the files that make one.
_PROJECTS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "go": (frozenset({"build", "install", "test", "vet", "generate"}), ("go.mod", "*.go")),
    "npm": (frozenset({"ci", "install", "i"}), ("package.json",)),
    "yarn": (frozenset({"install", ""}), ("package.json",)),
    "pnpm": (frozenset({"install", "i"}), ("package.json",)),
    "cargo": (frozenset({"build"}), ("Cargo.toml",)),
    "mvn": (frozenset({"package", "install", "verify"}), ("pom.xml",)),
}
# Options that point the tool at a project elsewhere, or install tools instead.
_ELSEWHERE = frozenset({"-g", "--global", "-C", "--prefix", "--cwd", "--dir", "-f", "--file"})


def _missing_project(model: Model, ctx: BuildContext) -> str | None:
    """Why a folder copied whole cannot be the context: a RUN builds with a tool whose project
    file the folder does not hold anywhere (``go build`` and no go.mod nor .go file: a
    docker/ folder with an entrypoint script, built as ``docker build -f docker/Dockerfile
    .``). Read as the context, its missing sources had shown "no cgo" (None: none such).
    Installs of named packages or tools (``npm install -g pm2``, ``go install x@v1``) need
    no project."""
    from msdfix.shell.classify import program_args
    from msdfix.shell.script import run_script

    for stage in model.stages:
        for ins in stage.of("run"):
            script = run_script(ins)
            for command in script.commands if script else []:
                program, args = program_args(command)
                project = _PROJECTS.get(program.rsplit("/", 1)[-1])
                words = [a for a in args if not a.startswith("-")]
                sub = words[0] if words else ""
                if (
                    project is None
                    or sub not in project[0]
                    or any(a.split("=")[0] in _ELSEWHERE for a in args)
                    or any("$" in a for a in args)
                    or (program != "go" and len(words) > 1)  # npm install express
                    or (sub == "install" and any("@" in w for w in words[1:]))
                ):
                    continue
                if not any(ctx.exists(p) or ctx.glob(p) or ctx.glob(f"*/{p}") for p in project[1]):
                    return f"line {ins.start_line} runs {program}, and it holds no {project[1][0]}"
    return None


def _only_dockerfiles(ctx: BuildContext) -> bool:
    view = ctx.view
    kept = view.kept
    return not view.folder.skipped and view.memo(
        "only-dockerfiles",
        lambda: all(
            is_dockerfile_name(f.rsplit("/", 1)[-1]) or f.endswith(".dockerignore") for f in kept
        ),
    )
