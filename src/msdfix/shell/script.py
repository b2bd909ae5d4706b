"""The shell script a RUN instruction executes, with offsets back into the Dockerfile."""

from __future__ import annotations

import re
from dataclasses import dataclass

from msdfix.ecosystems.programs import POSIX_SHELLS
from msdfix.shell.commands import Command, Word, parse_commands
from msdfix.syntax import Instruction

# "\s*(?:sh\s*)?$", not "\s*(?:sh)?\s*$": two runs of spaces side by side split a long run in
# every way before failing (quadratic in the line)
_HEREDOC_ONLY = re.compile(r"^<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1\s*(?:(?:ba|da|)sh\s*)?$")


@dataclass
class RunScript:
    """Commands of one RUN; ``editable`` is False for exec form (no text edits inside)."""

    ins: Instruction
    text: str
    commands: list[Command]
    editable: bool
    heredoc_start: int | None = None  # physical start of the script when it is a heredoc body
    source: str = ""  # the whole file text

    def physical(self, offset: int) -> int:
        """Physical file offset of a script offset."""
        if self.heredoc_start is not None:
            return self.heredoc_start + offset
        return self.ins.physical(self.ins.args_start + offset)

    def ins_text(self, start: int, end: int) -> str:
        """Physical text of the file between two offsets (within this instruction)."""
        return self.source[start:end]

    def contiguous(self, start: int, end: int) -> bool:
        """True when the script range is one physical run of text."""
        if self.heredoc_start is not None:
            return True
        base = self.ins.args_start
        return self.ins.is_contiguous(base + start, base + end)


def run_script(ins: Instruction, source: str = "") -> RunScript | None:
    """The script of a RUN (shell form, heredoc, or exec form's argv), or None.

    Worked out once per RUN and file text: each transform of a pass asks about the same RUNs
    of the same parsed file. Each caller gets its own RunScript and command list; what is kept
    on the instruction holds no reference back to it (no cycle: the file is freed at once)."""
    if ins.cmd != "run":
        return None
    cached: tuple[str, _Parts] | None = ins.__dict__.get("_run_script")
    if cached is None or cached[0] is not source:
        cached = (source, _parts(ins))
        ins.__dict__["_run_script"] = cached
    text, commands, editable, heredoc_start = cached[1]
    return RunScript(ins, text, list(commands), editable, heredoc_start, source)


_Parts = tuple[str, tuple[Command, ...], bool, "int | None"]


def _parts(ins: Instruction) -> _Parts:
    """The text, commands, editability and heredoc start of a RUN's script."""
    argv = ins.json_args()
    if argv is not None:
        if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in POSIX_SHELLS and argv[1] == "-c":
            return argv[2], tuple(parse_commands(argv[2])), False, None
        words = [Word(a, 0, 0) for a in argv]
        return "", (Command(words, {}, 0, 0, None, None, False),), False, None
    if ins.heredocs and _HEREDOC_ONLY.match(ins.args):
        doc = ins.heredocs[0]
        return doc.content, tuple(parse_commands(doc.content)), True, doc.body_start
    script = ins.logical[ins.args_start :]
    return script, tuple(parse_commands(script)), True, None
