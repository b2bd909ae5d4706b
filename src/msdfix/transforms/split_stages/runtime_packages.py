"""OS packages a runtime stage installs again, named for the runtime's package manager."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache

from msdfix.ecosystems import os as osp
from msdfix.ecosystems.images import (
    MIME_TYPES,
    MIME_TYPES_PROVIDERS,
    SYSTEM_FONTS,
    family_of,
    provides_lacking,
)
from msdfix.ecosystems.os import (
    APK,
    APT,
    CA_BRINGING,
    CA_CERTIFICATES,
    CA_RECOMMENDING,
    needs_man_pages,
    package_manager,
    release_bound,
)
from msdfix.ecosystems.slim_lacks import system_font_use
from msdfix.model.context import Unreadable
from msdfix.model.program_calls import (
    BACKTICK_SUFFIXES,
    COMMON,
    MAX_SCANNED,
    SOURCE_SUFFIXES,
    TOO_MANY,
    VALUE_WORDS,
    is_script,
    is_sourced,
    search,
    source_text,
    sourced_script_paths,
    tar_tool,
)
from msdfix.shell.entry import toolbox
from msdfix.transforms.split_stages.build_stage import Analysis, Decline, Plan, dedupe


@dataclass
class RuntimePackages:
    """What the runtime stage installs, and the build packages it leaves out on evidence."""

    keep: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # dual-use tools nothing runs
    unknown: list[str] = field(default_factory=list)  # dual-use tools that may be needed


def build_manager(a: Analysis) -> str:
    """The package manager the build stage installs with (its packages' naming)."""
    return osp.APK if a.apk else osp.APT


def runtime_packages(a: Analysis, packages: list[str]) -> RuntimePackages:
    """Split the build's OS packages into runtime libraries/tools, dropped and unknown ones."""
    manager = build_manager(a)
    found = RuntimePackages()
    mapping = osp.DEV_TO_RUNTIME[manager]
    for name in packages:
        if name in osp.BUILD_ONLY[manager]:
            continue
        if name in mapping and not mapping[name] and a.eco != "python":
            # libsqlite3-dev: python:*-slim links libsqlite3; debian:*-slim and distroless lack it
            raise Decline(f"no runtime library known for {name} outside a Python image")
        if name in mapping:
            found.keep += mapping[name]
        elif name.endswith(("-dev", "-devel")):
            raise Decline(f"no runtime library known for {name} ({manager})")
        elif name in a.removed:
            continue  # the build removes it again: the original image does not have it
        elif name in osp.SETUP_TOOLS and not _build_runs(a, osp.SETUP_TOOLS[name]):
            found.keep.append(name)  # installed, never run by the build: the image's program's
        elif name in osp.DUAL_USE or name in osp.SETUP_TOOLS:
            used = runs_tool(a, osp.DUAL_USE.get(name) or osp.SETUP_TOOLS[name])
            if used is None:
                found.unknown.append(name)
            elif used:
                found.keep.append(name)
            else:
                found.dropped.append(name)
        else:
            found.keep.append(name)
    found.keep = list(dict.fromkeys(found.keep))
    return found


def _build_runs(a: Analysis, words: tuple[str, ...]) -> bool:
    """Whether a RUN of the build stage names one of ``words`` as a word of its script."""
    pattern = _words(words)
    return any(pattern.search(run.logical) for run in a.stage.of("run"))


@lru_cache(maxsize=16)  # one per SETUP_TOOLS entry
def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, words)) + r")(?![\w.-])")


def _scannable(rel: str) -> bool:
    """A copied file that may run a tool: a script or a source file, not docs or Dockerfiles."""
    if any(p.fullmatch(rel) for p in COMMON):
        return False
    script = rel.endswith((".sh", ".bash")) or "." not in posixpath.basename(rel)
    return script or rel.endswith(SOURCE_SUFFIXES)


def runs_tool(a: Analysis, tools: tuple[str, ...]) -> bool | None:
    """Whether the image's program may run one of ``tools``: True on evidence (entry command,
    HEALTHCHECK, repeated RUNs, a copied source or script naming it), False when the copied
    files show none, None without a context. A tool environment's users may run any of them."""
    try:
        found = tool_run(a, tools)
    except Unreadable:
        return None  # a source msdfix cannot read: unknown
    return found if found is None else bool(found)


def tool_run(a: Analysis, tools: tuple[str, ...], commands: tuple[str, ...] = ()) -> str | None:
    """The first of ``tools`` the image's program may run, or of ``commands`` a copied shell
    script runs ("" when none, "?" for any in a tool environment, ``TOO_MANY`` when the
    context has more sources than msdfix reads), or None when there is no context to look
    in (see ``runs_tool``). Raises Unreadable for a copied source msdfix cannot read."""
    if toolbox(a.entry):
        return "?"
    if not tools and not commands:
        return ""
    starts = [*a.entry.commands, *a.entry.substituted] if a.entry else []
    texts = [w for argv in starts for w in argv]
    texts += [i.args for i in a.stage.of("healthcheck")] + [i.args for i in a.setup_runs]
    texts += [v for i in a.stage.of("env", "arg") for v in VALUE_WORDS.split(i.args)]
    for text in texts:
        for word in text.split():
            if posixpath.basename(word) in tools:
                return posixpath.basename(word)
        if tar_tool(text, tools):
            return tar_tool(text, tools)
    if not a.ctx.present:
        return None
    scanned = 0
    copied = {rel for copy in a.copies for rel in copy.copied(a.ctx, "scannable", _scannable)}
    # `. /app/lib/helpers` runs lib/helpers (of the files read below)
    sourced = sourced_script_paths(a.ctx, sorted(copied)[: MAX_SCANNED + 1])
    for rel in sorted(copied):
        scanned += 1
        if scanned > MAX_SCANNED:
            return TOO_MANY  # unknown, never absent
        text = source_text(a.ctx, rel)
        bare = "." not in posixpath.basename(rel)  # a script without suffix, or LICENSE
        if bare and "/" in rel and not text.startswith("#!") and not is_sourced(rel, sourced):
            continue
        script = is_script(rel, text) or bare and "/" not in rel or is_sourced(rel, sourced)
        found = search(text, script, tools, commands, rel.endswith(BACKTICK_SUFFIXES))
        if found:
            return found
    return ""


# The programs of the compilers and build tools a split leaves in the build stage
# (``BUILD_ONLY``, and apk's gcc/g++/build-base, whose runtime gets libgcc/libstdc++ instead).
_BUILD_ONLY_PROGRAMS: dict[str, tuple[str, ...]] = {
    "gcc": ("gcc", "cc", "cpp"), "g++": ("g++", "c++"), "make": ("make",),
    "build-essential": ("gcc", "g++", "cc", "c++", "make"), "build-base": ("gcc", "g++", "make"),
    "cmake": ("cmake",), "clang": ("clang", "clang++"), "gfortran": ("gfortran",),
    "ninja-build": ("ninja",), "ninja": ("ninja",), "cargo": ("cargo",), "rustc": ("rustc",),
    "maven": ("mvn",), "default-jdk-headless": ("javac",), "pkg-config": ("pkg-config",),
    "pkgconf": ("pkgconf", "pkg-config"), "autoconf": ("autoconf", "autoreconf"),
    "binutils": ("objdump", "readelf", "addr2line"),
}  # fmt: skip
# Programs that run those compilers themselves: a start command's `python setup.py build_ext
# --inplace` compiles the extensions setup.py declares (built, round 26: python:3.11-slim with
# gcc installed answered; the split failed "command 'x86_64-linux-gnu-gcc' failed: No such
# file or directory"); node-gyp runs make and g++.
_COMPILER_DRIVERS: dict[str, tuple[str, ...]] = {
    "setup.py": ("gcc", "cc"), "node-gyp": ("make", "g++", "c++"),
}  # fmt: skip


def build_only_run(a: Analysis, installs: list[str]) -> str | None:
    """Why the program may run a compiler or build tool the build installs and the runtime
    leaves out (an online judge's ``subprocess.run(["gcc", ...])``: built, the split failed
    with "No such file or directory: 'gcc'"), or None; ``installs``: the runtime's packages.
    Without a context: unknown."""
    left = [
        p
        for p in a.packages
        if p in _BUILD_ONLY_PROGRAMS and p not in installs and p not in a.removed
    ]
    programs = tuple(dict.fromkeys(t for p in left for t in _BUILD_ONLY_PROGRAMS[p]))
    if not programs:
        return None
    programs += tuple(d for d, runs in _COMPILER_DRIVERS.items() if set(runs) & set(programs))
    try:
        found = tool_run(a, programs, programs)
    except Unreadable as exc:  # unread is not "runs none"
        return f"{exc}, so whether the program runs {_tool(left, programs)} is unknown"
    if found is None:
        return (
            "without the build context msdfix cannot tell whether the program runs "
            f"{_tool(left, programs)}"
        )
    if found == TOO_MANY:
        many = f"the context has more sources than msdfix reads ({MAX_SCANNED})"
        return f"{many}: one may run {_tool(left, programs)}"
    if found and found != "?":
        return _build_only_reason(found, left)
    return None


def _tool(left: list[str], programs: tuple[str, ...]) -> str:
    """The first build program ``programs`` names, with its package ``left[0]`` when that
    differs (gcc from build-essential), for a developer who knows programs, not packages."""
    return programs[0] if programs[0] == left[0] else f"{programs[0]} (from {left[0]})"


def _build_only_reason(found: str, left: list[str]) -> str:
    """The reason ``build_only_run`` gives for a program ``found`` (a tool or its driver)."""
    runs = _COMPILER_DRIVERS.get(found, (found,))
    package = next((p for p in left if set(runs) & set(_BUILD_ONLY_PROGRAMS[p])), left[0])
    via = f", which runs {runs[0]}" if found in _COMPILER_DRIVERS else ""
    return (
        f"the program may run `{found}`{via}, which the build installs ({package}) and the "
        "runtime leaves out"
    )


def _keep_needed(found: RuntimePackages, plan: Plan) -> None:
    """Keep the dual-use tools an installed package runs (GitPython runs git: the copied
    sources need not name it), which ``runtime_packages`` found no copied file running; all
    of them when the installed packages are not all known (pydriller brings GitPython)."""
    rescued = [p for p in found.dropped if p in plan.needed or plan.unlisted]
    if not rescued:
        return
    found.dropped = [p for p in found.dropped if p not in rescued]
    found.keep += rescued
    plan.notes.append(", ".join(f"{p} kept ({_kept_why(p, plan)})" for p in rescued))


def _kept_why(package: str, plan: Plan) -> str:
    """Why the runtime keeps a dual-use tool no copied file runs."""
    if package in plan.needed:
        return f"the installed {plan.needed[package]} runs it"
    return plan.unlisted or "an installed package may run it"


def add_runtime_packages(a: Analysis, plan: Plan) -> None:
    """Runtime OS packages, named for the runtime's package manager (the build's own)."""
    manager = package_manager(plan.runtime)
    found = runtime_packages(a, a.packages)
    _keep_needed(found, plan)
    keep = [p for p in found.keep if manager is not None or p not in CA_CERTIFICATES]
    if found.dropped:
        plan.notes.append(
            f"{' '.join(found.dropped)} left in the build stage "
            "(no copied source, script or command runs it)"
        )
    if manager is None:
        if keep:
            raise Decline(
                f"the runtime needs {' '.join(keep)} but {plan.runtime} has no package manager"
            )
        if found.unknown and plan.unsafe is None:
            plan.unsafe = (
                f"{' '.join(found.unknown)} is not installed in the runtime: without the build "
                "context msdfix cannot tell whether the program runs it"
            )
        return
    keep += found.unknown
    if keep and manager != build_manager(a) and a.packages:
        raise Decline(
            f"the build installs {build_manager(a)} packages but {plan.runtime} uses {manager}"
        )
    plan.apk = manager == APK
    if a.upgrades:
        plan.notes.append("the runtime's OS packages are upgraded too, as the build's were")
    plan.packages = list(dict.fromkeys(plan.packages + keep))
    if plan.packages and a.os_options and plan.unsafe is None:
        ins, flag = a.os_options[0]
        plan.unsafe = (
            f"the runtime installs its packages without {flag}, which the install at line "
            f"{ins.start_line} has"
        )
    bound = release_bound(plan.packages, plan.runtime) if manager == APT else None
    if bound is not None:
        raise Decline(bound)
    man = next((why for p in plan.packages if (why := needs_man_pages(p))), None)
    if manager == APT and man is not None and plan.runtime != a.stage.image.raw:
        raise Decline(
            f"the runtime needs {man}, which {plan.runtime} may lack (the -slim and minimal "
            "images drop man pages)"
        )
    _ca_bundle(a, plan)
    _mime_types(a, plan)
    _system_fonts(a, plan)
    if plan.runtime.startswith("debian:") and not plan.same_family:
        files = [f for f, p in TOOLCHAIN_FILES.items() if p not in plan.packages]
        plan.copies = dedupe([*plan.copies, *files])
        plan.notes.append(
            f"CA certificates and time zones come from {a.stage.image.raw} "
            f"({plan.runtime} may lack them)"
        )


def _ca_bundle(a: Analysis, plan: Plan) -> None:
    """A runtime without CA certificates (node's -slim: nodejs/docker-node purges them) gets
    ca-certificates when it installs a TLS client without its recommends (curl, wget, git:
    ca-certificates is only their recommendation), as the full image had them."""
    name, _, tag = plan.runtime.rpartition(":")
    family = family_of(name)
    if family is None or not family.slim_lacks & CA_CERTIFICATES or "slim" not in tag:
        return
    if a.recommends or set(plan.packages) & CA_BRINGING:
        return
    if set(plan.packages) & CA_RECOMMENDING:
        plan.packages.append("ca-certificates")
        plan.notes.append(f"ca-certificates added: {plan.runtime} has no CA certificates")


def _mime_types(a: Analysis, plan: Plan) -> None:
    """A -slim runtime of the build image's family that lacks its /etc/mime.types (python's:
    docker-library/python#254) gets the build image's copy, as Python's mimetypes reads it to
    type the files a server sends (.woff2 went out as application/octet-stream)."""
    name, _, tag = plan.runtime.rpartition(":")
    family = family_of(name)
    if family is None or not family.slim_lacks & MIME_TYPES or "slim" not in tag:
        return
    built_on = a.stage.image.tag or ""
    if not plan.same_family or "slim" in built_on or "alpine" in built_on:
        return  # the build image is no full variant: it has no copy either
    if set(plan.packages) & MIME_TYPES_PROVIDERS:
        return
    plan.copies = dedupe([*plan.copies, "/etc/mime.types"])
    plan.notes.append(f"/etc/mime.types comes from {a.stage.image.raw} ({plan.runtime} lacks it)")


def _system_fonts(a: Analysis, plan: Plan) -> None:
    """A -slim runtime of a family whose full image has fonts (``SYSTEM_FONTS``) has none: a
    program that reads the system's fonts makes the split unsafe unless the runtime installs
    a font (Pillow's ``truetype("DejaVuSans.ttf")`` raised "cannot open resource")."""
    name, _, tag = plan.runtime.rpartition(":")
    family = family_of(name)
    if family is None or not family.slim_lacks & SYSTEM_FONTS or "slim" not in tag:
        return
    built_on = a.stage.image.tag or ""
    if "slim" in built_on or "alpine" in built_on or plan.unsafe is not None:
        return  # the build image is no full variant: it has no fonts either
    if any(provides_lacking(p, set(plan.packages)) for p in SYSTEM_FONTS):
        return
    why = system_font_use(a.ctx, [i.args for i in a.stage.entry() if i is not None])
    if why is not None:
        plan.unsafe = f"{plan.runtime} has no fonts, which {a.stage.image.raw} has ({why})"


# Files of the toolchain images (buildpack-deps) that programs read at run time and a
# Debian -slim image leaves out, with the package that would bring them.
TOOLCHAIN_FILES = {
    "/etc/ssl/certs/ca-certificates.crt": "ca-certificates",
    "/usr/share/zoneinfo": "tzdata",  # not in debian:trixie-slim
}
