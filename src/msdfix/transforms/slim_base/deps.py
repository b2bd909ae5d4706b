"""slim-base: whether the dependencies a stage installs need the full image."""

from __future__ import annotations

import re

from msdfix.document import Document
from msdfix.ecosystems.images import NODE_NATIVE, NODE_NEEDS_FULL, RUBY_NATIVE
from msdfix.ecosystems.node import read_dependencies
from msdfix.ecosystems.python import install_evidence
from msdfix.ecosystems.registry import MANAGER_PROGRAMS, subcommand
from msdfix.model import Stage
from msdfix.transforms.slim_base.facts import Facts, Use

# The ecosystems whose dependency installs slim-base checks against a smaller image.
CHECKED = ("node", "python", "ruby")
INSTALL_SUBCOMMANDS = {"install", "ci", "i", "add", "sync", "update", ""}


def node_deps(doc: Document) -> tuple[str, list[str]]:
    """('none' | 'native' | 'git' | 'unknown', package names) from package-lock / package.json."""
    deps = read_dependencies(doc.context)
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
        return node_deps(doc)
    if ecosystem == "python":
        version = _python_version(stage.root_image.tag)
        scope = doc.model.stage_scope(stage, calls[0].ins) if calls else {}
        evidence = install_evidence(
            doc.context, [(u.program, u.args) for u in calls], version, scope
        )
        return evidence.status, evidence.names
    return _ruby_deps(doc, calls)


def _python_version(tag: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", tag or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
