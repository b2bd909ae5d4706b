"""What reorder-copy reasons about: whole-tree copies, workdirs, install uses, plans."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems.base import Ecosystem
from msdfix.ecosystems.registry import ECOSYSTEMS, MANAGERS
from msdfix.files import is_dir
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.shell.commands import Command
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values, unquote

UNKNOWN = "/<workdir>"  # root of paths relative to a workdir we cannot know
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.@+*?\[\]/-]+$")
KEEP_FLAGS = {"chown", "chmod", "link"}
SYSTEM = set(
    "apt-get apt apk dnf yum microdnf aptitude useradd adduser addgroup groupadd usermod echo true "
    "set locale-gen corepack sleep export".split()
)
PATH_TOOLS = set("rm mkdir chmod chown chgrp ln touch source . curl wget".split())
PIP_VALUE_OPTS = set(
    "--trusted-host --platform --python-version --implementation "
    "--abi --only-binary --no-binary --progress-bar --cache-dir --log --timeout --retries "
    "--upgrade-strategy --config-settings --global-option --install-option --report --python -p "
    "--index-strategy --keyring-provider".split()
)
PIP_PATH_OPTS = set("-t --target --prefix --root --src".split())
# Where pip and uv look for packages (a URL, or a path or file: URL the install reads), and the
# certificates they trust.
INDEX_OPTS = set(
    "-i --index-url --extra-index-url --index --default-index -f --find-links --cert "
    "--client-cert".split()
)
VALUE_OPTS = set(
    "--omit --include --loglevel --registry --cache --network-timeout --mutex --only --with "
    "--without -E --extras --jobs -j --retry --path --group --categories --python --extra "
    "--no-install-package --runtime -r --configuration".split()
)
VERSION_ARGS = {"--version", "-v", "-V", "version", "-version"}
DIR_OPTS = set(
    "--prefix --cwd -C --dir --directory --working-dir -d --manifest-path --gemfile -f --file "
    "--project -pl --projects --project-dir -p".split()
)
MANAGER_ECO = {m: e for e in ECOSYSTEMS for m in e.managers}


class Skip(Exception):
    """Leave this COPY alone; ``reason`` (when set) is shown to the user."""

    def __init__(self, reason: str = "", at: Instruction | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at


@dataclass
class Source:
    """A COPY/ADD of a whole source tree: context dir ``src`` lands at ``dest`` (absolute)."""

    ins: Instruction
    src: str
    dest: str
    flags: str
    dollar: bool
    relative: bool = False


@dataclass(frozen=True)
class Reads:
    """An install that reads a copied path no manifest covers (``what``: the option or
    variable and its value): it cannot move before the whole-tree COPY. ``writes``: it
    installs into the copied tree instead (``pip install -t libs``), where the full COPY
    after the moved install would land on what it installed."""

    what: str
    writes: bool = False


@dataclass
class Use:
    """One command of the anchor RUN that reads dependency manifests."""

    eco: Ecosystem
    command: Command
    args: list[str]
    project: str  # context dir of the project
    dest: str  # absolute dir where the project lands
    files: list[str] = field(default_factory=list)  # explicit manifests (pip -r files)
    build: bool = False  # a build command: needs an added fetch


@dataclass
class Plan:
    manifests: list[tuple[str, str]] = field(default_factory=list)  # (context path, dest dir)
    unsafe: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def join_path(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def manager_of(program: str) -> str | None:
    return next((m.id for m in MANAGERS if program in m.programs), None)


def keyword_case(like: str, word: str) -> str:
    """``word`` in the letter case of the keyword ``like``."""
    if like.islower():
        return word.lower()
    if like.isupper():
        return word.upper()
    return word.capitalize()


def workdirs_of(doc: Document, stage: Stage) -> dict[int, str]:
    """Workdir before each instruction of ``stage`` (paths under UNKNOWN when not knowable)."""
    return doc.model.workdirs(stage, fixed=True, unknown=UNKNOWN)[0]


def whole_tree_copy(doc: Document, stage: Stage, ins: Instruction, workdir: str) -> Source | None:
    """The whole-tree COPY/ADD ``ins``, or None when it is something else."""
    if ins.cmd not in ("copy", "add") or ins.heredocs or ins.flag("from") is not None:
        return None
    try:
        _, values, _ = instruction_values(ins)
    except Exception:
        return None
    if len(values) != 2:
        return None
    scope = doc.model.fixed_scope(stage, ins) if any("$" in v for v in values) else {}
    src, dest = (unquote(expand(v, scope), ins.escape) for v in values)
    if "$" in src or "$" in dest or "://" in src or src.startswith("git@"):
        return None
    src = posixpath.normpath(src).lstrip("/") or "."
    if src.startswith(".."):
        return None
    if src != ".":
        root = doc.context.root
        if (
            not doc.context.present
            or root is None
            or doc.context.is_ignored(src)
            or not is_dir(root / src)
        ):
            return None
    flags = "".join(" " + doc.text[f.start : f.end] for f in ins.flags)
    return Source(
        ins, src, join_path(workdir, dest), flags, "$" in ins.logical, not dest.startswith("/")
    )


def copied_just_before(
    doc: Document, stage: Stage, index: int, plan: Plan, workdirs: dict[int, str]
) -> Instruction | None:
    """The COPY right before the whole-tree COPY at ``index`` when it already brings every
    manifest of ``plan`` to its destination (``COPY go.mod go.sum ./`` then ``COPY . .``):
    the install can run after it, with no second copy of the manifests."""
    if index == 0:
        return None
    prev = stage.instructions[index - 1]
    workdir = workdirs[id(prev)]
    if (
        prev.cmd != "copy"
        or prev.heredocs
        or any(f.name not in ("chown", "link") for f in prev.flags)
        or workdir.startswith(UNKNOWN)
        or "$" in prev.logical
    ):
        return None
    try:
        _, values, _ = instruction_values(prev)
    except Exception:
        return None
    sources = [posixpath.normpath(unquote(v, prev.escape)) for v in values[:-1]]
    dest = unquote(values[-1], prev.escape) if values else ""
    if not sources or any(not SAFE_NAME.match(s) or any(c in s for c in "*?[") for s in sources):
        return None
    target = join_path(workdir, dest)
    as_dir = dest.endswith("/") or dest in (".", "..") or len(sources) > 1
    for path, into in plan.manifests:
        if path.endswith("/") or posixpath.normpath(path) not in sources:
            return None
        if as_dir:
            landed = posixpath.join(target, posixpath.basename(path))
        else:  # ``COPY go.mod ./go.mod``; ``COPY go.mod /src`` may name a directory: unknown
            landed = target
        if landed != join_path(into, posixpath.basename(path)):
            return None
    return prev
