"""slim-base: what the final stage runs, at build and at run time."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems.images import PERL_MODULES, TOOL_PACKAGES
from msdfix.ecosystems.os import APT_PROGRAMS, CA_RECOMMENDING
from msdfix.model import Stage
from msdfix.model.program_calls import tar_tool
from msdfix.shell.classify import inner_script, program_args
from msdfix.shell.commands import commands_run, script_assignments, substituted_commands
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values


@dataclass
class Use:
    """One command the stage runs (at build or run time)."""

    ins: Instruction
    program: str
    args: list[str]


@dataclass
class Facts:
    """What the final stage does that matters for a smaller base."""

    uses: list[Use] = field(default_factory=list)
    shell: list[Instruction] = field(default_factory=list)
    apt: dict[int, set[str]] = field(default_factory=dict)  # start_line -> packages installed
    # start_line -> how an apt install names packages msdfix cannot read
    unread_apt: dict[int, str] = field(default_factory=dict)


def expand_sh(program: str, args: list[str]) -> list[tuple[str, list[str]]]:
    """``sh -c 'script'`` and ``su app -c 'script'`` give the script's commands too, and
    ``find ... -exec strip {} +`` the program it runs."""
    found = [(program, args)]
    script = inner_script(program, args)
    if script is not None:
        found += [program_args(c) for c in commands_run(script)]
    return found + find_exec(program, args)


_FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")


def find_exec(program: str, args: list[str]) -> list[tuple[str, list[str]]]:
    """The commands ``find`` runs for its ``-exec``/``-execdir``/``-ok`` actions."""
    if posixpath.basename(program) != "find":
        return []
    found: list[tuple[str, list[str]]] = []
    at = 0
    while at < len(args):
        if args[at] in _FIND_EXEC and at + 1 < len(args):
            end = at + 1
            while end < len(args) and args[end] not in (";", "\\;", "+"):
                end += 1
            found.append((args[at + 1], args[at + 2 : end]))
            at = end
        at += 1
    return found


_PERL_USE = re.compile(r"\b(?:use|require)\s+[A-Z]")


def perl_loads_modules(args: list[str]) -> bool:
    """``perl -MJSON::PP``, ``-e 'use JSON::PP; ...'`` or a script file: modules that -slim's
    perl-base may lack (a one-liner such as ``perl -pi -e 's/a/b/' f`` needs none)."""
    code = False
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--" or not arg.startswith("-"):
            return not code  # the first operand is the script unless -e gave the code
        if arg.startswith(("-M", "-m")) and len(arg) > 2 and not arg.startswith("-M-"):
            return True
        if arg[-1] in "eE" and not arg.startswith("--"):
            code = True
            at += 1
            if at < len(args) and _PERL_USE.search(args[at]):
                return True
        at += 1
    return False


def stage_facts(doc: Document, stage: Stage) -> Facts:
    facts = Facts()
    for ins in stage.instructions:
        pairs: list[tuple[str, list[str]]] = []
        assigned: dict[str, str] = {}
        known: set[str] = set()
        fed: set[int] = set()  # pairs whose command xargs runs with arguments from its input
        if ins.cmd == "run":
            facts.shell.append(ins)
            script = run_script(ins, doc.text)
            if script is not None:
                inner = substituted_commands(script.text)  # REV=$(git rev-parse HEAD)
                commands = [*script.commands, *inner]
                pairs = [program_args(c) for c in commands]
                fed = {i for i, c in enumerate(commands) if c.name in ("xargs", "parallel")}
                # ENV DEPS="..." (not an ARG's default: a build argument may change it)
                scope = doc.model.fixed_scope(stage, ins)
                assigned = {k: v for k, v in scope.items() if v is not None}
                assigned.update(script_assignments(script.text))
                known = set(scope) | set(assigned)
        elif ins.cmd in ("cmd", "entrypoint"):
            argv = ins.json_args()
            if argv is None:
                facts.shell.append(ins)
                pairs = [program_args(c) for c in commands_run(ins.args)]
            elif argv:
                pairs = [
                    (
                        argv[0].rsplit("/", 1)[-1] if not argv[0].startswith("./") else argv[0],
                        argv[1:],
                    )
                ]
        elif ins.cmd == "healthcheck":
            _, values, is_json = instruction_values(ins)
            if values and values[0].upper() == "CMD" and len(values) > 1:
                if is_json:
                    pairs = [(values[1].rsplit("/", 1)[-1], values[2:])]
                else:
                    facts.shell.append(ins)
                    pairs = [program_args(c) for c in commands_run(values[1])]
        elif ins.cmd in ("shell", "onbuild"):
            facts.shell.append(ins)
        for at, (program, args) in enumerate(pairs):
            for prog, rest in expand_sh(program, args):
                if prog in APT_PROGRAMS:
                    rest = expand_words(rest, assigned)  # apt-get install $BUILDDEPS
                if prog:
                    facts.uses.append(Use(ins, prog, rest))
                if prog in APT_PROGRAMS and "install" in rest:
                    facts.apt.setdefault(ins.start_line, set()).update(_apt_names(rest))
                    unread = unread_packages(rest, known, at in fed)
                    if unread is not None:
                        facts.unread_apt.setdefault(ins.start_line, unread)
                if posixpath.basename(prog) == "dpkg" and {"-i", "--install"} & set(rest):
                    facts.unread_apt.setdefault(ins.start_line, "the .deb files dpkg installs")
    _recommended_ca(stage, facts)
    return facts


_SHELL_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")


def expand_words(args: list[str], assigned: dict[str, str]) -> list[str]:
    """``args`` with the variables the RUN's script sets expanded and split into words, as
    the shell does with an unquoted ``$BUILDDEPS`` (built for real: ``BUILDDEPS="curl
    default-jdk-headless" && apt-get install -y $BUILDDEPS`` passed on debian:12 and failed on
    debian:12-slim, the JRE's postinst needing /usr/share/man/man1)."""
    found: list[str] = []
    for arg in args:
        if "$" not in arg or not assigned:
            found.append(arg)
            continue
        value = _SHELL_VARIABLE.sub(
            lambda m: assigned.get(m.group(1) or m.group(2), m.group(0)), arg
        )
        found += value.split() or [arg]
    return found


_SUBSTITUTION = re.compile(r"\$\(|`")


def unread_packages(args: list[str], known: set[str], fed: bool) -> str | None:
    """How an apt install names packages msdfix cannot read, or None: from xargs' input
    (``xargs -a packages.txt apt-get install``), a command substitution (``$(cat
    packages.txt)``), a variable neither the RUN nor the stage sets (a base image's ENV) or
    a downloaded .deb file.
    Variables of the stage (build arguments) are judged where they are read."""
    if fed:
        return "the packages xargs reads"
    for arg in args:
        if _SUBSTITUTION.search(arg) and not arg.endswith((")", "`")):
            return "$(...)"  # a substitution the shell parser split into words
        if _SUBSTITUTION.search(arg) or arg.endswith(".deb"):  # ./google-chrome.deb
            return arg
        names = [m.group(1) or m.group(2) for m in _SHELL_VARIABLE.finditer(arg)]
        if any(name not in known for name in names):
            return arg
    return None


_NO_RECOMMENDS = ("--no-install-recommends", "Install-Recommends=false", "Install-Recommends=0")


def skips_recommends(stage: Stage, use: Use) -> bool:
    """The apt install skips recommended packages: the flag, ``-o APT::Install-Recommends=
    false``, or an apt setting the stage writes or copies (``Install-Recommends "false"``)."""
    if any(a.endswith(_NO_RECOMMENDS) for a in use.args):
        return True
    for ins in stage.instructions:
        if ins.start_line >= use.ins.start_line:
            break
        if "Install-Recommends" in ins.args:
            return True
        values = instruction_values(ins)[1] if ins.cmd in ("copy", "add") else []
        if values and values[-1].startswith("/etc/apt"):
            return True
    return False


def _recommended_ca(stage: Stage, facts: Facts) -> None:
    """An apt install that keeps recommended packages (apt's default) and installs a TLS
    client that recommends ca-certificates (curl through libcurl4, wget, git) installs
    ca-certificates too: record it (built for real: ``apt-get install -y curl &&
    update-ca-certificates`` ran on node:18-slim, which purges the CA store)."""
    for use in facts.uses:
        if posixpath.basename(use.program) not in APT_PROGRAMS or "install" not in use.args:
            continue  # each install's own packages: `install lftp && install --no-... wget`
        if _apt_names(use.args) & CA_RECOMMENDING and not skips_recommends(stage, use):
            facts.apt.setdefault(use.ins.start_line, set()).add("ca-certificates")


def _apt_names(args: list[str]) -> set[str]:
    """The packages an apt install's arguments name."""
    return {a.split("=")[0] for a in args if not a.startswith("-") and a != "install"}


def installed_before(facts: Facts, tool: str, line: int) -> bool:
    wanted = TOOL_PACKAGES.get(tool, frozenset({tool}))
    return any(at <= line and names & wanted for at, names in facts.apt.items())


def missing_tool(facts: Facts, tools: frozenset[str]) -> tuple[Use, str] | None:
    """The first use of a tool the smaller variant lacks and the stage does not install, and
    that tool: the program, or the compressor a ``tar`` runs (``tar -xJf`` runs xz)."""
    filters = tuple(t for t in ("xz", "bzip2") if t in tools)
    for use in facts.uses:
        name = use.program.rsplit("/", 1)[-1]
        if name == "tar":
            name = tar_tool(" ".join(["tar", *use.args]), filters) or name
        elif name == "perl" and PERL_MODULES in tools and perl_loads_modules(use.args):
            name = PERL_MODULES
        if name in tools and not installed_before(facts, name, use.ins.start_line):
            return use, name
    return None
