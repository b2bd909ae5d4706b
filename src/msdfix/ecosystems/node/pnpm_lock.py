"""pnpm-lock.yaml: its format per pnpm major, staleness, what a frozen install builds."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from msdfix.ecosystems.base import PackageManager, positionals
from msdfix.ecosystems.node.npm_config import npmrc_settings
from msdfix.files import YamlError, decimal, load_yaml
from msdfix.model.context import BuildContext

_PNPM_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")


# The lockfileVersion each pnpm major writes, and rewrites a lock of another version as
# (built with pnpm 7.33.7, 8.15.9 and 9.15.9, each over the three's locks of one project:
# each kept only its own lock's bytes; pnpm 9 wrote 9.0 over 5.4 and 6.0, pnpm 8 6.0 over
# 5.4 and 9.0, pnpm 7 5.4 over 9.0 and another 6.0; pnpm 10 wrote 9.0 as 9 did).
_PNPM_LOCK_FORMATS = {7: "5.4", 8: "6.0", 9: "9.0", 10: "9.0"}
# A RUN that puts a pnpm in the image: ``pnpm@SPEC`` (npm i -g, corepack prepare/use, pnpm
# add -g), or an install of ``pnpm`` with no version (the registry's latest: unknown). The
# install is read from the first manager and the first verb of each command (atomic groups):
# tried from each of them, it took time cubic in a long command (``pnpm/`` 200,000 times).
_PNPM_SET = re.compile(
    r"""\bpnpm@([^\s'";&|]+)"""
    r"""|(?:^|(?<=[\n;&|]))(?>[^\n;&|]*?\b(?:npm|yarn|pnpm|corepack)\b)"""
    r"""(?>[^\n;&|]*?[ \t](?:add|i|install|prepare|use)\b)[^\n;&|]*[ \t]pnpm(?![\w@./-])"""
)


def pnpm_lock_format(runs: Sequence[str], package: object) -> str | None:
    """The lockfileVersion the pnpm that runs writes (None: not known): the last pnpm a RUN
    before the install (``runs``) puts in the image (``npm i -g pnpm@8``, ``corepack
    prepare pnpm@9.1.0 --activate``), else package.json's ``packageManager: pnpm@X``, which
    corepack runs. A pnpm installed without a version, a tag or a variable is not known."""
    spec: str | None = None
    for text in runs:
        for match in _PNPM_SET.finditer(text):
            spec = match.group(1) or ""
    if spec is None and isinstance(package, dict):
        pin = package.get("packageManager")
        if isinstance(pin, str) and pin.startswith("pnpm@"):
            spec = pin[5:]
    major = re.match(r"(?:latest-|[~^=v]?)(\d+)(?:[.+-]|$)", spec or "")
    return _PNPM_LOCK_FORMATS.get(decimal(major.group(1))) if major else None


# .npmrc keys pnpm records in the lock's ``settings:`` block (pnpm 8 to 10); a lock whose
# block holds another value is rewritten by an install that is not frozen.
_PNPM_LOCK_SETTINGS = (
    "auto-install-peers", "exclude-links-from-lockfile", "peers-suffix-max-length",
    "inject-workspace-packages", "dedupe-peer-dependents",
)  # fmt: skip


def pnpm_settings_stale(
    lock: str, npmrc: str | None, env: Mapping[str, str], runs: Sequence[str]
) -> str | None:
    """A lock ``settings:`` key that the project's .npmrc or an ``npm_config_*`` variable
    sets to another value (or that the lock does not hold), which a pnpm install that is not
    frozen writes into the lock (built, pnpm 8.15.9: with ``auto-install-peers=false`` in
    .npmrc over a lock of ``autoInstallPeers: true`` it wrote false, and the reordered
    install's image kept the context's lock), or that an earlier RUN names (``pnpm config
    set``, not read). None when every set key agrees."""
    named = next((k for k in _PNPM_LOCK_SETTINGS for r in runs if k in r), None)
    if named is not None:
        return f"a RUN before it names {named}, which msdfix does not compare with the lock"
    block = re.search(r"(?m)^settings:\n((?:[ \t]+\S.*\n?)*)", lock)
    held = dict(re.findall(r"(?m)^[ \t]+(\w+):[ \t]*['\"]?([^'\"\s]*)", block[1])) if block else {}
    values = {k: v[-1] for k, v in npmrc_settings(npmrc or "").items() if v}
    for key in _PNPM_LOCK_SETTINGS:
        variable = "npm_config_" + key.replace("-", "_")
        value = env.get(variable, env.get(variable.upper(), values.get(key)))
        camel = re.sub(r"-(\w)", lambda m: m[1].upper(), key)
        if value is not None and held.get(camel) != value.strip().lower():
            return f"{key} is set to {value} where the lock's settings hold {held.get(camel)}"
    return None


def pnpm_lock_stale(lock: str, package: object, writes: str | None) -> str | None:
    """Why pnpm's install that is not frozen writes a new pnpm-lock.yaml, or None when in
    step: a lockfileVersion other than ``writes``, the one the pnpm that runs writes
    (``pnpm_lock_format``; None: not known), or the root importer's specifiers (lockfile 5:
    its ``specifiers:``; 6 and 9: each dependency's ``specifier:``, under ``importers: .:``
    where there is one) are not package.json's dependencies, devDependencies and
    optionalDependencies (built with pnpm 8.15.9: ms changed from 2.1.2 to 2.1.3 after the
    lock, pnpm wrote 2.1.3 in it, and a moved install's image kept the context's lock), or
    either sets overrides, or the lock has catalogs (built with pnpm 10.34.9: a catalog's
    ms changed in pnpm-workspace.yaml, pnpm wrote it into the lock, the moved install's
    image kept the old one) or dependenciesMeta (pnpm 9.15.9 wrote package.json's into the
    importer), which msdfix does not compare. A lock with other importers (a
    workspace) or one msdfix cannot read this way counts as stale."""
    if not isinstance(package, dict):
        return None
    if writes is None:
        return "msdfix does not know which pnpm runs, and each major rewrites another's lock"
    try:
        data = load_yaml(lock)
    except YamlError as exc:
        return f"pnpm ignores a lock it cannot read as YAML and writes a new one ({exc})"
    version = pnpm_lock_version(data)
    if version != writes:
        return f"the pnpm that runs writes lockfileVersion {writes} over its {version or 'none'}"
    wanted: dict[str, object] = {}
    for field in _PNPM_FIELDS:
        declared = package.get(field)
        wanted.update(declared if isinstance(declared, dict) else {})
    locked = _pnpm_root_specifiers(data)
    if locked is None:
        return "msdfix does not read its importers"
    if locked != wanted:
        return "its specifiers are not package.json's"
    settings = package.get("pnpm")
    overrides = settings.get("overrides") if isinstance(settings, dict) else None
    if overrides or package.get("resolutions") or "overrides" in data:
        return "overrides, which msdfix does not compare"
    if "catalogs" in data:
        return "catalogs, which msdfix does not compare"
    if package.get("dependenciesMeta") or _holds_key(data, "dependenciesMeta"):
        return "dependenciesMeta, which msdfix does not compare"
    return None


def pnpm_lock_version(lock: object) -> str | None:
    """A pnpm-lock.yaml's ``lockfileVersion`` as written (``5.4``, ``9.0``), given its text
    or its parsed document; None when there is none or the YAML does not read."""
    if isinstance(lock, str):
        try:
            lock = load_yaml(lock)
        except YamlError:
            return None
    version = lock.get("lockfileVersion") if isinstance(lock, dict) else None
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        return None
    return str(version)


def _pnpm_root_specifiers(lock: dict[str, Any]) -> dict[str, str] | None:
    """The root importer's specifiers of a parsed pnpm-lock.yaml (None: not read): lockfile
    5's ``specifiers:``, else each dependency's ``specifier:`` (6 and 9), under ``importers:
    .:`` where there is one."""
    root: object = lock
    if "importers" in lock:
        importers = lock["importers"]
        if not isinstance(importers, dict) or set(importers) != {"."}:
            return None
        root = importers["."]
    if not isinstance(root, dict):
        return None
    if "specifiers" in root:  # lockfile 5
        return _strings(root["specifiers"] or {})
    found: dict[str, object] = {}
    for field in _PNPM_FIELDS:
        entries = root.get(field) or {}
        if not isinstance(entries, dict):
            return None
        for name, entry in entries.items():
            found[name] = entry.get("specifier") if isinstance(entry, dict) else None
    return _strings(found)


def _strings(data: object) -> dict[str, str] | None:
    """``data`` when it maps strings to strings (None otherwise)."""
    if not isinstance(data, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return None
    return data


def _holds_key(data: object, key: str) -> bool:
    """True when a mapping below the top of a parsed YAML document has ``key``."""
    stack = list(data.values()) if isinstance(data, dict) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def pnpm_frozen(args: Sequence[str]) -> bool:
    """pnpm's install is frozen by its arguments: the last of ``--frozen-lockfile``, ``=true``
    or ``=false`` and ``--no-frozen-lockfile`` turns it on (built, pnpm 8.15.9, 9 and 10 over
    a stale lock: ``--frozen-lockfile=true`` failed ERR_PNPM_OUTDATED_LOCKFILE as the bare
    flag does). ``CI=true``, pnpm's frozen default, does not count: pnpm 10 under it rewrote
    pnpm 8's 6.0 lock, where ``--frozen-lockfile`` failed (built). ``--frozen-lockfile=0``
    (any value but true/false) stays unfrozen on purpose: nopt sets the Boolean and keeps the
    value as an operand (nopt-lib.js ``parse``), and pnpm runs ``install 0`` as ``add 0``."""
    on = False
    for arg in args:
        if arg in ("--frozen-lockfile", "--frozen-lockfile=true"):
            on = True
        elif arg in ("--no-frozen-lockfile", "--frozen-lockfile=false"):
            on = False
    return on


# pnpm-lock.yaml before v9 marks each package that runs an install script or has a
# binding.gyp (and every optional one) ``requiresBuild: true``; v9 dropped the field.
_PNPM_LOCK_VERSION = re.compile(r"""^lockfileVersion:\s*['"]?(\d+)""", re.M)
_PNPM_DEPENDENCIES = re.compile(r"^[^\S\n]*(?:dev|optional)?[dD]ependencies:", re.M)


def may_run_install_scripts(
    context: BuildContext, manager: PackageManager, args: list[str]
) -> bool:
    """True unless a pnpm command is shown to build nothing the store keeps: ``pnpm fetch``
    (downloads only), or a frozen install of the context's one lock file that lists no
    package, or, before v9, only registry packages none of which ``requiresBuild``."""
    words = positionals(args, frozenset(manager.value_options))
    if words[:1] == ["fetch"]:
        return False
    if words not in (["install"], ["i"]) or not pnpm_frozen(args):
        return True  # adds packages, or may re-resolve (not in the lock file)
    if any(a in manager.global_markers for a in args):
        return True
    locks = context.glob("*pnpm-lock.yaml") if context.present else []
    text = context.read_text(locks[0]) if len(locks) == 1 else None
    version = _PNPM_LOCK_VERSION.search(text or "")
    if text is None or version is None:
        return True
    entries = _pnpm_packages(text)
    if entries is None:
        return _PNPM_DEPENDENCIES.search(text) is not None  # no packages: nothing to build
    if decimal(version.group(1)) >= 9:
        return bool(entries)  # the lock no longer says which packages build
    # git, tarball and directory sources (no integrity) are built when fetched
    return any("integrity:" not in e or "requiresBuild: true" in e for e in entries)


def _pnpm_packages(text: str) -> list[str] | None:
    """The entries of a pnpm lock file's ``packages:`` section (None: it has none), each as
    its text; an entry msdfix cannot delimit comes back as a marker that proves nothing."""
    lines = text.splitlines()
    if "packages:" not in lines:
        return None
    entries: list[str] = []
    for line in lines[lines.index("packages:") + 1 :]:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            continue
        if indent == 0:
            break
        if indent == 2:
            entries.append("")
        elif indent < 2 or not entries or line.startswith("\t"):
            return ["unreadable"]
        else:
            entries[-1] += line.strip() + "\n"
    return entries
