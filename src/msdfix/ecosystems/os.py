"""The operating system's package managers (apt, apk, dnf, yum/microdnf), its release names, and
the OS packages of a build stage and what a runtime stage needs of them.

Caches: apt (``/var/cache/apt``, ``/var/lib/apt``), apk (``/var/cache/apk``), dnf
(``/var/cache/dnf``), yum/microdnf (``/var/cache/yum``).

Data, not code. Names are Debian (``apt``, bookworm and trixie) and Alpine (``apk``, 3.17+)
package names; a runtime stage always uses the package manager of the build image's
distribution, so a name from one table is never installed with the other manager.

- ``BUILD_ONLY``: compilers, headers, build systems and repository plumbing: nothing runs them
  once the program is built.
- ``DUAL_USE``: tools a build uses (downloads, VCS fetches) that a program may also run at run
  time (``curl`` in a HEALTHCHECK, ``git`` called by the app): package -> the commands it
  provides. They are kept unless the build context shows that nothing runs them.
- ``DEV_TO_RUNTIME``: a ``-dev`` package -> the shared-library packages a program linked
  against it loads at run time (empty: the slim/alpine images already have the library); on
  alpine also the compilers -> libgcc/libstdc++, which Debian images always have.
- ``PY_SOURCE_BUILT``: Python distributions usually compiled from source, or that load a system
  library or run a program at run time -> the packages they need there.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import CacheDir, PackageManager

APT, APK = "apt", "apk"

BUILD_ONLY: dict[str, frozenset[str]] = {
    APT: frozenset(
        """
        build-essential gcc g++ make cmake clang llvm libc-dev libc6-dev pkg-config pkgconf
        autoconf automake libtool python3-dev python-dev gfortran ninja-build apt-utils binutils
        apt-transport-https cargo rustc golang-go default-jdk-headless maven
        """.split()
    ),
    APK: frozenset(
        """
        make cmake clang llvm musl-dev libc-dev pkgconf pkgconfig autoconf
        automake libtool linux-headers python3-dev gfortran ninja samurai binutils cargo rust go
        openjdk17-jdk maven
        """.split()
    ),
}

# Tools a build installs to set up repositories (``curl ... | gpg --dearmor``,
# ``$(lsb_release -cs)``), which a program may also run (python-gnupg runs gpg): left out of
# the runtime only when a RUN of the build runs one of the words given (its use is shown), and
# then only as DUAL_USE tools are. A package the build never runs was installed for the image.
SETUP_TOOLS: dict[str, tuple[str, ...]] = {
    "gnupg": ("gpg", "gpg2", "gpg-agent", "apt-key", "add-apt-repository"),
    "gnupg2": ("gpg", "gpg2", "gpg-agent", "apt-key", "add-apt-repository"),
    "dirmngr": ("dirmngr", "gpg", "gpg2", "apt-key", "add-apt-repository"),
    "lsb-release": ("lsb_release",),
    "software-properties-common": ("add-apt-repository", "apt-add-repository"),
}

DUAL_USE: dict[str, tuple[str, ...]] = {
    "curl": ("curl",),
    "wget": ("wget",),
    "git": ("git",),
    "openssh-client": ("ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan"),
    "openssh": ("ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan"),
    "rsync": ("rsync",),
    "unzip": ("unzip",),
    "zip": ("zip",),
    "python3": ("python3", "python"),
    "jq": ("jq",),
    "bash": ("bash",),
}

# Certificates: tiny, and needed by any TLS client: kept whenever the runtime can install them.
CA_CERTIFICATES = frozenset({"ca-certificates", "ca-certificates-bundle"})

DEV_TO_RUNTIME: dict[str, dict[str, tuple[str, ...]]] = {
    APT: {
        "libpq-dev": ("libpq5",),
        "libmariadb-dev": ("libmariadb3",),
        "libmariadb-dev-compat": ("libmariadb3",),
        "default-libmysqlclient-dev": ("libmariadb3",),
        "libxml2-dev": ("libxml2",),
        "libxslt1-dev": ("libxslt1.1",),
        "libjpeg-dev": ("libjpeg62-turbo",),
        "libjpeg62-turbo-dev": ("libjpeg62-turbo",),
        "libyaml-dev": ("libyaml-0-2",),
        "libfreetype6-dev": ("libfreetype6",),
        "libpcre3-dev": ("libpcre3",),
        "libldap2-dev": ("libldap-2.5-0",),
        "libsasl2-dev": ("libsasl2-2",),
        "unixodbc-dev": ("libodbc2",),
        "libmagic-dev": ("libmagic1",),
        "libgeos-dev": ("libgeos-c1v5",),
        # Already present in python:*-slim (the interpreter links them); elsewhere unknown:
        "libssl-dev": (),
        "libffi-dev": (),
        "zlib1g-dev": (),
        "libsqlite3-dev": (),
        "libbz2-dev": (),
        "liblzma-dev": (),
        "libreadline-dev": (),
        "libncurses5-dev": (),
        "libncursesw5-dev": (),
        "uuid-dev": (),
    },  # fmt: skip
    APK: {
        "libpq-dev": ("libpq",),
        "postgresql-dev": ("libpq",),
        "postgresql15-dev": ("libpq",),
        "postgresql16-dev": ("libpq",),
        "mariadb-dev": ("mariadb-connector-c",),
        "mariadb-connector-c-dev": ("mariadb-connector-c",),
        "libxml2-dev": ("libxml2",),
        "libxslt-dev": ("libxslt",),
        "jpeg-dev": ("libjpeg-turbo",),
        "libjpeg-turbo-dev": ("libjpeg-turbo",),
        "libpng-dev": ("libpng",),
        "libwebp-dev": ("libwebp",),
        "tiff-dev": ("tiff",),
        "yaml-dev": ("yaml",),
        "freetype-dev": ("freetype",),
        "lcms2-dev": ("lcms2",),
        "openjpeg-dev": ("openjpeg",),
        "pcre-dev": ("pcre",),
        "openldap-dev": ("libldap",),
        "cyrus-sasl-dev": ("libsasl",),
        "unixodbc-dev": ("unixodbc",),
        "file-dev": ("libmagic",),
        "libsodium-dev": ("libsodium",),
        "librdkafka-dev": ("librdkafka",),
        "zeromq-dev": ("libzmq",),
        "icu-dev": ("icu-libs",),
        "gmp-dev": ("gmp",),
        "geos-dev": ("geos",),
        "libffi-dev": ("libffi",),
        # Compilers: C/C++ extensions load their support libraries, which the base lacks.
        "gcc": ("libgcc",),
        "g++": ("libgcc", "libstdc++"),
        "build-base": ("libgcc", "libstdc++"),
        # Already in the alpine images (musl, OpenSSL, zlib are in the base):
        "openssl-dev": (),
        "zlib-dev": (),
        "sqlite-dev": ("sqlite-libs",),
        "bzip2-dev": (),
        "xz-dev": (),
        "readline-dev": (),
        "ncurses-dev": (),
        "util-linux-dev": (),
    },  # fmt: skip
}

PY_SOURCE_BUILT: dict[str, dict[str, tuple[str, ...]]] = {
    APT: {
        "psycopg2": ("libpq5",),
        "mysqlclient": ("libmariadb3",),
        "python-ldap": ("libldap-2.5-0", "libsasl2-2"),
        "pyodbc": ("libodbc2",),
        "uwsgi": ("libxml2",),
        "psycopg": ("libpq5",),  # psycopg 3 loads libpq at run time (a pure-Python wheel)
        "gitpython": ("git",),  # runs the git program
        "python-magic": ("libmagic1",),  # loads libmagic at run time
        "lightgbm": ("libgomp1",),  # its wheel links the system's OpenMP runtime
        "opencv-python": ("libgl1", "libglib2.0-0"),  # cv2 loads libGL and GLib
        "opencv-contrib-python": ("libgl1", "libglib2.0-0"),
        "pytesseract": ("tesseract-ocr",),  # runs the tesseract program
        "pdf2image": ("poppler-utils",),  # runs pdftoppm
        "pyzbar": ("libzbar0",),
    },
    APK: {
        "psycopg2": ("libpq",),
        "mysqlclient": ("mariadb-connector-c",),
        "python-ldap": ("libldap", "libsasl"),
        "pyodbc": ("unixodbc",),
        "uwsgi": ("libxml2",),
        "lxml": ("libxml2", "libxslt"),
        "pillow": ("libjpeg-turbo", "zlib"),
        "psycopg": ("libpq",),
        "gitpython": ("git",),
        "python-magic": ("libmagic",),
    },
}


def package_manager(image: str) -> str | None:
    """The package manager of a runtime image reference: apk, apt, or None (none inside)."""
    name = image.lower()
    if name.startswith(("gcr.io/distroless/", "scratch")) or "distroless" in name:
        return None
    return APK if "alpine" in name else APT


# ---------------------------------------------------------------- package managers

APT_ARCHIVES_MOUNT = "/var/cache/apt"
APT_DEBS = "/var/cache/apt/debs"  # where the mounted RUNs keep .debs (out of docker-clean's way)
# apt configuration that sets where apt keeps its caches (``Dir::Cache "/cache/apt";``, the
# block form ``Dir { Cache ... }``, quotes escaped inside a RUN's echo), in any case: apt.conf(5)
# "the names of the configuration items are not case-sensitive" (``dir::cache``, and apt's own
# ``apt-config dump`` spells ``Dir::Cache::archives``)
APT_DIRS = r'(?i)\b(?:RootDir|Dir(?:::(?:Cache|State)(?:::(?:Archives|Lists))?)?)\s*\\?["{]'

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "apt",
        ("apt-get", "apt", "aptitude"),
        ("install", "update", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall"),
        (
            CacheDir(APT_ARCHIVES_MOUNT, locked=True),
            CacheDir("/var/lib/apt/lists", locked=True, index=True),
        ),
        clean_commands=(("apt-get", "clean"), ("apt", "clean"), ("aptitude", "clean")),
        system=True,
        refresh=("update",),
        offline_flags=("--no-download",),  # installs the .debs an earlier step left
        # configuration that moves apt's directories away from the mounts: Dir, Dir::Cache,
        # Dir::State (and their Archives/Lists), RootDir; in a file or written by a RUN
        config_files=("/etc/apt/apt.conf",),  # the .d directory's files too (a substring)
        config_dests=("/etc/apt/apt.conf", "/etc/apt/apt.conf.d"),
        config_keys=APT_DIRS,
        config_env=("APT_CONFIG",),
        config_options=("-c", "--config-file"),
        runtime_users=(("apt-get",), ("apt",), ("aptitude",)),  # installs at container start
        index_readers=(
            ("apt-cache",),
            ("apt-get", "source"),
            ("apt-get", "download"),
            ("apt", "list"),
            ("apt", "search"),
            ("apt", "show"),
            ("apt", "policy"),
            ("apt", "source"),
            ("apt", "download"),
            ("aptitude", "search"),
            ("aptitude", "show"),
            ("aptitude", "download"),
            ("aptitude", "source"),
        ),
        keep_options={
            "apt-get": f"-o Dir::Cache::Archives={APT_DEBS}",
            "aptitude": f"-o Dir::Cache::Archives={APT_DEBS}",
            "apt": f"-o Dir::Cache::Archives={APT_DEBS} -o APT::Keep-Downloaded-Packages=true",
        },
        value_options=(
            "-o",
            "-c",
            "-t",
            "-a",
            "--option",
            "--config-file",
            "--target-release",
            "--default-release",
            "--host-architecture",
        ),
    ),
    PackageManager(
        "apk",
        ("apk",),
        ("add", "update", "upgrade", "fix"),
        (),
        system=True,
        no_mount="apk keeps no packages unless /etc/apk/cache is set up, so a mount caches nothing",
        value_options=(
            "-t",
            "--virtual",
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--keys-dir",
            "--repositories-file",
        ),
    ),
    PackageManager(
        "dnf",
        ("dnf", "dnf5"),
        ("install", "upgrade", "update", "makecache", "builddep", "reinstall"),
        (CacheDir("/var/cache/dnf", locked=True, metadata=True),),
        clean_commands=(("dnf", "clean"), ("dnf5", "clean")),
        system=True,
        keeps_cleanup=True,
        refresh_options=("--refresh",),
    ),
    PackageManager(
        "yum",
        ("yum", "microdnf"),
        ("install", "upgrade", "update", "makecache", "reinstall"),
        (CacheDir("/var/cache/yum", locked=True, metadata=True),),
        clean_commands=(("yum", "clean"), ("microdnf", "clean")),
        system=True,
        keeps_cleanup=True,
        refresh_options=("--refresh",),  # yum 4 (dnf) and microdnf; yum 3 has none
    ),
)

# Programs that refresh apt's package index unless given one of these options.
INDEX_REFRESHERS: dict[str, tuple[str, ...]] = {
    "add-apt-repository": ("-n", "--no-update"),
    "apt-add-repository": ("-n", "--no-update"),
}


# ---------------------------------------------------------------- releases and runtime images

DEBIAN_SLIM = "debian:{codename}-slim"
ALPINE_RUNTIME = "alpine:{version}"
DEFAULT_ALPINE = "3.20"
DEBIAN_CODENAMES = ("jessie", "stretch", "buster", "bullseye", "bookworm", "trixie")

# Directories on the PATH of every runtime image we pick.
STANDARD_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def debian_codename(tag: str | None) -> str | None:
    """The Debian release named in a tag (``1.75-bookworm`` -> ``bookworm``)."""
    for name in DEBIAN_CODENAMES:
        if tag and name in tag:
            return name
    return None


def alpine_version(tag: str | None) -> str | None:
    """``3.19`` for ``1.22-alpine3.19``, the default for plain ``-alpine``, None otherwise."""
    if not tag or "alpine" not in tag:
        return None
    match = re.search(r"alpine(3\.\d+)", tag)
    return match.group(1) if match else DEFAULT_ALPINE
