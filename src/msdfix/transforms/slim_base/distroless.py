"""slim-base: a final stage that only runs a copied Go binary, on distroless/static."""

from __future__ import annotations

import posixpath

from msdfix.document import Document
from msdfix.ecosystems.accounts import account_change, uid_change
from msdfix.ecosystems.go import unseen_go_modules
from msdfix.ecosystems.images import (
    DISTROLESS_GIDS,
    DISTROLESS_GROUPS,
    DISTROLESS_NONROOT,
    DISTROLESS_STATIC,
    DISTROLESS_USERS,
    SYSTEM_ID_LIMIT,
    Target,
)
from msdfix.ecosystems.os import STANDARD_PATH
from msdfix.files import decimal
from msdfix.model import Stage
from msdfix.model.base_images import DEFAULT_WORKDIR_MODES, DEFAULT_WORKDIRS
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.model.platforms import image_runs
from msdfix.model.program_calls import source_text
from msdfix.model.users import is_root, owners
from msdfix.shell.classify import program_args
from msdfix.shell.commands import parse_commands
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.build_paths import copies_go_work, workdirs
from msdfix.transforms.slim_base.variants import Candidate, Planner, where

COPY_ONLY = {
    "copy", "add", "env", "expose", "label", "user", "workdir", "entrypoint", "cmd", "arg",
    "volume", "stopsignal", "healthcheck", "maintainer",
}  # fmt: skip


def _modules(names: list[str]) -> str:
    return names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")


def _system_id(value: str, known: frozenset[str]) -> str | None:
    """A numeric uid/gid in the system range that distroless does not define, or None."""
    if value.isdigit() and decimal(value) < SYSTEM_ID_LIMIT and value not in known:
        return value
    return None


def _keyword(like: str, word: str) -> str:
    """``word`` in the letter case of the keyword ``like``."""
    return word.lower() if like.islower() else word


def _go_entry(doc: Document, stage: Stage) -> tuple[Stage, Instruction] | None:
    """(source stage, go build RUN) when the entry program is a Go binary COPY'd in."""
    entrypoint, cmd = stage.entry()
    entry = entrypoint or cmd
    argv = entry.json_args() if entry is not None else None
    if entry is not None and argv is None:
        commands = parse_commands(entry.args)
        argv = commands[0].argv if commands else None
    if not argv:
        return None
    workdir = "/"
    program = argv[0]
    for ins in stage.instructions:
        if ins.cmd == "workdir":
            workdir = posixpath.join(workdir, instruction_values(ins)[1][0])
        if ins.cmd != "copy" or not ins.flag("from"):
            continue
        source = doc.model.stage(ins.flag("from").value or "")  # type: ignore[union-attr]
        values = instruction_values(ins)[1]
        if source is None or len(values) < 2:
            continue
        dest = posixpath.join(workdir, values[-1])
        targets = [posixpath.join(dest, posixpath.basename(s.rstrip("/"))) for s in values[:-1]]
        if len(values) == 2 and not values[-1].endswith("/"):
            targets.append(dest)
        wanted = posixpath.normpath(posixpath.join(workdir, program)) if "/" in program else None
        for path in targets:
            path = posixpath.normpath(path)
            hit = (
                path == wanted
                if wanted
                else (
                    posixpath.basename(path) == program and posixpath.dirname(path) in STANDARD_PATH
                )
            )
            if hit:
                build = _go_build(doc, source)
                return (source, build) if build is not None else None
    return None


def _go_build(doc: Document, stage: Stage) -> Instruction | None:
    for current in reversed(stage.lineage):  # the stage first, then what it is built FROM
        for ins in current.of("run"):
            script = run_script(ins, doc.text)
            if script and any(
                program_args(c)[0] == "go" and program_args(c)[1][:1] == ["build"]
                for c in script.commands
            ):
                return ins
    return None


def _static(doc: Document, stage: Stage, run: Instruction) -> bool:
    scope = doc.model.stage_scope(stage, run)
    if scope.get("CGO_ENABLED") == "0":
        return True
    script = run_script(run, doc.text)
    for command in script.commands if script else []:
        if command.assignments.get("CGO_ENABLED") == "0" or "CGO_ENABLED=0" in command.argv[:2]:
            return True
    return False


def _uses_exec(doc: Document) -> bool | str | None:
    """True when a Go source imports os/exec; None when there are no Go sources to read; why
    not known when one cannot be read (a generated 1.1 MiB main.go had read as empty, so its
    ``exec.Command`` let distroless be safe)."""
    files = doc.context.view.memo(
        "go files", lambda: [f for f in doc.context.files if f.endswith(".go")]
    )
    if not files:
        return None
    for rel in files:
        try:
            text = source_text(doc.context, rel)
        except Unreadable as exc:  # unread is not "runs nothing"
            return f"{exc}, so whether the program runs commands distroless lacks is unknown"
        if '"os/exec"' in text or "syscall.Exec" in text:
            return True
    return False


def _in_default(stage: Stage, users: list[str], default: str) -> bool:
    """The program may write into the image's default WORKDIR (a user other than root) or a
    COPY puts files there: its owner and mode then matter (as split-stages' rule)."""
    if users and not is_root(users[-1]):
        return True
    dests = [(instruction_values(i)[1] or [""])[-1] for i in stage.of("copy", "add")]
    return any(not d.startswith("/") or within(posixpath.normpath(d), default) for d in dests)


def distroless_candidate(doc: Document, stage: Stage, planner: Planner) -> Candidate | None:
    found = _go_entry(doc, stage)
    if found is None:
        return None
    source, run = found
    # Tagged, so hadolint has nothing to say (untagged is DL3006, latest DL3007), and as
    # split-stages does: a program that runs as nonroot/65532 gets :nonroot (whose WORKDIR is
    # /home/nonroot: WORKDIR / keeps the original's), any other :debug (root, plus busybox) with
    # ENTRYPOINT [] so its /busybox/sh entrypoint does not wrap the command.
    users = [i.args.strip() for i in stage.of("user")]
    like = stage.from_.keyword
    default = DEFAULT_WORKDIRS.get(stage.image.full_name, "/")
    relies = not any(w.args.strip().startswith("/") for w in stage.of("workdir"))
    if users and users[-1] in DISTROLESS_NONROOT:
        cand = Candidate(Target("nonroot", "distroless", DISTROLESS_STATIC))
        if relies:
            cand.head.append(_keyword(like, "WORKDIR") + f" {default}")
    else:
        cand = Candidate(Target("debug", "distroless", DISTROLESS_STATIC))
        if not stage.of("entrypoint"):
            cand.head.append(_keyword(like, "ENTRYPOINT") + " []")
        if relies and default != "/":
            cand.head.append(_keyword(like, "WORKDIR") + f" {default}")
    mode = DEFAULT_WORKDIR_MODES.get(stage.image.full_name)
    if relies and mode is not None and _in_default(stage, users, default):
        cand.unsafe.append(
            f"{stage.image.raw}'s default WORKDIR {default} is {mode}; distroless's WORKDIR "
            "makes it root's with mode 755"
        )
    composed = next(iter(image_runs(planner.doc.context)), None)
    if composed is not None:  # a compose healthcheck's curl, a command's sh
        cand.unsafe.append(
            f"{composed.said()} runs {composed.runs}, which distroless may not be able to run"
        )
    for ins in stage.instructions:
        if ins.cmd not in COPY_ONLY or any(s is ins for s in planner.facts.shell):
            cand.blocked = f"{where(ins)} needs a shell, which distroless does not have"
            return cand
        if ins.cmd == "healthcheck" and any(u.ins is ins for u in planner.facts.uses):
            cand.blocked = (
                f"the HEALTHCHECK at line {ins.start_line} runs a program distroless may not have"
            )
            return cand
        for name, group in owners(ins):
            if name and not name.isdigit() and name not in DISTROLESS_USERS:
                cand.blocked = f"user {name} (line {ins.start_line}) does not exist in distroless"
                return cand
            if name and not name.isdigit() and not is_root(name):
                # built: alpine's nobody ran with HOME /, distroless's with HOME /nonexistent
                change = account_change(stage.image.raw, DISTROLESS_STATIC, name)
                if change is not None:
                    cand.blocked = f"user {name} (line {ins.start_line}): {change}"
                    return cand
            numeric = ins.cmd == "user" and name is not None and name.isdigit()
            if numeric and (change := uid_change(stage.image.raw, DISTROLESS_STATIC, name)):
                # built: USER 65532 ran on debian:12-slim as gid 0 with HOME /, on distroless
                # as its nonroot
                cand.unsafe.append(f"user {name} (line {ins.start_line}): {change}")
            if group and not group.isdigit() and group not in DISTROLESS_GROUPS:
                cand.blocked = f"group {group} (line {ins.start_line}) does not exist in distroless"
                return cand
            system = _system_id(name, DISTROLESS_USERS) or _system_id(group, DISTROLESS_GIDS)
            if system:
                cand.blocked = (
                    f"id {system} (line {ins.start_line}) may be a system user or group of "
                    f"{stage.image.raw} (Debian's www-data is 33), which distroless does not "
                    "have: its name, home and lookups would change"
                )
                return cand
    if not _static(doc, source, run):
        cand.unsafe.append(
            f"the Go binary may link glibc: set CGO_ENABLED=0 in stage {source.name}"
        )
    else:
        uses_exec = _uses_exec(doc)
        if uses_exec is None:
            cand.unsafe.append(
                "msdfix cannot see the Go sources: the program may run commands the old base had"
            )
        elif isinstance(uses_exec, str):
            cand.unsafe.append(uses_exec)
        elif uses_exec:
            cand.unsafe.append(
                "the Go sources import os/exec: the program may run commands distroless lacks"
            )
        elif unseen := unseen_go_modules(
            doc.context,
            build="\n".join(i.args for s in source.lineage for i in s.of("run", "env", "arg")),
            workspace=copies_go_work(
                doc.model, source, doc.context, {workdirs(doc.model, source).get(id(run), "/")}
            ),
        ):
            cand.unsafe.append(
                f"go.mod requires {_modules(unseen)}, whose code is not in the build context "
                "(not vendored): it may run commands distroless lacks"
            )
    return cand
