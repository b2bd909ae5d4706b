"""slim-base: what Debian's -slim images leave out of every package installed on them.

debuerreotype's slim variants (debian:*-slim, and python/node/ruby -slim, built FROM them)
configure dpkg to skip ``/usr/share/{doc,man,groff,info,locale,lintian,linda}`` (keeping the
copyright files and ``locale.alias``): programs that read those files work on the full image
and fail on -slim (groff: "can't find 'DESC' file", man: "No manual entry", a translation:
"No translation file found", a RUN copying an example from ``/usr/share/doc``).
"""

from __future__ import annotations

import posixpath
import re

from msdfix.document import Document
from msdfix.model import Stage
from msdfix.model.context import Unreadable
from msdfix.model.program_calls import COMMON, MAX_SCANNED, SOURCE_PATTERNS, source_text
from msdfix.syntax.values import env_pairs, unquote
from msdfix.transforms.slim_base.facts import Facts

EXCLUDED = re.compile(r"/usr/share/(?:doc|man|groff|info|locale|lintian|linda)(?:/|\b)")
# Packages whose programs read those files: man pages, groff's devices and macros, info
# manuals, lintian's overrides, and documentation packages.
READERS = re.compile(
    r"^(?:man-db|man|groff|groff-base|info|texinfo|pinfo|lintian|manpages(?:-[a-z-]+)?"
    r"|[a-z0-9.+-]+-doc)$"
)
# Locales whose messages come from translations (C, POSIX and English need none).
_UNTRANSLATED = re.compile(r"^(?:C|POSIX|en)(?:[_.@:]|$)")
_LOCALE_VARS = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")
_VARIABLES = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


# Commands that name those paths without reading them: cleanups (`rm -rf /usr/share/doc/*`),
# `mkdir -p /usr/share/man/man1` (the JRE's workaround), dpkg exclude lines written by echo.
_NOT_READING = frozenset({"rm", "rmdir", "mkdir", "find", "echo", "printf", "tee"})


def excluded_reason(doc: Document, stage: Stage, facts: Facts) -> str | None:
    """Why the stage needs files -slim leaves out, or None."""
    last = stage.instructions[-1] if stage.instructions else stage.from_
    by_arg = {k for k, v in doc.model.fixed_scope(stage, last).items() if v is None}
    for line, packages in sorted(facts.apt.items()):
        reader = sorted(p for p in packages if READERS.match(p))
        if reader:
            return f"line {line} installs {reader[0]}, which reads man pages, docs or groff data"
        chosen = sorted(p for p in packages if by_arg & set(_VARIABLES.findall(p)))
        if chosen:  # ARG EXTRA_PACKAGES="": --build-arg EXTRA_PACKAGES=man-db
            return (
                f"line {line} installs {chosen[0]}, packages a build argument may choose "
                "(man-db, *-doc: readers of what -slim leaves out)"
            )
    for use in facts.uses:
        if posixpath.basename(use.program) in _NOT_READING:
            continue
        found = next((m for a in [use.program, *use.args] if (m := EXCLUDED.search(a))), None)
        if found:
            return f"{use.ins.keyword.upper()} at line {use.ins.start_line} reads {found.group(0)}"
    for ins in stage.of("env"):
        env = EXCLUDED.search(ins.args)
        if env:
            return f"ENV at line {ins.start_line} names {env.group(0)}"
    for rel in _sources(doc, vendored=False):
        try:
            found = EXCLUDED.search(source_text(doc.context, rel))
        except Unreadable as exc:  # unread is not "names none"
            return f"{exc}, so what it names is unknown"
        if found:
            return f"{rel} names {found.group(0)}"
    return None


def _sources(doc: Document, vendored: bool) -> list[str]:
    """The project's own sources msdfix reads in the context (``vendored``: also vendor/)."""
    ctx = doc.context
    if not ctx.present:
        return []
    files = sorted({f for pattern in SOURCE_PATTERNS for f in ctx.glob(pattern)})
    return [
        rel
        for rel in files[:MAX_SCANNED]
        if not any(p.fullmatch(rel) for p in COMMON)
        and "node_modules/" not in rel
        and (vendored or not rel.startswith("vendor/"))
    ]


def translation_reason(doc: Document, stage: Stage) -> str | None:
    """A locale other than C/English set for the image: packaged programs' translated
    messages live in /usr/share/locale. Set by ENV, or where the program starts: ``env
    LANG=it_IT.UTF-8`` in CMD/ENTRYPOINT/HEALTHCHECK, ``export LANG=...`` in a start script
    (both lost their translations on a real -slim, built)."""
    for st in stage.lineage:
        for ins in st.of("env"):
            for name, raw in env_pairs(ins):
                value = unquote(raw, ins.escape)  # ENV LC_ALL="en_US.UTF-8" is English
                if name in _LOCALE_VARS and _translated(value):
                    return f"line {ins.start_line} sets {name}={value}"
    for st in stage.lineage:
        for ins in st.of("cmd", "entrypoint", "healthcheck"):
            found = _locale_set(ins.args)
            if found:
                return f"line {ins.start_line} starts the program with {found}"
    for rel in _sources(doc, vendored=True):
        try:
            found = _locale_set(source_text(doc.context, rel))
        except Unreadable as exc:  # unread is not "sets none"
            return f"{exc}, so which locale it sets is unknown"
        if found:
            return f"{rel} sets {found}"
    return None


# Python's gettext given a domain and no folder (``gettext.translation("iso_3166-1",
# languages=["de"])``): it reads ``sys.base_prefix``/share/locale, which is /usr/share/locale
# for Debian's python3 (the python images' own Python reads /usr/local/share/locale).
_DEFAULT_CATALOGS = re.compile(
    r"\bgettext\.(?:translation|install|find|bindtextdomain|dgettext|dngettext)\(\s*"
    r"(?:[\"'][^\"'\n]*[\"']|[A-Za-z_][\w.]*)\s*(?:\)|,\s*(?!localedir\b)[A-Za-z_]\w*\s*=)"
)


def system_catalog_reason(doc: Document) -> str | None:
    """A Python source that loads a gettext domain from the default folder, which is
    /usr/share/locale for Debian's python3: -slim keeps no translation there, so the lookup
    fails whatever LANG says (built for real: ``gettext.translation("iso_3166-1",
    languages=["de"])`` printed German country names on debian:12 and raised "No translation
    file found for domain" on debian:12-slim)."""
    for rel in _sources(doc, vendored=False):
        if not rel.endswith(".py"):
            continue
        try:
            text = source_text(doc.context, rel)
        except Unreadable as exc:  # unread is not "loads none"
            return f"{exc}, so which gettext domains it loads is unknown"
        if _DEFAULT_CATALOGS.search(text):
            return f"{rel} loads a gettext domain from the default folder, /usr/share/locale"
    return None


_ASSIGNED = re.compile(r"""\b(LANG|LANGUAGE|LC_ALL|LC_MESSAGES)=["']?([^\s"';,\]]+)""")


def _translated(value: str) -> bool:
    """A known locale value that is neither C/POSIX nor English."""
    if not value or "$" in value:
        return False
    return not all(_UNTRANSLATED.match(v) for v in value.split(":") if v)


def _locale_set(text: str) -> str | None:
    """``LANG=it_IT.UTF-8`` (an assignment, exported or given to ``env``) in ``text``."""
    if "LANG" not in text and "LC_" not in text:
        return None  # no match can start (the regex, starting with ``\b``, is slow to scan)
    for m in _ASSIGNED.finditer(text):
        if _translated(m.group(2)):
            return f"{m.group(1)}={m.group(2)}"
    return None
