"""yarn 1's yarn.lock: its entries, and whether it pins package.json's ranges or is stale."""

from __future__ import annotations

import re

# A yarn 1 lock entry's first line: its patterns, ``"@a/b@^1.0.0", "@a/b@~1.0.2":`` or
# ``ms@2.1.3:``; a dependency line under ``dependencies:``: ``    "@a/b" "^1.0.0"``.
_CLASSIC_KEYS = re.compile(r"^(?![\s#])(.+):[^\S\n]*$")
_CLASSIC_DEP = re.compile(r'^[ ]{4}"?([^"\s]+)"?[ ]+"?([^"\n]*?)"?[ ]*$')


def _classic_entries(lock: str) -> tuple[dict[str, int], list[list[str]]]:
    """A yarn 1 lock's patterns (each to its entry's index) and each entry's dependency
    patterns (``dependencies`` and ``optionalDependencies``)."""
    owner: dict[str, int] = {}
    deps: list[list[str]] = []
    for line in lock.splitlines():
        key = _CLASSIC_KEYS.match(line)
        if key:
            deps.append([])
            for pattern in key.group(1).split(","):
                owner[pattern.strip().strip('"')] = len(deps) - 1
            continue
        dep = _CLASSIC_DEP.match(line)
        if dep and deps:
            deps[-1].append(f"{dep.group(1)}@{dep.group(2)}")
    return owner, deps


def yarn_classic_stale(lock: str, package: object) -> str | None:
    """Why yarn 1's install that is not frozen saves a new yarn.lock ("Saved lockfile"), or
    None when the lock is in step: a ``name@range`` package.json (dependencies,
    devDependencies, optionalDependencies) or a locked entry asks for has no entry (yarn
    resolves and adds it), or an entry or an entry's pattern none of them reaches (yarn
    drops it). All built with yarn 1.22: the lock rewritten in place. None too for a lock
    that is not yarn 1's and for projects with workspaces (their entries follow other
    rules), and ``link:``, empty and ``*`` ranges (locked under another pattern, or not at
    all) end the search. With resolutions only package.json's own patterns are looked up."""
    if "# yarn lockfile v1" not in lock[:300] or not isinstance(package, dict):
        return None
    if package.get("workspaces"):
        return None
    owner, deps = _classic_entries(lock)
    todo: list[str] = []
    for field in ("dependencies", "devDependencies", "optionalDependencies"):
        declared = package.get(field)
        for name, spec in declared.items() if isinstance(declared, dict) else ():
            if not isinstance(spec, str) or spec.strip() in ("", "*") or spec.startswith("link:"):
                return None
            todo.append(f"{name}@{spec}")
    if package.get("resolutions"):
        # resolutions lock nested patterns under other rules; package.json's own patterns
        # are still locked as written (built: a dependency added, yarn saved 1,379 bytes
        # over the context's 1,131)
        missing = [pattern for pattern in todo if pattern not in owner]
        return f"it locks no {missing[0]}" if missing else None
    seen: set[int] = set()
    asked: set[str] = set()
    while todo:
        pattern = todo.pop()
        if pattern not in owner:
            return f"it locks no {pattern}"
        asked.add(pattern)
        if owner[pattern] not in seen:
            seen.add(owner[pattern])
            todo.extend(deps[owner[pattern]])
    if len(seen) < len(deps):
        return f"it locks {len(deps) - len(seen)} package(s) nothing asks for"
    # yarn keeps the lock only when every pattern it holds is asked for (a reached entry's
    # ``ms@^2.1.1, ms@^2.1.3`` with ms@^2.1.1 no longer asked: yarn dropped it, built)
    if len(asked) < len(owner):
        return f"it locks {len(owner) - len(asked)} pattern(s) nothing asks for"
    return None


def yarn_classic_pins(lock: str, package: object) -> bool:
    """yarn 1's lock holds an entry, with its version and integrity, for every pattern
    package.json and the reached entries ask for, and nothing else: yarn installs each
    locked version whatever its cache holds (built: ``--frozen-lockfile --prefer-offline``
    over a lock of is-number 6.0.0 for ``>=6.0.0`` with 7.0.0 cached, and of 7.0.0 with 6.0.0
    cached, installed the lock's). False where ``yarn_classic_stale`` cannot tell: no yarn
    1 lock, workspaces, resolutions, ``*``, ``link:`` or empty ranges; and for a local
    folder or file (``file:``, a path): yarn reads its dependencies from its package.json,
    and ``--frozen-lockfile`` resolved one its lock entry lacked without failing (built: the
    mounted rewrite took the cache's is-number 6.0.0, the original 7.0.0)."""
    if "# yarn lockfile v1" not in lock[:300] or not isinstance(package, dict):
        return False
    if package.get("workspaces") or package.get("resolutions") or "@file:" in lock:
        return False
    for field in ("dependencies", "devDependencies", "optionalDependencies"):
        declared = package.get(field)
        if declared is not None and not isinstance(declared, dict):
            return False
        for spec in (declared or {}).values():
            if not isinstance(spec, str) or spec.strip() in ("", "*"):
                return False
            if spec.startswith(("link:", "file:", ".", "/", "~")):
                return False
    return yarn_classic_stale(lock, package) is None
