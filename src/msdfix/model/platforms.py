"""Deploy platforms' files that run other commands in the image than its CMD/ENTRYPOINT:
fly.toml's ``release_command`` and ``[processes]``, a ``Procfile`` (Dokku and Heroku run
each process type in the image), heroku.yml's ``run`` and ``release``, render.yaml's
``dockerCommand`` and ``preDeployCommand``, railway.json/railway.toml's ``startCommand``
and ``preDeployCommand``; with the compose services that build this Dockerfile."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import tomllib

from msdfix.model.compose import ComposeRun, compose_runs
from msdfix.model.context import BuildContext

MAX_BYTES = 512 * 1024
_PROCFILE = re.compile(r"^([\w-]+)\s*:\s*(.+)$", re.MULTILINE)
_RENDER = re.compile(r"^\s*-?\s*(dockerCommand|preDeployCommand)\s*:\s*(.+)$", re.MULTILINE)
_HEROKU_BLOCK = re.compile(r"^(run|release)\s*:\s*(.*)$")


def image_runs(ctx: BuildContext) -> list[ComposeRun]:
    """Every command a compose file or a deploy platform's file in the context runs in the
    image besides its own start command (a release step's ``npm run migrate`` runs
    ``ts-node``, a dev dependency)."""
    if not ctx.present or ctx.root is None:
        return []
    return compose_runs(ctx) + platform_runs(ctx.root)


def platform_runs(root: Path) -> list[ComposeRun]:
    """The commands the deploy platforms' files in ``root`` run in the image."""
    found: list[ComposeRun] = []
    fly = _toml(root / "fly.toml")
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
        for m in _PROCFILE.finditer(_read(root / "Procfile"))
    ]
    found += _heroku(_read(root / "heroku.yml"))
    found += [
        ComposeRun("render.yaml", "service", m.group(1), m.group(2).strip(), False)
        for m in _RENDER.finditer(_read(root / "render.yaml"))
    ]
    railway = _json(root / "railway.json") or _toml(root / "railway.toml")
    for key in ("startCommand", "preDeployCommand"):
        value = _at(railway, "deploy", key)
        words = value if isinstance(value, list) else [value]
        for cmd in words:
            if isinstance(cmd, str) and cmd.strip():
                found.append(ComposeRun("railway config", "deploy", key, cmd, False))
    return found


def _heroku(text: str) -> list[ComposeRun]:
    """heroku.yml's ``run:`` process types and ``release:`` command (the lines under them)."""
    found: list[ComposeRun] = []
    block: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            head = _HEROKU_BLOCK.match(line)
            block = head.group(1) if head else None
            continue
        if block is not None:
            found.append(ComposeRun("heroku.yml", block, block, line.strip(), False))
    return found


def _at(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def _read(path: Path) -> str:
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError:
        return {}
    return data


def _json(path: Path) -> dict[str, Any]:
    text = _read(path)
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
