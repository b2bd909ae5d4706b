"""Stages of a Dockerfile: base image, alias, platform, and the COPY --from graph."""

from __future__ import annotations

import bisect
import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property

from msdfix.model.args import expand
from msdfix.model.base_images import DEFAULT_WORKDIRS
from msdfix.model.image import ImageRef, parse_image
from msdfix.syntax import Dockerfile, Instruction
from msdfix.syntax.values import env_pairs, instruction_values, unquote


@dataclass
class Stage:
    """One ``FROM`` and the instructions up to the next ``FROM``."""

    index: int
    from_: Instruction
    image: ImageRef
    alias: str | None
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)
    parent: Stage | None = None  # set when FROM names an earlier stage
    # other earlier stages FROM may name when a build argument changes its variables
    # (``FROM base-${ENV}``: base-dev as well as the default's base-prod)
    alternates: list[Stage] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Alias, or the index as BuildKit names unnamed stages."""
        return self.alias or str(self.index)

    @property
    def lineage(self) -> list[Stage]:
        """This stage and the stages it is built FROM, the root (an image, not a stage) first."""
        chain: list[Stage] = []
        current: Stage | None = self
        while current is not None:
            chain.append(current)
            current = current.parent
        return chain[::-1]

    @property
    def ancestry(self) -> list[Stage]:
        """The lineage plus every stage a build argument may put in it instead (the
        ``alternates`` of each FROM along the way, and their own ancestry)."""
        found: dict[int, Stage] = {}
        todo: list[Stage] = [self]
        while todo:
            current = todo.pop()
            if id(current) in found:
                continue
            found[id(current)] = current
            todo += [s for s in (current.parent, *current.alternates) if s is not None]
        return sorted(found.values(), key=lambda s: s.index)

    def below(self, ancestor: Stage) -> list[Stage]:
        """The stages after ``ancestor`` down to this one, along the FROM chain that reaches
        it (through an alternate where a build argument may choose it); [] when none does."""
        lineage = self.lineage
        if not any(s.alternates for s in lineage):  # the usual case: one chain, no search
            at = next((i for i, s in enumerate(lineage) if s is ancestor), None)
            return [] if at is None else lineage[at + 1 :]
        chain: list[Stage] = []
        current: Stage | None = self
        while current is not None and current is not ancestor:
            chain.append(current)
            current = next(
                (
                    p
                    for p in (current.parent, *current.alternates)
                    if p is not None and any(a is ancestor for a in p.ancestry)
                ),
                None,
            )
        return chain[::-1] if current is ancestor else []

    @property
    def variable_lineage(self) -> Stage | None:
        """The first stage of the lineage whose FROM a build argument may point at another
        stage (its WORKDIR, USER, ENV and RUNs are then not known), or None."""
        return next((s for s in self.lineage if s.alternates), None)

    @property
    def root(self) -> Stage:
        """The first stage of the lineage: the one whose FROM names an image."""
        return self.lineage[0]

    @property
    def root_image(self) -> ImageRef:
        """The image at the bottom of the lineage (what the first FROM of the chain names)."""
        return self.root.image

    def entry(self) -> tuple[Instruction | None, Instruction | None]:
        """(ENTRYPOINT, CMD) in effect at the end of the stage, as BuildKit sets them.

        The last of each along the lineage, except that an ENTRYPOINT drops the CMD it inherits
        (from an earlier stage, or the base image's: None) and keeps one set before it in its own
        stage. ``ENTRYPOINT []`` is returned as written.
        """
        entrypoint: Instruction | None = None
        cmd: Instruction | None = None
        for stage in self.lineage:
            cmd_set = False
            for ins in stage.instructions:
                if ins.cmd == "cmd":
                    cmd, cmd_set = ins, True
                elif ins.cmd == "entrypoint":
                    entrypoint = ins
                    if not cmd_set:
                        cmd = None
        return entrypoint, cmd

    def of(self, *cmds: str) -> list[Instruction]:
        """Instructions of this stage with one of the given names."""
        return [i for i in self.instructions if i.cmd in cmds]

    def users_after(self, ins: Instruction) -> list[Instruction]:
        """The stage's USER instructions after ``ins``, found by bisection in a list made on
        the first question (after the model is built): ``of("user")`` per RUN was quadratic
        in a stage of thousands of RUNs."""
        starts, users = self._users
        return users[bisect.bisect_right(starts, ins.start) :]

    @cached_property
    def _users(self) -> tuple[list[int], list[Instruction]]:
        users = self.of("user")
        return [i.start for i in users], users

    def copy_sources(self) -> list[str]:
        """Stage names or images referenced by ``COPY --from`` / ``RUN --mount=from=``."""
        found = []
        for ins in self.instructions:
            for flag in ins.flags:
                if flag.name == "from" and flag.value:
                    found.append(flag.value)
                if flag.name == "mount" and flag.value:
                    match = re.search(r"(?:^|,)from=([^,]+)", flag.value)
                    if match:
                        found.append(match.group(1))
        return found


@dataclass
class Model:
    """Read-only view: global ARGs, stages, and the COPY --from graph.

    It keeps no reference to its Dockerfile, which caches it (``Document.model``): that cycle
    left every parsed file to the cyclic GC, about a seventh of a corpus run.
    """

    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage | None:
        """The stage a plain ``docker build`` produces."""
        return self.stages[-1] if self.stages else None

    def images(self) -> list[Stage]:
        """The images the Dockerfile defines: the final stage, every other stage with a CMD
        or ENTRYPOINT of its own (``FROM toolchain AS dev`` + ``CMD ["bash"]``, built with
        ``--target dev``), and every named stage no other stage uses: only ``--target`` builds
        it, so it is an image whatever its CMD (a devcontainer, a debug image). ``--target``
        takes a name ("target stage 0 could not be found"): an unnamed stage nothing uses is
        never built."""
        return list(self._images)

    def ships(self, stage: Stage) -> bool:
        """Whether ``stage``'s layers are part of an image the Dockerfile defines (it is one,
        or one is built FROM it); a stage only copied from ships none of its layers."""
        return id(stage) in self._shipped

    @cached_property
    def _images(self) -> tuple[Stage, ...]:
        used = {id(p) for s in self.stages for p in (s.parent, *s.alternates) if p is not None}
        for stage in self.stages:  # COPY --from and RUN --mount=from=, by name or index
            for name in stage.copy_sources():
                found = self.stage(name)
                if found is not None and found is not stage:
                    used.add(id(found))
        return tuple(
            s
            for s in self.stages
            if s is self.final or s.of("cmd", "entrypoint") or (s.alias and id(s) not in used)
        )

    @cached_property
    def _shipped(self) -> frozenset[int]:
        return frozenset(id(s) for image in self._images for s in image.ancestry)

    def stage(self, name: str) -> Stage | None:
        """Stage by alias (case-insensitive) or index: the first that has that name."""
        return self._by_name.get(name.lower())

    @cached_property
    def _by_name(self) -> dict[str, Stage]:
        names: dict[str, Stage] = {}
        for stage in self.stages:
            if stage.alias:
                names.setdefault(stage.alias.lower(), stage)
            names.setdefault(str(stage.index), stage)
        return names

    def descendants(self, stage: Stage) -> list[Stage]:
        """Stages built FROM ``stage``, directly or through other stages, in file order."""
        found, todo = [], list(self._children.get(id(stage), []))
        while todo:
            child = todo.pop()
            found.append(child)
            todo += self._children.get(id(child), [])
        return sorted(found, key=lambda s: s.index)

    @cached_property
    def _children(self) -> dict[int, list[Stage]]:
        """id(stage) -> the stages whose FROM names it."""
        children: dict[int, list[Stage]] = {}
        for stage in self.stages:
            for parent in (stage.parent, *stage.alternates):
                if parent is not None:
                    children.setdefault(id(parent), []).append(stage)
        return children

    def copy_graph(self) -> dict[str, list[str]]:
        """Stage name -> names of stages or images it copies or mounts from."""
        return {s.name: s.copy_sources() for s in self.stages}

    def stage_scope(self, stage: Stage, upto: Instruction | None = None) -> dict[str, str | None]:
        """ARG/ENV values visible in ``stage`` before ``upto`` (declared defaults only)."""
        scopes = self._scopes(stage)
        if upto is None or id(upto) not in scopes.before:
            return dict(scopes.final)
        return scopes.at(scopes.before[id(upto)])

    def fixed_scope(self, stage: Stage, upto: Instruction | None = None) -> dict[str, str | None]:
        """``stage_scope`` without the values ``docker build --build-arg`` may change: an ARG's
        default, and an ENV value made from one. A path msdfix writes into new text is worked
        out with these: ``COPY --from=build /app/server`` from ``ARG HOME_DIR=/app`` would
        name a folder that a build with another HOME_DIR does not have."""
        return self.scopes(stage, upto)[1]

    def scopes(
        self, stage: Stage, upto: Instruction | None = None
    ) -> tuple[dict[str, str | None], dict[str, str | None]]:
        """``stage_scope`` and ``fixed_scope`` together, from one rebuild of the scope."""
        overridable = self._scopes(stage).overridable
        scope = self.stage_scope(stage, upto)
        return scope, {k: None if k in overridable else v for k, v in scope.items()}

    def workdirs(
        self, stage: Stage, fixed: bool = False, unknown: str | None = None
    ) -> tuple[dict[int, str], str]:
        """The working directory before each instruction of ``stage``'s lineage (by id), and at its end.

        WORKDIR values get their ARG/ENV defaults expanded (``fixed``: only the values no
        build argument can change, see ``fixed_scope``) and their quotes removed. Without
        ``unknown``, the walk starts at the root image's default WORKDIR (``/`` unless the
        image is known to set another) and a variable without a value stays in the path as
        written. With it, a directory that cannot be known is ``{unknown}{n}``: the root
        image's (``n`` empty: any image may set one), and each WORKDIR whose value keeps a
        variable (``n`` counts them). Computed once per stage and form: the dict is shared.
        """
        cache: dict[tuple[int, bool, str | None], tuple[dict[int, str], str]]
        cache = self.__dict__.setdefault("_workdir_cache", {})
        key = (stage.index, fixed, unknown)
        if key not in cache:
            cache[key] = self._workdirs(stage, fixed, unknown)
        return cache[key]

    def _workdirs(
        self, stage: Stage, fixed: bool, unknown: str | None
    ) -> tuple[dict[int, str], str]:
        scope_of = self.fixed_scope if fixed else self.stage_scope
        default = DEFAULT_WORKDIRS.get(stage.root_image.full_name, "/")
        current = default if unknown is None else unknown
        before: dict[int, str] = {}
        unknowns = 0
        for st in stage.lineage:
            for ins in st.instructions:
                before[id(ins)] = current
                values = instruction_values(ins)[1] if ins.cmd == "workdir" else []
                if not values:
                    continue
                path = unquote(expand(values[0], scope_of(st, ins)), ins.escape)
                if unknown is not None and ("$" in path or not path):
                    unknowns += 1
                    current = f"{unknown}{unknowns}"
                else:
                    current = posixpath.normpath(posixpath.join(current, path))
        return before, current

    def _scopes(self, stage: Stage) -> _Scopes:
        """One sweep over the stage chain: the scope before each instruction, and at the end."""
        cache: dict[int, _Scopes] = self.__dict__.setdefault("_scope_cache", {})
        if stage.index in cache:
            return cache[stage.index]
        scopes = _Scopes()
        scope = scopes.final
        changes = 0  # ARG and ENV instructions seen so far
        for st in stage.lineage:
            for ins in st.instructions:
                if st is stage:
                    scopes.before[id(ins)] = changes
                if ins.cmd not in ("env", "arg"):
                    continue
                for (name, raw), (_, value) in zip(
                    env_pairs(ins), line_values(ins, scope), strict=True
                ):
                    if ins.cmd == "arg" or set(_REFERENCE.findall(raw)) & scopes.overridable:
                        scopes.overridable.add(name)  # ever: later lines may still use it
                    if ins.cmd == "env" or raw:
                        scopes.set(name, value, changes)
                    elif name not in scope:
                        scopes.set(name, self.global_args.get(name), changes)
                changes += 1
        cache[stage.index] = scopes
        return scopes


@dataclass
class _Scopes:
    """ARG/ENV values along a stage chain: every value with the instruction that set it.

    The scope before an instruction is rebuilt when asked for, from the last one built, so n
    ENV lines cost memory in proportion to n (a copy of the scope per instruction would cost
    n squared).
    """

    final: dict[str, str | None] = field(default_factory=dict)
    before: dict[int, int] = field(default_factory=dict)  # id(ins) -> ARG/ENV lines before it
    log: list[tuple[str, str | None]] = field(default_factory=list)  # (name, value) in order
    log_changes: list[int] = field(default_factory=list)  # the ARG/ENV line of each entry
    last: tuple[int, dict[str, str | None]] = (0, {})
    overridable: set[str] = field(default_factory=set)  # names set from an ARG, ever

    def set(self, name: str, value: str | None, change: int) -> None:
        self.final[name] = value
        self.log.append((name, value))
        self.log_changes.append(change)

    def at(self, change: int) -> dict[str, str | None]:
        """The scope after the first ``change`` ARG/ENV instructions (a copy)."""
        if self.last[0] == change:  # the instructions between two ARG/ENVs: one copy
            return dict(self.last[1])
        done, scope = self.last if self.last[0] <= change else (0, {})
        scope = dict(scope)
        first = bisect.bisect_left(self.log_changes, done)
        upto = bisect.bisect_left(self.log_changes, change)
        for name, value in self.log[first:upto]:
            scope[name] = value
        self.last = (change, scope)
        return dict(scope)


_REFERENCE = re.compile(r"\$\{?(\w+)")


def line_values(ins: Instruction, scope: dict[str, str | None]) -> list[tuple[str, str | None]]:
    """(name, value) of an ENV or ARG line, every value expanded with the variables as they
    were before the line (``ENV A=/opt B=$A/bin`` gives B the earlier A, as BuildKit does);
    None for an ARG without default, and for an ARG value naming a variable the same line
    sets (frontend versions differ on it)."""
    pairs = env_pairs(ins)
    before = dict(scope) if len(pairs) > 1 else scope
    found: list[tuple[str, str | None]] = []
    for name, value in pairs:
        if ins.cmd == "arg" and not value:
            found.append((name, None))
        elif ins.cmd == "arg" and {n for n, _ in found} & set(_REFERENCE.findall(value)):
            found.append((name, None))
        else:
            found.append((name, unquote(expand(value, before), ins.escape)))
    return found


def build_model(dockerfile: Dockerfile) -> Model:
    """Compute stages and global ARG defaults of a parsed Dockerfile."""
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    aliases: dict[str, Stage] = {}
    for ins in dockerfile.instructions:
        if ins.cmd == "from":
            _, values, _ = instruction_values(ins)
            raw = expand(values[0], global_args) if values else ""
            alias = values[2] if len(values) >= 3 and values[1].lower() == "as" else None
            platform = ins.flag("platform")
            stage = Stage(
                len(stages), ins, parse_image(raw), alias, platform.value if platform else None
            )
            stage.parent = aliases.get(raw.lower())  # the last earlier stage of that name
            if values and "$" in values[0]:
                stage.alternates = _alternates(values[0], stage.parent, aliases)
            stages.append(stage)
            if alias:
                aliases[alias.lower()] = stage
        elif stages:
            stages[-1].instructions.append(ins)
        elif ins.cmd == "arg":
            global_args.update(line_values(ins, global_args))
    return Model(global_args, stages)


_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")


def _alternates(written: str, default: Stage | None, aliases: dict[str, Stage]) -> list[Stage]:
    """The earlier stages a FROM with variables may name under another ``--build-arg``:
    each alias the written name matches with every variable standing for any text
    (``base-${ENV}`` matches base-dev and base-prod). A name made of variables alone counts
    only when its default names a stage (``FROM ${TARGET}`` with ``ARG TARGET=prod``);
    otherwise it names an image, as almost always."""
    parts = _VARIABLE.split(written.lower())
    if default is None and not "".join(parts).strip():
        return []
    return [s for name, s in aliases.items() if s is not default and _joined_by_any(name, parts)]


def _joined_by_any(name: str, parts: list[str]) -> bool:
    """Whether ``name`` is ``parts`` joined by any texts, each middle part taken at its first
    place after the one before (linear: a regex of ``.*`` between the parts backtracks over
    every split of the name, exponential in the number of variables)."""
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        return name == first
    end = len(name) - len(last)
    if end < len(first) or not name.startswith(first) or not name.endswith(last):
        return False
    at = len(first)
    for part in parts[1:-1]:
        at = name.find(part, at, end)
        if at < 0:
            return False
        at += len(part)
    return True
