"""slim-base: run the final stage on a smaller variant of the same base image.

What it does
    Rewrites the image reference of the final stage's FROM (only that text: ``--platform``,
    ``AS name`` and comments stay) to a smaller variant of the same family and version, from the
    knowledge table in ``msdfix.knowledge.images``: ``node:18`` -> ``node:18-slim``,
    ``python:3.12-bookworm`` -> ``python:3.12-slim-bookworm``, ``ruby:3.3`` -> ``ruby:3.3-slim``,
    ``debian:bookworm`` -> ``debian:bookworm-slim``, ``eclipse-temurin:17-jdk`` ->
    ``eclipse-temurin:17-jre``, ``nginx:1.25`` -> ``nginx:1.25-alpine``, and a final stage that only
    copies a Go binary and runs it in exec form -> ``gcr.io/distroless/static-debian12`` (tagged
    as split-stages does: ``:nonroot`` plus ``WORKDIR /`` for a program that runs as nonroot,
    else ``:debug`` plus ``ENTRYPOINT []``, so user, working directory and entrypoint stay).
    When it leaves a final stage alone for a reason worth knowing, it says why.
Why
    The runtime image is what you ship, pull and scan: ``node:18`` is about 1 GB with compilers,
    git and -dev libraries the program never uses at run time; ``node:18-slim`` is about 200 MB.
Example
    ``FROM node:18 AS runtime`` becomes ``FROM node:18-slim AS runtime``.
Fix safety
    Safe: full -> -slim of the same version and Debian release (node, python, ruby, debian) when
    no RUN/CMD/ENTRYPOINT/HEALTHCHECK of the stage uses a tool only the full image has (gcc, make,
    git, curl, wget, ps, ...) unless the stage apt-get installs it, and dependency installs in the
    stage cannot compile (npm lockfile without install scripts or native modules, requirements
    files without packages that need system libraries); eclipse-temurin JDK -> JRE of the same
    major and OS when no JDK tool (javac, jar, jlink, jcmd, ...) runs; nginx -> nginx:<v>-alpine
    when the stage only copies static files.
    Unsafe (reason shown): dependencies that cannot be seen or run install scripts, artefacts
    copied from a stage built on a full image, scripts msdfix cannot read; openjdk:17+ ->
    eclipse-temurin:<major>-jre (vendor change); nginx alpine with RUN, HEALTHCHECK or custom
    config (busybox, musl resolver); node -> node:<v>-alpine (musl), offered only when the
    lockfile shows no native modules, no apt-get, no bash and nothing is copied from a glibc
    stage; a Go binary -> distroless/static (safe only when built with CGO_ENABLED=0 and the Go
    sources never import os/exec).
    Display-only: a digest-pinned base (the new digest is unknown).
    Left alone, with the reason: tools missing from -slim, packages that compile against system
    libraries, bundle install of gems with C extensions, untagged bases (msdfix never writes
    ``latest``), bases from ARG variables, build images (golang, rust, maven, gradle) as the
    runtime, apt-get blocking alpine, anything running a shell blocking distroless. Left alone
    silently: final stages built FROM another stage, Windows images, already small variants,
    images from other registries.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from msdfix.document import Document
from msdfix.ecosystems.python import WHEEL_TOOLS, wheel_evidence
from msdfix.fixes import Applicability, Edit, Fix
from msdfix.knowledge.images import (
    DISTROLESS_FROM,
    DISTROLESS_NONROOT,
    DISTROLESS_STATIC,
    DISTROLESS_USERS,
    HUB_REGISTRIES,
    MIRROR_PREFIXES,
    NODE_NATIVE,
    PY_NEEDS_FULL,
    RUBY_NATIVE,
    TOOL_PACKAGES,
    Family,
    Target,
    alpine_target,
    family_of,
    is_small,
    jre_target,
    slim_target,
)
from msdfix.model import Stage
from msdfix.model.image import ImageRef
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command, parse_commands
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.base import Transform, register

COPY_ONLY = {
    "copy", "add", "env", "expose", "label", "user", "workdir", "entrypoint", "cmd", "arg",
    "volume", "stopsignal", "healthcheck", "maintainer",
}  # fmt: skip
INSTALLERS = {"npm": "node", "yarn": "node", "pnpm": "node", "pip": "python", "pip3": "python",
              "uv": "python", "poetry": "python", "pipenv": "python", "bundle": "ruby",
              "bundler": "ruby", "gem": "ruby"}  # fmt: skip
INSTALL_SUBCOMMANDS = {"install", "ci", "i", "add", "sync", "update", ""}
_PIP_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-t", "--target", "-i", "--index-url",
    "--extra-index-url", "--prefix", "--root", "-f", "--find-links", "--only-binary",
    "--no-binary", "--cache-dir", "--src", "-e", "--editable",
}  # fmt: skip
OS_PACKAGERS = {"apt-get", "apt", "aptitude", "dpkg", "microdnf", "yum", "dnf", "apk"}
SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
BASE_SCRIPTS = {"docker-entrypoint.sh"}  # shipped by the official images in every variant
WEB_DIRS = ("/usr/share/nginx/", "/usr/share/nginx/html", "/var/www", "/etc/nginx")
MAN_PAGE_PACKAGES = re.compile(
    r"^(openjdk-\d+-(jre|jdk)(-headless)?|default-(jre|jdk)(-headless)?|ca-certificates-java"
    r"|postgresql-client(-\d+|-common)?)$"
)
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass
class _Use:
    """One command the stage runs (at build or run time)."""

    ins: Instruction
    program: str
    args: list[str]


@dataclass
class _Facts:
    """What the final stage does that matters for a smaller base."""

    uses: list[_Use] = field(default_factory=list)
    shell: list[Instruction] = field(default_factory=list)
    apt: dict[int, set[str]] = field(default_factory=dict)  # start_line -> packages installed


@dataclass
class _Candidate:
    target: Target
    unsafe: list[str] = field(default_factory=list)
    blocked: str | None = None
    head: list[str] = field(default_factory=list)  # instructions to add right after FROM


def _commands_of(text: str) -> list[Command]:
    try:
        return parse_commands(text)
    except Exception:  # a script tree-sitter cannot read: treat as no commands
        return []


def _expand_sh(program: str, args: list[str]) -> list[tuple[str, list[str]]]:
    """``sh -c 'script'`` gives the script's commands too."""
    found = [(program, args)]
    if program in ("sh", "bash", "ash", "dash") and "-c" in args:
        index = args.index("-c")
        if index + 1 < len(args):
            found += [program_args(c) for c in _commands_of(args[index + 1])]
    return found


def _facts(doc: Document, stage: Stage) -> _Facts:
    facts = _Facts()
    for ins in stage.instructions:
        pairs: list[tuple[str, list[str]]] = []
        if ins.cmd == "run":
            facts.shell.append(ins)
            script = run_script(ins, doc.text)
            if script is not None:
                pairs = [program_args(c) for c in script.commands]
        elif ins.cmd in ("cmd", "entrypoint"):
            argv = ins.json_args()
            if argv is None:
                facts.shell.append(ins)
                pairs = [program_args(c) for c in _commands_of(ins.args)]
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
                    pairs = [program_args(c) for c in _commands_of(values[1])]
        elif ins.cmd in ("shell", "onbuild"):
            facts.shell.append(ins)
        for program, args in pairs:
            for prog, rest in _expand_sh(program, args):
                if prog:
                    facts.uses.append(_Use(ins, prog, rest))
                if prog in ("apt-get", "apt", "aptitude") and "install" in rest:
                    names = {
                        a.split("=")[0] for a in rest if not a.startswith("-") and a != "install"
                    }
                    facts.apt.setdefault(ins.start_line, set()).update(names)
    return facts


def _installed_before(facts: _Facts, tool: str, line: int) -> bool:
    wanted = TOOL_PACKAGES.get(tool, frozenset({tool}))
    return any(at <= line and names & wanted for at, names in facts.apt.items())


def _missing_tool(facts: _Facts, tools: frozenset[str]) -> _Use | None:
    """The first use of a tool the smaller variant lacks and the stage does not install."""
    for use in facts.uses:
        name = use.program.rsplit("/", 1)[-1]
        if name in tools and not _installed_before(facts, name, use.ins.start_line):
            return use
    return None


# --- dependencies -------------------------------------------------------------------------


def _node_deps(doc: Document) -> tuple[str, list[str]]:
    """('none' | 'native' | 'git' | 'unknown', package names) from package-lock / package.json."""
    ctx = doc.context
    lock = ctx.read_json("package-lock.json")
    if isinstance(lock, dict) and isinstance(lock.get("packages"), dict):
        native: list[str] = []
        git: list[str] = []
        for key, meta in lock["packages"].items():
            if not key or not isinstance(meta, dict):
                continue
            name = key.rsplit("node_modules/", 1)[-1]
            if meta.get("hasInstallScript") or name in NODE_NATIVE:
                native.append(name)
            resolved = meta.get("resolved")
            if isinstance(resolved, str) and resolved.startswith(("git+", "git:", "github:")):
                git.append(name)
        if git:
            return "git", git
        return ("native", sorted(set(native))) if native else ("none", [])
    package = ctx.read_json("package.json")
    if not isinstance(package, dict):
        return "unknown", []
    deps: dict[str, object] = {}
    for key in ("dependencies", "optionalDependencies"):
        if isinstance(package.get(key), dict):
            deps.update(package[key])
    git = [
        n
        for n, v in deps.items()
        if isinstance(v, str) and v.startswith(("git", "github:", "gitlab:", "bitbucket:"))
    ]
    if git:
        return "git", git
    native = sorted(n for n in deps if n in NODE_NATIVE)
    return ("native", native) if native else ("unknown", [])


def _requirements(doc: Document, path: str, depth: int = 0) -> tuple[str, list[str]] | None:
    ctx = doc.context
    rel = path[2:] if path.startswith("./") else path
    text = ctx.read_text(rel) if not rel.startswith("/") else None
    if text is None:
        text = ctx.read_text(posixpath.basename(rel))
    if text is None:
        return None
    native: list[str] = []
    git: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ", "-c ", "--constraint ")) and depth < 3:
            nested = _requirements(
                doc,
                posixpath.join(posixpath.dirname(rel), line.split(None, 1)[1].strip()),
                depth + 1,
            )
            if nested is None:
                return None
            (git if nested[0] == "git" else native).extend(nested[1])
            continue
        if "git+" in line:
            git.append(line)
            continue
        if line.startswith(("-e", ".", "/", "file:")):
            return None
        if line.startswith("-"):
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", line)
        if match and match.group(0).lower().replace("_", "-") in PY_NEEDS_FULL:
            native.append(match.group(0))
    return ("git", git) if git else (("native", native) if native else ("none", []))


def _only_binary(use: _Use, scope: dict[str, str | None]) -> bool:
    """pip refuses to build anything: ``--only-binary :all:`` or PIP_ONLY_BINARY=:all:."""
    args = use.args
    for i, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--only-binary=") else None
        if arg == "--only-binary" and i + 1 < len(args):
            value = args[i + 1]
        if value is not None and ":all:" in value.split(","):
            return True
    return ":all:" in (scope.get("PIP_ONLY_BINARY") or "").split(",")


def _python_deps(
    doc: Document, calls: list[_Use], version: tuple[int, int] | None, scope: dict[str, str | None]
) -> tuple[str, list[str]]:
    """'none' when the context proves every package installs from a wheel; 'native'/'git'
    when a known package needs the full image; 'unproven' (names that may be built from
    source, or none when no lock file tells) otherwise; 'unknown' when msdfix cannot see."""
    status, names = "none", list[str]()
    for use in calls:
        program = use.program
        sub = next((a for a in use.args if not a.startswith("-")), "")
        if program in ("poetry", "uv") and sub in ("install", "sync"):
            if version is None:
                return "unknown", []
            evidence = wheel_evidence(doc.context, program, version)
            if not evidence.known:
                return "unknown", []
            if evidence.builds:
                status, names = "unproven", [*names, *evidence.builds]
            continue
        if program not in ("pip", "pip3", "uv") and not program.startswith("pip3."):
            return "unknown", []
        found = _pip_requirements(doc, use)
        if found[0] in ("unknown", "native", "git"):
            return found
        if not (_only_binary(use, scope) or _tools_only(use)) and status == "none":
            status = "unproven"
    return status, names


def _tools_only(use: _Use) -> bool:
    """A pip command that installs nothing but packaging tools (they ship wheels)."""
    names = [a for a in use.args if not a.startswith("-") and a not in ("install", "pip")]
    if any(a.startswith(("-r", "--requirement", "-e", "--editable", "-c")) for a in use.args):
        return False
    return bool(names) and all(
        canonicalize_name(re.split(r"[<>=!~\[;]", n, maxsplit=1)[0]) in WHEEL_TOOLS for n in names
    )


def _pip_requirements(doc: Document, use: _Use) -> tuple[str, list[str]]:
    """Known blockers among the packages a pip command names ('none' when none is known)."""
    status, names = "none", list[str]()
    args = use.args
    files: list[str] = []
    direct: list[str] = []
    for i, arg in enumerate(args):
        if arg in ("-r", "--requirement") and i + 1 < len(args):
            files.append(args[i + 1])
        elif arg.startswith("-r") and len(arg) > 2:
            files.append(arg[2:])
        elif arg.startswith("--requirement="):
            files.append(arg.split("=", 1)[1])
        elif (
            not arg.startswith("-")
            and arg not in ("install", "pip")
            and (i == 0 or args[i - 1] not in _PIP_VALUE_OPTIONS)
        ):
            direct.append(arg)
    for arg in direct:
        if arg.startswith(("git+", ".", "/")) or "://" in arg:
            return "unknown", []
        if re.split(r"[<>=!~\[;]", arg.lower(), maxsplit=1)[0].replace("_", "-") in PY_NEEDS_FULL:
            status, names = "native", [*names, arg]
    for path in files:
        found = _requirements(doc, path)
        if found is None:
            return "unknown", []
        if found[0] != "none":
            status, names = found[0], [*names, *found[1]]
    return status, names


def _ruby_deps(doc: Document, calls: list[_Use]) -> tuple[str, list[str]]:
    """'native' for gems known to compile; 'unproven' for other gems (a gem's C extension
    cannot be told from its name); 'none' when nothing is installed."""
    names: set[str] = set()
    for use in calls:
        if use.program == "gem":
            names |= {a for a in use.args if not a.startswith("-") and a != "install"}
            continue
        lock = doc.context.read_text("Gemfile.lock")
        if lock is None:
            return "unknown", []
        names |= set(re.findall(r"^    ([A-Za-z0-9_.\-]+) \(", lock, re.MULTILINE))
    native = sorted(names & RUBY_NATIVE)
    if native:
        return "native", native
    return ("unproven", []) if names else ("none", [])


def _installs(facts: _Facts) -> dict[str, list[_Use]]:
    found: dict[str, list[_Use]] = {}
    for use in facts.uses:
        ecosystem = INSTALLERS.get(use.program) or (
            "python" if use.program.startswith("pip3.") else None
        )
        if ecosystem is None or use.ins.cmd != "run":
            continue
        sub = next((a for a in use.args if not a.startswith("-")), "")
        if use.program == "uv" and sub != "pip":
            sub = "install" if sub in ("sync", "add") else "skip"
        if sub in INSTALL_SUBCOMMANDS or (use.program == "uv" and sub == "pip"):
            found.setdefault(ecosystem, []).append(use)
    return found


def _deps(doc: Document, ecosystem: str, calls: list[_Use], stage: Stage) -> tuple[str, list[str]]:
    if not doc.context.present:
        return "unknown", []
    if ecosystem == "node":
        return _node_deps(doc)
    if ecosystem == "python":
        version = _python_version(stage.root_image.tag)
        scope = doc.model.stage_scope(stage, calls[0].ins) if calls else {}
        return _python_deps(doc, calls, version, scope)
    return _ruby_deps(doc, calls)


def _python_version(tag: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", tag or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


# --- the transform --------------------------------------------------------------------------


def _image_word(ins: Instruction) -> tuple[str, int, int] | None:
    """The image reference as written in FROM, with its physical span (None when split)."""
    start = ins.args_start
    match = re.match(r"\S+", ins.logical[start:])
    if match is None:
        return None
    word = match.group(0)
    if not ins.is_contiguous(start, start + len(word)):
        return None
    return word, ins.physical(start), ins.physical(start + len(word) - 1) + 1


def _retag(word: str, target: Target) -> str:
    rest = word.partition("@")[0]
    colon = rest.rfind(":")
    repo = rest[:colon] if colon > rest.rfind("/") else rest
    if target.repository == DISTROLESS_STATIC:
        return f"{DISTROLESS_STATIC}:{target.tag}"
    if target.repository:
        repo = repo[: repo.rfind("/") + 1] + target.repository
    return f"{repo}:{target.tag}"


def _lookup_name(image: ImageRef) -> str:
    return image.name if image.registry in HUB_REGISTRIES else image.full_name


def _family(image: ImageRef) -> Family | None:
    return family_of(_lookup_name(image))


def _root(stage: Stage) -> Stage:
    while stage.parent is not None:
        stage = stage.parent
    return stage


class _Planner:
    """Candidates for the final stage, best first."""

    def __init__(self, doc: Document, stage: Stage, family: Family, tag: str) -> None:
        self.doc = doc
        self.stage = stage
        self.family = family
        self.tag = tag
        self.facts = _facts(doc, stage)
        self.installs = _installs(self.facts)

    def _from_base(self, name: str) -> bool:
        """A script the base image ships, unless the stage copies its own."""
        copies = " ".join(i.args for i in self.stage.of("copy", "add"))
        return name in BASE_SCRIPTS and name not in copies

    def _entry(self) -> str | None:
        """The program the container starts ('' when the stage sets no CMD/ENTRYPOINT)."""
        entry = self.stage.of("entrypoint") or self.stage.of("cmd")
        if not entry:
            return ""
        uses = [u for u in self.facts.uses if u.ins is entry[-1]]
        if not uses:
            return None
        if uses[0].program in SHELLS:
            if "-c" not in uses[0].args or len(uses) < 2:
                return "sh"
            uses = uses[1:]
        return uses[0].program.rsplit("/", 1)[-1]

    def _toolbox(self, unsafe: list[str]) -> None:
        """A final stage that starts a shell (or the base's CMD) is a tool environment."""
        if self.family.full_only_tools and self._entry() in ("", "sh"):
            what = "sets no CMD/ENTRYPOINT" if self._entry() == "" else "starts a shell"
            unsafe.append(f"the image {what}: its users may rely on tools of the full image")

    def _scripts(self, unsafe: list[str]) -> str | None:
        """Scripts the stage runs: read them from the context, or note they are unknown."""
        unread: list[str] = []
        for use in self.facts.uses:
            paths = [use.program] + (
                [use.args[0]]
                if use.program in ("sh", "bash") and use.args and use.args[0] != "-c"
                else []
            )
            for path in paths:
                if not path.endswith(".sh"):
                    continue
                name = posixpath.basename(path)
                rel = next(
                    (f for f in self.doc.context.files if posixpath.basename(f) == name), None
                )
                text = self.doc.context.read_text(rel) if rel else None
                if text is None:
                    if name not in unread and not self._from_base(name):
                        unread.append(name)
                    continue
                for command in _commands_of(text):
                    program, _ = program_args(command)
                    if program in self.family.full_only_tools and not _installed_before(
                        self.facts, program, use.ins.start_line
                    ):
                        return f"{name} (run at line {use.ins.start_line}) uses {program}"
        if unread:
            unsafe.append(f"it runs {', '.join(unread)}, which msdfix cannot read")
        return None

    def _copied_builds(self, unsafe: list[str], glibc_only: bool = False) -> str | None:
        """Artefacts copied from stages that installed dependencies on a full image."""
        for ins in self.stage.of("copy", "add"):
            source = ins.flag("from")
            other = self.doc.model.stage(source.value) if source and source.value else None
            if other is None:
                continue
            root = _root(other)
            if glibc_only:
                if "alpine" not in (root.image.tag or "") and root.image.name not in (
                    "alpine",
                    "scratch",
                ):
                    return f"line {ins.start_line} copies files built on {root.image.raw} (glibc)"
                continue
            if is_small(root.image.tag or "") or _family(root.image) is None:
                continue
            installs = _installs(_facts(self.doc, other))
            for ecosystem, calls in installs.items():
                status, names = _deps(self.doc, ecosystem, calls, other)
                if status != "none":
                    what = ", ".join(names[:3]) if names else "dependencies msdfix cannot see"
                    built = f"{ecosystem} packages built on {root.image.raw}"
                    unsafe.append(f"line {ins.start_line} copies {built} ({what})")
        return None

    def _man_pages(self) -> str | None:
        """A package whose install fails on -slim: it needs /usr/share/man/man1 (Debian's
        slim images drop man pages; the JRE and PostgreSQL client set up man alternatives)."""
        made = any("/usr/share/man" in i.logical for i in self.stage.of("run"))
        for line, packages in sorted(self.facts.apt.items()):
            for package in sorted(packages):
                if MAN_PAGE_PACKAGES.match(package) and not made:
                    return f"line {line} installs {package}, which needs /usr/share/man/man1"
        return None

    def slim(self, target: Target) -> _Candidate:
        cand = _Candidate(target)
        man = self._man_pages() if target.kind == "slim" else None
        if man is not None:
            cand.blocked = f"{man} (-slim images have no man pages)"
            return cand
        use = _missing_tool(self.facts, self.family.full_only_tools)
        if use is not None:
            new = f"{self.family.name}:{target.tag}"
            cand.blocked = f"{_where(use.ins)} uses {use.program}, which {new} does not have"
            return cand
        cand.blocked = self._scripts(cand.unsafe)
        if cand.blocked:
            return cand
        self._toolbox(cand.unsafe)
        if target.kind == "jre" and self._entry() != "java":
            cand.unsafe.append("the image does not start java directly: it may use JDK tools")
        for ecosystem, calls in self.installs.items():
            status, names = _deps(self.doc, ecosystem, calls, self.stage)
            line = calls[0].ins.start_line
            if status == "git":
                cand.blocked = (
                    f"line {line} installs from git ({_names(names)}), and -slim has no git"
                )
            elif status == "native" and ecosystem in ("python", "ruby"):
                cand.blocked = (
                    f"line {line} installs {_names(names)}, which need compilers or "
                    "libraries only the full image has"
                )
            elif status == "native":
                cand.unsafe.append(
                    f"line {line} installs packages with install scripts or native code "
                    f"({_names(names)})"
                )
            elif status == "unproven":
                what = f" ({_names(names)} may be built from source)" if names else ""
                cand.unsafe.append(
                    f"nothing shows that line {line}'s {ecosystem} packages install without a "
                    f"compiler or system libraries{what}"
                )
            elif status == "unknown":
                cand.unsafe.append(
                    f"line {line} installs {ecosystem} dependencies msdfix cannot see"
                )
            if cand.blocked:
                return cand
        self._copied_builds(cand.unsafe)
        return cand

    def jre(self, target: Target) -> _Candidate:
        cand = _Candidate(target)
        jdk = _missing_tool(self.facts, self.family.full_only_tools)
        if jdk is not None:
            cand.blocked = f"{_where(jdk.ins)} runs {jdk.program}, which a JRE does not have"
            return cand
        cand.blocked = self._scripts(cand.unsafe)
        if self._entry() != "java":
            cand.unsafe.append("the image does not start java directly: it may use JDK tools")
        if target.repository:
            packager = next((u for u in self.facts.uses if u.program in OS_PACKAGERS), None)
            if packager is not None:
                cand.blocked = (
                    f"{_where(packager.ins)} runs {packager.program} (eclipse-temurin is Ubuntu)"
                )
            cand.unsafe.append("a different JDK vendor (eclipse-temurin) and JAVA_HOME")
        return cand

    def alpine(self, target: Target) -> _Candidate | None:
        cand = _Candidate(target)
        apt = next(
            (u for u in self.facts.uses if u.program in ("apt-get", "apt", "aptitude", "dpkg")),
            None,
        )
        if apt is not None:
            cand.blocked = f"{_where(apt.ins)} runs {apt.program}; alpine has apk, not apt"
            return cand
        if self.family.name == "nginx":
            run = self.stage.of("run")
            if run:
                cand.blocked = f"{_where(run[0])} would run under busybox, not GNU tools"
                return cand
            if self.stage.of("healthcheck"):
                cand.unsafe.append("the HEALTHCHECK runs on busybox and musl")
            for ins in self.stage.of("copy", "add"):
                dest = (instruction_values(ins)[1] or [""])[-1]
                if ins.flag("from") and not dest.startswith(WEB_DIRS):
                    cand.unsafe.append(f"{_where(ins)} copies files from a glibc stage")
            for ins in self.stage.of("copy", "add"):
                values = instruction_values(ins)[1]
                if values and (
                    "/etc/nginx" in values[-1]
                    or any(v.endswith((".conf", ".template")) for v in values)
                ):
                    cand.unsafe.append(
                        "custom nginx config (musl resolves upstream host names differently)"
                    )
                    break
            return cand
        # node: only with a lockfile that shows pure-JS dependencies
        bash = next((u for u in self.facts.uses if u.program == "bash"), None)
        if bash is not None:
            cand.blocked = f"{_where(bash.ins)} runs bash, which alpine does not have"
            return cand
        status, names = _node_deps(self.doc) if self.doc.context.present else ("unknown", [])
        if status == "native":
            cand.blocked = (
                f"native modules or install scripts ({_names(names)}) target glibc, alpine is musl"
            )
            return cand
        if status != "none":
            return None
        glibc = self._copied_builds([], glibc_only=True)
        if glibc:
            cand.blocked = glibc + "; alpine is musl"
            return cand
        slim = self.slim(Target(target.tag, "alpine"))
        if slim.blocked or slim.unsafe:
            return None
        cand.unsafe.append("musl libc and busybox instead of glibc and GNU tools")
        return cand


def _keyword(like: str, word: str) -> str:
    """``word`` in the letter case of the keyword ``like``."""
    return word.lower() if like.islower() else word


def _where(ins: Instruction) -> str:
    return f"{ins.keyword.upper()} at line {ins.start_line}"


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _go_entry(doc: Document, stage: Stage) -> tuple[Stage, Instruction] | None:
    """(source stage, go build RUN) when the entry program is a Go binary COPY'd in."""
    entry = stage.of("entrypoint") or stage.of("cmd")
    argv = entry[-1].json_args() if entry else None
    if entry and argv is None:
        commands = _commands_of(entry[-1].args)
        argv = commands[0].argv if commands else None
    if not argv:
        return None
    workdir = "/"
    program = argv[0]
    for ins in stage.instructions:
        if ins.cmd == "workdir":
            workdir = posixpath.join(workdir, instruction_values(ins)[1][0])
        if ins.cmd != "copy" or not ins.flag("from"):
            continue
        source = doc.model.stage(ins.flag("from").value or "")  # type: ignore[union-attr]
        values = instruction_values(ins)[1]
        if source is None or len(values) < 2:
            continue
        dest = posixpath.join(workdir, values[-1])
        targets = [posixpath.join(dest, posixpath.basename(s.rstrip("/"))) for s in values[:-1]]
        if len(values) == 2 and not values[-1].endswith("/"):
            targets.append(dest)
        wanted = posixpath.normpath(posixpath.join(workdir, program)) if "/" in program else None
        for path in targets:
            path = posixpath.normpath(path)
            hit = (
                path == wanted
                if wanted
                else (posixpath.basename(path) == program and posixpath.dirname(path) in PATH_DIRS)
            )
            if hit:
                build = _go_build(doc, source)
                return (source, build) if build is not None else None
    return None


def _go_build(doc: Document, stage: Stage) -> Instruction | None:
    current: Stage | None = stage
    while current is not None:
        for ins in current.of("run"):
            script = run_script(ins, doc.text)
            if script and any(
                program_args(c)[0] == "go" and program_args(c)[1][:1] == ["build"]
                for c in script.commands
            ):
                return ins
        current = current.parent
    return None


def _static(doc: Document, stage: Stage, run: Instruction) -> bool:
    scope = doc.model.stage_scope(stage, run)
    if scope.get("CGO_ENABLED") == "0":
        return True
    script = run_script(run, doc.text)
    for command in script.commands if script else []:
        if command.assignments.get("CGO_ENABLED") == "0" or "CGO_ENABLED=0" in command.argv[:2]:
            return True
    return False


def _uses_exec(doc: Document) -> bool | None:
    """True when a Go source imports os/exec; None when there are no Go sources to read."""
    files = [f for f in doc.context.files if f.endswith(".go")]
    if not files:
        return None
    for rel in files:
        text = doc.context.read_text(rel) or ""
        if '"os/exec"' in text or "syscall.Exec" in text:
            return True
    return False


def _distroless(doc: Document, stage: Stage, planner: _Planner) -> _Candidate | None:
    found = _go_entry(doc, stage)
    if found is None:
        return None
    source, run = found
    # Tagged, so hadolint has nothing to say (untagged is DL3006, latest DL3007), and as
    # split-stages does: a program that runs as nonroot/65532 gets :nonroot (whose WORKDIR is
    # /home/nonroot: WORKDIR / keeps the original's), any other :debug (root, plus busybox) with
    # ENTRYPOINT [] so its /busybox/sh entrypoint does not wrap the command.
    users = [i.args.strip() for i in stage.of("user")]
    like = stage.from_.keyword
    if users and users[-1] in DISTROLESS_NONROOT:
        cand = _Candidate(Target("nonroot", "distroless", DISTROLESS_STATIC))
        if not any(w.args.strip().startswith("/") for w in stage.of("workdir")):
            cand.head.append(_keyword(like, "WORKDIR") + " /")
    else:
        cand = _Candidate(Target("debug", "distroless", DISTROLESS_STATIC))
        if not stage.of("entrypoint"):
            cand.head.append(_keyword(like, "ENTRYPOINT") + " []")
    for ins in stage.instructions:
        if ins.cmd not in COPY_ONLY or any(s is ins for s in planner.facts.shell):
            cand.blocked = f"{_where(ins)} needs a shell, which distroless does not have"
            return cand
        if ins.cmd == "healthcheck" and any(u.ins is ins for u in planner.facts.uses):
            cand.blocked = (
                f"the HEALTHCHECK at line {ins.start_line} runs a program distroless may not have"
            )
            return cand
        users = (
            [ins.args.strip()]
            if ins.cmd == "user"
            else [f.value or "" for f in ins.flags_named("chown")]
        )
        for user in users:
            name = user.split(":")[0]
            if name and not name.isdigit() and name not in DISTROLESS_USERS:
                cand.blocked = f"user {name} (line {ins.start_line}) does not exist in distroless"
                return cand
    if not _static(doc, source, run):
        cand.unsafe.append(
            f"the Go binary may link glibc: set CGO_ENABLED=0 in stage {source.name}"
        )
    else:
        uses_exec = _uses_exec(doc)
        if uses_exec is None:
            cand.unsafe.append(
                "msdfix cannot see the Go sources: the program may run commands the old base had"
            )
        elif uses_exec:
            cand.unsafe.append(
                "the Go sources import os/exec: the program may run commands distroless lacks"
            )
    return cand


@register
class SlimBase(Transform):
    id = "slim-base"
    title = "Run the final stage on a smaller variant of its base image"
    order = 40

    def check(self, doc: Document) -> Iterable[Fix]:
        if doc.is_windows:
            return
        stage = doc.model.final
        if stage is None or stage.parent is not None:
            return
        yield from self._check(doc, stage)

    def _explain(self, doc: Document, ins: Instruction, message: str) -> Fix:
        return doc.fix(self.id, ins, f"left base unchanged: {message}", [])

    def _check(self, doc: Document, stage: Stage) -> Iterator[Fix]:
        ins = stage.from_
        image = stage.image
        values = instruction_values(ins)[1]
        word = values[0] if values else ""
        name = _lookup_name(image)
        if image.registry not in HUB_REGISTRIES and not any(
            (name + "/").startswith(p) for p in MIRROR_PREFIXES
        ):
            if not name.startswith("gcr.io/distroless/"):
                return
        family = family_of(name)
        if family is None:
            return
        if "$" in word:
            if family.role != "minimal":
                yield self._explain(
                    doc,
                    ins,
                    f"the base `{word}` comes from a variable; change the ARG default instead",
                )
            return
        spot = _image_word(ins)
        if spot is None or spot[0] != word:
            return
        if image.tag is None:
            if family.role != "minimal":
                why = "has no tag (implicitly latest): pin a version; msdfix never writes latest"
                yield self._explain(doc, ins, f"`{word}` {why}")
            return
        planner = _Planner(doc, stage, family, image.tag)
        candidates = self._candidates(doc, stage, planner)
        if image.digest:
            offer = next((c for c in candidates if not c.blocked), None)
            if offer is not None:
                new = _retag(word, offer.target)
                message = (
                    f"`{word}` could be `{new}`; the digest is pinned and msdfix cannot know "
                    f"the new one: pin the digest of `{new}` yourself"
                )
                edits = [Edit(spot[1], spot[2], new)]
                yield doc.fix(self.id, ins, message, edits, Applicability.DISPLAY_ONLY)
            return
        if family.role == "build" and not any(
            c.target.kind == "distroless" and not c.blocked for c in candidates
        ):
            yield self._explain(doc, ins, f"{image.name} is {family.note}")
        for cand in candidates:
            if cand.blocked:
                # An already-small base that cannot go further to musl needs no explanation.
                if not (cand.target.kind == "alpine" and is_small(image.tag)):
                    yield self._explain(
                        doc, ins, f"not `{_retag(word, cand.target)}`: {cand.blocked}"
                    )
                continue
            new = _retag(word, cand.target)
            message = f"`{word}` -> `{new}`"
            applicability = Applicability.SAFE
            if cand.unsafe:
                message += f" (unsafe: {'; '.join(dict.fromkeys(cand.unsafe))})"
                applicability = Applicability.UNSAFE
            edits = [Edit(spot[1], spot[2], new)]
            if cand.head:
                nl = doc.newline
                text = "".join(line + nl for line in cand.head)
                end = ins.end
                edits.append(Edit(end, end, text if doc.text[end - 1 : end] == "\n" else nl + text))
            yield doc.fix(self.id, ins, message, edits, applicability)

    def _candidates(self, doc: Document, stage: Stage, planner: _Planner) -> list[_Candidate]:
        family, tag = planner.family, planner.tag
        found: list[_Candidate] = []
        if family.name in DISTROLESS_FROM:
            distroless = _distroless(doc, stage, planner)
            if distroless is not None:
                found.append(distroless)
        if "windows" in tag or "nanoserver" in tag:
            return []
        alpine = alpine_target(family.name, tag) if family.alpine != "never" else None
        if alpine is not None:
            cand = planner.alpine(alpine)
            if cand is not None:
                found.append(cand)
        if is_small(tag):
            return found
        jre = jre_target(family.name, tag)
        slim = slim_target(family.name, tag)
        if jre is not None:
            found.append(planner.jre(jre))
        elif slim is not None:
            found.append(planner.slim(slim))
        return found
