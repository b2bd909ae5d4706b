"""Build ecosystems: toolchain images, their runtime images, build-only and runtime packages.

Data, not code. Used by the ``split-stages`` transform to decide what a runtime stage needs.
Package names are Debian bookworm/trixie and Alpine names that are the same in both releases
(``libssl3`` became ``libssl3t64`` in trixie, so it is not in the tables: the slim images
already ship libssl). Python packages listed in ``PY_SOURCE_BUILT`` are commonly compiled from
source and link a system library at run time; the others ship self-contained wheels.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.images import is_small, slim_target

# Toolchain images (Docker Hub name or registry/name) -> ecosystem id.
TOOLCHAIN_IMAGES: dict[str, str] = {
    "golang": "go",
    "rust": "rust",
    "node": "node",
    "python": "python",
    "maven": "java",
    "gradle": "java",
    "eclipse-temurin": "java",
    "amazoncorretto": "java",
    "sapmachine": "java",
    "mcr.microsoft.com/dotnet/sdk": "dotnet",
}

GO_STATIC_RUNTIME = "gcr.io/distroless/static-debian12"
GO_GLIBC_RUNTIME = "gcr.io/distroless/base-debian12"
RUST_RUNTIME = "gcr.io/distroless/cc-debian12"  # glibc, libgcc_s, libssl3, CA certificates
RUST_CARGO_HOME = "/usr/local/cargo"  # CARGO_HOME of the rust images: `cargo install` -> bin/
RUST_TRIXIE_FROM = (1, 89)  # rust:<version> tags without a release are trixie from here on
DEBIAN_SLIM = "debian:{codename}-slim"
ALPINE_RUNTIME = "alpine:{version}"
DEFAULT_ALPINE = "3.20"
DEBIAN_CODENAMES = ("jessie", "stretch", "buster", "bullseye", "bookworm", "trixie")

# Directories on the PATH of every runtime image we pick.
STANDARD_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

# Go modules that need cgo (a C compiler and libc at run time).
GO_CGO_MODULES = (
    "github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go",
    "github.com/google/gopacket/pcap", "gopkg.in/gographics/imagick", "github.com/tecbot/gorocksdb",
)  # fmt: skip

# Rust crates -> Debian runtime packages the binary needs.
RUST_CRATE_LIBS: dict[str, tuple[str, ...]] = {
    "openssl-sys": ("libssl3", "ca-certificates"),
    "native-tls": ("ca-certificates",),
    "rustls-native-certs": ("ca-certificates",),
    "libsqlite3-sys": ("libsqlite3-0",),
    "pq-sys": ("libpq5",),
    "mysqlclient-sys": ("libmariadb3",),
}

# OS packages only needed to build (dropped from the runtime stage).
BUILD_ONLY_PACKAGES = frozenset({
    "build-essential", "build-base", "gcc", "g++", "make", "cmake", "clang", "llvm", "musl-dev",
    "libc-dev", "libc6-dev", "pkg-config", "pkgconf", "pkgconfig", "autoconf", "automake",
    "libtool",
    "git", "python3", "python3-dev", "python-dev", "linux-headers", "gfortran", "ninja-build",
    "apt-utils", "ca-certificates", "curl", "wget", "unzip", "gnupg", "dirmngr", "binutils",
    "software-properties-common", "apt-transport-https", "openssh-client", "rsync",
})  # fmt: skip

# -dev packages -> the runtime library packages (same name on bookworm and trixie; Alpine).
DEV_TO_RUNTIME: dict[str, tuple[str, ...]] = {
    "libpq-dev": ("libpq5",),
    "postgresql-dev": ("libpq",),
    "libmariadb-dev": ("libmariadb3",),
    "libmariadb-dev-compat": ("libmariadb3",),
    "default-libmysqlclient-dev": ("libmariadb3",),
    "mariadb-dev": ("mariadb-connector-c",),
    "mariadb-connector-c-dev": ("mariadb-connector-c",),
    "libxml2-dev": ("libxml2",),
    "libxslt1-dev": ("libxslt1.1",),
    "libxslt-dev": ("libxslt",),
    "libjpeg-dev": ("libjpeg62-turbo",),
    "libjpeg62-turbo-dev": ("libjpeg62-turbo",),
    "jpeg-dev": ("libjpeg-turbo",),
    "libyaml-dev": ("libyaml-0-2",),
    "yaml-dev": ("yaml",),
    "libfreetype6-dev": ("libfreetype6",),
    "freetype-dev": ("freetype",),
    "libpcre3-dev": ("libpcre3",),
    "libldap2-dev": ("libldap-2.5-0",),
    "libsasl2-dev": ("libsasl2-2",),
    "unixodbc-dev": ("libodbc2",),
    # Already present in python/node slim images (the interpreter links them):
    "libssl-dev": (), "openssl-dev": (), "libffi-dev": (), "zlib1g-dev": (), "zlib-dev": (),
    "libsqlite3-dev": (), "sqlite-dev": (), "libbz2-dev": (), "liblzma-dev": (),
    "libreadline-dev": (), "libncurses5-dev": (), "libncursesw5-dev": (), "uuid-dev": (),
}  # fmt: skip

# Python distributions usually compiled from source -> Debian runtime packages they link.
PY_SOURCE_BUILT: dict[str, tuple[str, ...]] = {
    "psycopg2": ("libpq5",),
    "mysqlclient": ("libmariadb3",),
    "python-ldap": ("libldap-2.5-0", "libsasl2-2"),
    "pyodbc": ("libodbc2",),
    "uwsgi": ("libxml2",),
}

JAVA_BUILD_TASKS = {
    "maven": {"package", "install", "verify"},
    "gradle": {"build", "bootjar", "jar", "installdist", "assemble", "shadowjar"},
}


def ecosystem_of(full_name: str) -> str | None:
    """The ecosystem of a toolchain image (``golang`` -> ``go``), or None."""
    return TOOLCHAIN_IMAGES.get(full_name.lower())


def debian_codename(tag: str | None) -> str | None:
    """The Debian release named in a tag (``1.75-bookworm`` -> ``bookworm``)."""
    for name in DEBIAN_CODENAMES:
        if tag and name in tag:
            return name
    return None


def glibc_at_most_bookworm(tag: str | None) -> bool:
    """True when a rust:<tag> image links against Debian 12's glibc or an older one."""
    codename = debian_codename(tag)
    if codename:
        return codename != "trixie"
    match = re.match(r"^(\d+)\.(\d+)", tag or "")
    if match is None:
        return False
    return (int(match.group(1)), int(match.group(2))) < RUST_TRIXIE_FROM


def alpine_version(tag: str | None) -> str | None:
    """``3.19`` for ``1.22-alpine3.19``, the default for plain ``-alpine``, None otherwise."""
    if not tag or "alpine" not in tag:
        return None
    match = re.search(r"alpine(3\.\d+)", tag)
    return match.group(1) if match else DEFAULT_ALPINE


def slim_variant(family: str, tag: str | None) -> str | None:
    """The runtime tag on the same version and release: ``node:18`` -> ``18-slim``,
    ``python:3.12-bookworm`` -> ``3.12-slim-bookworm`` (slim-base's table in
    :mod:`msdfix.ecosystems.images`); small tags unchanged; None when no slim tag is known."""
    if not tag:
        return None
    if is_small(tag):
        return tag
    target = slim_target(family, tag)
    return target.tag if target else None


def java_runtime(full_name: str, tag: str | None) -> tuple[str, bool] | None:
    """(JRE image of the same vendor and major version, safe) for a JDK/Maven/Gradle image."""
    tag = (tag or "").lower()
    name = full_name.lower()
    suffix = ""
    for os_name in ("alpine", "jammy", "focal", "noble", "ubi9-minimal"):
        if tag.endswith("-" + os_name):
            suffix = "-" + os_name
    if name in ("maven", "gradle"):
        match = re.search(r"(?:eclipse-temurin-|-jdk-?|temurin-)(\d+)", tag)
        if match and "corretto" not in tag and "semeru" not in tag and "sapmachine" not in tag:
            major = int(match.group(1))
            if "openjdk" in tag or ("-jdk-" in tag and major < 17 and name == "maven"):
                return (f"openjdk:{major}-jre-slim", True) if major in (8, 11) else None
            return f"eclipse-temurin:{major}-jre{suffix}", True
        match = re.search(r"sapmachine-(\d+)", tag)
        if match:
            return f"sapmachine:{match.group(1)}-jre", True
        return None
    if name == "eclipse-temurin":
        match = re.match(r"^(\d+)(?:\.[0-9._]+)?(?:-jdk)?(-[a-z0-9-]+)?$", tag)
        if match and "jre" not in tag:
            return f"eclipse-temurin:{match.group(1)}-jre{suffix}", True
        return None
    if name == "sapmachine":
        match = re.match(r"^(\d+)(?:-jdk)?$", tag)
        return (f"sapmachine:{match.group(1)}-jre", True) if match else None
    return None


def dotnet_runtime(tag: str | None, web: bool) -> str | None:
    """mcr.microsoft.com/dotnet/{aspnet,runtime} with the SDK's version and OS suffix."""
    match = re.match(r"^(\d+\.\d+)(-[a-z0-9.-]+)?$", tag or "")
    if not match:
        return None
    image = "aspnet" if web else "runtime"
    return f"mcr.microsoft.com/dotnet/{image}:{match.group(1)}{match.group(2) or ''}"


# ---------------------------------------------------------------- frontends and static servers

# Programs of a JavaScript frontend build run inside another ecosystem's stage.
FRONTEND_TOOLS = frozenset({"npm", "npx", "yarn", "yarnpkg", "pnpm", "corepack"})
# OS packages that only provide the frontend toolchain (not needed once it has its own stage).
FRONTEND_PACKAGES = frozenset({"nodejs", "npm", "yarn", "yarnpkg", "node-gyp"})
# Major version of the distribution's ``nodejs`` package.
DEBIAN_NODEJS = {"buster": "10", "bullseye": "12", "bookworm": "18", "trixie": "20"}
ALPINE_NODEJS = {"3.16": "16", "3.17": "18", "3.18": "18", "3.19": "20", "3.20": "20", "3.21": "22"}
DEFAULT_NODE_MAJOR = "18"
# golang:<version> tags without a release name: the Debian release they are built on.
GOLANG_RELEASES = (
    ((1, 0), "jessie"),
    ((1, 9), "stretch"),
    ((1, 12), "buster"),
    ((1, 16), "bullseye"),
    ((1, 20), "bookworm"),
    ((1, 24), None),
)

NGINX_RUNTIME = "nginx:1.25-alpine"
NGINX_HTML = "/usr/share/nginx/html"
NGINX_PORT = "80"


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


def frontend_node(tag: str | None, ecosystem: str) -> tuple[str, str | None]:
    """(node image with the Node major the stage's OS packages install, where it comes from).

    The second item names the distribution release whose ``nodejs`` package has that major
    (``Debian bookworm``); None when the release is unknown and the default major is a guess.
    """
    alpine = alpine_version(tag)
    if alpine is not None:
        major = ALPINE_NODEJS.get(alpine)
        exact = bool(major) and re.search(r"alpine3\.\d+", tag or "") is not None
        return f"node:{major or DEFAULT_NODE_MAJOR}-alpine", f"Alpine {alpine}" if exact else None
    release = golang_release(tag) if ecosystem == "go" else debian_codename(tag)
    major = DEBIAN_NODEJS.get(release or "")
    return f"node:{major or DEFAULT_NODE_MAJOR}-slim", f"Debian {release}" if major else None
