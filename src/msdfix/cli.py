"""The ``msdfix`` command line.

Exit codes: 0 nothing to change (or all written), 1 changes pending, 2 usage error or a file
that cannot be read or parsed, 123 internal error (a rewrite failed our own checks).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import click

from msdfix import __version__
from msdfix.config import ConfigError, find_config
from msdfix.engine import Settings, tune_gc
from msdfix.files import InputError, decode, discover, read, write_atomic
from msdfix.model import BuildContext
from msdfix.render.diff import print_diff, unified_diff
from msdfix.render.report import FileReport, json_report, summary_lines
from msdfix.runner import UnknownTransformError, parse_ids, process, settings_for
from msdfix.transforms import REGISTRY, all_transforms

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 123
SUBCOMMANDS = ("verify", "pr")


def _ids(value: str | None) -> list[str] | None:
    try:
        return parse_ids(value)
    except UnknownTransformError as exc:
        raise click.BadParameter(str(exc)) from exc


def _use_color(flag: bool | None, stream: TextIO) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def _inputs(paths: tuple[str, ...]) -> list[tuple[str, Path | None, str | None]]:
    """(display path, path or None for stdin, error) for every input."""
    found: list[tuple[str, Path | None, str | None]] = []
    for raw in paths or (".",):
        if raw == "-":
            found.append(("-", None, None))
            continue
        path = Path(raw)
        if path.is_dir():
            matches = list(discover(path))
            if not matches:
                found.append((raw, path, "no Dockerfiles found in this directory"))
            found += [(str(m), m, None) for m in matches]
        elif not path.exists() and not path.is_symlink():
            found.append((raw, path, "no such file or directory"))
        else:
            found.append((raw, path, None))
    return found


def _settings(select: str | None, ignore: str | None, unsafe: bool | None, start: Path) -> Settings:
    try:
        return settings_for(find_config(start), select, ignore, unsafe)
    except UnknownTransformError as exc:
        raise click.BadParameter(str(exc)) from exc


def _list_transforms() -> None:
    for transform in all_transforms():
        click.echo(f"{transform.id:16} {transform.title}")


def _explain(transform_id: str) -> None:
    all_transforms()
    transform = REGISTRY.get(transform_id)
    if transform is None:
        raise click.BadParameter(f"unknown transform id {transform_id}", param_hint="--explain")
    module = sys.modules[transform.__module__]
    click.echo(f"{transform.id}: {transform.title}\n")
    click.echo((module.__doc__ or "").split("\n", 1)[-1].strip())


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Other commands: `msdfix verify PATH` (build before/after and compare), "
    "`msdfix pr` (open a pull request). Exit codes: 0 clean, 1 changes pending, "
    "2 usage/read/parse error, 123 internal error.",
)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--write", is_flag=True, help="Rewrite files in place (atomically).")
@click.option("--check", is_flag=True, help="Only list files that would change; exit 1 if any.")
@click.option(
    "--diff/--no-diff",
    "show_diff",
    default=None,
    help="Show the unified diff (default in dry run).",
)
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes", default=None, help="Also apply fixes marked unsafe."
)
@click.option("--select", metavar="ID,...", help="Run only these transforms.")
@click.option("--ignore", metavar="ID,...", help="Do not run these transforms.")
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
    help="Colour the diff (default: only on a terminal; NO_COLOR respected).",
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
        _list_transforms()
        return
    if explain:
        _explain(explain)
        return
    if write and check:
        raise click.UsageError("--write and --check cannot be used together")
    first = Path(paths[0]) if paths and paths[0] != "-" else Path.cwd()
    try:
        settings = _settings(
            select, ignore, unsafe_fixes, first if first.is_dir() else first.parent
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    reports = []
    stdout_color = _use_color(color, sys.stdout)
    for display, path, error in _inputs(paths):
        report = _run_one(
            display,
            path,
            error,
            settings,
            context_dir,
            write,
            check,
            show_diff,
            output_format,
            stdout_color,
        )
        reports.append(report)
        if not quiet or report.error:
            for line in summary_lines(report, write):
                click.echo(line, err=True)
    if output_format != "text":
        sys.stdout.write(_machine_report(output_format, reports))
    if not quiet and len(reports) > 1:
        click.echo(_totals(reports), err=True)
    sys.exit(_exit_code(reports))


def _totals(reports: list[FileReport]) -> str:
    """The closing line of a run over several files."""
    changed = sum(r.changed for r in reports)
    errors = sum(bool(r.error) for r in reports)
    verb = "rewritten" if any(r.written for r in reports) else "would be rewritten"
    parts = [f"{changed} of {len(reports)} files {verb}"]
    if errors:
        parts.append(f"{errors} with errors")
    return ", ".join(parts)


def _run_one(
    display: str,
    path: Path | None,
    error: str | None,
    settings: Settings,
    context_dir: str | None,
    write: bool,
    check: bool,
    show_diff: bool | None,
    output_format: str,
    color: bool,
) -> FileReport:
    if error:
        return FileReport(display, error=error)
    try:
        text = decode(sys.stdin.buffer.read()) if path is None else read(path)
    except InputError as exc:
        return FileReport(display, error=exc.message, error_line=exc.line)
    if path is None:
        context = BuildContext(context_dir)
    else:
        context = BuildContext(context_dir or path.parent)
    report = process(display, text, context, settings)
    if report.result is None:
        return report
    result = report.result
    if path is None and output_format == "text" and not check and not show_diff:
        sys.stdout.write(result.output)
        report.written = result.changed
        return report
    if result.changed and write and path is not None:
        try:
            write_atomic(path, result.output)
            report.written = True
        except OSError as exc:
            report.error = f"cannot write: {exc.strerror or exc}"
            return report
    if output_format == "text" and result.changed:
        if check:
            click.echo(f"would rewrite {display}")
        elif show_diff or (show_diff is None and not write):
            print_diff(unified_diff(result.original, result.output, display), sys.stdout, color)
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
    """Entry point: ``msdfix verify``/``msdfix pr`` subcommands, else the rewrite command."""
    args = list(sys.argv[1:] if argv is None else argv)
    tune_gc()
    if args and args[0] in SUBCOMMANDS:
        command = _subcommand(args[0])
        command.main(args[1:], prog_name=f"msdfix {args[0]}")
        return
    fix_command.main(args, prog_name="msdfix")


def _subcommand(name: str) -> click.Command:
    if name == "verify":
        from msdfix.verify import verify_command

        return verify_command
    from msdfix.bot import pr_command

    return pr_command


if __name__ == "__main__":  # pragma: no cover
    main()
