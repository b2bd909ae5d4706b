"""Whether a Python lock file is stale: uv.lock against pyproject.toml, uv's resolver
settings and ``uv sync``'s options; pdm.lock against its content hash."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from msdfix.ecosystems.python_markers import markers_agree
from msdfix.model.context import BuildContext

# A requirement as uv.lock records it: name, extras, specifier and marker, normalized.
_Req = tuple[str, tuple[str, ...], str, str]


def _pep508_key(spec: str, extra: str | None = None) -> _Req | None:
    """A PEP 508 requirement of pyproject.toml as uv.lock records it (an optional
    dependency's marker gains ``extra == '<name>'``); None when unreadable or a URL."""
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    if req.url:
        return None
    marker = str(req.marker) if req.marker else ""
    if extra is not None:
        marker = f"{marker} and extra == '{extra}'" if marker else f"extra == '{extra}'"
    return _req_key(req.name, req.extras, str(req.specifier), marker)


def _req_key(name: str, extras: object, specifier: str, marker: str) -> _Req | None:
    """The normalized form of one requirement (packaging's specifier set and marker text)."""
    try:
        spec = str(SpecifierSet(specifier))
        mark = str(Marker(marker)) if marker else ""
    except (InvalidSpecifier, InvalidMarker):
        return None
    spec = ",".join(sorted(spec.split(","))) if spec else ""
    if not isinstance(extras, (list, set)):
        return None
    names = tuple(sorted({canonicalize_name(str(e)) for e in extras}))
    return (canonicalize_name(name), names, spec, mark)


def _locked_key(entry: object) -> _Req | None:
    """A ``requires-dist`` entry of uv.lock as a requirement; None for one with a source
    (git, url, index, path: [tool.uv.sources]) or fields msdfix does not compare."""
    if not isinstance(entry, dict) or set(entry) - {"name", "specifier", "marker", "extras"}:
        return None
    return _req_key(
        str(entry.get("name")),
        entry.get("extras", []),
        str(entry.get("specifier", "")),
        str(entry.get("marker", "")),
    )


def _same_requirements(
    wanted: list[_Req] | None, locked: list[_Req] | None, python: object
) -> bool:
    """Whether two requirement lists are the same set as uv's ``satisfies`` compares them:
    name, extras and specifier equal, markers agreeing within the lock's requires-python
    (``markers_agree``); False when either is unknown."""
    if wanted is None or locked is None:
        return False
    return _covered(wanted, locked, python) and _covered(locked, wanted, python)


def _covered(reqs: list[_Req], others: list[_Req], python: object) -> bool:
    """Whether every requirement of ``reqs`` has one in ``others`` that uv reads as equal."""
    return all(
        any(r[:3] == o[:3] and markers_agree(r[3], o[3], python) for o in others) for r in reqs
    )


def _keys(specs: object, extra: str | None = None) -> list[_Req] | None:
    """Requirements of pyproject.toml as uv.lock records them; None when one is unknown."""
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        return None
    keys = [_pep508_key(s, extra) for s in specs]
    return None if None in keys else sorted(k for k in keys if k is not None)


def _locked_keys(entries: object) -> list[_Req] | None:
    """uv.lock's requirements (``requires-dist`` or a group); None when one is unknown."""
    if not isinstance(entries, list):
        return None
    keys = [_locked_key(e) for e in entries]
    return None if None in keys else sorted(k for k in keys if k is not None)


def _wanted_dist(project: dict[str, Any]) -> list[_Req] | None:
    """``[project]`` dependencies and optional dependencies as uv.lock's ``requires-dist``."""
    wanted = _keys(project.get("dependencies", []))
    extras = project.get("optional-dependencies", {})
    if wanted is None or not isinstance(extras, dict):
        return None
    for extra, specs in extras.items():
        more = _keys(specs, canonicalize_name(extra))
        if more is None:
            return None
        wanted += more
    return sorted(wanted)


def _wanted_groups(pyproject: dict[str, Any]) -> dict[str, list[_Req]] | None:
    """``[dependency-groups]`` (and uv's ``dev-dependencies`` as group ``dev``) as uv.lock's
    ``[package.metadata.requires-dev]``; None when a group includes another or is unread."""
    groups = pyproject.get("dependency-groups", {})
    uv = (pyproject.get("tool") or {}).get("uv") or {}
    if not isinstance(groups, dict) or not isinstance(uv, dict):
        return None
    wanted: dict[str, list[_Req]] = {}
    for group, specs in groups.items():
        keys = _keys(specs)
        if keys is None:
            return None
        wanted[canonicalize_name(group)] = keys
    if "dev-dependencies" in uv:
        keys = _keys(uv["dev-dependencies"])
        if keys is None:
            return None
        wanted["dev"] = sorted(wanted.get("dev", []) + keys)
    return wanted


def _uv_manifest_stale(uv: dict[str, Any], lock: dict[str, Any]) -> str | None:
    """Which of uv's constraint, override and build-constraint settings differs from the
    lock's ``[manifest]``; ``sources`` when [tool.uv.sources] is set (not compared)."""
    if "sources" in uv or "index" in uv:
        return "[tool.uv.sources] or [[tool.uv.index]] (which msdfix does not compare)"
    manifest = lock.get("manifest") or {}
    for setting, key in (
        ("constraint-dependencies", "constraints"),
        ("override-dependencies", "overrides"),
        ("build-constraint-dependencies", "build-constraints"),
    ):
        wanted = _keys(uv.get(setting, []))
        locked = _locked_keys(manifest.get(key, []) if isinstance(manifest, dict) else None)
        if not _same_requirements(wanted, locked, lock.get("requires-python")):
            return f"[tool.uv] {setting}"
    return None


def uv_lock_stale(
    pyproject: dict[str, Any],
    lock: dict[str, Any],
    settings: Mapping[str, str | None] | str | None = None,
) -> str | None:
    """What makes uv.lock out of step with pyproject.toml the way ``uv sync`` checks it
    (uv's ``Lock::satisfies``): the project entry's ``[package.metadata] requires-dist``
    against ``[project]`` dependencies and optional dependencies (name, extras, specifier,
    marker), ``requires-dev`` against the dependency groups, the lock's ``requires-python``,
    the project's version and uv's constraints. A plain ``uv sync`` then rewrites uv.lock,
    and ``uv run`` started from a copy without that write locks again at start (it failed
    offline: "failed to lookup address information", built for real with uv 0.4.30; with
    uv 0.9.5 a changed specifier, ``six>=1.10`` to ``>=1.15``, re-locked, and so did a
    changed requires-python, version, group, extra or constraint, built with uv 0.13.9;
    spacing did not). Markers are compared as uv compares them, within the lock's
    requires-python (``markers_agree``); the resolver ``settings`` (``uv_resolver_settings``,
    [tool.uv]'s without) against the lock's ``[options]``. None when in step or not a uv
    project."""
    project = pyproject.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        return None
    name = canonicalize_name(project["name"])
    entries = [p for p in lock.get("package", []) if isinstance(p, dict)]
    entry = next((p for p in entries if p.get("name") == name), None)
    metadata = entry.get("metadata") if entry else None
    if entry is None or not isinstance(metadata, dict):
        return None
    python = lock.get("requires-python")
    locked = _locked_keys(metadata.get("requires-dist", []))
    if not _same_requirements(_wanted_dist(project), locked, python):
        return "lists other dependencies than pyproject.toml"
    groups = _wanted_groups(pyproject)
    dev = metadata.get("requires-dev", {})
    locked_groups: dict[str, list[_Req] | None] | None = (
        {canonicalize_name(g): _locked_keys(v) for g, v in dev.items()}
        if isinstance(dev, dict)
        else None
    )
    if (
        groups is None
        or locked_groups is None
        or set(groups) != set(locked_groups)
        or not all(_same_requirements(v, locked_groups[g], python) for g, v in groups.items())
    ):
        return "lists other dependency groups than pyproject.toml"
    if _specifiers_differ(project.get("requires-python"), lock.get("requires-python")):
        return "has another requires-python than pyproject.toml"
    if _versions_differ(project, entry.get("version")):
        return "has another version of the project than pyproject.toml"
    uv = (pyproject.get("tool") or {}).get("uv") or {}
    if not isinstance(uv, dict):
        return "does not follow [tool.uv]"
    settings = uv_resolver_settings(uv, {}, []) if settings is None else settings
    if isinstance(settings, str):
        return f"may not follow {settings}"
    manifest = _uv_manifest_stale(uv, lock) or _uv_options_stale(settings, lock)
    return f"does not follow {manifest}" if manifest else None


def uv_sync_upgrades(args: list[str]) -> str | None:
    """The option of ``uv sync`` that upgrades the locked versions (``-U``, ``--upgrade``,
    ``-P``, ``--upgrade-package``): uv then locks again and rewrites uv.lock even where it
    is in step (built with uv 0.13.9: a lock resolved with ``--exclude-newer 2020-01-01``
    was rewritten by ``uv sync -U``; ``--refresh`` and ``--reinstall`` left it)."""
    for arg in args:
        if arg in ("-U", "--upgrade", "-P", "--upgrade-package") or arg.startswith(
            ("--upgrade-package=", "-P")
        ):
            return arg.split("=", 1)[0]
    return None


# uv's resolver settings uv.lock records in ``[options]``: the setting (in [tool.uv] or
# uv.toml, ``--<setting>``, ``UV_<SETTING>``), its key in the lock and its default, which
# uv does not write (a lock resolved with all three defaults set has no [options]).
_UV_OPTIONS = {
    "resolution": ("resolution-mode", "highest"),
    "prerelease": ("prerelease-mode", "if-necessary-or-explicit"),
    "fork-strategy": ("fork-strategy", "requires-python"),
    "exclude-newer": ("exclude-newer", None),
}


def uv_resolver_settings(
    config: Mapping[str, Any], env: Mapping[str, str | None], args: list[str]
) -> dict[str, str | None] | str:
    """The resolver settings a ``uv sync`` runs with, as uv takes them: its option
    (``--resolution lowest``), else the environment (``UV_RESOLUTION``), else the project's
    configuration ``config`` (uv.toml beside pyproject.toml, which replaces [tool.uv]; none
    with ``--no-config`` or ``UV_NO_CONFIG``). A str says which is unknown: a build
    argument without a value, or a configuration file named elsewhere
    (``UV_CONFIG_FILE``, ``--config-file``)."""
    if "--no-config" in args or str(env.get("UV_NO_CONFIG")).lower() in ("1", "true"):
        config = {}
    elif "UV_CONFIG_FILE" in env or _uv_option(args, "--config-file") is not None:
        return "a configuration file named by UV_CONFIG_FILE or --config-file"
    settings: dict[str, str | None] = {}
    for setting in _UV_OPTIONS:
        var = "UV_" + setting.upper().replace("-", "_")
        value = _uv_option(args, f"--{setting}")
        if value is None and var in env:
            if env[var] is None:
                return f"{var} (a value msdfix does not know)"
            value = env[var]
        elif value is None and config.get(setting) is not None:
            value = str(config[setting])
        settings[setting] = value
    return settings


def _uv_option(args: list[str], name: str) -> str | None:
    """The value of the last ``name value`` or ``name=value`` of a uv command."""
    found = None
    for at, arg in enumerate(args):
        if arg == name and at + 1 < len(args):
            found = args[at + 1]
        elif arg.startswith(f"{name}="):
            found = arg.split("=", 1)[1]
    return found


def _uv_options_stale(settings: Mapping[str, str | None], lock: dict[str, Any]) -> str | None:
    """Which of uv's resolver settings (``resolution``, ``prerelease``, ``fork-strategy``,
    ``exclude-newer``) differs from the lock's ``[options]``, a default and an absent key
    alike: uv locks again when they differ (uv's ``ValidatedLock::validate``; with uv
    0.13.9 each one set after the lock in [tool.uv], uv.toml, ``UV_RESOLUTION``,
    ``UV_PRERELEASE``, ``UV_FORK_STRATEGY`` or ``UV_EXCLUDE_NEWER``, and a lock resolved
    with ``--exclude-newer`` synced without it, failed ``uv lock --locked``; the defaults
    set did not). Built: ``ENV UV_RESOLUTION=lowest-direct`` (or uv.toml's ``resolution``)
    over a lock resolved without it, the original re-locked and answered six 1.10.0, the
    moved install failed on the mounted lock ("failed to rename file ... to /app/uv.lock:
    Device or resource busy"). An exclude-newer date is the next day's midnight in UTC, as
    uv writes it (built: a lock resolved with ``UV_EXCLUDE_NEWER=2024-01-01`` and the same
    ENV kept its bytes, and the moved install answered the same); other values are
    compared as written."""
    options = lock.get("options") or {}
    if not isinstance(options, dict):
        return "[options]"
    for setting, (key, default) in _UV_OPTIONS.items():
        wanted, locked = settings.get(setting) or default, options.get(key) or default
        if setting == "exclude-newer":
            wanted, locked = _uv_timestamp(wanted), _uv_timestamp(locked)
        if wanted != locked:
            return f"the {setting} setting"
    return None


def _uv_timestamp(value: object) -> str | None:
    """An exclude-newer value as uv.lock writes it (``2024-01-01`` is
    ``2024-01-02T00:00:00Z``, an offset is moved to UTC); others as written."""
    if value is None:
        return None
    text = str(value).strip()
    try:  # Python 3.10's fromisoformat reads no "Z"
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return f"{date.fromisoformat(text) + timedelta(days=1)}T00:00:00Z"
        moment = datetime.fromisoformat(text)
    except ValueError:
        return str(value).strip()
    if moment.tzinfo is None:
        return str(value).strip()
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _specifiers_differ(wanted: object, locked: object) -> bool:
    """Whether pyproject's requires-python differs from the lock's (not when pyproject
    sets none: uv then writes one of its own)."""
    if wanted is None:
        return False
    try:
        return SpecifierSet(str(wanted)) != SpecifierSet(str(locked or ""))
    except InvalidSpecifier:
        return True


def _versions_differ(project: dict[str, Any], locked: object) -> bool:
    """Whether pyproject's static ``version`` differs from the lock's entry of the project."""
    version = project.get("version")
    if "version" in (project.get("dynamic") or []) or version is None or locked is None:
        return False
    try:
        return Version(str(version)) != Version(str(locked))
    except InvalidVersion:
        return str(version) != str(locked)


def pdm_lock_stale(pyproject: dict[str, Any], lock: dict[str, Any]) -> bool:
    """Whether pdm.lock's ``[metadata] content_hash`` differs from the hash pdm computes of
    pyproject.toml (``PyProject.content_hash``, pdm 2.22: the JSON, keys sorted, of
    ``[tool.pdm] source`` and ``resolution``, ``[project]`` dependencies, optional
    dependencies and requires-python, and the dependency groups merged with ``[tool.pdm]
    dev-dependencies``): a plain ``pdm install`` then locks again and rewrites pdm.lock
    (built with pdm 2.22.2: a changed specifier or requires-python rewrote it; a comment or
    the version did not). A hash of another algorithm or version of pdm reads as stale."""
    metadata = lock.get("metadata")
    value = metadata.get("content_hash") if isinstance(metadata, dict) else None
    if not isinstance(value, str):
        return False
    algo, _, digest = value.partition(":")
    return algo != "sha256" or _pdm_content_hash(pyproject) != digest


def _pdm_group(name: str) -> str:
    """A group's name as pdm normalizes it (``pdm.utils.normalize_name``: every run of
    characters other than ASCII letters and digits becomes ``-``, lower case)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).lower()


def _pdm_content_hash(pyproject: dict[str, Any]) -> str | None:
    """pdm's content hash of pyproject.toml; None when a table is not one."""
    project = pyproject.get("project") or {}
    pdm = (pyproject.get("tool") or {}).get("pdm") or {}
    groups = pyproject.get("dependency-groups") or {}
    if not all(
        isinstance(t, dict) for t in (project, pdm, groups, pdm.get("dev-dependencies", {}))
    ):
        return None
    dev: dict[str, list[Any]] = {_pdm_group(g): list(d) for g, d in groups.items()}
    for group, deps in pdm.get("dev-dependencies", {}).items():
        dev.setdefault(_pdm_group(group), []).extend(deps)
    data = {
        "sources": pdm.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": dev,
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": pdm.get("resolution", {}),
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def uv_project_settings(
    context: BuildContext,
    project: str,
    pyproject: dict[str, Any],
    env: Mapping[str, str | None],
    args: list[str],
) -> Mapping[str, str | None] | str:
    """``uv_resolver_settings`` of the project in the context folder ``project``: uv.toml
    there where there is one (an unreadable one is unknown), else [tool.uv]."""
    config: object = (pyproject.get("tool") or {}).get("uv") or {}
    path = posixpath.join(project, "uv.toml")
    if context.exists(path):
        config = context.read_toml(path)
    if not isinstance(config, dict):
        return "uv.toml or [tool.uv], which msdfix cannot read"
    return uv_resolver_settings(config, env, args)
