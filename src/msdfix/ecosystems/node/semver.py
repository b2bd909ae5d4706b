"""node-semver: whether a version satisfies a range, as npm decides it."""

from __future__ import annotations

import re

from msdfix.files import decimal

# A node-semver version: major, minor, patch, a prerelease's identifiers (loose forms: a
# leading v or =; build metadata, which no comparison reads).
_SEMVER_PRE = r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
_SEMVER = re.compile(r"[v=\s]*(\d+)\.(\d+)\.(\d+)" + _SEMVER_PRE)
# One comparator of a node-semver range: an operator and a version, parts left out or x/*,
# a prerelease only after three parts.
_SEMVER_WORD = re.compile(
    r"(<=|>=|<|>|=|\^|~>?)?[v=]*(\d+|[xX*])(?:\.(\d+|[xX*])(?:\.(\d+|[xX*])" + _SEMVER_PRE + ")?)?"
)
_SEMVER_HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)")
Version = tuple[int, int, int, tuple[str, ...]]
# The lowest prerelease (``-0``), which node-semver's upper bounds carry (``<2.0.0-0``).
_LOWEST = ("0",)
# node-semver's largest version part (Number.MAX_SAFE_INTEGER): a larger one is invalid.
_SEMVER_MAX = 2**53 - 1


def semver_satisfies(version: object, spec: str) -> bool | None:
    """Whether ``version`` satisfies the node-semver range ``spec`` as npm's dep-valid
    checks a lock entry (``semver.satisfies(version, spec, loose)``, ``*`` or an empty spec
    met by any version): alternatives joined by ``||``, each a set of comparators (``<``,
    ``<=``, ``>``, ``>=``, ``=``, ``^``, ``~``, x-ranges such as ``2.x`` or ``2``, hyphen
    ranges ``1.2 - 2``) desugared as node-semver 7 does, a prerelease version met only by a
    set one of whose comparators has a prerelease of the same major.minor.patch (``^1.2.3-rc.1``
    takes 1.2.3-rc.2, not 1.2.4-rc.1). None for any other form (a tag, git, a file). A
    version node-semver does not read meets no range (its satisfies answers false: npm
    resolves the edge again)."""
    if not isinstance(version, str):
        return None
    if spec.strip() in ("", "*"):
        return True
    alternatives = [_semver_bounds(alt) for alt in spec.split("||")]
    if any(bounds is None for bounds in alternatives):
        return None
    have = _semver_version(version)
    return have is not None and any(_semver_set_holds(have, b or []) for b in alternatives)


def _semver_version(text: str) -> Version | None:
    """A version's parts (None: not a node-semver version, as one longer than 256
    characters or with a part above 2**53 - 1 is not: node-semver 7.8.5 reads neither)."""
    found = _SEMVER.fullmatch(text) if len(text) <= 256 else None
    if found is None:
        return None
    major, minor, patch, pre = found.groups()
    parts = [decimal(major), decimal(minor), decimal(patch)]
    if max(parts) > _SEMVER_MAX:
        return None
    return parts[0], parts[1], parts[2], tuple(pre.split(".")) if pre else ()


def _semver_set_holds(have: Version, bounds: list[tuple[str, Version]]) -> bool:
    """Whether a version meets every comparison of one comparator set; a prerelease only
    where one of the set's versions is a prerelease of its major.minor.patch."""
    if not all(_semver_holds(have, op, want) for op, want in bounds):
        return False
    return not have[3] or any(want[3] and want[:3] == have[:3] for _, want in bounds)


def _semver_bounds(alt: str) -> list[tuple[str, Version]] | None:
    """The plain comparisons (op, full version) one comparator set means; None: not read."""
    hyphen = _SEMVER_HYPHEN.fullmatch(alt.strip())
    words = [f">={hyphen.group(1)}", f"<={hyphen.group(2)}"] if hyphen else []
    words = words or re.sub(r"(<=|>=|<|>|=|\^|~>?)\s+", r"\1", alt).split()
    bounds: list[tuple[str, Version]] = []
    for word in words:
        found = _SEMVER_WORD.fullmatch(word)
        if found is None:
            return None
        parts: list[int] = []
        for part in found.groups()[1:4]:
            if part is None or not part.isdigit():
                break
            parts.append(decimal(part))
        if parts and max(parts) > _SEMVER_MAX:
            return None  # node-semver: an invalid comparator
        pre = tuple(found.group(5).split(".")) if found.group(5) and len(parts) == 3 else ()
        bounds += _semver_desugar(found.group(1) or "", parts, pre)
    return bounds


def _semver_bump(parts: list[int]) -> Version:
    """The lowest prerelease above every version that starts with ``parts`` (1.2 ->
    1.3.0-0), node-semver's upper bound."""
    major, minor, patch = _semver_full([*parts[:-1], parts[-1] + 1])
    return major, minor, patch, _LOWEST


def _semver_full(parts: list[int]) -> tuple[int, int, int]:
    """A partial version's parts with zeros for those left out (1.2 -> 1.2.0)."""
    padded = [*parts, 0, 0, 0]
    return padded[0], padded[1], padded[2]


def _semver_desugar(op: str, parts: list[int], pre: tuple[str, ...]) -> list[tuple[str, Version]]:
    """node-semver's meaning of ``op`` and a partial version ``parts`` (with its prerelease
    ``pre``) as plain comparisons."""
    major, minor, patch = _semver_full(parts)
    full = (major, minor, patch, pre)
    if not parts:  # *, x: any version, except below or above all of them
        return [("<", (0, 0, 0, _LOWEST))] if op in ("<", ">") else []
    if op in ("", "=") and len(parts) == 3:
        return [("=", full)]
    if op in ("", "=", "<=", ">") and len(parts) < 3:
        if op == ">":
            return [(">=", _semver_bump(parts)[:3] + ((),))]
        return ([] if op == "<=" else [(">=", full)]) + [("<", _semver_bump(parts))]
    if op == "<" and len(parts) < 3:
        return [("<", (major, minor, patch, _LOWEST))]
    if op in ("<", "<=", ">", ">="):
        return [(op, full)]
    if op.startswith("~"):
        return [(">=", full), ("<", _semver_bump(parts[:2]))]
    nonzero = next((i for i, n in enumerate(parts) if n), len(parts) - 1)  # ^0.2.3 keeps 0.2
    return [(">=", full), ("<", _semver_bump(parts[: nonzero + 1]))]


def _semver_key(version: Version) -> tuple[object, ...]:
    """A version's precedence as node-semver orders it: a prerelease before its release,
    identifiers compared numerically when numeric, numbers before words."""
    major, minor, patch, pre = version
    ids = tuple((0, decimal(i), "") if i.isdigit() else (1, 0, i) for i in pre)
    return major, minor, patch, (0, ids) if pre else (1, ())


def _semver_holds(have: Version, op: str, want: Version) -> bool:
    """One plain comparison of two full versions."""
    left, right = _semver_key(have), _semver_key(want)
    return {
        "=": left == right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]
