"""Settings from ``[tool.msdfix]`` in pyproject.toml or from .msdfix.toml."""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msdfix.files import InputError, load_toml, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)$")


def _toml_error_line(exc: Exception, text: str) -> int:
    """The line of a TOML syntax error (tomllib says it only in its message; "at end of
    document" is the last line), so that it reads ``path:line: ...`` as every other
    configuration error does: it was ``path: Invalid value (at line 4, column 6)``."""
    found = _TOML_AT.search(str(exc))
    return int(found.group(1)) if found else max(1, len(text.splitlines()))


class ConfigError(Exception):
    """An invalid configuration file."""


@dataclass
class FileConfig:
    """Options a project sets for itself; command-line flags win."""

    path: Path | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    unsafe_fixes: bool | None = None
    exclude: list[str] | None = None  # gitignore-style, relative to the file's directory
    extend_exclude: list[str] | None = None
    force_exclude: bool | None = None
    respect_gitignore: bool | None = None
    where: dict[str, str] = field(default_factory=dict)  # key -> "path:LINE", for errors

    @property
    def root(self) -> Path:
        """The project root that ``exclude`` patterns are relative to."""
        return self.path.parent if self.path is not None else Path.cwd()


LISTS = {"select": "transform ids", "ignore": "transform ids", "exclude": "patterns",
         "extend-exclude": "patterns"}  # fmt: skip
FLAGS = ("unsafe-fixes", "force-exclude", "respect-gitignore")
LISTED = 10  # names an error lists; the rest are counted (a million unknown keys made one
# error line of megabytes)


def listing(names: list[str]) -> str:
    """The first LISTED names, comma-separated, and how many more there are."""
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED:,} more" if len(names) > LISTED else "")


# A table header's key: its blanks are dropped with the quotes (``_QUOTES``), so they are not
# matched apart: ``[^\]\[]*?\s*\]`` tried every split of ``[a<100,000 blanks>.b]`` (quadratic).
_HEADER = re.compile(r"\s*\[([^\]\[]*)\]")
_QUOTES = re.compile(r"[\"'\s]")


def _where(path: Path, text: str, key: str, pyproject: bool) -> str:
    """``path:LINE`` of ``key``'s assignment in msdfix's table (the top level of .msdfix.toml,
    ``[tool.msdfix]`` or a dotted ``tool.msdfix.KEY`` in pyproject.toml), or ``path`` when no
    line shows it (tomllib gives values, not positions)."""
    wanted = f"tool.msdfix.{key}" if pyproject else key
    table = ""
    for number, line in enumerate(text.split("\n"), 1):
        header = _HEADER.match(line)
        if header or line.lstrip().startswith("[["):
            table = _QUOTES.sub("", header.group(1)) if header else "[["
        elif "=" in line:
            name = _QUOTES.sub("", line.partition("=")[0])
            if (f"{table}.{name}" if table else name) == wanted:
                return f"{path}:{number}"
    return str(path)


def _strings(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str) and LISTS[key] == "transform ids":
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of {LISTS[key]}")
    return [v.strip() for v in value if v.strip()]


def _parse(
    path: Path, table: dict[str, Any], text: str = "", pyproject: bool = False
) -> FileConfig:
    known = {*LISTS, *FLAGS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{_where(path, text, unknown[0], pyproject)}: unknown option(s) "
            f"{listing(unknown)}; expected {', '.join(sorted(known))}"
        )
    config = FileConfig(path)
    for key in LISTS:
        if key in table:
            where = config.where[key] = _where(path, text, key, pyproject)
            setattr(config, key.replace("-", "_"), _strings(table[key], key, where))
    for key in FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(
                    f"{_where(path, text, key, pyproject)}: '{key}' must be true or false"
                )
            setattr(config, key.replace("-", "_"), table[key])
    return config


def find_config(start: Path, top: Path | None = None) -> FileConfig:
    """The nearest .msdfix.toml or pyproject.toml with [tool.msdfix], from ``start`` upward
    (not above ``top`` when given: the bot's temporary tree)."""
    start = start.resolve()
    chain = [start, *start.parents]
    if top is not None:
        top = top.resolve()
        chain = [d for d in chain if d == top or top in d.parents]
    for directory in chain:
        config = _config_in(directory)
        if config is not None:
            return config
    return FileConfig()


def _config_in(directory: Path) -> FileConfig | None:
    """The configuration file of ``directory`` itself, None when it has none."""
    for name in (".msdfix.toml", "pyproject.toml"):
        path = directory / name
        try:
            if not path.is_file() and not os.path.lexists(path):
                continue
        except (OSError, ValueError):  # a name too long, a NUL byte: no config there
            continue
        try:  # bounded, regular files only: never a FIFO or a link to /dev/zero
            # (something there that is not a regular file is an error: skipping it let
            # a parent directory's configuration apply without a word)
            raw, st = read_regular(path)
            text = raw.decode("utf-8")
            data = load_toml(text)
        except InputError as exc:
            raise ConfigError(f"{path}: {exc.message}") from exc
        except UnicodeDecodeError as exc:  # (the codec's message named a position, no line)
            line = raw[: exc.start].count(b"\n") + 1
            byte = raw[exc.start]
            raise ConfigError(f"{path}:{line}: not valid UTF-8 (byte 0x{byte:02x})") from exc
        except RecursionError as exc:  # (was "maximum recursion depth exceeded")
            raise ConfigError(f"{path}: nested too deep to read") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}:{_toml_error_line(exc, text)}: {exc}") from exc
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' must be a table")
        table = tool.get("msdfix", data if name == ".msdfix.toml" else None)
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{path}: 'tool.msdfix' must be a table")
        if table is not None:  # (a pyproject.toml without msdfix's table sets nothing)
            _check_owner(path, st)
            return _parse(path, table, text, pyproject=name == "pyproject.toml")
    return None


def _check_owner(path: Path, st: os.stat_result) -> None:
    """ConfigError for a configuration file (or a link to one) that another user than root
    owns in a folder anyone may write, such as ``/tmp``: any user could have put it there,
    and it may turn on ``unsafe-fixes`` for every ``--write`` below it or exclude every file
    from ``--check``; it was applied as the project's own. The link's folder and its
    target's are both looked at (a project's link to another's file in /tmp was applied)."""
    if not hasattr(os, "geteuid"):
        return
    try:
        owners = {st.st_uid, os.lstat(path).st_uid}
        folders = dict.fromkeys((path.parent, path.resolve().parent))
        shared = [d for d in folders if os.stat(d).st_mode & stat.S_IWOTH]
    except (OSError, RuntimeError):  # (RuntimeError: a link loop, before Python 3.13)
        return
    strangers = sorted(owners - {0, os.geteuid()})
    if shared and strangers:
        raise ConfigError(
            f"{path}: owned by user {strangers[0]} in {shared[0]}, a folder anyone may "
            "write: msdfix takes no settings from it (remove it, or run msdfix as that user)"
        )


class ConfigTree:
    """The nearest configuration of each directory, as ruff resolves it per file: a run over
    several folders took the first PATH's configuration for every file, so the fixes a file
    got depended on the order pre-commit passed the names in. Each directory is looked at
    once (a tree thousands of levels deep stays linear)."""

    def __init__(self, top: Path | None = None) -> None:
        self.top = top.resolve() if top is not None else None
        self._found: dict[Path, FileConfig | ConfigError] = {}
        self._real: dict[Path, Path] = {}

    def at(self, directory: Path) -> FileConfig:
        """The configuration that applies to files in ``directory`` (ConfigError if broken):
        searched from the directory links lead to, as ``find_config`` and ``verify`` do."""
        found = self._lookup(self._resolve(Path(os.path.abspath(directory))))
        if isinstance(found, ConfigError):
            raise found
        return found

    def _resolve(self, directory: Path) -> Path:
        """``directory.resolve()``, one ``lstat`` per directory however many are asked about
        (``resolve`` walks every parent again: quadratic in a deep tree)."""
        pending = []
        while directory not in self._real and directory.parent != directory:
            pending.append(directory)
            directory = directory.parent
        real = self._real.get(directory, directory)
        for d in reversed(pending):
            try:
                real = d.resolve() if d.is_symlink() else real / d.name
            except (OSError, RuntimeError):  # a loop: searched where it is named
                real = real / d.name
            self._real[d] = real
        return real

    def _lookup(self, directory: Path) -> FileConfig | ConfigError:
        pending = []
        while directory not in self._found and self._inside(directory):
            pending.append(directory)
            if directory.parent == directory:
                break
            directory = directory.parent
        inherited = self._found.get(directory, FileConfig())
        for d in reversed(pending):
            try:
                own = _config_in(d)
            except ConfigError as exc:
                own = None
                inherited = exc
            inherited = own if own is not None else inherited
            self._found[d] = inherited
        return inherited

    def _inside(self, directory: Path) -> bool:
        return self.top is None or directory == self.top or self.top in directory.parents
