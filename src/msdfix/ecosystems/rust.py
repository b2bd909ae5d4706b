"""Rust: Cargo (``$CARGO_HOME/registry``, ``/git/db``), Cargo.toml/Cargo.lock, the libraries
crates link at run time and the runtime images of a Rust binary.

Data, not code (and the reading of a project's cargo configuration).
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import WRITES_IN_PLACE, CacheDir, Ecosystem, PackageManager
from msdfix.ecosystems.os import debian_codename
from msdfix.files import decimal, load_toml

# cargo's [net] offline setting (``offline = true``, or ``net.offline = true`` dotted)
_CARGO_OFFLINE = r"\boffline\s*=\s*true\b"

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
        # $CARGO_HOME/config.toml's or the project's .cargo/config.toml's ``[net] offline =
        # true`` is the flag in a file (read from cargo's configuration docs: crates.io is not
        # reachable from the builds here); not the extensionless "config" cargo also reads: a
        # name like that ends many words (pkg-config), and msdfix would read them all as it
        config_files=("config.toml",),
        config_keys=_CARGO_OFFLINE,
        offline_config_keys=_CARGO_OFFLINE,
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


# A project's cargo configuration files, the one cargo reads first: "If both files exist,
# Cargo will use the file without the extension" (the Cargo book, Configuration).
CARGO_CONFIGS = (".cargo/config", ".cargo/config.toml")


def cargo_config_reads(text: str) -> str:
    """What a .cargo/config(.toml) sets that reads files of the project, in words: a
    directory or local-registry source (vendored crates), ``paths`` overrides or a
    ``[patch]`` with a path; else that it configures cargo in ways msdfix does not check."""
    try:
        data = load_toml(text)
    except (ValueError, RecursionError):
        return "is not TOML msdfix can read"
    sources = data.get("source")
    for name, table in sources.items() if isinstance(sources, dict) else ():
        for key in ("directory", "local-registry"):
            if isinstance(table, dict) and isinstance(table.get(key), str):
                return f"makes source {name} the folder {table[key]} (vendored crates)"
    if data.get("paths"):
        return "overrides dependencies with local paths (paths)"
    patches = data.get("patch")
    for crates in patches.values() if isinstance(patches, dict) else ():
        for crate, spec in crates.items() if isinstance(crates, dict) else ():
            if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                return f"patches {crate} with the path {spec['path']}"
    return "configures cargo (settings msdfix does not check against the manifests alone)"


def cargo_config_target_dir(text: str) -> str | None:
    """``[build] target-dir`` of a .cargo/config(.toml), relative to the folder that holds
    the .cargo directory (the Cargo book: paths in config files); None: not set, or not
    TOML msdfix can read."""
    try:
        build = load_toml(text).get("build")
    except (ValueError, RecursionError):
        return None
    value = build.get("target-dir") if isinstance(build, dict) else None
    return value if isinstance(value, str) and value else None


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
    return (decimal(match.group(1)), decimal(match.group(2))) < RUST_TRIXIE_FROM
