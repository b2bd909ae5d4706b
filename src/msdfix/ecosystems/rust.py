"""Rust: Cargo (``$CARGO_HOME/registry``, ``/git/db``), Cargo.toml/Cargo.lock, the libraries
crates link at run time and the runtime images of a Rust binary.

Data, not code.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import WRITES_IN_PLACE, CacheDir, Ecosystem, PackageManager
from msdfix.ecosystems.os import debian_codename

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "cargo",
        ("cargo",),
        ("build", "install", "fetch", "test", "vendor", "update", "generate-lockfile"),
        (  # cargo's package-cache lock is $CARGO_HOME/.package-cache, outside these mounts
            # (the rust image's cargo creates it there): builds sharing a mount would not
            # exclude each other while they download and unpack crates into it
            CacheDir("~/.cargo/registry", (("CARGO_HOME", "/registry"),), store=True, locked=True),
            CacheDir("~/.cargo/git/db", (("CARGO_HOME", "/git/db"),), store=True, locked=True),
        ),
        runtime_users=tuple(  # every subcommand that resolves the crates reads the registry
            ("cargo", s)
            for s in ("run", "test", "build", "check", "install", "bench", "doc", "fetch", "clippy")
        ),
        offline_flags=("--offline", "--frozen"),
        offline_env=(("CARGO_NET_OFFLINE", "true"),),
    ),
)


CARGO = Ecosystem(
    "cargo",
    ("cargo",),
    ("Cargo.toml", "Cargo.lock", ".cargo/", "rust-toolchain", "rust-toolchain.toml"),
    fetch="mkdir -p src && touch src/main.rs && cargo fetch && rm -rf src",
    key="Cargo.toml",
    checks="cargo",
    build_subcommands=("build", "install", "test"),
)
MANIFESTS: tuple[Ecosystem, ...] = (CARGO,)
# How ``cargo fetch`` (the fetch reorder-copy adds before a build) writes the manifests it
# reads: Cargo.lock in place when it is stale (a read-only bind mount failed with "failed to
# open: /app/Cargo.lock ... Read-only file system", a read-write one built), Cargo.toml never.
CARGO_FETCH_WRITES = WRITES_IN_PLACE


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("rust",)


RUST_RUNTIME = "gcr.io/distroless/cc-debian12"  # glibc, libgcc_s, libssl3, CA certificates
RUST_CARGO_HOME = "/usr/local/cargo"  # CARGO_HOME of the rust images: `cargo install` -> bin/
RUST_TRIXIE_FROM = (1, 89)  # rust:<version> tags without a release are trixie from here on

# Rust crates -> Debian runtime packages the binary needs.
RUST_CRATE_LIBS: dict[str, tuple[str, ...]] = {
    "openssl-sys": ("libssl3", "ca-certificates"),
    "native-tls": ("ca-certificates",),
    "rustls-native-certs": ("ca-certificates",),
    "libsqlite3-sys": ("libsqlite3-0",),
    "pq-sys": ("libpq5",),
    "mysqlclient-sys": ("libmariadb3",),
}


def glibc_at_most_bookworm(tag: str | None) -> bool:
    """True when a rust:<tag> image links against Debian 12's glibc or an older one."""
    codename = debian_codename(tag)
    if codename:
        return codename != "trixie"
    match = re.match(r"^(\d+)\.(\d+)", tag or "")
    if match is None:
        return False
    return (int(match.group(1)), int(match.group(2))) < RUST_TRIXIE_FROM
