"""Go: the go command (module cache ``GOMODCACHE`` = ``$GOPATH/pkg/mod``, build cache ``GOCACHE`` =
``~/.cache/go-build``), go.mod, cgo modules and the runtime images of a Go binary.

Data, not code.
"""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.base import WRITES_IN_PLACE, CacheDir, Ecosystem, PackageManager
from msdfix.ecosystems.os import alpine_version, debian_codename
from msdfix.files import decimal
from msdfix.model.context import BuildContext, Unreadable

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "go",
        ("go",),
        ("build", "install", "test", "get", "mod", "generate", "vet", "list"),
        (
            CacheDir(
                "~/go/pkg/mod",
                (
                    ("GOMODCACHE", ""),
                    ("GOPATH", "/pkg/mod"),
                ),
                store=True,
                cleaned_by=("-modcache",),
            ),
            CacheDir(  # cgo objects are cached without the C headers they were built with
                "~/.cache/go-build",
                (("GOCACHE", ""), ("XDG_CACHE_HOME", "/go-build")),
                builds="cgo",
                cleaned_by=("-cache",),
            ),
        ),
        clean_commands=(("go", "clean", "-modcache"), ("go", "clean", "-cache")),
        # every subcommand that loads packages reads (and fills) the module store: a start
        # script's `go build` failed offline on a mounted store ("dial tcp: lookup
        # proxy.golang.org"), where the original image carried the modules
        runtime_users=tuple(
            ("go", s)
            for s in ("run", "test", "build", "install", "vet", "generate", "get", "list", "mod")
        )
        # live-reload tools run `go build` on the sources when the container starts (air's
        # default build command is `go build -o ./tmp/main .`; CompileDaemon's `-build`
        # defaults to `go build`): a split onto distroless copied air alone ("go: not found")
        + (("air",), ("CompileDaemon",), ("fresh",)),
        offline_env=(("GOPROXY", "off"),),
        value_options=("-C",),
    ),
)


GO = Ecosystem(
    "go",
    ("go",),
    ("go.mod", "go.sum"),
    guess=("go.mod", "go.sum*"),
    fetch="go mod download",
    key="go.mod",
    checks="go",
    build_subcommands=("build", "install", "test", "vet"),
)
MANIFESTS: tuple[Ecosystem, ...] = (GO,)


def fetch_manifest_writes(words: list[str]) -> str | None:
    """How ``go mod download`` (``words``: its arguments that are no options) writes go.mod
    and go.sum: in place (Go's lockedfile rewrites the open file), when go.sum lacks a hash it
    wants ("go: updating go.sum": a read-only bind mount failed, a read-write one built, so
    Docker's documented read-only pattern needs a complete go.sum); None for other commands."""
    return WRITES_IN_PLACE if words[:2] == ["mod", "download"] else None


_REQUIRED_VERSION = re.compile(r"^(\S+) (v\S+)", re.M)
_REPLACED_VERSION = re.compile(r"^(\S+)(?: (v\S+))? => (\S+) (v\S+)", re.M)


# A go.mod token as golang.org/x/mod/modfile's lexer reads one: a quoted string, a bracket, or
# a run of other characters (``require(`` is the verb and its block's opening bracket).
_GO_MOD_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]*`|[()]|[^\s()"`]+')


def go_mod_entries(go_mod: str, verb: str) -> list[list[str]]:
    """The tokens of each ``verb`` directive of ``go_mod`` (quotes removed), read as modfile
    does: ``verb a b`` is one entry, ``verb (`` opens a block whose lines up to ``)`` are
    entries. Comments (``//``) end a line. An opening line is no module: ``require (`` read
    as a module named ``(`` made every go.mod with a block require an unseen module. Line by
    line, so an unclosed block costs one pass."""
    entries: list[list[str]] = []
    block: str | None = None
    for line in go_mod.splitlines():
        words = [
            w[1:-1] if w[0] in '"`' else w for w in _GO_MOD_TOKEN.findall(line.split("//", 1)[0])
        ]
        if block is not None:
            if words == [")"]:
                block = None
            elif block == verb and words and "(" not in words and ")" not in words:
                entries.append(words)
        elif words[1:] == ["("]:
            block = words[0]
        elif words and words[0] == verb and len(words) > 1:
            entries.append(words[1:])
    return entries


def _directives(go_mod: str, verb: str) -> str:
    """The entries of ``go_mod``'s ``verb`` directives, one a line, words spaced."""
    return "\n".join(" ".join(words) for words in go_mod_entries(go_mod, verb))


def go_sum_missing(go_mod: str, go_sum: str) -> str | None:
    """The first module version ``go_mod`` requires (after its ``replace`` directives that name
    another module version) whose go.mod hash ``go_sum`` lacks, or None. ``go mod download``
    writes it into go.sum (Go 1.17+ saves the hashes that load the build list, not those of
    module contents, which a tidy go.sum leaves out for modules no package comes from), and a
    later ``go build`` in -mod=readonly needs it: "missing go.sum entry", built for real on
    golang:1.19 (the original, whose go.sum the download had completed, built)."""
    replaced = {
        (m.group(1), m.group(2)): (m.group(3), m.group(4))
        for m in _REPLACED_VERSION.finditer(_directives(go_mod, "replace"))
    }
    have = set(re.findall(r"^(\S+ \S+/go\.mod) h1:", go_sum, re.M))
    for m in _REQUIRED_VERSION.finditer(_directives(go_mod, "require")):
        mod, ver = m.group(1), m.group(2)
        mod, ver = replaced.get((mod, ver)) or replaced.get((mod, None)) or (mod, ver)
        if f"{mod} {ver}/go.mod" not in have:
            return f"{mod} {ver}"
    return None


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "go": ("mod",),
}


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("golang",)


GO_STATIC_RUNTIME = "gcr.io/distroless/static-debian12"
GO_GLIBC_RUNTIME = "gcr.io/distroless/base-debian12"

# Go modules that need cgo (a C compiler and libc at run time).
GO_CGO_MODULES = (
    "github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go",
    "github.com/google/gopacket/pcap", "gopkg.in/gographics/imagick", "github.com/tecbot/gorocksdb",
)  # fmt: skip

# A Go file that uses cgo (``import "C"``, alone or in an import block).
CGO_IMPORT = re.compile(r'^[^\S\n]*import\s+"C"|^[^\S\n]*"C"\s*$', re.M)


def cgo_free(context: BuildContext, args: list[str], goflags: str) -> bool:
    """True when the build context shows that a build of it compiles no cgo of its own: every
    Go source it can compile is in the context (its go.mod files require nothing, or its one
    module is vendored and built from vendor/), and none imports "C". Only the standard
    library's cgo is left, which uses the base image's libc headers alone."""
    if not context.present or any("@" in a for a in args) or context.unlisted:
        return False
    mods = [m for m in context.glob("*go.mod") if m.rsplit("/", 1)[-1] == "go.mod"]
    texts = [context.read_text(m) for m in mods]
    if not mods or any(t is None for t in texts):
        return False
    # (``[^\S\n]``: ``\s*`` ran over every blank line after each one, quadratic in them)
    requires = [t for t in texts if t and re.search(r"^[^\S\n]*require\b", t, re.M)]
    if requires:
        folder = mods[0].rpartition("/")[0]
        vendored = context.exists(
            f"{folder}/vendor/modules.txt" if folder else "vendor/modules.txt"
        )
        flags = [*args, goflags]
        go = re.search(r"^go\s+1\.(\d+)", texts[0] or "", re.M)
        by_vendor = any("-mod=vendor" in a for a in flags) or (go and decimal(go.group(1)) >= 14)
        by_mod = any("-mod=mod" in a for a in flags)
        if len(mods) > 1 or not vendored or by_mod or not by_vendor:
            return False  # modules come from the proxy: msdfix cannot read them
    for rel in context.glob("*.go"):
        text = context.read_text(rel)
        if text is None or CGO_IMPORT.search(text):
            return False
    return True


# golang:<version> tags without a release name: the Debian release their last image is built
# on. A new Debian stable becomes the base of every Go line still supported on its release day
# (golang:1.19 moved from bullseye to bookworm in June 2023 with 1.19.10), so a line's first
# image says too little: a cgo binary built on golang:1.19 needs bookworm's glibc 2.34+ symbols
# and fails on bullseye. Where a line's switch is unsure the newer release is the safe answer
# (glibc runs older binaries). 1.24 and later moved to trixie in August 2025: unknown here.
GOLANG_RELEASES = (
    ((1, 0), "jessie"),
    ((1, 8), "stretch"),
    ((1, 11), "buster"),
    ((1, 16), "bullseye"),
    ((1, 19), "bookworm"),
    ((1, 24), None),
)


def golang_version(tag: str | None) -> tuple[int, int] | None:
    """The Go (major, minor) a golang:<tag> names (``1.8.0-alpine``), or None."""
    match = re.match(r"(\d+)\.(\d+)", tag or "")
    return (decimal(match.group(1)), decimal(match.group(2))) if match else None


# golang's first Go 1.20 images were built on Alpine 3.17 (and 3.16); a tag naming an Alpine
# release but no Go version (``alpine3.10``) stays at the last Go built on that release.
GO_1_20_ALPINE = (3, 17)


def golang_cgo_auto(tag: str | None, written: str) -> bool:
    """Whether golang:<tag> holds Go 1.20 or newer, which turns cgo off by itself where no C
    compiler is installed: the tag's version says so, or it names none (the newest Go) and no
    Alpine release before 3.17 (golang:alpine3.10 is Go 1.13). False when ``written``, the
    FROM's text, names a variable: a build argument may choose an older Go."""
    if "$" in written:
        return False
    version = golang_version(tag)
    if version is not None:
        return version >= (1, 20)
    alpine = alpine_version(tag)
    return alpine is None or tuple(decimal(n) for n in alpine.split(".")) >= GO_1_20_ALPINE


def golang_release(tag: str | None) -> str | None:
    """The Debian release of a golang:<tag> image, or None when unknown (alpine, new, odd)."""
    codename = debian_codename(tag)
    if codename or "alpine" in (tag or ""):
        return codename
    version = golang_version(tag)
    if version is None:
        return None
    found = None
    for since, release in GOLANG_RELEASES:
        if version >= since:
            found = release
    return found


# ``-mod=mod`` or ``-mod=readonly`` (a go flag or GOFLAGS) builds from the module cache, not
# vendor/: the modules are downloaded (built, round 26: GOFLAGS=-mod=mod beside a vendor/
# folder built the downloaded v1.2.0, whose `bash -c` failed on the split's distroless/static).
_NOT_VENDOR = re.compile(r"-mod[= ]+[\"']?(?:mod|readonly)\b")
# GOWORK set (``off``, or another file) leaves the context's go.work unread: the modules it
# uses are downloaded (built, round 26: GOWORK=off with go.work using ./helper built v1.2.0).
_OWN_WORKSPACE = re.compile(r"\bGOWORK\b")


def unseen_go_modules(
    ctx: BuildContext, root: str = "", build: str = "", workspace: str | None = "go.work"
) -> list[str]:
    """Modules the go.mod of context folder ``root`` requires whose code is not in the build
    context: not vendored (vendor/modules.txt, unless ``build``, the text of the stage's
    RUN, ENV and ARG lines, sets ``-mod=mod``), not replaced by a local directory and not
    used by the go.work the build reads (``workspace``, its context path, see
    ``copies_go_work``, where ``build`` sets no GOWORK). What
    they run, link or read is unknown (a helper library ran ``bash`` through os/exec, built
    for real). A go.mod that cannot be read requires modules it cannot list, which is not
    none."""
    vendored = posixpath.join(root, "vendor/modules.txt")
    vendor = not _NOT_VENDOR.search(build) and ctx.exists(vendored)
    try:
        gomod = ctx.read_known(posixpath.join(root, "go.mod")) if ctx.present else None
    except Unreadable as exc:
        return [] if vendor else [f"modules msdfix cannot list ({exc})"]
    if not gomod or vendor:
        return []
    replaced = _local_replacements(gomod)
    required = [words[0] for words in go_mod_entries(gomod, "require")]
    required += _replacement_requirements(ctx, root, list(replaced.values()))
    local = set(replaced)
    if workspace and not _OWN_WORKSPACE.search(build):
        local |= _workspace_modules(ctx, workspace)
    return [m for m in dict.fromkeys(required) if m not in local]


def _replacement_requirements(ctx: BuildContext, root: str, dirs: list[str]) -> list[str]:
    """The modules the go.mod files of the local replacement folders ``dirs`` (relative to
    ``root``) require: a main go.mod of ``go 1.16`` or older need not list them, and a
    replacement's own ``replace`` lines are ignored (built, round 26: ./local's go.mod
    requiring helper v1.2.0 downloaded it, whose ``bash -c`` failed on the split's
    distroless/static). A folder outside the context is not read (the build cannot see it:
    ``read_text`` reads none)."""
    found: list[str] = []
    for rel in dict.fromkeys(dirs):
        gomod = ctx.read_text(posixpath.normpath(posixpath.join(root, rel, "go.mod"))) or ""
        found += [words[0] for words in go_mod_entries(gomod, "require")]
    return found


def _local_replacements(go_mod: str) -> dict[str, str]:
    """The modules ``go_mod`` replaces with a directory of the context (``=> ./lib``), each
    with that directory. A version on the left replaces that version only:
    ``example.com/lib v1.0.0 => ./lib`` with ``require example.com/lib v1.2.0`` downloads
    v1.2.0 (built, round 26: its ``bash -c`` ran on golang:1.19 and failed on the split's
    distroless/static)."""
    required: dict[str, set[str]] = {}
    for words in go_mod_entries(go_mod, "require"):
        required.setdefault(words[0], set()).update(words[1:2])
    found = {}
    for words in go_mod_entries(go_mod, "replace"):
        at = words.index("=>") if "=>" in words else len(words)
        target, left = words[at + 1 :], words[1:at]
        if target and target[0].startswith(("./", "../")):
            if not left or required.get(words[0], set()) <= set(left):
                found[words[0]] = target[0]
    return found


def _workspace_modules(ctx: BuildContext, work: str = "go.work") -> set[str]:
    """Module paths of the folders the go.work at context path ``work`` uses (their code is
    in the context), read with the go.mod lexer (``use ./a``, ``use ( ./a ../b )``,
    comments). A ``use`` path is a folder relative to go.work's (``svc/go.work``'s ``../lib``
    is the context's lib), with or without ``./`` (``use lib`` ran lib's code
    offline on golang:1.19); one outside the context is not read: ``rel.strip('./')`` read
    ``use ../x`` as the context's ``x``."""
    found: set[str] = set()
    here = posixpath.dirname(work)
    for words in go_mod_entries(ctx.read_text(work) or "", "use"):
        folder = posixpath.join(here, words[0], "go.mod")
        gomod = ctx.read_text(posixpath.normpath(folder)) or ""
        found.update(module[0] for module in go_mod_entries(gomod, "module")[:1])
    return found
