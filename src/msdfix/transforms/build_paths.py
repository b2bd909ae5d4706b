"""Where things are in a single-stage build: working dirs, context copies, paths RUNs write
(shared by split-stages, cache-mount and test-stage)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial

from msdfix.model.args import expand
from msdfix.model.context import BuildContext
from msdfix.model.copies import within_context
from msdfix.model.paths import within
from msdfix.model.stages import Model, Stage
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values

SYSTEM_DIRS = frozenset({
    "/", "/usr", "/usr/local", "/usr/local/bin", "/usr/bin", "/bin", "/sbin", "/etc", "/lib",
    "/usr/lib", "/usr/local/lib", "/opt", "/var", "/root", "/home", "/tmp", "/go", "/go/bin",
})  # fmt: skip


def resolve(path: str, cwd: str) -> str:
    """Absolute, normalised ``path`` relative to ``cwd``."""
    return posixpath.normpath(posixpath.join(cwd or "/", path))


def workdirs(model: Model, stage: Stage) -> dict[int, str]:
    """``id(ins)`` -> the working directory in effect when ``ins`` runs (WORKDIR: the new one),
    worked out from values no build argument can change."""
    before, end = model.workdirs(stage, fixed=True)
    after = [before[id(ins)] for ins in stage.instructions[1:]] + [end]
    return {id(ins): path for ins, path in zip(stage.instructions, after, strict=True)}


@dataclass
class ContextCopy:
    """A COPY/ADD from the build context: its sources and the absolute paths they land on."""

    ins: Instruction
    sources: list[str]
    dest: str
    into_dir: bool  # sources land inside ``dest`` (a directory)

    def rels(self, context: BuildContext) -> list[str]:
        """The context paths the sources name: a source with wildcards stands for every kept
        file or directory it matches (Docker copies each like a named source)."""
        found: list[str] = []
        for src in self.sources:
            rel = posixpath.normpath(src).lstrip("/")
            found += context.view.matching(rel) if any(c in rel for c in "*?[") else [rel]
        return found

    def context_files(self, context: BuildContext) -> list[tuple[str, str]]:
        """(context path, image path) of every file this COPY brings in (context needed).

        Shared by the Dockerfiles of the folder that have the same COPY: do not modify."""
        key = ("context_files", tuple(self.sources), self.dest, self.into_dir)
        return context.view.memo(key, lambda: self._context_files(context))

    def repositories(self, context: BuildContext) -> list[tuple[str, str]]:
        """(context path, image path) of the ``.git`` directories this COPY (of a directory)
        brings in: ``context_files`` never lists their files."""
        found = []
        for rel in self.rels(context) if self.into_dir else []:
            prefix = "" if rel == "." else rel + "/"
            for git in context.repositories:
                if git.startswith(prefix):
                    found.append((git, resolve(git[len(prefix) :], self.dest)))
        return found

    def _base(self) -> str | None:
        """What ``resolve`` puts before a context file's path below a source directory
        (``dest/``), or None when ``dest`` is not a normalised absolute path."""
        dest = self.dest
        if not dest.startswith("/") or dest.startswith("//") or posixpath.normpath(dest) != dest:
            return None
        return dest if dest.endswith("/") else dest + "/"

    def _single(self, context: BuildContext, rel: str) -> str | None:
        """The image path of ``rel`` when the source names that one kept file."""
        if rel == "." or rel not in context.view.kept_set:
            return None
        return self.dest if not self.into_dir else resolve(posixpath.basename(rel), self.dest)

    def lands(self, context: BuildContext, path: str) -> tuple[bool, bool]:
        """Whether a context file lands on the image path ``path``, and whether one lands on
        or below it (``within``), without listing the files this COPY brings in."""
        base = self._base()
        if base is None:
            dests = [dest for _, dest in self.context_files(context)]
            return path in dests, any(within(dest, path) for dest in dests)
        view, on, below = context.view, False, False
        inside = path.rstrip("/") + "/"
        for rel in self.rels(context):
            prefix = "" if rel == "." else rel + "/"
            single = self._single(context, rel)
            if single is not None:
                on |= single == path
                below |= within(single, path)
            tail = path[len(base) :] if path.startswith(base) else ""
            on |= bool(tail) and prefix + tail in view.kept_set
            if len(inside) <= len(base):
                below |= base.startswith(inside) and view.has_prefix(prefix)
            elif inside.startswith(base):
                below |= view.has_prefix(prefix + inside[len(base) :])
        return on, on or below

    def top_entries(
        self, context: BuildContext, key: Hashable, skip: Callable[[str], bool]
    ) -> list[str]:
        """``sorted({top(dest, self.dest)})`` over the files this COPY (into a directory)
        brings in whose context path ``skip`` does not reject; ``key`` names ``skip``."""
        base = self._base()
        if base is None or not self.into_dir:
            return sorted(
                {top(dest, self.dest) for rel, dest in self.context_files(context) if not skip(rel)}
            )
        names: set[str] = set()
        for rel in self.rels(context):
            if self._single(context, rel) is not None and not skip(rel):
                names.add(posixpath.basename(rel))
            names |= context.view.memo(("tops", rel, key), partial(_firsts, context, rel, skip))
            names |= _bare_firsts(context, rel, skip)
        for git, dest in self.repositories(context):  # read by the app: a source or library
            if not skip(f"{git}/HEAD"):  # names it
                names.add(top(dest, self.dest))
        return sorted({resolve(name, self.dest) for name in names})

    def copied(self, context: BuildContext, key: Hashable, keep: Callable[[str], bool]) -> set[str]:
        """Context paths of the files this COPY brings in that ``keep`` accepts (``key`` names
        ``keep``; computed once per folder and source)."""
        found: set[str] = set()
        for rel in self.rels(context):
            found |= context.view.memo(("copied", rel, key), partial(_kept, context, rel, keep))
        return found

    def bare_dirs(self, context: BuildContext) -> list[str]:
        """Image paths of the directories without files this COPY creates (``bare_dirs``)."""
        found: list[str] = []
        for rel in self.rels(context):
            prefix = "" if rel == "." else rel + "/"
            for d in context.view.bare_dirs:
                if d == rel:
                    found.append(self.dest)
                elif d.startswith(prefix):
                    found.append(resolve(d[len(prefix) :], self.dest))
        return found

    def dirs(self, context: BuildContext) -> list[tuple[str, str]]:
        """(context path, image path) of the directories this COPY brings in below a source
        folder (each keeps its mode; a source folder itself is not among them): those
        .dockerignore keeps, and those it ignores that hold a file it keeps (``*`` then
        ``!uploads/.gitkeep``: built, Docker sent uploads/ with its mode, 777, and the COPY
        gave the build's /app/uploads that mode and root's owner again)."""
        view = context.view
        return self._below_sources(
            context,
            view.folder.dirs,
            lambda d: not view.is_ignored(d) or view.has_prefix(d + "/"),
        )

    def dir_links(self, context: BuildContext) -> list[tuple[str, str]]:
        """(context path, image path) of the links to directories this COPY brings in below
        a source folder (a source that is such a link is followed, as COPY --from does)."""
        return self._below_sources(context, context.view.dir_links)

    def _below_sources(
        self,
        context: BuildContext,
        paths: list[str],
        keep: Callable[[str], bool] = lambda _: True,
    ) -> list[tuple[str, str]]:
        """(context path, image path) of each of ``paths`` below one of this COPY's sources
        that ``keep`` takes, once for every source it is below."""
        found: list[tuple[str, str]] = []
        for rel in self.rels(context):
            prefix = "" if rel == "." else rel + "/"
            found += [
                (d, resolve(d[len(prefix) :], self.dest))
                for d in paths
                if d.startswith(prefix) and keep(d)
            ]
        return found

    def _context_files(self, context: BuildContext) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for rel in self.rels(context):
            prefix = "" if rel == "." else rel + "/"
            for f in context.view.under(rel):
                if f == rel:
                    pairs.append(
                        (
                            f,
                            self.dest
                            if not self.into_dir
                            else resolve(posixpath.basename(f), self.dest),
                        )
                    )
                elif f.startswith(prefix):
                    pairs.append((f, resolve(f[len(prefix) :], self.dest)))
        return pairs


def _firsts(context: BuildContext, rel: str, skip: Callable[[str], bool]) -> set[str]:
    """First path components below ``rel`` of the kept files there that ``skip`` lets through."""
    prefix = "" if rel == "." else rel + "/"
    return {
        f[len(prefix) :].split("/")[0]
        for f in context.view.under(rel)
        if f != rel and f.startswith(prefix) and not skip(f)
    }


def _bare_firsts(context: BuildContext, rel: str, skip: Callable[[str], bool]) -> set[str]:
    """First path components below ``rel`` of the folders there that hold no kept file
    (``uploads/``, or ``logs/`` whose files are ignored): the COPY of ``rel`` creates them, and
    the program may write into them; ``.`` when ``rel`` is such a folder itself."""
    prefix = "" if rel == "." else rel + "/"
    return {
        "." if d == rel else d[len(prefix) :].split("/")[0]
        for d in context.view.bare_dirs
        if (d == rel or d.startswith(prefix)) and not skip(d)
    }


def _kept(context: BuildContext, rel: str, keep: Callable[[str], bool]) -> set[str]:
    return {f for f in context.view.under(rel) if keep(f)}


def top(path: str, base: str) -> str:
    """The entry directly in ``base`` that holds ``path``."""
    rest = path[len(base.rstrip("/")) + 1 :] if base != "/" else path[1:]
    return resolve(rest.split("/")[0], base)


# Files ADD unpacks (a local tar archive, compressed or not); also any source with a glob,
# which may match one.
_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4|Z)$|[*?\[]")


def context_copies(
    model: Model, stage: Stage, dirs: dict[int, str], why: list[str] | None = None
) -> list[ContextCopy] | None:
    """Every COPY/ADD of the stage that reads the build context; None when one cannot be read
    (``why`` gets the reason when msdfix has a specific one)."""
    found: list[ContextCopy] = []
    known = set(SYSTEM_DIRS)  # directories that exist when the next COPY runs
    for ins in stage.instructions:
        if ins.cmd == "workdir" or ins.cmd not in ("copy", "add"):
            known |= with_parents(dirs[id(ins)])
            continue
        if ins.flag("from") is not None:
            return None
        values = instruction_values(ins)[1]
        if ins.heredocs or len(values) < 2:
            return None
        scope = model.fixed_scope(stage, ins)
        *sources, dest_raw = [expand(v, scope) for v in values]
        if any("$" in s for s in [*sources, dest_raw]) or any("://" in s for s in sources):
            return None
        sources = [within_context(s) for s in sources]
        if ins.cmd == "add" and any(_ARCHIVE.search(s) for s in sources):
            return None  # ADD unpacks a local archive: what lands is the archive's contents
        dest = resolve(dest_raw, dirs[id(ins)])
        into_dir = (
            dest_raw.endswith(("/", "/.", "/.."))
            or dest_raw in (".", "..")
            or len(sources) > 1
            or any(
                s in (".", "./") or s.endswith("/") or any(ch in s for ch in "*?[") for s in sources
            )
            or dest in known
        )
        made = None if into_dir else _made_by_run(stage, ins, dest)
        if made is not None:
            if why is not None:
                why.append(
                    f"{ins.cmd.upper()} at line {ins.start_line} copies to {dest}, which RUN at line "
                    f"{made.start_line} may make a directory (the file then lands in it)"
                )
            return None
        found.append(ContextCopy(ins, sources, dest, into_dir))
        known |= with_parents(dest) if into_dir else with_parents(posixpath.dirname(dest))
    return found


def context_file_at(
    model: Model, stage: Stage, ctx: BuildContext, before: Instruction, path: str
) -> tuple[Instruction, str] | None:
    """The last context COPY/ADD of ``stage`` before ``before`` that lands a file on the image
    path ``path``, with that file's context path (None: none does, or the COPYs cannot be
    read; what an earlier stage or a RUN put there is not looked at)."""
    return context_files_at(model, stage, ctx, before, (path,))[0]


def context_files_at(
    model: Model, stage: Stage, ctx: BuildContext, before: Instruction, paths: tuple[str, ...]
) -> list[tuple[Instruction, str] | None]:
    """``context_file_at`` of each of ``paths``, the stage's COPYs read once."""
    found: dict[str, tuple[Instruction, str]] = {}
    if not ctx.present:
        return [None for _ in paths]
    copies = context_copies(model, stage, workdirs(model, stage))
    for copy in reversed([c for c in copies or [] if c.ins.start < before.start]):
        for rel, dest in copy.context_files(ctx):
            if dest in paths and dest not in found:
                found[dest] = (copy.ins, rel)
        if len(found) == len(set(paths)):
            break
    return [found.get(path) for path in paths]


def copies_go_work(model: Model, stage: Stage, ctx: BuildContext, cwds: set[str]) -> str | None:
    """The context path of the go.work a COPY of ``stage`` brings to a folder at or above one
    a go command runs in (``cwds``), the nearest one, where go looks for it (built: go.work
    using ./helper beside ``COPY go.mod main.go ./`` stayed out of the image; go downloaded
    helper v1.2.0, whose ``bash -c`` failed on the split's distroless/static; a
    ``svc/go.work`` using ``../lib`` with the build in /src/svc ran lib's code). None when the
    COPYs cannot be read: an unread go.work holds no module's code."""
    copies = context_copies(model, stage, workdirs(model, stage)) if ctx.present else None
    found = [
        (dest, rel)
        for copy in copies or []
        for rel, dest in copy.context_files(ctx)
        if posixpath.basename(rel) == "go.work"
        and any(within(cwd, posixpath.dirname(dest)) for cwd in cwds)
    ]
    return max(found, key=lambda f: len(f[0]))[1] if found else None


def with_parents(path: str) -> set[str]:
    """``path`` and every directory above it."""
    found = {path}
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        found.add(path)
    return found


def _made_by_run(stage: Stage, ins: Instruction, dest: str) -> Instruction | None:
    """A RUN before ``ins`` whose ``mkdir`` names ``dest`` or a path below it (``mkdir -p
    /app``): Docker copies a file into ``dest`` when it is an existing directory, trailing
    slash or not (``ADD package.json /usr/src/app`` after ``WORKDIR /usr/src/app`` put
    /usr/src/app/package.json). None: no such RUN."""
    # Read from the first ``mkdir`` of each command (an atomic group): tried from each one,
    # ``mkdir`` 20,000 times in a RUN (120 kB) took 80 s (quadratic in the command).
    made = re.compile(
        rf"(?:^|(?<=[;&|\n]))(?>[^;&|\n]*?\bmkdir\b)[^;&|\n]*?(?<![\w./=-])"
        rf"{re.escape(dest)}(?![\w.-])"
    )
    return next((r for r in stage.of("run") if r.start < ins.start and made.search(r.args)), None)


# Programs that write the paths they are given (cp/mv/ln/install: the last one).
PATH_WRITERS = frozenset({"cp", "mv", "ln", "install", "mkdir", "touch", "tee"})


def written_words(command: Command) -> list[str]:
    """The words naming what a command writes, as written: its redirects' targets (not a
    ``>&2`` duplication), each path of mkdir/touch/tee and the last of cp/mv/ln/install."""
    words = [re.sub(r"^[0-9&]*>+\|?\s*", "", r.strip()) for r in command.redirects if ">" in r]
    program, args = program_args(command)
    if program in PATH_WRITERS:
        paths = [x for x in args if not x.startswith("-")]
        paths = mkdir_args(args)[0] if program == "mkdir" else paths
        words += paths if program in ("mkdir", "touch", "tee") else paths[-1:]
    return [w for w in words if not w.startswith("&")]


def mkdir_args(args: list[str]) -> tuple[list[str], bool]:
    """The directories a ``mkdir`` makes, and whether it gives them a mode (``-m MODE``,
    ``-pm777``, ``--mode=MODE``: GNU and busybox mkdir read the word after ``-m`` as the
    mode, not as a directory)."""
    paths: list[str] = []
    mode = skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("--mode"):
            mode, skip = True, arg == "--mode"
        elif arg.startswith("-") and not arg.startswith("--") and "m" in arg[1:]:
            mode, skip = True, arg.endswith("m")  # -m777 holds its value, -pm does not
        elif not arg.startswith("-"):
            paths.append(arg)
    return paths, mode
