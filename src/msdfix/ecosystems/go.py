"""Go: the go command (module cache ``GOMODCACHE`` = ``$GOPATH/pkg/mod``, build cache ``GOCACHE`` =
``~/.cache/go-build``), go.mod, cgo modules and the runtime images of a Go binary.

Data, not code.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager
from msdfix.ecosystems.os import debian_codename

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
            ),
            CacheDir("~/.cache/go-build", (("GOCACHE", ""), ("XDG_CACHE_HOME", "/go-build"))),
        ),
        clean_commands=(("go", "clean", "-modcache"), ("go", "clean", "-cache")),
        runtime_users=(("go", "run"), ("go", "test")),
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

# golang:<version> tags without a release name: the Debian release they are built on.
GOLANG_RELEASES = (
    ((1, 0), "jessie"),
    ((1, 9), "stretch"),
    ((1, 12), "buster"),
    ((1, 16), "bullseye"),
    ((1, 20), "bookworm"),
    ((1, 24), None),
)


def golang_release(tag: str | None) -> str | None:
    """The Debian release of a golang:<tag> image, or None when unknown (alpine, new, odd)."""
    codename = debian_codename(tag)
    if codename or "alpine" in (tag or ""):
        return codename
    match = re.match(r"^(\d+)\.(\d+)", tag or "")
    if match is None:
        return None
    version = (int(match.group(1)), int(match.group(2)))
    found = None
    for since, release in GOLANG_RELEASES:
        if version >= since:
            found = release
    return found
