"""What a stage takes from the build context: ``COPY``/``ADD`` sources and context bind mounts.

``# escape=``, JSON form and heredocs are handled by the parser; ``$VAR`` in a source is
expanded with the stage's ARG/ENV scope, and one that stays unknown copies "anything".
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache

from msdfix.model.args import expand
from msdfix.model.dockerignore import (
    MAX_PATTERN_CHARS,
    DockerIgnore,
    DockerIgnoreError,
    go_clean,
)
from msdfix.model.stages import Model, Stage
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values, unquote

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.I)


@dataclass(frozen=True)
class Source:
    """One context source of a ``COPY``/``ADD``/``RUN --mount``; ``pattern`` None means all."""

    pattern: str | None
    instruction: str  # e.g. "COPY . . (line 3)"
    excludes: tuple[str, ...] = ()
    unknown: bool = False  # a ``$VAR`` msdfix cannot expand (``pattern`` is then None)

    def copies(self, rel: str) -> bool:
        """True when this source brings the context file ``rel`` into the build."""
        if self.pattern is not None and not pattern_covers(self.pattern, rel):
            return False
        return not any(pattern_covers(e, rel) for e in self.excludes)


def pattern_covers(pattern: str, rel: str) -> bool:
    """A COPY source names ``rel`` itself or a directory above it (wildcards as Docker's)."""
    matcher = _matcher(pattern)
    return matcher is not None and matcher.excludes(rel)


@lru_cache(maxsize=1024)
def _matcher(pattern: str) -> DockerIgnore | None:
    if len(pattern) > MAX_PATTERN_CHARS:
        return None  # longer than any path the build can stat (ENAMETOOLONG): it fails
    try:
        return DockerIgnore.from_patterns([pattern])
    except DockerIgnoreError:
        return None  # a source Docker rejects copies nothing (the build fails)


def where(ins: Instruction) -> str:
    """A short quote of the instruction with its line, for messages."""
    text = " ".join(ins.logical.split())
    return f"{text if len(text) <= 60 else text[:57] + '...'} (line {ins.start_line})"


def within_context(source: str) -> str:
    """A local COPY/ADD source as BuildKit reads it: ``..`` stops at the context's root, so
    ``COPY ../go.mod .`` copies the context's go.mod and ``COPY .. .`` all of it (built for
    real: a compose file's ``context: ..`` with ``dockerfile: deploy/Dockerfile``)."""
    cleaned = go_clean(source)
    if cleaned != ".." and not cleaned.startswith("../"):
        return source
    return go_clean("/" + source).lstrip("/") or "."


def clean_source(raw: str, scope: dict[str, str | None], escape: str | None) -> str | None:
    """A context-relative source; None for the whole context or an unknown (``$VAR``) one."""
    value = expand(raw, scope)
    if escape is not None:  # shell form: quotes and escapes are removed
        value = unquote(value, escape)
    if "$" in value:
        return None
    value = go_clean(within_context(value)).lstrip("/")
    return None if value in ("", ".") else value


def _source(
    raw: str,
    scope: dict[str, str | None],
    escape: str | None,
    origin: str,
    excludes: tuple[str, ...] = (),
) -> Source:
    pattern = clean_source(raw, scope, escape)
    unknown = pattern is None and "$" in expand(raw, scope)
    return Source(pattern, origin, excludes, unknown=unknown)


def copy_sources(stage: Stage, ins: Instruction, model: Model) -> list[Source]:
    """The context sources of one ``COPY``/``ADD`` (none for ``--from``, URLs, heredocs).

    Worked out once per stage and instruction of the model (each package manager's and each
    pass's questions ask again); the cache holds both, so their ids name them."""
    if ins.flag("from") is not None:
        return []
    cache: dict[tuple[int, int], tuple[Stage, Instruction, tuple[Source, ...]]]
    cache = model.__dict__.setdefault("_copy_sources", {})
    found = cache.get((id(stage), id(ins)))
    if found is None or found[0] is not stage or found[1] is not ins:
        found = cache[(id(stage), id(ins))] = (stage, ins, tuple(_copy_sources(stage, ins, model)))
    return list(found[2])


def _copy_sources(stage: Stage, ins: Instruction, model: Model) -> list[Source]:
    _, values, is_json = instruction_values(ins)
    scope = model.stage_scope(stage, ins)
    escape = None if is_json else ins.escape
    excludes = tuple(f.value for f in ins.flags_named("exclude") if f.value)
    origin = where(ins)  # once: quoting the instruction per source is quadratic
    found = []
    for raw in values[:-1]:
        if (ins.heredocs and raw.startswith("<<")) or remote_source(raw, scope):
            continue  # inline file or remote source: nothing from the context
        found.append(_source(raw, scope, escape, origin, excludes))
    return found


def remote_source(raw: str, scope: dict[str, str | None]) -> bool:
    """A URL or git source, as written or once BuildKit expands the stage's ARG/ENV in it
    (``ADD $URL /x`` with ``ARG URL=https://...`` downloads; a variable without a value
    stays an unknown source)."""
    return bool(_URL.match(raw) or ("$" in raw and _URL.match(expand(raw, scope))))


_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.[a-z0-9]+)$", re.IGNORECASE)


def unpacks_archive(ins: Instruction, scope: dict[str, str | None] | None = None) -> bool:
    """An ``ADD`` of a local archive: Docker unpacks it, so msdfix cannot list the files.
    With the stage's ``scope``, a source is read as BuildKit expands it (``ADD $PKG /opt/``
    with ``ARG PKG=tools.tgz``); one a variable without a value names may be an archive."""
    if ins.cmd != "add" or ins.flag("from") is not None:
        return False
    _, values, _ = instruction_values(ins)
    for raw in values[:-1]:
        value = expand(raw, scope) if scope is not None and "$" in raw else raw
        if _URL.match(value):
            continue
        if _ARCHIVE.search(value.rstrip("/")) or (scope is not None and "$" in value):
            return True
    return False


def archive_destination(model: Model, stage: Stage, ins: Instruction) -> str | None:
    """Where an ``ADD`` of a local archive unpacks, as an absolute path (it keeps a ``$`` when
    a variable msdfix cannot expand decides it); None for any other instruction."""
    unpacks = unpacks_archive(ins, model.stage_scope(stage, ins))
    return posixpath.normpath(copy_destination(model, stage, ins)) if unpacks else None


def copy_destination(model: Model, stage: Stage, ins: Instruction) -> str:
    """Where a ``COPY``/``ADD`` puts its files, joined to its WORKDIR (not normalised; a ``$``
    stays where a variable msdfix cannot expand decides it)."""
    dest = expand(instruction_values(ins)[1][-1], model.stage_scope(stage, ins))
    return posixpath.join(model.workdirs(stage)[0].get(id(ins), "/"), dest)


def mount_sources(stage: Stage, ins: Instruction, model: Model) -> list[Source]:
    """``RUN --mount`` of the build context (type bind, the default, without ``from``)."""
    mounts = ins.flags_named("mount")
    if not mounts:
        return []  # most RUNs: no quote of the instruction to make
    found = []
    origin = where(ins)
    for flag in mounts:
        fields = dict(
            part.partition("=")[::2] for part in (flag.value or "").split(",") if part.strip()
        )
        if fields.get("type", "bind") != "bind" or "from" in fields:
            continue
        raw = fields.get("source", fields.get("src", ""))
        scope = model.stage_scope(stage, ins)
        found.append(_source(raw, scope, ins.escape, origin))
    return found


def stage_sources(stage: Stage, model: Model) -> list[tuple[Instruction, Source]]:
    """Every context source of the stage's instructions, in file order."""
    found: list[tuple[Instruction, Source]] = []
    for ins in stage.instructions:
        if ins.cmd in ("copy", "add"):
            found += [(ins, s) for s in copy_sources(stage, ins, model)]
        elif ins.cmd == "run":
            found += [(ins, s) for s in mount_sources(stage, ins, model)]
        elif ins.cmd == "onbuild" and _ONBUILD_READS.match(ins.args):
            # ONBUILD COPY . /app runs in the builds of child images, on their context
            found.append((ins, Source(None, where(ins), unknown=True)))
    return found


# An ONBUILD trigger that reads the context of the child's build.
_ONBUILD_READS = re.compile(r"\s*(?:copy|add|run\b.*--mount)\b", re.I)
