"""Reading Dockerfiles strictly (regular files only, bounded) and writing them back atomically."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat as stat_module
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_BYTES = 5 * 1024 * 1024
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


class InputError(Exception):
    """A file that cannot be processed: reported as ``path:line: error: message``."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Source:
    """A Dockerfile's text, how to encode it again, and the file's identity when read."""

    text: str
    encoding: str = "utf-8"  # "utf-8" (a BOM stays in the text) | "utf-16-le" | "utf-16-be"
    identity: tuple[int, int, int, int] | None = None  # (dev, inode, size, mtime_ns)

    def encode(self, text: str) -> bytes:
        """``text`` in the file's own encoding (UTF-16 gets its byte-order mark back)."""
        if self.encoding == "utf-8":
            return text.encode("utf-8")
        bom = next(b for b, name in UTF16_BOMS.items() if name == self.encoding)
        return bom + text.encode(self.encoding)


TEMPLATE_SUFFIXES = (
    ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".gotmpl", ".erb", ".mustache",
    ".hbs", ".ejs", ".in",
)  # fmt: skip


MAX_TOML_KEY_PARTS = 1000


def load_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, refusing a dotted key of more than ``MAX_TOML_KEY_PARTS`` parts
    (``[a.a.a...]``: tables nested that deep) as RecursionError, as callers treat TOML nested
    too deep: tomllib takes time quadratic in a key's parts (a 1 MiB key, minutes). A key is
    one line, so a line with that many dots is refused (in a string too: unreadable, never
    read as something else)."""
    if text.count(".") >= MAX_TOML_KEY_PARTS and any(
        line.count(".") >= MAX_TOML_KEY_PARTS for line in text.split("\n")
    ):
        raise RecursionError(f"a line of more than {MAX_TOML_KEY_PARTS} dots: nested too deep")
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise
    except ValueError as exc:  # Python's int() refuses more than 4,300 digits
        raise tomllib.TOMLDecodeError(
            f"an integer too long to read{_long_number_at(text)}"
        ) from exc
    return data


# libyaml's parser where PyYAML was built with it (faster, and it refuses nesting deeper
# than 1,000 levels); PyYAML's own otherwise (RecursionError on deep nesting).
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The largest YAML text load_yaml parses: PyYAML builds Python objects at a few MiB a second,
# and pnpm-lock.yaml is read up to 64 MiB.
MAX_YAML_BYTES = 8 << 20


class YamlError(ValueError):
    """A YAML file msdfix does not read: what it holds is unknown, never absent."""


class _StrictLoader(_SAFE_LOADER):  # type: ignore[misc]
    """``yaml.safe_load``'s loader, refusing a mapping that writes a key twice (PyYAML keeps
    the last; js-yaml, which pnpm reads its files with, and Compose's reader refuse it)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """The mapping, once no key is written twice (``<<`` merges may repeat keys)."""
        keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        keys = [k for k in keys if k != "<<"]
        if len(keys) != len(set(keys)):
            raise YamlError("a mapping writes a key twice")
        return super().construct_mapping(node, deep)


# PyYAML's base loader: every scalar a string, the last of a key written twice, as Yarn reads
# .yarnrc.yml (its own parser, else js-yaml's failsafe schema; yarn 4.5.0 took the second
# nodeLinker of two).
_STRINGS_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def load_yaml(text: str, strings: bool = False) -> Any:
    """The one YAML document in ``text`` as ``yaml.safe_load`` reads it; YamlError when it
    is not valid YAML, holds more than one document, a tag safe_load does not build
    (``!!python/object``), a key twice, nesting too deep, a key that is a list or map, or
    aliases that expand it to more than two values per character of text (anchors
    referencing anchors, "billion laughs": safe_load shares the objects, but every walk
    over them visits each copy); YamlError too, unparsed, for a text over MAX_YAML_BYTES.
    With ``strings``, as Yarn reads .yarnrc.yml: each scalar a string (``false`` is
    "false"), no merge keys, a key written twice the last."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlError(f"it is over {MAX_YAML_BYTES >> 20} MiB, more than msdfix reads as YAML")
    try:
        data = yaml.load(text, Loader=_STRINGS_LOADER if strings else _StrictLoader)  # noqa: S506
    except (yaml.YAMLError, RecursionError) as exc:
        said = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        raise YamlError(" ".join(filter(None, said)) or str(exc).split("\n")[0]) from exc
    _within_budget(data, 2 * len(text) + 2)
    return data


def _within_budget(data: Any, budget: int) -> None:
    """Raise YamlError when walking ``data`` (aliases expanded) visits more than ``budget``
    values, or strings of more than ``budget`` characters in all (``command: [*s, *s, ...]``
    with a 100 KB ``s`` became gigabytes as text); a walk with a stack, so an alias cycle
    counts up to the budget too."""
    stack, chars = [data], budget
    while stack:
        item = stack.pop()
        budget -= 1
        if isinstance(item, (str, bytes)):
            chars -= len(item)
        if budget < 0 or chars < 0:
            raise YamlError("its aliases expand it beyond its own size")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _long_number_at(text: str) -> str:
    """Where the first run of more than 4,300 digits starts, as tomllib says where."""
    found = next((m for m in re.finditer(r"[0-9_]+", text) if len(m[0]) > 4300), None)
    if found is None:
        return ""
    start = found.start()
    line, column = text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
    return f" (at line {line}, column {column})"


# The largest number ``decimal`` returns: no version, port, id or count msdfix compares
# comes near it, and it is above node-semver's largest part (2**53 - 1).
MAX_DECIMAL = 10**18


def decimal(digits: str) -> int:
    """The value of a run of decimal digits (a regex's ``\\d+``), ``MAX_DECIMAL`` when
    larger: Python's int() refuses more than 4,300 digits (a ValueError, an internal error
    on ``FROM golang:1.999...``), and converting more takes time quadratic in them."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else MAX_DECIMAL


def is_dockerfile_name(name: str) -> bool:
    """``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``, ``Containerfile`` (any case), but
    not ``<name>.dockerignore``: BuildKit's ignore file for the Dockerfile ``<name>``
    (``Dockerfile.dockerignore``), which was read as a Dockerfile and failed every run; nor a
    template engine's input (``Dockerfile.j2``, ``Dockerfile.tmpl``, ``Dockerfile.in``), which
    a generator turns into the Dockerfile and whose ``{% if %}`` lines failed every run. A file
    named on the command line is processed whatever its name."""
    lower = name.lower()
    if lower.endswith((".dockerignore", *TEMPLATE_SUFFIXES)):
        return False
    return (
        lower in ("dockerfile", "containerfile")
        or lower.endswith(".dockerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
    )


DOCUMENT_SUFFIXES = (
    ".md", ".markdown", ".rst", ".adoc", ".html", ".pdf", ".png", ".jpg", ".jpeg", ".gif",
    ".svg", ".webp",
)  # fmt: skip


def is_searched_name(name: str) -> bool:
    """A name directory search reads as a Dockerfile: :func:`is_dockerfile_name`, but not
    a document or picture about one (``Dockerfile.md``, ``Dockerfile.png``: hundreds of real
    repositories hold them, and each was an error, exit 2, in every search of its tree). A
    folder holding one is still not "only Dockerfiles" for the build-context check, as before."""
    return is_dockerfile_name(name) and not name.lower().endswith(DOCUMENT_SUFFIXES)


# Another format's suffix: ``Dockerfile.yml`` and ``dockerfile.yaml`` are a GitHub workflow or a
# compose file in some repositories (``.github/workflows/dockerfile.yaml``) and a Dockerfile
# in others, ``Dockerfile.sh`` a build script or a Dockerfile: directory search reads such a
# file only when it starts like a Dockerfile (see :func:`starts_like_dockerfile`).
FOREIGN_SUFFIXES = (
    ".yml", ".yaml", ".json", ".toml", ".xml", ".ini", ".cfg", ".conf", ".properties",
    ".env", ".lock", ".sh", ".bash", ".zsh", ".ps1", ".bat", ".cmd", ".py", ".js", ".ts",
    ".txt",
)  # fmt: skip
_SNIFF_BYTES = 64 * 1024
_FIRST_INSTRUCTION = re.compile(r"(?i)(?:from|arg)(?:[ \t\\]|$)")


def starts_like_dockerfile(path: Path) -> bool:
    """False only when the file's first line that is not blank or a comment is not ``FROM`` or
    ``ARG``, which BuildKit requires first: a YAML workflow (``name:``), a JSON document or a
    script named ``Dockerfile.yml``/``.json``/``.sh`` was read as a Dockerfile and failed
    every search of its tree (exit 2). A file that cannot be read, or holds no such line, is
    kept: reading it reports why."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return True
    try:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            return True
        head = os.read(fd, _SNIFF_BYTES)
    except OSError:
        return True
    finally:
        os.close(fd)
    for line in _decoded(head).splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return _FIRST_INSTRUCTION.match(stripped) is not None
    return True


def _decoded(head: bytes) -> str:
    """The start of a file as text: UTF-32 or UTF-16 with its byte-order mark (UTF-32LE's
    starts with UTF-16LE's), else UTF-8 (a BOM and bytes that are not UTF-8 aside)."""
    if head.startswith(UTF32_BOMS):
        return head.decode("utf-32", errors="replace")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace").removeprefix("\ufeff")


def is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name no file can have (longer than the system allows,
    a NUL byte): names come from Dockerfiles and build contexts, which may be hostile."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    """``path.is_dir()``, False for a name no directory can have (see ``is_file``)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """``path.exists()``, False for a name nothing can have (see ``is_file``)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _too_large(limit: int = MAX_BYTES) -> InputError:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return InputError(f"file is larger than {size}")


def decode(data: bytes) -> Source:
    """The text of a Dockerfile (UTF-8, or UTF-16 with a byte-order mark), or InputError."""
    if len(data) > MAX_BYTES:
        raise _too_large()
    encoding = "utf-8"
    if data.startswith(UTF32_BOMS):
        raise InputError("UTF-32 text is not supported (save the file as UTF-8)")
    if data[:2] in UTF16_BOMS:
        encoding = UTF16_BOMS[data[:2]]
        try:
            text = data[2:].decode(encoding)
        except UnicodeDecodeError as exc:
            line = data[2 : 2 + exc.start].decode(encoding, "replace").count("\n") + 1
            raise InputError(f"not valid {encoding.upper()}", line) from exc
    else:
        if b"\x00" in data:
            line = data[: data.index(b"\x00")].count(b"\n") + 1
            raise InputError("binary file (contains NUL bytes)", line)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line) from exc
    if "\x00" in text:
        raise InputError(
            "binary file (contains NUL characters)", text.count("\n", 0, text.index("\x00")) + 1
        )
    if not text.strip("\ufeff \t\r\n"):
        raise InputError("empty file")
    return Source(text, encoding)


def read_stream(stream: BinaryIO) -> Source:
    """Read standard input (at most MAX_BYTES + 1 bytes)."""
    chunks, size = [], 0
    while size <= MAX_BYTES:
        chunk = stream.read(MAX_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return decode(b"".join(chunks))


def _open_regular(path: Path, limit: int) -> tuple[int, os.stat_result]:
    """A descriptor of regular file ``path``, opened without blocking (a FIFO does not hang)
    and checked on the descriptor, so a ``Dockerfile -> /dev/zero`` link, or a file replaced
    by a FIFO after an earlier check, is refused before anything is read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise InputError("no such file or directory") from exc
    except PermissionError as exc:
        raise InputError("permission denied") from exc
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if stat_module.S_ISDIR(st.st_mode):
            raise InputError("is a directory")
        if not stat_module.S_ISREG(st.st_mode):
            raise InputError("not a regular file (a FIFO, socket or device is never read)")
        if st.st_size > limit:
            raise _too_large(limit)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_regular(path: Path, limit: int = MAX_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file (:func:`_open_regular`), never reading more than
    ``limit + 1`` bytes."""
    fd, st = _open_regular(path, limit)
    try:
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise _too_large(limit)
    return data, st


def regular_lines(path: Path, limit: int) -> Iterator[bytes]:
    """The lines of regular file ``path`` (opened as :func:`read_regular` opens it), one at a
    time; InputError once more than ``limit`` bytes were read (a file that grew after it was
    checked is not read whole)."""
    fd, _ = _open_regular(path, limit)
    with os.fdopen(fd, "rb") as handle:
        size = 0
        while line := handle.readline(limit + 1 - size):
            size += len(line)
            if size > limit:
                raise _too_large(limit)
            yield line


def load(path: Path) -> Source:
    """Read a Dockerfile from disk (:func:`read_regular`) and decode it."""
    data, st = read_regular(path)
    source = decode(data)
    return Source(source.text, source.encoding, _identity(st))


def read(path: Path) -> str:
    """The text of a Dockerfile on disk (see :func:`load`)."""
    return load(path).text


class WriteRefused(Exception):
    """--write declined to replace a file; reported as a one-line error, nothing changed."""


CHANGED = "file changed while msdfix was running; not rewritten (run msdfix again)"


def writable(path: Path, source: Source | None = None) -> os.stat_result:
    """``path``'s status, or :class:`WriteRefused` when --write must not replace it: it is no
    longer the file ``source`` was read from, not a regular file (a directory put in its place
    was refused as "2 hard links"), no write permission for its owner, or several hard links
    (a rename would split them)."""
    before = path.stat()
    if source is not None and source.identity is not None and _identity(before) != source.identity:
        raise WriteRefused(CHANGED)
    if not stat_module.S_ISREG(before.st_mode):
        raise WriteRefused("no longer a regular file; not rewritten (run msdfix again)")
    if not before.st_mode & stat_module.S_IWUSR:
        raise WriteRefused("file is read-only (its owner has no write permission); not rewritten")
    if before.st_nlink > 1:
        raise WriteRefused(
            f"file has {before.st_nlink} hard links; not rewritten (replacing it would split "
            "the links, writing through them would change every linked copy)"
        )
    return before


def _temp_prefix(path: Path) -> str:
    """The start of the temporary file's name beside ``path``: its name, cut so that the
    whole name stays within the 255 bytes a name may have (a Dockerfile named with 240
    letters could not be rewritten: "File name too long")."""
    return "." + path.name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore") + "."


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder, or WriteRefused naming that folder: a
    writable Dockerfile in a folder the user cannot write was "cannot write: Permission
    denied", which named neither the folder nor why msdfix writes there."""
    try:
        return tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".msdfix", dir=path.parent)
    except PermissionError as exc:
        raise WriteRefused(
            f"cannot write {path.name}: no permission to create files in {path.parent} (msdfix "
            "replaces a file whole, through a temporary file beside it); not rewritten"
        ) from exc


def write_atomic(path: Path, text: str, source: Source | None = None) -> None:
    """Replace ``path`` with ``text`` via a temp file and rename, keeping mode and owner.

    A symlink stays a symlink: its target is rewritten. Refused (:class:`WriteRefused`) for
    a file without write permission for its owner, a file with several hard links (a rename
    would split them), and a file that changed since ``source`` was read from it.
    """
    path = path.resolve()
    before = writable(path)
    data = (source or Source(text)).encode(text)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_attributes(path, tmp, before)
        if source is not None and source.identity is not None:
            if _identity(path.stat()) != source.identity:
                raise WriteRefused(CHANGED)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _keep_attributes(path: Path, tmp: str, before: os.stat_result) -> None:
    """Give ``tmp`` the owner, mode and extended attributes (POSIX ACLs among them) of
    ``path``, or WriteRefused saying which cannot be kept: the owner first, since a chown
    clears the setuid and setgid bits; a failed chown (not root, NFS's root_squash) gave the
    file to the user running msdfix, and ACLs and ``user.*`` attributes were dropped."""
    with contextlib.suppress(PermissionError):
        os.chown(tmp, before.st_uid, before.st_gid)
    now = os.stat(tmp)
    if (now.st_uid, now.st_gid) != (before.st_uid, before.st_gid):
        raise WriteRefused(
            f"cannot keep its owner {before.st_uid}:{before.st_gid} (replacing it would make "
            f"it {now.st_uid}:{now.st_gid}'s); not rewritten"
        )
    os.chmod(tmp, before.st_mode & 0o7777)
    for name in _xattrs(path):
        try:
            value = os.getxattr(path, name)
            if name not in _xattrs(tmp) or os.getxattr(tmp, name) != value:
                os.setxattr(tmp, name, value)
        except OSError as exc:
            raise WriteRefused(
                f"cannot keep its extended attribute {name} ({exc.strerror or exc}); not rewritten"
            ) from exc


def _xattrs(path: Path | str) -> list[str]:
    """The names of a file's extended attributes; none where the system has none."""
    try:
        return os.listxattr(path) if hasattr(os, "listxattr") else []
    except OSError:  # ENOTSUP: a file system without them
        return []


def write_files(files: dict[str, tuple[str | None, str]], root: Path | None = None) -> None:
    """Write the other files of a rewrite (atomically), each only if unchanged since read
    and, with ``root`` (the build context), only if it still resolves inside it: a file
    swapped for a link out, with the same text, after the plan was written through the link."""
    for name, (old, new) in files.items():
        path = Path(name)
        if root is not None and os.path.lexists(path) and not resolves_within(path, root):
            raise WriteRefused(f"{name} now links outside the build context; not written")
        try:  # bounded: an ignore file swapped for a FIFO or /dev/zero must not hang the write
            current = read_regular(path)[0].decode("utf-8") if exists(path) else None
        except (InputError, UnicodeDecodeError):
            raise WriteRefused(f"{name} changed while msdfix was running; not written") from None
        if current != old:
            raise WriteRefused(f"{name} changed while msdfix was running; not written")
        if old is None:
            fd, tmp = _temp_beside(path)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(new.encode("utf-8"))
                os.chmod(tmp, 0o666 & ~_umask())
                os.link(tmp, path)  # fails if the file appeared meanwhile
            except FileExistsError:
                raise WriteRefused(
                    f"{name} appeared while msdfix was running; not written"
                ) from None
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        else:
            write_atomic(path, new, Source(old))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def walk(
    top: str | os.PathLike[str], onerror: Callable[[OSError], None] | None = None
) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` top-down without following directory links, and without recursion: a tree
    nested thousands of levels deep exhausted Python 3.11's recursive ``os.walk`` (3.12's is
    iterative). The caller may prune ``dirnames`` in place, as with ``os.walk``."""
    stack = [os.fspath(top)]
    while stack:
        path = stack.pop()
        try:
            with os.scandir(path) as entries:
                listed = list(entries)
        except OSError as error:
            if onerror is not None:
                onerror(error)
            continue
        dirnames: list[str] = []
        filenames: list[str] = []
        for entry in listed:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirnames if is_dir else filenames).append(entry.name)
        yield path, dirnames, filenames
        for name in reversed(dirnames):
            below = os.path.join(path, name)
            if not os.path.islink(below):
                stack.append(below)


def resolves_within(path: Path, root: Path) -> bool:
    """True when ``path``, links followed, is ``root`` or lies below it; False for a link out,
    a loop or an error. Context files and searched trees are read and written only inside."""
    try:
        real, top = path.resolve(), root.resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop (Python 3.11)
        return False
    return real == top or top in real.parents
