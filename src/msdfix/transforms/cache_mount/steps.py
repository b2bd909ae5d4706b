"""What the commands of a RUN do to package caches and indexes, as far as msdfix can tell."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from msdfix.ecosystems.base import PackageManager, positionals
from msdfix.ecosystems.os import APT_PROGRAMS, INDEX_REFRESHERS
from msdfix.ecosystems.registry import MANAGERS
from msdfix.model.paths import within
from msdfix.shell.classify import (
    ToolCall,
    inline_script,
    is_inert,
    program_args,
    tool_calls,
    wrappers,
)
from msdfix.shell.commands import Command, parse_commands, substituted_commands, surely_runs
from msdfix.shell.edit import errexit, errexit_option
from msdfix.shell.script import RunScript
from msdfix.transforms.cache_mount.targets import Resolver

_PROGRAMS = {p.lstrip("./") for m in MANAGERS for p in m.programs}
_READER_PROGRAMS = {prefix[0] for m in MANAGERS for prefix in m.index_readers}
_CLEANERS: dict[str, list[tuple[tuple[str, ...], PackageManager]]] = {}  # by program, in order
for _manager in MANAGERS:
    for _prefix in _manager.clean_commands:
        _CLEANERS.setdefault(_prefix[0], []).append((tuple(_prefix), _manager))
_READER_PREFIXES = {tuple(prefix) for m in MANAGERS for prefix in m.index_readers}
_READER_LENGTHS = sorted({len(prefix) for prefix in _READER_PREFIXES})


class Step(NamedTuple):
    """One command of a RUN, classified."""

    command: Command
    program: str
    args: tuple[str, ...]
    inlined: bool  # inside a ``sh -c`` string: analysed, never edited
    conditional: bool  # may not run: nested in if/for/subshell, or after ``||``
    call: ToolCall | None  # a package-manager command that downloads
    refresh: bool  # refreshes the package index
    reads_index: bool  # needs the package index the image (or the mount) holds
    unknown: bool  # msdfix cannot tell what it does
    cleaner: PackageManager | None  # whose cache-cleaning command this is (npm cache clean)
    unguarded: bool = False  # a refresh whose failure does not stop the index step after it

    def cleans(self, target: str, resolver: Resolver) -> bool:
        """True when this command deletes ``target`` or everything in it."""
        if self.program == "rm":
            paths = removed_paths(self.args, resolver, run_dir(self, resolver))
            return any(within(target, p) for p in paths)
        return target in self.cleaned(resolver)

    def cleaned(self, resolver: Resolver) -> list[str]:
        """The cache directories this clean command empties (``go clean -cache``: the build
        cache, not the module store; ``apt-get clean``: the archives, never the lists)."""
        manager = self.cleaner
        if manager is None:
            return []
        call = ToolCall(manager, self.command, list(self.args))
        return [
            t
            for c in manager.caches
            if not c.index and c.cleaned(self.args) and (t := resolver.target(c, call))
        ]


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_GLOB = re.compile(r"[*?\[]")
# Up to the first comma, then anything but a brace: ``[^{}]*,[^{}]*`` backtracked over every
# comma of a word of thousands (quadratic).
_BRACES = re.compile(r"\{([^{},]*,[^{}]*)\}")
_MAX_WORDS = 64  # brace expansion of one word, at most
# find actions that delete what they reach, and the commands -exec runs to delete.
_FIND_DELETERS = frozenset({"rm", "rmdir", "unlink", "shred"})


def expanded(arg: str, resolver: Resolver) -> str:
    """``arg`` with the variables msdfix knows replaced (HOME, ENV, ARG, the image's ENV)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        found = resolver.home if name == "HOME" else resolver.variable(name)
        return found if found is not None else match.group(0)

    if (arg == "~" or arg.startswith("~/")) and resolver.home is not None:
        arg = resolver.home + arg[1:]
    return _VARIABLE.sub(value, arg) if "$" in arg else arg


def brace_words(arg: str) -> list[str]:
    """The words bash's brace expansion makes of ``arg`` (``/var/{tmp,cache}/*``: two). Read
    for every shell: where /bin/sh keeps the braces, the literal path deletes nothing more."""
    match = _BRACES.search(arg)
    if match is None:
        return [arg]
    words: list[str] = []
    for part in match.group(1).split(","):
        words += brace_words(arg[: match.start()] + part + arg[match.end() :])
        if len(words) > _MAX_WORDS:
            break
    return words


def run_dir(step: Step, resolver: Resolver) -> str | None:
    """The directory the step runs in: WORKDIR, changed by each ``cd`` before it (None:
    unknown, e.g. ``cd $DIR`` or a command inside ``sh -c``)."""
    if step.inlined:
        return None
    base, cwd = resolver.workdir, step.command.cwd
    if cwd is None:
        return base
    cwd = expanded(cwd, resolver)
    if "$" in cwd or cwd.startswith(("~", "-")):
        return None
    if cwd.startswith("/"):
        return _normal(cwd)
    return _normal(posixpath.join(base, cwd)) if base else None


def _normal(path: str) -> str:
    """``posixpath.normpath``, with ``//var`` read as ``/var`` (as the kernel does)."""
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path


def operand_paths(arg: str, resolver: Resolver, cwd: str | None) -> list[str] | None:
    """The absolute, normalised paths one ``rm`` operand names (glob characters kept), or
    None when msdfix cannot know them (a variable, ``~user``, relative to an unknown
    directory)."""
    paths = []
    for word in brace_words(expanded(arg, resolver)):
        if "$" in word or word.startswith("~"):
            return None
        if not word.startswith("/"):
            if cwd is None:
                return None
            word = posixpath.join(cwd, word)
        empties = word.endswith(("/*", "/."))  # dir/* and dir/. empty dir: "dir/"
        path = _normal(word[:-2] or "/" if empties else word)
        paths.append(path + "/" if empties and path != "/" else path)
    return paths


def unresolved(
    args: tuple[str, ...] | list[str], resolver: Resolver, cwd: str | None, targets: list[str]
) -> str | None:
    """The first ``rm`` argument whose path msdfix cannot know and that may be a target or a
    directory above one."""
    return next(
        (
            a
            for a in args
            if not a.startswith("-")
            and operand_paths(a, resolver, cwd) is None
            and not misses_targets(a, targets)
        ),
        None,
    )


_LITERAL_RELATIVE = re.compile(r"[\w.+@%:,=-]+(?:/[\w.+@%:,=-]+)*/?")


def misses_targets(word: str, targets: list[str]) -> bool:
    """True when a relative path without variables or globs cannot be any target or a
    directory above one, from whatever directory it is read: no such directory's path ends
    with its parts (``rm ruby.tar.xz`` in an unknown WORKDIR; ``.cache`` may be
    ``/root/.cache``)."""
    if not _LITERAL_RELATIVE.fullmatch(word):
        return False
    parts = [p for p in word.rstrip("/").split("/") if p != "."]
    if not parts or ".." in parts:
        return False
    for target in targets:
        names = target.strip("/").split("/")
        for end in range(len(parts), len(names) + 1):
            if names[end - len(parts) : end] == parts:
                return False
    return True


def _rm_paths(
    args: tuple[str, ...] | list[str], resolver: Resolver, cwd: str | None
) -> Iterator[tuple[str, str, bool]]:
    """Each known path of an ``rm`` argument list (``operand_paths``, a trailing slash
    dropped), with the word that names it and whether it holds glob characters."""
    for arg in args:
        if not arg.startswith("-"):
            for path in operand_paths(arg, resolver, cwd) or []:
                path = path.rstrip("/") or "/"
                yield arg, path, bool(_GLOB.search(path))


def removed_paths(
    args: tuple[str, ...] | list[str], resolver: Resolver, cwd: str | None
) -> list[str]:
    """Directories an ``rm`` argument list deletes, or empties (``dir/*``), normalised; words
    with glob characters name no exact path (see ``glob_hit``)."""
    return [path for _, path, glob in _rm_paths(args, resolver, cwd) if not glob]


def glob_hit(
    args: tuple[str, ...] | list[str], resolver: Resolver, cwd: str | None, targets: list[str]
) -> tuple[str, str] | None:
    """(the ``rm`` word, the directory) when a word with glob characters may match a mount
    target or a directory above it (``/var/cache/ap?``, ``/root/.c*``): deleting it fails on
    the mount point."""
    for arg, path, glob in _rm_paths(args, resolver, cwd):
        for target in targets if glob else []:
            above = _covered(path, target)
            if above is not None:
                return arg, above
    return None


def _covered(pattern: str, target: str) -> str | None:
    """The directory at or above ``target`` that ``pattern`` matches, if any."""
    parts, names = pattern.strip("/").split("/"), target.strip("/").split("/")
    if len(parts) > len(names):
        return None
    for part, name in zip(parts, names, strict=False):
        if name.startswith(".") and not part.startswith("."):
            return None  # a glob matches a dot file only when it spells the dot
        if not fnmatch.fnmatchcase(name, part):
            return None
    return "/" + "/".join(names[: len(parts)])


def find_deletes(step: Step, resolver: Resolver) -> list[str] | None:
    """The start directories a ``find`` deletes in, directories included (``-delete``,
    ``-exec rm -rf {} +``), normalised; [] when it deletes nothing or only files
    (``-type f``); None when a start directory cannot be known."""
    if step.program != "find":
        return []
    args = list(step.args)
    deletes = "-delete" in args or any(
        a in RUNS_COMMAND
        and i + 1 < len(args)
        and posixpath.basename(args[i + 1]) in _FIND_DELETERS
        for i, a in enumerate(args)
    )
    mindepth = any(
        a == "-mindepth" and i + 1 < len(args) and args[i + 1] != "0" for i, a in enumerate(args)
    )
    files_only = any(
        a == "-type" and i + 1 < len(args) and args[i + 1] == "f" for i, a in enumerate(args)
    ) and not any(a in {"-o", "-or", ","} for a in args)
    if not deletes or files_only:
        return []
    starts = []
    for arg in args:
        if arg.startswith(("-", "(", "!")):
            break
        starts.append(arg)
    paths = []
    for start in starts or ["."]:
        found = operand_paths(start, resolver, run_dir(step, resolver))
        if found is None:
            return None
        paths += [(p.rstrip("/") or "/") + ("/" if mindepth else "") for p in found]
    return paths  # "dir/": -mindepth 1 leaves dir itself


# find tests that keep a branch of its expression to entries of some names, and to files.
_FIND_NAME_TESTS = frozenset({"-name", "-iname"})
_FIND_FILE_TYPES = frozenset({"f", "l"})


def find_spares(step: Step, path: str, start: str) -> bool:
    """True when ``find`` cannot delete ``path`` or a directory between ``start`` and it:
    every branch of its expression (split at ``-o``) that deletes keeps to files (``-type f``)
    or to names none of those directories has (``find / -name '*.pyc' -o -name '*.pyo'
    -delete``: -delete binds to the last test). Parentheses and negations are not read."""
    args = list(step.args)
    first = next((i for i, a in enumerate(args) if a.startswith(("-", "(", "!"))), len(args))
    expression = args[first:]
    if any(a in ("(", ")", "\\(", "\\)", "!", "-not", ",") for a in expression):
        return False
    relative = posixpath.relpath(path, start) if path != start else ""
    names = [n for n in relative.split("/") if n not in ("", ".")] or [posixpath.basename(path)]
    branch: list[str] = []
    for word in [*expression, "-o"]:
        if word not in ("-o", "-or"):
            branch.append(word)
            continue
        if _branch_deletes(branch) and not _branch_spares(_before_action(branch), names):
            return False
        branch = []
    return True


def _branch_deletes(branch: list[str]) -> bool:
    """The branch deletes what it matches (``-delete``, ``-exec rm -rf {} +``)."""
    return "-delete" in branch or any(
        a in RUNS_COMMAND
        and i + 1 < len(branch)
        and posixpath.basename(branch[i + 1]) in _FIND_DELETERS
        for i, a in enumerate(branch)
    )


def _before_action(branch: list[str]) -> list[str]:
    """The tests before the branch's first deleting action (``-delete -name x`` deletes all:
    find evaluates left to right)."""
    for i, word in enumerate(branch):
        if word == "-delete" or word in RUNS_COMMAND:
            return branch[:i]
    return branch


def _branch_spares(branch: list[str], names: list[str]) -> bool:
    """The branch's tests match files only, or names none of ``names`` has."""
    values = dict(zip(branch, branch[1:], strict=False))
    if values.get("-type") in _FIND_FILE_TYPES:
        return True
    tests = [(a, branch[i + 1]) for i, a in enumerate(branch[:-1]) if a in _FIND_NAME_TESTS]
    return bool(tests) and not any(
        fnmatch.fnmatchcase(
            n.lower() if test == "-iname" else n, glob.lower() if test == "-iname" else glob
        )
        for test, glob in tests
        for n in names
    )


# Options that make ``mkdir`` accept a directory that exists.
_MKDIR_PARENTS = re.compile(r"^(-[a-zA-Z]*p[a-zA-Z]*|--parents)$")
_HOME_OPTIONS = {"useradd": ("-d", "--home-dir"), "adduser": ("--home", "--home")}


# git clone's options that take the next word as their value (-b BRANCH, --depth N, ...).
_CLONE_VALUE_OPTIONS = frozenset(
    "-b --branch -o --origin -c --config --depth --reference --reference-if-able -j --jobs "
    "--separate-git-dir --template -u --upload-pack --shallow-since --shallow-exclude "
    "--filter --server-option".split()
)


def created_dirs(step: Step, resolver: Resolver, targets: list[str]) -> list[str] | None:
    """Directories the step creates and expects not to exist (``mkdir`` without ``-p``, the
    destination of ``git clone``, the home ``useradd -m``/``adduser`` makes), normalised. One
    with a part msdfix cannot know is given as the directory it lands in, ending in ``/``
    (``/home/$USER``: ``/home/``); None when not even that is known."""
    args, cwd = list(step.args), run_dir(step, resolver)
    words: list[str] = []
    if step.program == "mkdir" and not any(_MKDIR_PARENTS.match(a) for a in args):
        words = [a for a in args if not a.startswith("-")]
    elif step.program == "git" and args[:1] == ["clone"]:
        words = positionals(args[1:], _CLONE_VALUE_OPTIONS)[1:2]
    elif step.program in _HOME_OPTIONS:
        short, long = _HOME_OPTIONS[step.program]
        creates = step.program == "adduser" and "--no-create-home" not in args
        creates = creates or any(a in {"-m", "--create-home"} for a in args)
        home = next(
            (args[i + 1] for i, a in enumerate(args[:-1]) if a in {short, long}),
            next((a.split("=", 1)[1] for a in args if a.startswith(long + "=")), None),
        )
        names = [a for a in args if not a.startswith("-") and a != home]
        if creates and (home or (names and "--system" not in args)):
            words = [home or "/home/" + names[-1]]
    paths = []
    for word in words:
        found = operand_paths(word, resolver, cwd)
        if found is not None:
            paths += [p.rstrip("/") or "/" for p in found]
            continue
        known = expanded(word, resolver).split("$")[0]
        if not known.startswith("/"):
            if misses_targets(word, targets):
                continue  # mkdir build: no target's path ends in it
            return None
        paths.append(posixpath.dirname(known).rstrip("/") + "/")
    return paths


_KEPT = 128  # a file's RUNs, re-read on each pass (more slows the whole run: memory)
_cache: OrderedDict[tuple[str, tuple[tuple[str, ...], ...], bool, bool], list[Step]] = OrderedDict()


def run_steps(script: RunScript, berry: bool, errexit_on: bool = False) -> list[Step]:
    """Every command of the RUN (``sh -c`` scripts inlined), classified in execution order;
    ``errexit_on``: the shell runs the script with ``-e`` (``SHELL ["/bin/bash", "-e", "-c"]``).

    The steps depend only on the commands (parsed from the script's text, or an exec form's
    argv when there is no text), so each script is classified once; callers must not change
    the list.
    """
    argv = () if script.text else tuple(tuple(c.argv) for c in script.commands)
    key = (script.text, argv, berry, errexit_on)
    steps = _cache.get(key)
    if steps is not None:
        _cache.move_to_end(key)
        return steps
    steps = _steps(script.commands, berry, False, False, 3, errexit_on)
    _cache[key] = steps
    if len(_cache) > _KEPT:
        _cache.popitem(last=False)  # the least recently used
    return steps


def step_commands(commands: list[Command], depth: int = 3) -> list[tuple[Command, str, list[str]]]:
    """(command, program, args) of each step ``run_steps`` makes of ``commands``, in order
    (``sh -c`` scripts inlined as it inlines them), without classifying them: what a question
    about a RUN's words alone needs (``History.names``, asked of every later RUN)."""
    found: list[tuple[Command, str, list[str]]] = []
    for command in commands:
        script = inline_script(command) if depth > 0 else None
        if script is not None:
            found += step_commands(parse_commands(script), depth - 1)
            continue
        found.append((command, *program_args(command)))
    return found


def _steps(
    commands: list[Command],
    berry: bool,
    inlined: bool,
    outer_conditional: bool,
    depth: int,
    errexit_on: bool,
) -> list[Step]:
    steps: list[Step] = []
    calls = {id(c.command): c for c in tool_calls(commands, berry)}
    for command in commands:
        conditional = outer_conditional or command.nested or command.op_before == "||"
        script = inline_script(command) if depth > 0 else None
        if script is not None:
            inner = parse_commands(script)
            steps += _steps(inner, berry, True, conditional, depth - 1, _shell_errexit(command))
            continue
        program, args = program_args(command)
        if _other_root(command, program, args):  # its caches are not this container's
            other = Step(command, program, tuple(args), inlined, conditional, *_OPAQUE)
            steps.append(other)
            continue
        call = calls.get(id(command))
        steps.append(_step(command, program, tuple(args), inlined, conditional, call))
    return [_unguarded_refresh(s, steps, commands, errexit_on) for s in steps]


def _shell_errexit(command: Command) -> bool:
    """Whether ``sh -c`` (``bash -ec``, ``busybox sh -e -c``) starts its script with -e."""
    program, args = program_args(command)
    return errexit_option(args[1:] if program == "busybox" else args)


def _unguarded_refresh(
    step: Step, steps: list[Step], commands: list[Command], errexit_on: bool
) -> Step:
    """A refresh whose failure does not stop the index step after it (``apt-get update ||
    true; apt-get install``, ``apt-get update; apt-get install`` without ``set -e``) may leave
    the lists as they were, which the install then reads (apt: "Some index files failed to
    download. They have been ignored, or old ones used instead"): it counts as a refresh that
    may not run. ``&&`` up to the reader, or errexit (``set -e`` before, the shell's ``-e``)
    with the refresh the last command of its and-or list (``set -e && apt-get update;
    apt-get install``; sh(1): -e is ignored for "any command of an AND-OR list other than the
    last"), stops it.
    """
    if not step.refresh or step.conditional:
        return step
    at = next((i for i, c in enumerate(commands) if c is step.command), None)
    if at is None:
        return step
    readers = {id(s.command) for s in steps if s.refresh or s.reads_index or s.unknown}
    if not any(id(c) in readers for c in commands[at + 1 :]):
        return step  # nothing after it reads the index
    alone, entered = _last_of_list(commands, at), False
    for i, command in enumerate(commands[at + 1 :]):
        # after ``&&``: a pipeline's later commands, a group's or an if's inner ones
        within = i > 0 and (command.op_before == "|" or (entered and command.nested))
        if command.op_before == "&&" or within:
            if id(command) in readers:
                return step
            alone, entered = False, entered or command.op_before == "&&"
            continue
        if command.op_before in (None, ";") and alone and errexit(commands[:at], errexit_on):
            return step  # set -e: its failure ends the RUN
        break
    return step._replace(conditional=True, unguarded=True)


def _last_of_list(commands: list[Command], at: int) -> bool:
    """The command at ``at`` starts its and-or list, or follows only ``set`` commands joined
    by ``&&`` (``set -e && apt-get update``): errexit then ends the RUN where it fails. After
    any other command (``cd /x && apt-get update``) a failure before it skips it, and -e
    ignores that failure (not the last of the list)."""
    while commands[at].op_before == "&&":
        at -= 1
        if commands[at].nested or commands[at].argv[:1] != ["set"]:
            return False
    return commands[at].op_before in (None, ";")


_OPAQUE = (None, False, False, True, None)  # no call, refresh or index read; unknown; no cleaner
# apt options that point apt at another root or other directories (``-o Dir=/rootfs``; apt's
# option names are not case-sensitive: ``-o dir=/rootfs``)
_APT_ROOT = re.compile(r"^(?:-o)?(?:RootDir|Dir(?:::(?:Cache|State))?)=", re.IGNORECASE)


def _other_root(command: Command, program: str, args: list[str]) -> bool:
    """``chroot /rootfs apt-get install ...`` or ``apt-get -o Dir=/rootfs ...``: the command
    works on another root file system, whose caches and cleanups are not the mounts' (a
    dropped ``chroot /rootfs apt-get clean`` left 110 MB of .debs and pkgcache.bin in a
    debootstrapped image, built for real)."""
    if any(w.rsplit("/", 1)[-1] == "chroot" for w in wrappers(command)):
        return True
    return program in APT_PROGRAMS and any(_APT_ROOT.match(a) for a in args)


RUNS_COMMAND = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# apt subcommands that never read the package lists (the rest may: satisfy, source, ...).
APT_WITHOUT_INDEX = frozenset(
    {"clean", "autoclean", "remove", "purge", "autoremove", "autopurge", "help", "moo"}
)


def _step(
    command: Command,
    program: str,
    args: tuple[str, ...],
    inlined: bool,
    conditional: bool,
    call: ToolCall | None,
) -> Step:
    refresh = reads = unknown = False
    argv = [program, *args]
    if call is not None:
        manager = call.manager
        refresh = call.subcommand in manager.refresh and not _partial_refresh(call)
        reads = bool(manager.refresh) and not refresh
    elif program in INDEX_REFRESHERS:
        refresh = not any(a in INDEX_REFRESHERS[program] for a in args)
    elif program in APT_PROGRAMS:  # satisfy, source, download, ...: anything but these
        words = [a for a in args if not a.startswith("-")]
        reads = bool(words) and words[0] not in APT_WITHOUT_INDEX
    elif program in _READER_PROGRAMS or program.lstrip("./") in _PROGRAMS:
        reads = any(tuple(argv[:n]) in _READER_PREFIXES for n in _READER_LENGTHS)
    elif program and not is_inert(command):
        unknown = True
    elif program == "find" and any(a in RUNS_COMMAND for a in args):
        unknown = True  # find ... -exec apt-get install {} +: a command msdfix does not read
    cleaners = _CLEANERS.get(program)
    cleaner = (
        next((m for p, m in cleaners if tuple(argv[: len(p)]) == p), None) if cleaners else None
    )
    return Step(
        command, program, args, inlined, conditional, call, refresh, reads, unknown, cleaner
    )


def _partial_refresh(call: ToolCall) -> bool:
    """The refresh fetches only some sources and keeps the other lists it finds (built:
    with the lists on an emptied mount, ``apt-get update -o Dir::Etc::sourcelist=
    sources.list.d/bp.list -o Dir::Etc::sourceparts=-`` then ``apt-get install jq`` failed,
    "Package 'jq' has no installation candidate"; the original read the image's lists)."""
    settings = call.manager.partial_refresh
    return bool(settings) and any(
        a.lower().removeprefix("-o").startswith(settings) for a in call.args
    )


def index_first(steps: list[Step]) -> Step | None:
    """The first step that refreshes, reads or may touch the package index."""
    return next((s for s in steps if s.refresh or s.reads_index or s.unknown), None)


def refreshes_first(steps: list[Step]) -> bool:
    """True when the RUN refreshes the package index before anything may read it."""
    first = index_first(steps)
    return first is not None and first.refresh and not first.conditional


def reads_image_index(steps: list[Step]) -> bool:
    """True when the RUN may read the package index the image holds (no refresh first)."""
    first = index_first(steps)
    return first is not None and not (first.refresh and not first.conditional)


def substitution_read(script: RunScript, steps: list[Step]) -> int | None:
    """Script offset of the first command a ``$(...)``, backquote or ``<(...)`` runs that may
    read the package index (``test -n "$(apt-cache search ^jq$)"``) before the RUN's own
    first index step, or None. A substitution's command is no step (``run_steps`` reads the
    words' commands only) yet reads the lists the image holds."""
    first = index_first(steps)
    for at, command in sorted(_substitutions(script.text, 3), key=lambda found: found[0]):
        program, args = program_args(command)
        step = _step(command, program, tuple(args), False, True, None)
        if not (step.refresh or step.reads_index or step.unknown):
            continue
        if first is None or first.inlined or at < first.command.end:
            return at
    return None


@lru_cache(maxsize=512)  # asked for each later RUN by every apt RUN's index_reader
def _substitutions(text: str, depth: int) -> tuple[tuple[int, Command], ...]:
    """The commands the substitutions of ``text`` run, with where they run in ``text``: a
    ``sh -c`` script's own (``sh -c 'test -n "$(apt-cache search jq)"'``) at its command."""
    found = [(c.start, c) for c in substituted_commands(text)]
    if depth > 0:
        for command in parse_commands(text):
            inner = inline_script(command)
            if inner is not None:
                found += [(command.start, c) for _, c in _substitutions(inner, depth - 1)]
    return tuple(found)


def always_runs(step: Step, commands: list[Command]) -> bool:
    """True when the RUN succeeds only where ``step`` ran (``commands``: the RUN's script);
    never for a step inside ``sh -c`` or after ``||`` (see ``surely_runs``)."""
    if step.inlined or step.conditional:
        return False
    at = next((i for i, c in enumerate(commands) if c is step.command), None)
    return at is not None and surely_runs(commands, at)
