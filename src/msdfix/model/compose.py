"""Compose files whose services build this Dockerfile and run other commands in its image
than its CMD/ENTRYPOINT: ``command:``, ``entrypoint:`` and ``healthcheck:`` ``test:``."""

from __future__ import annotations

import json
import os
import posixpath
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from msdfix.files import InputError, YamlError, load_yaml, read_regular, resolves_within
from msdfix.model.context import BuildContext

# compose.yaml, docker-compose.yml, docker-compose.override.yml, compose.dev.yaml, ...
COMPOSE_FILE = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$")
# Folders above the context searched too: a monorepo's compose.yaml builds ./api, ./web.
PARENT_LEVELS = 2
# A folder changed this recently (ns) is listed again: its mtime may not show a change yet.
RACY_NS = 2_000_000_000
MAX_COMPOSE_BYTES = 512 * 1024
# All the Dockerfiles compose services build one context from, together (a 512 KiB compose
# file names thousands of services, each a Dockerfile of up to files.MAX_BYTES).
MAX_BUILT_BYTES = 16 << 20
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
    for folder in _searched(root):
        files = [(posixpath.relpath(p, root), _services(_read(p))) for p in _compose_files(folder)]
        built = _built_here(files, folder, root, dockerfile)
        for rel, services in files:
            if isinstance(services, str):  # unknown is not "no service builds this folder"
                found.append(ComposeRun(rel, "", UNKNOWN, services))
                continue
            for name, service in services.items():
                found += _service_runs(rel, str(name), service, folder, root, dockerfile, built)
    return found


def _built_here(
    files: list[tuple[str, dict[Any, Any] | str]], folder: Path, root: Path, dockerfile: str
) -> set[str]:
    """The names, and the ``image:`` tags, of the services in ``folder``'s compose files
    that build this Dockerfile. Compose merges a service of the same name from another
    file (``compose.override.yaml`` is read with ``compose.yaml`` unasked, others with
    ``-f``) into it, and a service naming the image the build tags runs in that image
    (built: an override file giving the service a healthcheck of ``curl``: the split's
    node:18-slim has none)."""
    found: set[str] = set()
    for _, services in files:
        for name, service in services.items() if isinstance(services, dict) else []:
            if isinstance(service, dict) and _builds_this(service, folder, root, dockerfile):
                image = service.get("image")
                found |= {f"service {name}", *([_tag(str(image))] if image else [])}
    return found


def _tag(image: str) -> str:
    """An image name with its tag (``:latest`` for none), as Compose and Docker read it."""
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def _builds_this(service: dict[Any, Any], folder: Path, root: Path, dockerfile: str) -> bool:
    """Whether the service's own ``build`` is this context and Dockerfile."""
    build = _build_of(service)
    if build is None or not _builds(folder, build[0], root):
        return False
    return build[1] is None or posixpath.basename(build[1]) == dockerfile


def _service_runs(
    rel: str,
    name: str,
    service: object,
    folder: Path,
    root: Path,
    dockerfile: str,
    built: set[str],
) -> list[ComposeRun]:
    """What the compose service ``name`` (its parsed mapping) runs in this Dockerfile's image:
    none when it builds another folder or Dockerfile; its ``command``, ``entrypoint`` and
    healthcheck ``test``; an UNKNOWN run when it ``extends`` another service. One without
    a ``build`` of its own runs in the image where ``built`` (``_built_here``) names it or
    its image."""
    if not isinstance(service, dict):
        return []
    build = _build_of(service)
    where = None if build is None else build[0]
    if "extends" in service and (where is None or _builds(folder, where, root)):
        return [ComposeRun(rel, name, UNKNOWN, "it takes keys from elsewhere (`extends:`)")]
    image = service.get("image")
    if where is None:
        if f"service {name}" not in built and (not image or _tag(str(image)) not in built):
            return []
    elif not _builds_this(service, folder, root, dockerfile):
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


def _searched(folder: Path) -> list[Path]:
    """``folder`` and the PARENT_LEVELS folders above it, where compose files are looked for."""
    return [folder, *folder.parents][: PARENT_LEVELS + 1]


def _compose_files(folder: Path) -> list[Path]:
    """The compose files in ``folder``, sorted. A folder is listed once while its mtime is
    unchanged and over RACY_NS old (changed as recently, a file added in the same clock tick
    would leave it unchanged: git's "racy clean" rule): a folder of 3,700 Dockerfiles was
    listed again for each of them, a third of a corpus run's time."""
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:  # an unreadable folder: no compose file to weigh
        return []
    racy = time.time_ns() - stamp < RACY_NS
    names = _compose_names.__wrapped__(folder) if racy else _compose_names(folder, stamp)
    return [p for p in names if p.is_file()]


@lru_cache(maxsize=256)
def _compose_names(folder: Path, stamp: int = 0) -> tuple[Path, ...]:
    """The paths in ``folder`` named like compose files, sorted, as listed when its mtime
    was ``stamp``."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted(folder / e.name for e in entries if COMPOSE_FILE.match(e.name)))
    except OSError:
        return ()


def _read(path: Path) -> str | None:
    """The file's text (a byte-order mark dropped, as YAML reads it); None when it is over
    MAX_COMPOSE_BYTES (read no further, though it grows), is not a regular file when read,
    cannot be read, or links out of its folder: ``compose.yaml ->
    /proc/self/environ`` was read, and a line of the environment quoted in the summary."""
    if not resolves_within(path, path.parent):
        return None
    try:  # a regular file when read: one swapped for a FIFO after the listing hung
        data, _ = read_regular(path, MAX_COMPOSE_BYTES)
    except InputError:
        return None
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


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


def _build_of(service: object) -> tuple[str, str | None] | None:
    """The build context and Dockerfile a service's ``build`` names: the context as given
    (``build: ./api``, ``context: .``; "." for a ``build:`` mapping without one, or an empty
    one), the Dockerfile as given or None without a ``dockerfile:`` (its readers take an
    empty one for ``Dockerfile``). None for a service without a ``build`` key (``build:``
    alone is the folder)."""
    if not isinstance(service, dict) or "build" not in service:
        return None
    build = service["build"]
    if not isinstance(build, dict):
        return ("." if build is None else str(build)), None
    context, named = build.get("context"), build.get("dockerfile")
    return ("." if context is None else str(context)), (None if named is None else str(named))


def _inline(service: object) -> str | None:
    """The ``dockerfile_inline`` text of the service's ``build``, or None without one."""
    build = service.get("build") if isinstance(service, dict) else None
    return (
        str(build["dockerfile_inline"])
        if isinstance(build, dict) and "dockerfile_inline" in build
        else None
    )


def compose_context(dockerfile: Path, top: Path | None = None) -> Path | None:
    """The build context the compose files next to a Dockerfile, or up to PARENT_LEVELS
    folders above it (within ``top``, else its git checkout), give it, when that is one folder other than
    its own: ``docker/compose.yaml`` with ``context: ..`` and ``dockerfile: docker/Dockerfile``
    builds from the repository's root, where the Dockerfile's own folder lacks every file it
    copies (read as the context, it read nothing). None when no service builds it, when
    services build it from different folders, or when a compose file cannot be read or names
    its context or Dockerfile with a variable (unknown, so not taken as absent)."""
    try:
        target = dockerfile.resolve()
    except (OSError, RuntimeError):
        return None
    found: set[Path] = set()
    folders, top = _compose_folders(target.parent, top)
    for folder in folders:
        for path in _compose_files(folder):
            services = _services(_read(path))
            if isinstance(services, str):
                return None
            for service in services.values():
                building = _context_building(service, folder, target)
                if building is None:
                    return None
                found |= building
    if len(found) != 1:
        return None
    (only,) = found
    # a context outside the checkout (`context: /`) is never read
    if only == target.parent or not (only == top or top in only.parents):
        return None
    return only


def _compose_folders(folder: Path, top: Path | None = None) -> tuple[list[Path], Path]:
    """The Dockerfile's folder and up to PARENT_LEVELS above it, none above ``top`` (the
    bot's copy of a branch) or its git root; and the folder a context must lie in: that
    one, or outside git the highest of them."""
    from msdfix.discovery import git_root  # discovery reads configuration: imported late

    root = top.resolve() if top is not None else git_root(folder)
    chain = _searched(folder)
    folders = [f for f in chain if root is None or f == root or root in f.parents]
    return folders, root or folders[-1]


def _context_building(service: object, folder: Path, target: Path) -> set[Path] | None:
    """The service's build context as a set of one folder when it builds ``target`` (an
    empty set when it does not), None when a variable or a remote context makes it unknown."""
    build = _build_of(service)
    if build is None or _inline(service) is not None:
        return set()
    context, named = build[0], build[1] or "Dockerfile"
    if "$" in context or "$" in named or "://" in context:
        return None
    try:
        where = (folder / context).resolve()
        built = (where / named).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    return {where} if built == target and where.is_dir() else set()


def compose_dockerfiles(root: Path, dockerfile: Path | None) -> list[tuple[str, str]] | str:
    """The Dockerfiles, as (where, text), of the compose services that build the context
    ``root`` (compose files in it or up to PARENT_LEVELS above it or the Dockerfile) other than
    ``dockerfile``: a ``dockerfile_inline``, or the file ``dockerfile:`` names, of any name and
    anywhere. They read the context's .dockerignore too (built, round 26: a safe .dockerignore
    excluding .git for docker/Dockerfile left a ``dockerfile_inline`` service of the same
    context without /src/.git/HEAD). Or why one is unknown: a compose file msdfix cannot
    read, a variable, a Dockerfile it cannot read (``dockerfile: /dev/zero`` read without
    end), one outside ``_reach`` (``/proc/self/environ``), or more than MAX_BUILT_BYTES of
    them."""
    try:
        top = root.resolve()
        own = dockerfile.resolve() if dockerfile is not None else None
    except (OSError, RuntimeError):
        return "msdfix cannot resolve the build context's folder"
    folders = _searched(top)
    if own is not None:
        folders += _searched(own.parent)
    found: list[tuple[str, str]] = []
    size, reach = 0, _reach(top)
    for folder in dict.fromkeys(folders):
        for path in _compose_files(folder):
            services = _services(_read(path))
            if isinstance(services, str):
                return f"{path.name} may build this context: {services}"
            for name, service in services.items():
                built = _built_file(path, str(name), service, top, own, reach)
                if isinstance(built, str):
                    return built
                found += built
                size += sum(len(text) for _, text in built)
                if size > MAX_BUILT_BYTES:
                    return (
                        f"{path.name}'s services build this context from Dockerfiles of more"
                        f" than {MAX_BUILT_BYTES >> 20} MiB in all, more than msdfix reads"
                    )
    return found


def _reach(top: Path) -> list[Path]:
    """The folders a Dockerfile compose services name for the context ``top`` is read in: the
    highest of those compose files are searched in (PARENT_LEVELS above it) and its git
    checkout; never /dev, /proc or a home folder for a repository's compose file."""
    from msdfix.discovery import git_root  # discovery reads configuration: imported late

    root = git_root(top)
    return [_searched(top)[-1], *([root] if root else [])]


def _built_file(
    path: Path, name: str, service: object, top: Path, own: Path | None, reach: list[Path]
) -> list[tuple[str, str]] | str:
    """The Dockerfile (``compose_dockerfiles``) the compose service ``name`` of ``path``
    builds the context ``top`` from: none when it builds another context or ``own``; why it
    is unknown when it is not a regular file within ``reach`` (``_reach``)."""
    build = _build_of(service)
    if build is None:
        return []
    context, named = build[0], build[1] or "Dockerfile"
    where = f"{path.name}'s service {name}"
    if "$" in context or "$" in named:
        return f"{where} names its build context or Dockerfile with a variable"
    if not _builds(path.parent, context, top):
        return []
    inline = _inline(service)
    if inline is not None:
        return [(where, inline)]
    try:
        target = (path.parent / context / named).resolve()
        if target == own or Path(str(target) + ".dockerignore").is_file():
            return []  # this Dockerfile, or one with its own ignore file
        if not any(resolves_within(target, folder) for folder in reach):
            return f"{where} builds from {named}, outside the folders msdfix reads"
        data, _ = read_regular(target)  # a regular file of files.MAX_BYTES at most
        return [(str(target), data.decode("utf-8", errors="replace"))]
    except (OSError, ValueError, RuntimeError, InputError):
        return f"{where} builds from {named}, which msdfix cannot read"
