"""What a project's package.json and lock files say it depends on."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

from msdfix.model.context import BuildContext


def dependency_config(
    context: BuildContext, rel: str, deps: NodeDependencies | None, manifests: tuple[str, ...]
) -> str | None:
    """A file or folder of the project in ``rel`` named for a dependency whose install may run
    a script (``.puppeteerrc.cjs``, ``puppeteer.config.js``, ``.huskyrc``, ``prisma/``), as
    ``"<path> (read by <package>'s install script)"``, or None.

    npm, yarn and pnpm run the install scripts of dependencies too, with INIT_CWD at the
    project, and such scripts look their configuration up there (cosmiconfig's
    ``.<name>rc*``, ``<name>.config.*``, ``.config/<name>rc*``; Prisma's ``prisma/`` schema):
    an install that sees only the manifests does something else (puppeteer downloads Chrome
    that ``skipDownload`` turned off). The packages are those an npm lock v2+ marks
    ``hasInstallScript``; without one, every direct dependency (which run scripts is unknown).
    """
    if deps is None:
        return None
    names = deps.install_scripts if deps.scripts_known else {*deps.production, *deps.dev}
    stems: dict[str, str] = {}
    for name in sorted(names):
        scope, _, bare = name.rpartition("/")
        keys = (_stem(scope), _stem(scope + bare)) if scope.startswith("@") else (_stem(bare),)
        for key in keys:
            if len(key) > 2:
                stems.setdefault(key, name)
    if not stems:
        return None
    prefix = "" if rel in ("", ".") else rel + "/"
    seen: set[str] = set()
    for path in context.view.under(rel if prefix else "."):
        parts = path[len(prefix) :].split("/")
        entries = [parts[0]] + (parts[1:2] if parts[0] == ".config" and len(parts) > 1 else [])
        for depth, entry in enumerate(entries):
            shown = prefix + "/".join(parts[: depth + 1])
            if shown in seen or (depth == 0 and entry in manifests):
                continue
            seen.add(shown)
            key = _stem(entry.lstrip(".").split(".")[0])
            found = stems.get(key) or (stems.get(key[:-2]) if key.endswith("rc") else None)
            if found is not None:
                return f"{shown} (read by {found}'s install script)"
    return None


def _stem(name: str) -> str:
    """``name`` lower-cased with everything but letters and digits left out."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class NodeDependencies:
    """What a project's package.json and lock files say about the packages an install brings."""

    production: dict[str, object]  # dependencies and optionalDependencies: name -> spec
    dev: dict[str, object]  # devDependencies
    locked: frozenset[str] = frozenset()  # every package a lock file names
    locked_git: tuple[str, ...] = ()  # packages a lock file resolves from git
    # Packages whose install runs a script, complete only when ``scripts_known`` (an npm
    # lock file v2+ marks them with hasInstallScript).
    install_scripts: frozenset[str] = frozenset()
    scripts_known: bool = False
    unknown: str | None = None  # why the lock files' package list cannot be read
    # Packages an npm lock file installs at the top of node_modules for production (not
    # "dev"): what ``npm ci --omit=dev`` leaves a bare require() to find. None: no npm lock.
    hoisted: frozenset[str] | None = None
    # Programs such a production package links into node_modules/.bin (an npm lock file v2+
    # records each package's ``bin``): ``sirv`` is sirv-cli's, not a package named sirv.
    production_bins: frozenset[str] = frozenset()

    @property
    def names(self) -> set[str]:
        """Every package the install may bring: direct ones and the locked ones."""
        return {*self.production, *self.dev, *self.locked}


# A yarn.lock / pnpm-lock.yaml entry: ``"name@range":``, ``/name@1.0.0:``, ``name@1.0.0:``.
# [^\S\n]*, not \s*: from every line start \s* ran over all the blank lines below and back
# (quadratic in a run of them); the entry's own line gives the same name.
_LOCK_ENTRY = re.compile(r'^[^\S\n]*"?/?((?:@[\w.-]+/)?[\w.-]+)@', re.M)


def read_dependencies(context: BuildContext, rel_dir: str = "") -> NodeDependencies | None:
    """The dependencies of the project in context directory ``rel_dir`` ('' is the root), from
    package.json and every lock file there; None when package.json is unreadable."""

    def path(name: str) -> str:
        return posixpath.join(rel_dir, name) if rel_dir else name

    package = context.read_json(path("package.json"))
    if not isinstance(package, dict):
        return None
    production: dict[str, object] = {}
    for key in ("dependencies", "optionalDependencies"):
        if isinstance(package.get(key), dict):
            production.update(package[key])
    dev = package.get("devDependencies")
    locked: set[str] = set()
    git: list[str] = []
    scripts: set[str] = set()
    known = False
    unknown: str | None = None
    hoisted: set[str] | None = None
    bins: set[str] = set()
    for name in ("package-lock.json", "npm-shrinkwrap.json"):
        lock = context.read_json(path(name))
        packages = lock.get("packages") if isinstance(lock, dict) else None
        if isinstance(packages, dict):
            known = True
            hoisted = set() if hoisted is None else hoisted
            for key, meta in packages.items():
                if not key or not isinstance(meta, dict):
                    continue
                dep = key.rsplit("node_modules/", 1)[-1]
                locked.add(dep)
                if (
                    key == f"node_modules/{dep}"
                    and not meta.get("dev")
                    and not meta.get("devOptional")
                ):
                    hoisted.add(dep)
                    if isinstance(meta.get("bin"), dict):
                        bins.update(b for b in meta["bin"] if isinstance(b, str))
                if meta.get("hasInstallScript"):
                    scripts.add(dep)
                resolved = meta.get("resolved")
                if isinstance(resolved, str) and resolved.startswith(("git+", "git:", "github:")):
                    git.append(dep)
        elif isinstance(lock, dict) and isinstance(lock.get("dependencies"), dict):
            locked |= _v1_names(lock["dependencies"])
            hoisted = (hoisted or set()) | {
                n
                for n, meta in lock["dependencies"].items()
                if isinstance(meta, dict) and not meta.get("dev")
            }
        elif not isinstance(lock, dict) and context.exists(path(name)):
            unknown = f"{name} unreadable (not JSON, or over 1 MiB)"
    for name in ("yarn.lock", "pnpm-lock.yaml"):
        text = context.read_text(path(name))
        if text is None and context.exists(path(name)):
            unknown = f"{name} unreadable (over 1 MiB)"
        locked.update(_LOCK_ENTRY.findall(text or ""))
    bun = context.read_text(path("bun.lock"))
    if bun is not None:
        found = _bun_names(bun)
        if found is None:
            unknown = "bun.lock unreadable"
        else:
            locked |= found
    elif context.exists(path("bun.lockb")):
        unknown = "bun.lockb is binary"
    return NodeDependencies(
        production,
        dict(dev) if isinstance(dev, dict) else {},
        frozenset(locked),
        tuple(git),
        frozenset(scripts),
        known,
        unknown,
        frozenset(hoisted) if hoisted is not None else None,
        frozenset(bins),
    )


# Modules every Node has (``require('fs')``, ``node:fs``): no install brings them.
BUILTIN_MODULES = frozenset(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys test timers
    tls trace_events tty url util v8 vm wasi worker_threads zlib""".split()
)


def _v1_names(dependencies: dict[str, object]) -> set[str]:
    """Package names of an npm lock file v1 ``dependencies`` tree."""
    names = set()
    for name, meta in dependencies.items():
        names.add(name)
        nested = meta.get("dependencies") if isinstance(meta, dict) else None
        if isinstance(nested, dict):
            names |= _v1_names(nested)
    return names


def _bun_names(text: str) -> set[str] | None:
    """Package names of a text bun.lock (JSON with trailing commas), or None."""
    try:
        data = json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    packages = data.get("packages") if isinstance(data, dict) else None
    if not isinstance(packages, dict):
        return None
    names = set()
    for key, entry in packages.items():
        spec = entry[0] if isinstance(entry, list) and entry else None
        name = spec.rsplit("@", 1)[0] if isinstance(spec, str) and "@" in spec[1:] else None
        names.add(name or key.rsplit("/", 1)[-1])
    return names
