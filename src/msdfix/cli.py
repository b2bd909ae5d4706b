"""The ``msdfix`` command line.

Exit codes: 0 nothing to change (or all written), 1 changes pending, 2 usage error or a file
that cannot be read, parsed or written, 123 internal error (a bug in msdfix: any uncaught
exception ends as one line and this code, black's convention).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from msdfix import __version__
from msdfix.options import Command, Directory, select_and_ignore

if TYPE_CHECKING:  # the rest is imported when a command runs: `msdfix --version` stays fast
    from pathlib import Path

    from msdfix.config import ConfigTree
    from msdfix.discovery import Discovery, Found, Scope
    from msdfix.runner import Options, Outcome

EXIT_CLEAN, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 123
SUBCOMMANDS = ("verify", "pr")
CHUNK = 16  # inputs per task sent to a worker process


def _use_color(flag: bool | None, stream: TextIO) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def _patterns(values: tuple[str, ...]) -> list[str]:
    return [p.strip() for value in values for p in value.split(",") if p.strip()]


def _discovery(
    configs: ConfigTree,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool | None,
) -> Discovery:
    """Exclusions from each folder's configuration file and the command line (flags win, like
    ruff); a folder whose configuration is broken searches with the defaults (its files report
    the error)."""
    from msdfix.config import ConfigError, FileConfig
    from msdfix.discovery import Discovery, scope_for

    scopes: dict[Path | None, Scope] = {}

    def scope_of(directory: Path) -> Scope:
        try:
            config = configs.at(directory)
        except ConfigError:
            config = FileConfig()
        if config.path not in scopes:
            scopes[config.path] = scope_for(config, _patterns(exclude), _patterns(extend_exclude),
                                            force_exclude, respect_gitignore)  # fmt: skip
        return scopes[config.path]

    return Discovery(scope_of=scope_of)


def _config_start(paths: tuple[str, ...]) -> Path:
    """Where the search for a configuration file starts: the first PATH (or its directory)."""
    from pathlib import Path

    first = Path(paths[0]) if paths and paths[0] != "-" else Path.cwd()
    try:
        return first if first.is_dir() else first.parent
    except (OSError, ValueError):  # reported for that PATH later
        return first.parent


def _explain(transform_id: str, color: bool) -> None:
    from rich.console import Console

    from msdfix.render.explain import explain_text
    from msdfix.transforms import REGISTRY, all_transforms

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
    cls=Command,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Other commands: `msdfix verify PATH` (build before/after and compare), "
    "`msdfix pr` (open a pull request). Exit codes: 0 clean, 1 changes pending, "
    "2 usage/read/parse/write error, 123 internal error.",
)
# readable=False: click refused an unreadable PATH as a usage error and processed no file;
# each file reports its own read error, as the README says, and the others run.
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
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
@select_and_ignore
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
    type=Directory(),
    help="Build context (default: each Dockerfile's directory; stdin has none, unless "
    "--stdin-filename names its file).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="Read the Dockerfile from stdin as the file PATH: its configuration, exclusions, build "
    "context (its folder) and name in every output. Nothing is written to PATH.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the diff and the summary (default: on a terminal; NO_COLOR respected).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Worker processes (default and most: the CPUs this process may use; --write uses one). Output "
    "is the same.",
)
@click.option(
    "--exit-non-zero-on-fix",
    is_flag=True,
    help="With --write: exit 1 when a file was written (pre-commit does not see a new file).",
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
    stdin_filename: str | None,
    color: bool | None,
    jobs: int | None,
    exit_non_zero_on_fix: bool,
    quiet: bool,
    list_transforms: bool,
    explain: str | None,
) -> None:
    """Rewrite Dockerfiles: split build/runtime stages, reorder COPY for the layer cache,
    add cache mounts, use smaller runtime bases. PATH is a file, a directory (searched
    for Dockerfiles) or - for stdin. Dry run by default: prints a diff."""
    from msdfix.config import ConfigError, ConfigTree
    from msdfix.engine import tune_gc
    from msdfix.parallel import usable_cpus
    from msdfix.runner import Options, UnknownTransformError, settings_for
    from msdfix.transforms import all_transforms

    if list_transforms or explain:
        with _stdout_guard(), _to_stdout():  # `> /dev/full` was exit 123, `| true` exit 1
            if explain:
                _explain(explain, _use_color(color, sys.stdout))
            else:
                for transform in all_transforms():
                    click.echo(f"{transform.id:16} {transform.title}")
        return
    if write and check:
        raise click.UsageError("--write and --check cannot be used together")
    if "" in paths:  # Path("") is the current directory: a search nobody asked for
        raise click.BadParameter("an empty PATH names no file", param_hint="PATH")
    if paths.count("-") > 1:  # the second read an empty stdin: "empty file"
        raise click.BadParameter("- (standard input) named more than once", param_hint="PATH")
    if stdin_filename is not None:
        paths = _stdin_paths(paths, stdin_filename, quiet)
    configs = ConfigTree()
    start = (stdin_filename,) if stdin_filename is not None else paths
    try:  # the first PATH's configuration, checked before any file; each file gets its own
        settings = settings_for(configs.at(_config_start(start)), select, ignore, unsafe_fixes)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except UnknownTransformError as exc:
        raise click.BadParameter(str(exc)) from exc
    discovery = _discovery(configs, exclude, extend_exclude, force_exclude, respect_gitignore)
    discovery.stdin_name = stdin_filename
    options = Options(
        settings, context_dir, write, check, show_diff, output_format,
        _use_color(color, sys.stdout), _use_color(color, sys.stderr), quiet,
        overrides=(select, ignore, unsafe_fixes), configs=configs,
    )  # fmt: skip
    if discovery.stdin_excluded():
        _excluded_stdin(options)
    tune_gc()
    totals = Totals()
    # --write rewrites one file at a time: a rewritten file is part of the next files' build
    # contexts, so writes made while other workers read them made the output vary with --jobs.
    # More workers than CPUs is never faster, and the pool starts them all at once (fork):
    # --jobs 1000 started 1000 processes, whatever the work.
    workers = 1 if write else min(jobs or usable_cpus(), usable_cpus())
    with _stdout_guard():
        with contextlib.closing(_outcomes(discovery.inputs(paths), options, workers)) as outcomes:
            for outcome in outcomes:
                _emit(outcome)
                totals.add(outcome)
        with _to_stdout():
            if output_format != "text":
                sys.stdout.write(_machine_report(output_format, totals.parts))
            sys.stdout.flush()
    if not quiet:
        sys.stderr.write(_closing(totals, options))
    sys.exit(totals.exit_code(exit_non_zero_on_fix))


def _path_max() -> int:
    """The longest path the system takes, in bytes with the final NUL (4,096 on Linux)."""
    try:
        return os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX: Windows' MAX_PATH of old
        return 4096


def _stdin_paths(paths: tuple[str, ...], name: str, quiet: bool) -> tuple[str, ...]:
    """``-`` alone: with ``--stdin-filename`` stdin is read whatever PATHs say, and any other
    PATH is ignored with a warning, as ruff does."""
    from msdfix.render.quoting import printable

    if not name:
        raise click.BadParameter("an empty PATH names no file", param_hint="--stdin-filename")
    size, limit = len(os.fsencode(os.path.abspath(name))), _path_max()
    if size >= limit:  # no file has it; its folders were looked up in quadratic time
        raise click.BadParameter(
            f"a path of {size:,} bytes names no file (the system allows {limit - 1:,})",
            param_hint="--stdin-filename",
        )
    for path in dict.fromkeys(p for p in paths if p != "-"):
        if not quiet:
            click.echo(f"warning: ignoring {printable(path)} in favor of standard input", err=True)
    return ("-",)


def _excluded_stdin(options: Options) -> NoReturn:
    """``--stdin-filename`` names an excluded file under ``--force-exclude``: nothing is
    checked (ruff's rule), the input is echoed unchanged where the output is the file itself,
    and a machine format gets its empty report; exit 0."""
    import shutil

    if options.echoes_stdin:
        shutil.copyfileobj(sys.stdin.buffer, sys.stdout.buffer)
    elif options.output_format != "text":
        sys.stdout.write(_machine_report(options.output_format, []))
    sys.stdout.flush()
    sys.exit(EXIT_CLEAN)


def _emit(outcome: Outcome) -> None:
    with _to_stdout():
        if outcome.raw is not None:
            sys.stdout.flush()
            sys.stdout.buffer.write(outcome.raw)
            sys.stdout.buffer.flush()
        sys.stdout.write(outcome.stdout)
    sys.stderr.write(outcome.stderr)


class OutputLost(Exception):
    """Standard output refused a write for a reason other than a closed pipe (a full disk,
    an I/O error): the run's output is lost, which is no bug in msdfix."""


@contextlib.contextmanager
def _to_stdout() -> Iterator[None]:
    """Writes to standard output: an OSError other than BrokenPipeError is OutputLost."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputLost(exc.strerror or str(exc)) from exc


@contextlib.contextmanager
def _stdout_guard() -> Iterator[None]:
    """Standard output failing in the block: a closed pipe (``msdfix ... | head``) ends
    msdfix as SIGPIPE would, once the worker pool is shut down; OutputLost (``> /dev/full``,
    was exit 123, "a bug in msdfix") is one line and exit 2."""
    try:
        yield
    except BrokenPipeError:
        _reader_gone()
    except OutputLost as exc:
        _output_lost(exc)


def _output_lost(exc: OutputLost) -> NoReturn:
    """One line and exit 2 once the worker pool is shut down; stdout goes to the null device,
    so that Python's flush at exit does not fail again with a traceback."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    click.echo(f"msdfix: error: cannot write to standard output: {exc}", err=True)
    sys.exit(EXIT_ERROR)


def _reader_gone() -> NoReturn:
    """End as a process killed by SIGPIPE ends (quietly, status 141 in a shell), once the
    worker processes are gone: dying of SIGPIPE at the first write left them running forever,
    blocked on a queue whose other end their own copies held open."""
    with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing to flush
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(EXIT_CHANGES)


def _outcomes(
    inputs: Iterable[Found], options: Options, jobs: int
) -> Generator[Outcome, None, None]:
    """Every input's outcome in input order, from ``jobs`` processes; stdin is read here."""
    from msdfix.parallel import ordered_map
    from msdfix.runner import outcome, set_options, work

    def failed(chunk: list[Found], exc: BaseException) -> list[tuple[Found, Outcome | None]]:
        """A worker died (killed, or its process could not start): the chunk runs here, so
        one lost process fails no file; an exception of a file is that file's error."""
        set_options(options)
        return work(chunk)

    for chunk in ordered_map(work, _chunks(inputs), jobs, failed, set_options, (options,)):
        for found, done in chunk:
            yield done if done is not None else outcome(found, options, sys.stdin.buffer)


def _chunks(inputs: Iterable[Found]) -> Iterator[list[Found]]:
    chunk: list[Found] = []
    for found in inputs:
        chunk.append(found)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Totals:
    """What the end of a run needs: counts, and every file's part of a machine format."""

    def __init__(self) -> None:
        self.files = self.changed = self.errors = self.withheld = 0
        self.rewritten = 0  # files written (a refused write is changed, not rewritten)
        self.internal = self.written = False
        self.pending = False  # changes not written, of a file (not stdin)
        self.unwritten = False  # changes not written (or printed, for stdin)
        self.parts: list[Any] = []

    def add(self, outcome: Outcome) -> None:
        """Count one input."""
        self.files += 1
        self.changed += outcome.changed
        self.rewritten += outcome.written
        self.errors += outcome.error
        self.internal |= outcome.internal
        self.written |= outcome.written
        self.unwritten |= outcome.changed and not outcome.written
        self.pending |= outcome.changed and not outcome.written and not outcome.stdin
        self.withheld += outcome.withheld
        if outcome.machine is not None:
            self.parts.append(outcome.machine)

    def exit_code(self, non_zero_on_fix: bool = False) -> int:
        """0 clean or all written, 1 changes pending (or, with ``non_zero_on_fix``, written),
        2 an error, 123 an internal error."""
        if self.internal:
            return EXIT_INTERNAL
        if self.errors:
            return EXIT_ERROR
        pending = self.unwritten or (non_zero_on_fix and self.written)
        return EXIT_CHANGES if pending else EXIT_CLEAN


def _closing(totals: Totals, options: Options) -> str:
    """File counts for a run over several files, then what to do next (ruff's hints)."""
    from rich.text import Text

    from msdfix.runner import render_text

    out = []
    if not totals.files:  # ruff's and black's words and exit code: nothing to do is no error
        out.append(Text("warning: no Dockerfiles found under the given paths", "yellow"))
    if totals.files > 1:
        verb = "rewritten" if totals.written else "would be rewritten"
        count = totals.rewritten if totals.written else totals.changed  # (a refused write: not)
        line = f"{count} of {totals.files} files {verb}"
        out.append(Text(line + (f", {totals.errors} with errors" if totals.errors else "")))
    if totals.pending and not options.write:
        out.append(Text("hint: run with --write to apply the changes", "dim"))
    if totals.withheld:
        fixes = "fix was" if totals.withheld == 1 else "fixes were"
        out.append(Text(f"hint: {totals.withheld} unsafe {fixes} not applied; "
                        "add --unsafe-fixes to apply them", "dim"))  # fmt: skip
    return render_text(out, options.err_color)


def _machine_report(output_format: str, parts: list[Any]) -> str:
    if output_format == "json":
        from msdfix.render.report import json_text

        return json_text(parts)
    if output_format == "github":
        return "".join(parts)
    from msdfix.render.sarif import sarif_text

    return sarif_text(parts)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``msdfix verify``/``msdfix pr`` subcommands, else the rewrite command.

    Nothing escapes as a traceback: an uncaught exception is one line on stderr and exit 123.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _closed_streams()
    _lenient_stdout()
    _require_cwd()
    if argv is None and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if args and args[0] in SUBCOMMANDS:
            _run(_subcommand(args[0]), args[1:], f"msdfix {args[0]}")
        _run(fix_command, args, "msdfix")
    except Terminated:  # the worker pool is shut down by now: end as SIGTERM ends a process
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    except Exception as exc:
        from msdfix.runner import internal_message

        click.echo(f"msdfix: error: {internal_message(exc)}", err=True)
        sys.exit(EXIT_INTERNAL)


class Terminated(BaseException):
    """SIGTERM, raised where the main process is (a BaseException: no handler takes it)."""


def _terminate(signum: int, frame: object) -> NoReturn:
    """SIGTERM ended the main process at once and left its workers running forever, blocked
    on their queue: it unwinds now, so the pool is shut down first (``_reader_gone``)."""
    raise Terminated


def _run(command: click.Command, args: list[str], prog_name: str) -> NoReturn:
    """``command.main`` as click runs it, except that a usage error's message, which quotes
    input (a configuration's keys and values, a path, an argument), is printable: click
    printed it raw, and a key holding an escape sequence or a newline acted on the terminal or
    forged a line."""
    from msdfix.options import StdoutFailed
    from msdfix.render.quoting import printable

    try:
        code = command.main(args, prog_name=prog_name, standalone_mode=False)
    except StdoutFailed as exc:  # `msdfix --help > /dev/full` was exit 123, `| true` exit 1
        if isinstance(exc.error, BrokenPipeError):
            _reader_gone()
        _output_lost(OutputLost(str(exc)))
    except click.ClickException as exc:
        setattr(exc, "message", printable(exc.message))  # noqa: B010 (final in the stubs)
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort as exc:
        click.echo("Aborted!", err=True)
        if isinstance(exc.__context__, KeyboardInterrupt) and hasattr(signal, "SIGINT"):
            # End as Ctrl-C ends a process (130 in a shell): exit 1 read as `--check`'s
            # "would rewrite" in CI.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _closed_streams() -> None:
    """A standard stream the shell closed (``msdfix >&-``) is None in Python, and the first
    use of it was an internal error (exit 123): it writes to the null device instead, as
    output to a closed stream is lost anyway (the exit code still tells). A closed stdin reads
    as the null device: ``msdfix - <&-`` was an internal error too, and is now ``-:1: error:
    empty file``, as for ``msdfix - </dev/null``."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 (for the process's life)


def _require_cwd() -> None:
    """Exit 2 with one line when the current directory no longer exists (deleted under the
    shell): relative paths and exclude patterns mean nothing then, and the first use of it was
    an internal error (exit 123). ruff also refuses to run there."""
    try:
        os.getcwd()
    except FileNotFoundError:
        click.echo("msdfix: error: the current directory no longer exists", err=True)
        sys.exit(EXIT_ERROR)


def _lenient_stdout() -> None:
    """Let stdout show what its encoding lacks as escapes (stderr's default): a diff or path
    that a Latin-1 or ASCII terminal cannot encode was an internal error (exit 123)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    # (surrogateescape: Python's choice under LC_ALL=C with PYTHONUTF8=0; it fails on "é" too)
    if reconfigure is not None and getattr(sys.stdout, "errors", None) in (
        "strict",
        "surrogateescape",
    ):
        reconfigure(errors="backslashreplace")


def _subcommand(name: str) -> click.Command:
    if name == "verify":
        from msdfix.verify import verify_command

        return verify_command
    from msdfix.bot import pr_command

    return pr_command


if __name__ == "__main__":  # pragma: no cover
    main()
