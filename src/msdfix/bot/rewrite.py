"""The bot's rewrite of a checked-out base tree: settings, files, reports and verification.

Everything reads the temporary copy of the base branch (never the user's checkout, never a
configuration file outside that copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from msdfix.bot import body as render
from msdfix.bot.git import BotError
from msdfix.config import ConfigError, ConfigTree, FileConfig
from msdfix.discovery import Discovery, Scope, scope_for
from msdfix.engine import Settings
from msdfix.files import InputError, load
from msdfix.model import BuildContext
from msdfix.render.quoting import printable
from msdfix.render.report import FileReport
from msdfix.runner import (
    UnknownTransformError,
    context_note,
    default_context,
    parse_ids,
    process,
    settings_for,
)

VerifyRunner = Callable[[Path, Path, bool, tuple[str, ...]], tuple[int, str, str]]


def say(message: str) -> None:
    """Status for the user (stderr)."""
    click.echo(f"msdfix pr: {printable(message)}", err=True)


def run_verify_subprocess(
    dockerfile: Path, rewritten: Path, unsafe: bool, extra: tuple[str, ...]
) -> tuple[int, str, str]:
    """``msdfix verify --output-format json --rewritten FILE PATH`` in a subprocess."""
    argv = [sys.executable, "-m", "msdfix.cli", "verify", "--output-format", "json",
            "--rewritten", str(rewritten), *(["--unsafe-fixes"] if unsafe else []), *extra,
            str(dockerfile)]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def relative(root: Path, cwd: Path, raw: str) -> Path:
    """A command-line PATH relative to the repository root."""
    try:
        return (cwd / raw).resolve().relative_to(root.resolve())
    except ValueError:
        raise BotError(f"{raw}: outside the repository {root.resolve()}") from None


def settings(
    tree: Path, start: Path, select: str | None, ignore: str | None, unsafe: bool | None
) -> Settings:
    """Flags, else the base branch's own configuration (never a file outside its tree)."""
    first = Path(os.path.abspath(tree / start))
    return settings_of(tree, select, ignore, unsafe)(first / "x" if first.is_dir() else first)


def settings_of(
    tree: Path, select: str | None, ignore: str | None, unsafe: bool | None
) -> Callable[[Path], Settings]:
    """Each file's settings: the flags over the nearest configuration of its folder in the
    base branch's tree (as ``msdfix`` resolves them per file; never a file outside the tree)."""
    configs = ConfigTree(top=tree)
    chosen: dict[Path | None, Settings] = {}

    def of(path: Path) -> Settings:
        config = _config(tree, configs, path.parent)
        if config.path not in chosen:
            chosen[config.path] = _settings(tree, config, select, ignore, unsafe)
        return chosen[config.path]

    return of


def _config(tree: Path, configs: ConfigTree, directory: Path) -> FileConfig:
    try:
        # never above the tree: a broken /tmp/.msdfix.toml of someone else failed the run
        config = configs.at(directory)
    except ConfigError as exc:
        raise BotError(str(exc)) from exc
    if config.path is not None and tree.resolve() not in config.path.parents:
        return FileConfig()
    return config


def _settings(
    tree: Path, config: FileConfig, select: str | None, ignore: str | None, unsafe: bool | None
) -> Settings:
    where = config.path.relative_to(tree.resolve()) if config.path else None
    try:
        for configured in (config.select, config.ignore):
            if configured:
                parse_ids(",".join(configured))  # unknown ids in the configuration are errors
    except UnknownTransformError as exc:
        raise BotError(f"{where}: {exc}") from exc
    try:
        return settings_for(config, select, ignore, unsafe)
    except UnknownTransformError as exc:
        raise BotError(f"--select/--ignore: {exc}") from exc


def dockerfiles(tree: Path, targets: list[tuple[str, Path]]) -> list[Path]:
    """The Dockerfiles named by (argument, path in the tree) pairs, directories searched with
    the exclusions of their configurations (``exclude``, ``extend-exclude``, .gitignore)."""
    configs = ConfigTree(top=tree)
    scopes: dict[Path | None, Scope] = {}

    def scope_of(directory: Path) -> Scope:
        config = _config(tree, configs, directory)
        if config.path not in scopes:
            scopes[config.path] = scope_for(config)
        return scopes[config.path]

    discovery = Discovery(scope_of=scope_of)
    found: list[Path] = []
    for raw, rel in targets:
        target = tree / rel
        if target.is_dir():
            found += [p for p in _discover(discovery, target) if p not in found]
        elif target.exists() or target.is_symlink():
            found += [] if target in found else [target]
        else:
            raise BotError(f"{raw}: not in the base branch's files")
    return found


def rewrite(
    tree: Path, files: list[Path], settings_at: Callable[[Path], Settings]
) -> list[FileReport]:
    """One report per file (symbolic links are left alone), each with its own settings."""
    reports = []
    for path in files:
        own = settings_at(path)
        # A pull request carries Dockerfile rewrites only: .dockerignore changes are left to users.
        chosen = Settings(own.select, own.ignore | {"dockerignore"}, own.unsafe)
        rel = path.relative_to(tree).as_posix()
        if path.is_symlink():
            reports.append(FileReport(rel, notes=["symbolic link: left alone"]))
            continue
        try:
            source = load(path)
        except InputError as exc:
            reports.append(FileReport(rel, error=exc.message, error_line=exc.line))
            continue
        root = default_context(path, tree)
        report = process(rel, source.text, BuildContext(root, dockerfile=path), chosen)
        report.encoding = source.encoding
        note = context_note(path, root, tree.resolve(), overridable=False)  # pr: no --context
        report.notes += [note] if note else []
        reports.append(report)
    return reports


def verify(
    runner: VerifyRunner,
    tmp: Path,
    tree: Path,
    changed: list[FileReport],
    settings_at: Callable[[Path], Settings],
    options: tuple[str, ...],
) -> list[render.Verification]:
    """``msdfix verify`` for each rewritten file; a missing Docker is recorded, not fatal."""
    out = []
    for i, report in enumerate(changed):
        assert report.result is not None
        rewritten = tmp / "rewritten" / str(i) / Path(report.path).name
        rewritten.parent.mkdir(parents=True)
        rewritten.write_text(report.result.output, encoding="utf-8")
        say(f"verifying {report.path} with Docker (msdfix verify)...")
        path = tree / report.path
        # built from the context the rewrite was judged with (an explicit option wins)
        extra = ("--context", str(default_context(path, tree)), *options)
        code, stdout, stderr = runner(path, rewritten, settings_at(path).unsafe, extra)
        data = _json_object(stdout)
        if code == 2 or data is None or "error" in data:
            detail = (data or {}).get("detail") or _last_line(stderr) or "no output"
            reason = "Docker is not available" if code == 2 else "msdfix verify failed"
            say(f"{report.path}: {reason} ({detail}); not verified")
            out.append(render.Verification(report.path, None, f"{reason} ({detail})"))
            continue
        out.append(render.Verification(report.path, data))
    return out


def settings_note(chosen: Settings) -> str:
    """`` (unsafe fixes on; select ...)`` for the pull request's footer."""
    parts = []
    if chosen.unsafe:
        parts.append("unsafe fixes on")
    if chosen.select is not None:
        parts.append("select " + ",".join(sorted(chosen.select)))
    if chosen.ignore:
        parts.append("ignore " + ",".join(sorted(chosen.ignore)))
    return f" ({'; '.join(parts)})" if parts else ""


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _discover(discovery: Discovery, path: Path) -> Iterator[Path]:
    """Dockerfiles under ``path`` (see :mod:`msdfix.discovery`)."""
    for found in discovery.walk(path):
        if found.error is None and found.path is not None:
            yield found.path
