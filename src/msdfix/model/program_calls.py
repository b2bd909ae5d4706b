"""Programs a project's own sources run by name (``exec.Command("git", ...)``,
``subprocess.run(["curl", ...])``, ``execSync('git rev-parse')``): tools that a ``-slim`` or
distroless image may lack although the full toolchain image has them."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache

from msdfix.model.context import MAX_SOURCE_BYTES, BuildContext, Unreadable

# Names distinctive enough to look for as quoted words in sources ("file" and "free" are not).
CALLED = (
    "curl", "wget", "git", "ssh", "scp", "sftp", "gpg", "hg", "svn", "ps", "pkill", "pgrep",
    "convert", "identify", "magick", "unzip", "bzip2", "xz", "ssh-keygen", "ssh-keyscan",
    "ssh-add", "ssh-agent", "gpgv", "bunzip2", "bzcat", "xzcat", "unxz", "zipinfo", "mogrify",
    "readelf", "objdump",
)  # fmt: skip
# Files that may name a program the image runs: sources, and the config files a program
# reads its commands from (``probes.toml``: ``cmd = ["curl", ...]``). split-stages and
# slim-base read the same kinds, so one does not rate safe what the other declines.
SOURCE_SUFFIXES = (
    ".go", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".sh", ".bash", ".java", ".kt", ".rs",
    ".cs", ".php", ".pl", ".yaml", ".yml", ".toml", ".conf", ".ini",
)  # fmt: skip
SOURCE_PATTERNS = tuple(f"*{suffix}" for suffix in SOURCE_SUFFIXES)
# Docs, VCS, editor and CI files: not read by the image's program for commands to run.
COMMON_SOURCE = (
    r"Dockerfile.*", r".*\.Dockerfile", r"\.dockerignore", r"\.git.*", r"[^/]*\.md", r"LICEN[CS]E.*",
    r"Makefile", r"\.(github|vscode|idea)/.*", r"\.editorconfig",
)  # fmt: skip
COMMON = [re.compile(p) for p in COMMON_SOURCE]
MAX_SCANNED = 4000
TOO_MANY = "*"  # answer for a context with more sources than msdfix reads: any tool may run


def source_text(ctx: BuildContext, rel: str) -> str:
    """The text of source ``rel`` ("" when the build has none), read up to MAX_SOURCE_BYTES:
    a 2 MiB bundle's ``execSync('git ...')`` counts. Raises Unreadable for one msdfix cannot
    read (larger, a link out of the context or a loop, not a regular file): its programs are
    unknown, not none."""
    return ctx.read_known(rel, MAX_SOURCE_BYTES) or ""


@lru_cache(maxsize=64)
def tool_patterns(tools: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a tool named as a quoted word in a source, a tool run at a shell script line's start),
    each with the tool's name as group 1."""
    names = "|".join(map(re.escape, tools))
    literal = re.compile(r"[\"'`](?:/usr/bin/|/bin/)?(" + names + r")[\"'` ]")
    shell = re.compile(r"(?m)^[^#\n]*(?<![\w./-])(" + names + r")(?![\w.-])")
    return literal, shell


# GNU tar runs a compressor for -J/-j or an archive's suffix: `tar -xJf seed.tar.xz` needs xz.
_TAR = re.compile(r"(?m)^[^#\n]*(?<![\w./-])tar\s+([^\n;&|]*)")
_TAR_FILTERS = {
    tool: re.compile(
        rf"^-?[a-zA-Z]*{flag}[a-zA-Z]*(?=\s|$)|\s-[a-zA-Z]*{flag}[a-zA-Z]*(?=\s|$)"
        rf"|(?:^|\s)--{long}(?=\s|$)|\.(?:{suffixes})(?![\w.])"
    )
    for tool, flag, long, suffixes in (
        ("xz", "J", "xz", r"tar\.xz|txz"), ("bzip2", "j", "bzip2", r"tar\.bz2|tbz2?|tbz")
    )
}  # fmt: skip
_SHELLS = re.compile(r"#!\s*(?:/usr)?/bin/(?:env\s+)?(?:ba|da|a|z)?sh\b")


def tar_tool(text: str, tools: tuple[str, ...]) -> str | None:
    """The first of ``tools`` (xz, bzip2) that a ``tar`` command of a shell text runs."""
    for match in _TAR.finditer(text) if "tar" in text else ():
        for tool, flags in _TAR_FILTERS.items():
            if tool in tools and flags.search(match.group(1)):
                return tool
    return None


def is_script(rel: str, text: str) -> bool:
    """A shell script: ``*.sh``/``*.bash``, or a shell's ``#!`` line (``bin/start``)."""
    return rel.endswith((".sh", ".bash")) or _SHELLS.match(text) is not None


# `. FILE` / `source FILE` in a command position: the file runs in that shell.
_SOURCED = re.compile(
    r"""(?:^|[;&|({]|\b(?:then|do|else))[ \t]*(?:\.|source)[ \t]+["']?([^\s"';&|)]+)""", re.M
)
_VAR_PREFIX = re.compile(r"^(?:\$\{?\w+\}?/)+")


def sourced_paths(texts: Iterable[str]) -> set[str]:
    """The files shell scripts source (``. /app/lib/helpers``, ``source "$DIR/env"``), as
    paths without their leading ``/``, ``./`` or variable."""
    found: set[str] = set()
    for text in texts:
        for match in _SOURCED.finditer(text) if "." in text or "source" in text else ():
            path = _VAR_PREFIX.sub("", match.group(1)).lstrip("/")
            path = path[2:] if path.startswith("./") else path
            if path and "$" not in path:
                found.add(path)
    return found


def sourced_script_paths(ctx: BuildContext, files: Iterable[str]) -> set[str]:
    """What the shell scripts among ``files`` source."""
    return sourced_paths(
        text for rel in sorted(files) if is_script(rel, text := _readable(ctx, rel))
    )


def _readable(ctx: BuildContext, rel: str) -> str:
    """``source_text``, or "" for a file it cannot read (whose reader answers unknown)."""
    try:
        return source_text(ctx, rel)
    except Unreadable:
        return ""


def is_sourced(rel: str, paths: set[str]) -> bool:
    """``rel`` is a file that a script sources (so a shell script, whatever its name)."""
    return any(rel == p or rel.endswith("/" + p) or p.endswith("/" + rel) for p in paths)


# A one-line string literal of a source: a shell command line for execSync, os.system, ...
# Linear: a start is a quote no backslash escapes, so at most one start per quote kind and
# line fails (any later unescaped quote of its kind closes it).
_STRING = re.compile(r"""(?<!\\)(["'`])((?:\\.|(?!\1)[^\\\n])*)\1""")


@lru_cache(maxsize=64)
def _command_patterns(tools: tuple[str, ...]) -> re.Pattern[str]:
    """A tool in a command position of a shell line: its start, or after ``&&``, ``;``,
    ``|``, ``$(``, and after ``VAR=value`` assignments (``cd /app && git log``)."""
    names = "|".join(map(re.escape, tools))
    return re.compile(
        r"(?:^|[;&|(]|\$\()\s*(?:\w+=\S*\s+)*(?:/usr/bin/|/bin/)?(" + names + r")(?=\s|$)"
    )


@lru_cache(maxsize=64)
def _run_patterns(tools: tuple[str, ...]) -> re.Pattern[str]:
    """A tool a source runs: the first word of an argv list (``["make", "-s"]``,
    ``exec.Command("make", ...)``, ``exec.CommandContext(ctx, "make")``, ``os.execvp("make",
    ...)``), or the command of a shell
    string given to a call that runs one (``os.system("patch -p1 < fix.diff")``)."""
    names = "|".join(map(re.escape, tools))
    path = r"(?:/usr/bin/|/bin/|/usr/local/bin/)?"
    runs = r"(?:system|popen|run|call|check_call|check_output|Popen|execSync|spawnSync|getoutput)"
    return re.compile(
        rf"""[\[(][ \t]*(["'`]){path}({names})\1[ \t]*[,\])]"""
        rf"""|\b{runs}\([ \t]*(["'`])[ \t]*{path}({names})(?=[\s"'`])"""
        rf"""|\bCommandContext\([^,()\n]*,[ \t]*(["'`]){path}({names})\5[ \t]*[,)]"""
    )


# Methods whose first argument names a form field, never a program: multer's
# ``upload.single('file')`` and ``upload.array('file', 8)`` (built: an Express app with it,
# split onto node:4-slim, took an upload and answered the same).
_FIELD_METHOD = re.compile(r"\.(?:single|array)[ \t]*$")


def _first_run(text: str, tools: tuple[str, ...]) -> str | None:
    """The first of ``tools`` that ``_run_patterns`` finds a source running, a field name
    given to a method in ``_FIELD_METHOD`` left out."""
    for found in _run_patterns(tools).finditer(text):
        before = text[max(0, found.start() - 40) : found.start()]
        if found.group(0).startswith("(") and _FIELD_METHOD.search(before):
            continue
        return found.group(2) or found.group(4) or found.group(6)
    return None


def search(
    text: str,
    script: bool,
    tools: tuple[str, ...],
    commands: tuple[str, ...] = (),
    backticks: bool = False,
) -> str | None:
    """The first of ``tools`` a source names as a program (in a shell script also a
    command, or a tool a ``tar`` command runs; in another source also a command of a shell
    line written as a string: ``execSync('cd x && git log')``, ``'tar -cJf a.tar.xz d'``,
    or a ``tar`` argv list: ``["tar", "-cJf", out]``). ``commands``: more tools to look for
    where a shell script runs a command (its position tells them from words: ``make``)."""
    if not tools and not commands:
        return None
    literal, shell = tool_patterns(tools) if tools else (None, None)
    match = literal and literal.search(text) or (shell.search(text) if shell and script else None)
    if match:
        return match.group(1)
    if script:
        extra = tuple(t for t in commands if t not in tools)
        if extra:
            command = _command_patterns(extra)
            for line in text.splitlines():
                if not line.lstrip().startswith("#"):
                    found = command.search(line.split(" #")[0].strip())
                    if found:
                        return found.group(1)
        return tar_tool(text, (*tools, *extra))
    extra = tuple(t for t in commands if t not in tools)
    if backticks and (tools or extra):  # Ruby, PHP, Perl: `cmd` and %x(cmd) run a shell
        ran = _command_patterns((*tools, *extra))
        for tick in _BACKTICKS.finditer(text):
            found_tick = ran.search((tick.group(1) or tick.group(2) or "").strip())
            if found_tick:
                return found_tick.group(1)
    found_run = _first_run(text, extra) if extra else None
    if found_run:
        return found_run
    command = _command_patterns(tools)
    for string in _STRING.finditer(text):
        line = string.group(2)
        found = command.search(line)
        if found:
            return found.group(1)
        if "tar" in line and tar_tool(line, tools):
            return tar_tool(line, tools)
    for body in _multiline_strings(text) if tools else ():
        for line in body.splitlines():  # SCRIPT = """\nset -e\ncurl -fsS $URL\n"""
            found = command.search(line.split(" #")[0].strip())
            if found and found.group(1):
                return found.group(1)
            if "tar" in line and tar_tool(line, tools):
                return tar_tool(line, tools)
    for argv in _TAR_ARGV.finditer(text) if "tar" in text else ():
        words = " ".join(w for _, w in _WORD.findall(argv.group(2)))
        found_tool = tar_tool(f"tar {words}", tools)
        if found_tool:
            return found_tool
    return None


# The command of a backtick or ``%x(...)`` literal: code in Ruby, PHP and Perl, a template
# string in JavaScript (``BACKTICK_SUFFIXES`` tells them apart).
_BACKTICKS = re.compile(r"`([^`\n]*)`|%x[({]([^)}\n]*)[)}]")
BACKTICK_SUFFIXES = (".rb", ".php", ".pl", ".pm", ".rake")


# Delimiters of string literals that span lines: Python's triple quotes, a JS template literal.
_MULTILINE = ('"""', "'''", "`")


def _multiline_strings(text: str) -> list[str]:
    """Bodies of the multi-line string literals of a source that are values (assigned or
    passed: ``SCRIPT = <triple quote>...``, ``run(`...`)``), not docstrings: a shell script
    a program passes to ``sh -c`` has a command at each line's start. Every other piece
    between a delimiter's occurrences: linear, escapes aside."""
    found: list[str] = []
    for delimiter in _MULTILINE:
        pieces = text.split(delimiter) if delimiter in text else []
        for before, body in zip(pieces[0::2], pieces[1::2], strict=False):
            if "\n" in body and (delimiter == "`" or not _docstring(before)):
                found.append(body)
    return found


def _docstring(before: str) -> bool:
    """A triple quote that opens a docstring: first on its line, after a ``def``/``class``
    line's colon or at the module's start (``before`` is the source up to it)."""
    head, _, opener = before.rpartition("\n")
    if opener.strip():
        return False  # SCRIPT = """ or run(""" on the same line
    code = head.rstrip()
    return not code or code.endswith(":")


# ``["tar", "-cJf", out]``, ``("tar", "-xjf", ...)``, ``exec.Command("tar", "-cJf", ...)``: the
# quoted words after a quoted "tar", each after a comma (linear: no nested repetition).
_TAR_ARGV = re.compile(
    r"""(["'`])tar\1((?:[ \t]*,[ \t]*(?:"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|[\w.]+))+)"""
)
_WORD = re.compile(r"""(["'`])([^"'`\n]*)\1""")


# The words of an ENV or ARG line: names and values, quotes and ``=`` left out.
VALUE_WORDS = re.compile(r"[\s=\"']+")


def env_tool(values: list[str], tools: tuple[str, ...]) -> str | None:
    """The first of ``tools`` an ENV or ARG value names (``ENV FETCH_TOOL=curl``,
    ``PDF_CMD="/usr/bin/wget -q"``): a program the app may run by that name."""
    for value in values:
        for word in VALUE_WORDS.split(value):
            if posixpath.basename(word) in tools:
                return posixpath.basename(word)
    return None


def called_tool(
    ctx: BuildContext, tools: tuple[str, ...], commands: tuple[str, ...] = ()
) -> str | None:
    """The first of ``tools`` a source file of the build context names as a program (a quoted
    word, or a command at the start of a shell script's line), or of ``commands`` a shell
    script runs; None when none does or there is no context, ``TOO_MANY`` when there is too
    much of it to read. Raises Unreadable for a source msdfix cannot read."""
    if not ctx.present or not tools and not commands:
        return None
    files = {f for pattern in SOURCE_PATTERNS for f in ctx.glob(pattern)}
    files |= {f for f in ctx.glob("*") if "." not in posixpath.basename(f)}  # bin/start
    if len(files) > MAX_SCANNED:
        return TOO_MANY  # unknown, never absent
    sourced = sourced_script_paths(ctx, files)
    for rel in sorted(files):
        if "node_modules/" in rel or rel.startswith("vendor/"):
            continue
        if any(p.fullmatch(rel) for p in COMMON):
            continue  # CI workflows, docs: not what the image runs
        text = source_text(ctx, rel)
        script = is_script(rel, text) or is_sourced(rel, sourced)
        if "." not in posixpath.basename(rel) and not text.startswith("#!") and not script:
            continue
        found = search(text, script, tools, commands, rel.endswith(BACKTICK_SUFFIXES))
        if found:
            return found
    return None


# Manifests that list dependencies, and a dependency named for git in one: a package.json key
# or a requirement's name (``"git-repo-info": "^2"``, ``GitPython==3.1``), not github/gitlab.
_GIT_DEPENDENCY = (
    ("*package.json", "package.json"), ("*requirements*.txt", "*"), ("*pyproject.toml", "*"),
    ("*Pipfile", "Pipfile"), ("*setup.py", "setup.py"), ("*setup.cfg", "setup.cfg"),
)  # fmt: skip
# Python tools that take the package's version from git (they run `git describe` on the
# copied repository when the build or the program imports them; dockerignore keeps .git).
VCS_VERSIONING = re.compile(
    r"setuptools[-_]scm|hatch-vcs|versioneer|dunamai|poetry-dynamic-versioning|\bpbr\b"
    r"|versioningit|setuptools-git-versioning|uv-dynamic-versioning"
    r"|source\s*=\s*[\"']scm[\"']"  # pdm's [tool.pdm.version]
)
# (sentry-sdk and @sentry/node run `git rev-parse HEAD` for the release when none is set.)
_GIT = (
    r"(?:@?[\w./-]*?\bgit(?!hub|lab|ea|ignore|attributes|keep|\+)[\w.-]*|sentry-sdk|@sentry/node)"
)
_GIT_NAME = re.compile(
    rf"""["']{_GIT}(?:["'][ \t]*[:=]|[ \t]*[=<>~!\[])|^[ \t]*{_GIT}[ \t]*(?:[=<>~!;\[]|$)""",
    re.I | re.M,
)


def git_dependency(ctx: BuildContext) -> bool:
    """A dependency named for git (git-repo-info, git-last-commit, gitpython) or that asks
    git for the release (sentry-sdk): a library may read the repository, or run git, where no
    copied source of the app says so; or a tool that takes the version from git
    (setuptools-scm, ``VCS_VERSIONING``)."""
    for pattern, name in _GIT_DEPENDENCY:
        for rel in ctx.glob(pattern) if ctx.present else ():
            if posixpath.basename(rel) == name or "*" in name:
                try:
                    text = source_text(ctx, rel)
                except Unreadable:
                    return True  # unread is not "names no git dependency"
                if _GIT_NAME.search(text) or (
                    not rel.endswith("package.json") and VCS_VERSIONING.search(text)
                ):
                    return True
    return False
