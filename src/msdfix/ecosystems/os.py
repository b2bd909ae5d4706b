"""OS packages of a build stage and what a runtime stage needs of them, per package manager.

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
- ``PY_SOURCE_BUILT``: Python distributions usually compiled from source -> the libraries they
  load at run time.
"""

from __future__ import annotations

APT, APK = "apt", "apk"

BUILD_ONLY: dict[str, frozenset[str]] = {
    APT: frozenset(
        """
        build-essential gcc g++ make cmake clang llvm libc-dev libc6-dev pkg-config pkgconf
        autoconf automake libtool python3-dev python-dev gfortran ninja-build apt-utils binutils
        software-properties-common apt-transport-https dirmngr gnupg gnupg2 lsb-release cargo
        rustc golang-go default-jdk-headless maven
        """.split()
    ),
    APK: frozenset(
        """
        make cmake clang llvm musl-dev libc-dev pkgconf pkgconfig autoconf
        automake libtool linux-headers python3-dev gfortran ninja samurai binutils cargo rust go
        openjdk17-jdk maven gnupg
        """.split()
    ),
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
        # Already present in the slim images (the interpreter or the base links them):
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
    },
    APK: {
        "psycopg2": ("libpq",),
        "mysqlclient": ("mariadb-connector-c",),
        "python-ldap": ("libldap", "libsasl"),
        "pyodbc": ("unixodbc",),
        "uwsgi": ("libxml2",),
        "lxml": ("libxml2", "libxslt"),
        "pillow": ("libjpeg-turbo", "zlib"),
    },
}


def package_manager(image: str) -> str | None:
    """The package manager of a runtime image reference: apk, apt, or None (none inside)."""
    name = image.lower()
    if name.startswith(("gcr.io/distroless/", "scratch")) or "distroless" in name:
        return None
    return APK if "alpine" in name else APT
