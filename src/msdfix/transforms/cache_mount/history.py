"""What earlier and later instructions of a stage's lineage do with a cache directory."""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from msdfix.document import Document
from msdfix.ecosystems.node.yarn import yarn_classic_spec, yarn_version_set
from msdfix.ecosystems.os import APT_ARCHIVES_MOUNT
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.base_images import ROOT, known_clean
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.shell.edit import errexit_option
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.cache_mount.root_evidence import runs_as_root
from msdfix.transforms.cache_mount.steps import (
    Step,
    always_runs,
    index_first,
    reads_image_index,
    run_steps,
    step_commands,
    substitution_read,
)
from msdfix.transforms.cache_mount.targets import Resolver

_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.[a-z0-9]+)$", re.IGNORECASE)


def mount_targets(ins: Instruction, scope: Mapping[str, str | None] | None = None) -> list[str]:
    """Targets of the cache (and other) mounts a RUN already has; BuildKit expands ENV and
    ARG values in them (``target=$POETRY_CACHE_DIR``), as ``scope`` gives them."""
    targets = []
    for flag in ins.flags_named("mount"):
        for option in (flag.value or "").split(","):
            key, _, value = option.partition("=")
            if key.strip().lower() in ("target", "dst", "destination"):
                value = value.strip().strip("\"'")
                if "$" in value and scope:
                    value = expand(value, scope)
                targets.append(posixpath.normpath(value))
    return targets


@dataclass
class History:
    """Per file: classified RUNs and the mounts decided so far, to answer two questions.

    ``may_hold``: can a directory hold files (left by the base image or an earlier step) when
    a RUN starts? ``needed_later``: does something after a RUN read a directory from the image?
    """

    doc: Document
    berry: bool
    planned: dict[int, list[str]] = field(default_factory=dict)  # id(RUN) -> our targets
    # tool id -> id of an instruction -> whether it sets the tool's cache directory in its
    # configuration (npm config set, a copied pip.conf), as read so far
    configuring: dict[str, dict[int, bool]] = field(default_factory=dict)
    _scripts: dict[int, RunScript | None] = field(default_factory=dict)
    _steps: dict[int, list[Step] | None] = field(default_factory=dict)
    _commands: dict[int, list[tuple[Command, str, list[str]]] | None] = field(default_factory=dict)
    _resolvers: dict[int, Resolver] = field(default_factory=dict)
    _mounts: dict[int, list[str]] = field(default_factory=dict)
    _stage_runs: dict[int, tuple[list[Instruction], dict[int, int]]] = field(default_factory=dict)
    _tested: dict[tuple[int, str], _Tested] = field(default_factory=dict)
    _scans: dict[tuple[str, int], _Scan] = field(default_factory=dict)
    _lineage_runs: dict[int, tuple[list[tuple[Stage, Instruction]], dict[int, int]]] = field(
        default_factory=dict
    )
    _folds: dict[tuple[int, str], _Fold] = field(default_factory=dict)
    _rooted: dict[int, dict[int, bool]] = field(default_factory=dict)
    _copy_dests: dict[int, list[tuple[int, Instruction, str]]] = field(default_factory=dict)
    _positions: dict[int, dict[int, int]] = field(default_factory=dict)
    _copied: dict[tuple[int, str], tuple[list[int], list[Instruction]]] = field(
        default_factory=dict
    )
    _scope_texts: dict[int, str] = field(default_factory=dict)
    _substitution_reads: dict[int, int | None] = field(default_factory=dict)
    _stage_shells: dict[int, list[Instruction]] = field(default_factory=dict)
    _cleared: dict[tuple[int, str], dict[int, bool]] = field(default_factory=dict)

    def resolver(self, stage: Stage, ins: Instruction) -> Resolver:
        """Cache directories as seen by one RUN (computed once per RUN), in the RUN's own
        stage: a later RUN looked at from an ancestor stage has its own scope and user."""
        key = id(ins)
        if key not in self._resolvers:
            own = self.stage_of.get(key, stage)
            resolver = Resolver(self.doc, own, ins)
            if resolver.user is None and self._runs_as_root(own, ins):
                resolver.as_root()
            self._resolvers[key] = resolver
        return self._resolvers[key]

    def _runs_as_root(self, stage: Stage, ins: Instruction) -> bool:
        """Whether a RUN of the lineage since the last USER, up to ``ins`` itself, ran a
        command only root can run (one sweep per stage)."""
        found = self._rooted.get(id(stage))
        if found is None:
            found, rooted = {}, False
            for _, other in self._lineage(stage):
                if other.cmd == "user":
                    rooted = False
                elif other.cmd == "run" and not rooted:
                    script = self.script(other)
                    rooted = script is not None and runs_as_root(script)
                found[id(other)] = rooted
            self._rooted[id(stage)] = found
        return found.get(id(ins), False)

    @cached_property
    def stage_of(self) -> dict[int, Stage]:
        """id of each instruction -> the stage it belongs to."""
        return {id(i): s for s in self.doc.model.stages for i in s.instructions}

    def script(self, ins: Instruction) -> RunScript | None:
        """The script of a RUN (computed once per RUN)."""
        key = id(ins)
        if key not in self._scripts:
            self._scripts[key] = run_script(ins, self.doc.text)
        return self._scripts[key]

    def steps(self, ins: Instruction) -> list[Step] | None:
        """Classified commands of a RUN (None for an exec-form program we cannot see into)."""
        key = id(ins)
        if key not in self._steps:
            script = self.script(ins)
            switch = self.yarn_switch(ins)
            berry = self.berry or switch is not None and not yarn_classic_spec(switch[1])
            errexit_on = self.shell_errexit(ins)
            self._steps[key] = None if script is None else run_steps(script, berry, errexit_on)
        return self._steps[key]

    def shell_errexit(self, ins: Instruction) -> bool:
        """Whether the SHELL a shell-form RUN runs under (the last one before it in its lineage)
        starts with -e (``SHELL ["/bin/bash", "-eo", "pipefail", "-c"]``); not for an exec
        form or a heredoc (its own shebang may name another shell)."""
        stage = self.stage_of.get(id(ins))
        if stage is None or ins.heredocs or ins.json_args() is not None:
            return False
        last = next((i for i in reversed(self._shells(stage)) if i.start < ins.start), None)
        argv = last.json_args() if last is not None else None
        return argv is not None and errexit_option(argv[1:])

    def _shells(self, stage: Stage) -> list[Instruction]:
        """The SHELL instructions of ``stage``'s lineage in file order (an earlier stage's come
        first in the file), listed once per stage: read per RUN, the lineage was quadratic."""
        found = self._stage_shells.get(id(stage))
        if found is None:
            found = [i for st in stage.lineage for i in st.instructions if i.cmd == "shell"]
            self._stage_shells[id(stage)] = found
        return found

    def yarn_switch(self, ins: Instruction) -> tuple[Instruction, str] | None:
        """The last RUN of the lineage, up to ``ins`` itself, that sets the yarn version later
        ``yarn`` calls run (``corepack prepare yarn@4.1.1 --activate``), with that version."""
        stage = self.stage_of.get(id(ins))
        if stage is None or not self._yarn_setters:
            return None
        flat, at = self._flat(stage)
        found = None
        for _, other in flat[: at.get(id(ins), len(flat)) + 1]:
            script = self.script(other) if id(other) in self._yarn_setters else None
            for command in script.commands if script is not None else []:
                program, args = program_args(command)
                spec = yarn_version_set([program, *args])
                if spec is not None:
                    found = (other, spec)
        return found

    @cached_property
    def _yarn_setters(self) -> frozenset[int]:
        """ids of the RUNs whose text may set yarn's version (a command of corepack, or
        yarn's ``set version``/``policies set-version``): the others need no parse."""
        return frozenset(
            id(ins)
            for ins in self.doc.dockerfile.instructions
            if ins.cmd == "run"
            and "yarn" in ins.logical
            and ("corepack" in ins.logical or "version" in ins.logical)
        )

    def mounted(self, ins: Instruction) -> list[str]:
        """Targets mounted in a RUN: by the file itself and by the fixes planned so far."""
        key = id(ins)
        if key not in self._mounts:
            stage = self.stage_of.get(key)
            expands = any("$" in (f.value or "") for f in ins.flags_named("mount"))
            scope = (
                self.doc.model.fixed_scope(stage, ins) if stage is not None and expands else None
            )
            self._mounts[key] = mount_targets(ins, scope)
        return self._mounts[key] + self.planned.get(key, [])

    def may_hold(self, stage: Stage, ins: Instruction, target: str) -> int | None:
        """Line of what may have left files in ``target`` before ``ins`` (0: the base image).

        A fold over the lineage's RUNs, kept per stage and target and continued from where the
        last question stopped (RUNs are asked about in file order), so a file of many RUNs
        costs linear time. Planning mounts for a RUN the fold has passed drops the fold.
        """
        flat, at = self._flat(stage)
        stop = at.get(id(ins), len(flat))
        fold = self._folds.get((id(stage), target))
        if fold is None or fold.next > stop:
            root = stage.root_image
            holder: int | None = None if known_clean(root) else 0
            fold = _Fold(0, holder, holder is None)  # official images delete .debs
            self._folds[(id(stage), target)] = fold
        for current, other in flat[fold.next : stop]:
            if "docker-clean" in other.logical:
                fold.debs_cleaned = False
            if any(within(target, m) or within(m, target) for m in self.mounted(other)):
                continue
            fold.holder = self._after(current, other, target, fold.holder, fold.debs_cleaned)
        fold.next = max(fold.next, stop)
        return fold.holder

    def plan(self, ins: Instruction, targets: list[str]) -> None:
        """Record the mounts planned for a RUN (later questions see them)."""
        self.planned[id(ins)] = targets
        self._folds = {
            key: fold
            for key, fold in self._folds.items()
            if self._lineage_runs[key[0]][1].get(id(ins), fold.next) >= fold.next
        }

    def _flat(self, stage: Stage) -> tuple[list[tuple[Stage, Instruction]], dict[int, int]]:
        """The RUNs of the lineage in order, with their stage, and the position of each."""
        found = self._lineage_runs.get(id(stage))
        if found is None:
            flat = [(c, i) for c in stage.lineage for i in c.instructions if i.cmd == "run"]
            found = self._lineage_runs[id(stage)] = (
                flat,
                {id(i): n for n, (_, i) in enumerate(flat)},
            )
        return found

    def _after(
        self, stage: Stage, ins: Instruction, target: str, holder: int | None, debs_cleaned: bool
    ) -> int | None:
        steps = self.steps(ins)
        if steps is None:
            return ins.start_line
        resolver = self.resolver(stage, ins)
        for step in steps:
            if step.unknown:
                holder = ins.start_line
            elif step.call is not None and target in resolver.targets(step.call):
                if not (target == APT_ARCHIVES_MOUNT and debs_cleaned) and not _defeated(step):
                    holder = ins.start_line
            elif not step.conditional and step.cleans(target, resolver):
                holder = None
        return holder

    def copied_into(self, stage: Stage, ins: Instruction, target: str) -> Instruction | None:
        """The last COPY/ADD of the lineage before ``ins`` whose files may land in ``target``
        (a mount there hides them from ``ins``): its destination is in ``target``, or is a
        directory above it. Found once per stage and target, then by bisection."""
        key = (id(stage), target)
        if key not in self._copied:
            landing = [
                (at, c, dest) for at, c, dest in self._copies(stage) if self._lands(c, dest, target)
            ]
            self._copied[key] = ([at for at, _, _ in landing], [c for _, c, _ in landing])
        starts, copies = self._copied[key]
        at = bisect.bisect_left(starts, self._lineage_position(stage)[id(ins)])
        return copies[at - 1] if at else None

    def _copies(self, stage: Stage) -> list[tuple[int, Instruction, str]]:
        """Each COPY/ADD of the lineage with a known destination: position, instruction,
        absolute destination (once per stage)."""
        found = self._copy_dests.get(id(stage))
        if found is None:
            workdirs, _ = self.doc.model.workdirs(stage)
            found = [
                (position, other, dest)
                for position, (st, other) in enumerate(self._lineage(stage))
                if other.cmd in ("copy", "add")
                and (dest := self.destination(st, other, workdirs[id(other)])) is not None
            ]
            self._copy_dests[id(stage)] = found
        return found

    def earlier_runs(
        self, stage: Stage, ins: Instruction, key: str, test: Callable[[Instruction], bool]
    ) -> Iterator[Instruction]:
        """RUNs before ``ins`` in the lineage of ``stage`` that pass ``test``, nearest first.

        As for ``later_runs``, each stage's RUNs are tested once per ``key`` and a lookup costs
        a bisection: a scan of every earlier RUN per RUN was quadratic in a stage's RUNs.
        """
        positions, hits = self._passing(stage, key, test)
        position = self._runs(stage)[1].get(id(ins), 0)
        yield from reversed(hits[: bisect.bisect_left(positions, position)])
        for ancestor in reversed(stage.lineage[:-1]):
            yield from reversed(self._passing(ancestor, key, test)[1])

    def _lineage(self, stage: Stage) -> list[tuple[Stage, Instruction]]:
        return [(st, i) for st in stage.lineage for i in st.instructions]

    def _lineage_position(self, stage: Stage) -> dict[int, int]:
        """Position of each instruction in the lineage of ``stage`` (by id)."""
        found = self._positions.get(id(stage))
        if found is None:
            found = {id(i): n for n, (_, i) in enumerate(self._lineage(stage))}
            self._positions[id(stage)] = found
        return found

    def _lands(self, ins: Instruction, dest: str, target: str) -> bool:
        """Whether the COPY/ADD to ``dest`` may put files in ``target``.

        Into ``target`` or below it: yes. Into a directory above it: a file source lands at
        ``dest/<name>``, a directory's contents below ``dest``, so a directory source (or an
        archive ADD unpacks) may hold the path, unless the build context shows it does not.
        """
        if within(dest, target):
            return True
        if not within(target, dest):
            return False
        rel = posixpath.relpath(target, dest)
        ctx = self.doc.context
        other_stage = ins.flag("from") is not None
        for raw in instruction_values(ins)[1][:-1]:
            if "://" in raw or raw.startswith("git@"):  # a download: one file, or a git tree
                name = posixpath.basename(raw.split("#")[0].split("?")[0].rstrip("/"))
                if within(posixpath.join(dest, name), target) or ".git" in raw or "#" in raw:
                    return True
                continue
            source = posixpath.normpath(raw).lstrip("/") or "."
            name = posixpath.basename(source)
            if within(posixpath.join(dest, name), target):
                return True
            if ins.cmd == "add" and _ARCHIVE.search(name):
                return True  # unpacked below dest
            if not other_stage and ctx.present and "$" not in source:
                if ctx.holds(posixpath.normpath(posixpath.join(source, rel))):
                    return True  # the context has the path below the copied directory
                continue
            if source in (".", "/") or "." not in name or raw.endswith("/"):
                return True  # a directory whose contents msdfix cannot see
        return False

    def destination(self, stage: Stage, ins: Instruction, workdir: str) -> str | None:
        """The absolute destination of a COPY/ADD (None when a variable hides it)."""
        values = instruction_values(ins)[1]
        if len(values) < 2:
            return None
        dest = expand(values[-1], self.doc.model.stage_scope(stage, ins))
        if "$" in dest or "$" in workdir:
            return None
        return posixpath.normpath(posixpath.join(workdir, dest))

    def needed_later(self, stage: Stage, ins: Instruction, target: str) -> Instruction | None:
        """A later instruction that reads ``target`` from the image: it names the directory
        (a RUN's text, a ``COPY --from`` of this stage) or, for an index, installs from it."""

        def reads(run: Instruction) -> bool:  # the same from every stage: a RUN's own resolver
            return self.names(stage, run, target)

        reader = next(self.later_runs(stage, ins, f"names {target}", reads), None)
        if reader is not None:
            return reader
        copies = self._copies_from
        if not copies:
            return None
        index = self._stage_index
        # --from names a stage by its alias or its index (``COPY --from=0``)
        names = {
            name
            for s in [stage, *self._descendants(stage)]
            for name in (s.name.lower(), str(index[id(s)]))
        }
        readers = [
            other
            for name in names
            for other, paths in copies.get(name, ())
            if any(within(target, p) or within(p, target) for p in paths)
        ]
        return min(readers, key=lambda i: i.start) if readers else None

    @cached_property
    def _stage_index(self) -> dict[int, int]:
        """id of each stage -> its index."""
        return {id(s): n for n, s in enumerate(self.doc.model.stages)}

    @cached_property
    def _copies_from(self) -> dict[str, list[tuple[Instruction, list[str]]]]:
        """Every ``COPY/ADD --from`` and ``RUN --mount=type=bind,from=`` by the stage it names
        (lower case), with its absolute sources (looked up by name: a scan of every one per
        RUN was quadratic in a file of many stages)."""
        found: dict[str, list[tuple[Instruction, list[str]]]] = {}
        for other, source, paths in self._each_copy_from():
            found.setdefault(source, []).append((other, paths))
        return found

    def _each_copy_from(self) -> list[tuple[Instruction, str, list[str]]]:
        """Every ``COPY/ADD --from`` and ``RUN --mount=type=bind,from=``: the stage it names
        (lower case), its absolute sources."""
        found = []
        for other in self.doc.dockerfile.instructions:
            source = other.flag("from") if other.cmd in ("copy", "add") else None
            if source:
                paths = _absolute(instruction_values(other)[1][:-1])
                found.append((other, (source.value or "").lower(), paths))
            for mount in other.flags_named("mount") if other.cmd == "run" else []:
                fields = dict(p.partition("=")[::2] for p in (mount.value or "").split(","))
                if fields.get("from") and fields.get("type", "bind") == "bind":
                    path = fields.get("source", fields.get("src", "/")) or "/"
                    found.append((other, fields["from"].lower(), _absolute([path]) or ["/"]))
        return found

    def names(self, stage: Stage, ins: Instruction, target: str) -> bool:
        """True when a command of ``ins`` names a path in ``target`` other than to delete it,
        also through a variable (``pip download -d $WHEELHOUSE``), or runs with a variable
        that names a path below it (``ENV PIP_FIND_LINKS=/root/.cache/pip/wheelhouse``: pip
        reads it; the cache directory's own variable names ``target`` itself)."""
        inside = target.rstrip("/") + "/"  # in every value _below accepts: a cheap filter
        text = ins.logical
        if (
            target not in text
            and "$" not in text
            and not ins.heredocs
            and not ins.is_json  # JSON may escape a path's characters (`\/root`)
            and not self._in_values(stage, ins, inside)
        ):
            return False  # no word or value can name it: skip parsing the RUN
        resolver = self.resolver(stage, ins)
        held = inside in resolver.values_text  # False: no value of the stage's scope holds it
        # The steps' words first: a RUN's steps are classified only where a word matches
        # (most later RUNs asked about are no package manager's and name nothing)
        for at, (command, program, args) in enumerate(self._step_commands(ins) or []):
            if program == "rm":
                continue
            assigned = command.assignments
            scope = {**resolver.scope, **assigned} if assigned else resolver.scope
            if not any(
                target in (expand(arg, scope) if "$" in arg else arg) for arg in args
            ) and not (
                (held or assigned)
                and any(inside in v and _below(v, target) for v in scope.values() if v)
            ):
                continue
            steps = self.steps(ins)
            if steps is not None and not steps[at].cleans(target, resolver):
                return True
        return False

    def _step_commands(self, ins: Instruction) -> list[tuple[Command, str, list[str]]] | None:
        """``step_commands`` of a RUN (None where ``steps`` is None), once per RUN."""
        key = id(ins)
        if key not in self._commands:
            script = self.script(ins)
            self._commands[key] = None if script is None else step_commands(script.commands)
        return self._commands[key]

    def _in_values(self, stage: Stage, ins: Instruction, part: str) -> bool:
        """Whether ``part`` is in the text of the RUN's resolver's scope values
        (``Resolver.values_text``), without building a resolver where the stage's values
        already say no: each value of that scope is one of them or ``${NAME}`` (no ``/``, which
        ``part`` ends with), so text found in none of them is in none of those."""
        key = id(ins)
        if key not in self._resolvers and "\0" not in part and part.endswith("/"):
            if key not in self._scope_texts:
                own = self.stage_of.get(key, stage)
                values = self.doc.model.stage_scope(own, ins).values()
                self._scope_texts[key] = "\0".join(v for v in values if v is not None)
            if part not in self._scope_texts[key]:
                return False
        return part in self.resolver(stage, ins).values_text

    def named_before(self, stage: Stage, ins: Instruction, target: str) -> Instruction | None:
        """An earlier RUN of the lineage that names a path in ``target`` (``pip download -d
        /root/.cache/pip/wheelhouse``): it may have left files there that ``ins`` reads."""
        flat, at = self._flat(stage)
        for own, other in reversed(flat[: at.get(id(ins), 0)]):
            if self.names(own, other, target):
                return other
        return None

    def index_reader(self, stage: Stage, ins: Instruction, target: str) -> Instruction | None:
        """A later RUN that may read the package index from the image before refreshing it
        or deleting ``target`` (the index's directory) in a command that always runs.

        Each stage built FROM this one sees the RUNs of its own lineage after ``ins``.
        """
        runs, at = self._runs(stage)
        after = runs[at[id(ins)] + 1 :]
        sequences = [after]
        for descendant in self._descendants(stage):
            between = descendant.below(stage)
            sequences.append(after + [r for s in between for r in s.of("run")])
        for sequence in sequences:
            for other in sequence:
                steps = self.steps(other)
                read = self._substitution_read(other)
                if steps is not None and self.clears_first(stage, other, steps, target, read):
                    break
                if steps is None or reads_image_index(steps) or read is not None:
                    return other
                if any(s.refresh for s in steps):
                    break
        return None

    def _substitution_read(self, ins: Instruction) -> int | None:
        """``substitution_read`` of a RUN (None where ``steps`` is None), once per RUN: each
        apt RUN's ``index_reader`` asks it of every later RUN, per target."""
        key = id(ins)
        if key not in self._substitution_reads:
            script, steps = self.script(ins), self.steps(ins)
            read = None if script is None or steps is None else substitution_read(script, steps)
            self._substitution_reads[key] = read
        return self._substitution_reads[key]

    def clears_first(
        self, stage: Stage, ins: Instruction, steps: list[Step], target: str, read: int | None
    ) -> bool:
        """Whether the RUN deletes ``target`` (``rm -rf /var/lib/apt/lists/*``) in a command
        that always runs, before any command that may read or refresh the index (``read``:
        where a substitution's command may read it): what an earlier RUN left there is then
        read by nothing after it."""
        first = index_first(steps)
        before = steps[: steps.index(first)] if first is not None else steps
        if read is not None:
            before = [s for s in before if not s.inlined and s.command.end <= read]
        return self._clears(stage, ins, before, target)

    def cleared_later(self, stage: Stage, ins: Instruction, target: str) -> bool:
        """Whether a later RUN of ``ins``'s stage deletes ``target`` in a command that always
        runs: the files ``ins`` leaves there are then in no image of the stage's lineage.

        The RUNs after ``ins`` are tested up to the first that deletes it, as one question
        needs; each answer is kept for the RUNs walked (per stage and target), so a later
        question stops where an earlier one walked: testing every later RUN per question was
        quadratic in a file of many apt RUNs."""
        runs, at = self._runs(stage)
        known = self._cleared.setdefault((id(stage), target), {})  # position -> one from it on
        walked: list[int] = []
        position, answer = at[id(ins)] + 1, False
        while position < len(runs):
            if position in known:
                answer = known[position]
                break
            walked.append(position)
            steps = self.steps(runs[position])
            if steps is not None and self._clears(stage, runs[position], steps, target):
                answer = True
                break
            position += 1
        for walked_position in walked:
            known[walked_position] = answer
        return answer

    def _clears(self, stage: Stage, ins: Instruction, steps: list[Step], target: str) -> bool:
        """Whether one of ``steps`` deletes ``target`` in a command that always runs, as root
        (another user's ``rm -rf`` cannot delete root's files, and ``; next`` hides that), in
        the image: not where the RUN's own mount covers it (the file's, not the planned ones)."""
        script = self.script(ins)
        resolver = self.resolver(stage, ins)
        self.mounted(ins)  # reads the file's mounts once
        return (
            script is not None
            and not any(within(target, m) for m in self._mounts[id(ins)])
            and resolver.user == ROOT
            and any(
                s.program == "rm" and s.cleans(target, resolver) and always_runs(s, script.commands)
                for s in steps
            )
        )

    def later_runs(
        self, stage: Stage, ins: Instruction, key: str, test: Callable[[Instruction], bool]
    ) -> Iterator[Instruction]:
        """RUNs after ``ins`` in its stage, then those of the stages built FROM it, that pass
        ``test``. ``key`` names the test: each stage's RUNs are tested once per key, and a
        lookup costs a bisection, so a file of many RUNs costs linear time, not quadratic."""
        position = self._runs(stage)[1][id(ins)]
        positions, hits = self._passing(stage, key, test, position + 1)
        yield from hits[bisect.bisect_right(positions, position) :]
        for descendant in self._descendants(stage):
            yield from self._passing(descendant, key, test)[1]

    def _runs(self, stage: Stage) -> tuple[list[Instruction], dict[int, int]]:
        """The RUNs of ``stage`` and the position of each (computed once per stage)."""
        found = self._stage_runs.get(id(stage))
        if found is None:
            runs = stage.of("run")
            found = self._stage_runs[id(stage)] = (runs, {id(r): i for i, r in enumerate(runs)})
        return found

    def _passing(
        self, stage: Stage, key: str, test: Callable[[Instruction], bool], start: int = 0
    ) -> tuple[list[int], list[Instruction]]:
        """Positions and RUNs of ``stage`` that pass the test named ``key``, in file order:
        every one from position ``start`` on, and those before it that an earlier question
        needed. A RUN is tested once per key, and only when a question needs it (RUNs are
        asked about in file order: the RUNs before the first asked about need no test for
        what comes after them). The tests read the file, never the mounts planned so far."""
        found = self._tested.get((id(stage), key))
        runs = self._runs(stage)[0]
        if found is None:
            found = self._tested[(id(stage), key)] = _Tested(len(runs), [], [])
        if start < found.start:
            new = [i for i in range(start, found.start) if test(runs[i])]
            found.positions[:0] = new
            found.hits[:0] = [runs[i] for i in new]
            found.start = start
        return found.positions, found.hits

    def first_before(
        self, stage: Stage, ins: Instruction, key: str, kinds: tuple[str, ...], test: _Test
    ) -> Instruction | None:
        """The first instruction of ``kinds`` in ``stage``'s lineage, up to ``ins`` itself,
        that passes the test named ``key`` (None: none does). The lineage is read once per
        stage and key, in file order, and only as far as a question needs: a RUN asks once
        per tool, and reading its lineage from the top per question was quadratic."""
        scan = self._scans.get((key, id(stage)))
        if scan is None:
            found = [(st, i) for st in stage.lineage for i in st.instructions if i.cmd in kinds]
            scan = self._scans[(key, id(stage))] = _Scan(found)
        items = scan.items
        while (
            scan.hit is None and scan.next < len(items) and items[scan.next][1].start <= ins.start
        ):
            own, other = items[scan.next]
            scan.next += 1
            if test(own, other):
                scan.hit = other
        return scan.hit if scan.hit is not None and scan.hit.start <= ins.start else None

    def _descendants(self, stage: Stage) -> list[Stage]:
        """Stages built FROM ``stage`` (computed once per stage)."""
        return self._stage_children[id(stage)]

    @cached_property
    def _stage_children(self) -> dict[int, list[Stage]]:
        model = self.doc.model
        return {id(s): model.descendants(s) for s in model.stages}


_Test = Callable[[Stage, Instruction], bool]


@dataclass
class _Scan:
    """``first_before``'s reading of one stage's lineage for one test: the instructions of
    the kinds asked about, how many are tested, and the first that passed."""

    items: list[tuple[Stage, Instruction]]
    next: int = 0
    hit: Instruction | None = None


@dataclass
class _Tested:
    """``_passing``'s answers for one stage and test: RUNs from position ``start`` on are
    tested; ``positions`` and ``hits`` are those that passed, in file order."""

    start: int
    positions: list[int]
    hits: list[Instruction]


@dataclass
class _Fold:
    """``may_hold``'s state after the lineage's first ``next`` RUNs."""

    next: int
    holder: int | None
    debs_cleaned: bool


def _defeated(step: Step) -> bool:
    call = step.call
    return call is not None and any(a in call.manager.defeat_flags for a in step.args)


def _absolute(paths: list[str]) -> list[str]:
    return [posixpath.normpath(p) for p in paths if p.startswith("/")]


def _below(value: str, target: str) -> bool:
    """A variable's value names a path strictly inside ``target`` (one path of a list, or a
    ``file://`` URL: ``GOPROXY=file:///go/pkg/mod/cache/download``)."""
    paths = [posixpath.normpath(p) for p in re.split(r"[\s:,;]+", value) if p.startswith("/")]
    return any(p.rstrip("/") != target.rstrip("/") and within(p, target) for p in paths)
