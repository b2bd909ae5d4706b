"""Whether a Dockerfile's folder can be its build context (``docker build -f docker/Dockerfile .``
leaves the Dockerfile in a folder that is not the context)."""

from __future__ import annotations

import re

from msdfix.files import is_dockerfile_name
from msdfix.model.context import BuildContext, ContextTooLarge
from msdfix.model.copies import stage_sources
from msdfix.model.stages import Model
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script

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
