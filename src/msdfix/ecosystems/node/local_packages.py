"""Dependencies installed from the project's own files: local specs, patches, workspace members."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from msdfix.ecosystems.base import Ecosystem
from msdfix.files import YamlError, load_yaml
from msdfix.model.context import BuildContext, Unreadable

_LOCAL_PREFIXES = ("file:", "link:", "workspace:", "portal:", "patch:", ".", "~/", "/")
_DEPENDENCY_TABLES = (
    "dependencies", "devDependencies", "optionalDependencies", "peerDependencies",
    "resolutions", "overrides",
)  # fmt: skip


def is_local_spec(spec: str) -> bool:
    """A dependency specifier that installs the project's own files, as npm-package-arg reads
    it: a path (``./vendor/x.tgz``, ``../lib``), a tarball file, or a ``file:``/``link:``/
    ``workspace:``/``portal:``/``patch:`` protocol."""
    if "://" in spec and not spec.startswith(("file:", "link:")):  # file:///app/x.tgz is local
        return False
    return spec.startswith(_LOCAL_PREFIXES) or spec.endswith((".tgz", ".tar.gz", ".tar"))


def local_dependency(package: dict[str, object]) -> tuple[str, str] | None:
    """(name, spec) of the first dependency package.json installs from the project's own
    files (the manifests alone do not install it), or None."""
    return next(local_dependencies(package), None)


def local_dependencies(package: dict[str, object]) -> Iterator[tuple[str, str]]:
    """(name, spec) of every dependency package.json installs from the project's own files.
    Override tables are read to the bottom: npm's nested ``overrides`` (``{"express": {"qs":
    ...}}``, ``{"qs": {".": ...}}``), ``pnpm.overrides`` and the dependency tables of
    ``pnpm.packageExtensions``; the name of a nested one is its path (``express > qs``)."""
    pnpm = package.get("pnpm")
    tables = [package.get(key) for key in _DEPENDENCY_TABLES]
    if isinstance(pnpm, dict):
        tables += [pnpm.get("overrides"), pnpm.get("packageExtensions")]
    for table in tables:
        todo: list[tuple[str, object]] = [("", table)]
        while todo:
            name, value = todo.pop(0)
            if isinstance(value, str) and is_local_spec(value):
                yield name, value
            for key, inner in value.items() if isinstance(value, dict) else []:
                todo.append((name if key == "." else f"{name} > {key}" if name else key, inner))


def local_spec_path(spec: str) -> str | None:
    """The project-relative path a local specifier names (``file:../shared`` -> ``../shared``,
    ``./vendor/x.tgz``); None when it names none a folder alone resolves (``workspace:*``
    comes from the workspace root, ``~/`` from the home, ``patch:`` from its own spec)."""
    protocol, colon, rest = spec.partition(":")
    if not colon or len(protocol) < 2:  # a bare path (a Windows drive letter is no protocol)
        rest = spec
    elif protocol not in ("file", "link", "portal"):
        return None
    rest = rest.removeprefix("//") if rest.startswith("///") else rest
    return None if rest.startswith("~") else rest


# A top-level ``patchedDependencies:`` key of pnpm-workspace.yaml (pnpm 10 reads its settings
# there) or pnpm-lock.yaml (pnpm records the patches it applied).
_PATCHED_KEY = re.compile(r"^patchedDependencies[ \t]*:", re.M)


def patched_dependencies(ctx: BuildContext, base: str, package: dict[str, object]) -> str | None:
    """Where the project in ``base`` declares patched dependencies, whose patch files the
    install reads from the project (pnpm, bun; yarn's ``patch:`` specifiers are local specs):
    package.json ``pnpm.patchedDependencies`` or ``patchedDependencies``, pnpm-workspace.yaml's
    or pnpm-lock.yaml's ``patchedDependencies:`` key (pnpm 10 failed with ENOENT on the patch
    when the manifests came without it). None: none declared."""
    pnpm = package.get("pnpm")
    if isinstance(pnpm, dict) and pnpm.get("patchedDependencies"):
        return "package.json pnpm.patchedDependencies"
    if package.get("patchedDependencies"):
        return "package.json patchedDependencies"
    for name in ("pnpm-workspace.yaml", "pnpm-lock.yaml"):
        path = posixpath.join(base, name) if base not in ("", ".") else name
        if not ctx.exists(path):
            continue
        try:
            if _declares_patches(ctx, path):
                return f"{name} patchedDependencies"
        except (OSError, Unreadable, YamlError):  # unread: its patches are unknown, not absent
            return f"{name} (unreadable, may declare patchedDependencies)"
    return None


def _declares_patches(ctx: BuildContext, path: str) -> bool:
    """True when the pnpm file at ``path`` has a top-level ``patchedDependencies`` key:
    pnpm-workspace.yaml read as YAML (flow style too), pnpm-lock.yaml (up to 64 MiB, written
    in block style by pnpm) line by line. OSError, Unreadable or YamlError: not read."""
    if posixpath.basename(path) == "pnpm-lock.yaml":
        return ctx.find_line(path, _PATCHED_KEY) is not None
    data = load_yaml(ctx.read_known(path) or "")
    return isinstance(data, dict) and "patchedDependencies" in data


MAX_LOCAL_PACKAGES = 200


def local_package_names(context: BuildContext, rel_dir: str) -> set[str] | None:
    """Names of the dependencies that the project's own packages declare: workspace members
    (package.json ``workspaces``, pnpm-workspace.yaml) and path dependencies (``file:../lib``),
    followed through theirs. An install brings them without the root package.json naming
    them (npm installs a member's simple-git). None when more than MAX_LOCAL_PACKAGES, or
    when a pnpm-workspace.yaml does not read as YAML (its members unknown)."""
    seen: set[str] = set()
    names: set[str] = set()
    todo = [rel_dir]
    while todo:
        item = todo.pop()
        here = posixpath.normpath(item) if item else ""
        here = "" if here == "." else here
        if here in seen or here.startswith("../"):
            continue
        seen.add(here)
        if len(seen) > MAX_LOCAL_PACKAGES:
            return None
        package = context.read_json(posixpath.join(here, "package.json"))
        if not isinstance(package, dict):
            continue
        for key in ("dependencies", "optionalDependencies"):
            table = package.get(key)
            for name, spec in table.items() if isinstance(table, dict) else []:
                if isinstance(spec, str) and is_local_spec(spec) and "://" not in spec:
                    path = spec.split(":", 1)[1] if ":" in spec[:9] else spec
                    todo.append(posixpath.join(here, path))
                elif here != rel_dir:
                    names.add(name)
        members = _members(context, here, package)
        if members is None:
            return None
        todo += [m.removesuffix("/package.json") for m in members]
    return names


def _members(context: BuildContext, here: str, package: dict[str, object]) -> list[str] | None:
    """package.json files of the workspace members of the project in ``here``: package.json
    ``workspaces`` and pnpm-workspace.yaml ``packages`` (None: that file does not read)."""
    spaces = package.get("workspaces")
    if isinstance(spaces, dict):
        spaces = spaces.get("packages")
    patterns = [p for p in spaces if isinstance(p, str)] if isinstance(spaces, list) else []
    try:
        pnpm = load_yaml(context.read_text(posixpath.join(here, "pnpm-workspace.yaml")) or "")
    except YamlError:
        return None
    listed = pnpm.get("packages") if isinstance(pnpm, dict) else None
    patterns += [p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
    found = []
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        glob = posixpath.join(here, pattern.rstrip("/"), "package.json")
        found += [f for f in context.glob(glob) if "node_modules/" not in f]
    return found


# A lock file line that resolves a package from the project's own files: npm's ``"resolved":
# "file:..."`` or ``"link": true`` (``"version": "file:..."`` in a v1 lock), pnpm's
# ``file:``/``link:`` specifiers, versions and ``tarball: file:`` resolutions, yarn's
# ``name@file:``, ``@link:`` and (Berry) ``@portal:`` entries. Not ``workspace:``: every Berry
# lock has the root's ``app@workspace:.`` entry; workspaces are declined from package.json.
LOCAL_LOCK_LINES = {
    "package-lock.json": re.compile(r'"(?:resolved|version)":\s*"file:|"link":\s*true\b'),
    "npm-shrinkwrap.json": re.compile(r'"(?:resolved|version)":\s*"file:|"link":\s*true\b'),
    # not after a word character (``profile:``); not a YAML key (``link: 1.0.0``, a package
    # named link), whose colon a space or the line end follows
    "pnpm-lock.yaml": re.compile(r"(?<![\w.-])(?:file|link):(?![\s]|$)"),
    "yarn.lock": re.compile(r"@(?:file|link|portal):"),
}


def locked_local(context: BuildContext, rel_dir: str, eco: Ecosystem) -> str | None:
    """Why the lock files ``eco``'s install reads in the project ``rel_dir`` do not let the
    manifests alone install: the first entry that resolves a package from the project's files
    (``tarball: file:vendor/qs.tgz``), or a lock that exists but cannot be read. None when no
    such lock names a local package (or none exists)."""
    for name in eco.manifests:
        pattern = LOCAL_LOCK_LINES.get(name)
        path = posixpath.join(rel_dir, name) if rel_dir not in ("", ".") else name
        if pattern is None or not context.exists(path):
            continue
        try:
            line = context.find_line(path, pattern)
        except OSError as error:
            return f"{name} could not be read ({error})"
        if line is not None:
            return f"{name} resolves a package from a local path ({line.strip()[:120]})"
    return None
