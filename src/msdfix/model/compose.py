"""Compose files whose services build this Dockerfile and run other commands in its image
than its CMD/ENTRYPOINT: ``command:``, ``entrypoint:`` and ``healthcheck:`` ``test:``."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msdfix.files import YamlError, load_yaml, resolves_within
from msdfix.model.context import BuildContext

# compose.yaml, docker-compose.yml, docker-compose.override.yml, compose.dev.yaml, ...
COMPOSE_FILE = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$")
# Folders above the context searched too: a monorepo's compose.yaml builds ./api, ./web.
PARENT_LEVELS = 2
MAX_COMPOSE_BYTES = 512 * 1024
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
            services = _services(_read(path))
            if isinstance(services, str):  # unknown is not "no service builds this folder"
                found.append(ComposeRun(rel, "", UNKNOWN, services))
                continue
            for name, service in services.items():
                found += _service_runs(rel, str(name), service, folder, root, dockerfile)
    return found


def _service_runs(
    rel: str, name: str, service: object, folder: Path, root: Path, dockerfile: str
) -> list[ComposeRun]:
    """What the compose service ``name`` (its parsed mapping) runs in this Dockerfile's image:
    none when it builds another folder or Dockerfile; its ``command``, ``entrypoint`` and
    healthcheck ``test``; an UNKNOWN run when it ``extends`` another service."""
    if not isinstance(service, dict):
        return []
    build = service.get("build", _NO_BUILD)
    where = None if build is _NO_BUILD else _build_context(build)
    if "extends" in service and (where is None or _builds(folder, where, root)):
        return [ComposeRun(rel, name, UNKNOWN, "it takes keys from elsewhere (`extends:`)")]
    if where is None or not _builds(folder, where, root):
        return []
    named = build.get("dockerfile") if isinstance(build, dict) else None
    if named is not None and posixpath.basename(str(named)) != dockerfile:
        return []
    found = [
        ComposeRun(rel, name, key, _text(value))
        for key, value in service.items()
        if key in ("command", "entrypoint") and value is not None
    ]
    check = _healthcheck_test(service.get("healthcheck"))
    if check:
        found.append(ComposeRun(rel, name, "healthcheck", check))
    return found


_NO_BUILD = object()


def _text(value: object) -> str:
    """A command as text: a list as JSON (``["go", "test"]``), a string as it is."""
    return json.dumps(value) if isinstance(value, list) else str(value)


def _healthcheck_test(check: object) -> str | None:
    """The ``test`` of a service's ``healthcheck`` (a string or a list, as text), or None
    without one, when it is disabled or ``["NONE"]``."""
    if not isinstance(check, dict) or check.get("disable") is True:
        return None
    test = check.get("test")
    if test is None:
        return None
    value = _text(test)
    return None if _is_none(value) else value


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


def _services(text: str | None) -> dict[Any, Any] | str:
    """The compose file's ``services`` mapping ({} without one), or why what its services run
    is unknown: a file it could not read, YAML it does not read (``load_yaml``), and
    ``include:`` of other files are unknown, not absent."""
    if text is None:
        return (
            f"it is over {MAX_COMPOSE_BYTES >> 10} KiB, links out of its folder or cannot be read"
        )
    try:
        data = load_yaml(text)
    except YamlError as exc:
        return f"msdfix cannot read it as YAML ({exc})"
    if not isinstance(data, dict):
        return {} if data is None else "it is not a mapping of keys"
    if "include" in data:
        return "it includes other compose files"
    services = data.get("services")
    if services is None:
        return {}
    return services if isinstance(services, dict) else "its services are not a mapping"


def _builds(folder: Path, where: str, root: Path) -> bool:
    """True when a service's build context ``where`` (relative to the compose file's
    ``folder``) is this build's context ``root``."""
    try:
        return "://" not in where and (folder / where).resolve() == root
    except (OSError, ValueError):  # a NUL byte, a name too long: no folder compose builds
        return False


def _build_context(build: object) -> str:
    """The build context a service's ``build`` names (``build: ./api``, ``context: .``, "."
    for a ``build:`` mapping without one, or an empty one)."""
    if isinstance(build, dict):
        context = build.get("context")
        return "." if context is None else str(context)
    return "." if build is None else str(build)
