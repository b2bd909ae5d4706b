"""What a single build stage does, for the ``split-stages`` transform: RUNs, copies, the plan.

``Analysis`` collects the facts (working dirs, build-tool calls, OS packages, the entry command);
a per-ecosystem planner turns them into a ``Plan`` (runtime image, paths to copy); ``Decline``
carries the reason when the stage cannot be split.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems import programs
from msdfix.ecosystems.base import option
from msdfix.ecosystems.node.frontend import FRONTEND_TOOLS
from msdfix.ecosystems.node.installs import PROJECT_INSTALLS
from msdfix.ecosystems.os import APT_PROGRAMS
from msdfix.ecosystems.registry import positional_args, subcommand
from msdfix.fixes import Edit
from msdfix.model.context import Unreadable
from msdfix.model.paths import parents, within
from msdfix.model.program_calls import (
    COMMON,
    COMMON_SOURCE,
    MAX_SCANNED,
    SOURCE_SUFFIXES,
    git_dependency,
    source_text,
)
from msdfix.model.stages import Stage
from msdfix.shell.checks import Check, check_of
from msdfix.shell.classify import program_args, runs_project_code
from msdfix.shell.commands import Command
from msdfix.shell.entry import Entry, entry
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import (
    SYSTEM_DIRS,
    ContextCopy,
    context_copies,
    resolve,
    workdirs,
)

BUILD, RUNTIME, PRUNE, FRONTEND = "build", "runtime", "prod-deps", "frontend"
MOVE = {"expose", "cmd", "entrypoint", "healthcheck", "stopsignal", "label", "volume", "maintainer"}
REPEAT = {"arg", "env", "workdir", "user", "shell"}
SETUP = {
    "useradd",
    "groupadd",
    "usermod",
    "adduser",
    "addgroup",
    "mkdir",
    "chown",
    "chgrp",
    "chmod",
    "ln",
    "touch",
}
DEBIAN_SETUP = SETUP - {"adduser", "addgroup"}
ALPINE_SETUP = SETUP - {"useradd", "groupadd", "usermod"}
# Harmless in a build stage: the harmless programs, removing or shrinking built files, sync.
HARMLESS = programs.HARMLESS | {"rm", "strip", "upx", "sync"}
OS_MANAGERS = {"apt-get", "apt", "apk"}
INTERPRETERS = {"python", "python3", "node", "sh", "bash"}


ECO_TOOLS: dict[str, set[str]] = {
    "go": {"go", "gofmt", "git"},
    "rust": {"cargo", "rustup", "rustc", "git"},
    "java": {"git", "mvn", "mvnw", "./mvnw", "gradle", "gradlew", "./gradlew", "java", "cp", "mv"},
    "dotnet": {"dotnet"},
    "node": {
        *PROJECT_INSTALLS,
        "npx",
        "corepack",
        "node",
        "cp",
        "mv",
        "ng",
        "tsc",
        "webpack",
        "vite",
        "next",
        "nuxt",
        "react-scripts",
        "gulp",
        "grunt",
        "bower",
    },
    "python": {"pip", "pip3", "python", "python3", "uv", "virtualenv", "venv", "cp", "mv"},
}
GO_VALUE_FLAGS = {
    "-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p", "-buildmode",
    "-installsuffix", "-pkgdir", "-toolexec", "-compiler", "-gccgoflags", "-overlay", "-pgo", "-C",
}  # fmt: skip
SOURCE_ONLY = {
    "go": (r".*\.go", r"go\.(mod|sum|work|work\.sum)", r"vendor/.*", r"testdata/.*"),
    "rust": (  # src/ keeps what is not Rust (templates the program loads at run time)
        r".*\.rs",
        r"Cargo\.(toml|lock)",
        r"(benches|tests|examples|target)/.*",
        r"rust-toolchain.*",
        r"\.cargo/.*",
    ),
    "java": (
        r"src/.*",
        r"pom\.xml",
        r"mvnw(\.cmd)?",
        r"\.mvn/.*",
        r"gradlew(\.bat)?",
        r"gradle/.*",
        r".*\.gradle(\.kts)?",
        r"target/.*",
        r"build/.*",
    ),
    "dotnet": (r".*\.(cs|csproj|sln|fs|fsproj|vb|vbproj)", r"(bin|obj)/.*", r"Properties/.*"),
}
# What a source says when it reads such a file (a blog's ``posts/*.md``, an endpoint serving
# LICENSE, ``git describe``): the first of these a COMMON_SOURCE path contains.
DOC_WORDS = (
    ".md", "LICEN", "Makefile", "Dockerfile", ".dockerignore", ".git", ".vscode", ".idea",
    ".editorconfig",
)  # fmt: skip
# Source files a program may read as data: a file name with a source suffix in a string literal
# (``strings.HasSuffix(name, ".go")``, ``"examples/hello.go"``), or a path into the source tree
# (``Path.of("src/main/resources/static")``, ``file:src/...``): then such files are kept.
READ_SOURCES = (".go", ".rs", "src/")
_NAMES_SOURCE = re.compile(r"""\.(go|rs)["'`]|["'`](?:file:)?(?:\./)?(src)/""")


def is_source(rel: str) -> bool:
    return rel.endswith(SOURCE_SUFFIXES)


class Decline(Exception):
    """The split is not possible; the message says why."""


class NotABuild(Exception):
    """Nothing is built from source here: stay silent."""


@dataclass
class Call:
    ins: Instruction
    script: RunScript
    command: Command
    program: str
    args: list[str]
    cwd: str

    @property
    def sub(self) -> str:
        return subcommand(self.program, self.args)


@dataclass
class Plan:
    runtime: str
    copies: list[str] = field(default_factory=list)  # absolute paths copied to the same path
    chown: str | None = None
    # Directories the runtime copies by name with the owner ``--chown`` gave them in the build.
    owners: dict[str, str] = field(default_factory=dict)
    packages: list[str] = field(default_factory=list)
    apk: bool = False
    shell: bool = True
    build_edits: list[Edit] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)  # stages between build and runtime (text)
    sources: dict[str, str] = field(default_factory=dict)  # copy path -> stage (default: build)
    head_lines: list[str] = field(default_factory=list)  # runtime instructions right after FROM
    notes: list[str] = field(default_factory=list)
    unsafe: str | None = None
    moves: dict[str, str] = field(default_factory=dict)  # copied to another path (runtime PATH)
    same_family: bool = False  # the runtime image has the build image's environment
    head: str = ""  # stages inserted before the build stage (a frontend)
    head_at: int = 0
    display_only: str | None = None  # why the fix can only be shown
    stable: set[str] = field(default_factory=set)  # copies that change only with the manifests
    # Context COPYs after the build's last RUN, moved verbatim from the build stage to the
    # runtime: a source edit then leaves the build stage (and its copied prefix) cached.
    from_context: list[Instruction] = field(default_factory=list)
    # OS package -> the installed language package that runs or loads it (GitPython: git),
    # so the runtime keeps what the build installed for it.
    needed: dict[str, str] = field(default_factory=dict)
    # Why the installed packages are not all known (one may run a tool), or None.
    unlisted: str | None = None
    # Programs node_modules/.bin holds at the start's WORKDIR in the build and the runtime
    # alike (an npm lock's production packages): ``npx X`` of one reads no package cache.
    local_bins: frozenset[str] = frozenset()


class Analysis:
    """Facts about the single stage: working dirs, RUN commands, OS packages, entry command."""

    def __init__(self, doc: Document, stage: Stage, ecosystem: str) -> None:
        self.doc, self.stage, self.eco = doc, stage, ecosystem
        self.model = doc.model
        self.ctx = doc.context
        self.dirs = workdirs(self.model, stage)
        self.final_dir = self.dirs[id(stage.instructions[-1])] if stage.instructions else "/"
        self.workdir_set = set(self.dirs.values()) - {"/"}  # each working directory but /
        self.entry: Entry | None = entry(stage)
        # What starting the program runs: the entry command's commands, and what an ecosystem
        # knows they run (npm start's scripts and hooks).
        self.start: list[list[str]] = [list(c) for c in self.entry.commands] if self.entry else []
        self.calls: list[Call] = []
        self.packages: list[str] = []
        self.apk = False
        self.removed: set[str] = set()  # OS packages a later RUN removes again
        self.groups: dict[str, list[str]] = {}  # apk add --virtual NAME -> its packages
        self.upgrades = False  # apt-get upgrade / apk upgrade of the image's packages
        self.recommends = False  # an apt install that also installs recommended packages
        self.clears_lists = False  # a RUN deletes apt's lists (else the image keeps them)
        # (RUN, flag) of OS installs whose RUN has a flag the runtime's install would lack
        self.os_options: list[tuple[Instruction, str]] = []
        self.setup_runs: list[Instruction] = []
        self.setup_ids: set[int] = set()  # id() of each setup RUN: looked up per instruction
        self.unknown: list[tuple[Instruction, str]] = []
        self.scripts: list[Call] = []  # interpreter runs of the app's own code
        self.frontend_runs: list[Instruction] = []  # npm/yarn/pnpm-only RUNs of a non-node stage
        self.skip_rel: str | None = None  # context dir the runtime does not need (frontend)
        self.mixed: set[int] = set()  # RUNs mixing a frontend build with other steps
        why: list[str] = []
        copies = context_copies(self.model, stage, self.dirs, why)
        if copies is None:
            raise Decline(
                why[0] if why else "a COPY/ADD reads a URL, another image or a variable path"
            )
        self.copies: list[ContextCopy] = copies
        self._doc_words: frozenset[str] | None = None
        for ins in stage.of("run"):
            self._run(ins)

    def doc_words(self) -> frozenset[str]:
        """The DOC_WORDS some copied source contains (all of them when there are more
        sources than msdfix reads, or one it cannot read): the kinds of docs, licence or VCS
        files it may read. Sources are read up to 8 MiB (a generated 1.1 MiB main.go's
        ``ServeFile(w, r, "LICENSE")`` had read as empty, and the runtime lacked LICENSE)."""
        if self._doc_words is None:
            files = {rel for c in self.copies for rel in c.copied(self.ctx, "source", is_source)}
            found: set[str] = set(DOC_WORDS) if len(files) > MAX_SCANNED else set()
            found |= set(READ_SOURCES) if len(files) > MAX_SCANNED else set()
            for path in sorted(files) if len(files) <= MAX_SCANNED else ():
                try:
                    text = source_text(self.ctx, path)
                except Unreadable:  # unread is not "names none": it may read any of them
                    found |= {*DOC_WORDS, *READ_SOURCES}
                    continue
                found.update(w for w in DOC_WORDS if w in text)
                if not path.endswith(("_test.go", "_test.rs")):
                    for suffix, tree in _NAMES_SOURCE.findall(text):
                        found.add("." + suffix if suffix else tree + "/")
            if ".git" not in found and self.git_dependency():
                found.add(".git")  # git-repo-info reads .git/HEAD for the app
            self._doc_words = frozenset(found)
        return self._doc_words

    def git_dependency(self) -> bool:
        """A dependency may read the repository or run git (``git_dependency``)."""
        return git_dependency(self.ctx)

    def reads_source(self, rel: str) -> bool:
        """True when a source file may be read by the program as data (a snippets server's
        ``examples/hello.go``, static files served from ``src/main/resources``): a copied
        source names a file with its suffix, or a path into ``src/``."""
        suffix = posixpath.splitext(rel)[1]
        word = suffix if suffix in (".go", ".rs") else "src/" if rel.startswith("src/") else ""
        return bool(word) and word in self.doc_words()

    def reads_doc(self, rel: str) -> bool:
        """True when a docs, licence or VCS file (COMMON_SOURCE) may be read by the program:
        a copied source names its kind (``.md``, ``LICEN``, ``.git``, ...)."""
        if not any(p.fullmatch(rel) for p in COMMON):
            return False
        word = next((w for w in DOC_WORDS if w in rel), None)
        return word is not None and word in self.doc_words()

    def _run(self, ins: Instruction) -> None:
        script = run_script(ins, self.doc.text)
        if (
            script is None
            or not script.commands
            or any(f.name == "mount" for f in ins.flags if "from=" in (f.value or ""))
        ):
            self.unknown.append((ins, "RUN"))
            return
        kinds = set()
        tools = ECO_TOOLS[self.eco]
        for command in script.commands:
            program, args = program_args(command)
            cwd = resolve(command.cwd, self.dirs[id(ins)]) if command.cwd else self.dirs[id(ins)]
            cwd = project_dir(program, args, cwd)
            call = Call(ins, script, command, program, args, cwd)
            writes = any(
                r.lstrip("0123456789&").startswith(">") and "/dev/null" not in r
                for r in command.redirects
            )
            if program == "rm" and any(x.startswith("/var/lib/apt/lists") for x in args):
                self.clears_lists = True
            if program in OS_MANAGERS:
                self.apk = self.apk or program == "apk"
                self._os_call(program, args)
                flag = run_option(ins) if os_packages(program, args) else None
                if flag is not None:
                    self.os_options.append((ins, flag))
                kinds.add("os")
            elif self.eco != "node" and program in FRONTEND_TOOLS:
                self.calls.append(call)
                kinds.add("frontend")
            elif program in tools or posixpath.basename(program) in tools:
                self.calls.append(call)
                kinds.add("build")
                if program in INTERPRETERS and runs_project_code(program, args):
                    self.scripts.append(call)
            elif program in SETUP or (program in ("echo", "printf") and writes):
                kinds.add("setup")
            elif program in HARMLESS or not program or _checks_only([program, *args]):
                continue
            else:
                self.unknown.append((ins, program))
                kinds.add("unknown")
        if kinds == {"setup"}:
            self.setup_runs.append(ins)
            self.setup_ids.add(id(ins))
        elif kinds == {"frontend"}:
            self.frontend_runs.append(ins)
        elif "frontend" in kinds:
            first = next(c for c in self.calls if c.ins is ins and c.program in FRONTEND_TOOLS)
            self.unknown.append((ins, first.program))
            self.mixed.add(id(ins))

    def _os_call(self, program: str, args: list[str]) -> None:
        """Record installs, removals (groups of ``apk add --virtual`` too) and upgrades."""
        words = positional_args(program, args)
        sub = words[0] if words else ""
        installed = os_packages(program, args)
        self.packages += installed
        if installed and program in APT_PROGRAMS:
            quiet = "--no-install-recommends" in args or any(
                "Install-Recommends=" in a and a.rsplit("=", 1)[1].lower() in ("false", "0", "no")
                for a in args
            )
            self.recommends |= not quiet
        group = option(args, "--virtual", "-t") if sub == "add" else None
        if group:
            self.groups[group] = installed
        if sub in ("purge", "remove", "del", "autoremove"):
            for name in words[1:]:
                self.removed |= set(self.groups.get(name, [name]))
        if sub in ("upgrade", "dist-upgrade", "full-upgrade"):
            self.upgrades = True

    def scope(self, ins: Instruction | None = None) -> dict[str, str]:
        return {k: v for k, v in self.model.stage_scope(self.stage, ins).items() if v is not None}

    def build_env(self, call: Call) -> str:
        """Text that may set a build call's variables besides its script: the names the
        stage's ENV/ARG set (an ARG without a value too: --build-arg sets it), and its RUN."""
        names = " ".join(self.model.stage_scope(self.stage, call.ins))
        return names + "\n" + self.doc.text[call.ins.start : call.ins.end]

    def entry_path(self, word: str) -> str | None:
        """Absolute path of a program or file named in the entry command (None: unresolved)."""
        value = self.expand_fixed(word)
        if value is None:
            return None
        return resolve(value, self.final_dir) if "/" in value else value

    def fixed_value(self, name: str, ins: Instruction | None = None) -> str | None:
        """``name``'s value where no build argument can change it (None: unset); Decline
        when one may (``ARG BIN=/opt/bin`` / ``ENV GOBIN=$BIN``: the files land elsewhere)."""
        fixed = self.model.fixed_scope(self.stage, ins)
        if name in fixed and fixed[name] is None:
            raise Decline(f"${name} comes from a build argument: the build may write elsewhere")
        return fixed.get(name)

    def expand_fixed(self, word: str) -> str | None:
        """``word`` expanded with the values no build argument can change (None: it names
        another)."""
        from msdfix.model.args import expand

        # paths are worked out from values no build argument can change: ``-o $OUT/server``
        # with ``ARG OUT=/usr/local/bin`` writes elsewhere under ``--build-arg OUT=/opt``
        value = expand(word, self.model.fixed_scope(self.stage))
        return None if "$" in value else value


def _checks_only(argv: list[str]) -> bool:
    """A test runner or linter (pytest, ruff check, ...): it writes nothing the runtime needs."""
    found = check_of(argv, lambda: None)
    return isinstance(found, Check) and found.kind != "install"


def run_option(ins: Instruction) -> str | None:
    """A flag of a RUN that a RUN msdfix writes in its place (a runtime's or deps stage's
    install) would lack: any but a cache or tmpfs mount (``--network=host``,
    ``--security=insecure``, a bind or secret mount), as written (None: none)."""
    for flag in ins.flags:
        kind = re.search(r"(?:^|,)type=(\w+)", flag.value or "") if flag.name == "mount" else None
        if flag.name != "mount" or kind is None or kind.group(1) not in ("cache", "tmpfs"):
            return f"--{flag.name}={flag.value}" if flag.value is not None else f"--{flag.name}"
    return None


def os_packages(program: str, args: list[str]) -> list[str]:
    """Packages an ``apt-get install``/``apk add`` call installs (options may come first:
    ``apk --no-cache --virtual .deps add gcc``)."""
    words = positional_args(program, args)
    if not words or words[0] not in ("install", "add"):
        return []
    return [re.split(r"[=<>~]", w)[0] for w in words[1:]]


NEW_STAGES = {RUNTIME, PRUNE, FRONTEND, "app-files"}


def build_alias(stage: Stage) -> str:
    """The build stage's name: ``build`` (``builder`` when the original stage is ``build``).
    The original name goes to the new final stage (``runtime_alias``), so ``docker build
    --target production`` still builds the image that runs."""
    return "builder" if (stage.alias or "").lower() == BUILD else BUILD


def runtime_alias(stage: Stage) -> str:
    """The new final stage's name: the original stage's, else ``runtime``."""
    return stage.alias or RUNTIME


def alias_edits(doc: Document, stage: Stage) -> list[Edit]:
    """Name the build stage: append ``AS build``, or rename the original alias (it moves to
    the final stage); a name the split needs for a stage of its own declines."""
    from_ = stage.from_
    end = from_.physical(from_.args_start + len(from_.args))
    alias = build_alias(stage)
    if stage.alias is None:
        return [Edit(end, end, f" {keyword(doc, 'AS')} {alias}")]
    if stage.alias.lower() in NEW_STAGES - {RUNTIME}:
        raise Decline(f"the stage is named {stage.alias}, a name the split needs for its own stage")
    start = end - len(stage.alias)
    if doc.text[start:end] != stage.alias:
        raise Decline(f"cannot rename the stage {stage.alias}, which moves to the final stage")
    return [Edit(start, end, alias)]


def keyword(doc: Document, keyword: str) -> str:
    return keyword.lower() if doc.model.stages[0].from_.keyword.islower() else keyword


# Options that name the project a Node package manager works on (npm's -C is --prefix).
PROJECT_DIR_OPTIONS = {
    "npm": ("--prefix", "-C"),
    "pnpm": ("--dir", "-C"),
    "yarn": ("--cwd",),
    "bun": ("--cwd",),
}


def project_dir(program: str, args: list[str], cwd: str) -> str:
    """The directory a package manager call works on: ``npm ci --prefix /opt/deps`` installs
    /opt/deps/node_modules from /opt/deps/package.json, whatever the RUN's WORKDIR."""
    names = PROJECT_DIR_OPTIONS.get(posixpath.basename(program))
    chosen = option(args, *names) if names else None
    return resolve(chosen, cwd) if chosen else cwd


def go_text(a: Analysis, rel: str) -> str:
    """A Go source read for the directories it embeds or serves (up to 8 MiB); Decline for
    one msdfix cannot read: its directories are unknown, not none."""
    try:
        return source_text(a.ctx, rel)
    except Unreadable as exc:
        raise Decline(
            f"{exc}, so which directories the Go server embeds or serves is unknown"
        ) from None


# Go's tokens that hide a `//` or `/*`: interpreted strings and runes (to their line's end when
# unterminated), raw strings (no escapes; to the text's end when unterminated) and comments.
_GO_TOKENS = re.compile(
    r"""'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?|`[^`]*`?|//[^\n]*|/\*.*?(?:\*/|\Z)""",
    re.S,
)


def go_code(text: str) -> str:
    """A Go source's text without its comments (strings kept): a doc comment's example
    ``http.FileServer(http.Dir(dir))`` (gorilla/mux's vendored doc.go) or a commented-out
    handler serves nothing."""
    return _GO_TOKENS.sub(lambda m: "" if m.group().startswith("/") else m.group(), text)


GO_SERVED = re.compile(
    r"""(?:http\.Dir|os\.DirFS)\(\s*"([^"]*)"\s*\)"""
    r"""|\.Static(?:FS)?\(\s*"[^"]*"\s*,\s*(?:http\.Dir\()?"([^"]+)"\s*"""
)


def go_served(a: Analysis) -> list[str]:
    """Image paths of directories the Go server reads files from (http.Dir, os.DirFS, the
    Static helpers of gin/echo/fiber), relative to the final WORKDIR."""
    if a.eco != "go":
        return []
    found = []
    for rel in a.ctx.glob("*.go") + a.ctx.glob("*/*.go"):
        for match in GO_SERVED.finditer(go_code(go_text(a, rel))):
            folder = match.group(1) if match.group(1) is not None else match.group(2)
            # "": http.Dir serves ".", os.DirFS joins names to "/": either may answer any file
            found.append(resolve(folder, a.final_dir) if folder else "/")
    return sorted(set(found))


# A served folder the code picks as it runs: http.Dir(*root), os.DirFS(dir), Static(p, dir).
GO_SERVED_AT_RUN_TIME = re.compile(
    r"""(?:http\.Dir|os\.DirFS)\(\s*[^"\s)]|\.Static\(\s*"[^"]*"\s*,\s*[^"\s]"""
)


def go_shown(a: Analysis) -> list[str]:
    """The folders whose every file the Go server may answer with: those ``go_served``
    reads, or the whole image where a folder is picked at run time, which may be any
    (built: ``http.Dir(*root)`` of a flag defaulting to "." listed main.go and go.mod, the
    split that dropped them answered 404)."""
    served = go_served(a)
    if "/" in served or a.eco != "go":
        return served
    for rel in a.ctx.glob("*.go") + a.ctx.glob("*/*.go"):
        if GO_SERVED_AT_RUN_TIME.search(go_code(go_text(a, rel))):
            return ["/"]
    return served


@dataclass
class RuntimeFiles:
    paths: list[str]
    whole: bool  # copied every context destination (no context to filter with)


def context_paths(
    a: Analysis, ecosystem: str | None, skip: list[Instruction] | None = None
) -> RuntimeFiles:
    """Image paths of context files the program may read (all of them without a context),
    leaving out those of the COPYs in ``skip``. Sources count where a Go server serves their
    folder (built: ``http.Dir(".")`` in the WORKDIR listed and served main.go and go.mod)."""
    paths: list[str] = []
    copies = [c for c in a.copies if c.ins not in (skip or [])]
    if not a.ctx.present or ecosystem is None:
        for copy in copies:
            if copy.into_dir and copy.dest in SYSTEM_DIRS:
                if not a.ctx.present:
                    raise Decline(
                        f"COPY at line {copy.ins.start_line} fills {copy.dest}; "
                        "cannot tell which files it adds without the build context"
                    )
                paths += copy.top_entries(a.ctx, None, lambda rel: False)
            else:
                paths.append(copy.dest)
        return RuntimeFiles(dedupe(paths), True)
    patterns = [re.compile(p) for p in SOURCE_ONLY[ecosystem] + COMMON_SOURCE]

    def source_only(rel: str) -> bool:
        return (
            any(p.fullmatch(rel) for p in patterns)
            and not a.reads_doc(rel)
            and not a.reads_source(rel)
        ) or (a.skip_rel is not None and within(rel, a.skip_rel))

    served = go_shown(a)  # the server answers with any file of these folders, sources too

    def shown(dest: str) -> bool:
        return any(within(dest, d) for d in served)

    for copy in copies:
        if copy.into_dir and shown(copy.dest):
            paths += copy.top_entries(a.ctx, None, lambda rel: False)
        elif copy.into_dir:
            key = (ecosystem, a.skip_rel, a.doc_words())
            paths += copy.top_entries(a.ctx, key, source_only)
        else:
            files = copy.context_files(a.ctx)
            paths += [dest for rel, dest in files if shown(dest) or not source_only(rel)]
            paths += copy.bare_dirs(a.ctx)  # folders without files: the COPY creates them
    return RuntimeFiles(dedupe(paths), False)


def trailing_copies(a: Analysis) -> list[Instruction]:
    """Context COPYs after the stage's last RUN, when only COPYs and instructions that move to
    the runtime follow that RUN (no WORKDIR, ENV, ARG or USER among them)."""
    instructions = a.stage.instructions
    runs = [i for i, ins in enumerate(instructions) if ins.cmd == "run"]
    if not runs:
        return []
    context = {id(c.ins) for c in a.copies}
    tail = instructions[runs[-1] + 1 :]
    copies = [ins for ins in tail if ins.cmd == "copy"]
    for ins in tail:
        if ins.cmd in MOVE:
            continue
        chown = ins.flag("chown")
        if (
            ins.cmd != "copy"
            or id(ins) not in context
            or ins.heredocs
            or (chown is not None and not re.fullmatch(r"\d+(:\d+)?", chown.value or ""))
        ):
            return []
    return copies


def move_to_runtime(plan: Plan, tail: list[Instruction]) -> None:
    """Let the runtime copy ``tail`` (from ``trailing_copies``) from the context itself."""
    if tail:
        plan.from_context = tail
        lines = ", ".join(str(ins.start_line) for ins in tail)
        plan.notes.append(
            f"the COPY on line {lines} moves to the runtime, so a source edit leaves the build "
            "stage cached"
        )


def dedupe(paths: list[str]) -> list[str]:
    out: list[str] = []
    stripped: set[str] = set()  # the kept paths without trailing slashes
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(p in stripped for p in parents(path)):  # (paths are distinct)
            out.append(path)
            stripped.add(path.rstrip("/"))
    return out


def context_dir(a: Analysis, app: str, before: Instruction) -> str | None:
    """The context directory copied whole to ``app`` (None: not copied from one directory)."""
    found = whole_copy(a, app, before)
    return found[1] if found else None


def whole_copy(a: Analysis, app: str, before: Instruction) -> tuple[ContextCopy, str] | None:
    """The last COPY before ``before`` that brings a whole context directory to ``app``."""
    for copy in reversed([c for c in a.copies if c.ins.start < before.start]):
        if not within(app, copy.dest) or not copy.into_dir:
            continue
        src = posixpath.normpath(copy.sources[0]).lstrip("/") if copy.sources else ""
        if (
            len(copy.sources) != 1
            or any(ch in copy.sources[0] for ch in "*?[")
            or (a.ctx.present and src in a.ctx.view.kept_set)  # one file, not a directory
        ):
            if within(copy.dest, app):
                continue  # a subset (manifests first): the whole directory follows
            return None
        rel = posixpath.normpath(posixpath.join(src, posixpath.relpath(app, copy.dest)))
        if rel.startswith(".."):
            return None
        return copy, "" if rel == "." else rel
    return None


def final_user(a: Analysis) -> str:
    users = a.stage.of("user")
    return users[-1].args.strip() if users else "root"


# COPY's sources are patterns (``/srv/a[1]`` matches ``/srv/a1``) and its words expand
# variables and escapes, so a path written literally must hold none of these characters.
_GLOB_OR_VARIABLE = re.compile(r"[*?\[\\$]")
_VARIABLE = re.compile(r"[\\$]")


def copy_line(doc: Document, stage: str | None, path: str, dest: str, chown: str | None) -> str:
    return copy_paths_line(doc, stage, [path], dest, chown)


def copy_paths_line(
    doc: Document, stage: str | None, paths: list[str], dest: str, chown: str | None = None
) -> str:
    """``COPY [--from] [--chown] paths... dest``, in JSON form when a path has whitespace (the
    shell form would split ``/srv/my app`` into two sources)."""
    patterns = [p for p in paths if _GLOB_OR_VARIABLE.search(p)]
    if patterns or _VARIABLE.search(dest):
        raise Decline(f"COPY would read {(patterns or [dest])[0]} as a pattern or a variable")
    flags = (f" --from={stage}" if stage else "") + (f" --chown={chown}" if chown else "")
    if any(ch.isspace() for ch in "".join(paths) + dest):
        return f"{keyword(doc, 'COPY')}{flags} {json.dumps([*paths, dest])}"
    return f"{keyword(doc, 'COPY')}{flags} {' '.join(paths)} {dest}"


def workdir_line(doc: Document, path: str) -> str:
    """``WORKDIR path``, quoted when the path has whitespace or quotes."""
    quoted = json.dumps(path) if re.search(r"[\s\"'\\]", path) else path
    return f"{keyword(doc, 'WORKDIR')} {quoted}"


def chunk(a: Analysis, ins: Instruction) -> str:
    text = a.doc.text[ins.comment_start : ins.end]
    return text if text.endswith(("\n", "\r")) else text + a.doc.newline
