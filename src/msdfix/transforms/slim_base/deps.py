"""slim-base: whether the dependencies a stage installs need the full image."""

from __future__ import annotations

import posixpath
import re

from packaging.utils import canonicalize_name

from msdfix.document import Document
from msdfix.ecosystems.images import NODE_NATIVE, PY_NEEDS_FULL, RUBY_NATIVE
from msdfix.ecosystems.node import read_dependencies
from msdfix.ecosystems.python import LOCK_FILES, WHEEL_TOOLS, wheel_evidence
from msdfix.ecosystems.registry import MANAGER_PROGRAMS
from msdfix.model import Stage
from msdfix.transforms.slim_base.facts import Facts, Use

# The ecosystems whose dependency installs slim-base checks against a smaller image.
CHECKED = ("node", "python", "ruby")
INSTALL_SUBCOMMANDS = {"install", "ci", "i", "add", "sync", "update", ""}
_PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-t", "--target", "-i", "--index-url",
    "--extra-index-url", "--prefix", "--root", "-f", "--find-links", "--only-binary",
    "--no-binary", "--cache-dir", "--src", "-e", "--editable",
}  # fmt: skip


def node_deps(doc: Document) -> tuple[str, list[str]]:
    """('none' | 'native' | 'git' | 'unknown', package names) from package-lock / package.json."""
    deps = read_dependencies(doc.context)
    if deps is not None and deps.scripts_known:
        if deps.locked_git:
            return "git", list(deps.locked_git)
        native = sorted(deps.install_scripts | (deps.locked & NODE_NATIVE))
        return ("native", native) if native else ("none", [])
    if deps is None:
        return "unknown", []
    git = [n for n, v in deps.production.items() if isinstance(v, str) and v.startswith(_GIT)]
    if git:
        return "git", git
    native = sorted(n for n in deps.production if n in NODE_NATIVE)
    return ("native", native) if native else ("unknown", [])


_GIT = ("git", "github:", "gitlab:", "bitbucket:")


def _requirements(doc: Document, path: str, depth: int = 0) -> tuple[str, list[str]] | None:
    ctx = doc.context
    rel = path[2:] if path.startswith("./") else path
    text = ctx.read_text(rel) if not rel.startswith("/") else None
    if text is None:
        text = ctx.read_text(posixpath.basename(rel))
    if text is None:
        return None
    native: list[str] = []
    git: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ", "-c ", "--constraint ")) and depth < 3:
            nested = _requirements(
                doc,
                posixpath.join(posixpath.dirname(rel), line.split(None, 1)[1].strip()),
                depth + 1,
            )
            if nested is None:
                return None
            (git if nested[0] == "git" else native).extend(nested[1])
            continue
        if "git+" in line:
            git.append(line)
            continue
        if line.startswith(("-e", ".", "/", "file:")):
            return None
        if line.startswith("-"):
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", line)
        if match and match.group(0).lower().replace("_", "-") in PY_NEEDS_FULL:
            native.append(match.group(0))
    return ("git", git) if git else (("native", native) if native else ("none", []))


def _only_binary(use: Use, scope: dict[str, str | None]) -> bool:
    """pip refuses to build anything: ``--only-binary :all:`` or PIP_ONLY_BINARY=:all:."""
    args = use.args
    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--only-binary=") else None
        if arg == "--only-binary" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None and ":all:" in value.split(","):
            return True
    return ":all:" in (scope.get("PIP_ONLY_BINARY") or "").split(",")


def _python_deps(
    doc: Document, calls: list[Use], version: tuple[int, int] | None, scope: dict[str, str | None]
) -> tuple[str, list[str]]:
    """'none' when the context proves every package installs from a wheel; 'native'/'git'
    when a known package needs the full image; 'unproven' (names that may be built from
    source, or none when no lock file tells) otherwise; 'unknown' when msdfix cannot see."""
    status, names = "none", list[str]()
    for use in calls:
        program = use.program
        sub = next((a for a in use.args if not a.startswith("-")), "")
        if program in LOCK_FILES and sub in ("install", "sync"):
            if version is None:
                return "unknown", []
            evidence = wheel_evidence(doc.context, program, version)
            if not evidence.known:
                return "unknown", []
            if evidence.builds:
                status, names = "unproven", [*names, *evidence.builds]
            continue
        if program not in ("pip", "pip3", "uv") and not program.startswith("pip3."):
            return "unknown", []
        found = _pip_requirements(doc, use)
        if found[0] in ("unknown", "native", "git"):
            return found
        if not (_only_binary(use, scope) or _tools_only(use)) and status == "none":
            status = "unproven"
    return status, names


def _tools_only(use: Use) -> bool:
    """A pip command that installs nothing but packaging tools (they ship wheels)."""
    names = [a for a in use.args if not a.startswith("-") and a not in ("install", "pip")]
    if any(a.startswith(("-r", "--requirement", "-e", "--editable", "-c")) for a in use.args):
        return False
    return bool(names) and all(
        canonicalize_name(re.split(r"[<>=!~\[;]", n, maxsplit=1)[0]) in WHEEL_TOOLS for n in names
    )


def _pip_requirements(doc: Document, use: Use) -> tuple[str, list[str]]:
    """Known blockers among the packages a pip command names ('none' when none is known)."""
    status, names = "none", list[str]()
    args = use.args
    files: list[str] = []
    direct: list[str] = []
    for i, arg in enumerate(args):
        if arg in ("-r", "--requirement") and i + 1 < len(args):
            files.append(args[i + 1])
        elif arg.startswith("-r") and len(arg) > 2:
            files.append(arg[2:])
        elif arg.startswith("--requirement="):
            files.append(arg.split("=", 1)[1])
        elif (
            not arg.startswith("-")
            and arg not in ("install", "pip")
            and (i == 0 or args[i - 1] not in _PIP_VALUE_OPTIONS)
        ):
            direct.append(arg)
    for arg in direct:
        if arg.startswith(("git+", ".", "/")) or "://" in arg:
            return "unknown", []
        if re.split(r"[<>=!~\[;]", arg.lower(), maxsplit=1)[0].replace("_", "-") in PY_NEEDS_FULL:
            status, names = "native", [*names, arg]
    for path in files:
        found = _requirements(doc, path)
        if found is None:
            return "unknown", []
        if found[0] != "none":
            status, names = found[0], [*names, *found[1]]
    return status, names


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
        sub = next((a for a in use.args if not a.startswith("-")), "")
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
        return _python_deps(doc, calls, version, scope)
    return _ruby_deps(doc, calls)


def _python_version(tag: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", tag or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
