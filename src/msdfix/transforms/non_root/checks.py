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
    installs = installs_at_start(command)
    if installs:
        return installs
    for script in command.scripts:
        text = context_script(doc.context, script)
        if text is None:
            continue
        for cmd in parse_commands(text):
            for name in [*wrappers(cmd), program_args(cmd)[0]]:
                if name in ROOT_PROGRAMS:
                    return f"{script} runs {name}, which needs root"
    return None


# Installs into the image's own folders (site-packages, gems, npm's global prefix), which are
# root's; flags that send them elsewhere.
_INSTALLERS = {"pip": "install", "gem": "install", "npm": "install"}
_ELSEWHERE = {
    "pip": frozenset("--user --target -t --prefix --root".split()),
    "gem": frozenset("--user-install -i --install-dir".split()),
    "npm": frozenset(["--prefix"]),
}


def _installer(name: str, args: list[str]) -> tuple[str, list[str]]:
    """The package manager a call runs (``python -m pip`` is pip, ``pip3.11`` is pip)."""
    if re.fullmatch(r"python[\d.]*", name) and args[:2] == ["-m", "pip"]:
        return "pip", args[2:]
    return re.sub(r"^(pip)[\d.]*$", r"\1", name), args


def installs_at_start(command: Command) -> str | None:
    """Why the command's package install needs root: ``pip install`` (or ``gem install``,
    ``npm install -g``) at container start writes the image's root-owned folders (built:
    pypi/jungle's ``CMD ["pip", "install", "jungle==0.1.10"]`` as uid 10001 installed into
    ~/.local instead, its program not on PATH)."""
    for name, args in command.calls:
        program, words = _installer(name, args)
        sub = next((w for w in words if not w.startswith("-")), None)
        if program not in _INSTALLERS or sub != _INSTALLERS[program]:
            continue
        if any(w.split("=")[0] in _ELSEWHERE[program] for w in words):
            continue
        if program == "npm" and not {"-g", "--global"} & set(words):
            continue
        return (
            f"the command runs `{program} {sub}`, which writes the image's own packages "
            "(root's): another user's install goes elsewhere or fails"
        )
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
