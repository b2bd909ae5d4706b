"""Project settings that move the package cache or installed packages elsewhere."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.node.yarn import yarnrc_settings
from msdfix.files import YamlError, load_yaml
from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.paths import within

# Where a tool's package cache may be set inside the project: (config file, its setting's
# pattern, the command-line option).
_PROJECT_CACHES = {
    "npm": (".npmrc", re.compile(r"(?m)^[ \t]*cache[ \t]*=[ \t]*[\"']?([^\"'\s#;]+)"), "--cache"),
    "pnpm": (
        ".npmrc",
        re.compile(r"(?m)^[ \t]*store-dir[ \t]*=[ \t]*[\"']?([^\"'\s#;]+)"),
        "--store-dir",
    ),
    "yarn": (
        ".yarnrc",
        re.compile(r"""(?m)^[ \t]*["']?(?:--)?cache-folder["']?[ \t]+["']?([^"'\s#]+)"""),
        "--cache-folder",
    ),
}


def project_cache(
    ctx: BuildContext, base: str, program: str, args: list[str], dest: str | None = None
) -> str | None:
    """The context path of the package cache an install of the project in ``base`` keeps
    inside the project, when the build context holds files there: yarn Berry's
    ``.yarn/cache`` (zero-installs) or ``.yarnrc.yml``'s ``cacheFolder``, or a relative
    ``--cache``/``--store-dir``/``--cache-folder`` (or the same setting in ``.npmrc`` or
    ``.yarnrc``: CI jobs keep ``.yarn-cache`` in the checkout). The install reads and fills
    it. ``dest``: where the project lands in the image, so that an absolute setting below it
    (``cache=/app/npm-cache``) names the project's folder too. None: no such files."""
    folders: list[str] = []
    if program == "yarn":
        rc = ctx.read_text(posixpath.join(base, ".yarnrc.yml") if base else ".yarnrc.yml")
        setting = (yarnrc_settings(rc) or {}).get("cacheFolder")
        folders.append(setting if isinstance(setting, str) and setting else ".yarn/cache")
    config, pattern, option = _PROJECT_CACHES.get(program, ("", None, ""))
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            folders.append(args[i + 1])
        elif option and arg.startswith(option + "="):
            folders.append(arg.partition("=")[2])
    text = ctx.read_text(posixpath.join(base, config) if base else config) if config else None
    folders += pattern.findall(text or "") if pattern is not None else []
    for folder in folders:
        if dest is not None and folder.startswith("/") and within(posixpath.normpath(folder), dest):
            folder = posixpath.relpath(posixpath.normpath(folder), dest)
        if folder.startswith(("/", "~", "$")):
            continue
        path = posixpath.normpath(posixpath.join(base, folder))
        if path.startswith("../") or path == "..":
            continue
        # exists: the context walk behind holds leaves out node_modules, where yarn 1's
        # cache keeps every package (v6/npm-ms-2.1.3-.../node_modules/ms)
        if ctx.holds(path) or ctx.exists(path):
            return path
    return None


# Project settings that put installed packages outside the project's ``node_modules``: pnpm's
# virtual store and modules folder (.npmrc; pnpm-workspace.yaml from pnpm 10), yarn 1's
# modules folder (.yarnrc), yarn Berry's pnpm-linker store; the YAML files' top-level keys.
_LAYOUT_SETTINGS: tuple[tuple[str, re.Pattern[str] | tuple[str, ...]], ...] = (
    (".npmrc", re.compile(r"(?m)^[ \t]*(virtual-store-dir|modules-dir)[ \t]*=[ \t]*(\S*)")),
    ("pnpm-workspace.yaml", ("virtualStoreDir", "modulesDir")),
    (".yarnrc", re.compile(r"(?m)^[ \t]*[\"']?(--(?:install\.)?modules-folder)[\"']?\s+(\S*)")),
    (".yarnrc.yml", ("pnpmStoreFolder",)),
)
LAYOUT_FLAGS = ("--virtual-store-dir", "--modules-dir", "--modules-folder")
LAYOUT_ENV = ("npm_config_virtual_store_dir", "npm_config_modules_dir")


def modules_elsewhere(ctx: BuildContext, base: str) -> str | None:
    """A setting of the project in ``base`` that puts installed packages outside its
    ``node_modules`` (``.npmrc virtual-store-dir=.pnpm-vs``: node_modules then holds only
    links into that folder), as ``"<file> <setting>=<value>"``; None: none. Unreadable for
    a settings file msdfix cannot read (it may set one); a YAML one that does not read as
    YAML (``load_yaml``) is said."""
    for name, keys in _LAYOUT_SETTINGS:
        text = ctx.read_known(posixpath.join(base, name) if base else name) or ""
        try:
            found = _settings_in(text, keys, strings=name == ".yarnrc.yml")
        except YamlError as exc:
            return f"{name}, which msdfix cannot read as YAML ({exc})"
        for key, value in found:
            inside = posixpath.normpath(value or ".").split("/")[0] == "node_modules"
            if not inside or key in ("modules-dir", "modulesDir"):
                if value.rstrip("/") != "node_modules":
                    return f"{name} {key}={value}"
    return None


def module_folders(ctx: BuildContext, base: str, argv: list[str]) -> list[str]:
    """The project-relative folders the settings of ``_LAYOUT_SETTINGS`` and the install's
    ``LAYOUT_FLAGS`` install packages into (``--modules-folder deps``): outputs of the install
    as node_modules is. Absolute and home paths are left out, and files that do not read
    (``modules_elsewhere`` and the manifest rules say those)."""
    values = [a.partition("=")[2] for a in argv if a.partition("=")[0] in LAYOUT_FLAGS]
    values += [b for a, b in zip(argv, argv[1:], strict=False) if a in LAYOUT_FLAGS]
    for name, keys in _LAYOUT_SETTINGS:
        try:
            text = ctx.read_known(posixpath.join(base, name) if base else name) or ""
            values += [v for _, v in _settings_in(text, keys, strings=name == ".yarnrc.yml")]
        except (Unreadable, YamlError):
            continue
    found = [posixpath.normpath(v.strip("\"'")) for v in values if v.strip("\"'")]
    return [f for f in found if not f.startswith(("/", "~", "$", ".."))]


def _settings_in(
    text: str, keys: re.Pattern[str] | tuple[str, ...], strings: bool
) -> list[tuple[str, str]]:
    """(setting, value) pairs of a settings file's text: the matches of a pattern (setting
    and value groups, quotes taken off), or the top-level ``keys`` of a YAML mapping
    (``strings``: each scalar a string); YamlError for YAML that does not read."""
    if isinstance(keys, re.Pattern):
        return [(m.group(1), m.group(2).strip("\"'")) for m in keys.finditer(text)]
    data = load_yaml(text, strings=strings)
    data = data if isinstance(data, dict) else {}
    return [(key, "" if data[key] is None else str(data[key])) for key in keys if key in data]
