"""split-stages for Rust: `cargo build`/`cargo install --path` binaries and the libraries they link."""

from __future__ import annotations

import posixpath
import re
import sys

from msdfix.ecosystems.base import option
from msdfix.ecosystems.rust import (
    CARGO_CONFIGS,
    RUST_CARGO_HOME,
    RUST_CRATE_LIBS,
    RUST_RUNTIME,
    cargo_config_target_dir,
    glibc_at_most_bookworm,
)
from msdfix.files import load_toml
from msdfix.model.context import MAX_SCANNED_BYTES, Unreadable
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import (
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    context_dir,
    context_paths,
    dedupe,
)
from msdfix.transforms.split_stages.image_tools import healthcheck
from msdfix.transforms.split_stages.native_runtime import (
    check_entry_runs,
    check_linked_libraries,
    debian_runtime,
    glibc_risk,
)

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


def plan_rust(a: Analysis) -> Plan:
    builds = [c for c in a.calls if c.program == "cargo" and c.sub in ("build", "install")]
    if not builds:
        raise NotABuild
    if "alpine" in (a.stage.image.tag or ""):
        raise Decline("alpine (musl) Rust builds are not handled")
    artefacts: list[str] = []
    for call in builds:
        if call.sub == "install":
            artefacts += _cargo_install(a, call)
            continue
        out = _cargo_dir(a, call)
        names = _cargo_bins(a, call)
        if names is None:
            path = a.entry_path(a.entry.argv[0]) if a.entry else None
            if not path or posixpath.dirname(path) != out:
                raise Decline(
                    "cannot tell the binary name (no Cargo.toml and the CMD does not name target/…)"
                )
            names = [posixpath.basename(path)]
        artefacts += [resolve(n, out) for n in names]
    moves = check_entry_runs(a, artefacts)
    files = context_paths(a, "rust")
    plan = Plan(debian_runtime(a), dedupe(artefacts + files.paths), moves=moves)
    plan.notes += [
        f"{src}{' (`cargo install` output)' if src.endswith('/bin/' + posixpath.basename(src)) else ''}"
        f" is copied to {dst} (on the runtime PATH)"
        for src, dst in moves.items()
    ]
    bare = a.entry is not None and not a.entry.shell and not a.setup_runs
    bare = bare and not healthcheck(a.stage)[0]  # a shell-form HEALTHCHECK needs /bin/sh
    if bare and glibc_at_most_bookworm(a.stage.image.tag):
        plan.runtime, plan.shell = RUST_RUNTIME, False
    try:  # a large workspace's Cargo.lock is over 1 MiB: read as "no Cargo.lock" before
        lock = a.ctx.read_known("Cargo.lock", MAX_SCANNED_BYTES)
        why = "no Cargo.lock in the context: the shared libraries the binary needs are"
    except Unreadable as exc:
        lock, why = None, f"{exc}, so the shared libraries the binary needs are"
    if lock is None:
        plan.unsafe = f"{why} unknown"
    else:
        crates = set(re.findall(r'^name = "([^"]+)"', lock, re.MULTILINE))
        unknown = sorted(c for c in crates if c.endswith("-sys") and c not in RUST_CRATE_LIBS)
        if unknown:  # libz-sys, libsqlite3-sys: pkg-config picks the library at build time
            plan.unsafe = (
                f"{unknown[0]} links a system library msdfix cannot name, which the runtime "
                "may lack"
            )
        for crate, libs in RUST_CRATE_LIBS.items():
            if crate in crates:
                plan.packages += [p for p in libs if p not in plan.packages]
        if "libssl3" in plan.packages and "bookworm" not in plan.runtime:
            raise Decline("openssl-sys links a release-specific libssl")
        if not plan.shell and set(plan.packages) <= {"libssl3", "ca-certificates"}:
            plan.packages = []  # distroless/cc ships both
        elif not plan.shell:
            plan.runtime, plan.shell = debian_runtime(a), True
    if a.ctx.present and a.ctx.glob("*build.rs"):
        plan.unsafe = plan.unsafe or (
            "build.rs runs code msdfix does not read at build time, which may write files the "
            "program needs next to the binary"
        )
    if not plan.shell and _spawns(a):  # distroless (not :debug) has no programs at all
        plan.runtime, plan.shell = debian_runtime(a), True
    glibc_risk(a, plan)
    check_linked_libraries(a, plan)
    if files.whole and files.paths:
        plan.notes.append(
            "no build context: the copied source tree comes along in case the program reads it"
        )
    return plan


def _cargo_dir(a: Analysis, call: Call) -> str:
    args = call.args
    profile = "release" if "--release" in args or "-r" in args else "debug"
    named = option(args, "--profile")
    if named:
        profile = "debug" if named == "dev" else named
    target_dir = (
        option(args, "--target-dir")
        or call.command.assignments.get("CARGO_TARGET_DIR")
        or a.fixed_value("CARGO_TARGET_DIR", call.ins)
        or _config_target_dir(a, call)
        or "target"
    )
    manifest = option(args, "--manifest-path")
    cwd = resolve(posixpath.dirname(manifest), call.cwd) if manifest else call.cwd
    triple = option(args, "--target")
    path = resolve(target_dir, cwd)
    return resolve(profile, resolve(triple, path) if triple else path)


def _config_target_dir(a: Analysis, call: Call) -> str | None:
    """``build.target-dir`` of the .cargo/config(.toml) cargo reads in the build's folder
    (from the context), relative to that folder: a build with ``target-dir = "out"`` there
    wrote /app/out/release/app, which msdfix had called "not the built binary"."""
    rel = context_dir(a, call.cwd, call.ins)
    for name in CARGO_CONFIGS if rel is not None else ():
        path = posixpath.join(rel, name) if rel else name
        if a.ctx.exists(path):
            try:
                return cargo_config_target_dir(a.ctx.read_known(path) or "")
            except Unreadable as exc:
                raise Decline(f"{exc}, so where cargo builds is unknown") from None
    return None


def _cargo_install(a: Analysis, call: Call) -> list[str]:
    """Binaries `cargo install --path X` puts in $CARGO_HOME/bin (/usr/local/cargo/bin)."""
    line = call.ins.start_line
    path = option(call.args, "--path")
    if path is None or {"--git", "--example", "--examples"} & set(call.args):
        raise Decline(f"`cargo install` at line {line} does not build the copied sources")
    env = call.command.assignments
    root = (
        option(call.args, "--root")
        or env.get("CARGO_INSTALL_ROOT")
        or a.fixed_value("CARGO_INSTALL_ROOT", call.ins)
        or env.get("CARGO_HOME")
        or a.fixed_value("CARGO_HOME", call.ins)
        or RUST_CARGO_HOME
    )
    crate = resolve(path, call.cwd)
    rel = context_dir(a, crate, call.ins)
    if "$" in root + path or rel is None:
        raise Decline(f"cannot tell what `cargo install` at line {line} builds or where")
    names = _cargo_bins(a, call, rel)
    if names is None:
        raise Decline(f"cannot tell the binary name of `cargo install` at line {line}")
    return [resolve(n, resolve("bin", resolve(root, call.cwd))) for n in names]


def _cargo_bins(a: Analysis, call: Call, rel: str = "") -> list[str] | None:
    explicit = [call.args[i + 1] for i, x in enumerate(call.args[:-1]) if x == "--bin"]
    if explicit:
        return explicit
    text = a.ctx.read_text(posixpath.join(rel, "Cargo.toml"))
    if text is None:
        return None
    try:
        data = load_toml(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    if "workspace" in data and "package" not in data:
        raise Decline("Cargo workspace: cannot tell which binary is built")
    bins, package_table = data.get("bin", []), data.get("package", {})
    if not isinstance(bins, list) or not isinstance(package_table, dict):
        raise Decline("Cargo.toml has a [package] or [[bin]] msdfix cannot read")
    names = [b["name"] for b in bins if isinstance(b, dict) and isinstance(b.get("name"), str)]
    if len(names) != len(bins) or any("required-features" in b for b in bins):
        raise Decline("a [[bin]] of Cargo.toml is built only with features msdfix cannot tell")
    package = package_table.get("name")
    if package is not None and not isinstance(package, str):
        raise Decline("Cargo.toml names its package with something other than a string")
    claimed = {posixpath.normpath(b["path"]) for b in bins if isinstance(b.get("path"), str)}
    if package_table.get("autobins") is False:
        return names or None  # only the [[bin]] tables are built
    # Cargo's own targets: src/main.rs as the package (unless a [[bin]] takes it) and
    # src/bin/*.rs or src/bin/*/main.rs, each built and maybe run by the program
    if (
        package
        and "src/main.rs" not in claimed
        and a.ctx.exists(posixpath.join(rel, "src/main.rs"))
    ):
        names.append(package)
    elif package and not names:
        names.append(package)
    for path in a.ctx.glob(posixpath.join(rel, "src/bin/*")) if a.ctx.present else []:
        inside = path[len(posixpath.join(rel, "src/bin/")) :]
        stem = inside[: -len(".rs")] if "/" not in inside and inside.endswith(".rs") else None
        stem = stem or (inside.split("/")[0] if inside.endswith("/main.rs") else None)
        local = posixpath.relpath(path, rel) if rel else path
        if stem and local not in claimed and stem not in names:
            names.append(stem)
    return names or None


_SPAWNS = re.compile(re.escape("Command::new"))


def _spawns(a: Analysis) -> bool:
    """A Rust source that starts a program (``Command::new("df")``)."""
    return (
        any(
            a.ctx.may_match(rel, _SPAWNS)  # (or cannot be read: unknown)
            for rel in (a.ctx.glob("*.rs") if a.ctx.present else [])
            if not rel.startswith(("target/", "vendor/"))
        )
        or not a.ctx.present
    )
