"""Commands that change what an install wrote.

reorder-copy moves an install before the whole-tree COPY and leaves the rest of its RUN after
the copy. When that rest prunes, deletes, chowns or chmods the installed files, it no longer
runs in the install's layer: the installed files stay in the lower layer and the later one adds
whiteouts or a second copy of every file (``npm install && chown -R app /app`` stored
node_modules twice, ``npm install && npm run build && npm prune --production`` kept the dev
dependencies; both built for real). Such a RUN is not split.
"""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.node.installs import PROD_FLAGS
from msdfix.ecosystems.python import PDM, PIP, PIPENV, POETRY, UV
from msdfix.ecosystems.registry import subcommand
from msdfix.model.args import expand
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.transforms.reorder_copy.model import Use, join_path, manager_of

# Python installs also write to the interpreter's prefix, the user site or a virtualenv.
_PYTHON = {e.id for e in (PIP, POETRY, UV, PIPENV, PDM)}
_SYSTEM = ("/usr/local", "/usr/lib", "/opt", "/root/.local", "venv")
_META = {"chown", "chmod", "chgrp"}
# Subcommands that remove installed packages, and flags that make an install drop some.
_PRUNE = {"prune", "uninstall", "remove", "rm", "un", "r", "clean", "dedupe", "ddp"}
_PRODUCTION = PROD_FLAGS | {"--no-dev"}  # node's production flags, composer's and poetry's


def _outputs(use: Use) -> list[str]:
    extra = _SYSTEM if use.eco.id in _PYTHON else ()
    return [join_path(use.dest, p) for p in (*use.eco.outputs, *extra)]


def _recursive(args: list[str]) -> bool:
    return any(
        a == "--recursive" or (a.startswith("-") and not a.startswith("--") and "R" in a)
        for a in args
    )


def _operands(program: str, args: list[str]) -> list[str] | None:
    """Paths the command changes; None when it changes nothing msdfix follows."""
    paths = positionals(args, frozenset())
    if program == "rm":
        return paths
    if program in _META and _recursive(args):
        return [p for p in paths[1:] if not p.startswith("--reference")]
    if program == "find" and any(a in ("-delete", "-exec", "-execdir") for a in args):
        return [a for a in args[: next((i for i, a in enumerate(args) if a.startswith("-")), 0)]]
    return None


def changes_install(
    command: Command, uses: list[Use], cwd: str | None, scope: dict[str, str]
) -> bool:
    """True when ``command`` (run after the install) prunes, deletes or re-owns what it wrote."""
    program, args = program_args(command)
    manager = manager_of(program)
    if manager is not None and any(manager in u.eco.managers for u in uses):
        sub = subcommand(program, args)
        return sub in _PRUNE or (
            sub in ("", "install", "i", "ci", "add", "sync") and any(a in _PRODUCTION for a in args)
        )
    operands = _operands(program, args)
    if not operands:
        return False
    outputs = [o for u in uses for o in _outputs(u)]
    for operand in operands:
        path = expand(operand, scope)
        if path.startswith("~"):
            continue  # a home's caches: cache-mount's business, not the install's output
        if cwd is None or "$" in path:
            return True  # a path msdfix cannot place
        path = posixpath.normpath(join_path(cwd, path.split("*")[0] or "."))
        if any(within(path, o) or within(o, path) for o in outputs):
            return True
    return False
