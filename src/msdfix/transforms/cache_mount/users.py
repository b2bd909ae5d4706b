"""Users other than root that come after a RUN as root: what a root-owned mount point does to them.

BuildKit creates a cache mount's target, and every parent it lacks, in the image owned by root
with mode 0755, whatever the RUN does to them (a ``chown`` inside the RUN reaches the mounted
cache, not the image's directory). A user who runs later may have created or owned those
directories in the original (its HOME, GEM_HOME, /tmp/.cache), and a module store the root RUN
filled was readable by that user without writing to it.
"""

from __future__ import annotations

import posixpath

from msdfix.document import Document
from msdfix.ecosystems.accounts import created_account
from msdfix.ecosystems.base import CacheDir
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.base_images import ROOT
from msdfix.model.copies import copy_destination
from msdfix.model.paths import within
from msdfix.model.users import effective_user, is_root, owners
from msdfix.shell.classify import ToolCall, other_user
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import context_script, entry_command
from msdfix.syntax import Instruction
from msdfix.transforms.cache_mount.history import History
from msdfix.transforms.cache_mount.steps import Step, operand_paths, run_dir
from msdfix.transforms.cache_mount.targets import Resolver

ROOT_HOME = "/root"
HOMES = "/home"  # where useradd and adduser put homes (HOME of /etc/default/useradd)


def later_user(doc: Document, stage: Stage, ins: Instruction, in_final_image: bool) -> str | None:
    """A user other than root that runs after ``ins``: a USER of its stage after it or of a
    stage built FROM it (a variable counts: it may name anyone), or the final image's entry
    command switching user (``exec gosu app "$@"``); None when everything after runs as root."""
    for other in stage.instructions:
        if other.start > ins.start and other.cmd == "user" and not is_root(other.args.strip()):
            return f"USER {other.args.strip()} (line {other.start_line})"
    for child in doc.model.descendants(stage):
        for other in child.of("user"):
            if not is_root(other.args.strip()):
                return f"USER {other.args.strip()} (line {other.start_line})"
    final = doc.model.final
    command = entry_command(final) if in_final_image and final is not None else None
    if command is None:
        return None
    texts = [(" ".join(argv), "the start command") for argv in command.argvs]
    for script in command.scripts:
        texts.append((context_script(doc.context, script) or "", script))
    for text, where in texts:
        for cmd in parse_commands(text):
            if other_user(cmd):
                return f"{where} (`{' '.join(cmd.argv[:3])}`)"
    return None


def home_owner(
    doc: Document,
    stage: Stage,
    ins: Instruction,
    scope: dict[str, str],
    target: str,
    in_final_image: bool,
) -> str | None:
    """The non-root user a later USER of the stage, or of a stage built FROM it, switches to
    when ``target`` lies in that user's home (``/home/NAME``, or the HOME the RUN has when it
    is not /root), or the final image's start command that switches user (``runuser -u app``)
    when it lies in that HOME: the mount points BuildKit leaves there are root's, where the
    original had none (pip as root does not cache under a directory root does not own; built
    for real: ``USER ${APP_USER}``, a USER in a stage FROM it and a ``runuser`` entrypoint could
    no longer create ~/.cache/app)."""
    later = [(stage, i) for i in stage.users_after(ins)]
    later += [(child, i) for child in doc.model.descendants(stage) for i in child.of("user")]
    users = [(st, i, i.args.split(":")[0].strip()) for st, i in later]
    users = [(st, i, u) for st, i, u in users if u and not is_root(u)]  # a variable: anyone
    home = scope.get("HOME") or ""
    own = [home] if home.startswith("/") and home != ROOT_HOME else []
    for st, user_ins, user in reversed(users):
        # a user a variable names may own any home under /home
        homes = [f"/home/{user}" if "$" not in user else HOMES, *own]
        if any(within(target, h) for h in homes):
            return _named(doc, st, user_ins, user)
    if any(within(target, h) for h in [HOMES, *own]):
        who = later_user(doc, stage, ins, in_final_image)
        return f"the user of {who}" if who is not None else None
    return None


def _named(doc: Document, stage: Stage, ins: Instruction, user: str) -> str:
    """``user`` as the reasons name it, with a variable's declared value where it has one
    (``USER ${NB_USER}`` after ``ENV NB_USER=jovyan`` is "${NB_USER} (jovyan)")."""
    value = expand(user, doc.model.stage_scope(stage, ins))
    return f"{user} ({value})" if value and "$" not in value and value != user else user


def original_differs(
    steps: list[Step], call: ToolCall, target: str, resolver: Resolver
) -> str | None:
    """How the original RUN leaves the cache directory otherwise than a mount point: without
    one (a flag that turns the cache off, or pip's abbreviation of it, ``--no-cache``), or
    with other owners or modes (a ``chown``/``chmod`` that reaches ``target`` changes the
    mounted cache, not the image's directory); None when the tool leaves it root's, as the
    mount does."""
    flags = call.manager.defeat_flags
    for arg in call.args:
        if arg in flags or (len(arg) >= 8 and any(f.startswith(arg) for f in flags)):
            return f"`{arg}` keeps the original from creating it"
    for step in steps:
        if step.program in _OWNERSHIP and _reaches(step, target, resolver):
            return f"the RUN's `{step.program}` gives the original's to its owner"
    return None


_OWNERSHIP = ("chown", "chmod", "chgrp")


def given_away(history: History, stage: Stage, ins: Instruction, target: str) -> str | None:
    """An earlier instruction of the lineage that may give ``target`` or a directory above it
    to a user other than root: a RUN's ``chown`` (an operand msdfix cannot resolve counts) or
    ``useradd``/``adduser`` creating a home there, a ``COPY --chown``/``ADD --chown`` there,
    or a WORKDIR a non-root USER creates; None when there is none."""
    for current in stage.lineage:
        for other in current.instructions:
            if current is stage and other.start >= ins.start:
                return None
            if _gives(history, current, other, target):
                return f"{other.cmd.upper()} at line {other.start_line}"
    return None


def _gives(history: History, stage: Stage, ins: Instruction, target: str) -> bool:
    model = history.doc.model
    if ins.cmd == "run":
        resolver = history.resolver(stage, ins)
        return any(
            (s.program == "chown" and _to_other(s) and _chowns_above(s, target, resolver))
            or _home_above(s, target)
            or _installs_above(s, target, resolver)
            for s in history.steps(ins) or []
        )
    if ins.cmd in ("copy", "add"):
        if not any(user and not is_root(user) for user, _ in owners(ins)):
            return False
        return _above(copy_destination(model, stage, ins), target)
    if ins.cmd == "workdir":
        user = effective_user(stage, ins)
        if user is not None and is_root(user):
            return False
        path = expand(ins.args.strip(), model.stage_scope(stage, ins))
        base = model.workdirs(stage)[0].get(id(ins), "/")
        return _above(posixpath.join(base, path), target)
    return False


def _chowns_above(step: Step, target: str, resolver: Resolver) -> bool:
    """True when the ``chown`` may change ``target`` or a directory above it."""
    operands = [a for a in step.args if not a.startswith("-")]
    if not any(a.startswith("--reference") for a in step.args):
        operands = operands[1:]  # the owner
    return _any_above(step, operands, target, resolver)


def _any_above(step: Step, operands: list[str], target: str, resolver: Resolver) -> bool:
    """True when a path operand of ``step`` may be ``target`` or a directory above it (an
    operand msdfix cannot expand may be any)."""
    cwd = run_dir(step, resolver)
    for operand in operands:
        paths = operand_paths(operand, resolver, cwd)
        if paths is None or any(_above(p, target) for p in paths):
            return True
    return False


def _installs_above(step: Step, target: str, resolver: Resolver) -> bool:
    """True when ``install -o USER`` (``--owner``) may create ``target`` or a directory above
    it owned by a user other than root (``install -d -o app /srv/app``)."""
    if step.program != "install":
        return False
    owner, operands = _install_words(list(step.args))
    if owner is None or is_root(owner):
        return False
    return _any_above(step, operands, target, resolver)


_INSTALL_VALUES = frozenset(
    "-o --owner -g --group -m --mode -t --target-directory -S --suffix".split()
)


def _install_words(args: list[str]) -> tuple[str | None, list[str]]:
    """The owner ``install`` gives (None: none) and its operands."""
    owner: str | None = None
    operands: list[str] = []
    words = iter(args)
    for word in words:
        if word in _INSTALL_VALUES:
            value = next(words, "")
            owner = value if word in ("-o", "--owner") else owner
        elif word.startswith("--owner="):
            owner = word.split("=", 1)[1]
        elif not word.startswith("-"):
            operands.append(word)
    return owner, operands


def _home_above(step: Step, target: str) -> bool:
    """True when a ``useradd``/``adduser`` may create the user's home at ``target`` or above
    it (``useradd -m -d /opt/app``), owned by that user; a home msdfix cannot tell counts."""
    if step.program not in ("useradd", "adduser"):
        return False
    account = created_account(step.program, list(step.args))
    return account is None or account.home is None or _above(account.home, target)


def _to_other(step: Step) -> bool:
    """A ``chown`` that names an owner other than root (``--reference``: unknown)."""
    operands = [a for a in step.args if not a.startswith("-")]
    if any(a.startswith("--reference") for a in step.args) or not operands:
        return True
    owner = operands[0].replace(".", ":").split(":", 1)[0]
    return owner != "" and not is_root(owner)


def _above(path: str, target: str) -> bool:
    """True when ``path`` is ``target`` or a directory above it, or unknown (a variable)."""
    return "$" in path or within(target, posixpath.normpath(path).rstrip("/") or "/")


def _reaches(step: Step, target: str, resolver: Resolver) -> bool:
    """True when a chown/chmod/chgrp may change ``target``: an operand that is it, or a
    directory above it with ``-R``, or one msdfix cannot resolve."""
    recursive = any(
        a in ("-R", "--recursive") or (a.startswith("-") and not a.startswith("--") and "R" in a)
        for a in step.args
    )
    operands = [a for a in step.args if not a.startswith("-")]
    if not any(a.startswith("--reference") for a in step.args):
        operands = operands[1:]  # the owner or the mode
    cwd = run_dir(step, resolver)
    for operand in operands:
        paths = operand_paths(operand, resolver, cwd)
        if paths is None:
            return True
        for path in paths:
            path = path.rstrip("/") or "/"
            if path == target or (recursive and within(target, path)):
                return True
    return False


def outside_root_home(target: str) -> bool:
    """True when ``target`` is not under root's own home, which no other user can enter."""
    return not within(target, ROOT_HOME)


def other_user_reader(
    history: History, stage: Stage, ins: Instruction, cache: CacheDir, call: ToolCall, target: str
) -> tuple[Instruction, str | None] | None:
    """A later RUN (of the stage or a stage built FROM it) that runs the same tool as a user
    other than root, or one msdfix cannot tell, on the same store ``target`` (or an unknown
    one), with that user (None: unknown)."""
    manager = call.manager

    def reads(run: Instruction) -> bool:
        resolver = history.resolver(stage, run)
        if resolver.user == ROOT:
            return False
        for step in history.steps(run) or []:
            if step.call is None or step.call.manager is not manager:
                continue
            found = resolver.target(cache, step.call)
            if found is None or within(found, target) or within(target, found):
                return True
        return False

    key = f"other-user {manager.id} {target}"
    run = next(history.later_runs(stage, ins, key, reads), None)
    if run is None:
        return None
    return run, history.resolver(stage, run).user
