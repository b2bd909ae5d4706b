"""Which app files the runtime gets: context entries, build outputs, served folder, package dir."""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.images import NODE_NEEDS_FULL
from msdfix.ecosystems.node.dependencies import read_dependencies
from msdfix.ecosystems.node.local_packages import local_package_names
from msdfix.ecosystems.node.scripts import script_name
from msdfix.model.paths import within
from msdfix.model.program_calls import COMMON
from msdfix.shell.classify import program_args
from msdfix.shell.commands import parse_commands
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import Analysis, context_dir
from msdfix.transforms.split_stages.home_writes import home_writer
from msdfix.transforms.split_stages.node.global_installs import is_global_install, project_installs

WRITERS = frozenset({"cp", "mv", "mkdir", "rsync", "ln", "tee", "install"})


def writes_outside(a: Analysis, app: str) -> str | None:
    """A package.json script the build runs that writes an absolute path outside the app."""
    rel = package_dir(a, app) if a.ctx.present else None
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if package is None:
        return None
    for call in a.calls:
        named = script_name([call.program, *call.args])
        variable = next((w for w in call.args if "$" in w), None) if named else None
        if variable is not None:  # npm run ${BUILD_SCRIPT}, npm run build -- $FLAGS
            return (
                f"the script `{named}` at line {call.ins.start_line} runs with `{variable}`, "
                "which a build argument may set: what it writes, and where, is unknown"
            )
        script = frontend.script_of([call.program, *call.args], package)
        for command in parse_commands(script) if script else []:
            program, args = program_args(command)
            outside = [x for x in args if x.startswith("/") and not within(x, app)]
            if program in WRITERS and outside:
                return (
                    f"the {call.program} script at line {call.ins.start_line} writes {outside[-1]}"
                )
    return None


def dependency_home_writer(a: Analysis, rel: str | None) -> str | None:
    """A production dependency whose install script may write outside node_modules."""
    deps = read_dependencies(a.ctx, rel) if rel is not None else None
    return home_writer(a.ctx, rel, deps) if deps is not None and rel is not None else None


def needs_full_image(a: Analysis, app: str, runtime: str) -> str | None:
    """Why the app may need the build image's system libraries or programs (None: it does not)."""
    rel = package_dir(a, app) if a.ctx.present else None
    deps = read_dependencies(a.ctx, rel) if rel is not None else None
    unknown = deps.unknown if deps is not None else _no_package(a, rel)
    if deps is None or unknown is not None:
        return (
            f"{unknown}: msdfix cannot rule out packages that need "
            f"libraries or programs {runtime} lacks"
        )
    local = local_package_names(a.ctx, rel) if rel is not None else set()
    if local is None:
        return (
            "more local packages (workspace members, path dependencies) than msdfix reads: "
            f"it cannot rule out packages that need libraries or programs {runtime} lacks"
        )
    needs = sorted((deps.names | local) & NODE_NEEDS_FULL)
    if needs:
        return f"{needs[0]} needs libraries or programs that {runtime} lacks"
    return None


def _no_package(a: Analysis, rel: str | None) -> str:
    """Why the project's package.json was not read: not in the context, or there and
    unreadable (nested too deep, too large, not JSON: it had read as not found)."""
    path = posixpath.join(rel, "package.json") if rel else "package.json"
    if rel is not None and a.ctx.exists(path):
        return "package.json could not be read"
    return "package.json not found in the build context"


def linked_bins(a: Analysis, app: str, rel: str | None) -> frozenset[str]:
    """The programs the npm lock of the app's package.json links into node_modules/.bin for
    production packages (kept by every runtime), where the start runs in the app's folder:
    npx runs such a local program without the package cache (built: ``npx semver`` and
    ``npx node-which``, whose package is which, answered offline on the split)."""
    if rel is None or a.final_dir != app:
        return frozenset()
    deps = read_dependencies(a.ctx, rel)
    return deps.production_bins if deps else frozenset()


def package_dir(a: Analysis, app: str) -> str | None:
    """The context directory of the package.json the build copies into ``app``."""
    rel = context_dir(a, app, a.stage.instructions[-1])
    if rel is not None:
        return rel
    target = resolve("package.json", app)
    for copy in reversed(a.copies):
        for source, dest in copy.context_files(a.ctx):
            if dest == target:
                return posixpath.dirname(source)
    return None


def context_entries(a: Analysis, app: str) -> list[str]:
    """Image paths of the context files copied into the app, without Dockerfiles, docs, VCS."""
    return [  # a folder's .gitkeep or README keeps the folder (the app may write into it)
        dest
        for copy in a.copies
        for rel, dest in [
            *copy.context_files(a.ctx),
            *((d, d) for d in copy.bare_dirs(a.ctx)),
            *copy.repositories(a.ctx),
        ]
        if within(dest, app)
        and not (
            top(dest, app) == dest
            and any(p.fullmatch(posixpath.basename(rel)) for p in COMMON)
            and not a.reads_doc(posixpath.basename(rel))
        )
    ]


def top(path: str, base: str) -> str:
    rest = posixpath.relpath(path, base)
    return resolve(rest.split("/")[0], base)


def build_outputs(a: Analysis, app: str, rel: str) -> set[str] | None:
    """Top-level paths in ``app`` the build scripts write (None: cannot tell)."""
    package = frontend.package_json(a.ctx, rel)
    found: set[str] = set()
    for call in a.calls:
        if call in project_installs(a) or is_global_install(call) or call.cwd != app:
            continue
        argv = [call.program, *call.args]
        script = frontend.build_script(argv, package) if package else None
        env = a.build_env(call)
        written = (
            frontend.output_paths(a.ctx, rel, script, package, env=env)
            if script and package
            else None
        )
        if written is None:
            return None
        paths, gone = written
        entries = {top(dest, app) for dest in context_entries(a, app)}
        if any(within(entry, resolve(g, app)) for g in gone for entry in entries):
            return None  # "build": "tsc && rm -rf src": a COPY of /app/src would fail
        found |= {resolve(path.split("/")[0], app) for path in paths}
    return found


def served_dir(a: Analysis, app: str, rel: str) -> str | None:
    """The directory the entry command serves with a static file server, or None."""
    if a.entry is None or len(a.entry.commands) != 1 or a.final_dir != app:
        return None
    package = frontend.package_json(a.ctx, rel)
    served = frontend.static_server(a.entry.commands[0], a.ctx, rel, package)
    return served[0] if served else None
