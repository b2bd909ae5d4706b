"""Which exclusions a build context can take: candidates, what the build copies, and why.

A candidate is checked against the context as it is: the paths it would newly exclude (the
existing rules decide what is excluded now, Docker's matcher both before and after), every
``COPY``/``ADD``/``RUN --mount`` source of every stage, and the existing ``!`` re-includes.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from msdfix.document import Document
from msdfix.ecosystems.node.installs import INSTALL_COMMANDS as NODE_INSTALLS
from msdfix.ecosystems.node.scripts import SCRIPT_RUNNERS as NODE_RUNNERS
from msdfix.ecosystems.python import INSTALL_COMMANDS as PYTHON_INSTALLS
from msdfix.files import is_dir, is_file
from msdfix.model.args import expand
from msdfix.model.base_images import library_name
from msdfix.model.compose import compose_dockerfiles
from msdfix.model.context import Unreadable
from msdfix.model.copies import Source, copy_destination, pattern_covers, stage_sources
from msdfix.model.copies import where as quoted
from msdfix.model.dockerignore import DEFAULT_NAME, DockerIgnore, Pattern
from msdfix.model.pending import all_paths, excluded_by
from msdfix.model.program_calls import VCS_VERSIONING
from msdfix.model.stages import Stage
from msdfix.shell.commands import Command
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction, ParseError, parse
from msdfix.syntax.values import instruction_values

# Not one literal ignore line: wildcards, escapes, and what would make a line of its own or a
# comment, an exception or trimmed text of it (a Dockerfile named "Dockerfile.x\n!.env").
_GLOB = re.compile(r"[*?\[\\\n\r]|^[!#]|^\s|\s$")
_GIT_WORD = re.compile(r"(?:^|[\s;&|(`'\"])git\s")
_DOCKERFILE_NAME = re.compile(
    r"(?:docker|container)file(?:[._-].+)?|.+[._-](?:docker|container)file", re.I
)
MAX_SIBLINGS = 16  # other Dockerfiles reading the same ignore file that are checked
_VENDORED = frozenset({"node_modules", ".venv", "venv", "vendor", "site-packages"})
PYTHON_FILES = ("requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile")
NODE_FILES = ("package.json",)


@dataclass(frozen=True)
class Candidate:
    """One line to append, and what it is (``vcs``, ``deps``, ``output``, ``secret``, ``build``)."""

    line: str
    kind: str


@dataclass(frozen=True)
class Copy:
    """A context source of one of the Dockerfiles that share the ignore file."""

    doc: Document
    stage: Stage
    source: Source
    label: str = ""  # " in Dockerfile.dev" for another Dockerfile than the one rewritten
    dest: str | None = None  # where a COPY/ADD puts it (absolute, normalised), if known


def copies_of(doc: Document, label: str = "") -> list[Copy]:
    """Every context source of every stage of ``doc``: its COPY/ADD, context mounts and
    ONBUILD triggers, the targets of symlinked sources, and anything for a stage whose base
    image may have ONBUILD triggers of its own (``ONBUILD COPY . /app``)."""
    model = doc.model
    found = []
    for st in model.stages:
        for ins, source in stage_sources(st, model):
            if source.pattern is not None and _chosen_by_argument(doc, st, ins):
                source = Source(None, source.instruction, unknown=True)
            found.append(Copy(doc, st, source, label, _destination(doc, st, ins)))
            target = _through_link(doc, source)
            if target is not None:
                found.append(Copy(doc, st, target, label))
        if model.stage(st.image.raw) is None and not _without_triggers(st):
            what = f"the base image {st.image.raw} (its ONBUILD triggers may copy any file)"
            found.append(Copy(doc, st, Source(None, what, unknown=True), label))
    return found


def _destination(doc: Document, stage: Stage, ins: Instruction) -> str | None:
    """Where the COPY/ADD ``ins`` puts its files, or None (a RUN mount, a ``$`` left)."""
    if ins.cmd not in ("copy", "add"):
        return None
    dest = copy_destination(doc.model, stage, ins)
    return None if "$" in dest else posixpath.normpath(dest)


def _taken_by_path(copy: Copy, newly: list[str]) -> str | None:
    """Why a later ``COPY --from=<stage>`` needs one of ``newly`` where the whole-context COPY
    ``copy`` put it (``COPY --from=build /app/.env ./`` after ``COPY . .`` in /app): left out
    of the context, the file is missing and that COPY fails ("not found"); else None. The
    stage may be one built FROM the copying stage (``FROM build AS test``), and the COPY may
    name the file by a wildcard (``/app/.env*``: built, it then leaves the file out)."""
    if copy.dest is None:
        return None
    dest = copy.dest.rstrip("/") + "/"
    names = _stage_names(copy.doc.model.stages, copy.stage)
    for stage in copy.doc.model.stages:
        for ins in stage.instructions:
            origin = ins.flag("from") if ins.cmd in ("copy", "add") else None
            if origin is None or (origin.value or "").lower() not in names:
                continue
            for raw in instruction_values(ins)[1][:-1]:
                path = posixpath.normpath(posixpath.join("/", raw))
                named = path[len(dest) :] if path.startswith(dest) else ""
                for rel in newly:
                    if _names_file(named, rel) and copy.source.copies(rel):
                        fails = "fails" if named == rel else "leaves it out"
                        return (
                            f"{quoted(ins)} takes {dest}{rel}, which {copy.source.instruction} "
                            f"brings from the context: without it that COPY {fails}"
                        )
    return None


def _stage_names(stages: list[Stage], stage: Stage) -> set[str]:
    """The names ``COPY --from`` gives ``stage`` and every stage built FROM it (its files are
    theirs too): indexes and lower-cased aliases."""
    below = [s for s in stages if any(a is stage for a in s.ancestry)]
    return {str(s.index) for s in below} | {s.alias.lower() for s in below if s.alias}


def _names_file(named: str, rel: str) -> bool:
    """A COPY source path (relative to where the context was copied) names the file ``rel``
    itself or by a wildcard (``.env*``), not a folder above it."""
    return bool(named) and named.count("/") == rel.count("/") and pattern_covers(named, rel)


def _chosen_by_argument(doc: Document, stage: Stage, ins: Instruction) -> bool:
    """A source of the COPY/ADD that ``--build-arg`` may change (``COPY ${CONFIG_DIR}/``: the
    ARG's default is only the default)."""
    if ins.cmd not in ("copy", "add"):
        return False
    fixed = doc.model.fixed_scope(stage, ins)
    return any("$" in expand(v, fixed) for v in instruction_values(ins)[1][:-1])


def _without_triggers(stage: Stage) -> bool:
    """The stage's base image is known to have no ONBUILD triggers: an official image (not
    an ``onbuild`` tag), distroless, or scratch."""
    image = stage.image
    if image.name == "scratch" or image.raw.startswith("gcr.io/distroless/"):
        return True
    return library_name(image) is not None and "onbuild" not in (image.tag or "").lower()


def _through_link(doc: Document, source: Source) -> Source | None:
    """A source that is a symlink (or below one) in the context: BuildKit copies what it
    points to (``tls -> deploy/tls/dev``), so the target's files are read too."""
    root = doc.context.root
    if root is None or source.pattern is None or _has_glob(source.pattern):
        return None
    path = root / source.pattern
    try:
        real, base = path.resolve(), root.resolve()
    except (OSError, RuntimeError):
        return Source(None, source.instruction, unknown=True)
    if real == path.absolute() or not path.exists():
        return None
    if not real.is_relative_to(base):
        return None  # outside the context: BuildKit refuses it
    rel = real.relative_to(base).as_posix()
    return Source(rel if rel != "." else None, source.instruction, source.excludes)


def siblings(doc: Document, paths: list[str], ignore_rel: str | None) -> list[Document] | str:
    """The other Dockerfiles of the context that read the same ignore file (no ignore file of
    their own), parsed; or why one cannot be read."""
    ctx = doc.context
    assert ctx.root is not None
    if ignore_rel != DEFAULT_NAME:
        return []  # a <Dockerfile>.dockerignore is this Dockerfile's own
    own = own_path(doc)
    names = ctx.view.memo(("dockerfiles", len(paths)), lambda: _dockerfiles(paths))
    if len(names) > MAX_SIBLINGS + 1:
        return (
            f"{len(names)} Dockerfiles share the context's {DEFAULT_NAME}: "
            "too many to check what each copies"
        )
    found = []
    for rel in names:
        target = ctx.root / rel
        if not is_file(target) or (own is not None and _same(target, own)):
            continue
        if is_file(Path(str(target) + DEFAULT_NAME)):
            continue
        text = ctx.read_text(rel)
        if text is None:
            return f"{rel} uses the same context and cannot be read"
        try:
            found.append(Document(parse(text), ctx, str(target)))
        except ParseError:
            continue  # a template or notes: BuildKit cannot build it either
    return _with_compose_builds(doc, found)


def _with_compose_builds(doc: Document, found: list[Document]) -> list[Document] | str:
    """``found`` and the Dockerfiles compose services build the same context from that it
    lacks (``dockerfile_inline``, another name or folder), or why one is unknown."""
    ctx = doc.context
    assert ctx.root is not None
    built = compose_dockerfiles(ctx.root, own_path(doc))
    if isinstance(built, str):
        return built
    seen = {Path(d.path).resolve() for d in found if d.path}
    for where, text in built:
        if Path(where).is_absolute() and Path(where) in seen:
            continue
        try:
            found.append(Document(parse(text), ctx, where))
        except ParseError:
            continue  # BuildKit cannot build it either
    return found


def _dockerfiles(paths: list[str]) -> list[str]:
    """Paths named like Dockerfiles, outside vendored directories."""
    found = []
    for rel in paths:
        parts = rel.lower().split("/")
        name = parts[-1]
        if not _DOCKERFILE_NAME.fullmatch(name) or name.endswith(DEFAULT_NAME):
            continue
        if not _VENDORED.intersection(parts):
            found.append(rel)
    return found


def own_path(doc: Document) -> Path | None:
    """The rewritten Dockerfile's path (None from stdin)."""
    if doc.context.dockerfile is not None:
        return doc.context.dockerfile
    return Path(doc.path) if doc.path and doc.path != "-" else None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@dataclass
class Verdict:
    """A candidate's fate: ``safe``, ``unsafe`` (with a ``check:`` reason) or ``skip`` (why)."""

    candidate: Candidate
    status: str
    reason: str = ""
    copied_by: str = ""  # the whole-context COPY that ships what an unsafe line excludes
    present: bool = False  # it excludes paths the context has now (not only future ones)
    unseen: bool = False  # kept only for paths a checkout may have that a COPY would copy

    @property
    def worth_it(self) -> bool:
        """True when the line keeps something real out (the Dockerfile alone is not worth a file)."""
        return self.present and self.candidate.kind != "build"


def commands(stage: Stage) -> Iterator[tuple[Instruction, Command]]:
    """The simple commands of the stage's RUNs."""
    for ins in stage.of("run"):
        script = run_script(ins)
        if script is not None:
            for command in script.commands:
                yield ins, command


def _argv(command: Command) -> list[str]:
    argv = [posixpath.basename(command.argv[0]), *command.argv[1:]] if command.argv else []
    if len(argv) > 2 and argv[0].startswith("python") and argv[1] == "-m":
        argv = argv[2:]
    return argv


def installs(command: Command, kind: str) -> bool:
    """True when the command installs Node (``kind`` "node") or Python ("python") packages."""
    argv = _argv(command)
    if not argv:
        return False
    name, rest = argv[0], argv[1:]
    sub = rest[0] if rest and not rest[0].startswith("-") else ""
    if kind == "node":
        return (name, sub) in NODE_INSTALLS
    if re.fullmatch(r"pip[\d.]*", name):
        return sub == "install"
    return (name, sub) in PYTHON_INSTALLS


def builds(command: Command) -> bool:
    """True when the command runs a project build that writes dist/, build/ or target/."""
    argv = _argv(command)
    if not argv:
        return False
    name, rest = argv[0], argv[1:]
    if name in NODE_RUNNERS:
        return "build" in rest[:2]
    if name in ("cargo", "mvn", "mvnw", "gradle", "gradlew"):
        return True
    return name in ("tsc", "vite", "ng", "next", "webpack", "rollup", "esbuild")


def _known(doc: Document, rel: str) -> str | None:
    """A context file's text, None without one (or for a directory); Unreadable when the
    build has it but msdfix cannot read it."""
    root = doc.context.root
    if root is not None and is_dir(root / rel):
        return None
    return doc.context.read_known(rel)


def git_reader(doc: Document, stages: list[Stage]) -> str | None:
    """Why a build step may read ``.git``, or None when no step msdfix sees does. A file it
    looks in that cannot be read may (a 1 MiB setup.py read as none let `.git` be ignored
    though setuptools-scm took the version from it)."""
    try:
        return _git_reader(doc, stages)
    except Unreadable as exc:
        return f"{exc}, so whether the build reads .git is unknown"


def _git_reader(doc: Document, stages: list[Stage]) -> str | None:
    text = doc.text
    for stage in stages:
        for ins, command in commands(stage):
            argv = _argv(command)
            if argv[:1] == ["git"]:
                return f"line {ins.start_line} runs git"
            if argv[:2] in (["go", "build"], ["go", "install"]) and "buildvcs=false" not in text:
                return f"go on line {ins.start_line} stamps VCS data from .git (-buildvcs)"
            for word in argv[1:]:
                script = _known(doc, word.removeprefix("./"))
                if script is not None and _GIT_WORD.search(script):
                    return f"{word} (run on line {ins.start_line}) runs git"
    for name in PYTHON_FILES:
        manifest = _known(doc, name)
        if manifest is not None and VCS_VERSIONING.search(manifest):
            return f"{name} takes the version from git"
    _known(doc, "package.json")
    package = doc.context.read_json("package.json")
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if isinstance(scripts, dict) and any(
        isinstance(v, str) and _GIT_WORD.search(" " + v) for v in scripts.values()
    ):
        return "a package.json script runs git"
    return None


def _stages_of(doc: Document, stage: Stage) -> list[Stage]:
    """The stage and those built FROM it."""
    return [stage, *doc.model.descendants(stage)]


def _whole_copy_verdict(
    doc: Document, candidate: Candidate, stage: Stage, source: Source, label: str
) -> Verdict:
    """A candidate whose paths a whole-context COPY (``COPY . .``) would ship."""
    what = source.instruction + label
    line = candidate.line
    kind = candidate.kind
    if kind == "vcs":
        why = git_reader(doc, doc.model.stages)
        if why:
            return Verdict(candidate, "skip", f"{line} kept: {why}{label}")
        return Verdict(candidate, "unsafe", "check: nothing in the image reads it", what)
    if kind == "deps":
        eco = "node" if line == "node_modules" else "python"
        runs = [
            ins
            for st in _stages_of(doc, stage)
            for ins, command in commands(st)
            if installs(command, eco)
        ]
        if not runs:
            return Verdict(
                candidate, "skip", f"{line} kept: {what} ships it and no RUN installs packages"
            )
        return Verdict(
            candidate,
            "unsafe",
            f"check: it comes only from the install on line {runs[0].start_line} now, "
            "not from the host",
            what,
        )
    if kind == "output" and line in ("dist", "build", "target"):
        runs = [ins for st in _stages_of(doc, stage) for ins, c in commands(st) if builds(c)]
        if not runs:
            return Verdict(candidate, "skip", f"{line} kept: {what} ships it and no RUN builds it")
        return Verdict(
            candidate,
            "unsafe",
            f"check: the build on line {runs[0].start_line} writes all of it",
            what,
        )
    reasons = {
        "output": "check: the app ships no bytecode without its sources",
        "secret": "check: the app does not read it from the image (pass secrets at run time)",
        "build": "check: nothing reads it from the image",
    }
    return Verdict(candidate, "unsafe", reasons[kind], what)


def _has_glob(text: str) -> bool:
    return bool(_GLOB.search(text))


def _probe(pattern: Pattern) -> str:
    """A path a ``!`` pattern re-includes (wildcards replaced by a letter)."""
    text = pattern.text.replace("**/", "").replace("**", "x")
    # A "[" after the last "]" closes no class: only [*?] is replaced there (from each such "["
    # the class scanned to the end and failed, quadratic)
    cut = text.rfind("]") + 1
    probe = re.sub(r"\[[^\]]*\]|[*?]", "x", text[:cut]) + re.sub(r"[*?]", "x", text[cut:])
    return probe.replace("\\", "")


def judge(
    doc: Document,
    candidate: Candidate,
    before: DockerIgnore,
    kept: list[str],
    sources: list[Copy],
) -> Verdict | None:
    """The candidate's verdict against the rules ``before`` (None: it excludes nothing new).

    ``kept`` are the context's paths ``before`` does not exclude. Appended last, the line
    excludes exactly what it matches on top of what ``before`` excludes.
    """
    alone = DockerIgnore([Pattern.compile(candidate.line, False)])

    def newly_excluded(path: str) -> bool:
        return alone.excludes(path) and not before.excludes(path)

    excluded = excluded_by(doc.context, candidate.line)  # ``kept`` is of all_paths
    newly = [p for p in kept if p in excluded]
    reincluded = DockerIgnore(
        [Pattern.compile(p.text, False) for p in before.patterns if p.exclusion]
    )
    probes = [_probe(p) for p in before.patterns if p.exclusion]
    if any(reincluded.excludes(p) for p in newly) or any(newly_excluded(p) for p in probes):
        return Verdict(candidate, "skip", f"{candidate.line} kept: a ! rule re-includes part of it")
    if not newly and before.excludes(_representative(candidate.line)):
        return None
    unsafe: Verdict | None = None
    for copy in sources:
        source = copy.source
        if source.pattern is None:
            if any(source.copies(p) for p in newly):
                taken = _taken_by_path(copy, newly)
                if taken:
                    return Verdict(candidate, "skip", f"{candidate.line} kept: {taken}")
                verdict = _whole_copy_verdict(copy.doc, candidate, copy.stage, source, copy.label)
                if verdict.status == "skip":
                    return verdict
                unsafe = unsafe or verdict
            continue
        needed = not _has_glob(source.pattern) and newly_excluded(source.pattern)
        if needed or any(source.copies(p) for p in newly):
            where = f"{source.instruction}{copy.label}"
            return Verdict(candidate, "skip", f"{candidate.line} kept: {where} copies it")
    for copy in sources:  # then what a checkout may have that this one lacks
        source = copy.source
        unseen = [p for p in _unseen(doc, candidate, source) if newly_excluded(p)]
        if not any(source.copies(p) for p in unseen):
            continue
        where = f"{source.instruction}{copy.label}"
        if source.pattern is not None:
            why = f"{where} would copy those of a checkout that has them (they are not committed)"
            return Verdict(candidate, "skip", f"{candidate.line} kept: {why}", unseen=True)
        if unsafe is None:
            verdict = _whole_copy_verdict(copy.doc, candidate, copy.stage, source, copy.label)
            if verdict.status == "skip":
                return verdict
            verdict.reason += " (none now: a checkout may have some)"
            unsafe = verdict
    verdict = unsafe or Verdict(candidate, "safe")
    verdict.present = bool(newly)
    return verdict


def _unseen(doc: Document, candidate: Candidate, source: Source) -> list[str]:
    """Paths of ``candidate`` that ``source`` would copy where a checkout has them: installed
    dependencies and ``.env``/key files are not committed, so a clean checkout's lack of them
    says nothing of the one a developer or CI job builds (a ``frontend/.env.production`` that
    ``vite build`` reads under ``COPY frontend/ .``)."""
    if candidate.kind not in ("deps", "secret"):
        return []
    name = _representative(candidate.line)
    if source.pattern is None:
        return [name]
    root = doc.context.root
    folder = source.pattern.rstrip("/")
    if not candidate.line.startswith("**/") or _has_glob(folder) or root is None:
        return []
    return [f"{folder}/{name}"] if is_dir(root / folder) else []


def _representative(line: str) -> str:
    """A path the line names (for lines that exclude nothing present yet)."""
    return re.sub(r"[*?]", "x", line.replace("**/", "")) or line


def candidates(doc: Document, ignore_rel: str | None, created: bool) -> list[Candidate]:
    """The conventional exclusions for this project, in the order they are appended."""
    ctx = doc.context
    assert ctx.root is not None
    root = ctx.root
    images = " ".join(s.root_image.full_name.lower() for s in doc.model.stages)
    node = any((root / n).is_file() for n in NODE_FILES) or (root / "node_modules").is_dir()
    node = node or bool(re.search(r"\b(?:node|bun)\b", images))
    python = any((root / n).is_file() for n in PYTHON_FILES) or "python" in images
    found = [Candidate(".git", "vcs")]
    if node:
        found.append(Candidate("node_modules", "deps"))
    if python or (root / ".venv").is_dir():
        found.append(Candidate(".venv", "deps"))
    if (root / "venv" / "pyvenv.cfg").is_file():
        found.append(Candidate("venv", "deps"))
    if python:
        found += [Candidate("**/__pycache__", "output"), Candidate("**/*.pyc", "output")]
    gitignored = _gitignored_dirs(doc)
    for name in ("dist", "build", "target"):
        if name in gitignored and is_dir(root / name):
            found.append(Candidate(name, "output"))
    found += [
        Candidate(line, "secret")
        for line in ("**/.env", "**/.env.*", "**/*.pem", "**/*.key", "**/id_rsa*")
    ]
    own = own_path(doc)
    rel = relative(own, root) if own is not None else None
    if rel is not None and not _has_glob(rel) and is_file(root / rel):
        found.append(Candidate(rel, "build"))
    if created and ignore_rel is not None and not _has_glob(ignore_rel):
        found.append(Candidate(ignore_rel, "build"))
    return found


def _gitignored_dirs(doc: Document) -> set[str]:
    """Top-level directory names the context's own .gitignore marks as generated."""
    text = doc.context.read_text(".gitignore") or ""
    return {line.strip().strip("/") for line in text.splitlines() if line.strip()}


def plan(doc: Document, path: Path, created: bool) -> list[Verdict] | str:
    """Each candidate's verdict for the ignore file ``path``, or why none can be given."""
    ctx = doc.context
    assert ctx.root is not None
    paths = all_paths(ctx)
    if paths is None:
        return "the context is too large"
    ignore_rel = relative(path, ctx.root)
    others = siblings(doc, paths, ignore_rel)
    if isinstance(others, str):
        return others
    copies = copies_of(doc)
    for other in others:
        copies += copies_of(other, f" in {display(Path(other.path or ''), ctx.root)}")
    unknown = next((c for c in copies if c.source.unknown), None)
    if unknown is not None:
        return f"{unknown.source.instruction}{unknown.label} copies a path msdfix cannot expand"
    rules = ctx.dockerignore
    kept = [p for p in paths if not ctx.is_ignored(p)]  # verdicts shared within the folder
    verdicts: list[Verdict] = []
    for candidate in candidates(doc, ignore_rel, created):
        verdict = judge(doc, candidate, rules, kept, copies)
        if verdict is not None and verdict.unseen and candidate.line.startswith("**/"):
            verdict = _at_root(doc, candidate, rules, kept, copies) or verdict
        if verdict is None:
            continue
        verdicts.append(verdict)
        if verdict.status == "safe":  # later lines are judged with it in place
            line = Pattern.compile(candidate.line, False)
            rules = DockerIgnore([*rules.patterns, line])
            added = excluded_by(ctx, candidate.line)
            kept = [p for p in kept if p not in added]
    return verdicts


def _at_root(
    doc: Document, candidate: Candidate, rules: DockerIgnore, kept: list[str], copies: list[Copy]
) -> Verdict | None:
    """The verdict of ``candidate`` for the context's root alone (``**/.env`` -> ``.env``),
    when a folder a COPY brings may hold such files in a checkout: only a safe one that
    keeps out a file the root has now, else None."""
    root_only = Candidate(candidate.line.removeprefix("**/"), candidate.kind)
    verdict = judge(doc, root_only, rules, kept, copies)
    return verdict if verdict is not None and verdict.worth_it else None


def relative(path: Path, root: Path) -> str | None:
    """``path`` relative to the context root, or None when it lies outside."""
    try:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
    except ValueError:
        return None
    return None if rel.startswith("../") else rel


def display(path: Path, root: Path) -> str:
    """How messages name a file of the context."""
    return relative(path, root) or str(path)
