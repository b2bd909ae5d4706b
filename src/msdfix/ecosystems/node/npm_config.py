"""npm's configuration as npm reads it: command-line settings, npm_config_* variables, .npmrc."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# npm's settings that decide whether dev dependencies are installed (``buildOmitList`` in
# @npmcli/config's definitions.js, npm 7 to 10): True where the option takes a value, False
# where it is a boolean (``--no-production``, ``--production false``).
_NPM_DEV_SETTINGS = {
    "omit": True, "include": True, "only": True, "also": True, "production": False, "dev": False,
}  # fmt: skip


# npm's settings msdfix reads from a command line (the dev-deciding ones, legacy-peer-deps
# and package-lock), by the same rule.
_NPM_OPTIONS = {**_NPM_DEV_SETTINGS, "legacy-peer-deps": False, "package-lock": False}
# One npm configuration source: setting -> its values (a list setting may hold several).
NpmSettings = Mapping[str, list[str]]


@dataclass(frozen=True)
class NpmOption:
    """One setting on an npm command line: its name, its value (``true``/``false`` for a
    boolean) and the words it takes, ``args[start:end]``."""

    key: str
    value: str
    start: int
    end: int


def npm_options(args: list[str]) -> list[NpmOption]:
    """The settings of ``_NPM_OPTIONS`` that ``args`` give, as npm's option parser (nopt)
    reads them: ``--key=value``, ``--key value``, ``--no-key``, a boolean's ``true``/``false``
    after it; a list setting given twice gives two options. The one reader of npm's command
    line: what the install does and the production command's edits both come from it."""
    found: list[NpmOption] = []
    i = 0
    while i < len(args):
        start, arg = i, args[i]
        i += 1
        if not arg.startswith("--"):
            continue
        key, eq, value = arg[2:].partition("=")
        negated = not eq and key.startswith("no-") and key[3:] in _NPM_OPTIONS
        key = key[3:] if negated else key
        if key not in _NPM_OPTIONS:
            continue
        if negated:
            value = "false"
        elif not eq and _NPM_OPTIONS[key]:
            value = args[i] if i < len(args) and not args[i].startswith("-") else ""
            i += 1 if value else 0
        elif not eq:
            value = "true"
            if i < len(args) and args[i] in ("true", "false"):
                value, i = args[i], i + 1
        found.append(NpmOption(key, value, start, i))
    return found


def _npm_settings(args: list[str]) -> dict[str, list[str]]:
    """The settings ``args`` give (``npm_options``), each with its values in order."""
    found: dict[str, list[str]] = {}
    for option in npm_options(args):
        found.setdefault(option.key, []).append(option.value)
    return found


def npmrc_settings(text: str) -> dict[str, list[str]]:
    """The settings of an npmrc file, as npm's ini parser reads them: ``key=value`` (the
    last one wins), ``key[]=value`` adding to a list, a bare ``key`` meaning true, quotes
    around a value removed, ``;``/``#`` lines and ``[section]`` headers skipped."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in ";#[":
            continue
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip() if eq else "true"
        if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key.endswith("[]"):
            found.setdefault(key[:-2], []).append(value)
        else:
            found[key] = [value]
    return found


def _npm_env(env: Mapping[str, str]) -> dict[str, list[str]]:
    """The settings ``npm_config_*`` variables give (any case; ``_`` read as ``-``; an empty
    value is skipped, as @npmcli/config's loadEnv skips it)."""
    return {
        key[11:].lower().replace("_", "-"): [value]
        for key, value in env.items()
        if key.lower().startswith("npm_config_") and value != ""
    }


def npm_setting(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> Callable[[str], list[str] | None]:
    """npm's value of a setting: the command line over ``npm_config_*`` variables over the
    configuration ``files`` (the project's .npmrc, the user's, the global one, in that
    order), each replacing the lower ones whole (npm 10's @npmcli/config); None: unset."""
    layers = [_npm_settings(args), _npm_env(env), *files]

    def setting(key: str) -> list[str] | None:
        return next((layer[key] for layer in layers if key in layer), None)

    return setting


def npm_installs_dev(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> bool:
    """Whether ``npm install``/``npm ci`` with ``args`` installs the dev dependencies, as npm
    7 to 10 work it out: @npmcli/config walks its layers from the defaults up (the .npmrc
    ``files``, given highest first, then ``npm_config_*`` variables, then the command line),
    each layer's object inheriting the lower ones', and runs ``buildOmitList`` on each layer
    that sets one of the settings: ``omit`` defaulting to dev only where NODE_ENV is
    production, ``--production``/``--only=prod`` adding dev to it, ``production=false``,
    ``also=dev`` and ``dev`` adding dev to ``include`` (pushed onto the list a layer
    inherits, so it stays for the layers above that set no ``include`` of their own), and
    ``include`` winning over ``omit``. Checked with npm 10.8.2: ``--also=dev``, ``--include
    dev``, ``--no-production``, ``--omit=optional`` under NODE_ENV=production install them;
    so do ``include=dev`` or ``production=false`` in the project's .npmrc whatever
    ``--omit=dev``, ``--production`` or ``--include=prod`` alone say; ``--include=prod``
    overrides an .npmrc's ``include=dev``, ``--production --include=prod`` its
    ``production=false``, nothing its ``also=dev``."""
    default: dict[str, Any] = {
        "omit": ["dev"] if env.get("NODE_ENV") == "production" else [],
        "include": [],
    }
    layers = [default, *map(_omit_layer, reversed(files)), _omit_layer(_npm_env(env))]
    layers.append(_omit_layer(_npm_settings(args)))
    for i, own in enumerate(layers):
        if i == 0 or own:
            _build_omit_list(layers[: i + 1])
    omit = next(layer["omit"] for layer in reversed(layers) if "omit" in layer)
    return "dev" not in omit


def _omit_layer(settings: Mapping[str, list[str]]) -> dict[str, Any]:
    """One configuration layer's own dev-deciding settings, typed as npm types them: lists
    for omit/include, booleans for production/dev, a string for only/also."""
    own: dict[str, Any] = {}
    for key, values in settings.items():
        if key in ("omit", "include"):
            own[key] = [v for v in values if v]
        elif key in ("production", "dev"):
            own[key] = npm_true(values[-1])
        elif key in ("only", "also"):
            own[key] = values[-1]
    return own


def _build_omit_list(chain: list[dict[str, Any]]) -> None:
    """@npmcli/config's ``buildOmitList`` on the top layer of ``chain`` (each layer's object
    inherits from the ones below): it pushes onto the omit and include lists it finds, the
    inherited ones too, then sets the top layer's own."""

    def get(key: str) -> Any:
        return next((layer[key] for layer in reversed(chain) if key in layer), None)

    include, omit = get("include"), get("omit")  # the very lists, as JavaScript shares them
    if re.fullmatch(r"prod(uction)?", get("only") or "") or get("production"):
        omit.append("dev")
    elif get("production") is False:
        include.append("dev")
    if (get("also") or "").startswith("dev") or get("dev"):
        include.append("dev")
    chain[-1]["omit"] = [t for t in dict.fromkeys(omit) if t not in include]
    chain[-1]["include"] = list(dict.fromkeys(include))


def npm_legacy_peer_deps(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> bool:
    """Whether npm runs with legacy-peer-deps (peer dependencies not installed): the command
    line's ``--legacy-peer-deps`` (``=false``, ``--no-legacy-peer-deps``), then
    ``npm_config_legacy_peer_deps``, then the .npmrc files, as ``npm_setting`` layers them."""
    value = npm_setting(args, env, files)("legacy-peer-deps")
    return value is not None and npm_true(value[-1])


def npm_package_lock(
    args: list[str], env: Mapping[str, str], files: Sequence[NpmSettings] = ()
) -> bool:
    """Whether npm reads and writes the project's lock files (package-lock, true unless
    set false), as ``npm_setting`` layers it: with ``--no-package-lock`` npm 10 left a
    yarn.lock beside package.json as yarn wrote it, which ``npm ci`` and ``npm install``
    otherwise rewrite in npm's form (built)."""
    value = npm_setting(args, env, files)("package-lock")
    return value is None or npm_true(value[-1])


def npm_true(value: str) -> bool:
    """A boolean setting's value as npm's nopt reads it: a number is true unless 0 (a blank
    is 0), ``false`` and ``null`` (in that case) are false, any other text true (built with
    npm 10.8.2: ``npm_config_legacy_peer_deps=1`` kept a lock with a peer out of range, as
    ``true`` did)."""
    try:
        return bool(value.strip()) and float(value.strip()) != 0
    except ValueError:
        return value not in ("false", "null")


def _without_dev_settings(args: list[str]) -> list[str]:
    """``args`` without the settings that may bring the dev dependencies back, and their
    values (``--omit`` stays: ``--omit=optional`` and the ``--omit=dev`` added make a list)."""
    dropped = {
        i
        for option in npm_options(args)
        if option.key in _NPM_DEV_SETTINGS and option.key != "omit"
        for i in range(option.start, option.end)
    }
    return [arg for i, arg in enumerate(args) if i not in dropped]


def npm_production_args(
    args: list[str],
    node_major: int | None,
    env: Mapping[str, str],
    files: Sequence[NpmSettings] = (),
) -> list[str]:
    """``args`` of ``npm ci``/``npm install`` with the dev dependencies left out: every
    command-line setting that may bring them back dropped, npm's own flag added
    (``--production`` before npm 7, the image's Node before 16), then, where the variables
    or .npmrc files still bring them back, ``--include=prod`` (an .npmrc's ``include=dev``)
    and ``--production`` with it (its ``production=false``). A deprecated ``also``/``dev``
    there still brings them back: check ``npm_installs_dev``."""
    args = _without_dev_settings(args)
    if npm_installs_dev(args, {}):
        args.append("--omit=dev" if node_major is None or node_major >= 16 else "--production")
    include = npm_setting([], env, files)("include") or []
    if npm_installs_dev(args, env, files):
        args += [f"--include={v}" for v in include if v not in ("dev", "")] or ["--include=prod"]
    if npm_installs_dev(args, env, files):
        args.append("--production")
    return args
