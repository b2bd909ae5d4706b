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
  provides. They are kept unless the build context shows that nothing runs them (nor an
  installed package: see ``PY_SOURCE_BUILT``).
- ``DEV_TO_RUNTIME``: a ``-dev`` package -> the shared-library packages a program linked
  against it loads at run time (empty: the slim/alpine images already have the library); on
  alpine also the compilers -> libgcc/libstdc++, which Debian images always have.
- ``COMPILER_RUNTIME``: a compiler -> the support libraries (OpenMP, atomics, Fortran) code it
  compiled may load, which the slim images lack.
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
# Debian packages that verify TLS against /etc/ssl/certs and only *recommend* ca-certificates
# (`apt-cache show`: libcurl4, libcurl3-gnutls, wget, git, aria2; curl through libcurl4), so
# `--no-install-recommends` installs them without it; and packages that depend on it.
CA_RECOMMENDING = frozenset({"curl", "libcurl4", "libcurl3-gnutls", "wget", "git", "aria2"})
CA_BRINGING = CA_CERTIFICATES | {"ca-certificates-java", "python3-pip", "python3-certifi"}
# Where programs read the system's CA certificates, and where update-ca-certificates reads
# the local ones.
CA_STORE_PATHS = re.compile(
    r"(?:^|[=:\s])(/etc/ssl/certs\b|/usr/share/ca-certificates\b|/usr/local/share/ca-certificates\b"
    r"|/etc/ca-certificates\.conf\b|/usr/lib/ssl/(?:certs|cert\.pem)\b)"
)

DEV_TO_RUNTIME: dict[str, dict[str, tuple[str, ...]]] = {
    APT: {
        "libpq-dev": ("libpq5",),
        "libmariadb-dev": ("libmariadb3",),
        "libmariadb-dev-compat": ("libmariadb3",),
        "default-libmysqlclient-dev": ("libmariadb3",),
        "libxml2-dev": ("libxml2",),
        "libxslt1-dev": ("libxslt1.1",),
        # A virtual package libxslt1-dev provides: apt installs that ("Note, selecting
        # 'libxslt1-dev' instead of 'libxslt-dev'"), so its library is the same.
        "libxslt-dev": ("libxslt1.1",),
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

# Compilers -> the support libraries code they compile may load at run time and the slim images
# lack: Debian's gcc depends on libgcc-N-dev, which brings libgomp1 (``-fopenmp``) and
# libatomic1 (``-latomic``). Alpine's gcc depends on libgomp and libatomic, gfortran on
# libgfortran. Debian's libgfortran is named by its soname, which changed between releases
# (libgfortran3 up to stretch, libgfortran5 from buster on): ``COMPILER_UNMAPPED`` names it. A package pip builds
# from an sdist chooses its own flags, so the runtime gets them whenever the build had the
# compiler (a C extension built with -fopenmp on python:3.12-slim failed with "libgomp.so.1:
# cannot open shared object file" in the split's runtime).
COMPILER_RUNTIME: dict[str, dict[str, tuple[str, ...]]] = {
    APT: {
        "gcc": ("libgomp1", "libatomic1"),
        "g++": ("libgomp1", "libatomic1"),
        "build-essential": ("libgomp1", "libatomic1"),
        "gfortran": ("libgomp1", "libatomic1"),
    },
    APK: {
        "gcc": ("libgomp", "libatomic"),
        "g++": ("libgomp", "libatomic"),
        "build-base": ("libgomp", "libatomic"),
        "gfortran": ("libgomp", "libatomic", "libgfortran"),
    },
}

COMPILER_UNMAPPED: dict[str, dict[str, str]] = {
    APT: {"gfortran": "libgfortran (libgfortran3 up to stretch, libgfortran5 from buster on)"},
    APK: {},
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
        # errbot before 6.1.2 clones and pulls plugin repos with the git program
        "errbot": ("git",),
        "python-magic": ("libmagic1",),  # loads libmagic at run time
        "lightgbm": ("libgomp1",),  # its wheel links the system's OpenMP runtime
        "opencv-python": ("libgl1", "libglib2.0-0"),  # cv2 loads libGL and GLib
        "opencv-contrib-python": ("libgl1", "libglib2.0-0"),
        "pytesseract": ("tesseract-ocr",),  # runs the tesseract program
        "pdf2image": ("poppler-utils",),  # runs pdftoppm
        "pyzbar": ("libzbar0",),
        "cairocffi": ("libcairo2",),  # dlopens libcairo.so.2 when imported
        "pangocffi": ("libpango-1.0-0",),
        "pangocairocffi": ("libpangocairo-1.0-0",),
        "file-magic": ("libmagic1",),  # loads libmagic with ctypes
        "filemagic": ("libmagic1",),
        "python-gnupg": ("gnupg",),  # runs the gpg program
        "gnupg": ("gnupg",),
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
        "errbot": ("git",),
        "python-magic": ("libmagic",),
        "cairocffi": ("cairo",),
        "pangocffi": ("pango",),
        "pangocairocffi": ("pango",),
        "file-magic": ("libmagic",),
        "filemagic": ("libmagic",),
        "python-gnupg": ("gnupg",),
        "gnupg": ("gnupg",),
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

# The programs that run apt (the apt manager's, and every apt install a transform reads).
APT_PROGRAMS = ("apt-get", "apt", "aptitude")

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "apt",
        APT_PROGRAMS,
        ("install", "update", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall"),
        (
            CacheDir(APT_ARCHIVES_MOUNT, locked=True),
            CacheDir("/var/lib/apt/lists", locked=True, index=True),
        ),
        clean_commands=(("apt-get", "clean"), ("apt", "clean"), ("aptitude", "clean")),
        system=True,
        refresh=("update",),
        # `apt-get update -o Dir::Etc::sourcelist=sources.list.d/x.list -o
        # Dir::Etc::sourceparts=-` refreshes one repository and keeps the other lists
        partial_refresh=("dir::etc::sourcelist", "dir::etc::sourceparts"),
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
        no_mount=(
            "apk: not mounted: apk keeps no packages unless /etc/apk/cache is set up "
            "(setup-apkcache), so a mount would cache nothing"
        ),
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


# Debian packages whose install fails where /usr/share/man/man1 is missing, as in every -slim
# image (debian:*-slim and the python, node, ruby, openjdk -slim images built on it): the
# JRE's and the PostgreSQL client's postinst link man pages they keep elsewhere into it
# ("update-alternatives: error: error creating symbolic link
# '/usr/share/man/man1/java.1.gz.dpkg-tmp'", built for real on bookworm-slim's dpkg
# excludes), and so does every install that brings them.
MAN_PAGE_PACKAGES = re.compile(
    r"^(openjdk-\d+-(jre|jdk)(-headless)?|default-(jre|jdk)(-headless)?|ca-certificates-java"
    r"|postgresql-client(-\d+|-common)?)$"
)
# Packages apt installs one of them with (``apt-get install -s``, recommends included, on
# Debian 12), among those the corpus and bulk Dockerfiles install: maven, ant, gradle, ...
BRINGS_MAN_PAGE_PACKAGES = frozenset(
    """
    ant ant-contrib ant-optional antlr4 arduino arduino-mk asciidoc aspectj bioperl clojure
    collectd collectd-utils dbconfig-pgsql ditaa epubcheck erlang fastqc findbugs fop gradle
    groovy icinga2-ido-pgsql jasmin-sable javacc jetty9 jing jruby jsvc junit latexdiff lava
    lava-server leiningen liboctave-dev libpcl-dev libreoffice libreoffice-sdbc-hsqldb maven
    maven-debian-helper octave octave-image octave-missing-functions octave-nan
    octave-statistics osmosis pdftk plantuml postfixadmin postgis postgresql
    postgresql-server-dev-all procyon-decompiler r-cran-rjava rhino roundcube scala scilab
    sweethome3d sympa texlive-fonts-extra texlive-full texlive-latex-extra
    texlive-publishers texlive-xetex trang weka xmlto yui-compressor zookeeper zookeeperd
    """.split()
)


def needs_man_pages(package: str) -> str | None:
    """Why installing ``package`` fails on a -slim image (see ``MAN_PAGE_PACKAGES``), or
    None."""
    if MAN_PAGE_PACKAGES.match(package):
        return f"{package}, which needs /usr/share/man/man1"
    if package in BRINGS_MAN_PAGE_PACKAGES:
        return (
            f"{package}, which brings a JRE or the PostgreSQL client: they need /usr/share/man/man1"
        )
    return None


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


# Runtime libraries that ``DEV_TO_RUNTIME`` maps a -dev package of a stable name to, whose
# Debian package is named for the soname, which changes between releases: each exists only
# in the releases listed (libldap2-dev brings libldap-2.4-2 on bullseye and libldap2 on trixie;
# unixodbc-dev libodbc1 up to bullseye). An install of one on another release fails with
# "Unable to locate package". (A -dev package named for its soname, libpcre3-dev, proves by
# its own install that the build's release has the library.)
RELEASE_NAMED: dict[str, tuple[str, ...]] = {
    "libldap-2.5-0": ("bookworm",),
    "libodbc2": ("bookworm", "trixie"),
}
_DEBIAN_NUMBERS = dict(zip(("8", "9", "10", "11", "12", "13"), DEBIAN_CODENAMES, strict=True))


def image_release(image: str) -> str | None:
    """The Debian release an image reference names (``python:3.12-slim-bookworm``,
    ``debian:12-slim``), or None when its tag names none (the default moves over time)."""
    name, _, tag = image.partition("@")[0].rpartition(":")
    if not name:
        return None
    if name.rsplit("/", 1)[-1] == "debian":
        number = re.match(r"(\d+)(?:\.\d+)*(?:-|$)", tag)
        if number and number.group(1) in _DEBIAN_NUMBERS:
            return _DEBIAN_NUMBERS[number.group(1)]
    return debian_codename(tag)


def release_bound(packages: list[str], image: str) -> str | None:
    """Why installing ``packages`` on ``image`` may fail: one is named for releases the
    image may not be (None when each exists in the image's release)."""
    release = image_release(image)
    for name in packages:
        releases = RELEASE_NAMED.get(name)
        if releases is not None and release not in releases:
            where = f"is {release}" if release else "names no Debian release"
            return (
                f"{name} exists only in Debian {', '.join(releases)}, and {image} {where} "
                "(the library's package is named for its soname)"
            )
    return None


def alpine_version(tag: str | None) -> str | None:
    """``3.19`` for ``1.22-alpine3.19``, the default for plain ``-alpine``, None otherwise."""
    if not tag or "alpine" not in tag:
        return None
    match = re.search(r"alpine(3\.\d+)", tag)
    return match.group(1) if match else DEFAULT_ALPINE
