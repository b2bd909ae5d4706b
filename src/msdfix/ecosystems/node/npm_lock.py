"""package-lock.json: unlocked or invalid entries, dev flags, overrides, format, v1 locks."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from msdfix.ecosystems.node.semver import semver_satisfies
from msdfix.files import decimal


def npm_lock_unlocked(packages: dict[str, Any], peers: bool = True) -> str | None:
    """A dependency a package-lock.json's ``packages`` map asks for and holds no entry for
    (None: each resolves): the root's dependencies, devDependencies and optionalDependencies
    and each entry's dependencies, looked up as Node resolves them (``node_modules/<name>``
    beside the entry, then in each folder above). npm install adds the missing entry and
    rewrites the lock (built with npm 10: node_modules/ms taken out of a lock, 1,122 bytes
    in the context, 1,387 in the image). With ``peers`` (npm 7 and later install them,
    unless legacy-peer-deps), the peerDependencies not marked optional too (a lock written
    with --legacy-peer-deps: npm 10 added ajv, 589 bytes became 2,918)."""
    for path, entry in packages.items():
        if not isinstance(entry, dict) or entry.get("link"):
            continue
        for name in _npm_asked(entry, not path, peers):
            if _npm_target(packages, path, name) is None:
                return name
    return None


def npm_lock_invalid(
    packages: dict[str, Any], package: dict[str, Any], peers: bool = True
) -> str | None:
    """The first dependency (``the NAME entry that PATH asks for``) of a package-lock.json whose locked entry's
    version does not satisfy the range that asks for it (None: each does, or is not read
    here): npm install resolves such an edge again and rewrites the lock (built with npm
    10.8.2 and 9.2.0: a lock whose root entry asked for debug ^3.2.7 over a locked debug
    4.4.3, as a merged lock has it, was rewritten, and `npm ci` failed). The root's and each
    entry's dependencies and optionalDependencies and the root's devDependencies are read,
    and with ``peers`` (npm 7 and later, unless legacy-peer-deps) each one's peerDependencies
    (built with npm 10.8.2: react 17.0.2 locked under the root's ``^17.0.2 || ^18.2.0`` and
    react-dom's peer ``^18.3.1``; npm wrote react 18.3.1); names package.json overrides,
    bundled entries, links and specs other than node-semver ranges (a tag, git, a file, an
    alias of another package) are left to the other checks."""
    overridden = _override_scopes(package.get("overrides"), packages)
    for path, entry in packages.items():
        if not isinstance(entry, dict) or entry.get("link"):
            continue
        fields = ["dependencies", "optionalDependencies"] + ([] if path else ["devDependencies"])
        for field in fields + (["peerDependencies"] if peers else []):
            declared = entry.get(field)
            for name, spec in declared.items() if isinstance(declared, dict) else ():
                target = _npm_target(packages, path, str(name))
                replaced = any(path in scope for scope in overridden.get(str(name), ()))
                found = packages.get(target) if target and not replaced else None
                if not isinstance(found, dict) or found.get("inBundle") or found.get("link"):
                    continue
                if isinstance(spec, str) and spec.startswith(f"npm:{found.get('name')}@"):
                    spec = spec.rpartition("@")[2]
                if isinstance(spec, str) and semver_satisfies(found.get("version"), spec) is False:
                    return f"the {name} entry that {path or 'the root'} asks for"
    return None


def _override_scopes(overrides: object, packages: dict[str, Any]) -> dict[str, list[set[str]]]:
    """Every package name an ``overrides`` tree gives a spec of its own, at any depth, with
    the lock entries whose edges to it the override may replace: a top-level key's, every
    entry; a nested one's (``{"debug": {"ms": "2.1.2"}}``), the entries of its parent's name
    within the parent's scope and those they reach, not the root's own edge (built with npm
    10.8.2: the root's ms ``^2.1.3`` over a locked 2.1.2 that only debug's override asked
    for was resolved again and the lock rewritten). Selectors are stripped; a value of
    ``*``, or a map whose ``.`` is not a spec, changes nothing (arborist's ``Edge.spec``).
    Past ``MAX_NESTED_OVERRIDES`` objects the rest is not followed (npm_override_unmet
    calls such a lock stale)."""
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    scopes: dict[str, list[set[str]]] = {}  # (sets shared, not copied: a copy per key of
    todo = [(overrides, set(entries))]  # 20,000 top-level ones was quadratic)
    by_name = _npm_by_name(entries)
    nested = 0
    while todo:
        here, scope = todo.pop()
        for key, value in here.items() if isinstance(here, dict) else ():
            name = str(key)[:1] + str(key)[1:].partition("@")[0]
            if name == ".":
                continue
            if _override_spec(value.get(".") if isinstance(value, dict) else value):
                scopes.setdefault(name, []).append(scope)
            if isinstance(value, dict):
                nested += 1
                if nested > MAX_NESTED_OVERRIDES:
                    return scopes
                named = by_name.get(name, set()) & scope
                todo.append((value, named | _npm_reached(entries, named)))
    return scopes


def _override_spec(value: object) -> bool:
    """Whether an override's value replaces the spec of the edges it names (a non-empty
    string other than ``*``, as arborist's ``Edge.spec`` reads it)."""
    return isinstance(value, str) and value not in ("", "*")


def _npm_asked(entry: dict[str, Any], root: bool, peers: bool) -> list[str]:
    """The names a lock entry asks npm to install (a root entry: its dev and optional ones
    too; with ``peers``, its peers not marked optional in peerDependenciesMeta)."""
    fields = ["dependencies"] + (["devDependencies", "optionalDependencies"] if root else [])
    names = [str(n) for f in fields if isinstance(entry.get(f), dict) for n in entry[f]]
    meta = entry.get("peerDependenciesMeta")
    meta = meta if isinstance(meta, dict) else {}
    peer = entry.get("peerDependencies") if peers else None
    for name in peer if isinstance(peer, dict) else ():
        info = meta.get(name)
        if not (isinstance(info, dict) and info.get("optional")):
            names.append(str(name))
    return names


# The flags npm writes on a package-lock.json entry, and the edge types that keep each set
# (arborist's calc-dep-flags: an edge of another type from an entry without the flag unsets
# it on the target).
_NPM_FLAGS = ("dev", "optional", "devOptional", "peer")
_NPM_KEEPS = {
    "dev": ("dev",),
    "optional": ("optional", "peerOptional"),
    "devOptional": ("dev", "optional", "peerOptional"),
    "peer": ("peer", "peerOptional"),
}


def npm_lock_flags(packages: dict[str, Any], package: dict[str, Any], peers: bool) -> str | None:
    """The first entry of a package-lock.json's ``packages`` map whose flags (dev, optional,
    devOptional, peer; extraneous: not reached, npm prunes it) npm install would write
    otherwise, or None. npm 7 and later load the lock with every flag set and compute them
    again from ``package`` (the root) down, as arborist's calc-dep-flags does (a depth-first
    walk over a stack, so its order matters); a lock whose flags were left otherwise (dev
    dependencies that became a peer's) is rewritten: built with npm 10, a real React app's
    lock had 113 entries marked dev that npm wrote without. The rule agrees with npm 10 on
    the 53 real locks it kept and the 4 whose flags it changed. None (not judged) for a lock
    with links (workspaces)."""
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    if any(entry.get("link") for entry in entries.values()):
        return None
    entries[""] = package
    edges = {path: _npm_edges(entries, path, peers) for path in entries}
    flags = _npm_calc_flags(edges)
    for path, entry in entries.items():
        if path and flags[path] != {f for f in (*_NPM_FLAGS, "extraneous") if entry.get(f)}:
            return path
    return None


def _npm_edges(entries: dict[str, Any], path: str, peers: bool) -> list[tuple[str, str]]:
    """An entry's edges (target path, type) in arborist's order: peers, then dependencies,
    optionalDependencies and (the root's) devDependencies, a later type taking an earlier
    name's place; targets looked up as Node resolves them, missing ones left out."""
    entry = entries[path]
    types: dict[str, str] = {}
    meta = (
        entry.get("peerDependenciesMeta")
        if isinstance(entry.get("peerDependenciesMeta"), dict)
        else {}
    )
    peer = (
        entry.get("peerDependencies")
        if peers and isinstance(entry.get("peerDependencies"), dict)
        else {}
    )
    for optional in (False, True):
        for name in peer:
            info = meta.get(name)
            if bool(isinstance(info, dict) and info.get("optional")) is optional:
                types[str(name)] = "peerOptional" if optional else "peer"
    fields = [("dependencies", "prod"), ("optionalDependencies", "optional")]
    for field, kind in fields + ([("devDependencies", "dev")] if not path else []):
        declared = entry.get(field)
        for name in declared if isinstance(declared, dict) else ():
            types[str(name)] = kind
    found = [(_npm_target(entries, path, name), kind) for name, kind in types.items()]
    return [(target, kind) for target, kind in found if target is not None and target != path]


def _npm_target(packages: dict[str, Any], path: str, name: str) -> str | None:
    """The entry Node's lookup from the folder ``path`` finds for ``name`` (None: none)."""
    while True:
        target = posixpath.join(path, "node_modules", name)
        if target in packages:
            return target
        if not path:
            return None
        path = _npm_parent(path)


def _npm_calc_flags(edges: dict[str, list[tuple[str, str]]]) -> dict[str, set[str]]:
    """Each entry's flags as npm writes them, computed as calc-dep-flags does."""
    flags = {path: {*_NPM_FLAGS, "extraneous"} for path in edges}
    flags[""] = set()

    def unset(node: str, flag: str) -> None:
        stack = [node] if flag in flags[node] else []
        while stack:
            here = stack.pop()
            flags[here].discard("extraneous")
            flags[here].discard(flag)
            follow = ("prod",) if flag == "peer" else ("prod", "peer")
            stack.extend(t for t, kind in edges[here] if flag in flags[t] and kind in follow)

    def step(node: str) -> None:
        flags[node].discard("extraneous")
        for flag in ("extraneous", "dev", "peer", "devOptional", "optional"):
            parent = node
            while flag not in flags[node] and parent and (parent == node or flag in flags[parent]):
                flags[parent].discard(flag)
                parent = _npm_parent(parent)
        for target, kind in edges[node]:
            flags[target].discard("extraneous")
            for flag in [
                f
                for f in ("peer", "devOptional", "dev", "optional")
                if _npm_unsets(flags[node], kind, f)
            ]:
                unset(target, flag)

    seen: set[str] = set()
    stack = [""]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            step(node)
            stack.extend(target for target, _ in edges[node])
    return {path: _npm_written(found) for path, found in flags.items()}


def _npm_unsets(flags: set[str], kind: str, flag: str) -> bool:
    """Whether an edge of ``kind`` from an entry with ``flags`` unsets ``flag`` on its target
    (calc-dep-flags' unsetDev, unsetOpt, unsetDevOpt, unsetPeer): the entry lacks the flag
    and the edge's type does not carry it; leaving the devOptional tree (the entry in
    neither the dev nor the optional tree nor their overlap, by an edge neither dev nor
    optional) unsets dev and optional too."""
    leaves = not {"dev", "optional", "devOptional"} & flags and kind in ("prod", "peer")
    if flag == "devOptional":
        return leaves
    plain = flag not in flags and kind not in _NPM_KEEPS[flag]
    return plain or (leaves and flag != "peer")


def _npm_parent(path: str) -> str:
    """The folder an entry's node_modules sits in (its resolveParent): "" for the root."""
    head, sep, _ = path.rpartition("node_modules/")
    return head.rstrip("/") if sep else ""


def _npm_written(flags: set[str]) -> set[str]:
    """The flags npm writes: extraneous alone, devOptional only without dev and optional."""
    if "extraneous" in flags:
        return {"extraneous"}
    if flags & {"dev", "optional"}:
        return flags - {"devOptional"}
    return set(flags)


# The objects of an ``overrides`` tree msdfix follows: each is a walk over the lock's
# entries, so 10,000 nested ones over a lock of thousands took minutes (real trees hold a
# few); with more, the lock may not follow them.
MAX_NESTED_OVERRIDES = 32


def npm_override_unmet(packages: dict[str, Any], package: dict[str, Any]) -> str | None:
    """Why the lock may not follow package.json's overrides (None: it does, or there are
    none): an ``overrides`` key whose version the lock's entries of that name do not all
    satisfy, or more than ``MAX_NESTED_OVERRIDES`` objects: npm install resolves them again
    and rewrites the lock, which records no overrides of its own (built with npm 10: an
    override of ms changed from 2.1.2 to 2.1.3 after the lock, npm wrote 2.1.3 in it). A
    nested one (``{"a": {"ajv": "^8"}}``) applies to the entries a's entries reach; a spec
    ``npm:<the same name>@range`` is that range (npm kept a lock whose ms met
    ``npm:ms@2.1.3``). A key node-semver's ranges cannot judge (a ``name@range`` selector, a
    tag, an alias of another package) counts as unmet; ranges are read as node-semver reads
    them (npm 10 kept locks whose ms 2.1.3 met ``>=2.1.0 <3`` and ``2.0.0 || 2.1.3``)."""
    overrides = package.get("overrides")
    entries = {k: v for k, v in packages.items() if isinstance(v, dict)}
    everywhere = set(entries)  # (one set for every top-level key: a copy each was quadratic)
    todo = [(k, v, everywhere) for k, v in overrides.items()] if isinstance(overrides, dict) else []
    by_name = _npm_by_name(entries)
    nested = 0
    while todo:
        key, spec, scope = todo.pop()
        name = str(key)
        nested += isinstance(spec, dict)
        if nested > MAX_NESTED_OVERRIDES:
            return (
                f"overrides nest more than {MAX_NESTED_OVERRIDES} objects, more than msdfix follows"
            )
        named = by_name.get(name, set()) & scope
        if isinstance(spec, dict):
            below = _npm_reached(entries, named)
            todo.extend(
                (key if k == "." else k, v, scope if k == "." else below) for k, v in spec.items()
            )
            continue
        if isinstance(spec, str) and not _override_spec(spec):
            continue  # the edges keep their own specs, which npm_lock_invalid reads
        if isinstance(spec, str) and spec.startswith("$"):
            spec = _root_spec(package, spec[1:])
        if isinstance(spec, str) and spec.startswith(f"npm:{name}@"):
            spec = spec[len(f"npm:{name}@") :]  # an alias of the package itself: its range
        if (
            not isinstance(spec, str)
            or "@" in name[1:]
            or any(semver_satisfies(entries[p].get("version"), spec) is not True for p in named)
        ):
            return f"its {name} entries may not follow package.json's overrides"
    return None


def _npm_by_name(entries: dict[str, Any]) -> dict[str, set[str]]:
    """The lock entries installed as each name (``node_modules/NAME`` or ``.../node_modules/NAME``),
    found once: a scan of the entries per override key took time quadratic in the two."""
    found: dict[str, set[str]] = {}
    for path in entries:
        head, mark, name = path.rpartition("node_modules/")
        if mark and (not head or head.endswith("/")):
            found.setdefault(name, set()).add(path)
    return found


def _npm_reached(entries: dict[str, Any], start: set[str]) -> set[str]:
    """The entries the ``start`` entries' dependencies reach (not ``start`` itself)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for target, _ in _npm_edges(entries, stack.pop(), True):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _root_spec(package: dict[str, Any], name: str) -> str | None:
    """The spec package.json's own dependency ``name`` has (an override's ``$name``)."""
    for field in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        declared = package.get(field)
        if isinstance(declared, dict) and isinstance(declared.get(name), str):
            return str(declared[name])
    return None


def npm_lock_libc(packages: dict[str, Any]) -> str | None:
    """The first entry of a package-lock.json's ``packages`` map holding ``libc``, which npm
    before 11.11 does not write (npm/cli#8514, fixed by #9025 in 11.11.0: ``libc`` was
    missing from arborist's pkgMetaKeys), so its install drops the field and rewrites the
    lock (built with npm 10.8: a lock written by a newer npm, ten entries with ``libc``,
    84,561 bytes in the context, 84,155 in the image). Which npm a node image holds is not
    known from its tag, so such a lock is read as rewritten."""
    for path, entry in packages.items():
        if path and isinstance(entry, dict) and "libc" in entry:
            return path
    return None


def npm_lock_name(package: dict[str, Any], folder: str) -> str | None:
    """The name npm writes at the top of package-lock.json: package.json's, or where it has
    none the base name of the project folder (built with npm 10: a lock named "foo" under a
    package.json without a name was rewritten as "app" in /app, "my-proj" in /srv/my-proj).
    None when the folder is not known (a variable left in it, or /)."""
    name = package.get("name")
    if name:
        return str(name)
    base = posixpath.basename(posixpath.normpath(folder)) if folder.startswith("/") else ""
    return base if base and "$" not in folder else None


# json-parse-even-better-errors' format detection, which npm uses on package.json: the first
# line break (newline) and the next line's leading white space (indent).
_JSON_FORMAT = re.compile(r"\s*[{\[]((?:\r?\n)+)([ \t]*)")


def npm_lock_reformatted(lock: str, package: str) -> bool:
    """Whether npm install writes package-lock.json in another layout than ``lock``: npm
    writes it with package.json's indent and line break (two spaces and LF when package.json
    shows none) and one line break at the end. Built with npm 10: a lock indented by 4 under
    a package.json indented by 2, one with CRLF under an LF package.json (2,306 bytes became
    2,232), one without its last line break were rewritten; CRLF or tabs in both were kept.
    A lock on one line (no npm writes one) is not judged here."""
    found = _JSON_FORMAT.match(package.lstrip("\ufeff"))
    newline = (found.group(1) if found else "") or "\n"
    indent = (found.group(2) if found else "") or "  "
    lock = lock.lstrip("\ufeff")
    if "\n" not in lock.rstrip():  # one line: not npm's output, left to the other checks
        return False
    if not lock.startswith("{" + newline + indent + '"') or not lock.endswith("}" + newline):
        return True
    if lock.endswith(newline + newline):
        return True
    lines = lock.count("\n")
    return lock.count("\r\n") != (lines if newline == "\r\n" else 0)


# A RUN that may put another npm in the image: ``npm install -g npm@10``, ``npm i -g npm``.
# Read from the first ``npm`` of each command (an atomic group): tried from every ``npm`` of a
# long command, it took time quadratic in the command (``npm-`` 250,000 times: minutes).
_NPM_UPGRADE = re.compile(
    r"\bnpm@|(?:^|(?<=[\n;&|]))(?>[^\n;&|]*?\bnpm\b)[^\n;&|]*[ \t]npm(?![\w@.-])"
)


def npm_keeps_v1_lock(image: str, tag: str | None, runs: list[str]) -> bool:
    """Whether the npm that runs keeps a lockfileVersion 1 package-lock.json as it is: npm 7
    and later rewrite it as version 3 ("npm warn old lockfile ... This is a one-time fix-up",
    built with npm 10: 347 bytes became 507), npm 6 keeps it. Only the node image with a tag
    whose major is 14 or less (npm 6) keeps it, when no earlier RUN (``runs``) installs
    another npm."""
    major = re.match(r"(\d+)(?:[.-]|$)", tag or "")
    if image != "node" or major is None or decimal(major.group(1)) > 14:
        return False
    return not any(_NPM_UPGRADE.search(text) for text in runs)


def dev_flagged_peer(lock: object) -> str | None:
    """``"<peer>, a peer of <package>"`` for a production package of an npm lock (v2+) whose
    required peer resolves to an entry the lock flags dev, or None.

    npm flags what only dev dependencies reach; with ``legacy-peer-deps`` it ignores peer
    edges, so such a peer is flagged dev and ``npm ci --omit=dev`` removes it (the package
    then fails to load it: ``Cannot find module 'graphql'``)."""
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return "the lock lists no packages"
    for key, meta in packages.items():
        if not key or not isinstance(meta, dict) or meta.get("dev") or meta.get("devOptional"):
            continue
        peers = meta.get("peerDependencies")
        optional = meta.get("peerDependenciesMeta")
        optional = optional if isinstance(optional, dict) else {}
        for peer in peers if isinstance(peers, dict) else {}:
            meta = optional.get(peer)  # npm writes an object; anything else marks nothing
            if isinstance(meta, dict) and meta.get("optional"):
                continue
            entry = _resolve_locked(packages, key, peer)
            if isinstance(entry, dict) and (entry.get("dev") or entry.get("devOptional")):
                return f"{peer}, a peer of {key.rsplit('node_modules/', 1)[-1]}"
    return None


def _resolve_locked(packages: dict[str, Any], key: str, name: str) -> object:
    """The lock entry node's resolution finds for ``name`` required from package ``key``."""
    base = key
    while True:
        found = packages.get(f"{base}/node_modules/{name}" if base else f"node_modules/{name}")
        if found is not None or not base:
            return found
        cut = base.rfind("/node_modules/")
        base = base[:cut] if cut >= 0 else ""
