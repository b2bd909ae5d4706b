"""test-stage: tests and linters run during the build move to a ``test`` stage.

What it does
    RUNs that only run tests or linters (``npm test``, ``npm run lint``, ``pytest``,
    ``go test ./...``, ``go vet``, ``cargo test``, ``mvn test``, ``ruff check``, ``flake8``,
    ``eslint``, ...), and the ``pip install`` of test-only tools right before them, move to a
    ``test`` stage built FROM the state they ran on (dependencies and sources in place). A
    check at the end of a RUN (``npm ci && npm test``) or at its start
    (``go test ./... && go build``) is cut from that RUN. The stage they ran in is cut at
    that point: ``FROM x AS build`` (up to the tests), ``FROM build AS test`` (the tests),
    ``FROM build AS runtime`` (the rest, the final stage); in a build stage that other stages
    copy from, the first part is named ``sources`` and the rest keeps the stage's name. ARGs
    declared before the tests are repeated in the new stages. npm/yarn/pnpm scripts count only
    when package.json shows that the script (and its pre/post hooks) runs known checks.
Why
    The seed's deps/test/build/production pattern: ``docker build --target test .`` runs the
    checks, the production build does not wait for them and its image neither runs them nor
    carries the test-only tools they installed.
Example
    ``FROM node:20`` / ``COPY . .`` / ``RUN npm ci`` / ``RUN npm test`` / ``CMD ["node", "s.js"]``
    becomes ``FROM node:20 AS build`` / ``COPY . .`` / ``RUN npm ci`` / ``FROM build AS test`` /
    ``RUN npm test`` / ``FROM build AS runtime`` / ``CMD ["node", "s.js"]``.
Fix safety
    Always unsafe: BuildKit builds only the stages the target needs, so after the move a plain
    ``docker build`` no longer runs the tests and failing tests no longer fail it; the message
    prints ``docker build --target test .``, which CI must run instead. Not moved (the reason is
    shown): an npm script msdfix cannot read or that runs something it does not know as a
    check, ``mvn verify`` (it also packages), checks in the middle of a RUN or at two points of
    the build, a RUN it cannot cut, stages copied from by index, stage names already taken,
    a stage with ONBUILD triggers.
    Files the checks wrote (coverage reports, caches) are no longer in the image. Never touched:
    files that already have a ``test`` stage, stages the final image does not need (BuildKit
    skips them already), tools that fix files (``eslint --fix``, ``black``, ``ruff format``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model import Stage
from msdfix.shell.checks import HARMLESS, Check, check_of, may_run_checks
from msdfix.shell.classify import program_args
from msdfix.shell.edit import command_removal
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.transforms.base import Transform, register
from msdfix.transforms.build_paths import context_file_at, resolve, workdirs

TEST, SOURCES, RUNTIME, BUILD = "test", "sources", "runtime", "build"
CONFIG_ONLY = frozenset(
    {"expose", "cmd", "entrypoint", "healthcheck", "stopsignal", "label", "maintainer", "volume"}
)
SHELL_STATE = frozenset({"export", "set", "source", ".", "unset", "alias", "shopt", "trap"})


class Decline(Exception):
    """The checks cannot move; the message says why."""


@dataclass
class Part:
    """A RUN of the check group: all of it (``whole``), or its first/last commands."""

    ins: Instruction
    script: RunScript | None
    checks: list[Check]
    where: str  # "whole" | "lead" (checks first) | "trail" (checks last)
    first: int = 0  # command index range of the checks (lead/trail)
    last: int = 0


@dataclass
class Group:
    parts: list[Part] = field(default_factory=list)

    @property
    def runs_checks(self) -> bool:
        return any(c.kind != "install" for p in self.parts for c in p.checks)


@register
class TestStage(Transform):
    id = "test-stage"
    title = "Move tests and linters run during the build to a `test` stage"
    order = 15

    def check(self, doc: Document) -> Iterable[Finding]:
        model = doc.model
        if not model.stages or doc.is_windows:
            return
        names = {s.alias.lower() for s in model.stages if s.alias}
        if TEST in names:
            return
        for stage in _needed(doc):
            try:
                group = _group(doc, stage)
                if group is None:
                    continue
                edits, message = _rewrite(doc, stage, group, names)
            except Decline as exc:
                yield doc.note(self.id, stage.from_, f"checks not moved: {exc}")
                return
            yield doc.fix(self.id, group.parts[0].ins, message, edits, Applicability.UNSAFE)
            return


def _needed(doc: Document) -> list[Stage]:
    """Stages the final image needs (its lineage and what it copies from), in file order."""
    model = doc.model
    final = model.final
    if final is None:
        return []
    seen: set[int] = set()
    todo = [final]
    while todo:
        stage = todo.pop()
        if stage.index in seen:
            continue
        seen.add(stage.index)
        todo += [s for s in stage.lineage if s is not stage]
        todo += [s for n in stage.copy_sources() if (s := model.stage(n)) is not None]
    return [s for s in model.stages if s.index in seen]


def _group(doc: Document, stage: Stage) -> Group | None:
    """The checks of the stage as one contiguous group of RUNs (None: no checks)."""
    dirs: dict[int, str] | None = None  # read only for a stage that may run checks
    groups: list[Group] = []
    current: Group | None = None
    for ins in stage.instructions:
        named = ins.cmd == "run" and (bool(ins.heredocs) or may_run_checks(ins.logical))
        script = run_script(ins, doc.text) if named else None
        part = None
        if script is not None and script.commands:
            dirs = workdirs(doc.model, stage) if dirs is None else dirs
            part = _part(doc, stage, ins, script, dirs)
        if part is None:
            current = None
            continue
        if current is None or current.parts[-1].where == "lead" or part.where == "trail":
            current = Group()
            groups.append(current)
        current.parts.append(part)
        if part.where == "lead":
            current = None
    found = [g for g in groups if g.runs_checks]
    if not found:
        return None
    if len(found) > 1:
        lines = " and ".join(str(g.parts[0].ins.start_line) for g in found[:2])
        raise Decline(f"checks run at two points of the build (lines {lines})")
    group = found[0]  # installs of test tools right before the checks belong to them,
    while all(c.kind == "install" for c in group.parts[-1].checks):  # later ones stay
        group.parts.pop()
    return group


def _part(
    doc: Document, stage: Stage, ins: Instruction, script: RunScript, dirs: dict[int, str]
) -> Part | None:
    kinds: list[Check | None] = []
    harmless: list[bool] = []
    for command in script.commands:
        program, args = program_args(command)
        cwd = resolve(command.cwd, dirs[id(ins)]) if command.cwd else dirs[id(ins)]
        if not program or program in HARMLESS:
            kinds.append(None)
            harmless.append(True)
            continue
        found = check_of([program, *args], partial(_scripts, doc, stage, cwd, ins))
        if isinstance(found, str):
            raise Decline(f"RUN at line {ins.start_line}: {found}")
        kinds.append(found)
        harmless.append(False)
    checks = [k for k in kinds if k is not None]
    if not any(k.kind != "install" for k in checks):
        whole = all(k is not None or h for k, h in zip(kinds, harmless, strict=True))
        return Part(ins, script, checks, "whole") if checks and whole else None
    if all(k is not None or h for k, h in zip(kinds, harmless, strict=True)):
        return Part(ins, script, checks, "whole")
    flags = [k is not None for k in kinds]
    lead = flags.index(False)
    trail = len(flags) - flags[::-1].index(False)
    runs = [k is not None and k.kind != "install" for k in kinds]
    if any(runs[lead:trail]) or (any(runs[:lead]) and any(runs[trail:])):
        name = next(k.name for k in kinds if k is not None and k.kind != "install")
        raise Decline(
            f"RUN at line {ins.start_line} runs `{name}` between build steps; split the RUN first"
        )
    if any(runs[:lead]) and any(harmless[:lead]):
        raise Decline(f"RUN at line {ins.start_line} changes directory before its checks")
    where, first, last = (
        ("lead", 0, lead - 1) if any(runs[:lead]) else ("trail", trail, len(flags) - 1)
    )
    programs = {program_args(c)[0] for c in script.commands}
    if programs & SHELL_STATE or not script.editable or script.heredoc_start is not None:
        raise Decline(f"RUN at line {ins.start_line} mixes checks and build steps in a way "
                      "msdfix cannot cut")  # fmt: skip
    moved = [k for k in kinds[first : last + 1] if k is not None]
    return Part(ins, script, moved, where, first, last)


def _scripts(doc: Document, stage: Stage, cwd: str, before: Instruction) -> dict[str, Any] | None:
    """package.json "scripts" of the image directory ``cwd`` (None: cannot be read)."""
    ctx = doc.context
    found = context_file_at(doc.model, stage, ctx, before, posixpath.join(cwd, "package.json"))
    if found is None:
        return None
    data = ctx.read_json(found[1])
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return scripts if isinstance(scripts, dict) else {}


def _rewrite(doc: Document, stage: Stage, group: Group, names: set[str]) -> tuple[list[Edit], str]:
    model, text, nl = doc.model, doc.text, doc.newline
    for other in model.stages:
        if any(re.fullmatch(r"\d+", n) for n in other.copy_sources()):
            raise Decline("a stage is copied from by its index")
    if stage.of("onbuild"):
        raise Decline("the stage has ONBUILD triggers, which a stage built FROM it would run")
    parts = group.parts
    first, last = parts[0], parts[-1]
    after = stage.instructions[stage.instructions.index(last.ins) + 1 :]
    building = last.where == "lead" or any(i.cmd not in CONFIG_ONLY for i in after)
    final = stage is model.final
    kw = {k: k.lower() if stage.from_.keyword.islower() else k for k in ("FROM", "AS", "RUN")}
    edits: list[Edit] = []
    alias = stage.alias
    if final:
        base = alias or BUILD
        rest = RUNTIME if base.lower() != RUNTIME else None
    elif building:
        base, rest = SOURCES, alias
    else:
        base, rest = alias or BUILD, None
    for name in (base, rest):
        if name is not None and name != alias and name.lower() in names:
            raise Decline(f"the stage name {name} is taken")
    if base != alias:
        edits.append(_alias_edit(doc, stage, base))
    start = first.ins.end if first.where == "trail" else first.ins.comment_start
    arg_lines = "".join(
        text[i.start : i.end].rstrip("\r\n") + nl
        for i in stage.instructions
        if i.cmd == "arg" and i.start < start
    )
    body = ""
    for part in parts:
        if part.where == "whole":
            chunk = text[part.ins.comment_start : part.ins.end]
            body += chunk if chunk.endswith(("\n", "\r")) else chunk + nl
            edits.append(Edit(part.ins.comment_start, part.ins.end, ""))
        else:
            body += _cut(doc, part, kw["RUN"], edits)
    lead = "" if text[:start].endswith((nl + nl, "\n\n")) else nl
    new = f"{lead}{kw['FROM']} {base} {kw['AS']} {TEST}{nl}{arg_lines}{body}"
    if final or building:
        named = f" {kw['AS']} {rest}" if rest else ""
        new += f"{nl}{kw['FROM']} {base}{named}{nl}{arg_lines}"
        at = start
    else:
        at = stage.instructions[-1].end
        new = (nl if not text[:at].endswith(("\n", "\r")) else "") + nl + new.lstrip("\r\n")
    edits = _insert(edits, at, new)
    tools = [c.name for p in parts for c in p.checks]
    installs = [c.name for p in parts for c in p.checks if c.kind == "install"]
    message = (
        f"move {', '.join(f'`{t}`' for t in dict.fromkeys(tools))} to a `{TEST}` "
        f"stage FROM {base}: the production image no longer runs "
        + ("or contains them" if installs else "them")
        + f"; run them with `docker build --target {TEST} .` (unsafe: a default BuildKit "
        "build skips the test stage, so failing tests no longer fail the build)"
    )
    return edits, message


def _cut(doc: Document, part: Part, run: str, edits: list[Edit]) -> str:
    """Remove the part's checks from its RUN; the RUN line that runs them on their own."""
    script = part.script
    assert script is not None
    removal = command_removal(script, part.first, part.last)
    if removal is None:
        raise Decline(f"RUN at line {part.ins.start_line} cannot be cut")
    edits.append(Edit(removal[0], removal[1], ""))
    commands = script.commands[part.first : part.last + 1]
    cwd = commands[0].cwd
    if any(c.cwd != cwd for c in commands) or (cwd and not re.fullmatch(r"[\w./-]+", cwd)):
        raise Decline(f"RUN at line {part.ins.start_line} changes directory between its checks")
    ins = part.ins
    flags = " ".join(ins.logical[len(ins.keyword) : ins.args_start].split())
    head = f"{run} {flags + ' ' if flags else ''}{'cd ' + cwd + ' && ' if cwd else ''}"
    return head + script.text[commands[0].start : commands[-1].end] + doc.newline


def _alias_edit(doc: Document, stage: Stage, name: str) -> Edit:
    from_ = stage.from_
    end = from_.physical(from_.args_start + len(from_.args))
    if stage.alias is None:
        word = "as" if from_.keyword.islower() else "AS"
        return Edit(end, end, f" {word} {name}")
    begin = end - len(stage.alias)
    if doc.text[begin:end] != stage.alias:
        raise Decline(f"cannot rename the stage {stage.alias}")
    return Edit(begin, end, name)


def _insert(edits: list[Edit], at: int, new: str) -> list[Edit]:
    """Add the insertion at ``at``, merged into a removal that starts there."""
    for i, edit in enumerate(edits):
        if edit.start == at and edit.end > at:
            edits[i] = Edit(edit.start, edit.end, new + edit.content)
            return edits
    return [*edits, Edit(at, at, new)]
