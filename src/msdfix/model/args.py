"""ARG/ENV scope and ``${VAR}`` expansion as Dockerfile word expansion does it."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_PLAIN_VAR_RE = re.compile(r"\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)")  # _VAR_RE where no "}" follows


# Longest expansion msdfix computes. Values that double at each line (``ARG B=$A$A``) grow
# exponentially; a larger result stays as written, which every reader treats as unknown.
MAX_EXPANSION = 64 * 1024


def expand(text: str, scope: Mapping[str, str | None]) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}``; unknown stay.

    A name the scope holds as None (an ARG without default, or a value a build argument may
    change) stays as written in every form: ``${SUB:-app}`` is ``app`` only when no
    ``--build-arg SUB=...`` is given, so the default is no answer for it.
    A result longer than ``MAX_EXPANSION`` characters is not computed: ``text`` is returned as
    written.
    """
    if "$" not in text:
        return text  # nothing to expand (most words): no scan
    total = len(text)

    def replace(match: re.Match[str]) -> str:
        nonlocal total
        groups = match.groupdict()
        name = groups.get("braced") or groups["plain"]
        value = scope.get(name)
        op = groups.get("op")
        if op is None or (value is None and name in scope):
            found = value if value is not None else match.group(0)
        else:
            word = match.group("word")
            empty = value is None or (op.startswith(":") and value == "")
            if op.endswith("-"):
                found = word if empty else str(value)
            else:
                found = "" if empty else word
        total += len(found) - len(match.group(0))
        if total > MAX_EXPANSION:
            raise _TooLong
        return found

    # Linear: no "${" after the last "}" can close, so only $VAR is looked for there. Each of
    # them scanned to the end for a "}" and failed, from every "${" (quadratic).
    cut = text.rfind("}") + 1
    try:
        return _VAR_RE.sub(replace, text[:cut]) + _PLAIN_VAR_RE.sub(replace, text[cut:])
    except _TooLong:
        return text


class _TooLong(Exception):
    """An expansion beyond ``MAX_EXPANSION``."""
