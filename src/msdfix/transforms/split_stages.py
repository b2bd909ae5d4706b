"""split-stages: a single stage that builds from source becomes a build stage and a runtime stage.

What it does
    Names the original stage ``build`` (its text is kept, ``AS build`` is appended to its FROM)
    and appends a ``runtime`` stage on the smallest base that still runs the program, with only
    the artefact and the files the program reads copied over (``COPY --from=build``) at the same
    paths. ARG/ENV/WORKDIR/USER/SHELL are repeated in the runtime stage; EXPOSE/LABEL/VOLUME/
    HEALTHCHECK/STOPSIGNAL/ENTRYPOINT/CMD move there with their comments, so the final image's
    configuration is byte-identical. Per ecosystem:

    - Go: ``go build -o X`` -> the binary on ``gcr.io/distroless/static-debian12``;
      ``CGO_ENABLED=0`` is added only when the context shows no cgo (no ``import "C"``, no cgo
      module in go.mod); cgo or unknown -> ``distroless/base-debian12`` (glibc); a shell-form
      CMD or user setup -> ``debian:<release>-slim`` (``alpine`` for alpine builds).
    - Rust: ``cargo build --release`` -> ``target/release/<bin>`` on
      ``gcr.io/distroless/cc-debian12`` (glibc, libgcc, libssl3, CA certificates) for an exec-form
      entry built on Debian 12 or older; otherwise ``debian:<release>-slim`` plus the libraries
      Cargo.lock crates link (``openssl-sys`` -> ``libssl3``).
    - Java: Maven/Gradle -> the jar the CMD runs (``-jar``, checked against pom.xml) or the
      ``installDist`` tree, on the JRE of the same vendor and major (``eclipse-temurin:17-jre``).
    - .NET: ``dotnet publish -o X`` -> X on ``mcr.microsoft.com/dotnet/aspnet`` (``runtime`` for
      console projects) of the same version.
    - Node (backends and static frontends alike, same server and port): the app directory on
      ``node:<tag>-slim``; dev dependencies are dropped by ``npm prune --omit=dev`` in a
      ``prod-deps`` stage when package-lock.json is there and the start command does not use a
      dev dependency; global npm installs carry ``/usr/local``.
    - Python: ``/usr/local`` (interpreter + pip installs) or the virtualenv, and the app, on
      ``python:<tag>-slim``; ``-dev`` packages and compilers stay in the build stage, their
      runtime libraries are installed instead (``libpq-dev`` -> ``libpq5``).

    OS packages that are not build tools are installed again in the runtime stage; RUNs that only
    create users/directories or set permissions are repeated there.
Why
    A single stage ships the compiler, the package caches and the sources: typically 1 GB where
    20-150 MB would do.
Example
    ``FROM golang:1.22`` ... ``RUN go build -o /app/server .`` ... ``CMD ["/app/server"]``
    becomes ``FROM golang:1.22 AS build`` ... ``RUN CGO_ENABLED=0 go build -o /app/server .``
    and ``FROM gcr.io/distroless/static-debian12 AS runtime`` /
    ``COPY --from=build /app/server /app/server`` / ``CMD ["/app/server"]``.
Fix safety
    Safe when the artefact and everything the program needs are known: Go (static binary
    proven by the context or ``CGO_ENABLED=0``; unknown cgo uses a glibc base), Rust with a
    Cargo.lock, Java with a ``-jar``/installDist entry on a JRE of the same vendor, .NET,
    Node, and Python with the requirements visible (compiled dependencies' libraries come from a
    mapping table). Unsafe (offered with ``--unsafe-fixes``): Rust or Python without a build
    context (shared libraries unknown), and builds that run the app's own scripts (``python
    x.py``, ``node x.js``) that may write files outside the copied paths. Not split (the reason
    is shown): unknown build commands or downloads, ``go install``/``cargo install`` (binary on
    the build image's PATH only), ``-dev`` packages without a known runtime library, users
    created by build RUNs, ENV reading the build image's variables, a CMD that does not run the
    artefact, an artefact whose name cannot be found. Never touched: multi-stage files, ONBUILD,
    Windows images, ``FROM scratch``, bases that are not a known toolchain image. A static
    frontend keeps its Node server: switching to nginx changes CMD/EXPOSE, which this transform
    may not do (its ``changes_config`` is empty).
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Fix, apply_edits
from msdfix.knowledge import ecosystems as eco
from msdfix.knowledge.images import NODE_NATIVE
from msdfix.model import Stage, frontend
from msdfix.model.artifacts import (
    SYSTEM_DIRS,
    ContextCopy,
    Entry,
    context_copies,
    entry,
    resolve,
    within,
    workdirs,
)
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.transforms.base import Transform, register

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

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
    "chmod",
    "ln",
    "touch",
}
DEBIAN_SETUP = SETUP - {"adduser", "addgroup"}
ALPINE_SETUP = SETUP - {"useradd", "groupadd", "usermod"}
HARMLESS = {
    "cd", "echo", "printf", "true", "set", "export", "ls", "cat", "pwd", "rm", "test", "[", "which",
    "whoami", "id", "uname", "date", "env", "sleep", "sync", "strip", "upx", "file", "du", "df",
}  # fmt: skip
OS_MANAGERS = {"apt-get", "apt", "apk"}
ROOT = {"root", "0", "0:0", "root:root"}
IMAGE_USERS = {"node": {"node"}, "gcr.io/distroless": {"nonroot", "65532"}}
INTERPRETERS = {"python", "python3", "node", "sh", "bash"}
ECO_TOOLS: dict[str, set[str]] = {
    "go": {"go", "gofmt", "git"},
    "rust": {"cargo", "rustup", "rustc", "git"},
    "java": {"git", "mvn", "mvnw", "./mvnw", "gradle", "gradlew", "./gradlew", "java", "cp", "mv"},
    "dotnet": {"dotnet"},
    "node": {
        "npm",
        "npx",
        "yarn",
        "pnpm",
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
    "python": {"pip", "pip3", "python", "python3", "uv", "virtualenv", "cp", "mv"},
}
GO_VALUE_FLAGS = {
    "-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p", "-buildmode",
    "-installsuffix", "-pkgdir", "-toolexec", "-compiler", "-gccgoflags", "-overlay", "-pgo", "-C",
}  # fmt: skip
SOURCE_ONLY = {
    "go": (r".*\.go", r"go\.(mod|sum|work|work\.sum)", r"vendor/.*", r"testdata/.*"),
    "rust": (
        r"src/.*",
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
COMMON_SOURCE = (
    r"Dockerfile.*", r".*\.Dockerfile", r"\.dockerignore", r"\.git.*", r".*\.md", r"LICEN[CS]E.*",
    r"Makefile", r"\.(github|vscode|idea)/.*", r"\.editorconfig",
)  # fmt: skip


class _Decline(Exception):
    """The split is not possible; the message says why."""


class _NotABuild(Exception):
    """Nothing is built from source here: stay silent."""


@dataclass
class _Call:
    ins: Instruction
    script: RunScript
    command: Command
    program: str
    args: list[str]
    cwd: str

    @property
    def sub(self) -> str:
        return next((a for a in self.args if not a.startswith("-")), "")


@dataclass
class _Plan:
    runtime: str
    copies: list[str] = field(default_factory=list)  # absolute paths copied to the same path
    chown: str | None = None
    packages: list[str] = field(default_factory=list)
    apk: bool = False
    shell: bool = True
    build_edits: list[Edit] = field(default_factory=list)
    prune: list[str] = field(default_factory=list)  # instruction lines of a prod-deps stage
    notes: list[str] = field(default_factory=list)
    unsafe: str | None = None
    moves: dict[str, str] = field(default_factory=dict)  # copied to another path (runtime PATH)
    same_family: bool = False  # the runtime image has the build image's environment
    head: str = ""  # stages inserted before the build stage (a frontend)
    head_at: int = 0


class _Analysis:
    """Facts about the single stage: working dirs, RUN commands, OS packages, entry command."""

    def __init__(self, doc: Document, stage: Stage, ecosystem: str) -> None:
        self.doc, self.stage, self.eco = doc, stage, ecosystem
        self.model = doc.model
        self.ctx = doc.context
        self.dirs = workdirs(self.model, stage)
        self.final_dir = self.dirs[id(stage.instructions[-1])] if stage.instructions else "/"
        self.entry: Entry | None = entry(stage)
        self.calls: list[_Call] = []
        self.packages: list[str] = []
        self.apk = False
        self.setup_runs: list[Instruction] = []
        self.unknown: list[tuple[Instruction, str]] = []
        self.scripts: list[_Call] = []  # interpreter runs of the app's own code
        self.frontend_runs: list[Instruction] = []  # npm/yarn/pnpm-only RUNs of a non-node stage
        self.skip_rel: str | None = None  # context dir the runtime does not need (frontend)
        self.mixed: set[int] = set()  # RUNs mixing a frontend build with other steps
        copies = context_copies(self.model, stage, self.dirs)
        if copies is None:
            raise _Decline("a COPY/ADD reads a URL, another image or a variable path")
        self.copies: list[ContextCopy] = copies
        for ins in stage.of("run"):
            self._run(ins)

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
            call = _Call(ins, script, command, program, args, cwd)
            writes = any(
                r.lstrip("0123456789&").startswith(">") and "/dev/null" not in r
                for r in command.redirects
            )
            if program in OS_MANAGERS:
                self.apk = self.apk or program == "apk"
                self.packages += _os_packages(args)
                kinds.add("os")
            elif self.eco != "node" and program in eco.FRONTEND_TOOLS:
                self.calls.append(call)
                kinds.add("frontend")
            elif program in tools or posixpath.basename(program) in tools:
                self.calls.append(call)
                kinds.add("build")
                if program in INTERPRETERS and args and not args[0].startswith("-"):
                    self.scripts.append(call)
            elif program in SETUP or (program in ("echo", "printf") and writes):
                kinds.add("setup")
            elif program in HARMLESS or not program:
                continue
            else:
                self.unknown.append((ins, program))
                kinds.add("unknown")
        if kinds == {"setup"}:
            self.setup_runs.append(ins)
        elif kinds == {"frontend"}:
            self.frontend_runs.append(ins)
        elif "frontend" in kinds:
            first = next(c for c in self.calls if c.ins is ins and c.program in eco.FRONTEND_TOOLS)
            self.unknown.append((ins, first.program))
            self.mixed.add(id(ins))

    def scope(self, ins: Instruction | None = None) -> dict[str, str]:
        return {k: v for k, v in self.model.stage_scope(self.stage, ins).items() if v is not None}

    def entry_path(self, word: str) -> str | None:
        """Absolute path of a program or file named in the entry command (None: unresolved)."""
        value = self._expand(word)
        if value is None:
            return None
        return resolve(value, self.final_dir) if "/" in value else value

    def _expand(self, word: str) -> str | None:
        from msdfix.model.args import expand

        value = expand(word, self.scope())
        return None if "$" in value else value


def _os_packages(args: list[str]) -> list[str]:
    """Packages an ``apt-get install``/``apk add`` call installs."""
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] not in ("install", "add"):
        return []
    found: list[str] = []
    skip = False
    for arg in args[args.index(words[0]) + 1 :]:
        if skip:
            skip = False
            continue
        if arg in ("-t", "--virtual", "-o", "--option", "--repository", "-X"):
            skip = True
        elif not arg.startswith("-"):
            found.append(re.split(r"[=<>~]", arg)[0])
    return found


def _line(doc: Document, keyword: str) -> str:
    return keyword.lower() if doc.model.stages[0].from_.keyword.islower() else keyword


def _opt(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


@dataclass
class _RuntimeFiles:
    paths: list[str]
    whole: bool  # copied every context destination (no context to filter with)


def _context_paths(a: _Analysis, ecosystem: str | None) -> _RuntimeFiles:
    """Image paths of context files the program may read (all of them without a context)."""
    paths: list[str] = []
    if not a.ctx.present or ecosystem is None:
        for copy in a.copies:
            if copy.into_dir and copy.dest in SYSTEM_DIRS:
                if not a.ctx.present:
                    raise _Decline(
                        f"COPY at line {copy.ins.start_line} fills {copy.dest}; "
                        "cannot tell which files it adds without the build context"
                    )
                paths += sorted({_top(dest, copy.dest) for _, dest in copy.context_files(a.ctx)})
            else:
                paths.append(copy.dest)
        return _RuntimeFiles(_dedupe(paths), True)
    patterns = [re.compile(p) for p in SOURCE_ONLY[ecosystem] + COMMON_SOURCE]
    for copy in a.copies:
        for rel, dest in copy.context_files(a.ctx):
            if any(p.fullmatch(rel) for p in patterns) or (
                a.skip_rel is not None and within(rel, a.skip_rel)
            ):
                continue
            paths.append(_top(dest, copy.dest) if copy.into_dir else dest)
    return _RuntimeFiles(_dedupe(paths), False)


def _top(path: str, base: str) -> str:
    rest = path[len(base.rstrip("/")) + 1 :] if base != "/" else path[1:]
    return resolve(rest.split("/")[0], base)


def _dedupe(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(within(path, o) for o in out):
            out.append(path)
    return out


# ---------------------------------------------------------------- ecosystems


def _go(a: _Analysis) -> _Plan:
    builds = [c for c in a.calls if c.program == "go" and c.sub in ("build", "install")]
    if not builds:
        raise _NotABuild
    artefacts: list[str] = []
    static: bool | None = None
    edits: list[Edit] = []
    unsafe = None
    for call in builds:
        if call.sub == "install":
            paths, guessed = _go_install_output(a, call)
            unsafe = unsafe or guessed
            artefacts += paths
        else:
            artefacts.append(_go_output(a, call))
    cgo = _cgo_setting(a, builds)
    if cgo == "0":
        static = True
    elif cgo is None and a.ctx.present and not _uses_cgo(a):
        static = True
        for call in builds:
            word = call.command.words[0]
            if not call.script.editable or word.value != "go" or call.command.assignments:
                static = None
                break
            at = call.script.physical(word.start)
            edits.append(Edit(at, at, "CGO_ENABLED=0 "))
        if static is None:
            edits = []
    elif (
        cgo is None
        and "alpine" in (a.stage.image.tag or "")
        and not set(a.packages) & {"gcc", "build-base", "musl-dev"}
    ):
        static = True  # no C compiler: cgo is off
    moves = _check_entry_runs(a, artefacts)
    files = _context_paths(a, "go")
    alpine = eco.alpine_version(a.stage.image.tag)
    needs_shell = (
        a.entry is not None
        and a.entry.shell
        or bool(a.setup_runs)
        or bool(_runtime_packages(a, a.packages))
    )
    if needs_shell:
        runtime = eco.ALPINE_RUNTIME.format(version=alpine) if alpine else _debian(a)
    elif static:
        runtime = eco.GO_STATIC_RUNTIME
    elif alpine:
        runtime = eco.ALPINE_RUNTIME.format(version=alpine)
    else:
        runtime = eco.GO_GLIBC_RUNTIME
    plan = _Plan(
        runtime,
        _dedupe(artefacts + files.paths),
        shell=needs_shell,
        build_edits=edits,
        apk=bool(alpine),
    )
    plan.moves, plan.unsafe = moves, unsafe
    plan.notes += [f"{src} is copied to {dst} (on the runtime PATH)" for src, dst in moves.items()]
    if edits:
        plan.notes.append("CGO_ENABLED=0 (no cgo in the sources)")
    if files.whole and files.paths:
        plan.notes.append(
            "no build context: the copied source tree comes along in case the program reads it"
        )
    return plan


def _go_output(a: _Analysis, call: _Call) -> str:
    args = call.args[call.args.index(call.sub) + 1 :]
    cwd = call.cwd
    chdir = _opt(args, "-C")
    if chdir:
        cwd = resolve(chdir, cwd)
    out = _opt(args, "-o", "--o")
    if out is not None:
        value = a._expand(out)
        if value is None or value.endswith("/"):
            raise _Decline(f"cannot tell the output of `go build` at line {call.ins.start_line}")
        return resolve(value, cwd)
    positional, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.split("=")[0] in GO_VALUE_FLAGS or arg.split("=")[0].lstrip("-") in {
            f.lstrip("-") for f in GO_VALUE_FLAGS
        }:
            skip = "=" not in arg
        elif not arg.startswith("-"):
            positional.append(arg)
    if len(positional) > 1 and not all(p.endswith(".go") for p in positional):
        raise _Decline(
            f"`go build` at line {call.ins.start_line} builds several packages without -o"
        )
    if positional and positional[0].endswith(".go"):
        return resolve(posixpath.basename(positional[0])[:-3], cwd)
    if positional and positional[0] not in (".", "./"):
        if "..." in positional[0] or not positional[0].startswith("."):
            raise _Decline(f"cannot tell the binary name of `go build {positional[0]}`")
        return resolve(posixpath.basename(resolve(positional[0], cwd)), cwd)
    module = _go_module(a)
    if module:
        name = module.rstrip("/").split("/")
        last = name[-2] if len(name) > 1 and re.fullmatch(r"v[0-9]+", name[-1]) else name[-1]
        return resolve(last, cwd)
    if a.entry is not None:
        path = a.entry_path(a.entry.argv[0])
        if path and path.startswith("/") and posixpath.dirname(path) == cwd:
            return path
    raise _Decline(
        f"cannot tell the binary name of `go build` at line {call.ins.start_line} "
        "(no -o, no go.mod)"
    )


def _go_module(a: _Analysis) -> str | None:
    text = a.ctx.read_text("go.mod") or ""
    match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return match.group(1).strip('"') if match else None


def _cgo_setting(a: _Analysis, builds: list[_Call]) -> str | None:
    values = {
        c.command.assignments.get("CGO_ENABLED") or a.scope(c.ins).get("CGO_ENABLED")
        for c in builds
    }
    return values.pop() if len(values) == 1 else None


def _uses_cgo(a: _Analysis) -> bool:
    gomod = a.ctx.read_text("go.mod") or ""
    if any(m in gomod for m in eco.GO_CGO_MODULES):
        return True
    for rel in a.ctx.glob("*.go"):
        text = a.ctx.read_text(rel) or ""
        if re.search(r'^\s*import\s+"C"|^\s*"C"\s*$', text, re.MULTILINE):
            return True
    return False


def _check_entry_runs(a: _Analysis, artefacts: list[str]) -> dict[str, str]:
    """The entry command must run an artefact; returns artefacts moved onto the runtime PATH."""
    if a.entry is None:
        raise _Decline("no CMD or ENTRYPOINT says which binary runs")
    moves: dict[str, str] = {}
    for argv in a.entry.commands:
        path = a.entry_path(argv[0]) if argv else None
        if path is None:
            raise _Decline("the CMD/ENTRYPOINT program name uses a variable")
        if path.startswith("/"):
            ok = path in artefacts
        else:
            found = [p for p in artefacts if posixpath.basename(p) == path]
            ok = len(found) == 1
            if ok and posixpath.dirname(found[0]) not in eco.STANDARD_PATH:
                moves[found[0]] = "/usr/local/bin/" + path
        if not ok and not (a.entry.shell and argv[0] in HARMLESS):
            raise _Decline(f"the CMD/ENTRYPOINT runs `{argv[0]}`, which is not the built binary")
    return moves


def _go_install_output(a: _Analysis, call: _Call) -> tuple[list[str], str | None]:
    """Binary path of `go install` and, when the name is a guess, why the split is unsafe."""
    scope = a.scope(call.ins)
    gobin = call.command.assignments.get("GOBIN") or scope.get("GOBIN")
    gopath = (call.command.assignments.get("GOPATH") or scope.get("GOPATH") or "/go").split(":")[0]
    out = gobin or resolve("bin", gopath)
    if "$" in out:
        raise _Decline(
            f"cannot tell where `go install` at line {call.ins.start_line} puts the binary"
        )
    args = call.args[call.args.index(call.sub) + 1 :]
    packages = [x.split("@")[0] for x in args if not x.startswith("-")]
    if any("..." in p for p in packages):
        name = posixpath.basename(a.entry.argv[0]) if a.entry and a.entry.argv else ""
        if not name or "$" in name:
            raise _Decline(f"`go install` at line {call.ins.start_line} builds several binaries")
        return [
            resolve(name, out)
        ], "the binary the CMD runs is assumed to come from `go install ./...`"
    if packages and "." not in packages and "./" not in packages:
        names = [posixpath.basename(p.rstrip("/")) for p in packages]
        if len(names) > 1:  # library packages install no binary: keep the one the CMD runs
            wanted = posixpath.basename(a.entry.argv[0]) if a.entry and a.entry.argv else ""
            names = [n for n in names if n == wanted]
        return [resolve(n, out) for n in names], None
    module = _go_module(a)
    if module:
        return [resolve(module.rstrip("/").split("/")[-1], out)], None
    if within(call.cwd, resolve("src", gopath)) and call.cwd != resolve("src", gopath):
        return [resolve(posixpath.basename(call.cwd), out)], None
    raise _Decline(f"cannot tell the binary name of `go install` at line {call.ins.start_line}")


def _debian(a: _Analysis) -> str:
    return eco.DEBIAN_SLIM.format(codename=eco.debian_codename(a.stage.image.tag) or "bookworm")


def _rust(a: _Analysis) -> _Plan:
    builds = [c for c in a.calls if c.program == "cargo" and c.sub in ("build", "install")]
    if not builds:
        raise _NotABuild
    if "alpine" in (a.stage.image.tag or ""):
        raise _Decline("alpine (musl) Rust builds are not handled")
    artefacts: list[str] = []
    for call in builds:
        if call.sub == "install":
            artefacts += _cargo_install(a, call)
            continue
        out = _cargo_dir(a, call)
        names = _cargo_bins(a, call)
        if names is None:
            path = a.entry_path(a.entry.argv[0]) if a.entry else None
            if not path or posixpath.dirname(path) != out:
                raise _Decline(
                    "cannot tell the binary name (no Cargo.toml and the CMD does not name target/…)"
                )
            names = [posixpath.basename(path)]
        artefacts += [resolve(n, out) for n in names]
    moves = _check_entry_runs(a, artefacts)
    files = _context_paths(a, "rust")
    plan = _Plan(_debian(a), _dedupe(artefacts + files.paths), moves=moves)
    plan.notes += [
        f"{src}{' (`cargo install` output)' if src.endswith('/bin/' + posixpath.basename(src)) else ''}"
        f" is copied to {dst} (on the runtime PATH)"
        for src, dst in moves.items()
    ]
    bare = a.entry is not None and not a.entry.shell and not a.setup_runs
    if bare and eco.glibc_at_most_bookworm(a.stage.image.tag):
        plan.runtime, plan.shell = eco.RUST_RUNTIME, False
    lock = a.ctx.read_text("Cargo.lock")
    if lock is None:
        plan.unsafe = (
            "no Cargo.lock in the context: the shared libraries the binary needs are unknown"
        )
    else:
        crates = set(re.findall(r'^name = "([^"]+)"', lock, re.MULTILINE))
        for crate, libs in eco.RUST_CRATE_LIBS.items():
            if crate in crates:
                plan.packages += [p for p in libs if p not in plan.packages]
        if "libssl3" in plan.packages and "bookworm" not in plan.runtime:
            raise _Decline("openssl-sys links a release-specific libssl")
        if not plan.shell and set(plan.packages) <= {"libssl3", "ca-certificates"}:
            plan.packages = []  # distroless/cc ships both
        elif not plan.shell:
            plan.runtime, plan.shell = _debian(a), True
    if files.whole and files.paths:
        plan.notes.append(
            "no build context: the copied source tree comes along in case the program reads it"
        )
    return plan


def _cargo_dir(a: _Analysis, call: _Call) -> str:
    args = call.args
    profile = "release" if "--release" in args or "-r" in args else "debug"
    named = _opt(args, "--profile")
    if named:
        profile = "debug" if named == "dev" else named
    target_dir = (
        _opt(args, "--target-dir")
        or call.command.assignments.get("CARGO_TARGET_DIR")
        or a.scope(call.ins).get("CARGO_TARGET_DIR")
        or "target"
    )
    manifest = _opt(args, "--manifest-path")
    cwd = resolve(posixpath.dirname(manifest), call.cwd) if manifest else call.cwd
    triple = _opt(args, "--target")
    path = resolve(target_dir, cwd)
    return resolve(profile, resolve(triple, path) if triple else path)


def _cargo_install(a: _Analysis, call: _Call) -> list[str]:
    """Binaries `cargo install --path X` puts in $CARGO_HOME/bin (/usr/local/cargo/bin)."""
    line = call.ins.start_line
    path = _opt(call.args, "--path")
    if path is None or {"--git", "--example", "--examples"} & set(call.args):
        raise _Decline(f"`cargo install` at line {line} does not build the copied sources")
    scope = {**a.scope(call.ins), **call.command.assignments}
    root = (
        _opt(call.args, "--root")
        or scope.get("CARGO_INSTALL_ROOT")
        or scope.get("CARGO_HOME")
        or eco.RUST_CARGO_HOME
    )
    crate = resolve(path, call.cwd)
    rel = _context_dir(a, crate, call.ins)
    if "$" in root + path or rel is None:
        raise _Decline(f"cannot tell what `cargo install` at line {line} builds or where")
    names = _cargo_bins(a, call, rel)
    if names is None:
        raise _Decline(f"cannot tell the binary name of `cargo install` at line {line}")
    return [resolve(n, resolve("bin", resolve(root, call.cwd))) for n in names]


def _cargo_bins(a: _Analysis, call: _Call, rel: str = "") -> list[str] | None:
    explicit = [call.args[i + 1] for i, x in enumerate(call.args[:-1]) if x == "--bin"]
    if explicit:
        return explicit
    text = a.ctx.read_text(posixpath.join(rel, "Cargo.toml"))
    if text is None:
        return None
    try:
        data = tomllib.loads(text)
    except ValueError:
        return None
    if "workspace" in data and "package" not in data:
        raise _Decline("Cargo workspace: cannot tell which binary is built")
    names = [b["name"] for b in data.get("bin", []) if isinstance(b, dict) and "name" in b]
    package = data.get("package", {}).get("name")
    if (not names or a.ctx.exists(posixpath.join(rel, "src/main.rs"))) and package:
        names.append(package)
    return names or None


def _java(a: _Analysis) -> _Plan:
    builds = [c for c in a.calls if _java_build(c)]
    if not builds:
        raise _NotABuild
    image = eco.java_runtime(a.stage.image.full_name, a.stage.image.tag)
    if image is None:
        raise _Decline(
            f"no JRE image of the same vendor and version is known for {a.stage.image.raw}"
        )
    if a.entry is None:
        raise _Decline("no CMD or ENTRYPOINT says which jar runs")
    artefacts: list[str] = []
    for argv in a.entry.commands:
        if not argv:
            continue
        if posixpath.basename(argv[0]) == "java":
            jar = _opt(argv, "-jar")
            classpath = _opt(argv, "-cp", "-classpath", "--class-path")
            entries = [jar] if jar else classpath.split(":") if classpath else []
            for item in entries:
                path = a.entry_path(item)
                if path is None or not path.startswith("/"):
                    raise _Decline(f"cannot tell which files `{item}` in the CMD names")
                _check_pom(a, path)
                artefacts.append(path)
            if not entries:
                raise _Decline("cannot tell which jar the CMD runs")
        elif "/build/install/" in (a.entry_path(argv[0]) or ""):
            path = a.entry_path(argv[0]) or ""
            artefacts.append(
                path[: path.index("/build/install/")]
                + "/build/install/"
                + path.split("/build/install/")[1].split("/")[0]
            )
        elif not (a.entry.shell and argv[0] in HARMLESS):
            raise _Decline(f"the CMD runs `{argv[0]}`, not `java -jar` or an installDist script")
    files = _context_paths(a, "java")
    return _Plan(
        image[0],
        _dedupe(artefacts + files.paths),
        unsafe=None if image[1] else "JRE of another vendor",
    )


def _java_build(call: _Call) -> bool:
    tool = posixpath.basename(call.program)
    kind = (
        "maven" if tool in ("mvn", "mvnw") else "gradle" if tool in ("gradle", "gradlew") else None
    )
    if kind is None:
        return False
    tasks = {t.lower().split(":")[-1] for t in call.args if not t.startswith("-")}
    return bool(tasks & eco.JAVA_BUILD_TASKS[kind])


def _check_pom(a: _Analysis, jar: str) -> None:
    text = a.ctx.read_text("pom.xml")
    if text is None or any(ch in jar for ch in "*?["):
        return
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def find(path: str) -> str | None:
        node = root.find("/".join(ns + p for p in path.split("/")))
        return node.text.strip() if node is not None and node.text else None

    name = (
        find("build/finalName")
        or f"{find('artifactId')}-{find('version') or find('parent/version')}"
    )
    if (
        "$" not in name
        and posixpath.dirname(jar).endswith("/target")
        and posixpath.basename(jar) != f"{name}.jar"
    ):
        raise _Decline(f"pom.xml builds {name}.jar but the CMD runs {posixpath.basename(jar)}")


def _dotnet(a: _Analysis) -> _Plan:
    builds = [c for c in a.calls if c.program == "dotnet" and c.sub == "publish"]
    if not builds:
        raise _NotABuild
    outs = []
    for call in builds:
        out = _opt(call.args, "-o", "--output")
        if out is None or a._expand(out) is None:
            raise _Decline(
                f"`dotnet publish` at line {call.ins.start_line} has no -o: "
                "output directory unknown"
            )
        outs.append(resolve(a._expand(out) or "", call.cwd))
    if a.entry is None or not a.entry.argv:
        raise _Decline("no CMD or ENTRYPOINT says which assembly runs")
    argv = a.entry.argv
    dll = argv[1] if posixpath.basename(argv[0]) == "dotnet" and len(argv) > 1 else argv[0]
    value = a._expand(dll)
    target = resolve(value, a.final_dir) if value else None
    if not target or not any(within(target, o) for o in outs):
        raise _Decline("the CMD does not run the published output")
    projects = a.ctx.glob("*.csproj") + a.ctx.glob("*/*.csproj")
    web = not projects or any(
        "Microsoft.NET.Sdk.Web" in (a.ctx.read_text(p) or "") for p in projects
    )
    runtime = eco.dotnet_runtime(a.stage.image.tag, web)
    if runtime is None:
        raise _Decline(f"no .NET runtime image known for {a.stage.image.raw}")
    files = _context_paths(a, "dotnet")
    return _Plan(runtime, _dedupe(outs + files.paths))


def _node(a: _Analysis) -> _Plan:
    installs = [
        c
        for c in a.calls
        if c.program in ("npm", "yarn", "pnpm") and c.sub in ("ci", "install", "i", "")
    ]
    if not installs:
        raise _NotABuild
    tag = a.stage.image.tag
    runtime_tag = eco.node_slim(tag)
    if runtime_tag is None:
        raise _Decline(f"no slim variant known for {a.stage.image.raw}")
    built = any(c.sub == "run" or c.program == "yarn" and c.sub == "build" for c in a.calls)
    if runtime_tag == tag and not built:
        raise _NotABuild
    app = installs[0].cwd
    files = _context_paths(a, None)
    plan = _Plan(
        f"{a.stage.image.full_name}:{runtime_tag}", _dedupe([app, *files.paths]), same_family=True
    )
    if any(
        c.program == "npm"
        and ("-g" in c.args or "--global" in c.args)
        or c.program == "yarn"
        and c.sub == "global"
        for c in a.calls
    ):
        plan.copies = _dedupe(plan.copies + ["/usr/local/lib/node_modules", "/usr/local/bin"])
    manager = installs[0].program
    reason = _prune_blocker(a, manager)
    if reason is None:
        major = re.match(r"\d+", tag or "")
        flag = "--omit=dev" if major is None or int(major.group(0)) >= 16 else "--production"
        if app != a.final_dir:
            plan.prune.append(f"{_line(a.doc, 'WORKDIR')} {app}")
        if _final_user(a) not in ROOT:
            plan.prune.append(f"{_line(a.doc, 'USER')} root")
        plan.prune.append(f"{_line(a.doc, 'RUN')} npm prune {flag}")
        plan.notes.append("dev dependencies pruned")
    else:
        plan.notes.append(f"dev dependencies kept ({reason})")
    return plan


def _prune_blocker(a: _Analysis, manager: str) -> str | None:
    if manager != "npm":
        return f"{manager} prune is not offered"
    if not a.ctx.present:
        return "no build context to check package.json"
    if not (a.ctx.exists("package-lock.json") or a.ctx.exists("npm-shrinkwrap.json")):
        return "no package-lock.json"
    package = a.ctx.read_json("package.json")
    if not isinstance(package, dict):
        return "package.json unreadable"
    dev = set(package.get("devDependencies") or {})
    scripts = package.get("scripts") or {}
    for argv in a.entry.commands if a.entry else []:
        words = list(argv)
        if words and words[0] in ("npm", "yarn", "pnpm"):
            name = (
                "start"
                if words[1:2] == ["start"]
                else (words[2] if len(words) > 2 and words[1] == "run" else None)
            )
            words = str(scripts.get(name, "")).split() if name else []
        elif words and words[0] == "npx":
            words = words[1:]
        for word in words:
            if word in dev or posixpath.basename(word) in dev:
                return f"the start command uses dev dependency {word}"
    return None


def _python(a: _Analysis) -> _Plan:
    installs = [c for c in a.calls if c.program in ("pip", "pip3", "uv") and "install" in c.args]
    if any(c.program in ("poetry", "pipenv") for c, _ in [(u, 0) for u in a.calls]) or any(
        p in ("poetry", "pipenv") for _, p in a.unknown
    ):
        raise _Decline("poetry/pipenv environments are not handled")
    if not installs:
        raise _NotABuild
    for call in installs:
        if {"--user", "--target", "-t", "--prefix", "--root"} & {
            x.split("=")[0] for x in call.args
        }:
            raise _Decline(
                f"pip at line {call.ins.start_line} installs outside the interpreter's prefix"
            )
    tag = a.stage.image.tag
    runtime_tag = eco.python_slim(tag)
    if runtime_tag is None:
        raise _Decline(f"no slim variant known for {a.stage.image.raw}")
    build_deps = [
        p
        for p in a.packages
        if p in eco.BUILD_ONLY_PACKAGES or p in eco.DEV_TO_RUNTIME or p.endswith("-dev")
    ]
    if runtime_tag == tag and not build_deps:
        raise _NotABuild
    venv = _venv(a)
    files = _context_paths(a, None)
    plan = _Plan(
        f"{a.stage.image.full_name}:{runtime_tag}",
        _dedupe([venv or "/usr/local", *files.paths]),
        same_family=True,
    )
    if runtime_tag != tag:
        requirements = _requirements(a)
        if requirements is None:
            plan.unsafe = (
                "requirements not visible: compiled packages may link libraries of the full image"
            )
        else:
            for name, libs in eco.PY_SOURCE_BUILT.items():
                if name in requirements:
                    plan.packages += libs
    return plan


def _venv(a: _Analysis) -> str | None:
    path = a.scope().get("PATH", "")
    for call in a.calls:
        target = None
        if (
            call.program in ("python", "python3")
            and call.args[:2] == ["-m", "venv"]
            and len(call.args) > 2
        ):
            target = call.args[-1]
        elif call.program == "virtualenv" and call.args:
            target = call.args[-1]
        if target:
            venv = resolve(target, call.cwd)
            if venv + "/bin" in path.split(":"):
                return venv
            raise _Decline(f"virtualenv {venv} is not on the PATH set by ENV")
    return None


def _requirements(a: _Analysis) -> set[str] | None:
    names: set[str] = set()
    found = False
    for rel in (
        "requirements.txt",
        "requirements/prod.txt",
        "requirements/base.txt",
        "pyproject.toml",
        "setup.py",
    ):
        text = a.ctx.read_text(rel)
        if text is None:
            continue
        found = True
        for line in text.splitlines():
            match = re.match(r"^\s*[\"']?([A-Za-z0-9._-]+)", line.split("#")[0])
            if match:
                names.add(match.group(1).lower().replace("_", "-"))
    return names if found else None


PLANNERS = {
    "go": _go,
    "rust": _rust,
    "java": _java,
    "dotnet": _dotnet,
    "node": _node,
    "python": _python,
}


# ---------------------------------------------------------------- several apps: a frontend stage


@dataclass
class _Frontend:
    runs: list[Instruction]  # RUNs that install and build it (moved to its own stage)
    dir: str  # image path of the frontend app (its package.json)
    rel: str  # the same directory in the build context
    out: str  # image path of the build output
    image: str
    unsafe: str | None = None
    note: str = ""


def _global(call: _Call) -> bool:
    return "-g" in call.args or "--global" in call.args or call.sub == "global"


def _frontend(a: _Analysis) -> _Frontend | None:
    """A frontend built next to the backend, planned as its own stage (None: there is none).

    Updates the analysis: the frontend's calls, scripts and OS toolchain packages are no longer
    the backend's, and its sources are not copied to the runtime.
    """
    node = a.eco == "node"
    runs = _node_frontend_runs(a) if node else a.frontend_runs
    if not runs:
        return None
    try:
        front = _frontend_plan(a, runs)
    except _Decline:
        if node:
            return None  # one Node app after all: the single-app split applies
        raise
    a.calls = [c for c in a.calls if c.ins not in runs]
    a.scripts = [c for c in a.scripts if c.ins not in runs]
    if not node:
        a.packages = [p for p in a.packages if p not in eco.FRONTEND_PACKAGES]
        a.skip_rel = front.rel
    return front


def _node_frontend_runs(a: _Analysis) -> list[Instruction]:
    """RUNs of a Node stage that only install/build an app in another directory than the CMD's."""
    cwds: dict[int, set[str]] = {}
    for call in a.calls:
        cwds.setdefault(id(call.ins), set()).add("-g" if _global(call) else call.cwd)
    backend = a.final_dir
    if not any(c.cwd == backend and c.sub in ("ci", "install", "i") for c in a.calls):
        return []
    unknown = {id(i) for i, _ in a.unknown}
    runs, dirs = [], set()
    for ins in a.stage.of("run"):
        found = cwds.get(id(ins), set())
        if not found or backend in found or "-g" in found:
            continue
        if len(found) > 1 or id(ins) in unknown or ins in a.setup_runs:
            return []
        runs.append(ins)
        dirs |= found
    return runs if len(dirs) == 1 else []


def _frontend_plan(a: _Analysis, runs: list[Instruction]) -> _Frontend:
    calls = [c for c in a.calls if c.ins in runs]
    local = [c for c in calls if not _global(c) and c.program != "corepack"]
    dirs = {c.cwd for c in local}
    if len(dirs) != 1:
        raise _Decline("the frontend build runs in several directories")
    app = dirs.pop()
    if not a.ctx.present:
        raise _Decline("no build context: cannot tell where the frontend build writes")
    last = runs[-1]
    if any(u.args.strip() not in ROOT for u in a.stage.of("user") if u.start < last.start):
        raise _Decline("the frontend build runs as a non-root user")
    rel = _context_dir(a, app, last)
    if rel is None:
        raise _Decline(f"the frontend directory {app} is not copied whole from the build context")
    if rel == "" and a.eco != "node":
        raise _Decline("the frontend shares the build context's root with the backend")
    package = frontend.package_json(a.ctx, rel)
    if package is None:
        raise _Decline(f"no package.json in the frontend directory {rel or '.'}")
    outs = set()
    for call in local:
        argv = [call.program, *call.args]
        if call.program in frontend.RUNNERS and frontend.is_build(argv, package):
            script = frontend.script_of(argv, package)
            outs.add(frontend.output_dir(a.ctx, rel, script, package) if script else None)
    if not outs:
        raise _Decline(f"the frontend in {app} is installed but not built")
    out = outs.pop() if len(outs) == 1 else None
    embeds = [posixpath.relpath(e, rel) for e in _go_embeds(a) if within(e, rel) and e != rel]
    if out is None and a.eco == "go" and len(embeds) == 1:
        out = embeds[0]  # the Go code embeds the directory the build writes
    if out is None:
        raise _Decline(f"cannot tell where the frontend build in {app} writes its output")
    if a.eco == "node":
        return _Frontend(runs, app, rel, resolve(out, app), a.stage.image.raw)
    if not {"nodejs", "npm"} & set(a.packages):
        raise _Decline("cannot tell which Node.js the frontend build uses")
    image, release = eco.frontend_node(a.stage.image.tag, a.eco)
    lock = (a.ctx.read_text(posixpath.join(rel, "package-lock.json")) or "") + (
        a.ctx.read_text(posixpath.join(rel, "yarn.lock")) or ""
    )
    if any(re.search(rf'node_modules/{re.escape(m)}"|^"?{re.escape(m)}@', lock, re.M)
           for m in NODE_NATIVE):  # fmt: skip
        image = image.replace("-slim", "")  # native modules need the full image's compilers
    major = re.sub(r"\D.*", "", image.split(":")[1])
    note = f"the frontend in {app} is built in its own stage on {image} (Node.js {major}, "
    unsafe = None
    if release is None:
        note += "a guess: the build image's release is unknown)"
        unsafe = f"the Node.js major of the frontend build is a guess ({image})"
    else:
        note += f"as {release}'s nodejs package; nodejs/npm are no longer installed)"
    return _Frontend(runs, app, rel, resolve(out, app), image, unsafe, note)


def _context_dir(a: _Analysis, app: str, before: Instruction) -> str | None:
    """The context directory copied whole to ``app`` (None: not copied from one directory)."""
    for copy in reversed([c for c in a.copies if c.ins.start < before.start]):
        if not within(app, copy.dest) or not copy.into_dir:
            continue
        if len(copy.sources) != 1 or any(ch in copy.sources[0] for ch in "*?["):
            if within(copy.dest, app):
                continue  # a subset (manifests first): the whole directory follows
            return None
        src = posixpath.normpath(copy.sources[0]).lstrip("/")
        rel = posixpath.normpath(posixpath.join(src, posixpath.relpath(app, copy.dest)))
        if rel.startswith(".."):
            return None
        return "" if rel == "." else rel
    return None


def _go_embeds(a: _Analysis) -> list[str]:
    """Context paths named by ``//go:embed`` directives (glob suffixes dropped)."""
    if a.eco != "go":
        return []
    found = []
    for rel in a.ctx.glob("*.go"):
        for line in re.findall(r"^//go:embed\s+(.+)$", a.ctx.read_text(rel) or "", re.M):
            for pattern in line.split():
                pattern = pattern.strip("\"`").removeprefix("all:")
                pattern = re.split(r"[*?\[]", pattern)[0].rstrip("/")
                if pattern:
                    found.append(posixpath.normpath(posixpath.join(posixpath.dirname(rel), pattern)))
    return found


def _apply_frontend(a: _Analysis, plan: _Plan, front: _Frontend) -> None:
    """Move the frontend RUNs to a stage of their own; its output goes into the build stage."""
    doc, nl, text = a.doc, a.doc.newline, a.doc.text
    last = front.runs[-1]
    for ins in front.runs[:-1]:
        plan.build_edits.append(Edit(ins.comment_start, ins.end, ""))
    copy = _copy_line(doc, FRONTEND, front.out, front.out, None)
    plan.build_edits.append(Edit(last.comment_start, last.end, copy + nl))
    if a.eco != "node":
        for ins in a.stage.of("run"):
            if _frontend_toolchain_only(a, ins):
                plan.build_edits.append(Edit(ins.comment_start, ins.end, ""))
    lines = [f"{_line(doc, 'FROM')} {front.image} {_line(doc, 'AS')} {FRONTEND}{nl}"]
    for ins in a.stage.instructions:
        if ins.start < last.start and ins.cmd in ("arg", "env"):
            lines.append(_chunk(a, ins))
    cwd, copied = "/", False
    for ins in front.runs:
        if a.dirs[id(ins)] != cwd:
            cwd = a.dirs[id(ins)]
            lines.append(f"{_line(doc, 'WORKDIR')} {cwd}{nl}")
        if not copied:
            lines.append(_copy_line(doc, None, front.rel or ".", front.dir, None) + nl)
            copied = True
        lines.append(_chunk(a, ins))
    at = a.stage.from_.comment_start
    if re.search(r"^#\s*(syntax|escape|check)\s*=", text[at : a.stage.from_.start], re.M | re.I):
        at = a.stage.from_.start
    plan.head = "".join(lines) + nl
    plan.head_at = at
    rel_out = posixpath.join(front.rel, posixpath.relpath(front.out, front.dir))
    embedded = any(within(rel_out, e) or within(e, rel_out) for e in _go_embeds(a))
    if embedded:
        plan.notes.append(f"{front.note}; its output {front.out} is embedded by //go:embed")
    else:
        if a.eco != "node":
            plan.copies = _dedupe([*plan.copies, front.out])
        plan.notes.append(f"{front.note}; its output {front.out} is copied to the runtime")
    plan.unsafe = plan.unsafe or front.unsafe


def _frontend_toolchain_only(a: _Analysis, ins: Instruction) -> bool:
    """True for a RUN that only installs OS packages of the frontend toolchain (nodejs, npm)."""
    script = run_script(ins, a.doc.text)
    if script is None or not script.commands:
        return False
    packages: list[str] = []
    for command in script.commands:
        program, args = program_args(command)
        if program in OS_MANAGERS:
            packages += _os_packages(args)
        elif program not in HARMLESS:
            return False
    return bool(packages) and set(packages) <= eco.FRONTEND_PACKAGES


def _chunk(a: _Analysis, ins: Instruction) -> str:
    chunk = a.doc.text[ins.comment_start : ins.end]
    return chunk if chunk.endswith(("\n", "\r")) else chunk + a.doc.newline


# ---------------------------------------------------------------- static frontend on nginx

NGINX_CONFIG = frozenset({"cmd", "entrypoint", "expose", "workdir", "user", "env", "shell"})


def _nginx(a: _Analysis, alias: str) -> Fix | None:
    """The unsafe alternative for a static frontend: nginx serving the build output."""
    if a.entry is None or len(a.entry.commands) != 1 or not a.ctx.present:
        return None
    if any(a.stage.of(k) for k in ("entrypoint", "healthcheck", "volume", "stopsignal", "shell")):
        return None
    if _final_user(a) not in ROOT:
        return None
    rel = _context_dir(a, a.final_dir, a.stage.instructions[-1])
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if rel is None or package is None:
        return None
    served = frontend.static_server(a.entry.commands[0], a.ctx, rel, package)
    outs = set()
    for call in a.calls:
        argv = [call.program, *call.args]
        if call.cwd == a.final_dir and frontend.is_build(argv, package):
            script = frontend.script_of(argv, package)
            outs.add(frontend.output_dir(a.ctx, rel, script, package) if script else None)
    if served is None or outs != {served[0]}:
        return None
    out = resolve(served[0], a.final_dir)
    doc, nl, text = a.doc, a.doc.newline, a.doc.text
    edits: list[Edit] = []
    from_ = a.stage.from_
    if a.stage.alias is None:
        end = from_.physical(from_.args_start + len(from_.args))
        edits.append(Edit(end, end, f" {_line(doc, 'AS')} {alias}"))
    kept = []
    for ins in a.stage.instructions:
        if ins.cmd in MOVE:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            if ins.cmd in ("label", "maintainer"):
                kept.append(_chunk(a, ins))
    build = apply_edits(text, edits).rstrip(" \t")
    lead = "" if build.endswith((nl + nl, "\n\n")) else nl if build.endswith(("\n", "\r")) else nl + nl
    runtime = (
        f"{lead}{_line(doc, 'FROM')} {eco.NGINX_RUNTIME} {_line(doc, 'AS')} {RUNTIME}{nl}"
        + _copy_line(doc, alias, out, eco.NGINX_HTML, None)
        + nl
        + "".join(kept)
        + f"{_line(doc, 'EXPOSE')} {eco.NGINX_PORT}{nl}"
    )
    edits.append(Edit(len(text), len(text), runtime))
    ports = sorted({p for i in a.stage.of("expose") for p in i.args.split()})
    was = f"from {', '.join(ports)} " if ports else ""
    spa = any(f in served[1].split() for f in ("-s", "--single"))
    message = (
        f"serve the static build output {out} with nginx on {eco.NGINX_RUNTIME} "
        f"(runtime stage without Node.js): the port changes {was}to {eco.NGINX_PORT} and the "
        f"server changes from `{served[1]}` to nginx; CMD, EXPOSE, WORKDIR and ENV of the "
        "final image change"
        + ("; nginx's default config has no single-page fallback to index.html" if spa else "")
        + " (unsafe: different server and port)"
    )
    fix = doc.fix(SplitStages.id, from_, message, edits, Applicability.UNSAFE)
    fix.changes_config = NGINX_CONFIG
    return fix


# ---------------------------------------------------------------- common checks and rendering


def _runtime_packages(a: _Analysis, packages: list[str]) -> list[str]:
    """OS packages the runtime needs: non-build packages, and -dev packages mapped to libraries."""
    wanted: list[str] = []
    uses = " ".join(" ".join(c) for c in (a.entry.commands if a.entry else []))
    health = " ".join(i.args for i in a.stage.of("healthcheck"))
    for name in packages:
        if name in ("curl", "wget") and (name in health or name in uses):
            wanted.append(name)
        elif name in eco.DEV_TO_RUNTIME:
            wanted += eco.DEV_TO_RUNTIME[name]
        elif name.endswith(("-dev", "-devel")):
            raise _Decline(f"no runtime library known for {name}")
        elif name not in eco.BUILD_ONLY_PACKAGES:
            wanted.append(name)
    return list(dict.fromkeys(wanted))


def _final_user(a: _Analysis) -> str:
    users = a.stage.of("user")
    return users[-1].args.strip() if users else "root"


def _common_checks(a: _Analysis, plan: _Plan) -> None:
    for ins, program in a.unknown:
        if id(ins) in a.mixed:
            raise _Decline(
                f"RUN at line {ins.start_line} runs `{program}` together with other build "
                "steps: the frontend build cannot get its own stage"
            )
        raise _Decline(
            f"RUN at line {ins.start_line} runs `{program}`, "
            "which may create files the runtime needs"
        )
    plan.packages = list(dict.fromkeys(plan.packages + _runtime_packages(a, a.packages)))
    if plan.packages and not plan.shell:
        raise _Decline("the runtime needs OS packages but the chosen base has no package manager")
    if a.scripts and plan.unsafe is None:
        first = a.scripts[0]
        plan.unsafe = (
            f"RUN at line {first.ins.start_line} runs `{first.program} {first.args[0]}`, "
            "which may write files outside the copied paths"
        )
    allowed = (
        DEBIAN_SETUP
        if not plan.apk and not plan.same_family
        else ALPINE_SETUP
        if plan.apk
        else SETUP
    )
    for ins in a.setup_runs:
        script = run_script(ins, a.doc.text)
        programs = {program_args(c)[0] for c in script.commands} if script else set()
        if not plan.shell or not programs & SETUP <= allowed:
            raise _Decline(f"RUN at line {ins.start_line} cannot be repeated on {plan.runtime}")
    user = _final_user(a)
    if user not in ROOT and not re.fullmatch(r"[0-9]+(:[0-9]+)?", user) and "$" not in user:
        name = user.split(":")[0]
        made = any(re.search(rf"\b{re.escape(name)}\b", i.args) for i in a.setup_runs)
        known = any(plan.runtime.startswith(k) and name in v for k, v in IMAGE_USERS.items())
        if not made and not known:
            raise _Decline(
                f"USER {name} is created together with build steps; "
                "the runtime stage would not have it"
            )
    elif "$" in user:
        raise _Decline("USER is set from a variable")
    defined = set(a.scope()) | {"PATH", "HOME", "HOSTNAME"}
    if not plan.same_family:
        for ins in a.stage.instructions:
            if ins.cmd in REPEAT | MOVE:
                for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", ins.args):
                    if var not in defined:
                        raise _Decline(
                            f"{ins.keyword} at line {ins.start_line} "
                            f"reads ${var} from the build image"
                        )
    anchor = _anchor(a)
    builder = [
        i.args.strip() for i in a.stage.of("user") if anchor is not None and i.start < anchor.start
    ]
    if builder and builder[-1] not in ROOT and plan.same_family:
        plan.chown = builder[-1]  # files the build created belong to this user


def _anchor(a: _Analysis) -> Instruction | None:
    """The last instruction that builds (after it, the artefacts exist)."""
    last = None
    for ins in a.stage.instructions:
        if ins.cmd in ("run", "copy", "add") and ins not in a.setup_runs:
            last = ins
    return last


def _copy_line(doc: Document, stage: str | None, path: str, dest: str, chown: str | None) -> str:
    flags = (f" --from={stage}" if stage else "") + (f" --chown={chown}" if chown else "")
    if any(ch.isspace() for ch in path + dest):
        return f"{_line(doc, 'COPY')}{flags} {json.dumps([path, dest])}"
    return f"{_line(doc, 'COPY')}{flags} {path} {dest}"


def _render(a: _Analysis, plan: _Plan, alias: str) -> list[Edit]:
    doc, nl = a.doc, a.doc.newline
    text = doc.text
    from_ = a.stage.from_
    edits = list(plan.build_edits)
    if a.stage.alias is None:
        end = from_.physical(from_.args_start + len(from_.args))
        edits.append(Edit(end, end, f" {_line(doc, 'AS')} {alias}"))
    if plan.head:
        edits.append(Edit(plan.head_at, plan.head_at, plan.head))
    source = alias
    out: list[str] = []
    stages: list[str] = []
    if plan.prune:
        stages.append(
            f"{_line(doc, 'FROM')} {alias} {_line(doc, 'AS')} {PRUNE}{nl}"
            + "".join(p + nl for p in plan.prune)
            + nl
        )
        source = PRUNE
    out.append(f"{_line(doc, 'FROM')} {plan.runtime} {_line(doc, 'AS')} {RUNTIME}{nl}")
    if plan.packages:
        if plan.apk:
            run = f"apk add --no-cache {' '.join(plan.packages)}"
        else:
            run = (
                "apt-get update && apt-get install -y --no-install-recommends "
                f"{' '.join(plan.packages)} && rm -rf /var/lib/apt/lists/*"
            )
        out.append(f"{_line(doc, 'RUN')} {run}{nl}")
    anchor = _anchor(a)
    copies = "".join(
        _copy_line(doc, source, p, plan.moves.get(p, p), plan.chown) + nl for p in plan.copies
    )
    placed = anchor is None
    if placed:
        out.append(copies)
    for ins in a.stage.instructions:
        chunk = text[ins.comment_start : ins.end]
        if not chunk.endswith(("\n", "\r")):
            chunk += nl
        blank = text[: ins.comment_start].endswith((nl + nl, "\n\n"))
        if (
            blank
            and len(out) > 1 + bool(plan.packages)
            and (ins.cmd in MOVE | REPEAT or ins in a.setup_runs)
        ):
            chunk = nl + chunk  # keep the blank line that separated it
        if ins.cmd in MOVE:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            out.append(chunk)
        elif ins.cmd in REPEAT or ins in a.setup_runs:
            out.append(chunk)
        if ins is anchor:
            out.append(copies)
    build = apply_edits(text, edits).rstrip(" \t")
    lead = (
        "" if build.endswith((nl + nl, "\n\n")) else nl if build.endswith(("\n", "\r")) else nl + nl
    )
    head = lead + "".join(stages)
    edits.append(Edit(len(text), len(text), head + "".join(out).replace(nl + nl + nl, nl + nl)))
    return edits


def _message(a: _Analysis, plan: _Plan) -> str:
    what = ", ".join(plan.copies)
    text = f"split into {a.stage.alias or BUILD} + {RUNTIME} on {plan.runtime}, copying {what}"
    if plan.packages:
        text += f"; runtime packages: {' '.join(plan.packages)}"
    if plan.notes:
        text += "; " + "; ".join(plan.notes)
    if plan.unsafe:
        text += f" (unsafe: {plan.unsafe})"
    return text


@register
class SplitStages(Transform):
    id = "split-stages"
    title = "Split a single-stage build into build and runtime stages"
    order = 10

    def check(self, doc: Document) -> Iterable[Fix]:
        stages = doc.model.stages
        if (
            len(stages) != 1
            or doc.is_windows
            or any(i.cmd == "onbuild" for i in doc.dockerfile.instructions)
        ):
            return
        stage = stages[0]
        ecosystem = eco.ecosystem_of(stage.image.full_name)
        if ecosystem is None or stage.image.name == "scratch" or not stage.instructions:
            return
        try:
            if "$" in stage.from_.args and ecosystem not in ("go", "rust"):
                raise _Decline("the base image is chosen by a build argument")
            analysis = _Analysis(doc, stage, ecosystem)
            front = _frontend(analysis)
            plan = PLANNERS[ecosystem](analysis)
            _common_checks(analysis, plan)
            if front is not None:
                _apply_frontend(analysis, plan, front)
        except _NotABuild:
            return
        except _Decline as exc:
            if _builds_something(doc, stage, ecosystem):
                yield doc.fix(self.id, stage.from_, f"not split: {exc}", [])
            return
        alias = stage.alias or BUILD
        if ecosystem == "node" and front is None:
            nginx = _nginx(analysis, alias)
            if nginx is not None:
                yield nginx  # first: with --unsafe-fixes it wins over the safe split below
        applicability = Applicability.UNSAFE if plan.unsafe else Applicability.SAFE
        yield doc.fix(
            self.id,
            stage.from_,
            _message(analysis, plan),
            _render(analysis, plan, alias),
            applicability,
        )


def _builds_something(doc: Document, stage: Stage, ecosystem: str) -> bool:
    """True when a RUN of the stage calls the ecosystem's build tool (worth an explanation)."""
    tools = ECO_TOOLS[ecosystem] - {"cp", "mv", "node", "python", "python3", "java"}
    for ins in stage.of("run"):
        script = run_script(ins, doc.text)
        for command in script.commands if script else []:
            if posixpath.basename(program_args(command)[0]) in tools:
                return True
    return False
