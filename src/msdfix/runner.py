"""Processing files with settings: shared by the command line, ``verify``, the bot and bench/."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from rich.console import Console
from rich.text import Text

from msdfix.config import ConfigError, ConfigTree, FileConfig, listing
from msdfix.discovery import Found
from msdfix.engine import InternalError, Settings, rewrite
from msdfix.files import (
    InputError,
    WriteRefused,
    load,
    read_stream,
    writable,
    write_atomic,
    write_files,
)
from msdfix.model.compose import compose_context
from msdfix.model.context import BuildContext, ContextCache
from msdfix.render.diff import files_diff, print_diff, unified_diff
from msdfix.render.quoting import printable
from msdfix.render.report import FileReport, file_json, summary_text, unsafe_withheld
from msdfix.syntax import ParseError
from msdfix.transforms import all_transforms

UTF16_NOTE = (
    "UTF-16 file: kept in UTF-16, but docker build reads Dockerfiles as UTF-8 and refuses it"
)


class UnknownTransformError(ValueError):
    """Transform ids that no transform has."""


def parse_ids(value: str | None) -> list[str] | None:
    """Comma-separated transform ids, checked against the registry (None stays None)."""
    if value is None:
        return None
    ids = [v.strip() for v in value.split(",") if v.strip()]
    known = {t.id for t in all_transforms()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise UnknownTransformError(
            f"unknown transform id(s) {listing(unknown)}; known: {', '.join(sorted(known))}"
        )
    return ids


def settings_for(
    config: FileConfig, select: str | None, ignore: str | None, unsafe: bool | None
) -> Settings:
    """Settings from a configuration file and command-line overrides (flags win)."""
    for key, configured in (("select", config.select), ("ignore", config.ignore)):
        try:
            parse_ids(",".join(configured or ()))
        except UnknownTransformError as exc:  # named with its file and line, as other errors
            raise UnknownTransformError(f"{config.where.get(key, config.path)}: {exc}") from None
    if config.select == []:  # `select = ""` or `[]` ran nothing and passed, as `--select=` did
        where = config.where.get("select", config.path)
        raise UnknownTransformError(f"{where}: 'select' names no transform id")
    chosen = parse_ids(select) if select is not None else config.select
    if select is not None and not chosen:  # `--select=$UNSET` ran nothing and passed
        raise UnknownTransformError(f"--select {select!r} names no transform id")
    ignored = parse_ids(ignore) if ignore is not None else config.ignore
    unsafe_fixes = unsafe if unsafe is not None else bool(config.unsafe_fixes)
    return Settings(
        frozenset(chosen) if chosen is not None else None, frozenset(ignored or ()), unsafe_fixes
    )


def process(path: str, text: str, context: BuildContext, settings: Settings) -> FileReport:
    """Rewrite one file's text, turning every failure into a report."""
    report = FileReport(path)
    try:
        report.result = rewrite(text, path, context, settings)
    except ParseError as exc:
        report.error, report.error_line = exc.message, exc.line
    except (Exception, RecursionError) as exc:  # our bug, never the user's: exit 123
        report.error, report.internal = internal_message(exc), True
    return report


def internal_message(exc: BaseException) -> str:
    """One line for an exception that is a bug in msdfix."""
    what = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
    what = " ".join(what.split())[:300]
    return f"internal error: {what} (this is a bug in msdfix; nothing was written)"


@dataclass
class Options:
    """What to do with each file of a command-line run."""

    settings: Settings
    context_dir: str | None
    write: bool
    check: bool
    show_diff: bool | None
    output_format: str
    color: bool
    err_color: bool = False
    quiet: bool = False
    contexts: ContextCache = field(default_factory=ContextCache)  # shared within a process
    overrides: tuple[str | None, str | None, bool | None] = (None, None, None)  # the flags
    configs: ConfigTree | None = None  # each file's nearest configuration (None: ``settings``)
    _settings: dict[Path | None, Settings] = field(default_factory=dict)

    @property
    def echoes_stdin(self) -> bool:
        """Stdin's output is the rewritten file itself (text format, no --check, no --diff)."""
        return self.output_format == "text" and not self.check and not self.show_diff

    def settings_at(self, path: Path | None) -> Settings:
        """The settings for a file: its nearest configuration with the flags over it
        (ConfigError, UnknownTransformError for a broken one); ``settings`` for stdin."""
        if path is None or self.configs is None:
            return self.settings
        config = self.configs.at(path.parent)
        if config.path not in self._settings:
            self._settings[config.path] = settings_for(config, *self.overrides)
        return self._settings[config.path]


@dataclass
class Outcome:
    """One input, finished: its output in print order and what the run's totals need."""

    path: str
    stdout: str = ""
    stderr: str = ""
    raw: bytes | None = None  # the rewritten file for stdin input, printed as bytes
    machine: Any = None  # this file's part of the json/github/sarif output
    changed: bool = False
    written: bool = False
    error: bool = False
    internal: bool = False
    withheld: int = 0  # unsafe fixes shown, not applied
    stdin: bool = False  # read from standard input (never written: --write has nothing to do)


def outcome(found: Found, options: Options, stdin: BinaryIO | None = None) -> Outcome:
    """Process one input (``stdin`` for ``-``) and render everything it prints."""
    out = io.StringIO()
    raw: list[bytes] = []
    piped = found.path is None and not found.error
    try:
        report = _run_one(found, options, out, raw, stdin)
    except Exception as exc:  # our bug, never the user's: exit 123, the other files go on
        out, raw = io.StringIO(), []
        report = FileReport(found.display, error=internal_message(exc), internal=True)
    try:
        return _finish(report, options, out.getvalue(), raw[0] if raw else None, piped)
    except Exception as exc:
        report = FileReport(found.display, error=internal_message(exc), internal=True)
        return _finish(report, options, "", None, piped)


_OPTIONS: list[Options] = []  # this process's options, for ``work``


def set_options(options: Options) -> None:
    """Set the options ``work`` uses in this process (a worker process's initializer)."""
    _OPTIONS[:] = [options]


def work(chunk: list[Found]) -> list[tuple[Found, Outcome | None]]:
    """Outcomes of some inputs; None for stdin, which only the main process can read."""
    options = _OPTIONS[0]
    return [(f, None if f.path is None and not f.error else outcome(f, options)) for f in chunk]


def _finish(
    report: FileReport, options: Options, stdout: str, raw: bytes | None, stdin: bool
) -> Outcome:
    stderr = ""
    if not options.quiet or report.error:
        stderr = render_text(summary_text(report, options.write), options.err_color)
    return Outcome(
        report.path,
        stdout,
        stderr,
        raw,
        _machine_part(report, options.output_format),
        report.changed,
        report.written,
        bool(report.error),
        report.internal,
        unsafe_withheld([report]),
        stdin,
    )


def render_text(texts: list[Text], color: bool) -> str:
    """Lines as printed on a terminal (coloured when ``color``), ``""`` for none."""
    if not texts:
        return ""
    if not color:
        return "\n".join(t.plain for t in texts) + "\n"
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, highlight=False, soft_wrap=True)
    for text in texts:
        console.print(text)
    return buffer.getvalue()


def _machine_part(report: FileReport, output_format: str) -> Any:
    if output_format == "json":
        return file_json(report)
    if output_format == "github":
        from msdfix.render.github import file_annotations

        return "".join(file_annotations(report))
    if output_format == "sarif":
        from msdfix.render.sarif import sarif_part

        return sarif_part(report)
    return None


def default_context(dockerfile: Path, top: Path | None = None) -> Path:
    """A Dockerfile's build context without ``--context``, the same for ``msdfix``,
    ``msdfix verify`` and ``msdfix pr``: the folder its compose files build it from
    (``context: ..``; none above ``top`` when given), else its own folder."""
    return compose_context(dockerfile, top) or dockerfile.parent


def context_note(
    dockerfile: Path, root: Path, base: Path | None = None, *, overridable: bool = True
) -> str | None:
    """The note that a compose file chose the build context (None: the Dockerfile's folder),
    naming it relative to ``base`` (default: the working directory) when inside it; the
    ``--context`` hint only where the command has that option (``overridable``)."""
    if root == dockerfile.parent:
        return None
    hint = " (--context DIR overrides it)" if overridable else ""
    where = printable(str(_shown(root, base)))
    return f"build context: {where}/, the folder a compose file builds it from{hint}"


def _shown(root: Path, base: Path | None = None) -> Path:
    """``root`` relative to ``base`` (default: the working directory) when inside it."""
    base = base or Path.cwd()
    return Path(os.path.relpath(root, base)) if base in (root, *root.parents) else root


def _run_one(
    found: Found, options: Options, out: TextIO, raw: list[bytes], stdin: BinaryIO | None
) -> FileReport:
    if found.error:
        return FileReport(found.display, error=found.error)
    path = found.path
    try:
        source = read_stream(stdin or sys.stdin.buffer) if path is None else load(path)
    except InputError as exc:
        return FileReport(found.display, error=exc.message, error_line=exc.line)
    where = path or found.stands_for  # stdin: the file --stdin-filename names, if any
    try:
        settings = options.settings_at(where)
    except (ConfigError, UnknownTransformError) as exc:
        return FileReport(found.display, error=f"configuration: {printable(str(exc))}")
    chosen = default_context(where) if where and not options.context_dir else None
    note = context_note(where, chosen) if where and chosen else None
    root = options.context_dir or (_shown(chosen) if note and chosen else chosen)
    context = BuildContext(root, dockerfile=where, cache=options.contexts, stdin=path is None)
    report = process(found.display, source.text, context, settings)
    if source.encoding != "utf-8":
        report.notes.append(UTF16_NOTE)
    report.notes += [note] if note else []
    if report.result is None:
        return report
    result = report.result
    text_out = options.output_format == "text"
    if path is None and options.echoes_stdin:
        raw.append(source.encode(result.output))
        report.written = result.changed
        return report
    if result.changed and options.write and path is not None:
        try:
            if result.output != result.original:
                # refused (changed since read, read-only, ...): the ignore file is not written
                writable(path.resolve(), source)
            write_files(result.files, context.root)  # the ignore file first: judged on its own
            if result.files and context.root is not None:
                options.contexts.forget(context.root)  # later files of the folder read it anew
            if result.output != result.original:
                write_atomic(path, result.output, source)
            report.written = True
        except WriteRefused as exc:
            report.error = str(exc)
            return report
        except OSError as exc:
            report.error = f"cannot write: {exc.strerror or exc}"
            return report
    if text_out and result.changed:
        show = options.show_diff or (options.show_diff is None and not options.write)
        if options.check and not options.show_diff:
            if result.output != result.original:
                out.write(f"would rewrite {printable(found.display)}\n")
            for name, (old, _) in sorted(result.files.items()):
                out.write(f"would {'create' if old is None else 'extend'} {printable(name)}\n")
        elif show:
            diff = unified_diff(result.original, result.output, found.display, result.edits)
            print_diff(diff + files_diff(result.files), out, options.color)
    return report
