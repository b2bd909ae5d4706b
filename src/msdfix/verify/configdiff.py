"""Compare the runtime config of two images (``docker image inspect`` ``Config``).

A difference is an ``error`` when it changes what the container does (Entrypoint, Cmd, User,
WorkingDir, ExposedPorts, Healthcheck, StopSignal, Volumes) or concerns an ENV/LABEL key that
the original Dockerfile sets itself. ENV/LABEL keys that only came from the base image (PATH,
GOPATH, NODE_VERSION, vendor labels...) legitimately change with a new runtime base, so those
differences are ``warning``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from msdfix.syntax import ParseError, parse
from msdfix.syntax.values import env_pairs, unquote

COMPARED_KEYS = (
    "Entrypoint",
    "Cmd",
    "Env",
    "ExposedPorts",
    "User",
    "WorkingDir",
    "Labels",
    "Healthcheck",
    "StopSignal",
    "Volumes",
)


@dataclass(frozen=True)
class ConfigDiff:
    """One differing config entry (``key`` is e.g. ``Cmd`` or ``Env.PORT``)."""

    key: str
    original: Any
    rewritten: Any
    severity: str  # "error" | "warning"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def env_map(env: Iterable[str] | None) -> dict[str, str]:
    """``["A=1", "B=2"]`` -> ``{"A": "1", "B": "2"}``."""
    out: dict[str, str] = {}
    for item in env or ():
        key, _, value = item.partition("=")
        out[key] = value
    return out


def declared_keys(dockerfile_text: str, keyword: str) -> set[str]:
    """Keys set by ``ENV``/``LABEL`` instructions anywhere in a Dockerfile (syntax tree)."""
    cmd = keyword.lower()
    try:
        return {
            unquote(key, ins.escape)
            for ins in parse(dockerfile_text).instructions
            if ins.cmd == cmd
            for key, _ in env_pairs(ins)
        }
    except ParseError:
        return set()  # BuildKit rejects it too: every difference stays a warning


def _norm(value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    return value


def _map_diffs(
    prefix: str, a: Mapping[str, Any], b: Mapping[str, Any], declared: set[str]
) -> list[ConfigDiff]:
    diffs = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if va != vb:
            sev = "error" if key in declared else "warning"
            diffs.append(ConfigDiff(f"{prefix}.{key}", va, vb, sev))
    return diffs


def diff_configs(
    original: Mapping[str, Any], rewritten: Mapping[str, Any], dockerfile_text: str = ""
) -> list[ConfigDiff]:
    """Differences between two image ``Config`` dicts, errors first, then by key."""
    diffs: list[ConfigDiff] = []
    env_declared = declared_keys(dockerfile_text, "ENV")
    label_declared = declared_keys(dockerfile_text, "LABEL")
    for key in COMPARED_KEYS:
        a, b = original.get(key), rewritten.get(key)
        if key == "Env":
            diffs += _map_diffs("Env", env_map(a), env_map(b), env_declared)
        elif key == "Labels":
            diffs += _map_diffs("Labels", a or {}, b or {}, label_declared)
        elif key in ("ExposedPorts", "Volumes"):
            sa, sb = sorted((a or {}).keys()), sorted((b or {}).keys())
            if sa != sb:
                diffs.append(ConfigDiff(key, sa or None, sb or None, "error"))
        elif key == "WorkingDir" and (a or "/") == (b or "/"):
            continue  # an empty WorkingDir runs in /: a base that spells it out changes nothing
        elif _norm(a) != _norm(b):
            diffs.append(ConfigDiff(key, a, b, "error"))
    return sorted(diffs, key=lambda d: (d.severity != "error", d.key))


def has_errors(diffs: Iterable[ConfigDiff]) -> bool:
    """True when any difference is an error."""
    return any(d.severity == "error" for d in diffs)
