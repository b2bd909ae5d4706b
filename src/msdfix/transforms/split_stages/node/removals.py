"""Which build commands delete copied files or node_modules, so the runtime must not copy them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase

from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import Analysis, Call, Decline, Plan


def no_deleted_copies(a: Analysis, plan: Plan) -> None:
    """Decline when a RUN deletes a path the runtime copies by name from the build stage
    (``rm -rf src`` after the build; ``COPY requirements.txt /tmp/`` then ``rm -rf
    /tmp/*``): the build stage no longer holds it, so the COPY would fail. Every ecosystem."""
    named = [p for p in plan.copies if p not in plan.sources]
    for ins, program, _, paths, _ in removal_commands(a, a.stage.of("run")):
        for path in paths:
            gone = next((c for c in named if deletes(path, c)), None)
            if gone is not None:
                raise Decline(
                    f"RUN at line {ins.start_line} {verb(program)} {path}, which the runtime "
                    f"stage would copy ({gone})"
                )


def verb(program: str) -> str:
    """What a removal does to the paths it names: ``mv`` moves them, rm deletes them."""
    return "moves" if program == "mv" else "deletes"


def deletes(pattern: str, copied: str) -> bool:
    """True when removing ``pattern`` (a path, or a shell glob such as ``/tmp/*``) removes
    ``copied`` or a directory above it."""
    if not any(ch in pattern for ch in "*?["):
        return within(copied, pattern)
    parts, names = pattern.strip("/").split("/"), copied.strip("/").split("/")
    return len(names) >= len(parts) and all(
        fnmatchcase(n, p) for n, p in zip(names, parts, strict=False)
    )


def removal_commands(
    a: Analysis, runs: Iterable[Instruction]
) -> Iterator[tuple[Instruction, str, list[str], list[str], int]]:
    """(RUN, rm, rimraf or mv, its arguments, the absolute paths it takes away, where the
    command starts in the RUN's script) for every removal: mv takes its sources away (built:
    ``pip install --target /deps`` then ``mv /deps /app/deps``, the split's ``COPY --from=build
    /deps`` failed, "not found")."""
    for ins in runs:
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            if program not in ("rm", "rimraf", "mv"):
                continue
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            named = _mv_sources(args) if program == "mv" else [x for x in args if x[:1] != "-"]
            yield ins, program, args, [resolve(x.rstrip("/"), cwd) for x in named], command.start


def _mv_sources(args: list[str]) -> list[str]:
    """The operands ``mv`` moves: all of them with ``-t DIR`` (``--target-directory``), else
    all but the last (the destination)."""
    operands: list[str] = []
    target, skip, options = False, False, True
    for arg in args:
        if skip:
            skip = False
        elif options and arg == "--":
            options = False
        elif options and arg.startswith("-") and arg != "-":
            if arg.startswith(("-t", "--target-directory")):
                target = True
            skip = arg in ("-t", "--target-directory", "-S", "--suffix")
        else:
            operands.append(arg)
    return operands if target else operands[:-1]


def deletes_node_modules(a: Analysis, app: str, installs: list[Call]) -> bool | None:
    """Whether the RUN of the last install removes the app's node_modules, or a RUN after it
    does: None when none does, True when that RUN installs again after the removal
    (``rm -rf node_modules && npm ci --omit=dev``), False when none comes back. A moved
    node_modules (``mv``) is not read as deleted: it lives on elsewhere."""
    last = installs[-1].ins
    target = resolve("node_modules", app)
    runs = [i for i in a.stage.of("run") if i.start > last.start or i is last]
    for ins, program, args, paths, at in removal_commands(a, runs):
        if program == "mv" or (
            program == "rm" and not any(x.startswith("-") and "r" in x for x in args)
        ):
            continue
        if target in paths:
            if any(c.ins.start > ins.start for c in installs):
                return None
            return any(c.ins is ins and c.command.start > at for c in installs)
    return None
