"""Finding Dockerfiles, reading them strictly, and writing them atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
SKIP_DIRS = {".git", "node_modules", ".hg", ".svn", ".tox", ".venv", "__pycache__"}


class InputError(Exception):
    """A file that cannot be processed: reported as ``path:line: error: message``."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def is_dockerfile_name(name: str) -> bool:
    """``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``, ``Containerfile`` (any case)."""
    lower = name.lower()
    return (
        lower in ("dockerfile", "containerfile")
        or lower.endswith(".dockerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
    )


def discover(path: Path) -> Iterator[Path]:
    """Dockerfiles under ``path`` in a stable order, skipping VCS and dependency dirs."""
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if is_dockerfile_name(name):
                yield Path(dirpath) / name


def decode(data: bytes) -> str:
    """Strict UTF-8 text of a Dockerfile, or :class:`InputError`."""
    if len(data) > MAX_BYTES:
        raise InputError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if b"\x00" in data:
        raise InputError(
            "binary file (contains NUL bytes)", data[: data.index(b"\x00")].count(b"\n") + 1
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line) from exc
    if not text.strip("\ufeff \t\r\n"):
        raise InputError("empty file")
    return text


def read(path: Path) -> str:
    """Read a Dockerfile from disk."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return decode(path.read_bytes())
    except FileNotFoundError as exc:
        raise InputError("no such file or directory") from exc
    except PermissionError as exc:
        raise InputError("permission denied") from exc
    except IsADirectoryError as exc:
        raise InputError("is a directory") from exc
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from exc


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` via a temp file and rename, keeping mode and owner.

    A symlink stays a symlink: its target is rewritten.
    """
    path = path.resolve()
    stat = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".msdfix", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):
            os.chown(tmp, stat.st_uid, stat.st_gid)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
