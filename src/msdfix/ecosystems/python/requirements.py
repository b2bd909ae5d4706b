"""Requirements files and the locations pip and uv read: what a requirements file (with its
-r/-c includes) asks pip to install, the index and find-links paths it names, pip.conf's and
uv's settings naming local paths, and which pip arguments are local files."""

from __future__ import annotations

import configparser
import posixpath
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from msdfix.ecosystems.python_markers import holds_on_every_linux
from msdfix.files import load_toml
from msdfix.model.context import BuildContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# ---------------------------------------------------------------- requirements files

# An include on an option line, wherever it stands (``--prefer-binary -r base.txt``).
_INCLUDE = re.compile(r"(?:^|\s)(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)")
# An option naming a path or index, wherever it stands on an option line: pip parses every
# option of a line (``--no-index --find-links=wheels``).
PATH_OPTION = re.compile(
    r"(?:^|\s)(-e|--editable|-f|--find-links|-i|--index-url|--extra-index-url)"
    r"(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)"
)
# Options whose value is where pip looks for packages: an index or a folder (or page) of links.
LOCATION_OPTIONS = ("-f", "--find-links", "-i", "--index-url", "--extra-index-url")


def local_location(value: str) -> str | None:
    """The path an index or find-links location names: a ``file:`` URL's path, or the value
    itself when it is no URL (``vendor``, ``/app/wheels``); None for a remote URL."""
    if value.startswith("file:"):
        path = unquote(value[len("file:") :])
        if path.startswith("//"):  # file:///app/simple, file://localhost/app/simple
            host, _, rest = path[2:].partition("/")
            return "/" + rest if host in ("", "localhost") else value  # another host: unknown
        return path
    return None if "://" in value else value


# pip.conf keys (any section: [global], [install]) whose values are files or folders pip
# reads, or indexes that may be ``file:`` URLs; pip takes them like its command-line options.
PIP_CONFIG_LOCATION = re.compile(
    r"(?:find|extra[-_]index|index)[-_](?:links|url)|constraint|requirement|(?:client[-_])?cert"
)


def pip_config_locations(text: str) -> list[str] | None:
    """The local paths a pip configuration file (pip.conf, pip.ini) names as a find-links
    folder, an index, a constraint or requirements file or a certificate (``find-links =
    /app/wheels``, ``index-url = file:///srv/simple``); None when it cannot be read."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return [
        path
        for section in parser.sections()
        for key, value in parser.items(section)
        if PIP_CONFIG_LOCATION.fullmatch(key)
        for part in (value or "").split()
        if (path := local_location(part)) is not None
    ]


def pip_config_sets_cache(text: str) -> bool:
    """Whether a pip configuration file moves pip's cache (``cache-dir``) or names a
    find-links location that may lie in it: a local path may (built: ``find-links =
    /root/.cache/pip/dl`` with ``no-index`` found nothing on the mount); http(s) URLs do not
    (pip fetches their pages with ``max-age=0``; built: ``find-links =
    https://pypi.org/simple/six/`` with ``no-index`` installed six 1.17.0 with the mount
    emptied or filled with 1.16.0, as the original). A file configparser cannot read may."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return True
    for section in parser.sections():
        for key, value in parser.items(section):
            if re.fullmatch(r"cache[-_]dir", key):
                return True
            if re.fullmatch(r"find[-_]links", key) and any(
                not re.match(r"https?://", part) for part in (value or "").split()
            ):
                return True
    return False


_UV_LOCATIONS = ("find-links", "index-url", "extra-index-url")


# uv's cache folder (UV_CACHE_DIR, --cache-dir): with UV_OFFLINE/--offline, uv installs from
# it alone, so a cache the repository keeps is a file the install reads.
UV_CACHE_ENV = ("UV_CACHE_DIR",)
UV_CACHE_OPTIONS = ("--cache-dir",)


def uv_local_location(text: str, path: str) -> str | None:
    """Where uv's settings file ``path`` (uv.toml, or pyproject.toml's [tool.uv]) makes an
    install read the project's files: a find-links folder or an index given as a path or
    ``file:`` URL (``find-links = ["vendor/wheels"]``); None when it names none."""
    try:
        data = load_toml(text)
    except (tomllib.TOMLDecodeError, RecursionError):  # RecursionError: nested too deep
        return f"{path} could not be read"
    if not path.endswith("uv.toml"):
        data = data.get("tool", {}).get("uv", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [data, data.get("pip")] if isinstance(data, dict) else []
    for table in [t for t in tables if isinstance(t, dict)]:
        indexes = table.get("index")
        urls = (
            [i.get("url") for i in indexes if isinstance(i, dict)]
            if isinstance(indexes, list)
            else []
        )
        values = [(key, table.get(key)) for key in _UV_LOCATIONS] + [("index", u) for u in urls]
        for key, value in values:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and local_location(item) is not None:
                    return f"{path} sets {key} to {item}"
    return None


# pip's ARCHIVE_EXTENSIONS (pip/_internal/utils/filetypes.py): an argument ending in one, in
# any case, is a file pip opens, even a bare name (``mypkg-1.0.tar.bz2``).
_ARCHIVES: tuple[str, ...] = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar")
_ARCHIVES += (".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma")


def is_local(arg: str) -> bool:
    """True for a pip argument naming a local path rather than a package: a path, or an
    archive pip opens from the working folder (built: a requirements line
    ``mypkg-1.0.tar.bz2`` failed with "No such file or directory" when the requirements file
    came without it)."""
    if "://" in arg and not arg.startswith("file:"):
        return False
    return (
        arg.startswith((".", "/", "~", "file:"))
        or arg.lower().endswith(_ARCHIVES)
        or ("/" in arg and "@" not in arg)
    )


@dataclass
class Requirements:
    """What requirements files, with the files they include (-r, -c), ask pip to install."""

    files: list[str] = field(default_factory=list)  # context paths read, in reading order
    names: list[str] = field(default_factory=list)  # canonical names of the named packages
    marked: set[str] = field(default_factory=set)  # names listed with an environment marker
    markers: dict[str, list[str]] = field(default_factory=dict)  # each marked name's markers
    git: list[str] = field(default_factory=list)  # version-control requirement lines
    local: list[tuple[str, str]] = field(default_factory=list)  # (file, line) of local paths
    missing: str | None = None  # the first file that is not in the context
    # Every file lists the whole dependency tree: written by pip-compile or uv pip compile, or
    # in pip's hash-checking mode (each requirement with --hash, which pip enforces on every
    # dependency). Otherwise the packages' own dependencies are unknown.
    closed: bool = True
    no_binary: bool = False  # a ``--no-binary`` line: pip builds those from the sdist
    # Names listed only in a constraints file (``-c``): pip installs them only where a
    # requirement asks for them.
    constrained: set[str] = field(default_factory=set)


# A PEP 508 direct reference to a local file, however spaced: ``name@file:``, ``name[x] @file:``.
_FILE_REFERENCE = re.compile(r"^[A-Za-z0-9][\w.\-]*\s*(?:\[[^\]]*\])?\s*@\s*file:", re.I)


def read_requirements(context: BuildContext, paths: list[str]) -> Requirements:
    """Read the requirements files ``paths`` (context paths) and every file they include."""
    found = Requirements()
    todo, seen = deque(paths), set[str]()  # a set: 4,000 chained files took 14 s as a list
    required, listed, constraints = set(paths), set[str](), set[str]()  # -r files; their names
    while todo:
        path = todo.popleft()
        if path in seen:
            continue
        text = context.read_text(path)
        if text is None:
            found.missing = found.missing or path
            continue
        found.files.append(path)
        seen.add(path)
        closed = "--require-hashes" in text or _COMPILED.search(text) is not None or annotated(text)
        for raw in _CONTINUED.sub(" ", text).splitlines():
            line = raw.split(" #")[0].strip()
            if not line or line.startswith("#"):
                continue
            includes = list(_INCLUDE.finditer(line)) if line.startswith("-") else []
            for include in includes:
                folder = posixpath.dirname(path)
                if ".." in include.group(2).split("/")[1:]:
                    found.local.append((path, line))  # pip opens sub/../x: sub must exist
                todo.append(posixpath.normpath(posixpath.join(folder, include.group(2))))
                if include.group(1) in ("-r", "--requirement"):
                    required.add(todo[-1])
            if includes and includes[0].start() == 0:
                continue  # an include line (other options on it are read below)
            if "git+" in line:
                found.git.append(line)
                continue
            if line.startswith("-") and _NO_BINARY_OPTION.search(line):
                found.no_binary = True  # it wins over --only-binary given on the command line
            if line.startswith("-"):
                if any(_reads_context(m) for m in PATH_OPTION.finditer(line)):
                    found.local.append((path, line))  # ``--find-links vendor``, ``-e .``
            elif is_local(line.split(";")[0].strip()) or _FILE_REFERENCE.search(line):
                found.local.append((path, line))
            else:
                name = requirement_name(line)
                if name is not None:
                    found.names.append(name)
                    (listed if path in required else constraints).add(name)
                    if ";" in line:  # pip installs it only where the marker holds
                        found.marked.add(name)
                        marker = line.split(";", 1)[1].split(" --")[0].strip()
                        found.markers.setdefault(name, []).append(marker)
                found.closed = found.closed and (closed or "--hash" in line)
    found.constrained = constraints - listed
    return found


def may_be_left_out(read: Requirements, version: tuple[int, int] | None) -> set[str]:
    """The marked names pip may leave out on some Linux build of CPython ``version`` (every
    marked name when the version is unknown): pip-compile writes psycopg[binary]'s
    ``psycopg-binary ; implementation_name != "pypy"``, which every CPython installs (built:
    python:3.11-slim, which has no libpq, answered "binary"). Names only a constraints file
    lists are left out (built: psycopg-binary in ``-c constraints.txt`` was not installed;
    the split without libpq5 failed "libpq library not found" where python:3.11 answered)."""
    return read.constrained | {
        name
        for name in read.marked
        if version is None
        or not all(holds_on_every_linux(m, version) for m in read.markers.get(name, [""]))
    }


def _reads_context(option: re.Match[str]) -> bool:
    """True for a path option that makes pip read the project's files: an editable install
    (it builds from sources), or a find-links folder or index given as a path or ``file:``
    URL (a remote index or page of links reads none)."""
    name, value = option.group(1), option.group(2)
    return name not in LOCATION_OPTIONS or local_location(value) is not None


_CONTINUED = re.compile(r"\\\r?\n")
# Anywhere on an option line, as PATH_OPTION (``--prefer-binary --no-binary lxml``).
_NO_BINARY_OPTION = re.compile(r"(?:^|\s)--no-binary[\s=]+(?!:none:(?:\s|$))\S")
_COMPILED = re.compile(r"(?im)^#.*\bautogenerated by (?:pip-compile|uv)\b")
_VIA = re.compile(r"^\s*#\s*via\b")
_EXTRAS = re.compile(r"[A-Za-z0-9][\w.\-]*\s*\[")  # ``name[extra]``, however spaced


def annotated(text: str) -> bool:
    """Every requirement carries the ``# via`` annotation pip-compile and ``uv pip compile``
    write (on its line or the next): their output without the header (``--no-header``).
    Not with a requirement naming extras: both tools strip them by default, so one is likely
    added by hand, and the extra's packages may be listed nowhere (built: a hand-added
    ``sqlalchemy[postgresql_psycopg]`` installed psycopg unlisted, whose split runtime lacked
    libpq: "libpq library not found")."""
    lines = _CONTINUED.sub(" ", text).splitlines()
    found = False
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        if _EXTRAS.match(line):
            return False
        after = lines[i + 1] if i + 1 < len(lines) else ""
        inline = raw[raw.find(" #") + 1 :] if " #" in raw else ""
        if not (_VIA.match(inline) or _VIA.match(after)):
            return False
        found = True
    return found


def requirement_name(spec: str) -> str | None:
    """The canonical (PEP 503) name of a PEP 508 requirement, or None when it is not one."""
    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        return canonicalize_name(match.group(0)) if match else None
