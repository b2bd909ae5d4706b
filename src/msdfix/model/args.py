"""ARG/ENV scope and ``${VAR}`` expansion as Dockerfile word expansion does it."""

from __future__ import annotations

import re
from collections.abc import Mapping

_VAR_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def expand(text: str, scope: Mapping[str, str | None]) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}``; unknown stay."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        value = scope.get(name)
        op = match.group("op")
        if op is None:
            return value if value is not None else match.group(0)
        word = match.group("word")
        empty = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return word if empty else str(value)
        return "" if empty else word

    return _VAR_RE.sub(replace, text)
