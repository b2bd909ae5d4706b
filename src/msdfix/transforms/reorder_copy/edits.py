"""The text reorder-copy writes: the manifest COPY, the fetch and the moved commands."""

from __future__ import annotations

import posixpath
import re
import shlex

from msdfix.document import Document
from msdfix.ecosystems.base import NEVER_WRITES, WRITES_IN_PLACE, PackageManager
from msdfix.ecosystems.go import GO, fetch_manifest_writes
from msdfix.ecosystems.java import MAVEN
from msdfix.ecosystems.node.installs import berry_manifest_writes, manifest_writes
from msdfix.ecosystems.node.managers import BUN, NPM, PNPM, YARN
from msdfix.ecosystems.node.yarn import berry_cache_kept, berry_folder_entries, yarn_berry
from msdfix.ecosystems.php import (
    COMPOSER,
    COMPOSER_AUTOLOAD_FLAGS,
    COMPOSER_AUTOLOAD_VALUE_FLAGS,
    composer_manifest_writes,
)
from msdfix.ecosystems.python import PDM, PIP, PIPENV, POETRY, UV, project_manifest_writes
from msdfix.ecosystems.python_builds import link_mode
from msdfix.ecosystems.registry import MANAGERS, positional_args
from msdfix.ecosystems.ruby import BUNDLER, bundle_manifest_writes
from msdfix.ecosystems.rust import CARGO, CARGO_FETCH_WRITES
from msdfix.files import decimal
from msdfix.fixes import Edit
from msdfix.model import Stage
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.script import RunScript
from msdfix.syntax import Instruction
from msdfix.transforms.reorder_copy.anchor import classify_use, cwd_of
from msdfix.transforms.reorder_copy.fetch_env import assignments_prefix
from msdfix.transforms.reorder_copy.model import (
    SAFE_NAME,
    UNKNOWN,
    VALUE_OPTS,
    Plan,
    Skip,
    Source,
    Use,
    join_path,
    keyword_case,
)
from msdfix.transforms.reorder_copy.undo import changes_install

# ---------------------------------------------------------------- text


def _dest_text(path: str, workdir: str) -> str:
    if path == workdir:
        return "./"
    if within(path, workdir):
        return posixpath.relpath(path, workdir) + "/"
    if path.startswith(UNKNOWN):
        raise Skip()
    return path.rstrip("/") + "/"


def copy_lines(doc: Document, source: Source, plan: Plan, workdir: str) -> str:
    """COPY instructions for the manifests, grouped by destination directory."""
    keyword = keyword_case(source.ins.keyword, "COPY")
    groups: dict[str, list[str]] = {}
    lines = []
    for path, dest in plan.manifests:
        if not SAFE_NAME.match(path):
            raise Skip(f"manifest path {path!r} would need quoting")
        if path.endswith("/"):
            inner = join_path(dest, posixpath.basename(path.rstrip("/")))
            lines.append(f"{keyword}{source.flags} {path} {_dest_text(inner, workdir)}")
        else:
            groups.setdefault(dest, []).append(path)
    ordered = sorted(groups.items(), key=lambda item: item[0].count("/"))
    lines = [
        f"{keyword}{source.flags} {' '.join(paths)} {_dest_text(dest, workdir)}"
        for dest, paths in ordered
    ] + lines
    return "".join(line + doc.newline for line in lines)


def _pipenv_reads_only(args: list[str]) -> bool:
    """``pipenv sync`` ("Installs all packages specified in Pipfile.lock"), or ``pipenv
    install --deploy`` (fails "if the Pipfile.lock is out-of-date, instead of generating a
    new one") naming no package and no requirements file to import (either writes the
    Pipfile); an option msdfix cannot place counts as a package."""
    words = positional_args("pipenv", args)
    if words == ["sync"]:
        return True
    imports = any(a in ("-r", "--requirements") or a.startswith("--requirements=") for a in args)
    return words == ["install"] and "--deploy" in args and not imports


def _classic_yarn(doc: Document, stage: Stage, anchor: Instruction, use: Use) -> bool:
    """The yarn ``use`` runs is surely yarn 1: the project has no ``.yarnrc.yml`` or
    ``packageManager: yarn@2+``, and no RUN up to the install switches versions (corepack,
    ``yarn set version``, ``yarn policies set-version``)."""
    package = doc.context.read_json(posixpath.join(use.project, "package.json"))
    if yarn_berry(doc.context, use.project, package):
        return False
    for st in stage.lineage:
        for ins in st.instructions:
            if st is stage and ins.start > anchor.start:
                break
            if ins.cmd == "run" and _SWITCHES.search(ins.logical):
                return False
    return True


_SWITCHES = re.compile(r"corepack|set[ -]version")


def _manifest_access(doc: Document, stage: Stage, anchor: Instruction, use: Use) -> str | None:
    """How ``use`` writes the manifests it reads (``NEVER_WRITES``, ``WRITES_IN_PLACE``), from
    what each tool documents or does; None: it may replace them, or msdfix does not know."""
    program = posixpath.basename(program_args(use.command)[0])
    words = positional_args(program, use.args, VALUE_OPTS)
    if use.eco is PIP:
        return NEVER_WRITES if use.files else None  # pip's and uv's -r/-c files
    if use.eco is PIPENV:
        return NEVER_WRITES if _pipenv_reads_only(use.args) else None
    if use.eco in (POETRY, UV, PDM):
        return project_manifest_writes(program, words, use.args)
    if use.eco is GO:  # the fetch reorder-copy adds before a build is ``go mod download``
        return fetch_manifest_writes(["mod", "download"] if use.build else words)
    if use.eco is CARGO:  # reorder-copy adds ``cargo fetch`` before a build
        return CARGO_FETCH_WRITES if use.build else None
    if use.eco is COMPOSER:
        return composer_manifest_writes(words)
    if use.eco is BUNDLER:
        return bundle_manifest_writes(words)
    if use.eco in (NPM, YARN, PNPM, BUN):
        classic = use.eco is YARN and _classic_yarn(doc, stage, anchor, use)
        if use.eco is YARN and not classic and _berry(doc, use):
            return berry_manifest_writes(words, use.args)
        return manifest_writes(program, words, use.args, classic)
    return None


def _berry(doc: Document, use: Use) -> bool:
    """True when the project of ``use`` shows yarn 2+ (``.yarnrc.yml``, ``packageManager``)."""
    package = doc.context.read_json(posixpath.join(use.project, "package.json"))
    return yarn_berry(doc.context, use.project, package)


def _corepack(doc: Document, anchor: Instruction) -> bool:
    """True when a RUN up to ``anchor`` names corepack (it may run the package manager)."""
    return any(
        ins.cmd == "run" and "corepack" in ins.logical and ins.start <= anchor.start
        for stage in doc.model.stages
        for ins in stage.instructions
    )


def _pinned_berry(doc: Document, anchor: Instruction, uses: list[Use]) -> bool:
    """True when corepack's shim can only run yarn 2+ without writing package.json: every
    install is yarn's, in a project whose package.json pins ``packageManager: yarn@2+``
    (corepack runs that version, and writes package.json only to pin a missing one), and no
    RUN up to the install sets another version (``yarn set version``)."""
    if not uses or any(u.eco is not YARN for u in uses):
        return False
    if any(
        ins.cmd == "run" and _SET_VERSION.search(ins.logical) and ins.start <= anchor.start
        for stage in doc.model.stages
        for ins in stage.instructions
    ):
        return False
    return all(_pinned_yarn_major(doc, u) >= 2 for u in uses)


_SET_VERSION = re.compile(r"set[ -]version")


def _pinned_yarn_major(doc: Document, use: Use) -> int:
    """The major version of yarn that ``use``'s package.json pins (0 when none)."""
    package = doc.context.read_json(posixpath.join(use.project, "package.json"))
    pin = package.get("packageManager") if isinstance(package, dict) else None
    found = re.match(r"yarn@(\d+)\.", pin) if isinstance(pin, str) else None
    return decimal(found.group(1)) if found else 0


def emptied_cache(written: str, uses: list[Use]) -> str | None:
    """The command, flag or cache mount of the install RUN, as the user wrote it, that leaves
    the install's download cache out of the image (``npm cache clean --force``, ``yarn cache
    clean``, ``--no-cache-dir``, ``--mount=type=cache,target=/root/.npm``), or None. Where
    the original keeps no cache, the cache mount saves nothing to offset a second copy of the
    manifests."""
    ids = {m for u in uses for m in u.eco.managers}
    managers = [m for m in MANAGERS if m.id in ids]
    mounts: list[str] = _CACHE_MOUNT.findall(written)
    for mount in mounts:  # the user's own mount: no cache in the image
        tails = [c.path.removeprefix("~/").rstrip("/") for m in managers for c in m.caches]
        if any(f"{t}," in mount + "," for t in tails if t):
            return mount
    for part in _COMMAND_SPLIT.split(written.replace("\\\n", " ")):
        words = part.split()
        for manager in managers:
            for i, word in enumerate(words):
                if posixpath.basename(word) not in manager.programs:
                    continue
                after = tuple(words[i + 1 :])
                cleans = () if manager.clean_keeps_used else manager.clean_commands
                if any(after[: len(p) - 1] == p[1:] for p in cleans):
                    return " ".join(words[i:])
                flag = next((w for w in words[i + 1 :] if w in manager.defeat_flags), None)
                if flag is not None:
                    return flag
    return None


def linked_cache(doc: Document, anchor: Instruction, uses: list[Use]) -> str | None:
    """The manager that runs an install of ``uses`` in the RUN ``anchor`` and links its
    files to its download cache (bun and uv hard-link by default, pnpm), so the cache costs
    the original image nothing a cache mount could save; None where none does or each of its
    installs copies the files out of the cache (``UV_LINK_MODE=copy``; built: 3.5 MB
    smaller; bun's ``--backend copyfile`` was not built, so it stays linked)."""
    for manager in MANAGERS:
        if not manager.links_cache:
            continue
        modes = {
            link_mode(manager, u.args, u.command.assignments, _run_scope(doc, anchor), doc.context)
            for u in uses
            if _runs(manager, u)
        }
        if modes and not modes <= set(manager.copy_link_modes):
            return manager.id
    return None


def empty_lock(doc: Document, uses: list[Use]) -> str | None:
    """Why a composer install of ``uses`` downloads nothing (composer.lock locks no package
    it installs: ``packages``, and ``packages-dev`` without ``--no-dev``), so its cache stays
    empty and no cache mount offsets a second copy of the manifests; or None. Built (a lock
    with no packages, ``COPY --chown``): the rewrite was 726 bytes larger."""
    for use in uses:
        if use.eco is not COMPOSER:
            continue
        lock = doc.context.read_json(posixpath.join(use.project, "composer.lock"))
        keys = ("packages",) if "--no-dev" in use.args else ("packages", "packages-dev")
        if isinstance(lock, dict) and all(lock.get(k, []) == [] for k in keys):
            return "composer.lock locks no package to install"
    return None


def header_cache(uses: list[Use]) -> str | None:
    """The manager that runs an install of ``uses`` and caches downloads only as the
    index's HTTP headers allow (pip, pipenv through pip, pdm), so whether its cache holds anything for a cache mount
    to save depends on a server msdfix cannot see; or None."""
    return next(
        (m.id for m in MANAGERS if m.caches_by_headers and any(_runs(m, u) for u in uses)),
        None,
    )


def _runs(manager: PackageManager, use: Use) -> bool:
    """True when ``manager`` runs the install of ``use`` (pip's ecosystem is pip's and
    ``uv pip``'s)."""
    if use.eco.managers == (manager.id,):
        return True
    program = posixpath.basename(program_args(use.command)[0])
    return manager.id in use.eco.managers and program in manager.programs


def kept_berry_cache(doc: Document, anchor: Instruction, uses: list[Use]) -> str | None:
    """Why a Yarn Berry install of ``uses`` in the RUN ``anchor`` keeps its download cache in
    the image (see ``berry_cache_kept``, given the pinned yarn major and the RUN's ``YARN_*``
    variables; an unreadable ``.yarnrc.yml`` is unknown), so no cache mount offsets a second
    copy of the manifests; None where none does. Built (Yarn 4.5, ``enableGlobalCache:
    false``, a plain ``yarn install``): the copied package.json, yarn.lock and .yarnrc.yml
    made the image 24,302 bytes larger."""
    for use in uses:
        if use.eco is not YARN or not _berry(doc, use):
            continue
        rc_path = posixpath.join(use.project, ".yarnrc.yml")
        try:
            rc = doc.context.read_known(rc_path) or ""
        except Unreadable:
            return f"{rc_path} cannot be read, so where yarn caches is unknown"
        kept = berry_cache_kept(rc, _pinned_yarn_major(doc, use), _yarn_env(doc, anchor, use))
        if kept is not None:
            return f"yarn {kept}"
    return None


def _yarn_env(doc: Document, anchor: Instruction, use: Use) -> dict[str, str | None]:
    """The ``YARN_*`` variables yarn's command of ``use`` in the RUN ``anchor`` sees (the
    stage's ARG and ENV values, None where a build argument may set them, and the command's
    own assignments)."""
    scope = {**_run_scope(doc, anchor), **use.command.assignments}
    return {k: v for k, v in scope.items() if k.startswith("YARN_")}


def _run_scope(doc: Document, anchor: Instruction) -> dict[str, str | None]:
    """The ARG and ENV values the RUN ``anchor`` sees (None where a build argument may set
    them)."""
    stage = next(s for s in doc.model.stages if any(i is anchor for i in s.instructions))
    return doc.model.fixed_scope(stage, anchor)


_COMMAND_SPLIT = re.compile(r"&&|\|\||;|\||\n")
_CACHE_MOUNT = re.compile(r"--mount=\S*type=cache\S*")


def bind_flags(
    doc: Document,
    stage: Stage,
    anchor: Instruction,
    source: Source,
    plan: Plan,
    uses: list[Use],
) -> str | None:
    """``--mount=type=bind`` flags that show the install its manifests without a COPY, so the
    image holds them once (the full COPY after the install brings them); read-write (``rw``:
    BuildKit discards the writes, as the full COPY overwrites them) for an install that
    rewrites a manifest in place. None when the manifests must be copied: a builder without
    RUN --mount (``--ignore cache-mount``), an install that may replace them or whose writes
    msdfix does not know, flags such as ``--chown``, manifests by glob or folder, or a
    destination msdfix cannot name. A whole-tree ``ADD`` counts as a COPY: its source is a
    context folder, and ADD unpacks only an archive named as the source itself."""
    if (
        not doc.run_mounts
        or not doc.context.present
        or source.flags
        or source.dollar
        or anchor.heredocs
        or (
            any(u.eco in (YARN, PNPM) for u in uses)
            and _corepack(doc, anchor)
            and not _pinned_berry(doc, anchor, uses)
        )
    ):
        return None
    access = {_manifest_access(doc, stage, anchor, u) for u in uses}
    if None in access:
        return None
    mode = ",rw" if WRITES_IN_PLACE in access else ""
    parts = []
    for path, dest in _mounted(doc, plan, uses):
        target = join_path(dest, posixpath.basename(path))
        if (
            path.endswith("/")
            or not SAFE_NAME.match(path)
            or any(c in path for c in "*?[")
            or not target.startswith("/")
            or target.startswith(UNKNOWN)
            or not SAFE_NAME.match(target)
        ):
            return None
        parts.append(f"--mount=type=bind,source={path},target={target}{mode}")
    joiner = f" {doc.dockerfile.escape}{doc.newline}    "
    return joiner.join(parts) + joiner


def _mounted(doc: Document, plan: Plan, uses: list[Use]) -> list[tuple[str, str]]:
    """The manifests as (context path, destination dir) pairs to mount: yarn 2+'s
    ``.yarn/`` folder becomes the entries its install only reads (``.yarn/releases``, whose
    copy made a real image 2.76 MB larger); any other folder stays one (not mounted)."""
    pairs: list[tuple[str, str]] = []
    berry = any(u.eco is YARN and _berry(doc, u) for u in uses)
    for path, dest in plan.manifests:
        entries = None
        if berry and path.endswith("/") and posixpath.basename(path.rstrip("/")) == ".yarn":
            entries = berry_folder_entries(doc.context, path)
        if entries is None:
            pairs.append((path, dest))
            continue
        inner = join_path(dest, ".yarn")
        pairs.extend((entry, inner) for entry in entries)
    return pairs


def _cd(use: Use, workdir: str) -> str:
    if use.dest == workdir:
        return ""
    target = posixpath.relpath(use.dest, workdir) if within(use.dest, workdir) else use.dest
    if target.startswith(UNKNOWN) or not SAFE_NAME.match(target):
        raise Skip()
    return f"cd {target} && "


def fetch_text(use: Use, workdir: str) -> str:
    assert use.eco.fetch is not None
    program = use.command.words[0].value if use.command.words else ""
    fetch = use.eco.fetch.format(prog=program)
    if use.eco is MAVEN:
        args = use.args
        for i, arg in enumerate(args):
            if arg in ("-s", "--settings") and i + 1 < len(args):
                raise Skip(
                    f"`{' '.join(use.command.argv)}` uses a settings file; not adding a fetch step"
                )
    prefix = assignments_prefix(use)  # the build's inline variables, on the tool's command
    parts = [
        prefix + part if posixpath.basename(part.split()[0]) == use.command.name else part
        for part in fetch.split(" && ")
    ]
    return _cd(use, workdir) + " && ".join(parts)


def after_install(
    doc: Document,
    anchor: Instruction,
    script: RunScript,
    uses: list[Use],
    workdir: str,
    source: Source,
    scope: dict[str, str],
    shipped: bool = True,
) -> tuple[str, list[Edit]]:
    """Text to insert after the full COPY (follow-ups, split-off commands), and edits of the RUN.
    ``shipped``: the RUN's stage is part of an image (not only copied from), so its layers count."""
    nl = doc.newline
    edits: list[Edit] = []
    after = ""
    commands = script.commands
    positions = [commands.index(u.command) for u in uses]
    last = max(positions)
    readers = []
    for i, command in enumerate(commands):
        if i not in positions and classify_use(command, source, workdir, scope) != "harmless":
            readers.append(i)
    early = [i for i in readers if i < last]
    if early:
        raise Skip(
            f"`{' '.join(commands[early[0]].argv)}` runs before the install in line "
            f"{anchor.start_line} "
            f"and may need the sources",
            anchor,
        )
    flags = "".join(doc.text[f.start : f.end] + " " for f in anchor.flags)
    for use in uses:
        if use.eco is COMPOSER:
            edits += _composer_edits(script, use)
            after += (
                f"{anchor.keyword} {flags}{_cd(use, workdir)}{_composer_followup(script, use)}{nl}"
            )
    if readers:
        first = readers[0]
        split = commands[first]
        prev = commands[first - 1]
        if (
            not script.editable
            or script.heredoc_start is not None
            or split.op_before != "&&"
            or any(c.op_before not in (None, "&&") for c in commands[1:] if not c.nested)
            or split.nested
            or prev.nested
            or prev.redirects
            or any(c.nested for c in commands[last:first])
            or SHELL_STATE.search(anchor.args) is not None
        ):
            raise Skip(
                f"`{' '.join(split.argv)}` in the install RUN (line {anchor.start_line}) needs "
                "the sources "
                f"and cannot be split off",
                anchor,
            )
        changer = next(
            (
                c
                for c in commands[first:]
                if shipped and changes_install(c, uses, cwd_of(c, workdir, scope), scope)
            ),
            None,
        )
        if changer is not None:
            raise Skip(
                f"`{' '.join(changer.argv)}` in the install RUN (line {anchor.start_line}) "
                "changes what the install wrote: split off into a later layer, it would leave "
                "the installed files in the image twice or undeleted",
                anchor,
            )
        start = script.physical(prev.end - 1) + 1
        end = anchor.end
        while end > start and doc.text[end - 1] in "\r\n":
            end -= 1
        tail = doc.text[script.physical(split.start) : end]
        between = doc.text[start : script.physical(split.start)]
        comments = [c.strip() for c in between.splitlines() if c.strip().startswith("#")]
        after += "".join(f"{c}{nl}" for c in comments)  # comment lines in the RUN stay
        cd = ""
        if split.cwd is not None:
            if not SAFE_NAME.match(split.cwd):
                raise Skip(
                    f"the install RUN (line {anchor.start_line}) changes directory in a way that "
                    "cannot be split",
                    anchor,
                )
            cd = f"cd {split.cwd} && "
        edits.append(Edit(start, end, ""))
        after += f"{anchor.keyword} {flags}{cd}{tail}{nl}"
    return after, edits


# Commands whose effect on the shell (variables, options, sourced files) the split-off part
# would lose: ``export API_URL=... && npm ci && npm run build``.
SHELL_STATE = re.compile(
    r"(?:^|[;&|(]|\bthen|\bdo)\s*(?:export|source|\.|declare|typeset|umask|ulimit|alias"
    r"|shopt|unset|eval)\s"
)


def _composer_edits(script: RunScript, use: Use) -> list[Edit]:
    words = use.command.words
    install = next((w for w in words[1:] if w.value == "install"), None)
    if install is None or not script.editable:
        raise Skip("composer install cannot be edited")
    missing = [f for f in ("--no-scripts", "--no-autoloader") if f not in use.args]
    if not missing:
        return []
    end = script.physical(install.end - 1) + 1
    return [Edit(end, end, " " + " ".join(missing))]


def _composer_followup(script: RunScript, use: Use) -> str:
    command = use.command
    program = script.text[command.start : command.words[0].end]
    return " ".join([program, "dump-autoload", *composer_autoload_flags(use.args)])


def composer_autoload_flags(args: list[str]) -> list[str]:
    """The ``dump-autoload`` form of the install's flags that shape the autoloader, values
    included (``--ignore-platform-req=php``: without it the autoloader checks the PHP version
    the install was told to ignore, and the container stops)."""
    flags: list[str] = []
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if arg in COMPOSER_AUTOLOAD_FLAGS:
            flags.append(COMPOSER_AUTOLOAD_FLAGS[arg])
        elif name in COMPOSER_AUTOLOAD_VALUE_FLAGS and (eq or i + 1 < len(args)):
            new = COMPOSER_AUTOLOAD_VALUE_FLAGS[name]
            flags.append(f"{new}={shlex.quote(value if eq else args[i + 1])}")
    return list(dict.fromkeys(flags))
