"""Compose files that run other commands in the image than its CMD/ENTRYPOINT."""

from __future__ import annotations

import posixpath
import re

from msdfix.model import BuildContext

# compose.yaml, docker-compose.yml, docker-compose.override.yml, compose.dev.yaml, ...
COMPOSE_FILE = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$")
_SERVICES = re.compile(r"^services\s*:\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s+)([\w.-]+|\"[^\"]+\"|'[^']+')\s*:")
_BUILD = re.compile(r"(?:^\s*|[{,]\s*)build\s*:", re.MULTILINE)
_START = re.compile(r"(?:^\s*|[{,]\s*)(command|entrypoint)\s*:\s*(.*)$", re.MULTILINE)
_DOCKERFILE = re.compile(r"dockerfile\s*:\s*[\"']?([^\s\"',}]+)")


def compose_override(ctx: BuildContext) -> str | None:
    """Why a compose file at the top of the context may start the image with another
    command: a service built from this Dockerfile sets ``command:`` or ``entrypoint:``
    (``docker compose run test`` runs ``go test ./...``, ``npm run dev`` a dev dependency),
    which the split's runtime may lack. None when there is none."""
    if not ctx.present or ctx.root is None:
        return None
    dockerfile = ctx.dockerfile.name if ctx.dockerfile is not None else "Dockerfile"
    try:
        names = sorted(p.name for p in ctx.root.iterdir() if COMPOSE_FILE.match(p.name))
    except OSError:  # an unreadable folder: no compose file to weigh
        return None
    for name in names:
        for service, block in _services(ctx.read_text(name) or ""):
            if not _BUILD.search(block):
                continue
            named = _DOCKERFILE.search(block)
            if named and posixpath.basename(named.group(1)) != dockerfile:
                continue
            start = _START.search(block)
            if start:
                return (
                    f"{name} gives service {service}, built from this Dockerfile, its own "
                    f"{start.group(1)} ({start.group(2).strip()[:60]}): the runtime stage "
                    "may lack what that runs"
                )
    return None


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
