"""slim-base: the -slim, JRE and alpine candidates for the final stage."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from msdfix.document import Document
from msdfix.ecosystems.accounts import account_change
from msdfix.ecosystems.images import (
    MIME_TYPED_SERVING,
    NETBASE,
    NGINX_ALPINE_GROUPS,
    NGINX_ALPINE_USERS,
    NODE_NEEDS_FULL,
    SLIM_LACKS_WHY,
    SYSTEM_FONTS,
    Family,
    Target,
    family_of,
    is_small,
    provides_lacking,
)
from msdfix.ecosystems.jdk import compiling_reason, source_file_launch
from msdfix.ecosystems.node.scripts import SCRIPT_RUNNERS
from msdfix.ecosystems.os import APT_PROGRAMS, CA_CERTIFICATES, needs_man_pages
from msdfix.ecosystems.programs import POSIX_SHELLS, SHELLS, bare_interpreter
from msdfix.ecosystems.slim_lacks import netbase_use, system_font_use
from msdfix.model import BuildContext, Stage
from msdfix.model.compose import UNKNOWN
from msdfix.model.context import Unreadable
from msdfix.model.copies import copy_destination, copy_sources
from msdfix.model.image import ImageRef
from msdfix.model.native_loads import SUFFIXES, native_need, provided_names
from msdfix.model.platforms import image_runs
from msdfix.model.program_calls import (
    CALLED,
    SOURCE_SUFFIXES,
    TOO_MANY,
    called_tool,
    env_tool,
    git_dependency,
    search,
    source_text,
)
from msdfix.model.users import is_root, owners
from msdfix.shell.classify import INLINE_CODE, program_args, runs_project_code
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import entry, opaque_program, run_scripts
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.slim_base.base_packages import base_package_use, unrefreshed_install
from msdfix.transforms.slim_base.build_programs import installed_program
from msdfix.transforms.slim_base.ca_store import ca_store_reason
from msdfix.transforms.slim_base.deps import dependency_status, install_calls, node_deps
from msdfix.transforms.slim_base.excluded import (
    EXCLUDED,
    excluded_reason,
    system_catalog_reason,
    translation_reason,
)
from msdfix.transforms.slim_base.facts import (
    Facts,
    Use,
    installed_before,
    missing_tool,
    stage_facts,
)
from msdfix.transforms.slim_base.hidden import copied_native, start_install
from msdfix.transforms.slim_base.prompts import prompting_install
from msdfix.transforms.slim_base.system_files import full_only_file


def _project_code(use: Use) -> bool:
    """A RUN that runs the project's own code with an interpreter (``python setup.py
    build_ext`` compiles, a build script may run anything)."""
    program = posixpath.basename(use.program)
    return use.ins.cmd == "run" and program in INLINE_CODE and runs_project_code(program, use.args)


OS_PACKAGERS = {*APT_PROGRAMS, "dpkg", "microdnf", "yum", "dnf", "apk"}
SOURCING = frozenset({".", "source"})
# Folders on the images' PATH: a file copied into one runs by its bare name.
BIN_DIRS = frozenset(
    {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}
)  # shell builtins that run a file's commands
BASE_SCRIPTS = {"docker-entrypoint.sh"}  # shipped by the official images in every variant
WEB_DIRS = ("/usr/share/nginx/", "/usr/share/nginx/html", "/var/www", "/etc/nginx")


# Families whose images start an interpreter's programs: pip, npm or gem may install them.
INTERPRETED = frozenset({"python", "node", "ruby"})
# Dependency verdicts about what the full image brings (compilers, -dev libraries, git): a
# family whose -slim has the same packages (debian: only docs, man pages and translations
# differ) builds such an install alike on both.
SAME_PACKAGES_STATUSES = frozenset({"native", "unproven", "open", "git"})


def _alpine_unknown_id(stage: Stage) -> str | None:
    """A user or group name a USER or ``--chown`` of ``stage`` names that nginx's alpine image
    lacks or numbers differently (Debian's www-data), as the reason; None when there is none."""
    for ins in stage.of("user", "copy", "add"):
        for name, group in owners(ins):
            if name and not name.isdigit() and name not in NGINX_ALPINE_USERS:
                return f"user {name} (line {ins.start_line}) is not an alpine user with the same id"
            if group and not group.isdigit() and group not in NGINX_ALPINE_GROUPS:
                return (
                    f"group {group} (line {ins.start_line}) is not an alpine group with the same id"
                )
    return None


def _alpine_home_change(stage: Stage, alpine: str) -> str | None:
    """How the account of the stage's last USER differs on the ``alpine`` image (nginx's
    Dockerfiles: nginx's HOME is /nonexistent on Debian, /var/cache/nginx on alpine; alpine's
    nobody has HOME /), as the reason; None when the same or root or numeric."""
    users = stage.of("user")
    name = next(iter(owners(users[-1])), ("", ""))[0] if users else ""
    if not name or name.isdigit() or is_root(name):
        return None
    change = account_change(stage.image.raw, alpine, name)
    return f"USER {name}: {change}" if change else None


# Python sources read for file serving (a larger project is read in part: the rest unread).
MAX_PY_SOURCES = 2000


def _may_hold_code(pattern: str) -> bool:
    """A copied path ``called_tool`` would read in a context: a folder, a script without a
    suffix, or a source file (``app.jar`` is not read either way)."""
    name = posixpath.basename(pattern.rstrip("/"))
    return "." not in name.lstrip(".") or name == "." or name.endswith(SOURCE_SUFFIXES)


@dataclass
class Candidate:
    target: Target
    unsafe: list[str] = field(default_factory=list)
    blocked: str | None = None
    head: list[str] = field(default_factory=list)  # instructions to add right after FROM


def lookup_name(image: ImageRef) -> str:
    return image.full_name


def image_family(image: ImageRef) -> Family | None:
    return family_of(lookup_name(image))


def where(ins: Instruction) -> str:
    return f"{ins.keyword.upper()} at line {ins.start_line}"


_WORD = re.compile(r"[\w.+-]+")


def compose_tool(ctx: BuildContext, lacks: list[str]) -> str | None:
    """A compose service built from this Dockerfile that runs a tool of the full image in
    its image (``healthcheck: test: [CMD, curl, -f, ...]``, ``command: git ...``), said as
    a reason, or None."""
    for run in image_runs(ctx):
        if run.key == UNKNOWN:
            return f"{run.said()} may run {run.runs} in the image"
        words = {posixpath.basename(w) for w in _WORD.findall(run.text)}
        tool = next((t for t in lacks if t in words), None)
        if tool is not None:
            return f"{run.said()} runs `{tool}` in its {run.key}"
    return None


def short_names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


class Planner:
    """Candidates for the final stage, best first."""

    def __init__(self, doc: Document, stage: Stage, family: Family, tag: str) -> None:
        self.doc = doc
        self.stage = stage
        self.family = family
        self.tag = tag

    @cached_property
    def facts(self) -> Facts:
        """What the stage runs (read when a candidate needs it: a small tag may have none)."""
        return stage_facts(self.doc, self.stage)

    @cached_property
    def installs(self) -> dict[str, list[Use]]:
        """The stage's package installs."""
        return install_calls(self.facts)

    def _from_base(self, name: str) -> bool:
        """A script the base image ships, unless the stage copies its own."""
        copies = " ".join(i.args for i in self.stage.of("copy", "add"))
        return name in BASE_SCRIPTS and name not in copies

    def _entry(self) -> str | None:
        """The program the container starts ('' when the stage sets no CMD/ENTRYPOINT)."""
        entrypoint, cmd = self.stage.entry()
        entry = entrypoint or cmd
        if entry is None:
            return ""
        uses = [u for u in self.facts.uses if u.ins is entry]
        if not uses:
            return None
        if uses[0].program in SHELLS:
            if "-c" not in uses[0].args or len(uses) < 2:
                return "sh"
            uses = uses[1:]
        return uses[0].program.rsplit("/", 1)[-1]

    def _lacking_packages(self, unsafe: list[str], new: str) -> None:
        """Packages the full image has and ``new`` lacks, which no RUN of the stage installs,
        where the program's own need is unreadable (fonts for a Java program's rendering)."""
        installed = {p for names in self.facts.apt.values() for p in names}
        needs = {
            p: why
            for p in sorted(self.family.slim_lacks)
            if p in SLIM_LACKS_WHY
            and not provides_lacking(p, installed)
            and (why := self._needs(p)) is not None
        }
        if needs:
            first, why = next(iter(needs.items()))
            unsafe.append(
                f"{new} has no {' or '.join(needs)}, which the full image installs: "
                f"{SLIM_LACKS_WHY[first]}{f' ({why})' if why else ''}"
            )

    def _needs(self, package: str) -> str | None:
        """Why the program may need a package the smaller variant lacks ('' when unreadable,
        None when it does not): mime types when it sends files by type, fonts and netbase when
        it reads them."""
        if package == "media-types":
            return self._sends_typed_files()
        entries = [i.args for i in self.stage.entry() if i is not None]
        if package in SYSTEM_FONTS:
            return system_font_use(self.doc.context, entries)
        if package in NETBASE:
            return netbase_use(self.doc.context, entries)
        return ""

    def _sends_typed_files(self) -> str | None:
        """Why the Python program may type files by their names (Python's mimetypes), as
        ``_needs`` says it, or None: its start command or a source of the context names a
        file server or type guess, or a Flask app has a static/ folder (""), or a source
        cannot be read. Without a build context only the start command is read."""
        entries = [i for i in self.stage.entry() if i is not None]
        if any(MIME_TYPED_SERVING.search(i.args) for i in entries):
            return ""
        ctx = self.doc.context
        if not ctx.present:
            return None
        sources = [f for f in ctx.files if f.endswith(".py")][:MAX_PY_SOURCES]
        for path in sources:
            try:
                text = source_text(ctx, path)
            except Unreadable as exc:  # unread is not "types none"
                return f"{exc}, so whether it serves files by type is unknown"
            if MIME_TYPED_SERVING.search(text):
                return ""
            folder = posixpath.dirname(path)
            if "Flask(" in text and ctx.exists(posixpath.join(folder, "static")):
                return ""
        return None

    def _toolbox(self, unsafe: list[str]) -> None:
        """A final stage that starts a shell, an interpreter with no program (``python3``: the
        users bring it) or the base's CMD is a tool environment."""
        if not self.family.full_only_tools:
            return
        found = entry(self.stage)
        if self._entry() == "":
            what = "sets no CMD/ENTRYPOINT"
        elif self._entry() == "sh":
            what = "starts a shell"
        elif found is not None and bare_interpreter(found.argv):
            what = f"starts `{found.argv[0]}` with no program"
        else:
            return
        unsafe.append(f"the image {what}: its users may rely on tools of the full image")

    def _onbuild(self, unsafe: list[str]) -> None:
        """ONBUILD triggers run in the builds of child images, on inputs msdfix never sees
        (``ONBUILD RUN pip install -r plugins/requirements.txt`` needs gcc there)."""
        trigger = next(iter(self.stage.of("onbuild")), None)
        if trigger is not None:
            unsafe.append(
                f"line {trigger.start_line} is an ONBUILD trigger: images built FROM this one "
                "run it, and what it needs is unknown"
            )

    def _copied_files(self) -> dict[str, set[str]]:
        """Base name -> the folders it may land in, for each file a COPY/ADD brings from the
        context (not a folder, a glob, a URL or another stage's file; with a context, one it
        has): ``COPY setup /setup``, ``COPY start /usr/local/bin/``."""
        found: dict[str, set[str]] = {}
        ctx = self.doc.context
        for ins in self.stage.of("copy", "add"):
            dest = copy_destination(self.doc.model, self.stage, ins)
            for source in copy_sources(self.stage, ins, self.doc.model):
                pattern = source.pattern or ""
                name = posixpath.basename(pattern)  # "" for a folder ("dir/") or everything
                if not name or any(c in name for c in "*?["):
                    continue
                if ctx.present and ctx.named(name) is None:
                    continue  # a folder of the context (ADD nginx /etc/nginx/)
                folders = found.setdefault(name, set())
                folders |= {dest.rstrip("/"), posixpath.dirname(dest)}
        return found

    def _run_scripts(self) -> Iterator[tuple[str, Use, str | None]]:
        """The context's scripts the stage runs or sources: name, use and text (None: unread)."""
        copied = self._copied_files()
        for use in self.facts.uses:
            runs_file = use.program in POSIX_SHELLS or use.program in SOURCING
            paths = [use.program] + (
                [use.args[0]] if runs_file and use.args and use.args[0] != "-c" else []
            )
            for path in paths:
                name = posixpath.basename(path)
                folders = copied.get(name, set())
                if not (
                    path.endswith(".sh") or (folders & BIN_DIRS if "/" not in path else folders)
                ):
                    continue  # a program of the image, not a script of the context
                rel = self.doc.context.named(name)
                yield name, use, self.doc.context.read_text(rel) if rel else None

    def _unread_scripts(self) -> list[str]:
        """Names of the scripts the stage runs that msdfix cannot read, once each."""
        names = [n for n, _, text in self._run_scripts() if text is None]
        return [n for n in dict.fromkeys(names) if not self._from_base(n)]

    def _scripts(self, unsafe: list[str]) -> str | None:
        """Scripts the stage runs: read them from the context, or note they are unknown."""
        for name, use, text in self._run_scripts():
            if text is None:
                continue
            names = EXCLUDED.search(text)
            if names:  # a script without a source suffix: excluded_reason never read it
                return (
                    f"{name} (run at line {use.ins.start_line}) names {names.group(0)}: "
                    "-slim leaves /usr/share/doc, man, groff, info and locale out of every "
                    "package"
                )
            for command in parse_commands(text):
                program, _ = program_args(command)
                if program in self.family.full_only_tools and not installed_before(
                    self.facts, program, use.ins.start_line
                ):
                    return f"{name} (run at line {use.ins.start_line}) uses {program}"
        unread = self._unread_scripts()
        if unread:
            unsafe.append(f"it runs {', '.join(unread)}, which msdfix cannot read")
        return None

    def _called_tools(self, unsafe: list[str], new: str) -> None:
        """A source that runs a tool of the full image (``execSync('git ...')``)."""
        lacks = sorted(
            t for t in self.family.full_only_tools if not installed_before(self.facts, t, 10**9)
        )
        tools = tuple(t for t in CALLED if t in lacks)
        ctx = self.doc.context
        if "git" in lacks and ctx.repositories and git_dependency(ctx):
            unsafe.append(f"a dependency may run `git` on the copied repository ({new})")
            return
        values = [i.args for stage in self.stage.lineage for i in stage.of("env", "arg")]
        named = env_tool(values, tools)  # ENV FETCH_TOOL=curl: the app runs it by the name
        if named:
            unsafe.append(f"an ENV or ARG names `{named}`, which {new} does not have")
            return
        composed = compose_tool(ctx, lacks)
        if composed:
            unsafe.append(f"{composed}, which {new} does not have")
            return
        said = set(self._unread_scripts())  # "it runs start, which msdfix cannot read"
        unread = (
            [n for n in self._unread_copies() if posixpath.basename(n) not in said] if tools else []
        )
        if unread:
            unsafe.append(
                f"no build context: msdfix cannot read what the stage copies "
                f"({', '.join(unread[:3])}), which may run {', '.join(tools[:3])} ({new} lacks them)"
            )
            return
        try:
            found = called_tool(ctx, tools, tuple(lacks))
        except Unreadable as exc:  # unread is not "runs none"
            unsafe.append(f"{exc}, so which tools it runs is unknown ({new} lacks some)")
            return
        if found == TOO_MANY:
            unsafe.append(f"the context has too many sources to read which tools they run ({new})")
        elif found:
            unsafe.append(f"the sources may run `{found}`, which {new} does not have")

    def _unread_copies(self) -> list[str]:
        """The context sources the final stage's lineage copies when msdfix has no build
        context to read them (unread sources are not "run no tool")."""
        if self.doc.context.present:
            return []
        model = self.doc.model
        names = [
            source.pattern or "."
            for stage in self.stage.lineage
            for ins in stage.of("copy", "add")
            for source in copy_sources(stage, ins, model)
        ]
        return [n for n in names if _may_hold_code(n)]

    def _opaque_start(self, unsafe: list[str], new: str) -> None:
        """The container starts a program installed by a package manager (``pre-commit``,
        which runs git): which tools it runs is unknown."""
        found = entry(self.stage)
        if self.family.name not in INTERPRETED or found is None:
            return
        program = opaque_program(found.commands, self.doc.context)
        if program is not None:
            unsafe.append(
                f"the image starts `{program}`, a program whose own code msdfix does not read: "
                f"it may run a tool {new} does not have (git, curl, ssh)"
            )

    def _start_scripts(self, unsafe: list[str], new: str) -> None:
        """package.json scripts the container starts (``npm start``: prestart and start)
        that run a tool of the full image (``git rev-parse HEAD > REVISION``)."""
        found = entry(self.stage)
        package = self.doc.context.read_json("package.json")
        if found is None or not isinstance(package, dict):
            return
        lacks = tuple(
            sorted(
                t for t in self.family.full_only_tools if not installed_before(self.facts, t, 10**9)
            )
        )
        for argv in found.commands:
            for body in run_scripts(argv, package):
                tool = search(body, True, lacks)
                if tool:
                    unsafe.append(f"`{' '.join(argv)}` runs `{tool}`, which {new} does not have")
                    return

    def _build_scripts(self, new: str) -> str | None:
        """package.json scripts a RUN runs (``npm run build``: prebuild, build, postbuild)
        that run a tool of the full image (``shasum -a 256 dist/app.js``): the build fails."""
        package = self.doc.context.read_json("package.json")
        if not isinstance(package, dict):
            return None
        lacks = tuple(
            sorted(
                t for t in self.family.full_only_tools if not installed_before(self.facts, t, 10**9)
            )
        )
        for use in self.facts.uses:
            if use.ins.cmd != "run" or posixpath.basename(use.program) not in SCRIPT_RUNNERS:
                continue
            for body in run_scripts([posixpath.basename(use.program), *use.args], package):
                tool = search(body, True, lacks)
                if tool:
                    call = " ".join([posixpath.basename(use.program), *use.args])
                    return f"{where(use.ins)} runs `{call}`, whose script runs `{tool}`, which {new} does not have"
        return None

    def _status_line(self, ecosystem: str, calls: list[Use], status: str) -> int:
        """The line of the first install that alone has ``status`` (``poetry install``, whose
        lock names psycopg, not the ``pip install poetry`` before it), else the first's."""
        for call in calls if status != "none" and len(calls) > 1 else []:
            if dependency_status(self.doc, ecosystem, [call], self.stage)[0] == status:
                return call.ins.start_line
        return calls[0].ins.start_line

    def _copied_stages(self) -> list[tuple[Instruction, Stage]]:
        """Each COPY --from of the stage with every stage its files may come from: the one it
        names and, through their own COPY --from, the stages that one copies from (deps ->
        build -> runtime: node_modules built in deps)."""
        found: list[tuple[Instruction, Stage]] = []
        for ins in self.stage.of("copy", "add"):
            todo, seen = [ins], set[int]()
            while todo:
                copy = todo.pop()
                source = copy.flag("from")
                other = self.doc.model.stage(source.value) if source and source.value else None
                if other is None or id(other) in seen or other is self.stage:
                    continue
                seen.add(id(other))
                found.append((ins, other))
                todo += [c for st in other.lineage for c in st.of("copy", "add")]
        return found

    def _hidden_installs(self, unsafe: list[str]) -> None:
        """Packages no RUN installs: installed when the container starts, or copied in built."""
        if self.family.name not in INTERPRETED:
            return
        started = start_install(self.doc, self.stage)
        if started is not None:
            unsafe.append(
                f"the container runs `{started}` when it starts: what it installs may need "
                "compilers or libraries only the full image has"
            )
        copied = copied_native(self.doc, self.stage)
        if copied is not None:
            unsafe.append(f"{copied}, which may need libraries only the full image has")

    def _copied_builds(self, unsafe: list[str], glibc_only: bool = False) -> str | None:
        """Artefacts copied from stages that installed dependencies on a full image."""
        for ins, other in self._copied_stages():
            root = other.root
            if glibc_only:
                if not musl_built(root.image):
                    libc = "glibc" if root.image.on_hub else "its libc is unknown"
                    return f"line {ins.start_line} copies files built on {root.image.raw} ({libc})"
                continue
            if is_small(root.image.tag or "") or image_family(root.image) is None:
                continue
            installs = install_calls(stage_facts(self.doc, other))
            for ecosystem, calls in installs.items():
                status, names = dependency_status(self.doc, ecosystem, calls, other)
                if status != "none":
                    what = ", ".join(names[:3]) if names else "dependencies msdfix cannot see"
                    built = f"{ecosystem} packages built on {root.image.raw}"
                    unsafe.append(f"line {ins.start_line} copies {built} ({what})")
        return None

    def _man_pages(self) -> str | None:
        """A package whose install fails on -slim: it needs /usr/share/man/man1 (Debian's
        slim images drop man pages; the JRE and PostgreSQL client set up man alternatives)."""
        made = [  # the workaround: `mkdir -p /usr/share/man/man1` (a cleanup is none)
            use.ins.start_line
            for use in self.facts.uses
            if posixpath.basename(use.program) == "mkdir"
            and any(a.startswith("/usr/share/man") for a in use.args)
        ]
        for line, packages in sorted(self.facts.apt.items()):
            for package in sorted(packages):
                why = needs_man_pages(package)
                if why and not any(at <= line for at in made):
                    return f"line {line} installs {why}"
        return None

    def _prompt(self, smaller: str) -> str | None:
        """An apt install without -y: it passes only while every package it names is there."""
        asks = prompting_install(self.doc, self.facts)
        if asks is None:
            return None
        return (
            f"{where(asks.ins)} runs `{asks.program} install` without -y: it passes only while "
            f"every package it names is installed already, and {smaller} lacks packages of the "
            "full image (apt would stop at its prompt)"
        )

    def _base_package(self) -> str | None:
        """A removal, mark, dpkg query or unrefreshed install of a package the full image
        ships and the stage does not install (``apt-get purge -y curl`` on python:3.12)."""
        found = base_package_use(self.facts) if self.family.full_only_tools else None
        if found is None:
            return None
        use, package = found
        program = posixpath.basename(use.program)
        if unrefreshed_install(use):  # `curl ... | bash -` may have fetched lists: not known
            return (
                f"{where(use.ins)} runs `{program} install` on {package} with no `apt-get "
                "update` before it that msdfix can see (a script it runs may list packages): apt "
                "finds only what the image has installed or lists, and -slim has neither the "
                "full image's packages nor package lists"
            )
        return (
            f"{where(use.ins)} runs `{program}` on {package}, which the full image installs "
            "and -slim lacks (apt would not find it)"
        )

    def slim(self, target: Target) -> Candidate:
        cand = Candidate(target)
        man = self._man_pages() if target.kind == "slim" else None
        if man is not None:
            cand.blocked = f"{man} (-slim images have no man pages)"
            return cand
        if target.kind == "slim":
            cand.blocked = self._prompt("-slim") or self._base_package()
            if cand.blocked:
                return cand
            excluded = excluded_reason(self.doc, self.stage, self.facts)
            if excluded is not None:
                cand.blocked = (
                    f"{excluded}: -slim leaves /usr/share/doc, man, groff, info and locale "
                    "out of every package"
                )
                return cand
            system = (  # debian's -slim has the same packages: only its files differ
                full_only_file(self.doc, self.stage, self.facts)
                if self.family.full_only_tools
                else None
            )
            if system is not None:
                cand.blocked = system
                return cand
            if self.family.slim_lacks & CA_CERTIFICATES:
                needed, maybe = ca_store_reason(
                    self.stage, self.facts, f"{self.family.name}:{target.tag}"
                )
                if needed:
                    cand.blocked = needed
                    return cand
                if maybe:
                    cand.unsafe.append(maybe)
            for line, unread in sorted(self.facts.unread_apt.items())[:1]:
                cand.unsafe.append(
                    f"line {line} installs apt packages msdfix cannot read ({unread}): one may "
                    "need what -slim leaves out (/usr/share/man for a JRE, docs, translations)"
                )
            translated = translation_reason(self.doc, self.stage)
            if translated is None and self.family.name != "python":  # python's is /usr/local
                translated = system_catalog_reason(self.doc)
            if translated is not None:
                cand.unsafe.append(
                    f"{translated}: -slim leaves the translations in /usr/share/locale out"
                )
        missing = missing_tool(self.facts, self.family.full_only_tools)
        if missing is not None:
            use, tool = missing
            new = f"{self.family.name}:{target.tag}"
            cand.blocked = f"{where(use.ins)} uses {tool}, which {new} does not have"
            return cand
        if not target.repository:
            self._lacking_packages(cand.unsafe, f"{self.family.name}:{target.tag}")
        code = next((u for u in self.facts.uses if _project_code(u)), None)
        if code is not None:
            cand.unsafe.append(
                f"{where(code.ins)} runs code msdfix does not read (`{code.program} "
                f"{code.args[0]}`), which may use compilers or tools only the full image has"
            )
        installed = (
            installed_program(self.facts, self.doc.context, self.family.full_only_tools)
            if self.family.name == "python"
            else None
        )
        packages = [p for names in self.facts.apt.values() for p in names]
        copies = [i.args for i in self.stage.of("copy", "add")]
        native = (
            native_need(
                self.doc.context, provided_names(packages, copies), SUFFIXES[self.family.name]
            )
            if self.family.name in SUFFIXES
            else None
        )
        if native is not None:
            what = "a source may load a system library" if native == TOO_MANY else native
            cand.unsafe.append(f"{what}, which only the full image may have")
        if installed is not None:
            cand.unsafe.append(
                f"{where(installed.ins)} runs `{posixpath.basename(installed.program)}`, a "
                "program msdfix does not read: it may use compilers or tools only the full "
                "image has"
            )
        cand.blocked = self._scripts(cand.unsafe) or self._build_scripts(
            f"{self.family.name}:{target.tag}"
        )
        if cand.blocked:
            return cand
        self._toolbox(cand.unsafe)
        self._onbuild(cand.unsafe)
        self._called_tools(cand.unsafe, f"{self.family.name}:{target.tag}")
        self._opaque_start(cand.unsafe, f"{self.family.name}:{target.tag}")
        self._start_scripts(cand.unsafe, f"{self.family.name}:{target.tag}")
        self._hidden_installs(cand.unsafe)
        if target.kind == "jre" and self._entry() != "java":
            cand.unsafe.append("the image does not start java directly: it may use JDK tools")
        for ecosystem, calls in self.installs.items():
            status, names = dependency_status(self.doc, ecosystem, calls, self.stage)
            if status in SAME_PACKAGES_STATUSES and not self.family.full_only_tools:
                continue  # debian's -slim has the full tag's compilers, libraries and git
            line = self._status_line(ecosystem, calls, status)
            if status == "git":
                cand.blocked = (
                    f"line {line} installs from git ({short_names(names)}), and -slim has no git"
                )
            elif status == "native" and ecosystem in ("python", "ruby"):
                cand.blocked = (
                    f"line {line} installs {short_names(names)}, which need compilers or "
                    "libraries only the full image has"
                )
            elif status == "native":
                what = (
                    "packages that need libraries or programs only the full image has"
                    if names and set(names) <= NODE_NEEDS_FULL
                    else "packages with install scripts or native code"
                )
                cand.unsafe.append(f"line {line} installs {what} ({short_names(names)})")
            elif status == "unproven":
                what = f" ({short_names(names)} may be built from source)" if names else ""
                cand.unsafe.append(
                    f"nothing shows that line {line}'s {ecosystem} packages install without a "
                    f"compiler or system libraries{what}"
                )
            elif status == "open":
                cand.unsafe.append(
                    f"line {line}'s {ecosystem} requirements do not list every dependency (no "
                    "lock file, pip-compile output or hashes): one may load a system library"
                )
            elif status == "unknown":
                why = f" ({names[0]})" if names else ""
                cand.unsafe.append(
                    f"line {line} installs {ecosystem} dependencies msdfix cannot see{why}"
                )
            if cand.blocked:
                return cand
        self._copied_builds(cand.unsafe)
        return cand

    def jre(self, target: Target) -> Candidate:
        cand = Candidate(target)
        cand.blocked = self._prompt("the JRE image")
        if cand.blocked:
            return cand
        missing = missing_tool(self.facts, self.family.full_only_tools)
        if missing is not None:
            jdk, tool = missing
            cand.blocked = f"{where(jdk.ins)} runs {tool}, which a JRE does not have"
            return cand
        for use in self.facts.uses:
            source = source_file_launch(use.args) if use.program == "java" else None
            if source is not None:
                cand.blocked = (
                    f"{where(use.ins)} runs java on the source {source}, which needs the JDK's "
                    "compiler (a JRE has no jdk.compiler)"
                )
                return cand
        compiling = compiling_reason(self.doc.context)
        if compiling is not None:
            cand.unsafe.append(compiling)
        cand.blocked = self._scripts(cand.unsafe)
        self._onbuild(cand.unsafe)
        if self._entry() != "java":
            cand.unsafe.append("the image does not start java directly: it may use JDK tools")
        if target.repository:
            packager = next((u for u in self.facts.uses if u.program in OS_PACKAGERS), None)
            if packager is not None:
                cand.blocked = (
                    f"{where(packager.ins)} runs {packager.program} (eclipse-temurin is Ubuntu)"
                )
            cand.unsafe.append("a different JDK vendor (eclipse-temurin) and JAVA_HOME")
        return cand

    def alpine(self, target: Target) -> Candidate | None:
        cand = Candidate(target)
        apt = next(
            (u for u in self.facts.uses if u.program in (*APT_PROGRAMS, "dpkg")),
            None,
        )
        if apt is not None:
            cand.blocked = f"{where(apt.ins)} runs {apt.program}; alpine has apk, not apt"
            return cand
        if self.family.name == "nginx":
            run = self.stage.of("run")
            if run:
                cand.blocked = f"{where(run[0])} would run under busybox, not GNU tools"
                return cand
            named = _alpine_unknown_id(self.stage)
            if named is not None:
                cand.blocked = named
                return cand
            if home := _alpine_home_change(self.stage, f"nginx:{target.tag}"):
                cand.unsafe.append(home)
            if self.stage.of("healthcheck"):
                cand.unsafe.append("the HEALTHCHECK runs on busybox and musl")
            started = self._entry()
            if started not in ("", "nginx"):
                what = f"`{started}`" if started else "its own command"
                cand.unsafe.append(f"the image starts {what}, which would run on busybox and musl")
            for ins in self.stage.of("copy", "add"):
                dest = (instruction_values(ins)[1] or [""])[-1]
                if ins.flag("from") and not dest.startswith(WEB_DIRS):
                    cand.unsafe.append(f"{where(ins)} copies files from a glibc stage")
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
            cand.blocked = f"{where(bash.ins)} runs bash, which alpine does not have"
            return cand
        status, names = (
            node_deps(self.doc, self.stage, self.installs.get("node", []))
            if self.doc.context.present
            else ("unknown", [])
        )
        if status == "native" and names and set(names) <= NODE_NEEDS_FULL:
            cand.blocked = (  # procps' ps, git, python3, libpq: no compiled code of their own
                "packages that need libraries or programs only the full image has "
                f"({short_names(names)})"
            )
            return cand
        if status == "native":
            cand.blocked = f"native modules or install scripts ({short_names(names)}) target glibc, alpine is musl"
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


def musl_built(image: ImageRef) -> bool:
    """True for Hub's alpine and scratch, or an alpine tag of a Hub image; another registry's
    ``alpine`` (``myreg.example.com/alpine``) may hold anything, so it counts as glibc."""
    return image.on_hub and ("alpine" in (image.tag or "") or image.name in ("alpine", "scratch"))
