"""The ``msdfix`` command line.

Exit codes: 0 nothing to change (or all written), 1 changes pending, 2 usage error or a file
that cannot be read, parsed or written, 123 internal error (a bug in msdfix: any uncaught
exception ends as one line and this code, black's convention).
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console
from rich.text import Text

from msdfix import __version__
from msdfix.config import ConfigError, FileConfig, find_config
from msdfix.discovery import DEFAULT_EXCLUDE, Discovery, Found, Rules
from msdfix.engine import Settings, tune_gc
from msdfix.files import InputError, WriteRefused, load, read_stream, write_atomic, write_files
from msdfix.model import BuildContext
from msdfix.render.diff import files_diff, print_diff, unified_diff
from msdfix.render.explain import explain_text
from msdfix.render.report import FileReport, json_report, summary_text, unsafe_withheld
from msdfix.runner import UnknownTransformError, internal_message, process, settings_for
from msdfix.transforms import REGISTRY, all_transforms

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 123
SUBCOMMANDS = ("verify", "pr")
UTF16_NOTE = (
    "UTF-16 file: kept in UTF-16, but docker build reads Dockerfiles as UTF-8 and refuses it"
)


@dataclass
class Options:
    """What to do with each file."""

    settings: Settings
    context_dir: str | None
    write: bool
    check: bool
    show_diff: bool | None
    output_format: str
    color: bool


def _use_color(flag: bool | None, stream: TextIO) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def _echo(texts: list[Text], color: bool) -> None:
    """Lines on stderr, coloured when ``color``."""
    if not texts:
        return
    if not color:
        click.echo("\n".join(t.plain for t in texts), err=True)
        return
    console = Console(file=sys.stderr, force_terminal=True, highlight=False, soft_wrap=True)
    for text in texts:
        console.print(text)


def _patterns(values: tuple[str, ...]) -> list[str]:
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def _discovery(
    config: FileConfig,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool | None,
) -> Discovery:
    """Exclusions from the configuration file and the command line (flags win, like ruff)."""
    cwd = Path.cwd()
    if exclude:
        rules = [Rules.of(cwd, _patterns(exclude))]
    elif config.exclude is not None:
        rules = [Rules.of(config.root, config.exclude)]
    else:
        rules = [Rules.of(cwd, list(DEFAULT_EXCLUDE))]
    if config.extend_exclude:
        rules.append(Rules.of(config.root, config.extend_exclude))
    if extend_exclude:
        rules.append(Rules.of(cwd, _patterns(extend_exclude)))
    return Discovery(
        rules,
        respect_gitignore=_first(respect_gitignore, config.respect_gitignore, True),
        force_exclude=_first(force_exclude, config.force_exclude, False),
    )


def _config_start(paths: tuple[str, ...]) -> Path:
    """Where the search for a configuration file starts: the first PATH (or its directory)."""
    first = Path(paths[0]) if paths and paths[0] != "-" else Path.cwd()
    try:
        return first if first.is_dir() else first.parent
    except (OSError, ValueError):  # reported for that PATH later
        return first.parent


def _first(*values: bool | None) -> bool:
    return next(v for v in values if v is not None)


def _explain(transform_id: str, color: bool) -> None:
    all_transforms()
    transform = REGISTRY.get(transform_id)
    if transform is None:
        raise click.BadParameter(f"unknown transform id {transform_id}", param_hint="--explain")
    text = explain_text(transform)
    if color:
        Console(force_terminal=True, highlight=False, soft_wrap=True).print(text, end="")
    else:
        click.echo(text.plain, nl=False)


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Other commands: `msdfix verify PATH` (build before/after and compare), "
    "`msdfix pr` (open a pull request). Exit codes: 0 clean, 1 changes pending, "
    "2 usage/read/parse/write error, 123 internal error.",
)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--write", is_flag=True, help="Rewrite files in place (atomically).")
@click.option("--check", is_flag=True, help="Only list files that would change; exit 1 if any.")
@click.option(
    "--diff/--no-diff",
    "show_diff",
    default=None,
    help="Show the unified diff (default in a dry run; with --check: diff instead of the list).",
)
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes marked unsafe."
)
@click.option("--select", metavar="ID,...", help="Run only these transforms.")
@click.option("--ignore", metavar="ID,...", help="Do not run these transforms.")
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN,...",
    help="Gitignore-style patterns to skip, replacing the defaults and the config's exclude.",
)
@click.option(
    "--extend-exclude", multiple=True, metavar="PATTERN,...", help="Patterns to skip as well."
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply the exclusions to files named on the command line too.",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip files .gitignore ignores when searching directories (default: on).",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json", "github", "sarif"]),
    default="text",
    show_default=True,
    help="json: machine-readable fixes; github: workflow annotations; sarif: SARIF 2.1.0.",
)
@click.option(
    "--context",
    "context_dir",
    type=click.Path(file_okay=False),
    help="Build context for stdin input.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the diff and the summary (default: on a terminal; NO_COLOR respected).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only on stderr.")
@click.option("--list-transforms", is_flag=True, help="List transforms and exit.")
@click.option("--explain", metavar="ID", help="Explain a transform and exit.")
@click.version_option(__version__, "--version", prog_name="msdfix")
def fix_command(
    paths: tuple[str, ...],
    write: bool,
    check: bool,
    show_diff: bool | None,
    unsafe_fixes: bool | None,
    select: str | None,
    ignore: str | None,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool | None,
    output_format: str,
    context_dir: str | None,
    color: bool | None,
    quiet: bool,
    list_transforms: bool,
    explain: str | None,
) -> None:
    """Rewrite Dockerfiles: split build/runtime stages, reorder COPY for the layer cache,
    add cache mounts, use smaller runtime bases. PATH is a file, a directory (searched
    for Dockerfiles) or - for stdin. Dry run by default: prints a diff."""
    if list_transforms:
        for transform in all_transforms():
            click.echo(f"{transform.id:16} {transform.title}")
        return
    if explain:
        _explain(explain, _use_color(color, sys.stdout))
        return
    if write and check:
        raise click.UsageError("--write and --check cannot be used together")
    try:
        config = find_config(_config_start(paths))
        settings = settings_for(config, select, ignore, unsafe_fixes)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except UnknownTransformError as exc:
        raise click.BadParameter(str(exc)) from exc
    discovery = _discovery(config, exclude, extend_exclude, force_exclude, respect_gitignore)
    options = Options(
        settings, context_dir, write, check, show_diff, output_format,
        _use_color(color, sys.stdout),
    )  # fmt: skip
    err_color = _use_color(color, sys.stderr)
    reports = []
    for found in discovery.inputs(paths):
        report = _guarded(found, options)
        reports.append(report)
        if not quiet or report.error:
            _echo(summary_text(report, write), err_color)
    if output_format != "text":
        sys.stdout.write(_machine_report(output_format, reports))
    if not quiet:
        _echo(_closing(reports, options), err_color)
    sys.exit(_exit_code(reports))


def _closing(reports: list[FileReport], options: Options) -> list[Text]:
    """File counts for a run over several files, then what to do next (ruff's hints)."""
    out = []
    if len(reports) > 1:
        changed = sum(r.changed for r in reports)
        errors = sum(bool(r.error) for r in reports)
        verb = "rewritten" if any(r.written for r in reports) else "would be rewritten"
        line = f"{changed} of {len(reports)} files {verb}"
        out.append(Text(line + (f", {errors} with errors" if errors else "")))
    pending = [r for r in reports if r.changed and not r.written and r.path != "-"]
    if pending and not options.write:
        out.append(Text("hint: run with --write to apply the changes", "dim"))
    withheld = unsafe_withheld(reports)
    if withheld:
        fixes = "fix was" if withheld == 1 else "fixes were"
        out.append(Text(f"hint: {withheld} unsafe {fixes} not applied; "
                        "add --unsafe-fixes to apply them", "dim"))  # fmt: skip
    return out


def _guarded(found: Found, options: Options) -> FileReport:
    """One input, whatever happens: an unexpected exception is an internal error of that file."""
    try:
        return _run_one(found, options)
    except Exception as exc:  # our bug, never the user's: exit 123, the other files go on
        return FileReport(found.display, error=internal_message(exc), internal=True)


def _run_one(found: Found, options: Options) -> FileReport:
    if found.error:
        return FileReport(found.display, error=found.error)
    path = found.path
    try:
        source = read_stream(sys.stdin.buffer) if path is None else load(path)
    except InputError as exc:
        return FileReport(found.display, error=exc.message, error_line=exc.line)
    context = BuildContext(options.context_dir or (path.parent if path else None), dockerfile=path)
    report = process(found.display, source.text, context, options.settings)
    if source.encoding != "utf-8":
        report.notes.append(UTF16_NOTE)
    if report.result is None:
        return report
    result = report.result
    text_out = options.output_format == "text"
    if path is None and text_out and not options.check and not options.show_diff:
        sys.stdout.flush()
        sys.stdout.buffer.write(source.encode(result.output))
        sys.stdout.buffer.flush()
        report.written = result.changed
        return report
    if result.changed and options.write and path is not None:
        try:
            write_files(result.files)
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
                click.echo(f"would rewrite {found.display}")
            for name, (old, _) in sorted(result.files.items()):
                click.echo(f"would {'create' if old is None else 'extend'} {name}")
        elif show:
            diff = unified_diff(result.original, result.output, found.display)
            print_diff(diff + files_diff(result.files), sys.stdout, options.color)
    return report


def _machine_report(output_format: str, reports: list[FileReport]) -> str:
    if output_format == "json":
        return json_report(reports)
    if output_format == "github":
        from msdfix.render.github import github_report

        return github_report(reports)
    from msdfix.render.sarif import sarif_report

    return sarif_report(reports)


def _exit_code(reports: list[FileReport]) -> int:
    if any(r.internal for r in reports):
        return EXIT_INTERNAL
    if any(r.error for r in reports):
        return EXIT_ERROR
    return EXIT_CHANGES if any(r.changed and not r.written for r in reports) else EXIT_CLEAN


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``msdfix verify``/``msdfix pr`` subcommands, else the rewrite command.

    Nothing escapes as a traceback: an uncaught exception is one line on stderr and exit 123.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    tune_gc()
    if argv is None and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `msdfix ... | head` ends quietly
    try:
        if args and args[0] in SUBCOMMANDS:
            command = _subcommand(args[0])
            command.main(args[1:], prog_name=f"msdfix {args[0]}")
            return
        fix_command.main(args, prog_name="msdfix")
    except Exception as exc:
        click.echo(f"msdfix: error: {internal_message(exc)}", err=True)
        sys.exit(EXIT_INTERNAL)


def _subcommand(name: str) -> click.Command:
    if name == "verify":
        from msdfix.verify import verify_command

        return verify_command
    from msdfix.bot import pr_command

    return pr_command


if __name__ == "__main__":  # pragma: no cover
    main()
