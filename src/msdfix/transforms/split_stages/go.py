"""split-stages for Go: the binaries `go build`/`go install` write, static or glibc."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.base import option
from msdfix.ecosystems.go import (
    CGO_IMPORT,
    GO_CGO_MODULES,
    GO_GLIBC_RUNTIME,
    GO_STATIC_RUNTIME,
    golang_cgo_auto,
)
from msdfix.ecosystems.os import ALPINE_RUNTIME, CA_CERTIFICATES, alpine_version
from msdfix.fixes import Edit
from msdfix.model.context import MAX_SCANNED_BYTES, Unreadable
from msdfix.model.paths import within
from msdfix.shell.commands import Word
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import (
    GO_VALUE_FLAGS,
    Analysis,
    Call,
    Decline,
    NotABuild,
    Plan,
    context_paths,
    dedupe,
)
from msdfix.transforms.split_stages.image_tools import go_module_roots, healthcheck
from msdfix.transforms.split_stages.native_runtime import (
    check_entry_runs,
    check_linked_libraries,
    debian_runtime,
    glibc_risk,
)
from msdfix.transforms.split_stages.runtime_packages import runtime_packages


def plan_go(a: Analysis) -> Plan:
    builds = [c for c in a.calls if c.program == "go" and c.sub in ("build", "install")]
    if not builds:
        raise NotABuild
    fetch = _fetch_after_builds(a, builds)
    if fetch is not None:
        raise Decline(
            f"RUN at line {fetch.ins.start_line} downloads the modules of go.mod after the last "
            "build: nothing in the Dockerfile compiles them, so the container does when it "
            "starts (air and its like run `go build`), which needs the Go toolchain"
        )
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
    elif cgo is None and a.ctx.present and not _uses_cgo(a) and not _cgo_flags(builds):
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
    elif cgo is None and _cgo_off_without_compiler(a):
        static = True
    strip = _strip_edits(a, builds)
    edits += strip
    moves = check_entry_runs(a, artefacts)
    files = context_paths(a, "go")
    alpine = alpine_version(a.stage.image.tag)
    needs_shell = (
        a.entry is not None
        and a.entry.shell
        or healthcheck(a.stage)[0]
        or bool(a.setup_runs)
        or any(p not in CA_CERTIFICATES for p in runtime_packages(a, a.packages).keep)
    )
    if needs_shell:
        runtime = ALPINE_RUNTIME.format(version=alpine) if alpine else debian_runtime(a)
    elif static:
        runtime = GO_STATIC_RUNTIME
    elif alpine:
        runtime = ALPINE_RUNTIME.format(version=alpine)
    else:
        runtime = GO_GLIBC_RUNTIME
    plan = Plan(
        runtime,
        dedupe(artefacts + files.paths),
        shell=needs_shell,
        build_edits=edits,
        apk=bool(alpine),
    )
    generator = next(
        (c for c in a.calls if c.program == "go" and c.sub in ("run", "generate")), None
    )
    if generator is not None:  # go run ./cmd/bundle writes public/app.js
        unsafe = unsafe or (
            f"RUN at line {generator.ins.start_line} runs `go {generator.sub}`, which may write "
            "files the program reads at run time"
        )
    toolchain = _needs_toolchain(a)
    if toolchain is not None:
        source, package = toolchain
        unsafe = unsafe or (
            f"{source} imports {package}, which reads the Go toolchain's files "
            f"(GOROOT) at run time: {runtime} has none"
            if package
            else f"{source} cannot be read, so whether it reads the Go toolchain's files "
            f"(GOROOT) at run time is unknown: {runtime} has none"
        )
    plan.moves, plan.unsafe = moves, unsafe
    if not static and not alpine:
        glibc_risk(a, plan)
        check_linked_libraries(a, plan)
    plan.notes += [f"{src} is copied to {dst} (on the runtime PATH)" for src, dst in moves.items()]
    if len(edits) > len(strip):
        plan.notes.append("CGO_ENABLED=0 (no cgo in the sources)")
    if strip:
        plan.notes.append(
            '-ldflags="-s -w": the binary leaves out its symbol table and DWARF data (used by '
            "debuggers; stack traces keep their names and lines)"
        )
    if files.whole and files.paths:
        plan.notes.append(
            "no build context: the copied source tree comes along in case the program reads it"
        )
    return plan


# Flags after which the build is meant for a debugger or sets its own linker flags.
_OWN_FLAGS = re.compile(r"^--?(?:ldflags|gcflags)\b")


def _strip_edits(a: Analysis, builds: list[Call]) -> list[Edit]:
    """``-ldflags="-s -w"`` after each ``go build`` that sets no linker or compiler flags: the
    runtime image gets the binary without the symbol table and DWARF data, as release tools
    build it (goreleaser's default). None when any build sets its own flags, takes words from
    variables, or GOFLAGS is set anywhere (a command-line -ldflags replaces GOFLAGS' one)."""
    edits = []
    for call in builds:
        if (
            call.sub != "build"
            or not call.script.editable
            or "GOFLAGS" in call.command.assignments
            or "GOFLAGS" in a.doc.dockerfile.text
            or any("$" in arg or _OWN_FLAGS.match(arg) for arg in call.args)
        ):
            return []
        word = _insert_after(call)
        at = call.script.physical(word.end - 1) + 1
        edits.append(Edit(at, at, ' -ldflags="-s -w"'))
    return edits


def _insert_after(call: Call) -> Word:
    """The word after which a build flag goes: ``build``, or the directory of a leading
    ``-C dir`` (Go requires -C to be the first flag: ``go build -ldflags=... -C api`` fails
    with "-C flag must be first flag on command line")."""
    words = call.command.words
    at = next(i for i, w in enumerate(words) if i and w.value == "build")
    flag = words[at + 1].value if at + 1 < len(words) else ""
    if flag in ("-C", "--C") and at + 2 < len(words):
        return words[at + 2]
    if flag.startswith(("-C=", "--C=")):
        return words[at + 1]
    return words[at]


def _go_output(a: Analysis, call: Call) -> str:
    args = call.args[call.args.index(call.sub) + 1 :]
    cwd = call.cwd
    chdir = option(args, "-C")
    if chdir:
        cwd = resolve(chdir, cwd)
    out = option(args, "-o", "--o")
    if out is not None:
        value = a.expand_fixed(out)
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


_MODULE = re.compile(r"^module\s+(\S+)")


def _go_module(a: Analysis) -> str | None:
    """go.mod's module path (its last element names the binary of ``go build .``), None
    without go.mod or a ``module`` line. Read line by line (a 1.1 MiB go.mod had read as
    empty, so the CMD's name was taken for the binary's); Decline for one msdfix cannot
    read."""
    try:
        line = a.ctx.find_line("go.mod", _MODULE, ("module",))
    except OSError:  # absent, or unreadable: read_known tells which
        try:
            a.ctx.read_known("go.mod", MAX_SCANNED_BYTES)
        except Unreadable as exc:
            raise Decline(f"{exc}, so the binary's name is unknown") from None
        return None
    match = _MODULE.match(line) if line is not None else None
    return match.group(1).strip('"') if match else None


# _cgo_setting's answer when a build argument may set CGO_ENABLED: neither on nor off.
CGO_UNKNOWN = "?"


def _cgo_setting(a: Analysis, builds: list[Call]) -> str | None:
    """CGO_ENABLED of the builds (None: unset, or they differ). ``ARG CGO_ENABLED=0`` (or an
    ENV made from an ARG) is CGO_UNKNOWN: ``--build-arg CGO_ENABLED=1`` links the binary
    against glibc's loader, which a static runtime lacks (built for real: "exec
    /usr/local/bin/app: no such file or directory")."""
    values = set()
    for call in builds:
        inline = call.command.assignments.get("CGO_ENABLED")
        if inline is None:
            fixed = a.model.fixed_scope(a.stage, call.ins)
            if "CGO_ENABLED" in fixed and fixed["CGO_ENABLED"] is None:
                return CGO_UNKNOWN
            inline = fixed.get("CGO_ENABLED")
        values.add(CGO_UNKNOWN if inline is not None and "$" in inline else inline)
    return values.pop() if len(values) == 1 else None


# Build flags that only work with cgo on (the race, memory and address sanitizers, C shared
# libraries and plugins, the external linker).
CGO_FLAGS = re.compile(
    r"^--?(?:race|msan|asan)$|^--?buildmode=(?:c-shared|c-archive|plugin)$|linkmode[= ]external"
)


def _cgo_flags(builds: list[Call]) -> bool:
    """A build flag needs cgo, so CGO_ENABLED=0 would fail the build, or a flag comes from a
    variable (``-ldflags "$LDFLAGS"``, an ARG that may say ``-linkmode external``)."""
    return any(CGO_FLAGS.search(arg) or "$" in arg for call in builds for arg in call.args)


_CGO_MODULE = re.compile("|".join(re.escape(m) for m in GO_CGO_MODULES))

# Packages that load the Go toolchain's sources or export data at run time.
_TOOLCHAIN_IMPORT = re.compile(r'"(go/importer|go/build|golang\.org/x/tools/go/packages)"')


def _cgo_off_without_compiler(a: Analysis) -> bool:
    """golang:*-alpine of Go 1.20+ (see ``golang_cgo_auto``) with no C compiler installed:
    Go turns cgo off itself. Older Go keeps cgo on without one, its standard
    library precompiled with cgo, so a program using net links libc dynamically (built,
    round 28: Go 1.19 with gcc removed linked net/http to libc.so.6; on distroless/static
    exec failed, "no such file or directory"). Other alpine images may add Go with gcc."""
    image = a.stage.root_image
    tag = image.tag or ""
    if image.full_name != "golang" or "alpine" not in tag:
        return False
    if set(a.packages) & {"gcc", "build-base", "musl-dev"}:
        return False
    return golang_cgo_auto(tag, a.stage.root.from_.args)


def _fetch_after_builds(a: Analysis, builds: list[Call]) -> Call | None:
    """A `go mod download` later than every `go build`/`go install` of the stage: the
    modules it stores are built by no RUN, so by the container (a development image whose
    start command, air in a Compose dev service, runs `go build` on the mounted sources)."""
    last = max(a.calls.index(c) for c in builds)
    return next(
        (
            c
            for c in a.calls[last + 1 :]
            if c.program == "go" and c.sub == "mod" and "download" in c.args
        ),
        None,
    )


def _needs_toolchain(a: Analysis) -> tuple[str, str | None] | None:
    """(source, package) of a Go source that needs GOROOT when it runs (type-checking with
    ``importer.Default()``), package None when the source cannot be read; or None."""
    for rel in a.ctx.glob("*.go") if a.ctx.present else ():
        if rel.startswith("vendor/"):
            continue
        try:
            line = a.ctx.find_line(rel, _TOOLCHAIN_IMPORT, ('"go',))
        except OSError:  # unread is not "imports nothing"
            return rel, None
        match = _TOOLCHAIN_IMPORT.search(line or "")
        if match:
            return rel, match.group(1)
    return None


def _uses_cgo(a: Analysis) -> bool:
    for root in go_module_roots(a):
        gomod = posixpath.join(root, "go.mod")
        if a.ctx.on_disk(gomod) and a.ctx.may_match(gomod, _CGO_MODULE):
            return True
    # [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines below and
    # back (quadratic in a run of them). A source that cannot be read may use cgo.
    return any(a.ctx.may_match(rel, CGO_IMPORT, ('"C"',)) for rel in a.ctx.glob("*.go"))


def _go_install_output(a: Analysis, call: Call) -> tuple[list[str], str | None]:
    """Binary path of `go install` and, when the name is a guess, why the split is unsafe."""
    env = call.command.assignments
    gobin = env.get("GOBIN") or a.fixed_value("GOBIN", call.ins)
    gopath = (env.get("GOPATH") or a.fixed_value("GOPATH", call.ins) or "/go").split(":")[0]
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
