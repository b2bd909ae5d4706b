"""split-stages for Node: the app on the slim image, production dependencies from a deps stage.

The deps/build/production pattern: a ``prod-deps`` stage on the build image installs the
production dependencies from the manifests alone (package.json, the lock file, .npmrc, ...), so
a source edit never re-runs it; the runtime copies its ``node_modules`` and the app's files from
the build stage, without the build's ``node_modules`` (which holds the dev dependencies). When
the build deletes ``node_modules`` itself, the runtime gets the app as the build left it, and
no dependencies come back. A static site served by a static file server (``serve``,
``http-server``, ``sirv``) ships the served directory, package.json and the production
dependencies (the server) only.
"""

from __future__ import annotations

from msdfix.ecosystems.images import no_slim_reason, slim_variant
from msdfix.ecosystems.node.dependencies import read_dependencies
from msdfix.ecosystems.node.scripts import lifecycle_hooks
from msdfix.model.image import respell
from msdfix.model.paths import within
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import (
    Analysis,
    Decline,
    NotABuild,
    Plan,
    context_dir,
    context_paths,
    dedupe,
    move_to_runtime,
    trailing_copies,
)
from msdfix.transforms.split_stages.node.app_files import (
    build_outputs,
    context_entries,
    dependency_home_writer,
    linked_bins,
    needs_full_image,
    package_dir,
    top,
    writes_outside,
)
from msdfix.transforms.split_stages.node.deps_blockers import deps_stage_blocker
from msdfix.transforms.split_stages.node.deps_stage import (
    add_deps_stage,
    modules_first,
    pnp_cache_outside,
    without_modules,
)
from msdfix.transforms.split_stages.node.global_installs import (
    corepack_tools,
    entry_may_run_globals,
    global_dirs,
    is_global_install,
    npm_global_elsewhere,
    project_installs,
    yarn_global_elsewhere,
)
from msdfix.transforms.split_stages.node.production_install import (
    config_left_behind,
    modules_moved,
    production_only,
    writes_new_lock,
)
from msdfix.transforms.split_stages.node.removals import deletes_node_modules
from msdfix.transforms.split_stages.node.start_commands import entry_outside, start_commands_of


def plan_node(a: Analysis) -> Plan:
    plan = _plan(a)
    plan.unsafe = plan.unsafe or entry_outside(a, plan)
    return plan


def _plan(a: Analysis) -> Plan:
    installs = project_installs(a)
    if not installs:
        raise NotABuild
    tag = a.stage.image.tag
    runtime_tag = slim_variant("node", tag)
    if runtime_tag is None:
        raise Decline(no_slim_reason(a.stage.image.raw, tag))
    built = any(c.sub == "run" or c.program == "yarn" and c.sub == "build" for c in a.calls)
    if runtime_tag == tag and not built:
        raise NotABuild
    app = installs[0].cwd
    files = context_paths(a, None)
    may_run_globals = any(is_global_install(c) and c.program != "corepack" for c in a.calls)
    globals_ = global_dirs(a) if may_run_globals and entry_may_run_globals(a) else []
    plan = Plan(
        respell(a.stage.image, a.stage.image.full_name, runtime_tag),
        dedupe([app, *files.paths, *globals_]),
        same_family=True,
    )
    rel = package_dir(a, app) if a.ctx.present else None
    moved = modules_moved(a, rel, installs)
    if moved is not None:
        raise Decline(
            f"{moved} puts the installed packages outside {app}/node_modules, which the "
            "runtime would copy"
        )
    a.start = start_commands_of(
        a, (frontend.package_json(a.ctx, rel) if rel is not None else None) or {}
    )
    plan.local_bins = linked_bins(a, app, rel)
    plan.unsafe = (
        needs_full_image(a, app, plan.runtime)
        or dependency_home_writer(a, rel)
        or writes_outside(a, app)
        or (yarn_global_elsewhere(a) or npm_global_elsewhere(a) if globals_ else None)
        or corepack_tools(a)
        or config_left_behind(a)
        or pnp_cache_outside(a, rel)
    )
    deleted = deletes_node_modules(a, app, installs)
    if deleted is not None:
        plan.notes.append(
            f"the build deletes {app}/node_modules"
            + (
                " and installs again in the same RUN: the runtime gets the ones it installs"
                if deleted
                else ": the runtime gets none (no dependencies come back)"
            )
        )
        return plan
    if all(production_only(a, c) for c in installs):
        plan.notes.append("the build installs production dependencies only: the app is copied")
        rel = context_dir(a, app, a.stage.instructions[-1])
        outputs = build_outputs(a, app, rel) if rel is not None and a.ctx.present else None
        tail = trailing_copies(a) if outputs is None else []
        if tail:  # the app directory whole, without the files copied after the install
            plan.copies = dedupe([app, *context_paths(a, None, tail).paths, *globals_])
            move_to_runtime(plan, tail)
        # node_modules first, so source edits keep it cached; only when the install surely
        # creates it: without production dependencies it may create none, and a COPY of a
        # missing path fails the build (the app directory is copied whole instead).
        deps = read_dependencies(a.ctx, rel) if outputs is not None and rel is not None else None
        package = frontend.package_json(a.ctx, rel) if rel is not None else None
        hooks = (
            lifecycle_hooks(package, a.ctx, rel)
            if package is not None and rel is not None
            else None
        )
        if (  # an install hook may write next to package.json (node-gyp's build/)
            outputs is not None
            and deps
            and deps.production
            and {c.cwd for c in installs} == {app}
            and package is not None
            and not hooks
            and not writes_new_lock(a, rel, installs)
        ):
            modules = resolve("node_modules", app)
            entries = {top(dest, app) for dest in context_entries(a, app)} | outputs
            rest = [p for p in plan.copies if p != app]
            above = [p for p in rest if within(modules, p)]
            if above:  # COPY . . at /app, the app in /app/apps/api: /app holds node_modules
                without_modules(a, plan, modules, above)
                entries = {e for e in entries if not any(within(e, p) for p in above)}
            plan.copies = [modules, *dedupe([*sorted(entries - {modules}), *rest])]
            plan.stable.add(modules)
        return plan
    reason = deps_stage_blocker(a, app, installs)
    if reason is not None:
        plan.notes.append(f"dev dependencies kept ({reason})")
        modules_first(a, plan, app, installs)
        return plan
    add_deps_stage(a, plan, app, installs[-1])
    return plan
