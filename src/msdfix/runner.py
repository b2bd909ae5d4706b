"""Processing files with settings: shared by the command line, ``verify``, the bot and bench/."""

from __future__ import annotations

from msdfix.config import FileConfig
from msdfix.engine import InternalError, Settings, rewrite
from msdfix.model import BuildContext
from msdfix.render.report import FileReport
from msdfix.syntax import ParseError
from msdfix.transforms import all_transforms


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
            f"unknown transform id(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return ids


def settings_for(
    config: FileConfig, select: str | None, ignore: str | None, unsafe: bool | None
) -> Settings:
    """Settings from a configuration file and command-line overrides (flags win)."""
    for configured in (config.select, config.ignore):
        if configured:
            parse_ids(",".join(configured))
    chosen = parse_ids(select) if select is not None else config.select
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
