"""split-stages for Python: interpreter prefix or virtualenv on the slim image."""

from __future__ import annotations

import re
from collections.abc import Mapping

from msdfix.ecosystems import os as osp
from msdfix.ecosystems.images import no_slim_reason, slim_variant
from msdfix.ecosystems.python import (
    ENV_MANAGERS,
    MANAGERS,
    InstallEvidence,
    install_evidence,
    python_version,
)
from msdfix.ecosystems.python.requirements import requirement_name
from msdfix.ecosystems.python_builds import links_into_cache, relocating_config
from msdfix.model.image import respell
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import (
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    context_paths,
    dedupe,
    move_to_runtime,
    trailing_copies,
)
from msdfix.transforms.split_stages.runtime_packages import build_manager

# Top folders a base image fills: a ``pip install --target`` into one of them is not copied
# whole (the runtime's own files there would be the build image's).
IMAGE_TOP_DIRS = frozenset(
    "bin boot dev etc home lib lib32 lib64 libx32 proc root run sbin sys tmp usr var".split()
)


def own_target(call: Call) -> str | None:
    """The folder ``pip install --target DIR`` (``-t``) fills, when it is a literal absolute
    path (after the call's directory) outside the folders a base image fills, so the runtime
    can copy it whole (built: ``--target /deps`` on python:3.11 and the split copying /deps
    onto python:3.11-slim answered alike); None otherwise."""
    value = target_value(call.args)
    if call.program not in ("pip", "pip3") or not value or "$" in value:
        return None
    path = resolve(value, call.cwd)
    top = path.strip("/").split("/")[0]
    return path if top and top not in IMAGE_TOP_DIRS and ".." not in path.split("/") else None


def target_value(args: list[str]) -> str | None:
    """The folder of pip's ``--target`` in each spelling its option parser (optparse) takes:
    ``-t DIR``, ``-tDIR``, ``--target DIR``, ``--target=DIR`` and an abbreviation (``--targ``)
    (built: ``-t/deps`` filled /deps, which a split did not copy: "No module named 'six'");
    "" when the value is missing, None without the option."""
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if arg == "-t" or (len(name) >= 4 and "--target".startswith(name)):
            return value if eq else (args[i + 1] if i + 1 < len(args) else "")
        if arg.startswith("-t"):
            return arg[2:]
    return None


# Environment that makes pip or uv install somewhere else than the interpreter's prefix.
RELOCATING_ENV = (
    "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PYTHONUSERBASE",
    "UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV", "UV_TARGET", "UV_PREFIX",
)  # fmt: skip


UV = next(m for m in MANAGERS if m.id == "uv")
PIPS = ("pip", "pip3", "uv")  # the programs whose installs and uninstalls are read


def plan_python(a: Analysis) -> Plan:
    installs = [
        c for c in a.calls if c.program in PIPS and ("install" in c.args or c.sub == "sync")
    ]
    if any(c.program in ENV_MANAGERS for c in a.calls) or any(
        p in ENV_MANAGERS for _, p in a.unknown
    ):
        raise Decline(f"{'/'.join(ENV_MANAGERS)} environments are not handled")
    if not installs:
        raise NotABuild
    targets = [t for call in installs if (t := own_target(call))]
    for call in installs:
        moving = {"--user", "--prefix", "--root"} & {x.split("=")[0] for x in call.args}
        if moving or (target_value(call.args) is not None and own_target(call) is None):
            raise Decline(
                f"pip at line {call.ins.start_line} installs outside the interpreter's prefix"
            )
        env = {**a.scope(call.ins), **call.command.assignments}
        if call.program == "uv" and links_into_cache(
            UV, call.args, call.command.assignments, env, a.ctx
        ):
            raise Decline(
                f"uv at line {call.ins.start_line} links the packages into its cache "
                "(symlink mode), which the runtime would not have"
            )
        moved = next((v for v in RELOCATING_ENV if env.get(v)), None)
        if moved is not None:
            raise Decline(
                f"ENV {moved} makes {call.program} at line {call.ins.start_line} install "
                "outside the interpreter's prefix"
            )
    managed = _managed_python(a)
    if managed is not None:
        raise Decline(f"{managed}: uv may install a managed Python outside the copied prefix")
    config = relocating_config(a.ctx, [i.logical for st in a.stage.lineage for i in st.of("run")])
    if config is not None:
        raise Decline(f"{config}: the install may go outside the interpreter's prefix")
    tag = a.stage.image.tag
    runtime_tag = slim_variant("python", tag)
    if runtime_tag is None:
        raise Decline(no_slim_reason(a.stage.image.raw, tag))
    manager = build_manager(a)
    build_deps = [
        p
        for p in a.packages
        if p in osp.BUILD_ONLY[manager] or p in osp.DEV_TO_RUNTIME[manager] or p.endswith("-dev")
    ]
    if runtime_tag == tag and not build_deps:
        raise NotABuild
    venv = _venv(a)
    tail = trailing_copies(a)
    files = context_paths(a, None, tail)
    plan = Plan(
        respell(a.stage.image, a.stage.image.full_name, runtime_tag),
        dedupe([venv or "/usr/local", *targets, *files.paths]),
        same_family=True,
    )
    plan.stable.add(venv or "/usr/local")
    move_to_runtime(plan, tail)
    gone = a.removed if manager == osp.APK or _autoremoves(a) else set()
    compilers = [p for p in a.packages if p not in gone]
    plan.packages += _compiler_runtime(manager, compilers)
    unmapped = next(
        (
            osp.COMPILER_UNMAPPED[manager][p]
            for p in compilers
            if p in osp.COMPILER_UNMAPPED[manager]
        ),
        None,
    )
    pips = [c for c in a.calls if c in installs or c.program in PIPS and "uninstall" in c.args]
    evidence = install_evidence(
        a.ctx, [(c.program, c.args) for c in pips], python_version(tag), a.scope()
    )
    for name, libs in osp.PY_SOURCE_BUILT[manager].items():
        # psycopg beside psycopg-binary in every install loads the copy of libpq that brings
        # (built: a uv.lock of psycopg[binary] split onto python:3.11-slim without libpq5
        # answered "binary", as python:3.11 did)
        if name in evidence.packages and not evidence.own.get(name):
            plan.needed |= {lib: name for lib in libs if lib not in plan.needed}
    if not evidence.complete:
        plan.unlisted = "the installs bring packages no file here lists, which may run it"
    if runtime_tag != tag:
        plan.packages += list(plan.needed)
        plan.unsafe = _unmet(evidence, osp.PY_SOURCE_BUILT[manager], plan.runtime)
        plan.unsafe = plan.unsafe or _unproven(evidence, plan.runtime)
    if unmapped is not None and plan.unsafe is None:
        plan.unsafe = f"code the build compiled may load {unmapped}, which msdfix does not install"
    return plan


def _autoremoves(a: Analysis) -> bool:
    """A RUN of the build removes packages nothing depends on any more (``apt-get purge
    --auto-remove``, ``apt-get autoremove``): a compiler's libraries go with it. A plain
    ``purge`` leaves them installed, as apk's ``del`` of a virtual group does not."""
    return any(re.search(r"\bauto-?remove\b", run.logical) for run in a.stage.of("run"))


def _compiler_runtime(manager: str, packages: list[str]) -> list[str]:
    """The support libraries of the compilers the build installs (pip builds sdists with the
    flags each package chooses: ``-fopenmp`` links libgomp, which the slim runtime lacks).
    A compiler the build removes with its dependencies is left out."""
    found = [lib for p in packages for lib in osp.COMPILER_RUNTIME[manager].get(p, ())]
    return list(dict.fromkeys(found))


def _unmet(
    evidence: InstallEvidence, known: Mapping[str, tuple[str, ...]], runtime: str
) -> str | None:
    """Why packages that need the full image (``PY_NEEDS_FULL``) and have no runtime packages
    msdfix knows to install (``PY_SOURCE_BUILT``) keep it: PyStan compiles models with g++
    while the program runs, whatever installed it from wheels."""
    if evidence.status != "native":
        return None
    unmet = [n for n in evidence.names if (requirement_name(n) or n) not in known]
    if not unmet:
        return None
    verb = "needs" if len(unmet) == 1 else "need"
    return (
        f"{', '.join(unmet[:3])} {verb} compilers, libraries or programs that only the full "
        f"image has, and msdfix knows no package that brings them to {runtime}"
    )


def _unproven(evidence: InstallEvidence, runtime: str) -> str | None:
    """Why the installed packages may need the full image's libraries (None: proven not to)."""
    names = ", ".join(evidence.names[:3])
    why = {
        "none": None,
        "unknown": evidence.why or "msdfix cannot see every package the installs bring",
        "native": f"source-built packages ({names}) get only their known runtime libraries, "
        "and nothing shows that the others install from wheels",
        "git": f"packages from git ({names}) build from source",
        "open": "the requirements do not list every dependency (no lock file, pip-compile "
        "output or hashes)",
        "unproven": "nothing shows that every package installs from a wheel (a lock file "
        "listing wheels, or --only-binary :all:)"
        + (f"; {names} may be built from source" if names else ""),
    }[evidence.status]
    if evidence.status == "open":  # wheels, but which? psycopg's loads libpq at run time
        return f"{why}: one may load a system library {runtime} lacks"
    return f"{why}: compiled packages may link libraries {runtime} lacks" if why else None


def _managed_python(a: Analysis) -> str | None:
    """Why uv may pick (and download) a managed interpreter instead of the image's, which
    lives under ~/.local/share/uv/python: a preference for managed ones, or a version other
    than the image's asked by ``--python``/``UV_PYTHON`` or the context's .python-version."""
    image = python_version(a.stage.image.tag)
    for call in a.calls:
        if call.program != "uv" or call.args[:1] not in (["sync"], ["venv"], ["run"]):
            continue
        env = {**a.scope(call.ins), **call.command.assignments}
        if (env.get("UV_PYTHON_PREFERENCE") or "") in ("managed", "only-managed"):
            return f"UV_PYTHON_PREFERENCE={env['UV_PYTHON_PREFERENCE']}"
        wanted = [env.get("UV_PYTHON") or ""]
        wanted += [
            call.args[i + 1] for i, arg in enumerate(call.args[:-1]) if arg in ("--python", "-p")
        ]
        wanted += [x.split("=", 1)[1] for x in call.args if x.startswith("--python=")]
        text = a.ctx.read_text(".python-version") if a.ctx.present else None
        if text and text.strip():
            wanted.append(text.strip().splitlines()[0])
        for value in wanted:
            asked = python_version(value.removeprefix("python").removeprefix("cpython-"))
            if asked is not None and asked != image:
                return f"uv at line {call.ins.start_line} asks for Python {value}"
    return None


# uv venv's options that take a value (the folder is its only positional argument).
_UV_VENV_VALUES = frozenset(
    "-p --python --prompt --index-url --extra-index-url -i -f --find-links --index-strategy "
    "--keyring-provider --link-mode --exclude-newer --cache-dir --directory --project "
    "--config-file --color --index --default-index".split()
)


def _uv_venv_dir(args: list[str]) -> str:
    """The folder ``uv venv`` creates: its positional argument, else ``.venv``."""
    for i, arg in enumerate(args):
        if not arg.startswith("-") and (i == 0 or args[i - 1] not in _UV_VENV_VALUES):
            return arg
    return ".venv"


def _venv(a: Analysis) -> str | None:
    path = a.scope().get("PATH", "")
    for call in a.calls:
        target = None
        if call.program in ("venv", "virtualenv") and call.args:  # python -m venv DIR
            target = call.args[-1]
        elif call.program == "uv" and call.args[:1] == ["venv"]:  # uv venv [DIR]
            target = _uv_venv_dir(call.args[1:])
        if target:
            venv = resolve(target, call.cwd)
            if venv + "/bin" in path.split(":"):
                return venv
            raise Decline(f"virtualenv {venv} is not on the PATH set by ENV")
    return None
