"""Which cache directories one RUN can mount, and the edits that go with them."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from msdfix.document import Document
from msdfix.ecosystems.base import CacheDir, PackageManager
from msdfix.ecosystems.node.pnpm_lock import may_run_install_scripts
from msdfix.ecosystems.node.yarn import NODE_LINKER_SETTING, plug_n_play
from msdfix.ecosystems.node.yarn_lock import yarn_classic_pins
from msdfix.ecosystems.os import APT_ARCHIVES_MOUNT
from msdfix.ecosystems.python import (
    NO_BINARY_ENV,
    install_evidence,
    python_version,
    requirement_locations,
)
from msdfix.ecosystems.python_builds import NO_BINARY, configured_no_binary, links_into_cache
from msdfix.fixes import Edit
from msdfix.model import BuildContext, Stage
from msdfix.model.base_images import ROOT
from msdfix.model.context import MAX_SCANNED_BYTES
from msdfix.model.copies import (
    archive_destination,
    copy_sources,
    mount_sources,
    unpacks_archive,
)
from msdfix.model.paths import within
from msdfix.shell.classify import (
    ToolCall,
    env_assignments,
    exports,
    other_user,
    runs_as_root_via,
    start_install,
    wrappers,
)
from msdfix.shell.commands import Command, Word
from msdfix.shell.edit import command_removal, word_removal
from msdfix.shell.entry import entry, toolbox
from msdfix.shell.script import RunScript
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import context_files_at, resolve, workdirs
from msdfix.transforms.cache_mount.access import access_mounts, has_mount
from msdfix.transforms.cache_mount.cgo import REASON as CGO_REASON
from msdfix.transforms.cache_mount.cgo import cgo_unproven
from msdfix.transforms.cache_mount.config_dirs import (
    copies_into_config_dir,
    sets_cache_config,
    writes_config,
)
from msdfix.transforms.cache_mount.history import History
from msdfix.transforms.cache_mount.render import Mount, Plan, writable_target
from msdfix.transforms.cache_mount.steps import (
    Step,
    created_dirs,
    expanded,
    find_deletes,
    find_spares,
    glob_hit,
    index_first,
    refreshes_first,
    removed_paths,
    run_dir,
    unresolved,
)
from msdfix.transforms.cache_mount.targets import Resolver, explicit_dir
from msdfix.transforms.cache_mount.users import (
    given_away,
    home_owner,
    later_user,
    original_differs,
    other_user_reader,
    outside_root_home,
)


def plan_run(
    doc: Document,
    history: History,
    stage: Stage,
    ins: Instruction,
    script: RunScript,
    steps: list[Step],
    runtime: list[list[str]],
    in_final_image: bool,
    berry_blocker: str | None,
) -> Plan:
    """Mounts, edits and reasons for one package-manager RUN."""
    planner = _Planner(doc, history, stage, ins, script, steps)
    planner.in_final_image = in_final_image
    plan = planner.plan
    seen: list[PackageManager] = []
    for step in steps:
        call = step.call
        if call is None or call.manager in seen:
            continue
        manager = call.manager
        seen.append(manager)
        if manager.no_mount:
            plan.note(manager.no_mount)
        elif any(
            v in planner.resolver.scope or v in call.command.assignments
            for v in manager.no_cache_env
        ):
            continue
        elif manager.keeps_cleanup and any(
            s.cleans(t, planner.resolver) for s in steps for t in planner.resolver.targets(call)
        ):
            plan.note(f"{manager.id}: the RUN empties its cache, so a mount keeps nothing")
        elif any(start_install(p) in _prefixes(manager) for p in runtime):
            plan.note(f"{manager.id} runs at container start, so its cache stays in the image")
        elif no_network(ins):
            plan.note(
                f"{manager.id} runs offline here (RUN --network=none): it reads its cache from the image"
            )
        elif any(
            runs_offline(manager, c.args, {**planner.resolver.scope, **c.command.assignments})
            for c in _calls_of(steps, manager)
        ):
            plan.note(f"{manager.id} runs offline here: it reads its cache from the image")
        elif _links_into_cache(call, planner.resolver.scope, doc.context):
            plan.note(
                f"{manager.id} links the installed packages into its cache (symlink mode): "
                "on a mount those links would point nowhere"
            )
        elif manager.id == "yarn-berry" and berry_blocker:
            plan.note(berry_blocker)
        elif manager.id == "yarn-berry" and (linker := _linker_set(planner, call)):
            plan.note(
                f"{linker} may make yarn Plug'n'Play, which loads packages from its cache at "
                "run time"
            )
        elif pseudo := next((t for t in planner.resolver.targets(call) if _pseudo(t)), None):
            plan.note(f"{manager.id}: its cache directory is {pseudo}, so it caches nothing")
        else:
            for cache in manager.caches:
                planner.consider(cache, call)
    planner.finish()
    return plan


# Commands that may run before yarn's locked install in its RUN (without a redirect): they
# change neither package.json nor yarn.lock.
_BEFORE_LOCKED = frozenset({"cd", "echo", "printf", "true", "pwd", "ls", "id", "whoami", "uname"})


# A RUN writing yarn 1's configuration (``yarn config set``, a .yarnrc), and yarn's flags
# that keep its lock, which such a RUN's own install may name.
_YARN_CONFIG = re.compile(r"yarnrc|\byarn\s+config\b", re.IGNORECASE)
_FROZEN_FLAG = re.compile(r"--(?:frozen|pure)-lockfile\b")


def _sets_yarn_lockfile(_: Stage, ins: Instruction) -> bool:
    """The RUN writes a lockfile key into yarn's configuration (its own install's
    ``--frozen-lockfile``/``--pure-lockfile`` left out)."""
    text = _FROZEN_FLAG.sub("", ins.logical)
    return _YARN_CONFIG.search(text) is not None and "lockfile" in text.lower()


def _linker_set(planner: _Planner, call: ToolCall) -> str | None:
    """What sets yarn Berry's linker over .yarnrc.yml's for ``call``: the environment's
    ``YARN_NODE_LINKER``, to Plug'n'Play or to a value a build argument may set
    (``plug_n_play``), or a RUN of the lineage up to this one that names the setting
    (built, yarn 4.5.0: ``yarn config set nodeLinker pnp`` or ``echo "nodeLinker: pnp" >>
    .yarnrc.yml`` over ``nodeLinker: node-modules``: Plug'n'Play). None: neither."""
    env = {**planner.resolver.scope, **call.command.assignments}
    if "YARN_NODE_LINKER" in env and plug_n_play(None, env):
        return "YARN_NODE_LINKER"
    found = planner.history.first_before(
        planner.stage,
        planner.ins,
        "names yarn's linker",
        ("run",),
        lambda _, ins: NODE_LINKER_SETTING.search(ins.logical) is not None,
    )
    return f"RUN at line {found.start_line}" if found is not None else None


def _prefixes(manager: PackageManager) -> set[str]:
    """The start commands that read ``manager``'s cache, as ``runtime_install`` names them."""
    return {" ".join(r) for r in manager.runtime_users}


def _calls_of(steps: list[Step], manager: PackageManager) -> list[ToolCall]:
    """Every call of ``manager`` in the RUN, in order (the first is often a refresh)."""
    return [s.call for s in steps if s.call is not None and s.call.manager is manager]


def _pseudo(path: str) -> bool:
    """A path of the kernel's file systems (``COMPOSER_CACHE_DIR=/dev/null``: no cache), which a
    mount would replace: the RUN's container could not start ("open /dev/null: is a directory")."""
    return any(path == top or path.startswith(top + "/") for top in ("/dev", "/proc", "/sys"))


def _links_into_cache(call: ToolCall, scope: dict[str, str], ctx: BuildContext) -> bool:
    """True when the install symlinks packages into the cache (``--link-mode symlink``)."""
    return links_into_cache(call.manager, call.args, call.command.assignments, scope, ctx)


def _unmountable(tool: str, target: str) -> str:
    """Why a cache directory the command line names (``--cache .npm-cache``, ``--cache-dir
    $X``) gets no mount: a variable is expanded when the RUN runs, and a relative path
    depends on the directory it runs in."""
    if "$" in target or "`" in target:
        return f"{tool}: its cache directory `{target}` comes from a variable the RUN expands"
    if target == "/":
        return f"{tool}: its cache directory is the root directory"
    return f"{tool}: its cache directory `{target}` is relative to where the RUN runs"


class _Planner:
    """Decides one RUN's mounts; every declined directory gets its reason."""

    def __init__(
        self,
        doc: Document,
        history: History,
        stage: Stage,
        ins: Instruction,
        script: RunScript,
        steps: list[Step],
    ) -> None:
        self.doc, self.history, self.stage, self.ins = doc, history, stage, ins
        self.script, self.steps = script, steps
        self.resolver = history.resolver(stage, ins)
        self.existing = history.mounted(ins)
        self.plan = Plan()
        self.in_final_image = False  # the RUN's stage is in the final image's lineage
        self.config_named: dict[str, str | None] = {}
        self.brought: dict[str, bool] = {}  # tool id -> _copies_config of this RUN
        self.configured: dict[str, Instruction | None] = {}  # tool id -> _configured's answer
        self.env_noted: dict[str, tuple[int, list[str]]] = {}  # tool id -> its note's place, names

    def consider(self, cache: CacheDir, call: ToolCall) -> None:
        """Mount ``cache`` for ``call`` unless something says no."""
        plan = self.plan
        configured = self._configured(call.manager)
        moved = self._config_named(call)
        brought = self._brings_config(call.manager)
        if moved or configured is not None or brought:
            tool = call.manager.id
            if moved:
                why = f"{moved} names a configuration file of {tool}, which msdfix does not read"
            elif brought:  # reorder-copy's --mount=type=bind,source=.npmrc brings it too
                why = (
                    f"the RUN mounts a configuration of {tool} that may set where or how it caches"
                )
            elif configured is not None and configured.cmd == "run":
                why = f"RUN at line {configured.start_line} configures where it caches"
            elif configured is not None and configured.cmd == "onbuild":
                why = (
                    f"the ONBUILD trigger at line {configured.start_line} runs in this stage, "
                    f"and may bring or set a configuration of {tool} (msdfix does not read it)"
                )
            elif configured is not None and unpacks_archive(configured, self._scope(configured)):
                why = (
                    f"line {configured.start_line} unpacks an archive that may hold a "
                    f"configuration of {tool}"
                )
            else:
                line = configured.start_line if configured is not None else 0
                why = f"line {line} copies a configuration of {tool} that may set where or how it caches"
            plan.note(f"{tool}: {why}")
            return
        if not call.manager.system and other_user(call.command):
            plan.note(f"{call.manager.id}: runs as another user ({call.command.argv[0]})")
            return
        elevated = runs_as_root_via(call.command)
        if not call.manager.system and elevated and self.resolver.user != ROOT:
            # sudo(8): root's HOME with -H/-i or where env_reset resets it (Debian's sudo),
            # the caller's where the policy keeps it (Ubuntu's before 19.10): unknown here
            plan.note(
                f"{call.manager.id}: runs as root through {elevated}, with the HOME its "
                "policy gives: where it caches is unknown"
            )
            return
        target = self.resolver.target(cache, call)
        if target is None:
            self._unknown_target(cache, call)
            return
        if not target.startswith("/") or target == "/":
            plan.note(_unmountable(call.manager.id, target))
            return
        resolver = self.resolver
        if not call.manager.system and resolver.user != ROOT and resolver.uid is None:
            # A new cache mount belongs to root (mode 0755): the user could not write to it
            # where the original created the directory itself (npm and go fail with EACCES).
            plan.note(
                f"{call.manager.id}: a cache mount belongs to root, and this RUN's user is unknown"
                if resolver.user is None
                else f"{call.manager.id}: the uid of user {resolver.user} is unknown, and a "
                f"cache mount belongs to root unless its uid is given"
            )
            return
        mounted = self.existing + [m.target for m in plan.mounts]
        if any(within(target, m) or within(m, target) for m in mounted):
            return
        if not writable_target(target):
            plan.note(f"{target} cannot be written as a mount target")
            return
        if any(a in call.manager.defeat_flags for a in call.args) and (
            not self.script.editable or call.command not in self.script.commands
        ):
            plan.note(f"{call.manager.id}: its cache is switched off in a way msdfix cannot edit")
            return
        reason = self._decline(cache, call, target)
        if reason is not None:
            if reason:
                plan.note(reason)
            return
        blocker = self._store_blocker(call) if cache.store else None
        unsafe = None
        if blocker is not None:
            unsafe = f"RUN at line {blocker.start_line} may need {target} in the image"
        elif cache.builds in _SHARED_BUILDS and any(  # every call of the tool in the RUN
            self._may_build(cache.builds, c) for c in _calls_of(self.steps, call.manager)
        ):
            unsafe = _SHARED_BUILDS[cache.builds].format(tool=call.manager.id)
        elif (setting := self._prefers_cache(call.manager)) is not None:
            unsafe = (
                f"{call.manager.id} {setting} resolves version ranges from what the "
                "mount holds without asking the registry: a cache an older build or another "
                "project filled installs older versions than the original"
            )
        elif cache.metadata and not self._refreshes(call):
            unsafe = (
                f"{call.manager.id} trusts the repository metadata on the mount until it "
                "expires, and mirrors drop package versions old metadata names; "
                f"{' or '.join(call.manager.refresh_options)} makes it re-check"
            )
        if unsafe is None and not call.manager.system and resolver.user != ROOT:
            # BuildKit creates a missing mount point and its parents owned by root (0755) in
            # the image, where the original left the directory to the user who wrote it.
            unsafe = (
                f"it runs as user {resolver.user}: BuildKit leaves {target} and the parents it "
                f"creates in the image owned by root, so {resolver.user} can no longer write "
                "there at run time (npm fails with EACCES, an app cannot create ~/.cache/...)"
            )
        if unsafe is None and not call.manager.system and resolver.user == ROOT:
            unsafe = self._root_owned_for_later_user(target, call)
        owner = (
            home_owner(
                self.doc,
                self.stage,
                self.ins,
                {**self.resolver.scope, **call.command.assignments},  # HOME=/home/app pip ...
                target,
                self.in_final_image,
            )
            if unsafe is None and not call.manager.system
            else None
        )
        if owner is not None:
            unsafe = (
                f"BuildKit leaves {target} and the parents it creates in the image owned by "
                f"root, inside the home of {owner}, whom the image later runs as: {owner} can no "
                "longer create them there (an app writing ~/.cache/... fails with EACCES)"
            )
        if unsafe is None and call.manager.root_owner_check and resolver.user == ROOT:
            unsafe = self._root_check_skipped(target, call)
        uid = self.resolver.uid
        plan.mounts.append(
            Mount(
                target,
                cache.locked,
                cache.store,
                cache.index,
                call.manager,
                uid,
                unsafe,
                cache.built,
            )  # fmt: skip
        )

    def _root_owned_for_later_user(self, target: str, call: ToolCall) -> str | None:
        """Why a root RUN's mount outside /root is unsafe: a user other than root runs later,
        the directories BuildKit leaves there are root's, and the original leaves them
        otherwise (built for real: the user could no longer create /tmp/.cache/app or
        ~/.cache/app, nor install a gem into its GEM_HOME)."""
        if not outside_root_home(target):
            return None
        differs = original_differs(self.steps, call, target, self.resolver)
        who = later_user(self.doc, self.stage, self.ins, self.in_final_image) if differs else None
        if who is None:
            return None
        return (
            f"{who} runs as another user than root later: BuildKit leaves {target} and the "
            f"parents it creates in the image owned by root, and {differs}"
        )

    def _root_check_skipped(self, target: str, call: ToolCall) -> str | None:
        """Why a root pip mount is unsafe where pip as root would have kept no cache: the
        first directory of ``target`` that exists may be another user's (pip's
        check_path_owner), and that user runs later, finding the mount's root-owned
        directories where the original left none (built for real: after ``chown app /app``,
        ``COPY --chown=app``, ``useradd -d``, ``install -d -o app``, the app could no longer
        create /app/.cache/x)."""
        if not outside_root_home(target):
            return None
        given = given_away(self.history, self.stage, self.ins, target)
        who = later_user(self.doc, self.stage, self.ins, self.in_final_image) if given else None
        if who is None:
            return None
        return (
            f"{who} runs as another user than root later: BuildKit leaves {target} and the "
            f"parents it creates in the image owned by root, where {call.manager.id} as root "
            f"keeps no cache when the first of them that exists is not root's, and {given} "
            "may give one of them to another user"
        )

    def _scope(self, ins: Instruction) -> dict[str, str | None]:
        """The ARG/ENV scope at ``ins``, an instruction of this stage's lineage."""
        stage = next((st for st in self.stage.lineage if ins in st.instructions), self.stage)
        return self.doc.model.stage_scope(stage, ins)

    def _brings_config(self, manager: PackageManager) -> bool:
        """``_copies_config`` of the RUN itself, once per tool (a tool has several caches)."""
        if manager.id not in self.brought:
            self.brought[manager.id] = _copies_config(self.doc, self.stage, self.ins, manager)
        return self.brought[manager.id]

    def _config_named(self, call: ToolCall) -> str | None:
        """How the call is pointed at a configuration file msdfix does not read: a variable
        the stage sets, the command sets (``APT_CONFIG=x apt-get``, ``env APT_CONFIG=x
        apt-get``) or the RUN exports before it, or an option (``apt-get -c FILE``)."""
        manager = call.manager
        if manager.id not in self.config_named:  # once per tool: a RUN may hold many calls
            self.config_named[manager.id] = self._find_config_named(manager)
        return self.config_named[manager.id]

    def _find_config_named(self, manager: PackageManager) -> str | None:
        found = [(at, n) for at, n, _ in exports(self.script.text) if n in manager.config_env]
        for each in _calls_of(self.steps, manager):
            command = each.command
            for name in manager.config_env:
                set_here = {**command.assignments, **env_assignments(command)}
                if name in self.resolver.scope or name in set_here:
                    return f"${name}"
                if any(n == name and at < command.start for at, n in found):
                    return f"${name}"
            for arg in each.args:
                if arg.split("=", 1)[0] in manager.config_options:
                    return arg.split("=", 1)[0]
        return None

    def _configured(self, manager: PackageManager) -> Instruction | None:
        """An earlier instruction of the lineage that sets the tool's cache directory in its
        own configuration (``npm config set cache /var/cache/npm``, ``go env -w GOMODCACHE``,
        ``COPY pip.conf /etc/pip.conf`` with ``cache-dir``, or one msdfix cannot read): the
        mount would miss the cache. A RUN is named before a COPY/ADD; each instruction is read
        once per tool, and only where a RUN of its lineage asks; the answer is kept per tool
        (a tool has several caches and a RUN several calls)."""
        if manager.id not in self.configured:
            self.configured[manager.id] = self._find_configured(manager)
        return self.configured[manager.id]

    def _find_configured(self, manager: PackageManager) -> Instruction | None:
        tested = self.history.configuring.setdefault(manager.id, {})

        def sets(stage: Stage, ins: Instruction) -> bool:  # once per instruction and tool
            if ins.cmd == "onbuild":  # a base stage's trigger, run where a stage is FROM it
                return (
                    stage is not self.stage and _TRIGGER_MAY_CONFIGURE.match(ins.args) is not None
                )
            if id(ins) not in tested:
                tested[id(ins)] = self._sets_config(stage, ins, manager)
            return tested[id(ins)]

        for kinds in (("run",), ("copy", "add", "onbuild")):  # the RUN itself counts
            key = f"configures {manager.id} by {kinds[0]}"
            found = self.history.first_before(self.stage, self.ins, key, kinds, sets)
            if found is not None:
                return found
        return None

    def _sets_config(self, stage: Stage, ins: Instruction, manager: PackageManager) -> bool:
        """Whether a RUN sets the tool's cache directory in its configuration, or a COPY/ADD
        brings a configuration file of the tool (``_configured``)."""
        if ins.cmd != "run":
            return _copies_config(self.doc, stage, ins, manager)
        text = ins.logical
        return bool(
            _may_set_config(text)
            and _config_setter(
                manager.programs, manager.offline_env, setting=manager.offline_config_keys
            ).search(text)
        ) or writes_config(ins, manager)

    def _unknown_target(self, cache: CacheDir, call: ToolCall) -> None:
        """Say why the cache directory cannot be known, where users would wonder."""
        resolver, tool = self.resolver, call.manager.id
        user, homeless = resolver.user, cache.path.startswith("~") or not cache.path
        argument = resolver.from_argument(cache)
        itself = resolver.set_in_run(cache, call)
        if itself is not None:
            self.plan.note(f"{tool}: its cache depends on what the RUN sets itself ({itself})")
        elif argument is not None:
            self.plan.note(f"{tool}: its cache depends on {argument}, which a build argument sets")
        elif not cache.path and cache.env:  # only a variable names it (GEM_HOME)
            self._unset_cache_env(cache, tool)
        elif user is None:
            if homeless:
                self.plan.note(
                    f"{tool}: its cache is in the home of this RUN's user, who is unknown"
                )
            elif not call.manager.system:
                self.plan.note(
                    f"{tool}: {cache.path} is root's cache, and this RUN's user is unknown"
                )
        elif resolver.home is None and user != ROOT and homeless:
            self.plan.note(f"{tool}: the home of user {user} is unknown")
        elif not resolver.env_known and (cache.env or cache.path.startswith("~")):
            names = ["HOME"] * cache.path.startswith("~") + [v for v, _ in cache.env]
            self._note_env(tool, names)
        elif homeless:
            self.plan.note(f"{tool}: the home of user {user} is unknown")
        elif not call.manager.system and user != ROOT:  # yarn 1 caches in ~/.cache/yarn
            self.plan.note(f"{tool}: {cache.path} is root's cache, and this RUN runs as {user}")

    def _unset_cache_env(self, cache: CacheDir, tool: str) -> None:
        """Say why a cache only a variable names (``$GEM_HOME/cache``) has no known directory."""
        if not self.resolver.env_known:
            self._note_env(tool, [var for var, _ in cache.env])
            return
        names = ", ".join(var for var, _ in cache.env)
        where = " or ".join(f"${var}{suffix}" for var, suffix in cache.env)
        self.plan.note(f"{tool}: it caches in {where}, and no ENV or base image sets {names}")

    def _note_env(self, tool: str, names: list[str]) -> None:
        """Say that ``tool``'s caches depend on variables ``names`` of an unknown base image,
        in one note per tool (go's module and build caches share it): the names already
        noted are kept with the note's place, not read back from its text."""
        noted = self.env_noted.get(tool)
        at, known = noted or (len(self.plan.notes), [])
        names = list(dict.fromkeys(known + names))
        self.env_noted[tool] = (at, names)
        text = (
            f"{tool}: its cache depends on {', '.join(names)}, which base image "
            f"{self.resolver.image} may set (msdfix does not know its environment)"
        )
        if noted:
            self.plan.notes[at] = text
        else:
            self.plan.note(text)

    def _may_build(self, kind: str, call: ToolCall) -> bool:
        """True unless the evidence shows that ``call`` builds nothing of ``kind`` into the
        cache (see ``CacheDir.builds``)."""
        if kind == "scripts":
            return may_run_install_scripts(self.doc.context, call.manager, call.args)
        scope = {**self.resolver.scope, **call.command.assignments}
        if "--no-build" in call.args or (scope.get("UV_NO_BUILD") or "").lower() in _TRUE:
            return False
        if self._no_binary(call, scope):
            return True  # builds from sdists even where a wheel exists
        version = python_version(self.stage.root_image.tag)
        program = call.manager.id
        evidence = install_evidence(self.doc.context, [(program, call.args)], version, scope)
        return evidence.status not in ("none", "open")

    def _no_binary(self, call: ToolCall, scope: Mapping[str, str]) -> bool:
        """A ``--no-binary`` option, variable or setting (a context file or an earlier RUN)
        that makes the tool build packages a lock file lists wheels for."""
        if any(a.startswith("--no-binary") for a in call.args):
            return True
        if any(scope.get(v) for v in NO_BINARY_ENV):
            return True
        if configured_no_binary(self.doc.context) is not None:
            return True
        return any(
            NO_BINARY.search(ins.logical)
            for stage in self.stage.lineage
            for ins in stage.of("run")
            if stage is not self.stage or ins.start <= self.ins.start
        )

    def _prefers_cache(self, manager: PackageManager) -> str | None:
        """The setting with which some call of ``manager`` in the RUN resolves versions from
        its cache (built: npm --prefer-offline, or --cache-min 9999999, with a month-old
        packument installed is-number 6.0.0, yarn 1's with another project's downloads
        6.0.0, where the original installed 7.0.0)."""
        scope = self.resolver.scope
        for c in _calls_of(self.steps, manager):
            setting = prefers_cache(manager, c.args, {**scope, **c.command.assignments})
            if setting is not None and not self._lock_pins(c):
                return setting
        return None

    def _lock_pins(self, call: ToolCall) -> bool:
        """The call is yarn 1's ``--frozen-lockfile`` install, first in its RUN after only
        harmless commands, of a package.json and yarn.lock that context COPYs bring to where
        it runs with no RUN between, and the lock pins every package (``yarn_classic_pins``)."""
        if call.manager.id != "yarn" or "--frozen-lockfile" not in call.args:
            return False
        if call.subcommand not in ("", "install") or any(a.startswith("--cwd") for a in call.args):
            return False
        if self._lockfile_switched(call):
            return False
        before = self.steps[: next(k for k, s in enumerate(self.steps) if s.call is call)]
        if any(s.program not in _BEFORE_LOCKED or s.command.redirects for s in before):
            return False
        doc, stage, ins = self.doc, self.stage, self.ins
        cwd = resolve(call.command.cwd or "", workdirs(doc.model, stage)[id(ins)])
        manifest, locked = context_files_at(
            doc.model, stage, doc.context, ins,
            (posixpath.join(cwd, "package.json"), posixpath.join(cwd, "yarn.lock")),
        )  # fmt: skip
        if manifest is None or locked is None:
            return False
        (first, package), (second, lock) = manifest, locked
        copied = min(first.start, second.start)
        if any(copied < r.start < ins.start for r in stage.of("run")):
            return False  # a RUN between may change them
        text = doc.context.read_text(lock, MAX_SCANNED_BYTES)
        return text is not None and yarn_classic_pins(text, doc.context.read_json(package))

    def _lockfile_switched(self, call: ToolCall) -> bool:
        """Something may make yarn ignore yarn.lock: ``--no-lockfile``, a variable naming
        the lockfile (``YARN_NO_LOCKFILE``), a .yarnrc of the context that names it, or a
        RUN of the lineage up to this one that sets it in yarn's configuration (built: after
        ``echo '--install.no-lockfile true' > /root/.yarnrc`` the mounted rewrite installed
        the cached is-number 6.0.0, the original the lock's 7.0.0)."""
        if "--no-lockfile" in call.args:
            return True
        scope = {**self.resolver.scope, **call.command.assignments}
        if any("lockfile" in name.lower() for name in scope):
            return True
        if self.history.first_before(
            self.stage, self.ins, "sets yarn's lockfile", ("run",), _sets_yarn_lockfile
        ):
            return True
        ctx = self.doc.context
        rcs = ctx.glob("*.yarnrc") if ctx.present else []
        return any("lockfile" in (ctx.read_text(rc) or "lockfile") for rc in rcs)

    def _refreshes(self, call: ToolCall) -> bool:
        """True when the RUN's first call of ``call``'s tool re-checks cached metadata."""
        manager = call.manager
        first = next(s.call for s in self.steps if s.call and s.call.manager is manager)
        return any(a in manager.refresh_options for a in first.args)

    def _decline(self, cache: CacheDir, call: ToolCall, target: str) -> str | None:
        """Why ``target`` is not mounted ("" when there is nothing to say), or None to mount."""
        history, stage, ins = self.history, self.stage, self.ins
        if cache.index:
            if not refreshes_first(self.steps):
                first = index_first(self.steps)
                if first is not None and first.unguarded:
                    what = " ".join(first.command.argv[:2])
                    return (
                        f"{target} is not mounted: the RUN goes on where `{what}` fails, and "
                        "the install then reads the lists the image holds"
                    )
                return ""  # installs from the lists an earlier step left: nothing to mount
            reader = history.index_reader(stage, ins, target)
            if reader is not None and self._leaves(target):
                return (
                    f"{target} stays in the image: RUN at line {reader.start_line} "
                    "may install without refreshing it"
                )
            if (
                self.in_final_image
                and self._leaves(target)
                and not history.cleared_later(stage, ins, target)
            ):
                if not self._refreshed_last(target):
                    return (
                        f"{target} is not mounted: a command msdfix does not know may fill "
                        "it for the image to keep (images built FROM it may install from it)"
                    )
                return (
                    f"{target} stays in the image, as in the original: images built FROM it "
                    "and its containers may install without refreshing it"
                )
        if cache.builds == "cgo" and cgo_unproven(self.doc, history, stage, ins, call, self.steps):
            return f"{target} is not mounted: {CGO_REASON}"
        if cache.builds == "cgo" and self._caches_test_results(call.manager):
            return (
                f"{target} is not mounted: it keeps `go test` results, keyed without the files "
                "and time zone data the tests read outside the module (a passing result would "
                "be reused where the test now fails)"
            )
        fetch = call.subcommand in ("mod", "fetch", "restore", "dependencies") or any(
            a.startswith("dependency:") for a in call.args
        )  # the RUN fills the store for what comes later: a dependency image's purpose
        kept_fetch = (
            cache.store
            and fetch
            and self.in_final_image
            and not any(s.cleans(target, self.resolver) for s in self.steps)
        )
        if kept_fetch and toolbox(entry(stage)):
            return (
                f"{target} stays in the image, where the original leaves it: the image starts no "
                "program of its own, so images built FROM it may read the store"
            )
        if kept_fetch and self._unread_later(call):
            return (
                f"{target} stays in the image, where the original leaves it: no later RUN "
                f"reads what `{' '.join(call.command.argv[:3])}` downloads, so the container "
                "does (a start command that builds, as air runs `go build`)"
            )
        if target == APT_ARCHIVES_MOUNT and not self._keepable(call.manager):
            return ""  # only refreshes, or installs msdfix cannot edit: nothing to keep
        if target == APT_ARCHIVES_MOUNT:
            # dpkg -i /var/cache/apt/archives/*.deb after --download-only, in a command, a
            # for loop's list, a $(...) or a variable: anywhere but an rm of the .debs
            removed = sum(
                a.count(APT_ARCHIVES_MOUNT) for s in self.steps if s.program == "rm" for a in s.args
            )
            if self.script.text.count(APT_ARCHIVES_MOUNT) > removed:
                return f"the RUN reads {APT_ARCHIVES_MOUNT}, where the .debs would no longer be"
            if any(
                a in ("--download-only", "-d", "download")
                for c in _calls_of(self.steps, call.manager)
                for a in c.args
            ):  # any apt call of the RUN, not only its first (`apt-get update && ...`)
                return "the RUN downloads .debs for a later step, which reads them in the image"
        named = self._names(target) if target != APT_ARCHIVES_MOUNT else None
        if named is not None:
            return (
                f"the RUN reads {target} by name (`{named}`), where a mount would hide what "
                "earlier steps put there"
            )
        copy = history.copied_into(stage, ins, target)
        if copy is not None:
            return (
                f"{target} holds files from line {copy.start_line}, which a mount would hide "
                "from this RUN"
            )
        if history.names(stage, ins, target):
            # what an earlier RUN named there, or downloaded there with the tool
            # (``ENV GOPROXY=file:///go/pkg/mod/cache/download`` after ``go mod download``)
            earlier = history.named_before(stage, ins, target)
            cleans = any(s.cleans(target, self.resolver) for s in self.steps)  # said below
            holder = (
                earlier.start_line
                if earlier
                else None
                if cleans
                else history.may_hold(stage, ins, target)
            )
            if holder is not None:
                where = f"line {holder}" if holder else "the base image"
                return (
                    f"{target} holds what {where} put there, which this RUN reads and a "
                    "mount would hide"
                )
        cwd = self._cwd(call)
        if within(cwd, target):
            return (
                f"the RUN works in {cwd}, on the mount of {target}: what it writes there (an "
                "install's node_modules, a download) would stay on the mount, out of the image"
            )
        inside = self._env_inside(call, target)
        if inside is not None:
            return (
                f"{inside} names a folder inside {target}: what the RUN puts there (a global "
                "install prefix, GOBIN) would stay on the mount, out of the image"
            )
        user = history.needed_later(stage, ins, target)
        if user is not None:
            return f"{target} is used by line {user.start_line}"
        other = (
            other_user_reader(history, stage, ins, cache, call, target)
            if cache.store and self.resolver.user == ROOT
            else None
        )
        if other is not None:
            run, who = other
            return (
                f"{target} is read by line {run.start_line}, which runs {call.manager.id} as "
                f"{'user ' + who if who else 'a user msdfix cannot tell'}: with a mount it finds "
                "an empty directory owned by root, which that user cannot fill"
            )
        offline = self._offline_later(call.manager)
        if offline is not None:
            return f"{target} is read offline by line {offline.start_line}"
        if cache.builds != "cgo":  # a download cache (what the tool compiled is rebuilt)
            stranded = self._stranded_later(call.manager)
            if stranded is not None:
                run, spec = stranded
                return (
                    f"{target} is filled through `--mount={spec}`, which line "
                    f"{run.start_line} does not have: it reads {target} from the image"
                )
            filler = self._filled_without_me(call.manager, target)
            if filler is not None:
                run, spec = filler
                return (
                    f"{target} holds what line {run.start_line} downloaded through "
                    f"`--mount={spec}`, which this RUN does not have: a mount would hide it"
                )
        if any(s.cleans(target, self.resolver) for s in self.steps):
            holder = history.may_hold(stage, ins, target)
            if holder is not None:
                where = f"line {holder}" if holder else "the base image"
                return (
                    f"{target} may hold files from {where} that this RUN deletes: "
                    "with a mount they would stay in the image"
                )
        return None

    def _names(self, target: str) -> str | None:
        """An argument of the RUN that names ``target`` or a path in it, other than a
        deletion or the tool's own cache option (``pip install --find-links /root/.cache/pip``
        after ``pip download -d /root/.cache/pip``: the mount hid the downloads), or an option
        line of pip's requirements files (built: ``--find-links /root/.cache/pip/dl`` in
        requirements.txt, and the mounted install found no six)."""
        for step in self.steps:
            if step.program in ("rm", "find"):
                continue
            option = explicit_dir(step.call) if step.call is not None else None
            for arg in step.args:
                value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
                value = expanded(value, self.resolver)
                if not value.startswith("/") or value == option:
                    continue
                if within(posixpath.normpath(value), target):
                    return arg
            if step.call is not None and step.call.manager.id in ("pip", "uv"):
                for path, line in requirement_locations(self.doc.context, list(step.args)):
                    if within(posixpath.normpath(path), target):
                        return line  # a requirements file's option line (pip reads it)
        return None

    def _cwd(self, call: ToolCall) -> str:
        """The directory ``call`` runs in: the WORKDIR, then the script's ``cd`` (built:
        ``npm install`` under ``WORKDIR /root/.npm/app`` with /root/.npm mounted left no
        node_modules in the image, and ``require`` failed)."""
        start = self.doc.model.workdirs(self.stage, fixed=True)[0][id(self.ins)]  # (cached)
        return posixpath.normpath(resolve(call.command.cwd or "", start))

    def _env_inside(self, call: ToolCall, target: str) -> str | None:
        """``NAME=value`` of the RUN's environment whose value (or an entry of a ``:`` list,
        as PATH) is a folder strictly inside ``target``; the cache's own setting names
        ``target`` itself. Built: `npm install -g` under NPM_CONFIG_PREFIX=/root/.npm/global
        and `go install` under GOBIN=/root/.cache/go-build/bin left no program in the image."""
        env = {**self.resolver.scope, **call.command.assignments}
        for name, value in env.items():
            for entry_ in value.split(":"):
                path = expanded(entry_, self.resolver)
                if not path.startswith("/"):
                    continue
                path = posixpath.normpath(path)
                if path != target and within(path, target):
                    return f"{name}={value}"
        return None

    def _caches_test_results(self, manager: PackageManager) -> bool:
        """A ``go test`` of the RUN whose results Go caches (no ``-count=1``)."""
        return any(
            s.call is not None
            and s.call.manager is manager
            and s.call.subcommand == "test"
            and not any(a in ("-count=1", "-count", "--count=1") for a in s.call.args)
            for s in self.steps
        )

    def _leaves(self, target: str) -> bool:
        """True when, without a mount, this RUN leaves files in ``target``."""
        leaves = False
        for step in self.steps:
            if step.refresh or step.unknown:
                leaves = True
            elif not step.conditional and step.cleans(target, self.resolver):
                leaves = False
        return leaves

    def _refreshed_last(self, target: str) -> bool:
        """True when a refresh (``apt-get update``) runs after this RUN's last cleanup of
        ``target``, so the original surely leaves files there; False when only commands msdfix
        does not know do (they may)."""
        refreshed = False
        for step in self.steps:
            if step.refresh:
                refreshed = True
            elif not step.conditional and step.cleans(target, self.resolver):
                refreshed = False
        return refreshed

    def _keepable(self, manager: PackageManager) -> bool:
        """True when an install of this RUN can keep its .debs on the mount."""
        if any("dir::cache" in a.lower() for s in self.steps for a in s.args):
            return False  # the RUN chooses apt's cache directories itself (in any case)
        return any(
            s.call is not None
            and s.call.manager is manager
            and not s.refresh
            and s.call.subcommand not in manager.refresh
            and not s.inlined
            and self.script.editable
            and s.program in manager.keep_options
            for s in self.steps
        )

    def _offline_later(self, manager: PackageManager) -> Instruction | None:
        history = self.history
        programs = {p.lstrip("./") for p in manager.programs}
        flags = manager.offline_flags

        def offline(run: Instruction) -> bool:  # any command of the tool, downloading or not
            if no_network(run):
                return any(s.call and s.call.manager is manager for s in history.steps(run) or [])
            if not flags and not manager.offline_env:
                return False
            if not (manager.offline_env or manager.args_env) and not any(
                f in run.logical for f in flags
            ):
                return configured_offline(run)  # no flag is written: nothing to parse for
            scope = history.resolver(self.stage, run).scope
            return configured_offline(run) or any(
                step.program.lstrip("./") in programs
                and runs_offline(manager, step.args, {**scope, **step.command.assignments})
                for step in history.steps(run) or []
            )

        setter = _config_setter(
            manager.programs, manager.offline_env, True, manager.offline_config_keys
        )

        def configured_offline(run: Instruction) -> bool:
            """The tool runs in ``run`` after a RUN set it offline in its configuration (``go
            env -w GOPROXY=off``), or after a COPY brought a configuration that may do so
            (settings.xml's ``<offline>``, .mvn/maven.config's ``-o``)."""
            if not any(p in run.logical for p in programs):
                return False
            if not any(s.call and s.call.manager is manager for s in history.steps(run) or []):
                return False  # a command that sets the tool up (go env -w) reads nothing
            stage = history.stage_of.get(id(run), self.stage)
            key = f"sets {manager.id} offline"
            return history.first_before(stage, run, key, ("run", "copy", "add"), sets) is not None

        def sets(stage: Stage, other: Instruction) -> bool:
            if other.cmd != "run":  # a copied configuration that may set it offline
                return bool(manager.offline_config_keys) and _copies_config(
                    self.doc, stage, other, _offline_reader(manager)
                )
            if _may_set_config(other.logical) and setter.search(other.logical) is not None:
                return True
            return bool(manager.offline_config_keys) and writes_config(
                other, _offline_reader(manager)
            )

        later = history.later_runs(self.stage, self.ins, f"offline {manager.id}", offline)
        return next(later, None)

    def _stranded_later(self, manager: PackageManager) -> tuple[Instruction, str] | None:
        """A later RUN of the tool without a mount this RUN downloads through (a secret, an
        ssh agent, a bind-mounted proxy), and that mount."""
        specs = access_mounts(self.ins, self.doc.context)
        if not specs:
            return None
        history = self.history

        def calls(run: Instruction) -> bool:
            return any(
                s.call is not None and s.call.manager is manager for s in history.steps(run) or []
            )

        for run in history.later_runs(self.stage, self.ins, f"calls {manager.id}", calls):
            missing = next((spec for spec in specs if not has_mount(run, spec)), None)
            if missing is not None:
                return run, missing
        return None

    def _filled_without_me(
        self, manager: PackageManager, target: str
    ) -> tuple[Instruction, str] | None:
        """An earlier RUN of the tool that left ``target`` in the image after downloading
        through a mount this RUN lacks, and that mount."""
        history, context = self.history, self.doc.context

        def fills(run: Instruction) -> bool:  # runs the tool with a mount of access
            if not access_mounts(run, context):  # read its flags first: most RUNs have none
                return False
            return any(
                s.call is not None and s.call.manager is manager for s in history.steps(run) or []
            )

        for run in history.earlier_runs(self.stage, self.ins, f"fills {manager.id}", fills):
            if any(within(target, m) for m in history.mounted(run)):
                continue
            missing = next(
                (s for s in access_mounts(run, context) if not has_mount(self.ins, s)), None
            )
            if missing is not None:
                return run, missing
        return None

    def _unread_later(self, call: ToolCall) -> bool:
        """True when nothing after the fetch ``call`` runs its tool or a program msdfix cannot
        see into, in this RUN (``dotnet restore && dotnet build``) or a later one of the
        image: what the fetch stored is then read by the container alone."""
        history, manager = self.history, call.manager

        def reads(steps: list[Step] | None) -> bool:
            return steps is None or any(
                s.unknown or (s.call is not None and s.call.manager is manager) for s in steps
            )

        at = next((i for i, s in enumerate(self.steps) if s.call is call), len(self.steps))
        if reads(self.steps[at + 1 :]):
            return False
        later = history.later_runs(
            self.stage, self.ins, f"reads {manager.id}", lambda run: reads(history.steps(run))
        )
        return next(later, None) is None

    def _store_blocker(self, call: ToolCall) -> Instruction | None:
        """A later RUN that runs a program msdfix cannot see into (it may read the store)."""
        history = self.history

        def opaque(run: Instruction) -> bool:
            steps = history.steps(run)
            return steps is None or any(s.unknown for s in steps)

        return next(history.later_runs(self.stage, self.ins, "opaque", opaque), None)

    def finish(self) -> None:
        """Edits for the mounts: drop what they make pointless, keep apt's .debs."""
        if not self.script.editable or not self.plan.mounts:
            return
        self._keep_apt_cleanup()
        for _ in range(len(self.plan.mounts) + 1):
            blocked = self._cleanup_edits()
            if blocked is None:
                break
            self.plan.mounts = [m for m in self.plan.mounts if m.target != blocked[0]]
            self.plan.note(blocked[1])
        if not self.plan.mounts:
            self.plan.edits = []
            return
        self._keep_debs()
        self._defeat_flags()

    def _keep_apt_cleanup(self) -> None:
        """An apt RUN keeps its ``rm`` of apt's cache unless its lists are mounted.

        Without the lists mount, that ``rm`` is what tells readers (and hadolint, DL3009) that
        the RUN leaves no package data behind; it cannot stay next to a mount it would delete,
        so the mount goes.
        """
        targets = [m.target for m in self.plan.mounts]
        if APT_ARCHIVES_MOUNT not in targets or any(m.index for m in self.plan.mounts):
            return
        if any(
            s.program == "rm" and _touches(s, APT_ARCHIVES_MOUNT, self.resolver) for s in self.steps
        ):
            self.plan.mounts = [m for m in self.plan.mounts if m.target != APT_ARCHIVES_MOUNT]
            self.plan.note("the RUN's apt cleanup stays (its lists are not mounted)")

    def _cleanup_edits(self) -> tuple[str, str] | None:
        """Remove cleanups of mounted directories; (target, reason) when one cannot go."""
        plan = self.plan
        plan.edits = []
        removed: list[str] = []
        whole: dict[int, str] = {}  # index of a command to remove -> the target it cleans
        targets = [m.target for m in plan.mounts]
        position = _positions(self.script.commands)
        for step in self.steps:
            blocked = self._deletes_mount_point(step, targets)
            if blocked is not None:
                return blocked
            hit = [t for t in targets if _touches(step, t, self.resolver)]
            if not hit:
                continue
            reason = (
                f"the RUN deletes {hit[0]}, which the mount replaces, in a way msdfix cannot edit"
            )
            if step.inlined or step.conditional or step.command.redirects:
                return hit[0], reason
            index = position(step.command)
            if step.program != "rm":
                kept = [t for t in step.cleaned(self.resolver) if t not in targets]
                if kept:  # dropped, it would leave them in the image; kept, delete the mount
                    return hit[0], (
                        f"`{' '.join(step.command.argv)}` also empties {kept[0]}, which is not "
                        "mounted: msdfix can neither drop it nor keep it next to the mount"
                    )
                whole[index] = hit[0]
                continue
            words = self._rm_words(step, targets)
            if isinstance(words, str):
                return hit[0], words
            if words is None:
                whole[index] = hit[0]
                continue
            for word in words:
                span = word_removal(self.script, step.command, word)
                if span is None:
                    return hit[0], reason
                plan.edits.append(Edit(*span, ""))
                removed.append(word.value)
        for first, last in _runs(sorted(whole)):
            errexit_on = self.history.shell_errexit(self.ins)
            span = command_removal(self.script, first, last, errexit_on=errexit_on)
            if span is None:
                return whole[first], (
                    f"the RUN deletes {whole[first]}, which the mount replaces, "
                    "in a way msdfix cannot edit"
                )
            plan.edits.append(Edit(*span, ""))
            removed += [" ".join(c.argv) for c in self.script.commands[first : last + 1]]
        if removed:
            plan.note(_dropped(removed))
        return None

    def _mount_points(self, targets: list[str]) -> dict[str, str]:
        """Every mount point of ``targets`` -> the cache target it belongs to: the target and
        the tmpfs BuildKit mounts below it for what the tool builds (pip's ``wheels/``)."""
        points = {t: t for t in targets}
        for mount in self.plan.mounts:
            if mount.target in points:
                points.update({f"{mount.target}/{sub}": mount.target for sub in mount.built})
        return points

    def _deletes_mount_point(self, step: Step, targets: list[str]) -> tuple[str, str] | None:
        """(target, reason) when the step may delete a mount point or a directory above it in
        a way the path checks below do not see: a word msdfix cannot resolve, a glob or brace
        word (``/var/cache/ap?``, ``/var/{tmp,cache}/*`` under bash), ``find ... -delete``,
        or ``xargs rm`` (its words come from the input). A tmpfs below a cache target is a
        mount point too: ``find /root/.cache/pip -mindepth 1 -delete`` failed on pip's
        ``wheels/`` with "Device or resource busy" (built for real)."""
        if not targets:
            return None
        points = self._mount_points(targets)
        if step.program == "rm":
            cwd = run_dir(step, self.resolver)
            unknown = unresolved(step.args, self.resolver, cwd, targets)
            if unknown is None and "xargs" in wrappers(step.command):
                unknown = "the words xargs reads"
            if unknown is not None:
                return targets[0], (
                    f"the RUN deletes {unknown}, a path msdfix cannot resolve (it may be the mount)"
                )
            hit = glob_hit(step.args, self.resolver, cwd, list(points))
            if hit is not None:
                target = next(t for p, t in points.items() if within(p, hit[1]))
                return target, f"the RUN deletes {hit[0]}, which matches {hit[1]}: the mount point"
        starts = find_deletes(step, self.resolver)
        if starts is None:
            return targets[0], "the RUN deletes with find in a directory msdfix cannot resolve"
        for start in starts:
            top = start.rstrip("/") or "/"
            for point, target in points.items():
                if within(point, top):
                    if start.endswith("/") and point == top:
                        continue  # -mindepth 1: find empties the mount, keeps its point
                    if find_spares(step, point, top):
                        continue  # it deletes only files, or names no directory there has
                    which = "" if point == target else f" {point}"
                    return target, (
                        f"the RUN deletes everything under {top} with find, the mount "
                        f"point{which} too"
                    )
        created = created_dirs(step, self.resolver, list(points))
        for path in created or []:
            for point, target in points.items():
                if path.endswith("/") and within(point, path.rstrip("/") or "/"):
                    return target, (
                        f"the RUN creates a directory in {path} msdfix cannot resolve (it may "
                        f"hold the mount at {point})"
                    )
                if within(point, path):
                    return target, (
                        f"the RUN creates {path}, which BuildKit creates first for the mount "
                        f"at {point} (mkdir fails, useradd copies no home files)"
                    )
        if created is None:
            return targets[
                0
            ], "the RUN creates a directory msdfix cannot resolve (it may hold the mount)"
        return None

    def _rm_words(self, step: Step, targets: list[str]) -> list[Word] | str | None:
        """The words of an ``rm`` to remove (None: the whole command), or a reason."""
        inside, outside = [], False
        cwd = run_dir(step, self.resolver)
        words = step.command.words
        for word in words[len(words) - len(step.args) :] if step.args else []:  # after sudo rm
            if word.value.startswith("-"):
                continue
            paths = removed_paths([word.value], self.resolver, cwd)
            if not paths:
                outside = True
                continue
            if any(within(t, p) and not within(p, t) for p in paths for t in targets):
                above = next(p for p in paths if any(within(t, p) for t in targets))
                return f"the RUN deletes {above}, which would contain the mount"
            mounted = [any(within(p, t) for t in targets) for p in paths]
            if all(mounted):
                inside.append(word)
            elif any(mounted):
                return (
                    f"`{word.value}` deletes a mounted directory and others: msdfix cannot edit it"
                )
            else:
                outside = True
        return inside if outside else None

    def _keep_debs(self) -> None:
        """``-o Dir::Cache::Archives=...`` on each editable apt install of the RUN."""
        mounts = [m for m in self.plan.mounts if m.target == APT_ARCHIVES_MOUNT]
        if not mounts:
            return
        manager = mounts[0].manager
        for step in self.steps:
            if step.call is None or step.call.manager is not manager:
                continue
            if step.refresh or step.call.subcommand in manager.refresh:  # fetches no .debs
                continue
            option = manager.keep_options.get(step.program)
            word = next(  # /usr/bin/apt-get too
                (w for w in step.command.words if w.value.rsplit("/", 1)[-1] == step.program),
                None,
            )
            if option is None or word is None or step.inlined:
                continue
            at = self.script.physical(word.end - 1) + 1
            self.plan.edits.append(Edit(at, at, f" {option}"))
        self.plan.note("keep .debs away from docker-clean (-o Dir::Cache::Archives)")

    def _defeat_flags(self) -> None:
        """Drop flags that switch the mounted cache off (``--no-cache-dir``)."""
        targets = [m.target for m in self.plan.mounts]
        removed = []
        for step in self.steps:
            call = step.call
            if call is None or step.inlined:
                continue
            call_targets = self.resolver.targets(call)
            if not any(within(t, m) for m in targets for t in call_targets):
                continue
            for word in call.command.words[1:]:
                if word.value in call.manager.defeat_flags:
                    span = word_removal(self.script, call.command, word)
                    if span:
                        self.plan.edits.append(Edit(*span, ""))
                        removed.append(word.value)
        if removed:
            self.plan.note(_dropped(removed))


# Why a cache that keeps what the tool built (``CacheDir.builds``) is unsafe to share.
_SHARED_BUILDS = {
    "wheels": (
        "{tool} keeps the wheels it builds from source in this cache, keyed without the "
        "build's environment (headers installed later are not seen); nothing shows that "
        "every package installs from a wheel"
    ),
    "scripts": (
        "{tool} keeps the files install scripts build (compiled addons) in its store and "
        "reuses them, keyed without the build's environment (npm_config_* variables, "
        "headers, libraries); nothing shows that no package runs an install script"
    ),
}
_TRUE = ("1", "true", "yes", "on")
PREFER_CACHE_MIN = 9999  # seconds of npm's cache-min that mean --prefer-offline
# The part of ``_configured``'s pattern every match holds, with its flags: a RUN without it
# needs no search per tool (that search tries each tool's names at every offset).
# ``npm set`` and ``npm c set`` are npm's aliases of ``npm config set`` (npm-config(1)).
_CONFIG_SET = re.compile(r"\bset\b|env\s+-w", re.IGNORECASE)


_OFFLINE_READERS: dict[int, tuple[PackageManager, PackageManager]] = {}


def _offline_reader(manager: PackageManager) -> PackageManager:
    """``manager`` whose configuration keys are its offline settings alone (what a copied or
    written configuration must set to make it read only its cache), made once per manager:
    ``dataclasses.replace`` of each tool's manager per RUN asked was a per-RUN cost."""
    found = _OFFLINE_READERS.get(id(manager))  # the registry's managers: a few dozen
    if found is None or found[0] is not manager:
        found = (manager, replace(manager, config_keys=manager.offline_config_keys))
        _OFFLINE_READERS[id(manager)] = found
    return found[1]


@lru_cache(maxsize=64)
def _config_setter(
    programs: tuple[str, ...],
    offline: tuple[tuple[str, str], ...],
    offline_only: bool = False,
    setting: str = "",
) -> re.Pattern[str]:
    """``npm config set cache ...``, ``go env -w GOMODCACHE=...`` for one tool's programs,
    or a setting of an ``offline`` variable (``go env -w GOPROXY=off``: built, a later ``go
    build`` on an emptied module mount failed, "module lookup disabled by GOPROXY=off"), or
    the tool's own offline ``setting`` (``offline_config_keys``: built, `yarn config set -H
    enableNetwork false` made a later yarn 4 install fail on an emptied mount); with
    ``offline_only``, only the settings that make the tool read only its cache."""
    names = "|".join(re.escape(p.lstrip("./")) for p in programs)
    values = "".join(rf"|\b{re.escape(var)}[=\s]+{re.escape(value)}\b" for var, value in offline)
    keys = r"(?<![-_])offline\b" if offline_only else "cache|store|offline"
    keys += f"|{setting.removeprefix('(?m)')}" if setting else ""
    # Read from the first program and the first verb of each command (atomic groups): tried
    # from each of them, ``npm set `` 500 times (4 kB) took 25 s (cubic in the command).
    return re.compile(
        rf"(?:^|(?<=[;&|\n]))(?>[^;&|\n]*?\b(?:{names})\b)"
        rf"(?>[^;&|\n]*?\b(?:set|env\s+-w)\b)[^;&|\n]*(?:{keys}{values})",
        re.IGNORECASE,
    )


@lru_cache(maxsize=1024)  # asked once per tool, and again on each pass
def _may_set_config(text: str) -> bool:
    """Whether a RUN's text may hold ``_config_setter``'s pattern: ``_CONFIG_SET``, and in an
    ASCII text the words every match holds in any case: "set" or "env", then "cache",
    "store", "off" or "network" (``COMPOSER_DISABLE_NETWORK``, yarn's ``enableNetwork``; the
    regexes try every offset; outside ASCII, case folding may match other letters, so such a
    text is searched)."""
    if text.isascii():
        lower = text.lower()
        if "set" not in lower and "env" not in lower:
            return False
        if not any(word in lower for word in ("cache", "store", "off", "network")):
            return False
    return _CONFIG_SET.search(text) is not None


def no_network(ins: Instruction) -> bool:
    """``RUN --network=none``: every tool in the RUN reads only what the image holds (built
    with ``docker build --network none``: npm install fell back to the image's /root/.npm, and
    failed with EAI_AGAIN on an empty cache mount there)."""
    flag = ins.flag("network")
    return flag is not None and (flag.value or "").strip("\"'") == "none"


def runs_offline(manager: PackageManager, args: Sequence[str], env: Mapping[str, str]) -> bool:
    """The tool reads only its cache: an offline flag (``--offline``, ``--offline=true``),
    also in a variable of arguments (``MAVEN_ARGS=-o``), or a ``GOPROXY=off``-style variable
    (``npm_config_offline=true``)."""
    words = [w for var in manager.args_env for w in (env.get(var) or "").split()]
    return _switched_on([*words, *args], manager.offline_flags, env, manager.offline_env)


def prefers_cache(
    manager: PackageManager, args: Sequence[str], env: Mapping[str, str]
) -> str | None:
    """The setting with which the call resolves versions from what the cache holds:
    ``--prefer-offline`` (or its variable), or npm's ``--cache-min`` of 9999 or more (or its
    variable), on a subcommand that is not a lock file's exact install (``npm ci``)."""
    if manager.subcommand_of(list(args)) in manager.locked_subcommands:
        return None
    if _switched_on(args, manager.prefer_cache_flags, env, manager.prefer_cache_env):
        return "--prefer-offline"
    values = _option_values(args, manager.prefer_cache_min)
    values += [env[v] for v in manager.prefer_cache_min_env if env.get(v)]
    if any(_at_least(value, PREFER_CACHE_MIN) for value in values):
        return f"{manager.prefer_cache_min[0]} of {PREFER_CACHE_MIN} or more (--prefer-offline)"
    return None


def _option_values(args: Sequence[str], options: tuple[str, ...]) -> list[str]:
    """Values given to ``options`` (``--opt=value`` or ``--opt value``)."""
    values = []
    for at, arg in enumerate(args):
        flag, eq, value = arg.partition("=")
        if flag in options:
            values.append(value if eq else (args[at + 1] if at + 1 < len(args) else ""))
    return values


def _at_least(value: str, least: float) -> bool:
    """A number of ``least`` or more (``Infinity`` included, as JavaScript's ``Number``
    reads it); a value a variable gives may be anything, so it counts."""
    if "$" in value:
        return True
    try:
        return float(value.strip() or "0") >= least
    except ValueError:
        return False


def _switched_on(
    args: Sequence[str],
    flags: tuple[str, ...],
    env: Mapping[str, str],
    variables: tuple[tuple[str, str], ...],
) -> bool:
    """One of ``flags`` is given bare or with any value but ``false``, or a variable has its
    value: nopt (npm's, pnpm's parser) reads ``--offline=`` and a value other than ``true`` or
    ``false`` as the bare flag (built: npm 10.8.2's ``ci --offline=0``, ``=no``, ``=False``
    failed ENOTCACHED on an empty cache)."""
    for arg in args:
        flag, eq, value = arg.partition("=")
        if flag in flags and (not eq or value != "false"):
            return True
    return any((env.get(var) or "").split(",")[0].lower() == value for var, value in variables)


def _positions(commands: list[Command]) -> Callable[[Command], int]:
    """``commands.index`` by a command's span, without comparing every command per lookup
    (quadratic on a RUN of thousands of cleanups); equal commands have equal spans."""
    first: dict[tuple[int, int], int] = {}
    for k, command in enumerate(commands):
        first.setdefault((command.start, command.end), k)

    def position(command: Command) -> int:
        k = first.get((command.start, command.end))
        return k if k is not None and commands[k] == command else commands.index(command)

    return position


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted indices as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _touches(step: Step, target: str, resolver: Resolver) -> bool:
    """True when the step deletes anything in or above ``target``."""
    if step.program == "rm":
        paths = removed_paths(step.args, resolver, run_dir(step, resolver))
        return any(within(p, target) or within(target, p) for p in paths)
    return step.cleans(target, resolver)


_CONFIG_DIRS = ("/etc", "/root", "/home", "/usr/local")  # system and user configuration


# An ONBUILD trigger that may bring or write a tool's configuration (``ONBUILD COPY . .``
# brings .npmrc): it runs in the stage built FROM the trigger's stage (built: .npmrc with
# offline=true, ``ONBUILD COPY . .`` in a base stage of the file; the original's npm ci read
# the base's cache and built, the mounted empty cache failed ENOTCACHED).
_TRIGGER_MAY_CONFIGURE = re.compile(r"\s*(?:copy|add|run)\b", re.I)


def _copies_config(doc: Document, stage: Stage, ins: Instruction, manager: PackageManager) -> bool:
    """A COPY/ADD (or a RUN's bind mount) that brings one of the tool's configuration files
    from the build context when it sets the cache, or when msdfix cannot read it."""
    if copies_into_config_dir(doc, stage, ins, manager):
        return True
    if not manager.config_files:
        return False
    dest = archive_destination(doc.model, stage, ins)
    if dest is not None:  # it may hold any file: the tool's configuration where it reads one
        dirs = [*_CONFIG_DIRS, *doc.model.workdirs(stage)[0].values()]
        return "$" in dest or any(within(d, dest) for d in dirs)
    if ins.cmd == "run":
        sources = mount_sources(stage, ins, doc.model)
    else:
        sources = copy_sources(stage, ins, doc.model)
    names = manager.config_files
    ctx = doc.context
    if not ctx.present:
        return any(s.pattern and posixpath.basename(s.pattern) in names for s in sources)
    for name in names:
        for rel in ctx.glob(f"*{name}"):
            if posixpath.basename(rel) != name or not any(s.copies(rel) for s in sources):
                continue
            text = ctx.read_text(rel)
            if text is None or sets_cache_config(manager, text):
                return True
    return False


def _dropped(removed: list[str]) -> str:
    """The note naming the words or commands a fix removed, each once with its count."""
    counts = Counter(removed)
    return "dropped " + ", ".join(
        f"`{r}`" + (f" ({n} times)" if n > 1 else "") for r, n in counts.items()
    )
