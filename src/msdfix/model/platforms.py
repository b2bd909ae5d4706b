"""Deploy platforms' files that run other commands in the image than its CMD/ENTRYPOINT:
fly.toml's ``release_command`` and ``[processes]``, a ``Procfile`` (Dokku and Heroku run
each process type in the image), heroku.yml's ``run`` and ``release``, render.yaml's
``dockerCommand`` and ``preDeployCommand``, railway.json/railway.toml's ``startCommand``
and ``preDeployCommand``; with the compose services that build this Dockerfile."""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any

from msdfix.files import YamlError, load_yaml
from msdfix.model.compose import UNKNOWN, ComposeRun, compose_runs
from msdfix.model.context import BuildContext, Unreadable, parse_json, parse_toml

_PROCFILE = re.compile(r"^([\w-]+)\s*:\s*(.+)$", re.MULTILINE)
_RENDER_KEYS = ("dockerCommand", "preDeployCommand")


def image_runs(ctx: BuildContext) -> list[ComposeRun]:
    """Every command a compose file or a deploy platform's file in the context runs in the
    image besides its own start command (a release step's ``npm run migrate`` runs
    ``ts-node``, a dev dependency)."""
    if not ctx.present:
        return []
    return compose_runs(ctx) + platform_runs(ctx)


def platform_runs(ctx: BuildContext) -> list[ComposeRun]:
    """The commands the deploy platforms' files at the top of the context run in the image
    (read as every context file is: bounded, within the context, nesting too deep unread).
    One msdfix cannot read runs commands it cannot tell (an UNKNOWN run), not none."""
    found: list[ComposeRun] = []
    fly = _table(parse_toml(_text(ctx, "fly.toml", found)))
    release = _at(fly, "deploy", "release_command")
    if isinstance(release, str) and release.strip():
        found.append(ComposeRun("fly.toml", "deploy", "release_command", release, False))
    processes = fly.get("processes")
    if isinstance(processes, dict):
        found += [
            ComposeRun("fly.toml", name, "process", cmd, False)
            for name, cmd in processes.items()
            if isinstance(cmd, str) and cmd.strip()
        ]
    found += [
        ComposeRun("Procfile", m.group(1), "process", m.group(2).strip(), False)
        for m in _PROCFILE.finditer(_text(ctx, "Procfile", found))
    ]
    found += _heroku(_yaml(ctx, "heroku.yml", found))
    found += _render(_yaml(ctx, "render.yaml", found))
    railway = _table(_json(_text(ctx, "railway.json", found))) or _table(
        parse_toml(_text(ctx, "railway.toml", found))
    )
    for key in ("startCommand", "preDeployCommand"):
        value = _at(railway, "deploy", key)
        words = value if isinstance(value, list) else [value]
        for cmd in words:
            if isinstance(cmd, str) and cmd.strip():
                found.append(ComposeRun("railway config", "deploy", key, cmd, False))
    return found


def _text(ctx: BuildContext, rel: str, found: list[ComposeRun]) -> str:
    """The platform file ``rel`` ("" when the build has none); for one msdfix cannot read (a
    1.1 MiB Procfile, a link loop), "" and an UNKNOWN run in ``found``: it had read as empty,
    so its processes counted as none."""
    try:
        return ctx.read_known(rel) or ""
    except Unreadable as exc:
        found.append(ComposeRun(rel, "", UNKNOWN, str(exc), False))
        return ""


def _json(text: str) -> Any:
    """Parsed JSON of a file's text, None for none ("")."""
    return parse_json(text) if text else None


def _yaml(ctx: BuildContext, rel: str, found: list[ComposeRun]) -> Any:
    """The parsed platform file ``rel`` (None when the build has none); for one msdfix cannot
    read as YAML (``load_yaml``), None and an UNKNOWN run in ``found``."""
    text = _text(ctx, rel, found)
    try:
        return load_yaml(text) if text else None
    except YamlError as exc:
        found.append(ComposeRun(rel, "", UNKNOWN, f"msdfix cannot read it as YAML ({exc})", False))
        return None


def _heroku(data: Any) -> list[ComposeRun]:
    """heroku.yml's ``run:`` process types (a command, or a mapping with ``command``) and its
    ``release:`` ``command``; a command written as a list, as JSON."""
    data = _table(data)
    runs = data.get("run")
    found = [
        ComposeRun("heroku.yml", str(name), "run", _command(value), False)
        for name, value in (runs.items() if isinstance(runs, dict) else [])
        if value is not None
    ]
    if runs is not None and not isinstance(runs, dict):
        found.append(ComposeRun("heroku.yml", "run", UNKNOWN, "its run is not a mapping", False))
    release = data.get("release")
    if release is not None:
        found.append(ComposeRun("heroku.yml", "release", "release", _command(release), False))
    return found


def _command(value: object) -> str:
    """A heroku.yml process as text: its ``command`` where it is a mapping, a list as JSON."""
    if isinstance(value, dict):
        value = value.get("command", value)
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _render(data: Any) -> list[ComposeRun]:
    """render.yaml's ``dockerCommand`` and ``preDeployCommand`` values, in any mapping of the
    file (its services, preview environments)."""
    found: list[ComposeRun] = []
    queue = deque([data])
    while queue:
        item = queue.popleft()
        if isinstance(item, dict):
            found += [
                ComposeRun("render.yaml", "service", key, str(item[key]).strip(), False)
                for key in _RENDER_KEYS
                if item.get(key) is not None
            ]
            queue.extend(item.values())
        elif isinstance(item, list):
            queue.extend(item)
    return found


def _at(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _table(data: Any) -> dict[str, Any]:
    """A parsed file's top-level table ({} for none, or for a JSON array or scalar)."""
    return data if isinstance(data, dict) else {}
