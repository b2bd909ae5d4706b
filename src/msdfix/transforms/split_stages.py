"""split-stages: a single stage that builds from source becomes a build stage and a runtime stage.

What it does
    Names the original stage ``build`` (its text is kept, ``AS build`` is appended to its FROM)
    and appends a ``runtime`` stage on the smallest base that still runs the program, with only
    the artefact and the files the program reads copied over (``COPY --from=build``) at the same
    paths. ARG/ENV/WORKDIR/USER/SHELL are repeated in the runtime stage; EXPOSE/LABEL/VOLUME/
    HEALTHCHECK/STOPSIGNAL/ENTRYPOINT/CMD move there with their comments, so the final image's
    configuration is byte-identical. Per ecosystem:

    - Go: ``go build -o X`` -> the binary on ``gcr.io/distroless/static-debian12``;
      ``CGO_ENABLED=0`` is added only when the context shows no cgo (no ``import "C"``, no cgo
      module in go.mod); cgo or unknown -> ``distroless/base-debian12`` (glibc); a shell-form
      CMD or user setup -> ``debian:<release>-slim`` (``alpine`` for alpine builds).
    - Rust: ``cargo build --release`` -> ``target/release/<bin>`` on
      ``gcr.io/distroless/cc-debian12`` (glibc, libgcc, libssl3, CA certificates) for an exec-form
      entry built on Debian 12 or older; otherwise ``debian:<release>-slim`` plus the libraries
      Cargo.lock crates link (``openssl-sys`` -> ``libssl3``).
    - Java: Maven/Gradle -> the jar the CMD runs (``-jar``, checked against pom.xml) or the
      ``installDist`` tree, on the JRE of the same vendor and major (``eclipse-temurin:17-jre``).
    - .NET: ``dotnet publish -o X`` -> X on ``mcr.microsoft.com/dotnet/aspnet`` (``runtime`` for
      console projects) of the same version.
    - Rust ``cargo install --path X``: the binary in ``$CARGO_HOME/bin`` (``/usr/local/cargo``;
      name from Cargo.toml) is copied to ``/usr/local/bin``, so a bare-name CMD still finds it.
    - Node (backends and static frontends alike, same server and port): the app directory on
      ``node:<tag>-slim``; dev dependencies are dropped by ``npm prune --omit=dev`` in a
      ``prod-deps`` stage when package-lock.json is there and the start command does not use a
      dev dependency; global npm installs carry ``/usr/local``. A static frontend served by
      ``serve``/``http-server``/``sirv``/``vite preview`` is also offered on
      ``nginx:1.25-alpine`` serving the build output (unsafe).
    - Several apps: a frontend built with npm/yarn/pnpm in its own directory next to a Go (or
      other) backend, or in a subdirectory of a Node backend, gets a ``frontend`` stage
      (BuildKit builds it in parallel) on ``node:<major>-slim`` (the major of the build image's
      distribution ``nodejs`` package; the same image for Node) copying only that directory.
      Its output (from the build script: vite/webpack config, esbuild/parcel flags,
      react-scripts; or the ``//go:embed`` directory) is copied into the build stage where its
      RUNs were, and to the runtime unless Go embeds it.
    - Python: ``/usr/local`` (interpreter + pip installs) or the virtualenv, and the app, on
      ``python:<tag>-slim``; ``-dev`` packages and compilers stay in the build stage, their
      runtime libraries are installed instead (``libpq-dev`` -> ``libpq5``).

    OS packages that are not build tools are installed again in the runtime stage; RUNs that only
    create users/directories or set permissions are repeated there.
Why
    A single stage ships the compiler, the package caches and the sources: typically 1 GB where
    20-150 MB would do.
Example
    ``FROM golang:1.22`` ... ``RUN go build -o /app/server .`` ... ``CMD ["/app/server"]``
    becomes ``FROM golang:1.22 AS build`` ... ``RUN CGO_ENABLED=0 go build -o /app/server .``
    and ``FROM gcr.io/distroless/static-debian12 AS runtime`` /
    ``COPY --from=build /app/server /app/server`` / ``CMD ["/app/server"]``.
Fix safety
    Safe when the artefact and everything the program needs are known: Go (static binary
    proven by the context or ``CGO_ENABLED=0``; unknown cgo uses a glibc base), Rust with a
    Cargo.lock, Java with a ``-jar``/installDist entry on a JRE of the same vendor, .NET,
    Node, and Python with the requirements visible (compiled dependencies' libraries come from a
    mapping table); a frontend stage on the Node major of the distribution's ``nodejs`` package
    the stage installed (the same image for Node backends). Unsafe (offered with
    ``--unsafe-fixes``): Rust or Python without a build context (shared libraries unknown),
    builds that run the app's own scripts (``python x.py``, ``node x.js``) that may write files
    outside the copied paths, a frontend whose Node major is a guess (release unknown), and
    nginx for a static frontend (a separate fix, yielded first so it wins when unsafe fixes are
    on: it changes CMD, EXPOSE, WORKDIR and ENV and declares them in its own
    ``changes_config``; the safe split keeps the same server and port). Not split (the reason
    is shown): unknown build commands or downloads, ``cargo install`` of a crate (not the copied
    sources), ``-dev`` packages without a known runtime library, users created by build RUNs,
    ENV reading the build image's variables, a CMD that does not run the artefact, an artefact
    whose name cannot be found, a frontend whose output directory cannot be told, that shares
    the backend's directory or whose RUN also builds the backend. Never touched: multi-stage
    files, ONBUILD, Windows images, ``FROM scratch``, bases that are not a known toolchain image.
"""

from __future__ import annotations

import posixpath
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Fix, apply_edits
from msdfix.knowledge import ecosystems as eco
from msdfix.model import Stage
from msdfix.model.artifacts import resolve
from msdfix.model.build_stage import (
    ALPINE_SETUP,
    BUILD,
    DEBIAN_SETUP,
    ECO_TOOLS,
    GO_VALUE_FLAGS,
    HARMLESS,
    IMAGE_USERS,
    MOVE,
    PRUNE,
    REPEAT,
    ROOT,
    RUNTIME,
    SETUP,
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    context_dir,
    context_paths,
    copy_line,
    dedupe,
    final_user,
    keyword,
    option,
)
from msdfix.model.frontend_stage import (
    NGINX_CONFIG,
    apply_frontend,
    nginx_runtime,
    plan_frontend,
)
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.base import Transform, register

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# ---------------------------------------------------------------- ecosystems


def _go(a: Analysis) -> Plan:
    builds = [c for c in a.calls if c.program == "go" and c.sub in ("build", "install")]
    if not builds:
        raise NotABuild
    artefacts: list[str] = []
    static: bool | None = None
    edits: list[Edit] = []
    unsafe = None
    for call in builds:
        if call.sub == "install":
            paths, guessed = _go_install_output(a, call)
            unsafe = unsafe or guessed
            artefacts += paths
        else:
            artefacts.append(_go_output(a, call))
    cgo = _cgo_setting(a, builds)
    if cgo == "0":
        static = True
    elif cgo is None and a.ctx.present and not _uses_cgo(a):
        static = True
        for call in builds:
            word = call.command.words[0]
            if not call.script.editable or word.value != "go" or call.command.assignments:
                static = None
                break
            at = call.script.physical(word.start)
            edits.append(Edit(at, at, "CGO_ENABLED=0 "))
        if static is None:
            edits = []
    elif (
        cgo is None
        and "alpine" in (a.stage.image.tag or "")
        and not set(a.packages) & {"gcc", "build-base", "musl-dev"}
    ):
        static = True  # no C compiler: cgo is off
    moves = _check_entry_runs(a, artefacts)
    files = context_paths(a, "go")
    alpine = eco.alpine_version(a.stage.image.tag)
    needs_shell = (
        a.entry is not None
        and a.entry.shell
        or bool(a.setup_runs)
        or bool(_runtime_packages(a, a.packages))
    )
    if needs_shell:
        runtime = eco.ALPINE_RUNTIME.format(version=alpine) if alpine else _debian(a)
    elif static:
        runtime = eco.GO_STATIC_RUNTIME
    elif alpine:
        runtime = eco.ALPINE_RUNTIME.format(version=alpine)
    else:
        runtime = eco.GO_GLIBC_RUNTIME
    plan = Plan(
        runtime,
        dedupe(artefacts + files.paths),
        shell=needs_shell,
        build_edits=edits,
        apk=bool(alpine),
    )
    plan.moves, plan.unsafe = moves, unsafe
    if not static and not alpine:
        _glibc_risk(a, plan)
    plan.notes += [f"{src} is copied to {dst} (on the runtime PATH)" for src, dst in moves.items()]
    if edits:
        plan.notes.append("CGO_ENABLED=0 (no cgo in the sources)")
    if files.whole and files.paths:
        plan.notes.append(
            "no build context: the copied source tree comes along in case the program reads it"
        )
    return plan


def _go_output(a: Analysis, call: Call) -> str:
    args = call.args[call.args.index(call.sub) + 1 :]
    cwd = call.cwd
    chdir = option(args, "-C")
    if chdir:
        cwd = resolve(chdir, cwd)
    out = option(args, "-o", "--o")
    if out is not None:
        value = a._expand(out)
        if value is None or value.endswith("/"):
            raise Decline(f"cannot tell the output of `go build` at line {call.ins.start_line}")
        return resolve(value, cwd)
    positional, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.split("=")[0] in GO_VALUE_FLAGS or arg.split("=")[0].lstrip("-") in {
            f.lstrip("-") for f in GO_VALUE_FLAGS
        }:
            skip = "=" not in arg
        elif not arg.startswith("-"):
            positional.append(arg)
    if len(positional) > 1 and not all(p.endswith(".go") for p in positional):
        raise Decline(
            f"`go build` at line {call.ins.start_line} builds several packages without -o"
        )
    if positional and positional[0].endswith(".go"):
        return resolve(posixpath.basename(positional[0])[:-3], cwd)
    if positional and positional[0] not in (".", "./"):
        if "..." in positional[0] or not positional[0].startswith("."):
            raise Decline(f"cannot tell the binary name of `go build {positional[0]}`")
        return resolve(posixpath.basename(resolve(positional[0], cwd)), cwd)
    module = _go_module(a)
    if module:
        name = module.rstrip("/").split("/")
        last = name[-2] if len(name) > 1 and re.fullmatch(r"v[0-9]+", name[-1]) else name[-1]
        return resolve(last, cwd)
    if a.entry is not None:
        path = a.entry_path(a.entry.argv[0])
        if path and path.startswith("/") and posixpath.dirname(path) == cwd:
            return path
    raise Decline(
        f"cannot tell the binary name of `go build` at line {call.ins.start_line} "
        "(no -o, no go.mod)"
    )


def _go_module(a: Analysis) -> str | None:
    text = a.ctx.read_text("go.mod") or ""
    match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return match.group(1).strip('"') if match else None


def _cgo_setting(a: Analysis, builds: list[Call]) -> str | None:
    values = {
        c.command.assignments.get("CGO_ENABLED") or a.scope(c.ins).get("CGO_ENABLED")
        for c in builds
    }
    return values.pop() if len(values) == 1 else None


def _uses_cgo(a: Analysis) -> bool:
    gomod = a.ctx.read_text("go.mod") or ""
    if any(m in gomod for m in eco.GO_CGO_MODULES):
        return True
    for rel in a.ctx.glob("*.go"):
        text = a.ctx.read_text(rel) or ""
        if re.search(r'^\s*import\s+"C"|^\s*"C"\s*$', text, re.MULTILINE):
            return True
    return False


def _check_entry_runs(a: Analysis, artefacts: list[str]) -> dict[str, str]:
    """The entry command must run an artefact; returns artefacts moved onto the runtime PATH."""
    if a.entry is None:
        raise Decline("no CMD or ENTRYPOINT says which binary runs")
    moves: dict[str, str] = {}
    for argv in a.entry.commands:
        path = a.entry_path(argv[0]) if argv else None
        if path is None:
            raise Decline("the CMD/ENTRYPOINT program name uses a variable")
        if path.startswith("/"):
            ok = path in artefacts
        else:
            found = [p for p in artefacts if posixpath.basename(p) == path]
            ok = len(found) == 1
            if ok and posixpath.dirname(found[0]) not in eco.STANDARD_PATH:
                moves[found[0]] = "/usr/local/bin/" + path
        if not ok and not (a.entry.shell and argv[0] in HARMLESS):
            raise Decline(f"the CMD/ENTRYPOINT runs `{argv[0]}`, which is not the built binary")
    return moves


def _go_install_output(a: Analysis, call: Call) -> tuple[list[str], str | None]:
    """Binary path of `go install` and, when the name is a guess, why the split is unsafe."""
    scope = a.scope(call.ins)
    gobin = call.command.assignments.get("GOBIN") or scope.get("GOBIN")
    gopath = (call.command.assignments.get("GOPATH") or scope.get("GOPATH") or "/go").split(":")[0]
    out = gobin or resolve("bin", gopath)
    if "$" in out:
        raise Decline(
            f"cannot tell where `go install` at line {call.ins.start_line} puts the binary"
        )
    args = call.args[call.args.index(call.sub) + 1 :]
    packages = [x.split("@")[0] for x in args if not x.startswith("-")]
    if any("..." in p for p in packages):
        name = posixpath.basename(a.entry.argv[0]) if a.entry and a.entry.argv else ""
        if not name or "$" in name:
            raise Decline(f"`go install` at line {call.ins.start_line} builds several binaries")
        return [
            resolve(name, out)
        ], "the binary the CMD runs is assumed to come from `go install ./...`"
    if packages and "." not in packages and "./" not in packages:
        names = [posixpath.basename(p.rstrip("/")) for p in packages]
        if len(names) > 1:  # library packages install no binary: keep the one the CMD runs
            wanted = posixpath.basename(a.entry.argv[0]) if a.entry and a.entry.argv else ""
            names = [n for n in names if n == wanted]
        return [resolve(n, out) for n in names], None
    module = _go_module(a)
    if module:
        return [resolve(module.rstrip("/").split("/")[-1], out)], None
    if within(call.cwd, resolve("src", gopath)) and call.cwd != resolve("src", gopath):
        return [resolve(posixpath.basename(call.cwd), out)], None
    raise Decline(f"cannot tell the binary name of `go install` at line {call.ins.start_line}")


def _release(a: Analysis) -> str | None:
    """The Debian release the build image is on (its glibc), or None when unknown."""
    tag = a.stage.image.tag
    if a.eco == "go":
        return eco.golang_release(tag)
    codename = eco.debian_codename(tag)
    if codename or a.eco != "rust":
        return codename
    if eco.glibc_at_most_bookworm(tag):
        return "bookworm"
    return "trixie" if re.match(r"^\d+\.\d+", tag or "") else None


def _debian(a: Analysis) -> str:
    return eco.DEBIAN_SLIM.format(codename=_release(a) or "bookworm")


def _glibc_risk(a: Analysis, plan: Plan) -> None:
    """A dynamically linked binary needs a runtime with the build image's glibc or newer."""
    release = _release(a)
    if release == "trixie" and plan.runtime.startswith("gcr.io/distroless/"):
        plan.runtime = plan.runtime.replace("-debian12", "-debian13")
    if release is None and plan.unsafe is None:
        plan.unsafe = (
            f"the Debian release of {a.stage.image.raw} is unknown: the binary may need a "
            f"newer glibc than {plan.runtime} has"
        )


def _rust(a: Analysis) -> Plan:
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
    moves = _check_entry_runs(a, artefacts)
    files = context_paths(a, "rust")
    plan = Plan(_debian(a), dedupe(artefacts + files.paths), moves=moves)
    plan.notes += [
        f"{src}{' (`cargo install` output)' if src.endswith('/bin/' + posixpath.basename(src)) else ''}"
        f" is copied to {dst} (on the runtime PATH)"
        for src, dst in moves.items()
    ]
    bare = a.entry is not None and not a.entry.shell and not a.setup_runs
    if bare and eco.glibc_at_most_bookworm(a.stage.image.tag):
        plan.runtime, plan.shell = eco.RUST_RUNTIME, False
    lock = a.ctx.read_text("Cargo.lock")
    if lock is None:
        plan.unsafe = (
            "no Cargo.lock in the context: the shared libraries the binary needs are unknown"
        )
    else:
        crates = set(re.findall(r'^name = "([^"]+)"', lock, re.MULTILINE))
        for crate, libs in eco.RUST_CRATE_LIBS.items():
            if crate in crates:
                plan.packages += [p for p in libs if p not in plan.packages]
        if "libssl3" in plan.packages and "bookworm" not in plan.runtime:
            raise Decline("openssl-sys links a release-specific libssl")
        if not plan.shell and set(plan.packages) <= {"libssl3", "ca-certificates"}:
            plan.packages = []  # distroless/cc ships both
        elif not plan.shell:
            plan.runtime, plan.shell = _debian(a), True
    _glibc_risk(a, plan)
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
        or a.scope(call.ins).get("CARGO_TARGET_DIR")
        or "target"
    )
    manifest = option(args, "--manifest-path")
    cwd = resolve(posixpath.dirname(manifest), call.cwd) if manifest else call.cwd
    triple = option(args, "--target")
    path = resolve(target_dir, cwd)
    return resolve(profile, resolve(triple, path) if triple else path)


def _cargo_install(a: Analysis, call: Call) -> list[str]:
    """Binaries `cargo install --path X` puts in $CARGO_HOME/bin (/usr/local/cargo/bin)."""
    line = call.ins.start_line
    path = option(call.args, "--path")
    if path is None or {"--git", "--example", "--examples"} & set(call.args):
        raise Decline(f"`cargo install` at line {line} does not build the copied sources")
    scope = {**a.scope(call.ins), **call.command.assignments}
    root = (
        option(call.args, "--root")
        or scope.get("CARGO_INSTALL_ROOT")
        or scope.get("CARGO_HOME")
        or eco.RUST_CARGO_HOME
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
        data = tomllib.loads(text)
    except ValueError:
        return None
    if "workspace" in data and "package" not in data:
        raise Decline("Cargo workspace: cannot tell which binary is built")
    names = [b["name"] for b in data.get("bin", []) if isinstance(b, dict) and "name" in b]
    package = data.get("package", {}).get("name")
    if (not names or a.ctx.exists(posixpath.join(rel, "src/main.rs"))) and package:
        names.append(package)
    return names or None


def _java(a: Analysis) -> Plan:
    builds = [c for c in a.calls if _java_build(c)]
    if not builds:
        raise NotABuild
    image = eco.java_runtime(a.stage.image.full_name, a.stage.image.tag)
    if image is None:
        raise Decline(
            f"no JRE image of the same vendor and version is known for {a.stage.image.raw}"
        )
    if a.entry is None:
        raise Decline("no CMD or ENTRYPOINT says which jar runs")
    artefacts: list[str] = []
    for argv in a.entry.commands:
        if not argv:
            continue
        if posixpath.basename(argv[0]) == "java":
            jar = option(argv, "-jar")
            classpath = option(argv, "-cp", "-classpath", "--class-path")
            entries = [jar] if jar else classpath.split(":") if classpath else []
            for item in entries:
                path = a.entry_path(item)
                if path is None or not path.startswith("/"):
                    raise Decline(f"cannot tell which files `{item}` in the CMD names")
                _check_pom(a, path)
                artefacts.append(path)
            if not entries:
                raise Decline("cannot tell which jar the CMD runs")
        elif "/build/install/" in (a.entry_path(argv[0]) or ""):
            path = a.entry_path(argv[0]) or ""
            artefacts.append(
                path[: path.index("/build/install/")]
                + "/build/install/"
                + path.split("/build/install/")[1].split("/")[0]
            )
        elif not (a.entry.shell and argv[0] in HARMLESS):
            raise Decline(f"the CMD runs `{argv[0]}`, not `java -jar` or an installDist script")
    files = context_paths(a, "java")
    return Plan(
        image[0],
        dedupe(artefacts + files.paths),
        unsafe=None if image[1] else "JRE of another vendor",
    )


def _java_build(call: Call) -> bool:
    tool = posixpath.basename(call.program)
    kind = (
        "maven" if tool in ("mvn", "mvnw") else "gradle" if tool in ("gradle", "gradlew") else None
    )
    if kind is None:
        return False
    tasks = {t.lower().split(":")[-1] for t in call.args if not t.startswith("-")}
    return bool(tasks & eco.JAVA_BUILD_TASKS[kind])


def _check_pom(a: Analysis, jar: str) -> None:
    text = a.ctx.read_text("pom.xml")
    if text is None or any(ch in jar for ch in "*?["):
        return
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""

    def find(path: str) -> str | None:
        node = root.find("/".join(ns + p for p in path.split("/")))
        return node.text.strip() if node is not None and node.text else None

    name = (
        find("build/finalName")
        or f"{find('artifactId')}-{find('version') or find('parent/version')}"
    )
    if (
        "$" not in name
        and posixpath.dirname(jar).endswith("/target")
        and posixpath.basename(jar) != f"{name}.jar"
    ):
        raise Decline(f"pom.xml builds {name}.jar but the CMD runs {posixpath.basename(jar)}")


def _dotnet(a: Analysis) -> Plan:
    builds = [c for c in a.calls if c.program == "dotnet" and c.sub == "publish"]
    if not builds:
        raise NotABuild
    outs = []
    for call in builds:
        out = option(call.args, "-o", "--output")
        if out is None or a._expand(out) is None:
            raise Decline(
                f"`dotnet publish` at line {call.ins.start_line} has no -o: "
                "output directory unknown"
            )
        outs.append(resolve(a._expand(out) or "", call.cwd))
    if a.entry is None or not a.entry.argv:
        raise Decline("no CMD or ENTRYPOINT says which assembly runs")
    argv = a.entry.argv
    dll = argv[1] if posixpath.basename(argv[0]) == "dotnet" and len(argv) > 1 else argv[0]
    value = a._expand(dll)
    target = resolve(value, a.final_dir) if value else None
    if not target or not any(within(target, o) for o in outs):
        raise Decline("the CMD does not run the published output")
    projects = a.ctx.glob("*.csproj") + a.ctx.glob("*/*.csproj")
    web = not projects or any(
        "Microsoft.NET.Sdk.Web" in (a.ctx.read_text(p) or "") for p in projects
    )
    runtime = eco.dotnet_runtime(a.stage.image.tag, web)
    if runtime is None:
        raise Decline(f"no .NET runtime image known for {a.stage.image.raw}")
    files = context_paths(a, "dotnet")
    return Plan(runtime, dedupe(outs + files.paths))


def _node(a: Analysis) -> Plan:
    installs = [
        c
        for c in a.calls
        if c.program in ("npm", "yarn", "pnpm") and c.sub in ("ci", "install", "i", "")
    ]
    if not installs:
        raise NotABuild
    tag = a.stage.image.tag
    runtime_tag = eco.slim_variant("node", tag)
    if runtime_tag is None:
        raise Decline(f"no slim variant known for {a.stage.image.raw}")
    built = any(c.sub == "run" or c.program == "yarn" and c.sub == "build" for c in a.calls)
    if runtime_tag == tag and not built:
        raise NotABuild
    app = installs[0].cwd
    files = context_paths(a, None)
    plan = Plan(
        f"{a.stage.image.full_name}:{runtime_tag}", dedupe([app, *files.paths]), same_family=True
    )
    if any(
        c.program == "npm"
        and ("-g" in c.args or "--global" in c.args)
        or c.program == "yarn"
        and c.sub == "global"
        for c in a.calls
    ):
        plan.copies = dedupe(plan.copies + ["/usr/local/lib/node_modules", "/usr/local/bin"])
    manager = installs[0].program
    reason = _prune_blocker(a, manager)
    if reason is None:
        major = re.match(r"\d+", tag or "")
        flag = "--omit=dev" if major is None or int(major.group(0)) >= 16 else "--production"
        if app != a.final_dir:
            plan.prune.append(f"{keyword(a.doc, 'WORKDIR')} {app}")
        if final_user(a) not in ROOT:
            plan.prune.append(f"{keyword(a.doc, 'USER')} root")
        plan.prune.append(f"{keyword(a.doc, 'RUN')} npm prune {flag}")
        plan.notes.append("dev dependencies pruned")
    else:
        plan.notes.append(f"dev dependencies kept ({reason})")
    return plan


def _prune_blocker(a: Analysis, manager: str) -> str | None:
    if manager != "npm":
        return f"{manager} prune is not offered"
    if not a.ctx.present:
        return "no build context to check package.json"
    if not (a.ctx.exists("package-lock.json") or a.ctx.exists("npm-shrinkwrap.json")):
        return "no package-lock.json"
    package = a.ctx.read_json("package.json")
    if not isinstance(package, dict):
        return "package.json unreadable"
    dev = set(package.get("devDependencies") or {})
    scripts = package.get("scripts") or {}
    for argv in a.entry.commands if a.entry else []:
        words = list(argv)
        if words and words[0] in ("npm", "yarn", "pnpm"):
            name = (
                "start"
                if words[1:2] == ["start"]
                else (words[2] if len(words) > 2 and words[1] == "run" else None)
            )
            words = str(scripts.get(name, "")).split() if name else []
        elif words and words[0] == "npx":
            words = words[1:]
        for word in words:
            if word in dev or posixpath.basename(word) in dev:
                return f"the start command uses dev dependency {word}"
    return None


def _python(a: Analysis) -> Plan:
    installs = [c for c in a.calls if c.program in ("pip", "pip3", "uv") and "install" in c.args]
    if any(c.program in ("poetry", "pipenv") for c, _ in [(u, 0) for u in a.calls]) or any(
        p in ("poetry", "pipenv") for _, p in a.unknown
    ):
        raise Decline("poetry/pipenv environments are not handled")
    if not installs:
        raise NotABuild
    for call in installs:
        if {"--user", "--target", "-t", "--prefix", "--root"} & {
            x.split("=")[0] for x in call.args
        }:
            raise Decline(
                f"pip at line {call.ins.start_line} installs outside the interpreter's prefix"
            )
    tag = a.stage.image.tag
    runtime_tag = eco.slim_variant("python", tag)
    if runtime_tag is None:
        raise Decline(f"no slim variant known for {a.stage.image.raw}")
    build_deps = [
        p
        for p in a.packages
        if p in eco.BUILD_ONLY_PACKAGES or p in eco.DEV_TO_RUNTIME or p.endswith("-dev")
    ]
    if runtime_tag == tag and not build_deps:
        raise NotABuild
    venv = _venv(a)
    files = context_paths(a, None)
    plan = Plan(
        f"{a.stage.image.full_name}:{runtime_tag}",
        dedupe([venv or "/usr/local", *files.paths]),
        same_family=True,
    )
    if runtime_tag != tag:
        requirements = _requirements(a)
        if requirements is None:
            plan.unsafe = (
                "requirements not visible: compiled packages may link libraries of the full image"
            )
        else:
            for name, libs in eco.PY_SOURCE_BUILT.items():
                if name in requirements:
                    plan.packages += libs
    return plan


def _venv(a: Analysis) -> str | None:
    path = a.scope().get("PATH", "")
    for call in a.calls:
        target = None
        if (
            call.program in ("python", "python3")
            and call.args[:2] == ["-m", "venv"]
            and len(call.args) > 2
        ):
            target = call.args[-1]
        elif call.program == "virtualenv" and call.args:
            target = call.args[-1]
        if target:
            venv = resolve(target, call.cwd)
            if venv + "/bin" in path.split(":"):
                return venv
            raise Decline(f"virtualenv {venv} is not on the PATH set by ENV")
    return None


def _requirements(a: Analysis) -> set[str] | None:
    names: set[str] = set()
    found = False
    for rel in (
        "requirements.txt",
        "requirements/prod.txt",
        "requirements/base.txt",
        "pyproject.toml",
        "setup.py",
    ):
        text = a.ctx.read_text(rel)
        if text is None:
            continue
        found = True
        for line in text.splitlines():
            match = re.match(r"^\s*[\"']?([A-Za-z0-9._-]+)", line.split("#")[0])
            if match:
                names.add(match.group(1).lower().replace("_", "-"))
    return names if found else None


PLANNERS = {
    "go": _go,
    "rust": _rust,
    "java": _java,
    "dotnet": _dotnet,
    "node": _node,
    "python": _python,
}


# ---------------------------------------------------------------- common checks and rendering


def _runtime_packages(a: Analysis, packages: list[str]) -> list[str]:
    """OS packages the runtime needs: non-build packages, and -dev packages mapped to libraries."""
    wanted: list[str] = []
    uses = " ".join(" ".join(c) for c in (a.entry.commands if a.entry else []))
    health = " ".join(i.args for i in a.stage.of("healthcheck"))
    for name in packages:
        if name in ("curl", "wget") and (name in health or name in uses):
            wanted.append(name)
        elif name in eco.DEV_TO_RUNTIME:
            wanted += eco.DEV_TO_RUNTIME[name]
        elif name.endswith(("-dev", "-devel")):
            raise Decline(f"no runtime library known for {name}")
        elif name not in eco.BUILD_ONLY_PACKAGES:
            wanted.append(name)
    return list(dict.fromkeys(wanted))


def _common_checks(a: Analysis, plan: Plan) -> None:
    for ins, program in a.unknown:
        if id(ins) in a.mixed:
            raise Decline(
                f"RUN at line {ins.start_line} runs `{program}` together with other build "
                "steps: the frontend build cannot get its own stage"
            )
        raise Decline(
            f"RUN at line {ins.start_line} runs `{program}`, "
            "which may create files the runtime needs"
        )
    plan.packages = list(dict.fromkeys(plan.packages + _runtime_packages(a, a.packages)))
    if plan.packages and not plan.shell:
        raise Decline("the runtime needs OS packages but the chosen base has no package manager")
    if a.scripts and plan.unsafe is None:
        first = a.scripts[0]
        plan.unsafe = (
            f"RUN at line {first.ins.start_line} runs `{first.program} {first.args[0]}`, "
            "which may write files outside the copied paths"
        )
    allowed = (
        DEBIAN_SETUP
        if not plan.apk and not plan.same_family
        else ALPINE_SETUP
        if plan.apk
        else SETUP
    )
    for ins in a.setup_runs:
        script = run_script(ins, a.doc.text)
        programs = {program_args(c)[0] for c in script.commands} if script else set()
        if not plan.shell or not programs & SETUP <= allowed:
            raise Decline(f"RUN at line {ins.start_line} cannot be repeated on {plan.runtime}")
    user = final_user(a)
    if user not in ROOT and not re.fullmatch(r"[0-9]+(:[0-9]+)?", user) and "$" not in user:
        name = user.split(":")[0]
        made = any(re.search(rf"\b{re.escape(name)}\b", i.args) for i in a.setup_runs)
        known = any(plan.runtime.startswith(k) and name in v for k, v in IMAGE_USERS.items())
        if not made and not known:
            raise Decline(
                f"USER {name} is created together with build steps; "
                "the runtime stage would not have it"
            )
    elif "$" in user:
        raise Decline("USER is set from a variable")
    defined = set(a.scope()) | {"PATH", "HOME", "HOSTNAME"}
    if not plan.same_family:
        for ins in a.stage.instructions:
            if ins.cmd in REPEAT | MOVE:
                for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", ins.args):
                    if var not in defined:
                        raise Decline(
                            f"{ins.keyword} at line {ins.start_line} "
                            f"reads ${var} from the build image"
                        )
    anchor = _anchor(a)
    builder = [
        i.args.strip() for i in a.stage.of("user") if anchor is not None and i.start < anchor.start
    ]
    if builder and builder[-1] not in ROOT and plan.same_family:
        plan.chown = builder[-1]  # files the build created belong to this user


def _anchor(a: Analysis) -> Instruction | None:
    """The last instruction that builds (after it, the artefacts exist)."""
    last = None
    for ins in a.stage.instructions:
        if ins.cmd in ("run", "copy", "add") and ins not in a.setup_runs:
            last = ins
    return last


def _render(a: Analysis, plan: Plan, alias: str) -> list[Edit]:
    doc, nl = a.doc, a.doc.newline
    text = doc.text
    from_ = a.stage.from_
    edits = list(plan.build_edits)
    if a.stage.alias is None:
        end = from_.physical(from_.args_start + len(from_.args))
        edits.append(Edit(end, end, f" {keyword(doc, 'AS')} {alias}"))
    if plan.head:
        edits.append(Edit(plan.head_at, plan.head_at, plan.head))
    source = alias
    out: list[str] = []
    stages: list[str] = []
    if plan.prune:
        stages.append(
            f"{keyword(doc, 'FROM')} {alias} {keyword(doc, 'AS')} {PRUNE}{nl}"
            + "".join(p + nl for p in plan.prune)
            + nl
        )
        source = PRUNE
    out.append(f"{keyword(doc, 'FROM')} {plan.runtime} {keyword(doc, 'AS')} {RUNTIME}{nl}")
    if plan.packages:
        if plan.apk:
            run = f"apk add --no-cache {' '.join(plan.packages)}"
        else:
            run = (
                "apt-get update && apt-get install -y --no-install-recommends "
                f"{' '.join(plan.packages)} && rm -rf /var/lib/apt/lists/*"
            )
        out.append(f"{keyword(doc, 'RUN')} {run}{nl}")
    anchor = _anchor(a)
    copies = "".join(
        copy_line(doc, source, p, plan.moves.get(p, p), plan.chown) + nl for p in plan.copies
    )
    placed = anchor is None
    if placed:
        out.append(copies)
    for ins in a.stage.instructions:
        chunk = text[ins.comment_start : ins.end]
        if not chunk.endswith(("\n", "\r")):
            chunk += nl
        blank = text[: ins.comment_start].endswith((nl + nl, "\n\n"))
        if (
            blank
            and len(out) > 1 + bool(plan.packages)
            and (ins.cmd in MOVE | REPEAT or ins in a.setup_runs)
        ):
            chunk = nl + chunk  # keep the blank line that separated it
        if ins.cmd in MOVE:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            out.append(chunk)
        elif ins.cmd in REPEAT or ins in a.setup_runs:
            out.append(chunk)
        if ins is anchor:
            out.append(copies)
    build = apply_edits(text, edits).rstrip(" \t")
    lead = (
        "" if build.endswith((nl + nl, "\n\n")) else nl if build.endswith(("\n", "\r")) else nl + nl
    )
    head = lead + "".join(stages)
    edits.append(Edit(len(text), len(text), head + "".join(out).replace(nl + nl + nl, nl + nl)))
    return edits


def _message(a: Analysis, plan: Plan) -> str:
    what = ", ".join(plan.copies)
    text = f"split into {a.stage.alias or BUILD} + {RUNTIME} on {plan.runtime}, copying {what}"
    if plan.packages:
        text += f"; runtime packages: {' '.join(plan.packages)}"
    if plan.notes:
        text += "; " + "; ".join(plan.notes)
    if plan.unsafe:
        text += f" (unsafe: {plan.unsafe})"
    return text


@register
class SplitStages(Transform):
    id = "split-stages"
    title = "Split a single-stage build into build and runtime stages"
    order = 10

    def check(self, doc: Document) -> Iterable[Fix]:
        stages = doc.model.stages
        if (
            len(stages) != 1
            or doc.is_windows
            or any(i.cmd == "onbuild" for i in doc.dockerfile.instructions)
        ):
            return
        stage = stages[0]
        ecosystem = eco.ecosystem_of(stage.image.full_name)
        if ecosystem is None or stage.image.name == "scratch" or not stage.instructions:
            return
        try:
            if "$" in stage.from_.args and ecosystem not in ("go", "rust"):
                raise Decline("the base image is chosen by a build argument")
            analysis = Analysis(doc, stage, ecosystem)
            front = plan_frontend(analysis)
            plan = PLANNERS[ecosystem](analysis)
            _common_checks(analysis, plan)
            if (
                plan.runtime == stage.image.raw
                and front is None
                and not plan.prune
                and not analysis.packages
            ):
                raise Decline(f"the runtime would be {plan.runtime} with the same files")
            if front is not None:
                apply_frontend(analysis, plan, front)
        except NotABuild:
            return
        except Decline as exc:
            if _builds_something(doc, stage, ecosystem):
                yield doc.fix(self.id, stage.from_, f"not split: {exc}", [])
            return
        alias = stage.alias or BUILD
        if ecosystem == "node" and front is None:
            nginx = nginx_runtime(analysis, alias)
            if nginx is not None:
                fix = doc.fix(self.id, stage.from_, nginx[1], nginx[0], Applicability.UNSAFE)
                fix.changes_config = NGINX_CONFIG
                yield fix  # first: with --unsafe-fixes it wins over the safe split below
        applicability = Applicability.UNSAFE if plan.unsafe else Applicability.SAFE
        yield doc.fix(
            self.id,
            stage.from_,
            _message(analysis, plan),
            _render(analysis, plan, alias),
            applicability,
        )


def _builds_something(doc: Document, stage: Stage, ecosystem: str) -> bool:
    """True when a RUN of the stage calls the ecosystem's build tool (worth an explanation)."""
    tools = ECO_TOOLS[ecosystem] - {"cp", "mv", "node", "python", "python3", "java"}
    for ins in stage.of("run"):
        script = run_script(ins, doc.text)
        for command in script.commands if script else []:
            if posixpath.basename(program_args(command)[0]) in tools:
                return True
    return False
