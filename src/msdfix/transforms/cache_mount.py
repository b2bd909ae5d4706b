"""cache-mount: give package-manager RUNs a BuildKit cache mount.

What it does
    Adds ``--mount=type=cache,target=<dir>`` to each RUN that downloads packages with apt-get/apt,
    apk, dnf/yum/microdnf, pip/uv/poetry/pipenv, npm/yarn/pnpm, go, mvn, gradle, cargo,
    bundle/gem, composer or dotnet, with the cache directory the tool really uses for the user
    and environment at that point (USER, HOME, PIP_CACHE_DIR, GOPATH, CARGO_HOME, ...). It removes
    what the mount makes pointless: ``--no-cache-dir``, ``npm cache clean``, ``apt-get clean``,
    ``rm -rf /var/lib/apt/lists/*`` inside a mounted directory. For apt it also turns off the
    base image's ``docker-clean`` hook once per stage so downloaded packages stay in the cache.
Why
    When the install layer has to rerun, packages come from the local cache instead of the
    network, and the caches never end up in the image.
Example
    ``RUN pip install --no-cache-dir -r requirements.txt`` becomes
    ``RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt``.
Fix safety
    Safe: a cache mount only changes where downloads are kept, and BuildKit (Docker 23+, buildx,
    Podman/Buildah) supports it without a ``# syntax=`` line. Unsafe (with the reason shown) when
    the cache is the dependency store (Go modules, Maven, Gradle, Cargo, NuGet) and a later step
    of the same stage runs a program we cannot see into, which might need it in the image.
    Left alone: Windows images, non-root users whose home or uid is unknown, exec-form RUNs that
    are not a package manager, targets already mounted.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Fix
from msdfix.knowledge.package_managers import (
    IMAGE_ENV,
    IMAGE_USERS,
    MANAGERS,
    NON_ROOT_IMAGES,
    CacheDir,
    PackageManager,
)
from msdfix.model import Stage
from msdfix.model.paths import within
from msdfix.shell.classify import ToolCall, program_args, tool_calls
from msdfix.shell.commands import parse_commands
from msdfix.shell.edit import command_removal, word_removal
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.transforms.base import Transform, register

# Debian/Ubuntu images delete downloaded .debs after each install (apt.conf.d/docker-clean);
# turn that off so the /var/cache/apt mount keeps them (Docker's documented recipe).
DOCKER_CLEAN = (
    "rm -f /etc/apt/apt.conf.d/docker-clean",
    "echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache",
)
_MANAGER_WORDS = re.compile(
    "|".join(
        sorted(
            {re.escape(p.lstrip("./")) for m in MANAGERS for p in m.programs}, key=len, reverse=True
        )
    )
)
_CLEANERS = {"rm", "sudo", "env"} | {
    p.rsplit("/", 1)[-1] for m in MANAGERS for c in m.clean_commands for p in c[:1]
}
ROOT_USERS = {"root", "0", "0:0", "root:root", "root:0", "0:root"}
# Programs a later RUN may run that never read a dependency store.
HARMLESS = {
    "apt-get", "apt", "apk", "dnf", "yum", "microdnf", "rm", "mkdir", "cp", "mv", "chmod", "chown",
    "chgrp", "ln", "echo", "printf", "useradd", "adduser", "addgroup", "groupadd", "usermod", "ls",
    "cat", "sed", "touch", "tar", "unzip", "gzip", "curl", "wget", "true", "set", "export", "cd",
    "test", "[", "pip", "pip3", "npm", "yarn", "pnpm", "find", "strip", "upx", "setcap", "update-ca-certificates",
    "locale-gen", "ldconfig", "git", "tee", "grep", "id", "whoami", "date", "sh", "bash",
}  # fmt: skip


@dataclass
class _Mount:
    target: str
    locked: bool
    store: bool
    manager: PackageManager
    uid: str | None = None


@dataclass
class _Plan:
    mounts: list[_Mount] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsafe_reason: str | None = None


def _mount_targets(ins: Instruction) -> list[str]:
    targets = []
    for flag in ins.flags_named("mount"):
        for option in (flag.value or "").split(","):
            key, _, value = option.partition("=")
            if key.strip().lower() in ("target", "dst", "destination"):
                targets.append(posixpath.normpath(value.strip().strip("\"'")))
    return targets


def _user(stage: Stage, ins: Instruction) -> str | None:
    """The effective user before ``ins``: 'root', a USER value, or None when unknown."""
    chain = []
    current: Stage | None = stage
    while current is not None:
        chain.append(current)
        current = current.parent
    root_image = chain[-1].image.raw
    user: str | None = None if root_image.startswith(NON_ROOT_IMAGES) else "root"
    for st in reversed(chain):
        for other in st.instructions:
            if other is ins:
                break
            if other.cmd == "user":
                user = other.args.strip()
    return "root" if user in ROOT_USERS else user


def _root_image_name(stage: Stage) -> str:
    while stage.parent is not None:
        stage = stage.parent
    return stage.image.name


def _berry(doc: Document) -> bool:
    ctx = doc.context
    if ctx.exists(".yarnrc.yml"):
        return True
    package = ctx.read_json("package.json")
    manager = package.get("packageManager", "") if isinstance(package, dict) else ""
    return isinstance(manager, str) and bool(re.match(r"yarn@[2-9]", manager))


class _Resolver:
    """Cache directories for one RUN, from its stage's user and environment."""

    def __init__(self, doc: Document, stage: Stage, ins: Instruction) -> None:
        self.scope = {k: v for k, v in doc.model.stage_scope(stage, ins).items() if v is not None}
        image = _root_image_name(stage)
        self.image_env = IMAGE_ENV.get(image, {})
        self.user = _user(stage, ins)
        home = self.scope.get("HOME")
        self.uid: str | None = None
        known = IMAGE_USERS.get(image, {}).get(self.user or "")
        if self.user == "root":
            self.home: str | None = home or "/root"
        elif known is not None:  # e.g. USER node in the node images: uid 1000, /home/node
            self.uid, self.home = known[0], home or known[1]
        elif self.user and re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", self.user) and home:
            self.home, self.uid = home, self.user
        else:
            self.home = None

    def target(self, cache: CacheDir, call: ToolCall) -> str | None:
        for var, suffix in cache.env:
            value = (
                call.command.assignments.get(var) or self.scope.get(var) or self.image_env.get(var)
            )
            if value:
                return None if "$" in value else posixpath.normpath(value + suffix)
        explicit = _explicit_dir(call)
        if explicit is not None and cache is call.manager.caches[0]:
            return explicit
        if not cache.path:
            return None
        if cache.path.startswith("~"):
            return None if self.home is None else posixpath.normpath(self.home + cache.path[1:])
        if self.user != "root":
            return None
        return cache.path


def _explicit_dir(call: ToolCall) -> str | None:
    """A cache directory given on the command line (``--cache-dir``, ``-Dmaven.repo.local``)."""
    args = call.args
    for i, arg in enumerate(args):
        if call.manager.id == "maven" and arg.startswith("-Dmaven.repo.local="):
            return arg.split("=", 1)[1]
        if call.manager.id in ("pip", "uv") and arg == "--cache-dir" and i + 1 < len(args):
            return args[i + 1]
        if call.manager.id in ("pip", "uv") and arg.startswith("--cache-dir="):
            return arg.split("=", 1)[1]
    return None


def _runtime_prefixes(doc: Document) -> list[list[str]]:
    """argv of the final stage's CMD and ENTRYPOINT commands."""
    final = doc.model.final
    found: list[list[str]] = []
    if final is None:
        return found
    for ins in final.of("cmd", "entrypoint"):
        argv = ins.json_args()
        if argv is not None:
            found.append([a.rsplit("/", 1)[-1] if not a.startswith("./") else a for a in argv])
        else:
            found += [[program_args(c)[0], *program_args(c)[1]] for c in parse_commands(ins.args)]
    return found


def _in_final_chain(doc: Document, stage: Stage) -> bool:
    current = doc.model.final
    while current is not None:
        if current is stage:
            return True
        current = current.parent
    return False


@register
class CacheMount(Transform):
    id = "cache-mount"
    title = "Cache package downloads with RUN --mount=type=cache"
    order = 30

    def check(self, doc: Document) -> Iterable[Fix]:
        if doc.is_windows:
            return
        berry = _berry(doc)
        runtime = _runtime_prefixes(doc)
        for stage in doc.model.stages:
            clean_added = any(
                "docker-clean" in doc.text[i.start : i.end] for i in _stage_chain_runs(stage)
            )
            runs = stage.of("run")
            for position, ins in enumerate(runs):
                if not _MANAGER_WORDS.search(ins.logical) and not ins.heredocs:
                    continue
                script = run_script(ins, doc.text)
                if script is None:
                    continue
                calls = tool_calls(script.commands, berry)
                if not calls:
                    continue
                plan = self._plan(doc, stage, ins, script, calls, runtime, runs[position + 1 :])
                if not plan.mounts and not plan.edits:
                    if plan.notes:  # explain why this package-manager RUN is left alone
                        yield doc.fix(self.id, ins, "; ".join(plan.notes), [])
                    continue
                edits = list(plan.edits)
                needs_apt = any(m.target == "/var/cache/apt" for m in plan.mounts)
                prefix = ""
                if needs_apt and not clean_added and script.editable:
                    clean_added = True
                    plan.notes.append("keep downloaded .debs (docker-clean off)")
                    if script.heredoc_start is None:
                        joiner = f" {doc.dockerfile.escape}{doc.newline}    && "
                        prefix = joiner.join(DOCKER_CLEAN) + joiner
                    else:
                        edits.append(_heredoc_prefix(doc, script))
                if plan.mounts:
                    at = ins.physical(ins.args_start)
                    edits.append(Edit(at, at, _flags_text(doc, ins, plan.mounts) + prefix))
                applicability = Applicability.UNSAFE if plan.unsafe_reason else Applicability.SAFE
                yield doc.fix(self.id, ins, _message(plan), edits, applicability)

    def _plan(
        self,
        doc: Document,
        stage: Stage,
        ins: Instruction,
        script: RunScript,
        calls: list[ToolCall],
        runtime: list[list[str]],
        later: list[Instruction],
    ) -> _Plan:
        plan = _Plan()
        resolver = _Resolver(doc, stage, ins)
        existing = _mount_targets(ins)
        mounted: list[str] = list(existing)
        final_chain = _in_final_chain(doc, stage)
        managers_seen: list[PackageManager] = []
        for call in calls:
            manager = call.manager
            if manager in managers_seen:
                continue
            managers_seen.append(manager)
            if manager.id == "pip" and (
                "PIP_NO_CACHE_DIR" in resolver.scope
                or "PIP_NO_CACHE_DIR" in call.command.assignments
            ):
                continue
            if manager.keeps_cleanup and any(
                _pointless(c, _manager_targets(resolver, call), [manager]) for c in script.commands
            ):
                plan.notes.append(
                    f"{manager.id}: the RUN empties its cache, so a mount keeps nothing"
                )
                continue
            if final_chain and any(
                p[: len(r)] == list(r) for p in runtime for r in manager.runtime_users
            ):
                plan.notes.append(
                    f"{manager.id} runs at container start, so its cache stays in the image"
                )
                continue
            for cache in manager.caches:
                target = resolver.target(cache, call)
                if target is None or not target.startswith("/") or target == "/":
                    continue
                if any(within(target, m) or within(m, target) for m in mounted):
                    continue
                if cache.store:
                    blocker = _store_blocker(later, manager)
                    if blocker is not None:
                        plan.unsafe_reason = (
                            f"RUN at line {blocker.start_line} may need {target} in the image"
                        )
                mounted.append(target)
                plan.mounts.append(_Mount(target, cache.locked, cache.store, manager, resolver.uid))
        if not script.editable:
            return plan
        removed: list[str] = []
        replaced: list[str] = []
        for call in calls:
            if not any(within(t, m) for m in mounted for t in _manager_targets(resolver, call)):
                continue
            for word in call.command.words[1:]:
                replacement = call.manager.replace_flags.get(word.value)
                if word.value in call.manager.defeat_flags:
                    span = word_removal(script, call.command, word)
                    if span:
                        plan.edits.append(Edit(*span, ""))
                        removed.append(word.value)
                elif replacement and script.contiguous(word.start, word.end):
                    plan.edits.append(
                        Edit(
                            script.physical(word.start),
                            script.physical(word.end - 1) + 1,
                            replacement,
                        )
                    )
                    replaced.append(f"`{word.value}` with `{replacement}`")
        kept = [t for c in calls if c.manager.keeps_cleanup for t in _manager_targets(resolver, c)]
        removable = [m for m in mounted if not any(within(m, k) or within(k, m) for k in kept)]
        cleaners = [c.manager for c in calls if not c.manager.keeps_cleanup]
        for index, command in enumerate(script.commands):
            if command.name not in _CLEANERS:
                continue
            if _pointless(command, removable, cleaners):
                span = command_removal(script, index)
                if span and not any(e.start < span[1] and span[0] < e.end for e in plan.edits):
                    plan.edits.append(Edit(*span, ""))
                    removed.append(" ".join(command.argv))
        if removed:
            plan.notes.append("dropped " + ", ".join(f"`{r}`" for r in removed))
        if replaced:
            plan.notes.append("replaced " + ", ".join(replaced))
        return plan


def _heredoc_prefix(doc: Document, script: RunScript) -> Edit:
    """Insert the docker-clean lines at the top of a heredoc script (after a shebang)."""
    assert script.heredoc_start is not None
    at = script.heredoc_start
    offset = 0
    for line in script.text.splitlines(keepends=True):  # after a shebang and `set -e` lines
        if not (line.startswith("#!") or line.lstrip().startswith("set ")):
            break
        offset += len(line)
    at += offset
    lines = "".join(f"{line}{doc.newline}" for line in DOCKER_CLEAN)
    return Edit(at, at, lines)


def _stage_chain_runs(stage: Stage) -> list[Instruction]:
    runs = []
    current: Stage | None = stage
    while current is not None:
        runs += current.of("run")
        current = current.parent
    return runs


def _manager_targets(resolver: _Resolver, call: ToolCall) -> list[str]:
    return [t for c in call.manager.caches if (t := resolver.target(c, call))]


def _pointless(command, mounted: list[str], managers: list[PackageManager]) -> bool:  # type: ignore[no-untyped-def]
    """A cleanup command that only empties directories now on a cache mount."""
    argv = command.argv
    program, args = program_args(command)
    if program == "rm":
        paths = [a for a in args if not a.startswith("-")]
        return bool(paths) and all(
            any(within(posixpath.normpath(p.rstrip("*")) or "/", m) for m in mounted) for p in paths
        )
    for manager in managers:
        for prefix in manager.clean_commands:
            if [program, *args][: len(prefix)] == list(prefix) or argv[: len(prefix)] == list(
                prefix
            ):
                return True
    return False


def _store_blocker(later: list[Instruction], manager: PackageManager) -> Instruction | None:
    """A later RUN that might read the dependency store without getting the mount."""
    for ins in later:
        script = run_script(ins)
        if script is None:
            continue
        for command in script.commands:
            program, _ = program_args(command)
            if program in manager.programs or program in HARMLESS or not program:
                continue
            return ins
    return None


def _flags_text(doc: Document, ins: Instruction, mounts: list[_Mount]) -> str:
    parts = []
    for mount in mounts:
        text = f"--mount=type=cache,target={mount.target}"
        if mount.locked:
            text += ",sharing=locked"
        if mount.uid:
            uid, _, gid = mount.uid.partition(":")
            text += f",uid={uid},gid={gid or uid}"
        parts.append(text)
    if len(parts) == 1:
        return parts[0] + " "
    escape = doc.dockerfile.escape
    joiner = f" {escape}{doc.newline}    "
    return joiner.join(parts) + joiner


def _message(plan: _Plan) -> str:
    managers = sorted({m.manager.id for m in plan.mounts})
    if plan.mounts:
        targets = ", ".join(m.target for m in plan.mounts)
        text = f"cache {'/'.join(managers)} downloads in {targets}"
    else:
        text = "cleanup is pointless on a cache mount"
    if plan.notes:
        text += "; " + "; ".join(plan.notes)
    if plan.unsafe_reason:
        text += f" (unsafe: {plan.unsafe_reason})"
    return text
