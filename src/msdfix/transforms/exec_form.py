"""exec-form: shell-form CMD and ENTRYPOINT become JSON (exec) form.

What it does
    ``CMD node server.js`` becomes ``CMD ["node", "server.js"]`` (and likewise ENTRYPOINT)
    when the command uses no shell feature: no variables, globs, redirects, pipes, ``&&``,
    ``;``, subshells, leading assignments, builtins. Quotes and backslashes are removed as
    ``/bin/sh`` removes them, and a leading ``exec`` is dropped. This is also the fix for
    BuildKit's build check JSONArgsRecommended.
Why
    In shell form the container's PID 1 is ``/bin/sh -c "node server.js"``. Depending on the
    shell, ``docker stop``'s SIGTERM goes to the shell, not to the app; the app is killed
    after the 10 s grace period instead of shutting down cleanly. In exec form the app is
    PID 1 and gets the signal.
Example
    ``CMD gunicorn --bind 0.0.0.0:8000 app:app`` becomes
    ``CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]``.
Fix safety
    Unsafe: it changes the image's CMD/ENTRYPOINT. The app now receives SIGTERM and must exit
    on it (most servers do; a program that ignores it is killed after the grace period, as
    before); as PID 1 it also inherits zombie processes: if it starts child processes, run the
    container with ``docker run --init`` (tini). It runs without ``sh`` in between, so the
    shell's own environment (``PWD``, ``SHLVL``) is not set, and a script without a ``#!``
    line cannot run (declined when the script is in the build context, named in the summary
    otherwise). A shell-form ENTRYPOINT ignores
    CMD and ``docker run`` arguments; in exec form they are appended, so the conversion is
    declined when a CMD is in effect, and the summary says that ``docker run IMAGE ARGS`` now
    passes ARGS. A shell-form CMD under an ENTRYPOINT is that ENTRYPOINT's arguments
    (``/bin/sh -c "..."``): declined when the ENTRYPOINT is the Dockerfile's own or the base
    image's is unknown (node and php images' entrypoint scripts run a command as it is).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable

from msdfix.document import Document
from msdfix.ecosystems.entrypoints import Entrypoint, base_entrypoint
from msdfix.ecosystems.programs import POSIX_SHELLS
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model.stages import Stage
from msdfix.shell.plain import plain_argv
from msdfix.syntax import Instruction
from msdfix.transforms.base import Transform, register

_SCRIPT = re.compile(r"\.(?:sh|bash|py|rb|pl)$")


def _shell_ok(stage: Stage) -> bool:
    """True when shell form runs ``<a POSIX shell> ... -c`` (the default, or a SHELL like it)."""
    shell = None
    for st in stage.lineage:
        for ins in st.of("shell"):
            shell = ins.json_args()
    if shell is None:
        return True
    return bool(shell) and shell[0].rsplit("/", 1)[-1] in POSIX_SHELLS and shell[-1] == "-c"


def _script_text(doc: Document, program: str) -> str | None:
    """The text of a script of the build context the command runs (by file name), if any."""
    if "/" not in program and not _SCRIPT.search(program) or not doc.context.present:
        return None
    name = posixpath.basename(program)
    rel = doc.context.named(name)
    return doc.context.read_text(rel) if rel is not None else None


def _args_range(doc: Document, ins: Instruction) -> tuple[int, int] | None:
    """Physical range of the arguments, or None when comments sit between their lines."""
    logical = ins.logical
    end = len(logical.rstrip(" \t\v\f\r\n"))
    start = ins.args_start
    if end <= start:
        return None
    pstart, pend = ins.physical(start), ins.physical(end - 1) + 1
    lines = doc.text[pstart:pend].splitlines()
    if any(not line.strip() or line.lstrip().startswith("#") for line in lines[1:]):
        return None
    return pstart, pend


def _later_cmd(doc: Document, stage: Stage, ins: Instruction) -> Instruction | None:
    """A CMD that a converted ENTRYPOINT would take as arguments."""
    for other in stage.of("cmd"):
        return other
    for child in doc.model.descendants(stage):
        sets_entrypoint = bool(child.of("entrypoint"))
        cmds = child.of("cmd")
        if cmds and not sets_entrypoint:
            return cmds[0]
    return None


@register
class ExecForm(Transform):
    id = "exec-form"
    title = "Run CMD and ENTRYPOINT in exec (JSON) form"
    order = 70

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.is_windows:
            return
        for stage in doc.model.stages:
            for ins in stage.of("cmd", "entrypoint"):
                if ins.is_json or ins.heredocs or not ins.args:
                    continue
                fix = self._fix(doc, stage, ins)
                if fix is not None:
                    yield fix

    def _fix(self, doc: Document, stage: Stage, ins: Instruction) -> Finding | None:
        keyword = ins.cmd.upper()
        plain = plain_argv(ins.args)
        if plain.argv is None:
            return self._decline(doc, ins, f"{keyword} stays in shell form: {plain.reason}")
        if not _shell_ok(stage):
            return self._decline(doc, ins, f"{keyword} stays in shell form: SHELL is not sh -c")
        note = ""
        if ins.cmd == "entrypoint":
            cmd = _later_cmd(doc, stage, ins)
            if cmd is not None:
                return self._decline(
                    doc, ins,
                    "ENTRYPOINT stays in shell form: in exec form it would take the CMD as arguments",
                )  # fmt: skip
            note = "; `docker run IMAGE ARGS` now passes ARGS to it (shell form ignored them)"
        else:
            entry = stage.entry()[0]
            if entry is not None and entry.is_json:
                return self._decline(
                    doc, ins,
                    "CMD stays in shell form: it is the arguments of the ENTRYPOINT (/bin/sh -c ...)",
                )  # fmt: skip
            if entry is not None:
                return None  # a shell-form ENTRYPOINT ignores CMD: nothing runs it
            base = base_entrypoint(stage.root_image)
            if base is Entrypoint.UNKNOWN:
                return self._decline(
                    doc, ins,
                    f"CMD stays in shell form: {stage.root_image.raw or 'the base image'} may have an ENTRYPOINT that takes it as arguments",
                )  # fmt: skip
            if base is Entrypoint.EXEC_COMMAND and plain.argv[0].startswith("-"):
                return self._decline(
                    doc,
                    ins,
                    "CMD stays in shell form: the image's entrypoint would take it as options",
                )
        program = plain.argv[0]
        script = _script_text(doc, program)
        if script is not None and not script.startswith(("#!", "\x7fELF")):
            return self._decline(
                doc,
                ins,
                f"{keyword} stays in shell form: {program} has no #! line (only a shell runs it)",
            )
        if script is None and _SCRIPT.search(program):
            note += f"; check that {posixpath.basename(program)} starts with a #! line (the kernel runs it, not sh)"
        span = _args_range(doc, ins)
        if span is None:
            return self._decline(
                doc, ins, f"{keyword} stays in shell form: comments between its lines"
            )
        text = json.dumps(plain.argv, ensure_ascii=False)
        message = (
            f"{keyword} in exec form: {program} runs as PID 1 without /bin/sh and gets SIGTERM"
            f" from `docker stop` (check that it exits on SIGTERM; if it starts child processes,"
            f" run with --init){note}"
        )
        edits = [Edit(*span, text)]
        config = frozenset({ins.cmd})
        return doc.fix(self.id, ins, message, edits, Applicability.UNSAFE, changes_config=config)

    def _decline(self, doc: Document, ins: Instruction, message: str) -> Finding:
        return doc.note(self.id, ins, message)
