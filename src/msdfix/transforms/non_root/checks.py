"""What non-root must know about the final stage: its command, ports, and writable paths."""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems.programs import SHELLS
from msdfix.ecosystems.runtime_users import ROOT_PROGRAMS
from msdfix.model.args import expand
from msdfix.model.stages import Stage
from msdfix.shell.classify import program_args
from msdfix.shell.commands import parse_commands
from msdfix.syntax.values import instruction_values, unquote

PORT_FLAGS = frozenset(
    "--port -p --bind -b --listen -l --http --addr --address --http-port --server.port".split()
)
_HOST_PORT = re.compile(r"^(?:[\w.-]*|\[[0-9a-fA-F:]*\]|\*):(\d{1,5})$")
_SCRIPT = re.compile(r"(\.(?:sh|bash)$|entrypoint[^/]*$)")
PORT_ENV = re.compile(r"^(?:[A-Z]+_)?PORT$")


def _script(word: str) -> bool:
    """``_SCRIPT`` in ``word``. Any match lies in the last path component: searching from it
    keeps every "entrypoint" before a "/" from scanning to that "/" (quadratic)."""
    return _SCRIPT.search(word, word.rfind("/") + 1) is not None


@dataclass
class Command:
    """The final stage's CMD/ENTRYPOINT as argv lists, and scripts they run."""

    argvs: list[list[str]] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)


def entry_command(stage: Stage) -> Command | None:
    """CMD and ENTRYPOINT in effect; None when the Dockerfile sets neither."""
    found = [ins for ins in stage.entry() if ins is not None]
    if not found:
        return None
    command = Command()
    for ins in found:
        argv = ins.json_args()
        if argv is None:
            argv = ["/bin/sh", "-c", ins.args]
        command.argvs.append(argv)
        shell = len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in SHELLS and argv[1] == "-c"
        for cmd in parse_commands(argv[2] if shell else shlex.join(argv)):
            name, args = program_args(cmd)
            command.programs.append(name)
            if name in SHELLS and args and not args[0].startswith("-"):
                command.scripts.append(args[0])
            elif cmd.argv and _script(cmd.argv[0]):
                command.scripts.append(cmd.argv[0])
    return command


def needs_root(doc: Document, command: Command) -> str | None:
    """Why the command needs root (a program, or one in a script from the build context)."""
    for name in command.programs:
        if name in ROOT_PROGRAMS:
            return f"the command runs {name}, which needs root"
    for script in command.scripts:
        text = context_script(doc, script)
        if text is None:
            continue
        for cmd in parse_commands(text):
            name, _ = program_args(cmd)
            if name in ROOT_PROGRAMS:
                return f"{script} runs {name}, which needs root"
    return None


def unread_scripts(doc: Document, command: Command) -> list[str]:
    """Scripts the command runs that msdfix could not read."""
    return [s for s in command.scripts if context_script(doc, s) is None]


def context_script(doc: Document, path: str) -> str | None:
    """The text of a script the command runs, found by name in the build context."""
    name = posixpath.basename(path)
    if not doc.context.present:
        return None
    rel = doc.context.named(name)
    return doc.context.read_text(rel) if rel is not None else None


def low_ports(stage: Stage, command: Command, config: dict) -> list[int]:  # type: ignore[type-arg]
    """Ports below 1024 the image exposes or the command listens on."""
    ports: list[int] = []
    for spec in config.get("expose", ()):
        first = str(spec).split("/")[0].split("-")[0]
        if first.isdigit():
            ports.append(int(first))
    for argv in command.argvs:
        words = [w for a in argv for w in (a.split() if " " in a else [a])]
        for i, word in enumerate(words):
            flag, eq, value = word.partition("=")
            if eq and flag in PORT_FLAGS:
                word = value
            elif i and words[i - 1] in PORT_FLAGS:
                pass
            elif not _HOST_PORT.match(word):
                continue
            match = _HOST_PORT.match(word)
            number = match.group(1) if match else word
            if number.isdigit():
                ports.append(int(number))
    for key, value in config.get("env", {}).items():
        if PORT_ENV.match(key) and str(value).isdigit():
            ports.append(int(value))
    return sorted({p for p in ports if 0 < p < 1024})


def volumes(doc: Document, stage: Stage) -> list[str]:
    """VOLUME paths of the stage's lineage (with ARG/ENV defaults expanded)."""
    found = []
    for st in stage.lineage:
        for ins in st.of("volume"):
            scope = doc.model.stage_scope(st, ins)
            found += [unquote(expand(v, scope), ins.escape) for v in instruction_values(ins)[1]]
    return found
