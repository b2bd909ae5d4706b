"""Mounts through which a RUN reaches the packages it downloads, and whether a later RUN has
them too. A download that needs a bind-mounted proxy dump, a secret (``.netrc``, ``.npmrc``)
or an ssh agent fills the cache for later steps that cannot download again: those read it
from the image, as offline steps do, so it cannot move onto a mount (built for real: with the
layers cached and the mount empty, ``go build`` found no proxy and ``npm ci`` no registry)."""

from __future__ import annotations

import posixpath

from msdfix.model.context import BuildContext
from msdfix.syntax import Instruction

# Mounts that bring no inputs of their own.
_INPUTLESS = frozenset({"cache", "tmpfs"})


def _options(spec: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for option in spec.split(","):
        key, _, value = option.partition("=")
        key = {"src": "source", "dst": "target", "destination": "target"}.get(
            key.strip().lower(), key.strip().lower()
        )
        found[key] = value.strip().strip("\"'")
    found.setdefault("type", "bind")
    return found


def _context_file(context: BuildContext, source: str) -> bool:
    """A regular file of the build context (a manifest such as go.mod): it gives no access."""
    rel = posixpath.normpath(source.lstrip("/")) if source else ""
    root = context.root
    return bool(
        rel
        and rel != "."
        and root is not None
        and context.present
        and context.exists(rel)
        and (root / rel).is_file()
    )


def access_mounts(ins: Instruction, context: BuildContext) -> list[str]:
    """``--mount`` values of ``ins`` that may bring what its downloads need: secrets, ssh
    agents, and bind mounts other than a regular file of the build context."""
    found = []
    for flag in ins.flags_named("mount"):
        spec = flag.value or ""
        opts = _options(spec)
        if opts["type"] in _INPUTLESS:
            continue
        if opts["type"] == "bind" and "from" not in opts:
            if _context_file(context, opts.get("source", "")):
                continue
        found.append(spec)
    return found


def _key(opts: dict[str, str]) -> tuple[str, ...]:
    kind = opts["type"]
    if kind == "secret":
        return (kind, opts.get("id") or posixpath.basename(opts.get("target", "")))
    if kind == "ssh":
        return (kind, opts.get("id", "default"))
    target = posixpath.normpath(opts["target"]) if opts.get("target") else ""
    return (kind, opts.get("from", ""), opts.get("source", ""), target)


def has_mount(ins: Instruction, spec: str) -> bool:
    """True when ``ins`` has a mount that gives what ``spec`` gives (the same secret or ssh
    id, the same bind source and target)."""
    wanted = _key(_options(spec))
    return any(_key(_options(f.value or "")) == wanted for f in ins.flags_named("mount"))
