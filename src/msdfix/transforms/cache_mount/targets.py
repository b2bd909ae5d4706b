"""Where a package manager's cache lives for one RUN: its user, HOME and environment."""

from __future__ import annotations

import posixpath
import re
from functools import cached_property, lru_cache

from msdfix.document import Document
from msdfix.ecosystems.accounts import Account, created_account
from msdfix.ecosystems.base import CacheDir
from msdfix.ecosystems.registry import IMAGE_ENV, IMAGE_USERS
from msdfix.model import Stage
from msdfix.model.base_images import DEFAULT_WORKDIRS, ROOT, default_user, library_name
from msdfix.model.image import ImageRef, parse_image
from msdfix.model.users import effective_user
from msdfix.shell.classify import ToolCall, program_args
from msdfix.shell.commands import surely_runs
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction

_NAME = re.compile(r"\w+")
_BEFORE_NAME = re.compile(r"[\w$]")  # before an assigned name: ``$NAME=`` and ``XNAME=`` are not
# Variables that hold a list of directories: the tool uses the first entry.
PATH_LISTS = {"GOPATH"}


class Resolver:
    """Cache directories for one RUN, from its stage's user and environment."""

    def __init__(self, doc: Document, stage: Stage, ins: Instruction) -> None:
        scope, fixed = doc.model.scopes(stage, ins)
        self.scope = {k: v for k, v in scope.items() if v is not None}
        self.run_text = ins.logical  # ``export PIP_CACHE_DIR=...`` in the RUN itself
        self._assigned: dict[str, bool] = {}  # name -> whether run_text assigns it
        # What ``--build-arg`` may set (an ARG, with or without a default, or an ENV made from
        # one): a cache directory worked out from it is unknown, spelt as the variable.
        for name, value in fixed.items():
            if value is None:
                self.scope[name] = f"${{{name}}}"
        image = stage.root_image.name
        self.image_env = IMAGE_ENV.get(image, {})
        # Only images known to start as root are known not to set HOME or a cache variable
        # (jupyter's images, root after ``USER root``, keep HOME=/home/jovyan).
        self.env_known = _starts_as_root(stage.root_image)
        self.image = stage.root_image.raw
        self._where = (doc, stage, ins)
        self.user = effective_user(stage, ins)
        home = self.scope.get("HOME")
        self.uid: str | None = None
        known = IMAGE_USERS.get(image, {}).get(self.user or "")
        if known is not None and _accounts_changed(stage, ins):
            known = None  # usermod -u 1001 node: the image's table no longer holds
        if self.user == ROOT:
            self.home: str | None = home or self._root_home()
        elif known is not None:  # e.g. USER node in the node images: uid 1000, /home/node
            self.uid, self.home = known[0], home or known[1]
        elif self.user and re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", self.user):
            self.home, self.uid = home, self.user  # a numeric user's home only from HOME
        elif self.user and (account := created_here(stage, ins, self.user)) is not None:
            self.uid, self.home = account.uid, home or account.home  # useradd -m -u 1001 app
        else:
            self.home = None

    @cached_property
    def values_text(self) -> str:
        """Every scope value joined: a substring of one value is a substring of this."""
        return "\0".join(self.scope.values())

    @cached_property
    def workdir(self) -> str | None:
        """The RUN's directory, for relative paths (None: a build argument may change it)."""
        doc, stage, ins = self._where
        workdir = doc.model.workdirs(stage, fixed=True, unknown="\0")[0].get(id(ins)) or ""
        if workdir.startswith("\0") and not workdir[1:2].isdigit() and self.env_known:
            # relative to the root image's own: known for the images known to start as root
            default = DEFAULT_WORKDIRS.get(stage.root_image.full_name, "/")
            workdir = posixpath.normpath(default + "/" + workdir[1:])
        return workdir if workdir and "\0" not in workdir else None

    def as_root(self) -> None:
        """The RUN runs as root, as a command only root can run shows (the base image's user
        was unknown)."""
        self.user, self.home = ROOT, self.scope.get("HOME") or self._root_home()

    def _root_home(self) -> str | None:
        """root's HOME when the Dockerfile sets none: /root, unless the image may set it."""
        return "/root" if self.env_known else None

    def variable(self, name: str, call: ToolCall | None = None) -> str | None:
        """A variable's value for the call (command-line assignment, ENV/ARG, image ENV)."""
        value = (
            (call.command.assignments.get(name) if call else None)
            or self.scope.get(name)
            or self.image_env.get(name)
        )
        if value and name in PATH_LISTS:
            value = value.split(":")[0]
        return value or None

    def target(self, cache: CacheDir, call: ToolCall) -> str | None:
        """The absolute cache directory, or None when it cannot be known."""
        explicit = explicit_dir(call)  # a command-line option beats the environment
        if explicit is not None and cache is call.manager.caches[0]:
            return explicit
        if self.set_in_run(cache, call):
            return None  # the RUN sets it itself (export, env VAR=x, set -a): unknown
        for var, suffix in cache.env:
            value = self.variable(var, call)
            if value:
                return None if "$" in value else posixpath.normpath(value + suffix)
            if not self.env_known:
                return None  # the base image may set it
        if not cache.path:
            return None
        if cache.path.startswith("~"):
            home = call.command.assignments.get("HOME") or self.home  # HOME=/tmp pip install
            if home is None or "$" in home:
                return None
            return posixpath.normpath(home + cache.path[1:])
        if not call.manager.system and self.user != ROOT:
            return None  # e.g. yarn's /usr/local/share/.cache/yarn is root's cache only
        return cache.path

    def from_argument(self, cache: CacheDir) -> str | None:
        """The variable of the cache's location that ``--build-arg`` may set, or None."""
        names = ["HOME"] * cache.path.startswith("~") + [v for v, _ in cache.env]
        return next((n for n in names if self.scope.get(n) == f"${{{n}}}"), None)

    def set_in_run(self, cache: CacheDir, call: ToolCall) -> str | None:
        """The variable of the cache's location the RUN sets itself outside the tool's own
        prefix (``export PIP_CACHE_DIR=/opt/pip``, ``env HOME=/x pip``), or ``set -a`` when
        it may set any; None when it sets none."""
        names = [v for v, _ in cache.env] + ["HOME"] * cache.path.startswith("~")
        if names and self._sets_all:
            return "set -a"
        commands = call.command.assignments
        return next((v for v in names if v not in commands and self._assigns(v)), None)

    @cached_property
    def _sets_all(self) -> bool:
        """The RUN may set any variable (``set -a``, a sourced file): read once per RUN."""
        return sets_all(self.run_text)

    def _assigns(self, name: str) -> bool:
        """Whether the RUN's text assigns ``name`` (``NAME=``, not ``$NAME=`` or ``XNAME=``),
        read once per name: a search of the whole text per tool call was quadratic in a RUN
        of thousands of calls (a regex listing every assignment cost 60 µs a RUN)."""
        found = self._assigned.get(name)
        if found is None:
            found = self._assigned[name] = _assigns(self.run_text, name)
        return found

    def targets(self, call: ToolCall) -> list[str]:
        """Every cache directory of the call's manager that can be known."""
        return [t for c in call.manager.caches if (t := self.target(c, call))]


def _assigns(text: str, name: str) -> bool:
    r"""``text`` holds ``name=`` where no word character or ``$`` comes before the name, as
    ``(?<![\w$])(\w+)=`` finds it; ``str.find`` skips the offsets such a regex tries."""
    if not _NAME.fullmatch(name):
        return False  # the regex's names are word characters only
    key = name + "="
    at = text.find(key)
    while at >= 0:
        if at == 0 or _BEFORE_NAME.match(text, at - 1) is None:
            return True
        at = text.find(key, at + 1)
    return False


@lru_cache(maxsize=256)  # a fact of the reference alone, asked for every RUN
def _starts_as_root(image: ImageRef) -> bool:
    """The image is known to start as root; an official image's tag may be a variable
    (``python:$VERSION``): every tag of it starts as root with the same environment."""
    if default_user(image) == ROOT:
        return True
    untagged = parse_image(image.raw.split("@")[0].rsplit(":", 1)[0]) if image.tag else None
    return (
        untagged is not None
        and "$" not in untagged.raw
        and library_name(untagged) is not None
        and default_user(untagged) == ROOT
    )


# ``set -a`` (every assignment exported) or a sourced file: the RUN's environment is unknown.
# ``\bset\s+-\w*a|(?:^|[;&|(]\s*)(?:\.|source)\s+\S`` as three searches (``sets_all``): that
# one regex tried both alternatives at every offset (3.5x slower on the corpus's RUNs).
_SET_A = re.compile(r"\bset\s+-\w*a")
_SOURCED = re.compile(r"[;&|(]\s*(?:\.|source)\s+\S")
_SOURCED_FIRST = re.compile(r"(?:\.|source)\s+\S")  # at the start of the text


def sets_all(text: str) -> bool:
    """``text`` runs ``set -a`` (``set -ea``) or sources a file (``. ./env``, ``&& source x``)."""
    return (
        ("set" in text and _SET_A.search(text) is not None)
        or _SOURCED_FIRST.match(text) is not None
        or _SOURCED.search(text) is not None
    )


# Commands and files that change an account the image defines (its uid, group or home).
_ACCOUNTS = re.compile(
    r"\b(?:usermod|groupmod|userdel|groupdel|deluser|delgroup)\b|/etc/(?:passwd|group)\b"
)


def _accounts_changed(stage: Stage, ins: Instruction) -> bool:
    """Whether a RUN of the lineage before ``ins`` may change an image account."""
    first = _first_account_change(stage)
    return first is not None and first < ins.start


def _first_account_change(stage: Stage) -> int | None:
    """Where the first RUN of ``stage`` that may change an image account starts (-1: one of
    an earlier stage of its lineage may; None: none may), worked out once per stage: each
    RUN's resolver asks, and reading the lineage's RUNs per question was quadratic."""
    if "_account_change" not in stage.__dict__:
        parent = stage.parent
        first: int | None = -1
        if parent is None or _first_account_change(parent) is None:
            runs = stage.of("run")
            first = next((r.start for r in runs if _ACCOUNTS.search(r.logical)), None)
        stage.__dict__["_account_change"] = first
    found: int | None = stage.__dict__["_account_change"]
    return found


def created_here(stage: Stage, ins: Instruction, user: str) -> Account | None:
    """The account named ``user`` (``app`` or ``app:app``) that one RUN of the lineage before
    ``ins`` creates in a command that always runs, where no RUN may change an account: the
    base image has no account of that name (the command would fail, and the original with
    it), so the account's home and uid are the command's."""
    name, _, group = user.partition(":")
    if group not in ("", name) or _accounts_changed(stage, ins):
        return None
    found: list[tuple[Account, bool]] = []
    for st in stage.lineage:
        for run in st.of("run"):
            if st is stage and run.start >= ins.start:
                break
            if name not in run.logical:
                continue
            script = run_script(run)
            commands = script.commands if script is not None else []
            for at, command in enumerate(commands):
                account = created_account(*program_args(command))
                if account is not None and account.name == name:
                    found.append((account, surely_runs(commands, at)))
    if len(found) != 1 or not found[0][1]:
        return None
    return found[0][0]


def explicit_dir(call: ToolCall) -> str | None:
    """A cache directory given on the command line (``--cache-dir``, ``-Dmaven.repo.local``)."""
    args = call.args
    for i, arg in enumerate(args):
        for option in call.manager.cache_options:
            if arg == option and i + 1 < len(args) and option.startswith("--"):
                return args[i + 1]
            if arg.startswith(option + "="):
                return arg.split("=", 1)[1]
    return None
