"""slim-base: whether the dependencies a stage installs need the full image."""

from __future__ import annotations

import fnmatch
import posixpath
import re

from msdfix.document import Document
from msdfix.ecosystems.images import NODE_NATIVE, NODE_NEEDS_FULL, RUBY_NATIVE
from msdfix.ecosystems.node.dependencies import read_dependencies
from msdfix.ecosystems.node.scripts import lifecycle_hooks
from msdfix.ecosystems.python import install_evidence, python_version
from msdfix.ecosystems.registry import MANAGER_PROGRAMS, subcommand
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.copies import clean_source, copy_sources, remote_source, unpacks_archive
from msdfix.model.paths import within
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.slim_base.facts import Facts, Use

# The ecosystems whose dependency installs slim-base checks against a smaller image.
CHECKED = ("node", "python", "ruby")
# (``pip wheel`` builds the packages it is given like ``pip install``: a stage that copies the
# wheels installs what it compiled.)
INSTALL_SUBCOMMANDS = {"install", "ci", "i", "add", "sync", "update", "wheel", ""}


def node_deps(doc: Document, stage: Stage, calls: list[Use]) -> tuple[str, list[str]]:
    """('none' | 'native' | 'git' | 'unknown', package names) from the package-lock and
    package.json each install reads (the first answer other than 'none')."""
    found: tuple[str, list[str]] = ("none", [])
    for use in calls:
        folder = _manifest_dir(doc, stage, use.ins)
        status = _node_deps(doc, folder) if folder is not None else ("unknown", [])
        if status[0] != "none":
            return status
    return found if calls else _node_deps(doc, "")


def _manifest_dir(doc: Document, stage: Stage, ins: Instruction) -> str | None:
    """The context folder of the package.json an install reads: the one the last COPY/ADD
    before it brings (``COPY api/package*.json ./``: api). None when no COPY brings one."""
    before: list[tuple[Stage, Instruction]] = []
    for st in stage.lineage:
        for other in st.instructions:
            if other is ins:
                break
            if other.cmd in ("copy", "add"):
                before.append((st, other))
    for st, other in reversed(before):
        if _set_by_build_arg(doc, st, other):
            return None  # --build-arg APP=worker copies another folder's package.json
        if _may_bring_unseen(doc, stage, st, other, ins):
            return None  # an archive or another stage may replace the context's manifests
        for source in copy_sources(st, other, doc.model):
            path = posixpath.normpath(source.pattern or ".").strip("/")
            path = "" if path == "." else path
            if fnmatch.fnmatch(posixpath.basename(path), "package*.json"):
                return posixpath.dirname(path)
            if doc.context.exists(posixpath.join(path, "package.json")):
                return path
    return None


_NODE_MANIFESTS = ("package*.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", ".npmrc")


def _may_bring_unseen(
    doc: Document, stage: Stage, st: Stage, other: Instruction, install: Instruction
) -> bool:
    """A COPY/ADD whose files msdfix cannot list (``--from`` another stage or image, a URL, a
    local archive ADD unpacks) that lands on the install's folder or above it, or puts a
    manifest into it: the package.json the install reads may be that one, not the context's."""
    _, values, _ = instruction_values(other)
    scope = doc.model.stage_scope(st, other)
    unseen = other.flag("from") is not None or any(remote_source(r, scope) for r in values[:-1])
    unseen = unseen or unpacks_archive(other, scope)
    if not unseen or len(values) < 2:
        return False
    before, _ = doc.model.workdirs(stage)
    workdir, folder = before.get(id(other), "/"), before.get(id(install), "/")
    dest = expand(values[-1], doc.model.stage_scope(st, other))
    if "$" in dest or "$" in workdir or "$" in folder:
        return True
    dest = posixpath.normpath(posixpath.join(workdir, dest))
    name = posixpath.basename(dest)
    return within(folder, dest) or (
        posixpath.dirname(dest) == folder
        and any(fnmatch.fnmatch(name, pattern) for pattern in _NODE_MANIFESTS)
    )


def _set_by_build_arg(doc: Document, stage: Stage, ins: Instruction) -> bool:
    """A context source of the COPY/ADD whose path a build argument may change
    (``COPY apps/${APP}/package.json``): its default names one folder, a build names any."""
    if ins.flag("from") is not None:
        return False
    _, values, is_json = instruction_values(ins)
    fixed = doc.model.fixed_scope(stage, ins)
    escape = None if is_json else ins.escape
    return any("$" in raw and clean_source(raw, fixed, escape) is None for raw in values[:-1])


def _node_deps(doc: Document, folder: str) -> tuple[str, list[str]]:
    package = doc.context.read_json(posixpath.join(folder, "package.json"))
    hooks = lifecycle_hooks(package, doc.context, folder) if isinstance(package, dict) else []
    builds = [h for h in hooks if h.startswith(("preinstall", "install", "postinstall", "npm"))]
    if builds:  # the project's own install script (node-gyp of its binding.gyp) may compile
        return "native", [f"the project's {builds[0]}"]
    deps = read_dependencies(doc.context, folder)
    if deps is not None and deps.scripts_known:
        if deps.locked_git:
            return "git", list(deps.locked_git)
        native = sorted(deps.install_scripts | (deps.locked & (NODE_NATIVE | NODE_NEEDS_FULL)))
        return ("native", native) if native else ("none", [])
    if deps is None:
        return "unknown", []
    git = [n for n, v in deps.production.items() if isinstance(v, str) and v.startswith(_GIT)]
    if git:
        return "git", git
    native = sorted(n for n in deps.production if n in NODE_NATIVE | NODE_NEEDS_FULL)
    return ("native", native) if native else ("unknown", [])


_GIT = ("git", "github:", "gitlab:", "bitbucket:")


def _ruby_deps(doc: Document, calls: list[Use]) -> tuple[str, list[str]]:
    """'native' for gems known to compile; 'unproven' for other gems (a gem's C extension
    cannot be told from its name); 'none' when nothing is installed."""
    names: set[str] = set()
    for use in calls:
        if use.program == "gem":
            names |= {a for a in use.args if not a.startswith("-") and a != "install"}
            continue
        lock = doc.context.read_text("Gemfile.lock")
        if lock is None:
            return "unknown", []
        names |= set(re.findall(r"^    ([A-Za-z0-9_.\-]+) \(", lock, re.MULTILINE))
    native = sorted(names & RUBY_NATIVE)
    if native:
        return "native", native
    return ("unproven", []) if names else ("none", [])


def install_calls(facts: Facts) -> dict[str, list[Use]]:
    found: dict[str, list[Use]] = {}
    for use in facts.uses:
        ecosystem = MANAGER_PROGRAMS.get(use.program) or (
            "python" if use.program.startswith("pip3.") else None
        )
        if ecosystem not in CHECKED or use.ins.cmd != "run":
            continue
        sub = subcommand(use.program, use.args)
        if use.program == "uv" and sub != "pip":
            sub = "install" if sub in ("sync", "add") else "skip"
        if sub in INSTALL_SUBCOMMANDS or (use.program == "uv" and sub == "pip"):
            found.setdefault(ecosystem, []).append(use)
    return found


def dependency_status(
    doc: Document, ecosystem: str, calls: list[Use], stage: Stage
) -> tuple[str, list[str]]:
    if not doc.context.present:
        return "unknown", []
    if ecosystem == "node":
        return node_deps(doc, stage, calls)
    if ecosystem == "python":
        version = python_version(stage.root_image.tag)
        scope = doc.model.stage_scope(stage, calls[0].ins) if calls else {}
        evidence = install_evidence(
            doc.context,
            [(u.program, u.args) for u in calls],
            version,
            scope,
            doc.model.stage_scope(stage),
        )
        if evidence.status == "unknown" and evidence.why:  # names: why it is unknown
            return evidence.status, [evidence.why]
        return evidence.status, evidence.names
    return _ruby_deps(doc, calls)
