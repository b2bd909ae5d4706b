"""Compose files whose services build this Dockerfile and run other commands in its image
than its CMD/ENTRYPOINT: ``command:``, ``entrypoint:`` and ``healthcheck:`` ``test:``."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from msdfix.files import resolves_within
from msdfix.model.context import BuildContext

# compose.yaml, docker-compose.yml, docker-compose.override.yml, compose.dev.yaml, ...
COMPOSE_FILE = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$")
# Folders above the context searched too: a monorepo's compose.yaml builds ./api, ./web.
PARENT_LEVELS = 2
MAX_COMPOSE_BYTES = 512 * 1024
_SERVICES = re.compile(r"^services\s*:\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s+)([\w.-]+|\"[^\"]+\"|'[^']+')\s*:")
_BUILD = re.compile(r"(?:^\s*|[{,]\s*)build\s*:", re.MULTILINE)
_BUILD_PATH = re.compile(r"(?:^\s*|[{,]\s*)build[ \t]*:[ \t]*[\"']?([^\s\"'{},#]+)", re.MULTILINE)
_CONTEXT = re.compile(r"(?:^\s*|[{,]\s*)context[ \t]*:[ \t]*[\"']?([^\s\"'{},#]+)", re.MULTILINE)
_START = re.compile(r"(?:^\s*|[{,]\s*)(command|entrypoint)\s*:\s*(.*)$", re.MULTILINE)
_DOCKERFILE = re.compile(r"dockerfile\s*:\s*[\"']?([^\s\"',}]+)")
_HEALTHCHECK = re.compile(r"^(\s*)healthcheck\s*:\s*(.*)$")
_TEST = re.compile(r"(?:^\s*|[{,]\s*)test\s*:[ \t]*(.*)$", re.MULTILINE)
_DISABLED = re.compile(r"(?:^\s*|[{,]\s*)disable\s*:\s*true\b", re.IGNORECASE | re.MULTILINE)
# Where a compose file holds its services in a form this reader does not follow: flow style
# or JSON (``{"services": ...}``, ``services: {api: ...}``), a quoted or anchored key.
_OTHER_SERVICES = re.compile(r"""^[{\s]*["']?services["']?\s*:""", re.MULTILINE)
_INCLUDE = re.compile(r"^include\s*:", re.MULTILINE)  # other compose files, merged in
_INHERITS = re.compile(r"^\s*(?:<<|extends)\s*:", re.MULTILINE)  # keys from elsewhere
_QUOTED_KEY = re.compile(
    r"""(^[ \t]*|[{,][ \t]*)(?:"([\w.-]+)"|'([\w.-]+)')[ \t]*:""", re.MULTILINE
)
UNKNOWN = "unknown"  # a ComposeRun's key when what the file's services run is unknown


@dataclass(frozen=True)
class ComposeRun:
    """A command a compose service runs in this Dockerfile's image: ``key`` is
    ``command``, ``entrypoint`` or ``healthcheck``, ``text`` its value as written."""

    path: str  # the compose file, relative to the build context
    service: str
    key: str
    text: str
    compose: bool = True  # False: a deploy platform's file (fly.toml, Procfile, ...)

    def said(self) -> str:
        """Where it runs, for a reason: ``compose.yaml's service api`` or ``fly.toml``."""
        if self.compose and self.service:
            return f"{self.path}'s service {self.service}"
        return self.path

    @property
    def runs(self) -> str:
        """What it runs, for a reason: ``its own command (go test)``, or for an UNKNOWN run
        ``commands msdfix cannot tell (<why>)``."""
        if self.key == UNKNOWN:
            return f"commands msdfix cannot tell ({self.text})"
        return f"its own {self.key} ({self.text[:60]})"


def compose_runs(ctx: BuildContext) -> list[ComposeRun]:
    """What the services built from this Dockerfile run in its image besides its own start
    command (their build context is this folder; the compose file lies in it or up to
    PARENT_LEVELS folders above): ``docker compose run test`` runs ``go test ./...``, and
    Compose runs a service's ``healthcheck`` ``test`` inside the container, instead of the
    image's HEALTHCHECK."""
    if not ctx.present or ctx.root is None:
        return []
    dockerfile = ctx.dockerfile.name if ctx.dockerfile is not None else "Dockerfile"
    root = ctx.root.resolve()
    found: list[ComposeRun] = []
    for folder in [root, *root.parents][: PARENT_LEVELS + 1]:
        for path in _compose_files(folder):
            rel = posixpath.relpath(path, root)
            text = _read(path)
            why = _unfollowed(text)
            if why is not None:  # unknown is not "no service builds this folder"
                found.append(ComposeRun(rel, "", UNKNOWN, why))
                continue
            for service, block in _services(text or ""):
                block = _QUOTED_KEY.sub(r"\1\2\3:", block)  # "build": . is build: .
                where = _build_context(block)
                if _INHERITS.search(block) and (where is None or _builds(folder, where, root)):
                    why = "it takes keys from elsewhere (`<<:` or `extends:`)"
                    found.append(ComposeRun(rel, service, UNKNOWN, why))
                    continue
                if where is None or not _builds(folder, where, root):
                    continue
                named = _DOCKERFILE.search(block)
                if named and posixpath.basename(named.group(1)) != dockerfile:
                    continue
                start = _START.search(block)
                if start:
                    found.append(ComposeRun(rel, service, start.group(1), start.group(2).strip()))
                check = _healthcheck_test(block)
                if check:
                    found.append(ComposeRun(rel, service, "healthcheck", check))
    return found


def _healthcheck_test(block: str) -> str | None:
    """The ``test`` of a service's ``healthcheck`` (a string, a flow list or a block list),
    or None without one, when it is disabled or ``["NONE"]``."""
    lines = block.splitlines()
    for at, line in enumerate(lines):
        head = _HEALTHCHECK.match(line)
        if not head:
            continue
        depth = len(head.group(1))
        body = [head.group(2)]
        for more in lines[at + 1 :]:
            if more.strip() and len(more) - len(more.lstrip()) <= depth:
                break
            body.append(more)
        text = "\n".join(body)
        test = _TEST.search(text)
        if _DISABLED.search(text) or test is None:
            return None
        value = _test_value(text, test)
        return None if _is_none(value) else value
    return None


def _test_value(text: str, test: re.Match[str]) -> str:
    """The value of ``test:`` with the block-list items below it (``- CMD``, ``- curl``)."""
    value = [test.group(1).strip()]
    for more in text[test.end() :].splitlines()[1:]:
        if not more.lstrip().startswith("-"):
            break
        value.append(more.strip()[1:].strip())
    return " ".join(v for v in value if v)


def _is_none(value: str) -> bool:
    words = [w for w in re.split(r"[\s\"'\[\],]+", value) if w]
    return words[:1] == ["NONE"]


def _compose_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if COMPOSE_FILE.match(p.name) and p.is_file())
    except OSError:  # an unreadable folder: no compose file to weigh
        return []


def _read(path: Path) -> str | None:
    """The file's text (a byte-order mark dropped, as YAML reads it); None when it is over
    MAX_COMPOSE_BYTES, cannot be read, or links out of its folder: ``compose.yaml ->
    /proc/self/environ`` was read, and a line of the environment quoted in the summary."""
    if not resolves_within(path, path.parent):
        return None
    try:
        if path.stat().st_size > MAX_COMPOSE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff")
    except OSError:
        return None


def _unfollowed(text: str | None) -> str | None:
    """Why this reader cannot tell what the file's services run, or None when it can: it
    reads block-style YAML, so a file it could not read, services in flow style or JSON
    (both valid compose files) and ``include:`` of other files are unknown, not absent."""
    if text is None:
        return (
            f"it is over {MAX_COMPOSE_BYTES >> 10} KiB, links out of its folder or cannot be read"
        )
    if _INCLUDE.search(text):
        return "it includes other compose files"
    if not any(_SERVICES.match(line) for line in text.splitlines()) and _OTHER_SERVICES.search(
        text
    ):
        return "its services are written in flow style or JSON, which msdfix does not read"
    return None


def _builds(folder: Path, where: str, root: Path) -> bool:
    """True when a service's build context ``where`` (relative to the compose file's
    ``folder``) is this build's context ``root``."""
    return "://" not in where and (folder / where).resolve() == root


def _build_context(block: str) -> str | None:
    """The build context a service's block names (``build: ./api``, ``context: .``, "." for
    a ``build:`` mapping without one), or None when the service has no ``build``."""
    if not _BUILD.search(block):
        return None
    scalar = _BUILD_PATH.search(block)
    if scalar:
        return scalar.group(1)
    context = _CONTEXT.search(block)
    return context.group(1) if context else "."


def _services(text: str) -> list[tuple[str, str]]:
    """(name, text) of each entry under the top-level ``services:`` key (block style)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _SERVICES.match(line)), None)
    if start is None:
        return []
    found: list[tuple[str, list[str]]] = []
    indent: int | None = None
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            break  # the next top-level key
        key = _KEY.match(line)
        depth = len(line) - len(line.lstrip())
        if key and (indent is None or depth == indent):
            indent = depth
            found.append((key.group(2).strip("\"'"), [line[key.end() :]]))
        elif found:
            found[-1][1].append(line)
    return [(name, "\n".join(body)) for name, body in found]
