"""What non-root must know about the final stage: its command, ports, and writable paths."""

from __future__ import annotations

import re

from msdfix.document import Document
from msdfix.ecosystems.runtime_users import ROOT_PROGRAMS
from msdfix.files import decimal
from msdfix.model.args import expand
from msdfix.model.stages import Stage
from msdfix.shell.classify import program_args, wrappers
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import Command, context_script
from msdfix.syntax.values import instruction_values, unquote

PORT_FLAGS = frozenset(
    "--port -p --bind -b --listen -l --http --addr --address --http-port --server.port".split()
)
_HOST_PORT = re.compile(r"^(?:[\w.-]*|\[[0-9a-fA-F:]*\]|\*):(\d{1,5})$")
PORT_ENV = re.compile(r"^(?:[A-Z]+_)?PORT$")


def needs_root(doc: Document, command: Command) -> str | None:
    """Why the command needs root (a program, or one in a script from the build context)."""
    for name in command.programs:
        if name in ROOT_PROGRAMS:
            return f"the command runs {name}, which needs root"
    for script in command.scripts:
        text = context_script(doc.context, script)
        if text is None:
            continue
        for cmd in parse_commands(text):
            for name in [*wrappers(cmd), program_args(cmd)[0]]:
                if name in ROOT_PROGRAMS:
                    return f"{script} runs {name}, which needs root"
    return None


def unread_scripts(doc: Document, command: Command) -> list[str]:
    """Scripts the command runs that msdfix could not read."""
    return [s for s in command.scripts if context_script(doc.context, s) is None]


def low_ports(stage: Stage, command: Command, config: dict) -> list[int]:  # type: ignore[type-arg]
    """Ports below 1024 the image exposes or the command listens on."""
    ports: list[int] = []
    for spec in config.get("expose", ()):
        first = str(spec).split("/")[0].split("-")[0]
        if first.isdigit():
            ports.append(decimal(first))
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
                ports.append(decimal(number))
    for key, value in config.get("env", {}).items():
        if PORT_ENV.match(key) and str(value).isdigit():
            ports.append(decimal(str(value)))
    return sorted({p for p in ports if 0 < p < 1024})


def volumes(doc: Document, stage: Stage) -> list[str]:
    """VOLUME paths of the stage's lineage (with ARG/ENV defaults expanded)."""
    found = []
    for st in stage.lineage:
        for ins in st.of("volume"):
            scope = doc.model.stage_scope(st, ins)
            found += [unquote(expand(v, scope), ins.escape) for v in instruction_values(ins)[1]]
    return found
