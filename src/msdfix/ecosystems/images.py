"""Base image families: variants, libc, shell, package manager, size, and tag mapping rules.

Data, not code. Sizes are approximate compressed-on-disk sizes of the amd64 images of the
official Docker Hub repositories (Debian bookworm era) and only order the variants.

Variants: ``full`` (buildpack-deps based for node/python/ruby: gcc, make, git, curl, -dev
libraries), ``slim`` (same Debian release, runtime only), ``alpine`` (musl, busybox, apk),
``distroless`` (no shell, no package manager; static = no libc), ``scratch`` (empty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from msdfix.model.image import parse_image

GLIBC, MUSL, NONE = "glibc", "musl", "none"

# `perl` that loads modules (`perl -MJSON::PP`, a script): -slim has perl-base only, the full
# images the whole perl package (a RUN failed with "Can't locate JSON/PP.pm" on -slim).
PERL_MODULES = "perl modules"
# Tools the buildpack-deps based full images have and the -slim ones lack: every program of
# the packages that bring them and of their dependencies (openssh-client has ssh-keygen as
# well as ssh; git brings perl with shasum, gcc brings binutils with strip: a RUN running
# `shasum -a 256 -c` or `strip` failed on -slim).
BUILDPACK_TOOLS = frozenset(
    """
    gcc g++ cc c++ cpp make git curl wget gpg ssh scp sftp hg svn bzr patch autoconf automake
    autoreconf libtool libtoolize pkg-config file unzip bzip2 xz unxz convert identify magick ps
    pkill pgrep top free node-gyp dpkg-architecture
    ssh-keygen ssh-keyscan ssh-add ssh-agent gpgv bunzip2 bzcat xzcat lzma unlzma zipinfo
    mogrify montage strings objdump readelf
    addr2line ar as c++filt elfedit gprof ld ld.bfd ld.gold gold nm objcopy ranlib size strip
    c89 c99 gcc-ar gcc-nm gcc-ranlib gcov gmake pkgconf aclocal autoheader autom4te autoscan
    autoupdate ifnames m4 corelist cpan enc2xs encguess h2ph h2xs instmodsh json_pp libnetcfg
    perlbug perldoc perlivp piconv pl2pm pod2html pod2man pod2text pod2usage podchecker prove
    ptar ptardiff ptargrep shasum splain streamzip xsubpp zipdetails
    bzcmp bzdiff bzegrep bzfgrep bzgrep bzip2recover bzless bzmore lzcat lzcmp lzdiff lzgrep
    lzmainfo xzcmp xzdiff xzegrep xzfgrep xzgrep xzless xzmore funzip unzipsfx zipgrep
    dpkg-buildflags dpkg-buildpackage dpkg-checkbuilddeps dpkg-genchanges dpkg-gencontrol
    dpkg-gensymbols dpkg-name dpkg-parsechangelog dpkg-scanpackages dpkg-scansources
    dpkg-shlibdeps dpkg-source dpkg-vendor git-receive-pack git-shell git-upload-archive
    git-upload-pack scalar pg_config mysql_config mariadb_config xml2-config xslt-config
    curl-config composite compare conjure animate dirmngr gpg-agent gpgconf gpgsm
    gpg-connect-agent watch vmstat uptime pmap pwdx sysctl slabtop tload skill snice
    svnadmin svnversion svnlook svnsync svnserve svnrdump svnmucc svndumpfilter
    fc-list fc-match fc-cache fc-query fc-scan fc-pattern fc-cat fc-conflist fc-validate
    git-lfs gcc-12 g++-12 cpp-12 gcov-12 lto-dump ssh-copy-id slogin pidwait lzegrep lzfgrep
    lzless lzmore gpgtar gpgsplit gpg-zip gpgcompose dirmngr-client krb5-config pcre2-config
    libpng-config libpng16-config ncurses6-config ncursesw6-config svnauthz svnbench
""".split()
    + [PERL_MODULES]
)
# What node's -slim images purge after downloading node (nodejs/docker-node's
# bookworm-slim Dockerfile installs ca-certificates, curl, wget, gnupg, ... then runs
# `apt-mark auto '.*'` and `apt-get purge --auto-remove`): the full image (buildpack-deps)
# keeps ca-certificates, so /etc/ssl/certs, update-ca-certificates and openssl (which
# ca-certificates depends on) are full-only there.
# python's and ruby's -slim install ca-certificates themselves.
SLIM_PURGED = frozenset({"ca-certificates"})
# The openjdk images install fontconfig and libfreetype6 in the full variants only
# (docker-library/openjdk: "java.lang.UnsatisfiedLinkError: libfontmanager.so: libfreetype.so.6:
# cannot open shared object file", "Could not initialize class sun.awt.X11FontManager"); the
# -slim and -jre-slim ones install ca-certificates and p11-kit alone. eclipse-temurin's JDK
# and JRE both have fontconfig.
JAVA_FONTS = frozenset({"fontconfig", "libfreetype6"})
# The python images install media-types (/etc/mime.types) in the full variants only
# (docker-library/python#254: "python:3 ... has mime-support installed ... not installed in
# python:3-slim"); Python's mimetypes reads it, so a server that sends files by type (http.server,
# Starlette's StaticFiles, Flask's send_file) answers .woff2, .ttf, .webp with another
# Content-Type on -slim (application/octet-stream, text/plain) and .js as application/javascript.
MIME_TYPES = frozenset({"media-types"})
# Packages that bring /etc/mime.types as well (media-types' older name, and mailcap before it).
MIME_TYPES_PROVIDERS = frozenset({"media-types", "mime-support", "mailcap"})
# Why a program may need a package the smaller variant lacks, by package.
SLIM_LACKS_WHY = {
    **dict.fromkeys(
        JAVA_FONTS,
        "Java's font rendering (AWT text, PDF or image output, POI's autoSizeColumn) fails "
        "without it",
    ),
    "media-types": "Python's mimetypes reads its /etc/mime.types, so files served by type "
    "(fonts, webp, .js) get another Content-Type without it",
    "netbase": "service and protocol names (/etc/services, /etc/protocols) do not resolve "
    "without it",
    "fonts-dejavu-core": "text drawn with the system's fonts (fontconfig, /usr/share/fonts, a "
    "font file named without its folder) finds no font without it",
}
# What shows a Python program sends files by type: the standard library's file servers and
# type guesses, and the static-file helpers of the web frameworks (Flask serves the app's
# static/ folder by default).
MIME_TYPED_SERVING = re.compile(
    r"\b(?:mimetypes|http\.server|SimpleHTTPRequestHandler|StaticFiles|FileResponse"
    r"|send_file|send_from_directory|static_folder|whitenoise|staticfiles|StaticFileHandler"
    r"|add_static|guess_type)\b"
)
# The full python, node and ruby images carry fontconfig and the DejaVu fonts: buildpack-deps'
# imagemagick and libmagickwand-dev bring libfontconfig1, whose fontconfig-config depends on
# fonts-dejavu-core (its first alternative), and libfontconfig-dev the fontconfig programs. The
# -slim images have no font and no /usr/share/fonts (built for real on emulations of the
# official images: Pillow's ``ImageFont.truetype("DejaVuSans.ttf")`` raised "cannot open
# resource" and ``fc-list`` was not found on python:3.12-slim, resvg drew no text on
# node:18-slim).
SYSTEM_FONTS = frozenset({"fonts-dejavu-core"})
# Packages that bring a font (fontconfig's configuration depends on one).
FONT_PACKAGES = re.compile(
    r"^(?:fonts-[a-z0-9.+-]+|ttf-[a-z0-9.+-]+|xfonts-[a-z0-9.+-]+|gsfonts[a-z0-9.+-]*"
    r"|fontconfig(?:-config)?|libfontconfig[a-z0-9.+-]*)$"
)
# What shows a program reads the system's fonts: their folders, fontconfig, a DejaVu face.
SYSTEM_FONT_USE = re.compile(
    r"/usr/share/fonts\b|/etc/fonts\b|\bfc-(?:list|match|cache|query|scan|pattern)\b"
    r"|\bfontconfig\b|\bDejaVu"
)
# Texts one of which every match of SYSTEM_FONT_USE holds (a source without any is not searched:
# the regex, starting with ``\b``, takes 0.5 s a MiB).
SYSTEM_FONT_NEEDLES = ("/usr/share/fonts", "/etc/fonts", "fc-", "fontconfig", "DejaVu")
# A font file named without a folder (Pillow's ``truetype("Arial.ttf")``, reportlab's
# ``TTFont(name, "X.ttf")``): both search the system's font folders for it.
FONT_FILE = re.compile(r"""["']([^"'/\\\s]+\.(?:ttf|otf|ttc|pfb))["']""", re.IGNORECASE)
# node's and ruby's -slim images have no netbase (/etc/services, /etc/protocols, /etc/rpc):
# debian:*-slim has none, nodejs/docker-node installs nothing that stays and docker-library/ruby
# only ca-certificates, where buildpack-deps' curl image installs netbase (python's -slim
# installs it too). Service and protocol names then fail to resolve: node's
# ``dns.lookupService(ip, 443)`` answered "443" on node:18-slim and "https" on node:18 (built
# for real), Ruby's ``Socket.getservbyname`` raises, perl's IO::Socket finds no "tcp".
NETBASE = frozenset({"netbase"})
# What shows a program looks names up in those files.
NETBASE_USE = re.compile(
    r"/etc/(?:services|protocols|rpc)\b|\bget(?:serv|proto)by(?:name|port|number)\b"
    r"|\blookupService\b"
)
NETBASE_NEEDLES = (
    "/etc/services",
    "/etc/protocols",
    "/etc/rpc",
    "getserv",
    "getproto",
    "lookupService",
)
# Packages that stand in for one the smaller variant lacks (any of them brings its files).
SLIM_LACKS_PROVIDERS = {"media-types": MIME_TYPES_PROVIDERS}


def provides_lacking(package: str, installed: set[str]) -> bool:
    """One of ``installed`` brings the files of ``package``, which the smaller variant lacks."""
    if package in SYSTEM_FONTS:
        return any(FONT_PACKAGES.match(name) for name in installed)
    return bool(SLIM_LACKS_PROVIDERS.get(package, {package}) & installed)


# JDK tools a JRE lacks.
JDK_TOOLS = frozenset(
    """
    javac jar jlink jshell jpackage jdeps jarsigner jcmd jmap jstack jstat jinfo jhsdb jps jdb
    javadoc javap jmod jdeprscan native-image mvn mvnw gradle gradlew
""".split()
)
_TOOL_PACKAGES = """
    gcc=gcc,build-essential cc=gcc,build-essential g++=g++,build-essential
    c++=g++,build-essential cpp=cpp,gcc,build-essential make=make,build-essential
    ps=procps pkill=procps pgrep=procps top=procps free=procps ssh=openssh-client
    scp=openssh-client sftp=openssh-client gpg=gnupg,gpg,gnupg2 hg=mercurial svn=subversion
    xz=xz-utils unxz=xz-utils convert=imagemagick identify=imagemagick magick=imagemagick
    ssh-keygen=openssh-client ssh-keyscan=openssh-client ssh-add=openssh-client
    ssh-agent=openssh-client gpgv=gpgv,gnupg bunzip2=bzip2 bzcat=bzip2 xzcat=xz-utils
    lzma=xz-utils unlzma=xz-utils zipinfo=unzip mogrify=imagemagick montage=imagemagick
    python3=python3,python3-minimal python=python3,python-is-python3 pkg-config=pkg-config,pkgconf
    pkgconf=pkgconf,pkg-config gmake=make,build-essential m4=m4,autoconf aclocal=automake
    autoheader=autoconf autom4te=autoconf autoscan=autoconf autoupdate=autoconf ifnames=autoconf
    pg_config=libpq-dev mysql_config=default-libmysqlclient-dev,libmysqlclient-dev,libmariadb-dev
    mariadb_config=libmariadb-dev,default-libmysqlclient-dev xml2-config=libxml2-dev
    xslt-config=libxslt1-dev,libxslt-dev curl-config=libcurl4-openssl-dev,libcurl4-gnutls-dev
    scalar=git git-receive-pack=git git-shell=git git-upload-archive=git git-upload-pack=git
    composite=imagemagick compare=imagemagick conjure=imagemagick animate=imagemagick
    dirmngr=dirmngr,gnupg gpg-agent=gpg-agent,gnupg gpgconf=gpgconf,gnupg gpgsm=gpgsm,gnupg
    gpg-connect-agent=gpg-agent,gnupg funzip=unzip unzipsfx=unzip zipgrep=unzip
    update-ca-certificates=ca-certificates openssl=openssl,ca-certificates
    c_rehash=openssl,ca-certificates python3.11=python3,python3.11,python3-minimal
    pydoc3=python3 pygettext3=python3 py3compile=python3 py3clean=python3
"""
# apt packages that provide a tool (a stage that installs one may use the tool on -slim).
# Programs of one package (and the packages that bring it): "packages: programs".
_PACKAGE_PROGRAMS = f"""
    binutils,gcc,g++,build-essential: addr2line ar as c++filt elfedit gprof ld ld.bfd ld.gold
        gold nm objcopy ranlib size strip strings objdump readelf
    gcc,build-essential: c89 c99 gcc-ar gcc-nm gcc-ranlib gcov
    perl: corelist cpan enc2xs encguess h2ph h2xs instmodsh json_pp libnetcfg perlbug perldoc
        perlivp piconv pl2pm pod2html pod2man pod2text pod2usage podchecker prove ptar ptardiff
        ptargrep shasum splain streamzip xsubpp zipdetails {PERL_MODULES.replace(" ", "_")}
    bzip2: bzcmp bzdiff bzegrep bzfgrep bzgrep bzip2recover bzless bzmore
    xz-utils: lzcat lzcmp lzdiff lzgrep lzmainfo xzcmp xzdiff xzegrep xzfgrep xzgrep xzless xzmore
    dpkg-dev,build-essential: dpkg-buildflags dpkg-buildpackage dpkg-checkbuilddeps
        dpkg-genchanges dpkg-gencontrol dpkg-gensymbols dpkg-name dpkg-parsechangelog
        dpkg-scanpackages dpkg-scansources dpkg-shlibdeps dpkg-source dpkg-vendor
    procps: watch vmstat uptime pmap pwdx sysctl slabtop tload skill snice
    subversion: svnadmin svnversion svnlook svnsync svnserve svnrdump svnmucc svndumpfilter
    gcc-12,gcc,g++,build-essential: gcc-12 cpp-12 gcov-12 lto-dump
    g++-12,g++,build-essential: g++-12
    openssh-client: ssh-copy-id slogin
    procps: pidwait
    xz-utils: lzegrep lzfgrep lzless lzmore
    gnupg,gpg,gnupg2,gpgv: gpgtar gpgsplit gpg-zip gpgcompose
    dirmngr,gnupg: dirmngr-client
    libkrb5-dev,krb5-multidev: krb5-config
    libpcre2-dev: pcre2-config
    libpng-dev: libpng-config libpng16-config
    libncurses-dev,libncurses5-dev,libncursesw5-dev: ncurses6-config ncursesw6-config
    subversion: svnauthz svnbench
    fontconfig: fc-list fc-match fc-cache fc-query fc-scan fc-pattern fc-cat fc-conflist
        fc-validate
"""
TOOL_PACKAGES: dict[str, frozenset[str]] = {
    **{
        program.replace("_", " "): frozenset(packages.strip().split(","))
        for packages, _, programs in (
            group.partition(":") for group in re.split(r"\n(?=    \S)", _PACKAGE_PROGRAMS.strip())
        )
        for program in programs.split()
    },
    **{
        tool: frozenset(packages.split(","))
        for tool, _, packages in (item.partition("=") for item in _TOOL_PACKAGES.split())
    },
}

# Python distributions that compile against, or load, system libraries the full image has
# (libpq-dev, libmariadb-dev, libldap, libmagic, imagemagick, ...) and python:X-slim lacks, or
# that run its programs by names msdfix cannot see (sh and plumbum: ``from sh import git``), or
# that compile C when the program imports a module (cython's pyximport, cppimport; PyMC's
# pytensor and theano/aesara compile their C backend with g++ as the program runs). cairocffi
# and pangocffi dlopen libcairo/libpango, and file-magic/filemagic libmagic (the full image has
# them through imagemagick's librsvg and ``file``); python-gnupg and gnupg run ``gpg``.
# PyStan 3's httpstan compiles every model with the system's C++ compiler when the program calls
# ``stan.build`` (built: python:3.11 sampled, python:3.11-slim failed with "CompileError(
# FileNotFoundError(2, 'No such file or directory'))"); cmdstanpy is left out, as prophet runs
# the model its wheel ships through it without compiling. PyICU ships no wheel (built: on
# python:3-slim its sdist failed "Please install pkg-config"; python:3 compiled it).
PY_NEEDS_FULL = frozenset(
    """
    psycopg2 mysqlclient mysql-python python-ldap uwsgi pycairo pygobject dbus-python pyodbc
    python-magic pylibmc pycurl gssapi xmlsec m2crypto pygraphviz pyaudio cairosvg weasyprint wand
    python-snappy pykerberos kerberos mod-wsgi gdal fiona psycopg gitpython lightgbm
    opencv-python opencv-contrib-python pytesseract pdf2image pyzbar pyvips sh plumbum
    cython cppimport cairocffi pangocffi pangocairocffi file-magic filemagic python-gnupg gnupg
    pytensor theano theano-pymc aesara pystan httpstan pyicu
""".split()
)
# npm packages that build or ship native (glibc) code.
NODE_NATIVE = frozenset(
    """
    bcrypt node-sass canvas sqlite3 better-sqlite3 argon2 grpc re2 leveldown zeromq kerberos usb
    serialport @serialport/bindings @serialport/bindings-cpp cpu-features bufferutil
    utf-8-validate libxmljs libxmljs2 microtime farmhash deasync sharp node-pty isolated-vm
    ffi-napi ref-napi oracledb odbc ibm_db @tensorflow/tfjs-node robotjs lmdb msgpackr-extract
""".split()
)
# npm packages that load a system library or run a program that the full node image
# (buildpack-deps) has and node:*-slim lacks: libpq, Kerberos, ODBC, libcurl, ImageMagick, git,
# python3 (python-shell runs it), libssl (Prisma's engines load libssl.so and detect it with
# `openssl version`: node:*-slim purges both, nodejs/docker-node#1919, Prisma's docs ask slim
# images to `apt-get install openssl`), the system's fonts (resvg, @napi-rs/canvas and
# skia-canvas draw text with the fonts of /usr/share/fonts: see ``SYSTEM_FONTS``), procps'
# ``ps`` (find-process, ps-list, ps-node and tree-kill run it on Linux: on node:18-slim
# find-process printed "ps: not found" and ps-list failed with "spawn ps ENOENT", built for
# real; systeminformation runs ps and other system programs). node-rdkafka compiles librdkafka
# at install, which links the libssl and libsasl2 the full image has (``Error loading shared
# library libsasl2.so.2 (needed by .../node-rdkafka/build/deps/librdkafka.so.1)``,
# Blizzard/node-rdkafka#527): node:*-slim has neither. ps-tree and pidtree run procps' ``ps`` on
# Linux (``spawn('ps', ['-A', '-o', 'ppid,pid,stat,comm'])``, ``run('ps', ['-A', '-o',
# 'ppid,pid'])`` in their sources) and git-rev-sync runs ``git`` (shelljs' ``exec``).
# node-canvas (``canvas``) draws text through pango and fontconfig with the system's fonts as
# well: without them "Fontconfig error: Cannot load default config file" and the text turns to
# boxes (Automattic/node-canvas#1780, #1712 "You might not have fonts installed").
# easyimage and imagemagick-stream run ImageMagick's ``convert``/``identify``/``magick``
# (``execFilePromised("convert", ...)``, ``spawn('convert', ...)``); git-last-commit, git-rev,
# git-state, gitlog and git-promise run ``git`` (``exec('git rev-parse HEAD')``,
# ``execFileSync("git", ...)``): their npm tarballs' sources.
# youtube-dl-exec runs yt-dlp, a Python zipapp: "It requires Python 3.9 or above available in
# your system as `python3`" (its README); node:*-slim has no python3. So does @distube/yt-dlp
# (DisTube's music bots): its postinstall downloads the release asset named ``yt-dlp``, the
# zipapp, and ``execa`` runs it; built for real, a split bot's yt-dlp failed with
# "/usr/bin/env: 'python3': No such file or directory" where node:18 ran it.
NODE_NEEDS_FULL = frozenset(
    """
    pg-native libpq kerberos gssapi odbc ibm_db node-libcurl imagemagick-native imagemagick gm
    node-rdkafka ps-tree pidtree git-rev-sync canvas easyimage imagemagick-stream git-last-commit
    git-rev git-state gitlog git-promise youtube-dl-exec @distube/yt-dlp
    simple-git nodegit python-shell @prisma/client prisma @prisma/engines
    @resvg/resvg-js @napi-rs/canvas skia-canvas
    find-process ps-list ps-node tree-kill systeminformation
""".split()
)
# Gems with C extensions (they need gcc/make on the image that runs bundle install).
RUBY_NATIVE = frozenset(
    """
    pg mysql2 puma nio4r bootsnap websocket-driver bcrypt msgpack ffi nokogiri sqlite3 racc
    bigdecimal date json io-console byebug unf_ext hiredis grpc sassc eventmachine thin unicorn
    raindrops kgio oj redcarpet charlock_holmes rugged ed25519 bcrypt_pbkdf debug mini_racer psych
    strscan stringio digest-crc curb rmagick
""".split()
)

DEBIAN_RELEASES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")
_VERSION = r"(?:\d+(?:\.\d+){0,2}|lts|current|latest)"
_SLIM_SUFFIX = re.compile(rf"^(?P<v>{_VERSION})(?P<os>-(?:{'|'.join(DEBIAN_RELEASES)}))?$")
# Node's LTS codenames, each an alias of one major version (4, 6, ... 22) with the same variants
# as the number (the official library lists argon-slim, boron-jessie-slim, carbon-slim, ...).
NODE_CODENAMES = "argon boron carbon dubnium erbium fermium gallium hydrogen iron jod".split()
_NODE_SLIM_SUFFIX = re.compile(
    rf"^(?P<v>{_VERSION}|{'|'.join(NODE_CODENAMES)})(?P<os>-(?:{'|'.join(DEBIAN_RELEASES)}))?$"
)
_SUITES = "|".join((*DEBIAN_RELEASES, "stable", "oldstable", "testing", "unstable", "sid"))
# -slim exists for jessie (8) and later; point-release -slim tags from buster (10) on.
_DEBIAN_TAG = re.compile(rf"^(?P<v>[89]|[1-9]\d|[1-9]\d\.\d+|{_SUITES})(?P<date>-\d{{8}})?$")
_TEMURIN_TAG = re.compile(r"^(?P<v>\d+(?:[._]\d+)*)(?:-(?P<kind>jdk|jre))?(?P<os>-[a-z0-9.-]+)?$")
_NGINX_TAG = re.compile(
    r"^(?P<v>\d+(?:\.\d+){0,2}|stable|mainline)(?:-(?:bookworm|bullseye|buster))?$"
)


@dataclass(frozen=True)
class Variant:
    """One variant of a family."""

    kind: str  # full | slim | jre | alpine | distroless | scratch
    libc: str  # glibc | musl | none
    shell: bool
    package_manager: str | None  # apt | apk | None
    size_mb: int
    example: str


@dataclass(frozen=True)
class Family:
    """An image family (one Docker Hub repository, or a distroless group)."""

    name: str
    role: str  # runtime | os | build | minimal
    variants: tuple[Variant, ...]
    full_only_tools: frozenset[str] = frozenset()
    note: str = ""
    alpine: str = "never"  # when alpine is proposed: never | unsafe | safe-if-static-only
    # apt packages of the full image that its -slim variant does not carry, beyond the tools
    # (node's -slim purges ca-certificates: see ``SLIM_PURGED``).
    slim_lacks: frozenset[str] = frozenset()

    def variant(self, kind: str) -> Variant | None:
        """The variant of that kind, if the family has one."""
        return next((v for v in self.variants if v.kind == kind), None)


def _v(kind: str, size: int, example: str, **kw: Any) -> Variant:
    libc, shell, pm = kw.get("libc", GLIBC), kw.get("shell", True), kw.get("pm", "apt")
    return Variant(kind, libc, shell, pm, size, example)


_APK = {"libc": MUSL, "pm": "apk"}
_NOSHELL = {"shell": False, "pm": None}
_BUILD = "a build image: use split-stages"
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "node", "runtime",
            (_v("full", 1000, "node:18"), _v("slim", 200, "node:18-slim"),
             _v("alpine", 130, "node:18-alpine", **_APK)),
            BUILDPACK_TOOLS
            | {"python3", "python", "update-ca-certificates", "openssl", "c_rehash"}
            | {"python3.11", "pydoc3", "pygettext3", "py3compile", "py3clean"},
            "node:18 -> node:18-slim; alpine only unsafe, never with native modules",
            alpine="unsafe",
            slim_lacks=SLIM_PURGED | SYSTEM_FONTS | NETBASE,
        ),
        Family(
            "python", "runtime",
            (_v("full", 1000, "python:3.12"), _v("slim", 130, "python:3.12-slim"),
             _v("alpine", 50, "python:3.12-alpine", **_APK)),
            BUILDPACK_TOOLS,
            "python:3.12-bookworm -> python:3.12-slim-bookworm; alpine never "
            "(manylinux wheels are glibc; packages compile from source on musl)",
            slim_lacks=MIME_TYPES | SYSTEM_FONTS,
        ),
        Family(
            "ruby", "runtime",
            (_v("full", 900, "ruby:3.3"), _v("slim", 200, "ruby:3.3-slim"),
             _v("alpine", 80, "ruby:3.3-alpine", **_APK)),
            BUILDPACK_TOOLS,
            "ruby:3.3-bookworm -> ruby:3.3-slim-bookworm; C extensions need the full image",
            slim_lacks=SYSTEM_FONTS | NETBASE,
        ),
        Family(
            "debian", "os",
            (_v("full", 120, "debian:bookworm"), _v("slim", 75, "debian:bookworm-slim")),
            note="debian:bookworm -> debian:bookworm-slim (drops docs, man pages, locales)",
        ),
        Family("ubuntu", "os", (_v("full", 78, "ubuntu:22.04"),), note="no slim variant"),
        Family(
            "openjdk", "runtime",
            (_v("full", 470, "openjdk:17"), _v("slim", 400, "openjdk:17-slim"),
             _v("jre", 200, "openjdk:11-jre-slim")),
            JDK_TOOLS | BUILDPACK_TOOLS,
            "deprecated; 8/11 have -jre-slim, 17+ -> eclipse-temurin:<major>-jre (vendor change)",
            slim_lacks=JAVA_FONTS,
        ),
        Family(
            "eclipse-temurin", "runtime",
            (_v("full", 400, "eclipse-temurin:17-jdk"), _v("jre", 270, "eclipse-temurin:17-jre"),
             _v("alpine", 170, "eclipse-temurin:17-jre-alpine", **_APK)),
            JDK_TOOLS,
            "eclipse-temurin:17[-jdk][-os] -> eclipse-temurin:17-jre[-os]",
        ),
        Family(
            "nginx", "runtime",
            (_v("full", 190, "nginx:1.25"), _v("alpine", 45, "nginx:1.25-alpine", **_APK)),
            note="nginx:1.25 -> nginx:1.25-alpine: same modules, config layout and entrypoint",
            alpine="safe-if-static-only",
        ),
        Family(
            "php", "runtime",
            (_v("full", 500, "php:8.3-apache"), _v("alpine", 90, "php:8.3-fpm-alpine", **_APK)),
            note="no slim; alpine not proposed (extensions are built with apt packages)",
        ),
        Family(
            "golang", "build",
            (_v("full", 800, "golang:1.22"), _v("alpine", 250, "golang:1.22-alpine", **_APK)),
            note=f"{_BUILD}; static binaries run on distroless/static",
        ),
        Family(
            "rust", "build",
            (_v("full", 1500, "rust:1.75"), _v("slim", 800, "rust:1.75-slim")),
            note=f"{_BUILD}; binaries run on debian:bookworm-slim or distroless/cc",
        ),
        Family("maven", "build", (_v("full", 500, "maven:3.9-eclipse-temurin-17"),), note=_BUILD),
        Family("gradle", "build", (_v("full", 600, "gradle:8-jdk17"),), note=_BUILD),
        Family("gcc", "build", (_v("full", 1400, "gcc:13"),), note=_BUILD),
        Family("buildpack-deps", "build", (_v("full", 900, "buildpack-deps:12"),), note=_BUILD),
        Family("alpine", "minimal", (_v("alpine", 7, "alpine:3.19", **_APK),)),
        Family("busybox", "minimal", (_v("alpine", 4, "busybox:1.36", libc=MUSL, pm=None),)),
        Family(
            "gcr.io/distroless/static-debian12", "minimal",
            (_v("distroless", 2, "gcr.io/distroless/static-debian12", libc=NONE, **_NOSHELL),),
            note="CA certificates, tzdata, /etc/passwd (root, nonroot, nobody); no libc, no shell",
        ),
        Family(
            "gcr.io/distroless/base-debian12", "minimal",
            (_v("distroless", 20, "gcr.io/distroless/base-debian12", **_NOSHELL),),
        ),
        Family(
            "gcr.io/distroless/cc-debian12", "minimal",
            (_v("distroless", 23, "gcr.io/distroless/cc-debian12", **_NOSHELL),),
        ),
        Family("scratch", "minimal", (_v("scratch", 0, "scratch", libc=NONE, **_NOSHELL),)),
    )
}  # fmt: skip

DISTROLESS_STATIC = "gcr.io/distroless/static-debian12"
# Users that exist in distroless/static's /etc/passwd.
DISTROLESS_USERS = frozenset({"root", "nonroot", "nobody", "0", "65532", "65534"})
# The groups of distroless's /etc/group (no ``nogroup``: Debian's and Alpine's name for 65534).
DISTROLESS_GROUPS = frozenset({"root", "nobody", "tty", "staff", "nonroot"})
# Numeric ids of distroless's /etc/group entries.
DISTROLESS_GIDS = frozenset({"0", "5", "50", "65532", "65534"})
# Below this, a numeric id may name a system user or group of the original base (Debian's
# www-data is 33, Alpine's guest 405) whose name and home distroless does not have.
SYSTEM_ID_LIMIT = 1000
# The user of distroless ``:nonroot`` images, as a Dockerfile may name it.
DISTROLESS_NONROOT = frozenset({"nonroot", "65532", "nonroot:nonroot", "65532:65532"})
# Users and groups both nginx images define with the same id: nginx's Dockerfiles add nginx
# (101) to each; Alpine's baselayout has no www-data user (only a group, 82, where Debian's is
# 33) and no nogroup, so `COPY --chown=www-data` stops on nginx:*-alpine.
NGINX_ALPINE_USERS = frozenset({"root", "nginx", "nobody"})
NGINX_ALPINE_GROUPS = frozenset({"root", "nginx"})
# Final-stage bases a static Go binary may leave for distroless/static.
DISTROLESS_FROM = frozenset({"alpine", "debian", "ubuntu", "busybox", "golang"})


@dataclass(frozen=True)
class Rule:
    """One documented rule: when it applies and how safe it is."""

    id: str
    applicability: str  # safe | unsafe | display-only | leave
    text: str


RULES: tuple[Rule, ...] = (
    Rule(
        "full-to-slim",
        "safe",
        "node/python/ruby/debian full -> -slim of the same version and Debian release, "
        "when nothing in the stage uses tools only the full image has and installs cannot compile",
    ),
    Rule(
        "slim-tools",
        "leave",
        "a RUN, CMD, ENTRYPOINT or HEALTHCHECK uses gcc, make, git, curl, wget, ps, ... "
        "without installing it: -slim would break it",
    ),
    Rule(
        "slim-installs",
        "unsafe",
        "npm/yarn/pnpm/pip install in the stage whose dependencies cannot be seen "
        "or run install scripts; artefacts copied from a stage built on a full image",
    ),
    Rule(
        "slim-native",
        "leave",
        "pip packages needing system libraries (psycopg2, mysqlclient, ...) or "
        "bundle install of gems with C extensions",
    ),
    Rule(
        "jdk-to-jre",
        "safe",
        "eclipse-temurin JDK -> JRE of the same major version and OS, when no JDK tool runs",
    ),
    Rule(
        "openjdk-to-temurin",
        "unsafe",
        "openjdk:17+ -> eclipse-temurin:<major>-jre: vendor and JAVA_HOME change",
    ),
    Rule(
        "nginx-alpine",
        "safe",
        "nginx -> nginx:<version>-alpine when the stage only copies static files; "
        "unsafe with RUN, HEALTHCHECK or custom config (busybox, musl resolver); never with apt",
    ),
    Rule(
        "node-alpine",
        "unsafe",
        "node -> node:<major>-alpine, only when the lockfile shows no native modules or "
        "install scripts, no apt-get, no bash and nothing copied from a glibc stage",
    ),
    Rule(
        "go-distroless",
        "unsafe",
        "a final stage that only copies a Go binary and runs it in exec form -> "
        "distroless/static; safe when built with CGO_ENABLED=0 and no Go source imports os/exec",
    ),
    Rule(
        "digest",
        "display-only",
        "a digest-pinned base: the new digest is unknown, so only suggested",
    ),
    Rule(
        "untagged",
        "leave",
        "no tag (implicitly latest): pin a version first; msdfix never writes latest",
    ),
    Rule("variable", "leave", "the base comes from ARG/variables: change the ARG default instead"),
    Rule("build-image", "leave", "golang/rust/maven/gradle as the runtime: use split-stages"),
)


def family_of(name: str) -> Family | None:
    """The family of a repository name, however it spells Docker Hub (``docker.io/node``)."""
    return FAMILIES.get(parse_image(name).full_name)


@dataclass(frozen=True)
class Target:
    """A proposed base: repository (None = unchanged) and tag, with its variant kind."""

    tag: str
    kind: str
    repository: str | None = None


def slim_target(family: str, tag: str) -> Target | None:
    """The -slim tag of the same version and Debian release, or None (already small, unknown)."""
    if family in ("node",):
        match = _NODE_SLIM_SUFFIX.match(tag)
        if match and match.group("v") != "latest":
            return Target(f"{tag}-slim", "slim")
    elif family in ("python", "ruby"):
        match = _SLIM_SUFFIX.match(tag)
        if match and match.group("v") not in ("latest", "lts", "current"):
            return Target(f"{match.group('v')}-slim{match.group('os') or ''}", "slim")
    elif family == "debian":
        if _DEBIAN_TAG.match(tag):
            return Target(f"{tag}-slim", "slim")
    elif family == "openjdk":
        match = re.match(
            r"^(?P<major>8|11)(?:-jdk|-jre)?(?P<os>-(?:bullseye|buster|stretch))?$", tag
        )
        if match:
            return Target(f"{match.group('major')}-jre-slim{match.group('os') or ''}", "jre")
    return None


def jre_target(family: str, tag: str) -> Target | None:
    """eclipse-temurin JDK tag -> JRE tag; openjdk 17+ -> eclipse-temurin JRE (vendor change)."""
    if family == "eclipse-temurin":
        match = _TEMURIN_TAG.match(tag)
        if (
            match
            and match.group("kind") != "jre"
            and "windows" not in tag
            and "nanoserver" not in tag
        ):
            return Target(f"{match.group('v')}-jre{match.group('os') or ''}", "jre")
    if family == "openjdk":
        match = re.match(
            r"^(?P<major>1[7-9]|2\d)(?:-jdk)?(?:-slim)?(?:-(?:bullseye|bookworm|buster))?$", tag
        )
        if match:
            return Target(f"{match.group('major')}-jre", "jre", "eclipse-temurin")
    return None


def alpine_target(family: str, tag: str) -> Target | None:
    """The -alpine tag of the same version (node, nginx), or None."""
    if family == "node":
        match = re.match(
            r"^(?P<v>\d+(?:\.\d+){0,2}|lts|current)(?:-(?:bookworm|bullseye|buster|stretch))?(?:-slim)?$",
            tag,
        )
        if match:
            return Target(f"{match.group('v')}-alpine", "alpine")
    if family == "nginx":
        match = _NGINX_TAG.match(tag)
        if match:
            return Target(f"{match.group('v')}-alpine", "alpine")
    return None


def is_small(tag: str) -> bool:
    """True for tags that already name a small variant."""
    return bool(re.search(r"(^|-)(slim|alpine|jre|distroless|minimal|musl)(\d|$|-|\.)", tag))


def no_slim_reason(raw: str, tag: str | None) -> str:
    """Why no slim runtime tag is offered for the image ``raw``: a tag naming no version
    (``latest``, none, a bare Debian release) moves, and a slim tag pulled on its own may hold
    another version than the build image the builder has cached."""
    if tag is None or tag == "latest" or tag in DEBIAN_RELEASES or tag == "wheezy":
        return (
            f"{raw} names no version: a slim tag, pulled on its own, may hold another version "
            "than the build image"
        )
    return f"no slim variant known for {raw}"


def slim_variant(family: str, tag: str | None) -> str | None:
    """The runtime tag on the same version and release: ``node:18`` -> ``18-slim``,
    ``python:3.12-bookworm`` -> ``3.12-slim-bookworm`` (slim-base's table in
    above); small tags unchanged; None when no slim tag is known."""
    if not tag:
        return None
    if is_small(tag):
        return tag
    target = slim_target(family, tag)
    return target.tag if target else None
