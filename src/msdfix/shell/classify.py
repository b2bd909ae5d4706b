"""Recognise package-manager commands in a RUN script."""

from __future__ import annotations

import re
import shlex
from collections.abc import Container
from dataclasses import dataclass

from msdfix.ecosystems.base import PackageManager
from msdfix.ecosystems.programs import INERT, SHELLS
from msdfix.ecosystems.registry import MANAGERS, runtime_install
from msdfix.shell.commands import Command, parse_commands

_PYTHON = re.compile(r"^python[0-9.]*$")
# Programs that run the command after them: how many positional words they take first
# (``timeout 600 apt-get``, ``flock /tmp/lock apt-get``), and their options with a value.
# npm's cross-env is env's form (``cross-env NODE_ENV=production node app.js`` runs node).
_WRAPPERS = {
    "sudo": 0, "exec": 0, "command": 0, "nice": 0, "time": 0, "env": 0, "nohup": 0,
    "eatmydata": 0, "stdbuf": 0, "ionice": 0, "timeout": 1, "flock": 1, "taskset": 1, "chrt": 1,
    "xargs": 0, "gosu": 1, "su-exec": 1, "s6-setuidgid": 1, "chroot": 1, "setpriv": 0,
    "doas": 0, "chpst": 0, "setsid": 0, "unshare": 0, "nsenter": 0, "tini": 0, "dumb-init": 0,
    "catatonit": 0, "fakeroot": 0, "cross-env": 0,
}  # fmt: skip
_VALUE_OPTIONS = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-U", "-r", "-t", "-D"},
    "nice": {"-n"}, "timeout": {"-s", "-k"}, "ionice": {"-c", "-n", "-p"},
    "flock": {"-w", "-E", "-c"}, "stdbuf": {"-i", "-o", "-e"}, "chrt": {"-T", "-P", "-D"},
    "xargs": {"-I", "-n", "-P", "-L", "-s", "-d", "-a", "-E"},
    "runuser": {"-u", "--user", "-g", "--group", "-G", "--supp-group", "-s", "--shell"},
    "setpriv": {"--reuid", "--regid", "--groups", "--inh-caps", "--ambient-caps",
                "--bounding-set", "--securebits", "--selinux-label", "--apparmor-profile"},
    "doas": {"-u", "-C"}, "chpst": {"-u", "-U", "-e", "-/", "-n", "-l", "-L", "-m", "-d", "-o",
                                    "-p", "-f", "-c"},
    "nsenter": {"-t", "--target", "-S", "--setuid", "-G", "--setgid"},
    "tini": {"-s", "-p", "-e"}, "dumb-init": {"-r", "--rewrite"},
    "env": {"-u", "--unset", "-C", "--chdir"},
}  # fmt: skip
# Programs that run their ``-c``/``--command`` string as a shell script, as another user.
_SU = frozenset({"su", "runuser"})
# Options that make a wrapper run the command as another user (``gosu`` and the like always do).
_USER_OPTIONS = {
    "sudo": ("-u", "--user", "-g", "--group"), "doas": ("-u",), "runuser": ("-u", "--user"),
    "setpriv": ("--reuid", "--regid", "--init-groups"), "chroot": ("--userspec",),
    "chpst": ("-u", "-U"), "nsenter": ("-S", "--setuid"),
}  # fmt: skip
_ALWAYS_OTHER_USER = frozenset({"gosu", "su-exec", "s6-setuidgid"})


@dataclass(frozen=True)
class ToolCall:
    """A command that runs package manager ``manager``; ``args`` follow the program."""

    manager: PackageManager
    command: Command
    args: list[str]

    @property
    def subcommand(self) -> str:
        """First argument that is neither an option nor an option's value ('' when none)."""
        return self.manager.subcommand_of(self.args)


# Options that run inline code (``sh -c`` is read as the commands it runs).
INLINE_CODE = {"python": ("-c",), "python3": ("-c",), "node": ("-e", "--eval", "-p", "--print")}


def runs_project_code(program: str, args: list[str]) -> bool:
    """An interpreter run of the project's own code: a script, or inline code (``python -c
    "import app; app.init_db()"`` may do anything, as ``python x.py`` may; ``python -m X``
    is already the program X)."""
    return bool(args) and (not args[0].startswith("-") or args[0] in INLINE_CODE.get(program, ()))


def program_args(command: Command) -> tuple[str, list[str]]:
    """Program name and arguments, looking through sudo/env/``python -m`` (computed once)."""
    cached: tuple[str, list[str]] | None = command.__dict__.get("_program_args")
    if cached is None:
        cached = _program_args(command)
        command.__dict__["_program_args"] = cached
    return cached[0], list(cached[1])


def _unwrap(command: Command) -> tuple[list[str], list[str]]:
    """(the sudo/env/... prefixes, the argv after them), worked out once per command (as
    ``program_args``: its words do not change); each caller gets its own lists."""
    cached: tuple[tuple[str, ...], tuple[str, ...]] | None = command.__dict__.get("_unwrapped")
    if cached is None:
        found, at = _wrappers_with_options(command.argv)
        cached = (tuple(w for w, _ in found), tuple(command.argv[at:]))
        command.__dict__["_unwrapped"] = cached
    return list(cached[0]), list(cached[1])


def after_wrappers(argv: list[str], names: frozenset[str]) -> list[str]:
    """``argv`` after leading wrappers among ``names`` and their options (``/usr/bin/tini
    -g -- node app.js``: ``node app.js``)."""
    return argv[_wrappers_with_options(argv, names)[1] :]


def _wrappers_with_options(
    argv: list[str], names: Container[str] = _WRAPPERS
) -> tuple[list[tuple[str, list[str]]], int]:
    """Each sudo/env/... prefix (those in ``names``) with its own options, and where the
    command after them starts."""
    found: list[tuple[str, list[str]]] = []
    at = 0  # an index, not a copy per wrapper: `sudo sudo ... pip` is linear
    while at < len(argv) and (_base(argv[at]) in names or _runuser_wrapper(argv, at, names)):
        wrapper, at, start = _base(argv[at]), at + 1, at + 1
        values = _VALUE_OPTIONS.get(wrapper, set())
        while at < len(argv) and (argv[at].startswith("-") or "=" in argv[at]):
            at += 2 if argv[at] in values else 1
        found.append((wrapper, [a for a in argv[start:at] if a.startswith("-")]))
        at += _WRAPPERS.get(wrapper, 0)
    return found, at


_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)


def env_assignments(command: Command) -> dict[str, str]:
    """The variables a wrapper sets for the command after it (``env A=1 cmd``, ``sudo A=1``)."""
    _, at = _wrappers_with_options(command.argv)
    found = (_ASSIGNMENT.match(w) for w in command.argv[:at])
    return {m.group(1): m.group(2) for m in found if m is not None}


# ``export A=1 B=2`` (``declare -x``, ``typeset -x``): a declaration, which parse_commands
# does not list as a command.
_EXPORT = re.compile(
    r"(?:^|[;&|(\s])(?:export|(?:declare|typeset)\s+-\w*x\w*)((?:\s+[A-Za-z_]\w*=(?:'[^']*'|\"[^\"]*\"|[^\s;&|)]*))+)"
)
_PAIR = re.compile(r"([A-Za-z_]\w*)=('[^']*'|\"[^\"]*\"|[^\s;&|)]*)")


def exports(script: str) -> list[tuple[int, str, str]]:
    """(offset, name, value) of each variable a RUN script exports to the commands after it."""
    if "export" not in script and "declare" not in script and "typeset" not in script:
        return []  # no declaration for ``_EXPORT`` to find: no scan of the whole script
    return [
        (found.start(), pair.group(1), pair.group(2).strip("'\""))
        for found in _EXPORT.finditer(script)
        for pair in _PAIR.finditer(found.group(1))
    ]


def unwrapped(command: Command) -> list[str]:
    """The argv after sudo/env/... prefixes."""
    return _unwrap(command)[1]


def wrappers(command: Command) -> list[str]:
    """The wrapper programs before the command's program (``gosu app run``: ``gosu``)."""
    return _unwrap(command)[0]


def _base(word: str) -> str:
    """A program named by its path is the program (``/usr/bin/tini``, ``/sbin/gosu``)."""
    return word.rsplit("/", 1)[-1] if "/" in word else word


def _runuser_wrapper(argv: list[str], at: int, names: Container[str]) -> bool:
    """``runuser -u app -- cmd`` runs cmd; ``runuser app -c STRING`` is su's form."""
    return (
        names is _WRAPPERS
        and _base(argv[at]) == "runuser"
        and any(a in ("-u", "--user") or a.startswith("--user=") for a in argv[at + 1 :])
    )


def other_user(command: Command) -> bool:
    """``sudo -u app pip``, ``gosu app pip``, ``su app -c ...``: the command runs as a user (and
    HOME) the RUN's is not. Only a wrapper's own options count: ``sudo pip install --user x``
    runs pip as root."""
    argv = command.argv
    found, at = _wrappers_with_options(argv)
    if at < len(argv):  # /usr/bin/sudo -u app pip: a wrapper named by its path
        name = argv[at].rsplit("/", 1)[-1]
        found += _wrappers_with_options([name, *argv[at + 1 :]])[0] or [(name, [])]
    for word, options in found:
        name = word.rsplit("/", 1)[-1]
        if name in _ALWAYS_OTHER_USER or name in _SU:
            return True
        if any(_is_option(a, _USER_OPTIONS.get(name, ())) for a in options):
            return True
    return False


# Programs that run the command after them as root when no option names another user.
_TO_ROOT = frozenset({"sudo", "doas"})


def runs_as_root_via(command: Command) -> str | None:
    """The wrapper (``sudo``, ``doas``) that runs the command as root, whoever runs the RUN
    (sudo(8): the target user is root unless ``-u`` names one); None when there is none, or
    one of them names another user (``other_user``)."""
    if other_user(command):
        return None
    found, _ = _wrappers_with_options(command.argv)
    return next((w for w, _ in found if w in _TO_ROOT), None)


def _is_option(arg: str, options: tuple[str, ...]) -> bool:
    """``arg`` is one of ``options``, spelt alone, ``--opt=value`` or ``-uvalue``."""
    return any(
        arg == o or arg.startswith(o + "=") or (len(o) == 2 and arg.startswith(o) and len(arg) > 2)
        for o in options
    )


def is_inert(command: Command) -> bool:
    """True when the command runs an INERT program named bare or by an absolute path: a
    relative path such as ``scripts/install`` or ``bin/sync`` is a file of the build, whatever
    its name (``program_args`` names it by its last component)."""
    program, _ = program_args(command)
    argv = unwrapped(command)
    relative = bool(argv) and "/" in argv[0] and not argv[0].startswith("/")
    return program in INERT and not relative


def _program_args(command: Command) -> tuple[str, list[str]]:
    argv = unwrapped(command)
    if not argv:
        return "", []
    program = argv[0].rsplit("/", 1)[-1] if not argv[0].startswith("./") else argv[0]
    if _PYTHON.match(program) and len(argv) >= 3 and argv[1] == "-m":
        program, argv = argv[2], argv[2:]
    if _PIP.match(program):
        return program, optparse_values(argv[1:], PIP_SHORT_VALUES)
    return program, nopt_values(argv[1:]) if program in _NOPT_PROGRAMS else argv[1:]


_PIP = re.compile(r"^pip[0-9.]*$")
# pip's short options that take a value (cmdoptions.py: -r -c -e -t -d -w -i -f -C).
PIP_SHORT_VALUES = frozenset("rcetdwifC")


def optparse_values(args: list[str], takes_value: frozenset[str]) -> list[str]:
    """``args`` with grouped short options split as optparse reads them: each letter is an
    option until one that takes a value, which takes the rest of the word or the next one
    (``-Ut /deps`` is ``-U -t /deps``, ``-qrreq.txt`` is ``-q -r req.txt``, ``-e.`` is ``-e
    .``; built: pip 23's ``install -Ut /deps six`` filled /deps, which a split reading ``-Ut``
    did not copy; ``install -r requirements.txt -e.`` moved before ``COPY . .`` as if ``-e.``
    named no folder failed, "file:///app does not appear to be a Python project")."""
    out: list[str] = []
    for at, arg in enumerate(args):
        if arg == "--":
            return out + args[at:]
        if len(arg) < 3 or arg[0] != "-" or arg[1] == "-":
            out.append(arg)
            continue
        for i, letter in enumerate(arg[1:], 2):
            out.append("-" + letter)
            if letter in takes_value:
                out += [arg[i:]] if arg[i:] else []
                break
    return out


# Programs whose options nopt parses: a long option's value may be the next word.
_NOPT_PROGRAMS = frozenset({"npm", "pnpm"})


def nopt_values(args: list[str]) -> list[str]:
    """``args`` with each ``--option true|false`` written ``--option=true|false``, as nopt
    reads it: the word is the option's value, not a package or subcommand (built: pnpm 8.15.9
    and 9.15.9's ``install --frozen-lockfile false`` over a stale lock rewrote it as
    ``--no-frozen-lockfile`` does, ``--frozen-lockfile true`` failed as the bare flag does;
    npm 10's ``install --save false is-number`` installed is-number and left package.json).
    A ``--no-option`` given a value inverts it (``_nopt_negated``)."""
    out: list[str] = []
    for at, arg in enumerate(args):
        if arg == "--":  # the rest are operands (``npm exec -- true``)
            return out + args[at:]
        last = out[-1] if out else ""
        if arg in ("true", "false") and last.startswith("--") and "=" not in last:
            out[-1] = _nopt_negated(f"{last}={arg}")
        else:
            out.append(_nopt_negated(arg))
    return out


def _nopt_negated(arg: str) -> str:
    """``--no-option=true|false`` written ``--option=false|true``: nopt sets the option to the
    value's opposite (built: npm 10.8.2's ``ci --no-offline false`` ran offline and failed
    ENOTCACHED on an empty cache); any other word is returned as is."""
    flag, eq, value = arg.partition("=")
    if not (eq and flag.startswith("--no-") and value in ("true", "false")):
        return arg
    return f"--{flag[5:]}={'false' if value == 'true' else 'true'}"


# The managers that run each program, in MANAGERS order.
_BY_PROGRAM: dict[str, list[PackageManager]] = {}
for _manager in MANAGERS:
    for _program in _manager.programs:
        _BY_PROGRAM.setdefault(_program, []).append(_manager)


def start_install(argv: list[str], depth: int = 0) -> str | None:
    """``runtime_install`` of a command a container runs, read as a RUN's command is: through
    wrappers (``exec``, ``env X=1``, ``gosu app``, ``sudo``), ``python -m``, the program by its
    basename (``/usr/local/bin/bundle``), the subcommand after general options
    (``npm --silent install``) and into ``sh -c`` strings."""
    for command in parse_commands(shlex.join(argv)) if argv else []:
        name, args = program_args(command)
        name = name.rsplit("/", 1)[-1]
        inner = inner_script(name, args)
        if inner is not None and depth < 8:
            found = next(
                (f for c in parse_commands(inner) if (f := start_install(c.argv, depth + 1))), None
            )
        else:
            subs = [m.subcommand_of(args) for m in _BY_PROGRAM.get(name, ())]
            found = runtime_install([name, *args]) or next(
                (f for sub in subs if sub and (f := runtime_install([name, sub]))), None
            )
        if found is not None:
            return found
    return None


def tool_calls(commands: list[Command], berry: bool = False) -> list[ToolCall]:
    """Package-manager calls that download packages, in script order."""
    calls = []
    for command in commands:
        program, args = program_args(command)
        for manager in _BY_PROGRAM.get(program, ()):
            if manager.id == ("yarn" if berry else "yarn-berry"):
                continue
            call = ToolCall(manager, command, args)
            if not manager.subcommands or call.subcommand in manager.subcommands:
                calls.append(call)
            break
    return calls


def inline_script(command: Command) -> str | None:
    """The script of ``sh -c SCRIPT`` (any shell, options before ``-c`` allowed), else None
    (not ``su app -c SCRIPT``: its commands run as another user)."""
    program, args = program_args(command)
    return inner_script(program, args, as_other_user=False)


def inner_script(program: str, args: list[str], as_other_user: bool = True) -> str | None:
    """The script ``program args`` runs as a shell script (``sh -c``; ``su -c``), else None."""
    if program in _SU:
        if not as_other_user:
            return None
        for i, arg in enumerate(args):
            if arg in ("-c", "--command") and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith("--command="):
                return arg.partition("=")[2]
        return None
    if program not in SHELLS:
        return None
    if program == "busybox":
        if not args or args[0] not in SHELLS:
            return None
        args = args[1:]
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            return None
        if "c" in arg[1:] and not arg.startswith("--") and i + 1 < len(args):
            return args[i + 1]
    return None
