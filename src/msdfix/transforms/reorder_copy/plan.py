"""Which manifests each ecosystem's install reads, and what makes reordering unsafe."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from msdfix.document import Document
from msdfix.ecosystems.base import WRITES_IN_PLACE, Ecosystem
from msdfix.ecosystems.dotnet import DOTNET
from msdfix.ecosystems.go import GO, go_sum_missing
from msdfix.ecosystems.java import GRADLE, MAVEN
from msdfix.ecosystems.node.config_paths import local_package_config
from msdfix.ecosystems.node.dependencies import dependency_config, read_dependencies
from msdfix.ecosystems.node.local_packages import (
    local_dependency,
    locked_local,
    patched_dependencies,
)
from msdfix.ecosystems.node.managers import YARN
from msdfix.ecosystems.node.npm_config import (
    NpmSettings,
    npm_legacy_peer_deps,
    npm_package_lock,
    npmrc_settings,
)
from msdfix.ecosystems.node.npm_lock import (
    npm_keeps_v1_lock,
    npm_lock_flags,
    npm_lock_invalid,
    npm_lock_libc,
    npm_lock_name,
    npm_lock_reformatted,
    npm_lock_unlocked,
    npm_override_unmet,
)
from msdfix.ecosystems.node.pnpm_lock import (
    pnpm_frozen,
    pnpm_lock_format,
    pnpm_lock_stale,
    pnpm_settings_stale,
)
from msdfix.ecosystems.node.project_layout import module_folders, project_cache
from msdfix.ecosystems.node.scripts import lifecycle_hooks
from msdfix.ecosystems.node.yarn import yarn_berry, yarn_env_files, yarn_parent_config
from msdfix.ecosystems.node.yarn_lock import yarn_classic_stale
from msdfix.ecosystems.php import COMPOSER, COMPOSER_INSTALL_SCRIPTS
from msdfix.ecosystems.python import PIP, PIPENV, project_manifest_writes
from msdfix.ecosystems.python.locks import (
    pdm_lock_stale,
    uv_lock_stale,
    uv_project_settings,
    uv_sync_upgrades,
)
from msdfix.ecosystems.python.requirements import read_requirements, uv_local_location
from msdfix.ecosystems.registry import MONOREPO_MARKERS, positional_args, workspace_root_above
from msdfix.ecosystems.ruby import writes_local_config
from msdfix.ecosystems.rust import CARGO_CONFIGS, cargo_config_reads
from msdfix.model import BuildContext, Stage
from msdfix.model.context import MAX_SCANNED_BYTES, Unreadable, parse_json, parse_toml
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.syntax import Instruction
from msdfix.transforms.reorder_copy.model import VALUE_OPTS, Plan, Skip, Source, Use, join_path


def plan_manifests(
    doc: Document, stage: Stage, source: Source, use: Use, plan: Plan, anchor: Instruction
) -> None:
    """Add the manifests of ``use`` to ``plan`` or raise Skip with the reason."""
    ctx = doc.context
    eco = use.eco
    project = use.project
    where = f"`{' '.join(use.command.argv)}`"

    def rel(name: str) -> str:
        return posixpath.normpath(posixpath.join(project, name))

    def dest_of(path: str) -> str:
        inner = posixpath.relpath(posixpath.dirname(path.rstrip("/")) or ".", source.src)
        return join_path(source.dest, inner)

    if not ctx.present:
        if eco is PIP:
            for path in use.files:
                folder = posixpath.dirname(path)
                entry = folder + "/" if folder and folder != "." and folder != source.src else path
                _add(plan, entry, dest_of(entry))
            plan.unsafe.append(
                "no build context: could not check that the requirements files name no local "
                "paths (-e .) or other files (-r, -c)"
            )
            return
        if not eco.guess or (eco is GO and within(source.dest, "/go/src")):
            raise Skip(f"{where} needs the build context to find its manifests", anchor)
        for pattern in eco.guess:
            entry = rel(pattern)
            _add(plan, entry, dest_of(entry))
        plan.unsafe.append(
            f"no build context: could not check {eco.id} manifests for scripts, local paths "
            f"or workspaces, nor .dockerignore for install outputs"
        )
        _two_phase_note(eco, use, plan)
        return
    outputs = [*eco.outputs, *_configured_outputs(doc, eco.id, project, use.command.argv)]
    for out in outputs + _uv_environment(doc, stage, source, use, anchor, where):
        if ctx.exists(rel(out)):
            raise Skip(
                f"{where}: {rel(out)} is in the build context and not in .dockerignore, so the "
                "full "
                f"COPY after the install would overwrite what it installed",
                anchor,
            )
    check = HAZARDS.get(eco.checks)
    if eco is PIP:
        files = _requirements(doc, use.files, anchor, where)
        if posixpath.basename(use.command.argv[0]) == "uv":
            settings = _uv_settings(doc, project, source.src)
            for path in settings:
                local = uv_local_location(_manifest(doc, path, where, anchor), path)
                if local:
                    raise Skip(f"{where}: {local}, which needs the sources", anchor)
            files += settings
        for path in files:
            _add(plan, path, dest_of(path))
        return
    if eco is DOTNET:
        found = [
            f
            for f in ctx.files
            if _in_project(f, project) and f.endswith((".csproj", ".fsproj", ".vbproj"))
        ]
        found += [rel(n) for n in eco.manifests if "*" not in n and ctx.exists(rel(n))]
        found += [
            f
            for f in ctx.files
            if _in_project(f, project)
            and f.endswith(".sln")
            and posixpath.dirname(f) == (project if project != "." else "")
        ]
        if not any(f.endswith("proj") for f in found):
            raise Skip(f"{where}: no project file under {project}/ in the build context", anchor)
        for path in [f for f in found if not ctx.is_ignored(f)]:
            _add(plan, path, dest_of(path))
        for path in found:
            if path.endswith("proj") and ctx.exists(posixpath.join(posixpath.dirname(path), "obj")):
                raise Skip(
                    f"{where}: obj/ of {path} is in the build context and not in .dockerignore",
                    anchor,
                )
        return
    names = list(eco.manifests)
    if (
        eco is MAVEN
        and use.command.name not in ("mvnw",)
        and not use.command.argv[0].endswith("mvnw")
    ):
        names = ["pom.xml"]
    present = [n for n in names if ctx.exists(rel(n.rstrip("/")))]
    key = eco.key
    if (
        key
        and key not in present
        or (eco is GRADLE and not any(n.startswith(("build.", "settings.")) for n in present))
    ):
        raise Skip(f"{where}: {rel(key or 'build.gradle')} is not in the build context", anchor)
    if check is not None:
        check(doc, use, plan, anchor, where, stage)
    for name in present:
        entry = rel(name.rstrip("/")) + ("/" if name.endswith("/") else "")
        _add(plan, entry, dest_of(entry))
    for path in _env_files(doc, stage, source, use, anchor, where):
        _add(plan, path, dest_of(path))
    _two_phase_note(eco, use, plan)


_TRUE = ("1", "true", "yes", "on")  # true to every pipenv release (others differ on "", "y")


def _env_files(
    doc: Document, stage: Stage, source: Source, use: Use, anchor: Instruction, where: str
) -> list[str]:
    """Environment files the install loads besides its manifests, as context paths the whole
    COPY brings: pipenv's ``.env`` in the project (or ``PIPENV_DOTENV_LOCATION``) unless
    ``PIPENV_DONT_LOAD_ENV`` is true; yarn's ``injectEnvironmentFiles`` (``.env.yarn``).
    Their variables may set the index or its credentials (pipenv expands ``${VAR}`` in the
    Pipfile's source URLs): they are copied with the manifests. Skip when one cannot be
    located (a variable, a setting msdfix cannot read)."""
    scope = {**doc.model.fixed_scope(stage, anchor), **use.command.assignments}
    names: list[str | None]
    if use.eco is PIPENV:
        if str(scope.get("PIPENV_DONT_LOAD_ENV")).strip().lower() in _TRUE:
            return []
        setting = "PIPENV_DOTENV_LOCATION"
        names = [scope[setting]] if setting in scope else [".env"]
    elif use.eco is YARN:
        setting = "injectEnvironmentFiles"
        try:
            rc = doc.context.read_known(posixpath.join(use.project, ".yarnrc.yml"))
        except Unreadable as exc:  # unread is not "the default list"
            raise Skip(f"{where}: {exc}, so yarn's {setting} is unknown", anchor) from None
        found = yarn_env_files(rc or "")
        if "YARN_INJECT_ENVIRONMENT_FILES" in scope or found is None:
            raise Skip(f"{where}: yarn's {setting} could not be read", anchor)
        names = list(found)
    else:
        return []
    paths = []
    for name in names:
        if name is None or "$" in name or name.startswith("~"):
            raise Skip(f"{where}: {setting} names {name or 'a value'} msdfix cannot locate", anchor)
        full = join_path(use.dest, name.removesuffix("?"))
        if within(full, source.dest):
            path = posixpath.normpath(
                posixpath.join(source.src, posixpath.relpath(full, source.dest))
            )
            paths += [path] if doc.context.exists(path) else []
    return paths


def _two_phase_note(eco: Ecosystem, use: Use, plan: Plan) -> None:
    if eco is COMPOSER:
        plan.notes.append(
            "`composer install` skips scripts and the autoloader; `composer dump-autoload` runs "
            "after the full COPY"
        )


def _in_project(path: str, project: str) -> bool:
    return project == "." or within(path, project)


def _add(plan: Plan, path: str, dest: str) -> None:
    if path not in [p for p, _ in plan.manifests]:
        plan.manifests.append((path, dest))


def _uv_settings(doc: Document, project: str, top: str) -> list[str]:
    """The file ``uv pip`` takes its settings from: uv.toml, or pyproject.toml with a
    [tool.uv] table, in the working directory or the nearest folder above it (within the
    copied tree ``top``). The install moved before the copy must see it too: its index,
    constraints and `system` setting change what is installed, and where."""
    folder = posixpath.normpath(project)
    top = posixpath.normpath(top)
    while True:
        for name in ("uv.toml", "pyproject.toml"):
            path = posixpath.normpath(posixpath.join(folder, name))
            try:
                text = doc.context.read_known(path)
            except Unreadable:  # may hold uv's settings (a uv.toml always does): copied too
                return [path]
            if text is not None and (name == "uv.toml" or _UV_TABLE.search(text)):
                return [path]
        if folder in (top, ".", "") or folder.startswith(".."):
            return []
        folder = posixpath.dirname(folder) or "."


_UV_TABLE = re.compile(r"^[^\S\n]*\[tool\.uv[.\]]", re.M)


def _requirements(doc: Document, files: list[str], anchor: Instruction, where: str) -> list[str]:
    """The requirement files and the ones they include, or Skip for local paths."""
    found = read_requirements(doc.context, files)
    if found.missing is not None:
        _manifest(doc, found.missing, where, anchor)  # there but unreadable: says why
        raise Skip(f"{where}: {found.missing} is not in the build context", anchor)
    if found.local:
        path, line = found.local[0]
        raise Skip(
            f"{where}: {path} installs a local path ({line}), which needs the sources", anchor
        )
    return found.files


def _node(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    ctx = doc.context
    base = use.project
    package = ctx.read_json(posixpath.join(base, "package.json"))
    if not isinstance(package, dict):
        raise Skip(f"{where}: package.json could not be read", anchor)
    if package.get("workspaces"):
        raise Skip(
            f"{where}: package.json declares workspaces (monorepo): every member's manifest would "
            "have to come first",
            anchor,
        )
    for marker in MONOREPO_MARKERS:
        path = posixpath.join(base, marker)
        if ctx.exists(path) and _marks_monorepo(ctx, path, marker):
            raise Skip(
                f"{where}: {marker} marks a monorepo: every member's manifest would have to come "
                "first",
                anchor,
            )
    root = workspace_root_above(ctx, base)
    if root is not None:
        raise Skip(
            f"{where}: {root} above the project marks a workspace root, which the install "
            "reads (npm, yarn and pnpm look for it in the parent folders)",
            anchor,
        )
    local = local_dependency(package)
    if local is not None:
        raise Skip(
            f"{where}: dependency {local[0]} is a local path ({local[1]}), which needs the sources",
            anchor,
        )
    locked = locked_local(ctx, base, use.eco)
    if locked is not None:
        raise Skip(f"{where}: {locked}, which needs the sources", anchor)
    program = posixpath.basename(program_args(use.command)[0])
    tool = "yarn" if program == "yarnpkg" else program
    cache = project_cache(ctx, base, tool, use.args, use.dest)
    if cache is not None:
        raise Skip(
            f"{where}: {cache} (a package cache in the build context) would be in the image "
            "twice: the install reads and fills it, and the full COPY brings it again",
            anchor,
        )
    patched = patched_dependencies(ctx, base, package)
    if patched is not None:
        raise Skip(f"{where}: {patched} needs the patch files", anchor)
    above = yarn_parent_config(ctx, base) if program in ("yarn", "yarnpkg") else None
    if above is not None:
        raise Skip(
            f"{where}: yarn reads {above} in a folder above the project (its settings files "
            "in every parent folder), which the full COPY brings after the install",
            anchor,
        )
    config = local_package_config(ctx, base, use.dest)
    if config:
        raise Skip(f"{where}: {config}, which needs the sources", anchor)
    hooks = lifecycle_hooks(package, ctx, base)
    ignore = "--ignore-scripts" in use.args or "--mode=skip-build" in use.args
    if hooks and not ignore:
        plan.unsafe.append(f"the install runs {', '.join(hooks)}, which may read the sources")
    try:
        scope = doc.model.stage_scope(stage, anchor)
        env = {**{k: v for k, v in scope.items() if v is not None}, **use.command.assignments}
        runs = _runs_before(stage, anchor)
        keeps_v1 = npm_keeps_v1_lock(stage.root_image.name, stage.root_image.tag, runs)
        stale = _stale_lock(ctx, base, package, use, keeps_v1, runs, env)
    except Unreadable as exc:  # unread is not "in step"
        stale = None
        plan.unsafe.append(_UNREAD_LOCK.format(exc=exc))
    if stale is not None:
        plan.unsafe.append(
            f"the install rewrites {stale}, and the full COPY puts the context's copy back"
        )
    rel = "" if base in ("", ".") else base
    read = dependency_config(ctx, rel, read_dependencies(ctx, rel), use.eco.manifests)
    if read and not ignore:
        plan.unsafe.append(f"the install may read {read}, which the full COPY brings later")


_FROZEN = frozenset({"ci", "--immutable", "--frozen-lockfile", "--pure-lockfile"})


def _marks_monorepo(ctx: BuildContext, path: str, marker: str) -> bool:
    """The monorepo marker at ``path`` (which exists) marks one: lerna.json, nx.json, ...
    by being there, pnpm-workspace.yaml when it lists packages or cannot be read (a marker
    over 1 MiB had read as none, so the monorepo's install moved with one manifest)."""
    if marker != "pnpm-workspace.yaml":
        return True
    try:
        return "packages" in (ctx.read_known(path) or "")
    except Unreadable:
        return True


# A lock file (or go.sum) msdfix cannot read: the install may rewrite it.
_UNREAD_LOCK = (
    "{exc}, so whether the install rewrites it is unknown (the full COPY would put the "
    "context's copy back)"
)


def _runs_before(stage: Stage, anchor: Instruction) -> list[str]:
    """The text of each RUN before ``anchor`` in the stage's lineage (one may put another
    npm or pnpm in the image)."""
    return [
        ins.args
        for ancestor in stage.lineage
        for ins in ancestor.instructions
        if ins.cmd == "run" and ins.start < anchor.start
    ]


def _stale_lock(
    ctx: BuildContext,
    base: str,
    package: dict[str, Any],
    use: Use,
    keeps_v1: bool,
    runs: list[str],
    env: Mapping[str, str],
) -> str | None:
    """The lock file an install that is not frozen must rewrite, so that the context's copy,
    which the moved full COPY brings back over it, is stale: yarn Berry's yarn.lock empty or
    in another format (later yarn commands rejected it: "This package doesn't seem to be
    present in your lockfile", built for real), or a package-lock.json whose root lists other
    dependencies than package.json. None when in step or not valid. Lock files are read up
    to 64 MiB (a 1.1 MiB package-lock.json, a common size, had read as none); Unreadable
    for one msdfix cannot read. ``keeps_v1``: whether npm keeps a lockfileVersion 1 lock;
    ``runs``: the RUNs before the install (which pnpm runs)."""
    program = posixpath.basename(program_args(use.command)[0])
    if program == "npm" and _npm_rewrites_yarn_lock(ctx, base, use, env):
        return "yarn.lock (npm writes a yarn.lock beside package.json again in its own form, `npm ci` too)"
    if pnpm_frozen(use.args) if program == "pnpm" else _FROZEN & set(use.args):
        return None
    if program == "yarn" and yarn_berry(ctx, base, package):
        lock = ctx.read_known(posixpath.join(base, "yarn.lock"), MAX_SCANNED_BYTES)
        if lock is not None and "__metadata:" not in lock:
            return "yarn.lock"
    elif program in ("yarn", "yarnpkg"):
        lock = ctx.read_known(posixpath.join(base, "yarn.lock"), MAX_SCANNED_BYTES)
        why = yarn_classic_stale(lock, package) if lock is not None else None
        if why is not None:
            return f"yarn.lock ({why})"
    elif program == "pnpm":
        lock = ctx.read_known(posixpath.join(base, "pnpm-lock.yaml"), MAX_SCANNED_BYTES)
        writes = pnpm_lock_format(runs, package)
        why = pnpm_lock_stale(lock, package, writes) if lock is not None else None
        if lock is not None and why is None:
            npmrc = ctx.read_known(posixpath.join(base, ".npmrc"))
            why = pnpm_settings_stale(lock, npmrc, env, runs)
        if lock is not None and ctx.read_known(posixpath.join(base, "pnpm-workspace.yaml")):
            # pnpm 10 reads catalogs, overrides and settings there (built: a catalog changed)
            why = why or "pnpm-workspace.yaml's settings, which msdfix does not compare"
        if why is not None:
            return f"pnpm-lock.yaml ({why})"
    if program != "npm":
        return None
    text = ctx.read_known(posixpath.join(base, "package-lock.json"), MAX_SCANNED_BYTES)
    data = parse_json(text) if text is not None else None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("packages"), dict) and not keeps_v1:
        return "package-lock.json (lockfileVersion 1, which npm 7 and later rewrite as 3)"
    root = (data.get("packages") or {}).get("") if isinstance(data.get("packages"), dict) else None
    if not isinstance(root, dict):
        return None
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        if (package.get(key) or {}) != (root.get(key) or {}):
            return "package-lock.json"
    # npm writes package.json's version (and name) into the lock's top and root entry
    for key in ("version", "name") if package.get("name") else ("version",):
        if package.get(key) != root.get(key) or package.get(key) != data.get(key, root.get(key)):
            return f"package-lock.json (its {key} is not package.json's)"
    folder = npm_lock_name(package, use.dest)  # None: the folder is not known
    if not package.get("name") and (
        root.get("name") is not None or folder is None or data.get("name") != folder
    ):
        return (
            "package-lock.json (package.json has no name, and npm names the lock after the "
            "project folder)"
        )
    for key in _NPM_ROOT_FIELDS:  # and these into the root entry
        if _npm_root_field(package, key) != _npm_root_field(root, key):
            return f"package-lock.json (its root {key} is not package.json's)"
    override = npm_override_unmet(data["packages"], package)
    if override is not None:
        return f"package-lock.json ({override})"
    peers = not _legacy_peers(ctx, base, use, env)
    missing = npm_lock_unlocked(data["packages"], peers)
    if missing is not None:
        return f"package-lock.json (it holds no entry for {missing}, which npm adds)"
    invalid = npm_lock_invalid(data["packages"], package, peers)
    if invalid is not None:
        return f"package-lock.json ({invalid} does not satisfy its range)"
    flagged = npm_lock_flags(data["packages"], package, peers)
    if flagged is not None:
        return f"package-lock.json (npm computes {flagged}'s dev/optional/peer flags otherwise)"
    libc = npm_lock_libc(data["packages"])
    if libc is not None:
        return f"package-lock.json ({libc} has libc, which npm before 11.11 drops)"
    manifest = ctx.read_known(posixpath.join(base, "package.json"), MAX_SCANNED_BYTES)
    if text and manifest is not None and npm_lock_reformatted(text, manifest):
        return "package-lock.json (npm writes it with package.json's indent and line ends)"
    return None


def _project_npmrc(ctx: BuildContext, base: str) -> list[NpmSettings]:
    """The project's .npmrc settings (none where it is absent or unreadable)."""
    try:
        npmrc = ctx.read_known(posixpath.join(base, ".npmrc")) or ""
    except Unreadable:
        npmrc = ""
    return [npmrc_settings(npmrc)]


def _legacy_peers(ctx: BuildContext, base: str, use: Use, env: Mapping[str, str]) -> bool:
    """Whether the install skips peer dependencies: legacy-peer-deps as npm reads it
    (``npm_legacy_peer_deps``), from its command line (``--legacy-peer-deps``, ``=false``),
    the stage's ``npm_config_legacy_peer_deps`` or the project's .npmrc (a user's or global
    npmrc is not looked at: the peers are then counted, which only declines)."""
    return npm_legacy_peer_deps(use.args, env, _project_npmrc(ctx, base))


def _npm_rewrites_yarn_lock(ctx: BuildContext, base: str, use: Use, env: Mapping[str, str]) -> bool:
    """Whether npm rewrites a yarn.lock the context holds beside package.json: npm 10's
    ``npm ci``, ``npm install`` and ``npm install --omit=dev`` all wrote yarn 1's lock again
    (npm's own resolved URLs, no hashes: built), unless package-lock is set false (the
    command line, ``npm_config_package_lock``, the project's .npmrc). A yarn.lock npm wrote
    itself is kept, but is not told apart (too strict)."""
    if not ctx.exists(posixpath.join(base, "yarn.lock")):
        return False
    return npm_package_lock(use.args, env, _project_npmrc(ctx, base))


# package.json fields npm 10 copies into the lock's root entry (arborist's pkgMetaKeys; built:
# a peerDependencies added after the lock, npm wrote it there: 488 bytes became 898)
_NPM_ROOT_FIELDS = (
    "bin",
    "license",
    "engines",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "funding",
    "os",
    "cpu",
    "deprecated",
)


def _npm_root_field(manifest: dict[str, Any], key: str) -> object:
    """A package.json field as npm writes it into the lock's root entry: ``bin`` as a map
    (a string is the package's own name, without its scope) with no leading ``./``, a
    ``funding`` string as ``{"url": ...}``, ``bundledDependencies`` as ``bundleDependencies``
    (built with npm 10), ``true`` there as the dependencies' names and a map as its keys
    (npm 10.8.2 wrote ["ms", "debug"] for true, ["ms"] for {"ms": "^2"})."""
    value = manifest.get(key)
    if key == "bundleDependencies" and value is None:
        value = manifest.get("bundledDependencies")
    if key == "bundleDependencies" and (value is True or isinstance(value, dict)):
        deps = manifest.get("dependencies") if value is True else value
        return [str(name) for name in deps] if isinstance(deps, dict) and deps else None
    if key == "funding" and isinstance(value, str):
        return {"url": value}
    if key != "bin" or not value:
        return value or None
    if isinstance(value, str):
        value = {str(manifest.get("name") or "").rsplit("/", 1)[-1]: value}
    if not isinstance(value, dict):
        return value
    return {k: v.removeprefix("./") if isinstance(v, str) else v for k, v in value.items()}


def _manifest(doc: Document, rel: str, where: str, anchor: Instruction) -> str:
    """A manifest's text for the hazard checks ("" when the build has none); Skip when it
    has one msdfix cannot read: a hazard in it (a local path) is unknown, not absent."""
    try:
        return doc.context.read_known(rel) or ""
    except Unreadable as exc:
        raise Skip(f"{where}: {exc}, so what it needs is unknown", anchor) from None


def _python(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    name = use.eco.key
    text = _manifest(doc, posixpath.join(use.project, name), where, anchor)
    # Here and below, [^\S\n]* after ^ (re.M), not \s*: from every line start \s* ran over all
    # the blank lines below and back (quadratic in a run of them).
    if (
        re.search(r"\bpath\s*=", text)
        # Pipfile's ``file = "./wheels/x.whl"`` or ``file:///app/lib``: not a remote URL
        # (pyproject's ``license = {file = "LICENSE"}`` is no dependency)
        or (name == "Pipfile" and re.search(r"""\bfile\s*=\s*["'](?![a-z+]+://(?!/))""", text))
        or re.search(r"@\s*file:", text)  # a PEP 508 direct reference to a local path
        or re.search(r"^[^\S\n]*\[tool\.uv\.workspace\]", text, re.M)
        or re.search(r"workspace\s*=\s*true", text)
    ):
        raise Skip(
            f"{where}: {name} has a local path dependency or workspace, which needs the sources",
            anchor,
        )
    _uv_stale_lock(doc, use, plan, stage, anchor)
    _pdm_saved_python(doc, use, plan)
    no_self = use.eco.no_self
    if no_self and not any(flag in use.args for flag in no_self):
        setting = use.eco.no_self_setting
        if not (setting and re.search(setting, text, re.M)):
            raise Skip(
                f"{where} installs the project itself, which needs the sources (use "
                f"`{no_self[0]}` for the dependencies)",
                anchor,
            )


def _pdm_saved_python(doc: Document, use: Use, plan: Plan) -> None:
    """A .pdm-python in the build context names the interpreter pdm chose where it was
    written; where that is missing pdm chooses again and replaces the file, which fails
    on the mounted copy (built with pdm 2.22.2: .pdm-python naming a host's venv, the
    original's install rewrote it and answered, the rewrite stopped with "[OSError]:
    [Errno 16] Device or resource busy: '/app/.pdm-python'")."""
    program = posixpath.basename(program_args(use.command)[0])
    if program == "pdm" and doc.context.exists(posixpath.join(use.project, ".pdm-python")):
        plan.unsafe.append(
            "pdm replaces .pdm-python where the interpreter it names is missing (a path "
            "from where it was written), which fails on the mounted file"
        )


def _uv_stale_lock(doc: Document, use: Use, plan: Plan, stage: Stage, anchor: Instruction) -> None:
    """A plain ``uv sync`` or ``pdm install`` rewrites a lock out of step with
    pyproject.toml (``uv_lock_stale``, ``pdm_lock_stale``) or, for uv, with the resolver
    settings it runs with (``uv_project_settings``: its options, the stage's ENV and ARG
    values, uv.toml or [tool.uv]), and the full COPY puts the context's stale copy back."""
    program = posixpath.basename(program_args(use.command)[0])
    words = positional_args(program, use.args, VALUE_OPTS)
    if program not in ("uv", "pdm"):
        return
    if project_manifest_writes(program, words, use.args) != WRITES_IN_PLACE:
        return
    name = f"{program}.lock"
    pyproject = doc.context.read_toml(posixpath.join(use.project, "pyproject.toml"))
    try:
        text = doc.context.read_known(posixpath.join(use.project, name), MAX_SCANNED_BYTES)
    except Unreadable as exc:  # unread is not "in step"
        plan.unsafe.append(_UNREAD_LOCK.format(exc=exc))
        return
    lock = parse_toml(text) if text is not None else None
    if pyproject is None or lock is None:
        return
    upgrade = uv_sync_upgrades(use.args) if program == "uv" else None
    if upgrade is not None:
        stale: str | None = f"`{upgrade}` upgrades"
    elif program == "pdm":
        stale = (
            "has another content_hash than pdm computes"
            if pdm_lock_stale(pyproject, lock)
            else None
        )
    else:
        env = {**doc.model.stage_scope(stage, anchor), **use.command.assignments}
        settings = uv_project_settings(doc.context, use.project, pyproject, env, use.args)
        stale = uv_lock_stale(pyproject, lock, settings)
    if stale is not None:
        run = "a `uv run` started from it locks again" if program == "uv" else "pdm locks again"
        plan.unsafe.append(
            f"the install rewrites {name}, which {stale}, and the full COPY puts the "
            f"context's copy back ({run})"
        )


def _go(doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage) -> None:
    ctx = doc.context
    text = _manifest(doc, posixpath.join(use.project, "go.mod"), where, anchor)
    if re.search(r"=>\s*(\.{1,2}/|/|\.\s*$|\.\.\s*$)", text, re.M):
        raise Skip(
            f"{where}: go.mod replaces a module with a local path, which needs the sources", anchor
        )
    if ctx.exists(posixpath.join(use.project, "go.work")) or ctx.exists("go.work"):
        raise Skip(
            f"{where}: go.work marks a workspace: every module's go.mod would have to come first",
            anchor,
        )
    if use.build and ctx.exists(posixpath.join(use.project, "vendor/modules.txt")):
        raise Skip("", anchor)
    try:  # a large module's go.sum is over 1 MiB
        go_sum = ctx.read_known(posixpath.join(use.project, "go.sum"), MAX_SCANNED_BYTES)
    except Unreadable as exc:  # unread is not "complete"
        if not use.build:
            plan.unsafe.append(_UNREAD_LOCK.format(exc=exc))
        return
    missing = None if use.build or go_sum is None else go_sum_missing(text, go_sum)
    if missing is not None:  # the download completes go.sum, which a later build reads
        plan.unsafe.append(
            f"the install adds {missing}'s go.mod hash to go.sum, and the full COPY puts the "
            "context's copy back"
        )


# Files of a project's .mvn/ directory that Maven reads on every run.
MAVEN_PROJECT_CONFIG = ("maven.config", "jvm.config", "extensions.xml")


def _maven(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = _manifest(doc, posixpath.join(use.project, "pom.xml"), where, anchor)
    if "<modules>" in text:
        raise Skip(
            f"{where}: pom.xml is a multi-module build: every module's pom.xml would have to come "
            "first",
            anchor,
        )
    if re.search(r"<relativePath>\s*[^<\s]", text) or (
        "<parent>" in text and doc.context.exists(posixpath.join(use.project, "../pom.xml"))
    ):
        raise Skip(f"{where}: pom.xml has a local parent pom", anchor)
    for name in MAVEN_PROJECT_CONFIG:  # read from the project's .mvn/ by every mvn run
        if doc.context.exists(posixpath.join(use.project, ".mvn", name)):
            raise Skip(
                f"{where}: .mvn/{name} configures Maven from the sources (settings, mirrors, "
                "extensions), which an added fetch before them would run without",
                anchor,
            )
    if use.build and doc.model.final is stage:
        plan.unsafe.append(
            "the added `dependency:go-offline` may download plugins into the final image's ~/.m2"
        )


def _gradle(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    for name in ("settings.gradle", "settings.gradle.kts"):
        text = _manifest(doc, posixpath.join(use.project, name), where, anchor)
        if re.search(r"^[^\S\n]*include", text, re.M):
            raise Skip(
                f"{where}: {name} includes subprojects: every build file would have to come first",
                anchor,
            )
    plan.unsafe.append("Gradle build scripts may read other files while configuring")


def _cargo(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = _manifest(doc, posixpath.join(use.project, "Cargo.toml"), where, anchor)
    if re.search(r"\bpath\s*=", text) or "[workspace]" in text:
        raise Skip(
            f"{where}: Cargo.toml has a path dependency, explicit target paths or a workspace",
            anchor,
        )
    if re.search(r"^[^\S\n]*\[(lib|\[(bin|bench|test|example)\])", text, re.M) or re.search(
        r"^[^\S\n]*(default-run|build)\s*=", text, re.M
    ):
        raise Skip(
            f"{where}: Cargo.toml declares its targets, so `cargo fetch` cannot run without the "
            "sources",
            anchor,
        )
    for name in CARGO_CONFIGS:  # the one cargo reads (source replacement: vendor/)
        path = posixpath.normpath(posixpath.join(use.project, name))
        if doc.context.exists(path):
            text = _manifest(doc, path, where, anchor)
            raise Skip(f"{where}: {path} {cargo_config_reads(text)}", anchor)


def _bundler(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    text = _manifest(doc, posixpath.join(use.project, "Gemfile"), where, anchor)
    lock = _manifest(doc, posixpath.join(use.project, "Gemfile.lock"), where, anchor)
    if (
        re.search(r"^[^\S\n]*(gemspec|eval_gemfile|path)\b", text, re.M)
        or re.search(r"(\bpath:|:path\s*=>)", text)
        or _LOCAL_GIT.search(_RUBY_COMMENT.sub("", text))
        or _LOCAL_LOCK.search(lock)
    ):
        raise Skip(
            f"{where}: the Gemfile uses a gemspec or local path gems, which need the sources",
            anchor,
        )
    read = _GEMFILE_READS.search(_RUBY_COMMENT.sub("", text))
    if read:
        raise Skip(
            f"{where}: the Gemfile reads other files (`{read.group(0).strip()}`), which the "
            "manifests alone lack",
            anchor,
        )
    platforms = _lock_platforms(lock)
    if platforms and not any(p == "ruby" or "linux" in p for p in platforms):
        raise Skip(
            f"{where}: Gemfile.lock lists no platform of the build ({', '.join(platforms)}): "
            "the install adds one to it, and the full COPY would bring the old lock back",
            anchor,
        )
    written = _writes_bundle_config(doc, stage, anchor, use.project)
    if written:
        raise Skip(
            f"{where}: `{written}` writes .bundle/config, which the full COPY would bring back "
            "from the context without those settings",
            anchor,
        )
    cache = _bundler_cache(doc, use.project)
    if cache:
        raise Skip(
            f"{where}: bundler installs from {cache} (packaged gems), which the manifests "
            "alone lack",
            anchor,
        )


# A gem from a git repository of the project (``git: "vendor/x"``, ``git "file://..." do``).
_LOCAL_GIT = re.compile(
    r"""(?:\bgit:\s*|:git\s*=>\s*|^[^\S\n]*git\s*\(?\s*)["'](?:file:|(?![a-z][a-z0-9+.-]*://|[\w.-]+@))""",
    re.M,
)
# Gemfile.lock sections of gems from the project's folders (``PATH``, a local ``GIT`` remote).
_LOCAL_LOCK = re.compile(
    r"^PATH\n|^GIT\n  remote: (?:file:|(?![a-z][a-z0-9+.-]*://|[\w.-]+@))", re.M
)


def _writes_bundle_config(
    doc: Document, stage: Stage, anchor: Instruction, project: str
) -> str | None:
    """The command that writes the project's .bundle/config in the install RUN or a RUN
    between it and the COPY before it, where the context has one (copied first, then brought
    back by the full COPY); None otherwise."""
    if not doc.context.exists(posixpath.join(project, ".bundle/config")):
        return None
    for ins in reversed([i for i in stage.instructions if i.start <= anchor.start]):
        if ins.cmd in ("copy", "add"):
            return None
        written = writes_local_config(ins.logical) if ins.cmd == "run" else None
        if written:
            return written
    return None


def _lock_platforms(lock: str) -> list[str]:
    """The PLATFORMS of a Gemfile.lock (empty when it has none)."""
    section = re.search(r"^PLATFORMS\n((?:  \S.*\n?)*)", lock, re.M)
    return section.group(1).split() if section else []


# Ruby in a Gemfile that opens files of the project (``ruby File.read(".ruby-version")``,
# ``ruby file: ".ruby-version"``, ``instance_eval(File.read("Gemfile.local"))``).
_GEMFILE_READS = re.compile(
    r"\b(?:File|IO|Pathname)\s*(?:\.|::)\s*(?:read|readlines|open|foreach|new|exist\?)"
    r"|\bruby\b[^\n]*\bfile:|\b(?:instance_eval|require_relative)\b|\bload\s*\(?\s*[\"'A-Z]"
    r"|\bDir\s*(?:\[|\.glob)"
)
_RUBY_COMMENT = re.compile(r"#(?!\{).*")


def _configured_outputs(doc: Document, eco: str, project: str, argv: list[str]) -> list[str]:
    """Where the project's own configuration puts the install (composer.json's
    ``config.vendor-dir`` and ``extra.installer-paths``, ``.bundle/config``'s ``BUNDLE_PATH``,
    yarn's and pnpm's modules folders and virtual store) besides the default. Built: yarn 1
    with ``--modules-folder deps`` in .yarnrc installed ms into deps/, which a stale deps/ms
    of the context, copied after the moved install, replaced (index.js of 6 bytes)."""
    if eco in ("yarn", "pnpm"):
        return module_folders(doc.context, "" if project == "." else project, argv)
    if eco == "composer":
        data = doc.context.read_json(posixpath.join(project, "composer.json"))
        config = data.get("config") if isinstance(data, dict) else None
        vendor = config.get("vendor-dir") if isinstance(config, dict) else None
        found = [vendor.strip("/")] if isinstance(vendor, str) and vendor.strip("/") else []
        extra = data.get("extra") if isinstance(data, dict) else None
        paths = extra.get("installer-paths") if isinstance(extra, dict) else None
        lock = doc.context.read_json(posixpath.join(project, "composer.lock"))
        locked = None
        if doc.context.exists(posixpath.join(project, "composer.lock")):
            locked = [*(_locked(lock, "packages") or []), *(_locked(lock, "packages-dev") or [])]
        return found + _installer_paths(paths, locked)
    if eco == "bundler":
        text = doc.context.read_text(posixpath.join(project, ".bundle/config")) or ""
        path = re.search(r"^BUNDLE_PATH:\s*[\"']?([^\"'\n]+)", text, re.M)
        return [path.group(1).strip().strip("/")] if path and path.group(1).strip() else []
    return []


def _uv_environment(
    doc: Document, stage: Stage, source: Source, use: Use, anchor: Instruction, where: str
) -> list[str]:
    """uv's project environment where UV_PROJECT_ENVIRONMENT moves it from .venv, relative to
    the project: a relative value, or an absolute one inside the copied tree; Skip when a
    build argument sets it. Built: uv 0.4.30 with ``/app/env`` and a developer's env/ in the
    context: the original's uv sync replaced that environment, the moved one's was overwritten
    by it (``env/bin/python`` linked to /opt/homebrew/bin/python3.12: the container failed)."""
    if use.eco.id != "uv":
        return []
    scope = {**doc.model.fixed_scope(stage, anchor), **use.command.assignments}
    if "UV_PROJECT_ENVIRONMENT" not in scope:
        return []
    value = scope["UV_PROJECT_ENVIRONMENT"]
    if value is None or "$" in value:
        raise Skip(f"{where}: a build argument sets UV_PROJECT_ENVIRONMENT", anchor)
    if not value.startswith("/"):
        return [value]
    if not within(value, source.dest):
        return []
    inner = posixpath.join(source.src, posixpath.relpath(value, source.dest))
    return [posixpath.relpath(posixpath.normpath(inner), use.project)]


def _installer_paths(paths: object, locked: list[Any] | None) -> list[str]:
    """The folders composer/installers' ``installer-paths`` install packages into: a path
    cut before its first placeholder (``web/modules/contrib/{$name}`` -> ``web/modules/
    contrib``; ``.`` when a placeholder leads), one without a placeholder as it is
    (``web/core``). With a composer.lock (``locked``), only paths a locked package is
    selected for (``type:drupal-module``, ``vendor:acme``, ``acme/mymod``). Built: a stale
    web/modules/contrib/mymod of the context, copied after the moved install, replaced the
    module composer had installed there."""
    if not isinstance(paths, dict):
        return []
    found = []
    for path, selectors in paths.items():
        if locked is not None and not any(_selects(selectors, p) for p in locked):
            continue
        head = path.split("{", 1)[0]
        folder = posixpath.dirname(head + "x") if "{" in path else path
        found.append(posixpath.normpath(folder.strip("/") or "."))
    return found


def _selects(selectors: object, package: object) -> bool:
    """An installer-paths selector list picks ``package`` (a composer.lock entry); True for
    anything msdfix cannot read (unknown is not "none")."""
    if not isinstance(selectors, list) or not isinstance(package, dict):
        return True
    name, kind = str(package.get("name", "")), str(package.get("type", "library"))
    for selector in selectors:
        if not isinstance(selector, str):
            return True
        if selector.startswith("type:") and selector[5:] == kind:
            return True
        if selector.startswith("vendor:") and name.split("/")[0] == selector[7:]:
            return True
        if selector == name:
            return True
    return False


def _bundler_cache(doc: Document, project: str) -> str | None:
    """The packaged-gems folder bundler installs from when it exists (``vendor/cache``, or
    the ``BUNDLE_CACHE_PATH`` of the project's ``.bundle/config``), if the context has one."""
    config = doc.context.read_text(posixpath.join(project, ".bundle/config")) or ""
    named = re.search(r"^BUNDLE_CACHE_PATH:\s*[\"']?([^\"'\n]+)", config, re.M)
    folder = named.group(1).strip() if named else "vendor/cache"
    if doc.context.holds(posixpath.normpath(posixpath.join(project, folder.strip("/")))):
        return folder
    return None


def _local_url(url: object) -> bool:
    """A URL or path of the project: no scheme (``artifacts/``, ``../lib``) or ``file:``."""
    return isinstance(url, str) and (
        url.startswith("file:") or re.match(r"[a-z][a-z0-9+.-]*://|[\w.-]+@", url) is None
    )


def local_composer_source(repos: list[Any], lock: object) -> str | None:
    """A composer repository (artifact, vcs, package, composer) or locked package whose files
    come from the project's folders; None when every one is remote."""
    for repo in repos:
        if not isinstance(repo, dict):
            continue
        if repo.get("type") == "artifact" or _local_url(repo.get("url")) and "url" in repo:
            return f"the {repo.get('type', 'composer')} repository {repo.get('url')}"
        packages = repo.get("package")
        for package in packages if isinstance(packages, list) else [packages]:
            for kind in ("dist", "source"):
                ref = package.get(kind) if isinstance(package, dict) else None
                if isinstance(ref, dict) and _local_url(ref.get("url")):
                    return f"the {kind} {ref.get('url')}"
    for key in ("packages", "packages-dev"):
        for package in _locked(lock, key) or []:
            for kind in ("dist", "source"):
                ref = package.get(kind) if isinstance(package, dict) else None
                if (
                    isinstance(ref, dict)
                    and ref.get("type") != "path"
                    and _local_url(ref.get("url"))
                ):
                    return f"the locked {kind} {ref.get('url')}"
    return None


def composer_plugin_reads(extra: object, locked: bool) -> str | None:
    """What composer.json's ``extra`` has a plugin read from the project while composer
    installs (plugins run with ``--no-scripts`` too), or None. wikimedia/composer-merge-plugin's
    ``merge-plugin`` adds the requirements of the composer.json files its globs name when no
    composer.lock fixes them (built: the moved install left the merged package out, "Class
    not found"; with the lock both installed the same). cweagans/composer-patches applies
    ``patches-file`` and the patches of ``patches`` given as paths (built: composer-patches
    1.7.3 stopped with a TypeError on the missing patch)."""
    if not isinstance(extra, dict):
        return None
    if extra.get("merge-plugin") and not locked:
        return "composer.json's extra.merge-plugin merges other composer.json files (no lock)"
    if extra.get("patches-file"):
        return f"composer.json's extra.patches-file has patches read ({extra['patches-file']})"
    tables = extra.get("patches")
    for table in tables.values() if isinstance(tables, dict) else []:
        for url in _patch_urls(table):
            if _local_url(url):
                return f"composer.json's extra.patches has the patch {url} read"
    return None


def _patch_urls(table: object) -> list[object]:
    """The patches composer-patches reads for one package: ``{"description": "url"}``, a
    list of URLs, or (v2) a list of ``{"description": ..., "url": ...}``."""
    entries = list(table.values()) if isinstance(table, dict) else table
    if not isinstance(entries, list):
        return []
    return [e.get("url") if isinstance(e, dict) else e for e in entries]


def _locked(lock: object, key: str) -> list[Any] | None:
    """composer.lock's ``packages`` or ``packages-dev`` list ([] without one); None when
    the lock is not an object or the value is not a list (composer refuses such a lock)."""
    if not isinstance(lock, dict):
        return None
    value = lock.get(key, [])
    return value if isinstance(value, list) else None


def _composer(
    doc: Document, use: Use, plan: Plan, anchor: Instruction, where: str, stage: Stage
) -> None:
    data = doc.context.read_json(posixpath.join(use.project, "composer.json"))
    if not isinstance(data, dict):
        raise Skip(f"{where}: composer.json could not be read", anchor)
    repos = data.get("repositories")
    repo_list = (
        list(repos.values())
        if isinstance(repos, dict)
        else repos
        if isinstance(repos, list)
        else []
    )
    if any(isinstance(r, dict) and r.get("type") == "path" for r in repo_list):
        raise Skip(f"{where}: composer.json has a path repository, which needs the sources", anchor)
    lock_path = posixpath.join(use.project, "composer.lock")
    lock = doc.context.read_json(lock_path)
    if doc.context.exists(lock_path) and any(
        _locked(lock, key) is None for key in ("packages", "packages-dev")
    ):  # too large, malformed or of another shape: what it locks is unknown, not nothing
        raise Skip(f"{where}: composer.lock could not be read", anchor)
    local = local_composer_source(repo_list, lock)
    if local is not None:
        raise Skip(
            f"{where}: composer reads {local} from the project, which needs the sources", anchor
        )
    locked = doc.context.exists(lock_path)
    extra = data.get("extra")
    plugin = None if "--no-plugins" in use.args else composer_plugin_reads(extra, locked)
    if plugin is not None:
        raise Skip(f"{where}: {plugin} from the project, which needs the sources", anchor)
    scripts = data.get("scripts")
    hooks = [s for s in COMPOSER_INSTALL_SCRIPTS if isinstance(scripts, dict) and s in scripts]
    if hooks and "--no-scripts" not in use.args:
        plan.unsafe.append(
            f"composer.json has {', '.join(hooks)} script(s), which `--no-scripts` skips"
        )


HAZARDS = {
    "node": _node,
    "python": _python,
    "go": _go,
    "maven": _maven,
    "gradle": _gradle,
    "cargo": _cargo,
    "bundler": _bundler,
    "composer": _composer,
}
