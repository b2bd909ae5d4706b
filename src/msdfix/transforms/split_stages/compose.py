"""Compose files that run other commands in the image than its CMD/ENTRYPOINT."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from msdfix.model import BuildContext

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


def compose_override(ctx: BuildContext) -> str | None:
    """Why a compose file may start the image with another command: a service built from
    this Dockerfile (its build context is this folder; the compose file lies in it or up to
    PARENT_LEVELS folders above) sets ``command:`` or ``entrypoint:`` (``docker compose run
    test`` runs ``go test ./...``, ``npm run dev`` a dev dependency), which the split's
    runtime may lack. None when there is none."""
    if not ctx.present or ctx.root is None:
        return None
    dockerfile = ctx.dockerfile.name if ctx.dockerfile is not None else "Dockerfile"
    root = ctx.root.resolve()
    for folder in [root, *root.parents][: PARENT_LEVELS + 1]:
        for path in _compose_files(folder):
            for service, block in _services(_read(path)):
                where = _build_context(block)
                if where is None or "://" in where or (folder / where).resolve() != root:
                    continue
                named = _DOCKERFILE.search(block)
                if named and posixpath.basename(named.group(1)) != dockerfile:
                    continue
                start = _START.search(block)
                if start:
                    return (
                        f"{posixpath.relpath(path, root)} gives service {service}, built from "
                        f"this Dockerfile, its own {start.group(1)} "
                        f"({start.group(2).strip()[:60]}): the runtime stage may lack what "
                        "that runs"
                    )
    return None


def _compose_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if COMPOSE_FILE.match(p.name) and p.is_file())
    except OSError:  # an unreadable folder: no compose file to weigh
        return []


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_COMPOSE_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


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
