"""Build-context handling for ``msdfix verify``: private copy, .dockerignore, file to touch.

The user's files are never modified: the context is copied to a temporary directory and the
"edit one source file" step of the warm rebuild happens in that copy.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import uuid
from pathlib import Path, PurePosixPath

from msdfix.model.context import BuildContext

# Dependency manifests, lock files and build config: touching them is a dependency change,
# not the source edit the warm rebuild is meant to measure.
MANIFEST_NAMES = frozenset(
    {
        "package.json",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "bun.lockb",
        ".npmrc",
        ".yarnrc",
        ".yarnrc.yml",
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "poetry.lock",
        "pdm.lock",
        "uv.lock",
        "Pipfile",
        "Pipfile.lock",
        "setup.py",
        "setup.cfg",
        "MANIFEST.in",
        "go.mod",
        "go.sum",
        "go.work",
        "go.work.sum",
        "Cargo.toml",
        "Cargo.lock",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
        "gradle.properties",
        "gradlew",
        "mvnw",
        "Gemfile",
        "Gemfile.lock",
        "composer.json",
        "composer.lock",
        "mix.exs",
        "mix.lock",
        "packages.lock.json",
        "global.json",
        "Makefile",
        ".dockerignore",
    }
)
MANIFEST_GLOBS = (
    "requirements*.txt",
    "*.csproj",
    "*.fsproj",
    "*.sln",
    "Dockerfile*",
    "*.Dockerfile",
    "*.dockerignore",
    "*.lock",
    "tsconfig*.json",
    "*.config.js",
    "*.config.mjs",
    "*.config.ts",
)

# Suffix -> comment appended to change the file's content harmlessly. Order = preference.
COMMENT_STYLES: dict[str, str] = {
    ".js": "// {}",
    ".mjs": "// {}",
    ".cjs": "// {}",
    ".ts": "// {}",
    ".tsx": "// {}",
    ".jsx": "// {}",
    ".py": "# {}",
    ".go": "// {}",
    ".rs": "// {}",
    ".java": "// {}",
    ".kt": "// {}",
    ".scala": "// {}",
    ".rb": "# {}",
    ".php": "// {}",
    ".cs": "// {}",
    ".c": "/* {} */",
    ".h": "/* {} */",
    ".cc": "// {}",
    ".cpp": "// {}",
    ".hpp": "// {}",
    ".swift": "// {}",
    ".ex": "# {}",
    ".exs": "# {}",
    ".sh": "# {}",
    ".vue": "<!-- {} -->",
    ".svelte": "<!-- {} -->",
    ".css": "/* {} */",
    ".scss": "/* {} */",
    ".html": "<!-- {} -->",
}
SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        "target",
        "dist",
        "build",
        ".mypy_cache",
        ".pytest_cache",
        ".tox",
        "vendor",
    }
)
TOUCH_MARKER = "msdfix verify: warm rebuild edit"


def _match_one(pattern: str, rel: str) -> bool:
    pattern = pattern.strip("/")
    pattern = re.sub(r"^(\./)+", "", pattern)
    parts = PurePosixPath(rel).parts
    # A pattern matches the path itself or any parent directory (excluding a dir excludes all).
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if _glob(pattern, prefix):
            return True
    return False


def _glob(pattern: str, path: str) -> bool:
    if "**" in pattern:
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            else:
                ch = pattern[i]
                regex += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
                i += 1
        return re.fullmatch(regex, path) is not None
    pp, tp = pattern.split("/"), path.split("/")
    if len(pp) != len(tp):
        return False
    return all(fnmatch.fnmatchcase(t, p) for p, t in zip(pp, tp, strict=True))


def copy_context(src: Path, dest: Path) -> Path:
    """Copy the build context to ``dest`` (created), skipping what .dockerignore excludes.

    Directories are only pruned as a whole when no ``!`` pattern could re-include something.
    """
    ignore = BuildContext(src)
    has_negation = ignore.has_exceptions
    dest.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(src):
        rel_root = Path(root).relative_to(src)
        keep_dirs = []
        for d in dirs:
            rel = (rel_root / d).as_posix()
            if not has_negation and ignore.is_ignored(rel):
                continue
            full = Path(root) / d
            if full.is_symlink():
                os.symlink(os.readlink(full), dest / rel)
                continue
            (dest / rel).mkdir(exist_ok=True)
            keep_dirs.append(d)
        dirs[:] = keep_dirs
        for f in files:
            rel = (rel_root / f).as_posix()
            if ignore.is_ignored(rel) and f != ".dockerignore":
                continue
            srcf = Path(root) / f
            if srcf.is_symlink():
                os.symlink(os.readlink(srcf), dest / rel)
            else:
                shutil.copy2(srcf, dest / rel)
    return dest


def is_manifest(rel: str) -> bool:
    """True for dependency manifests, lock files and build configuration."""
    name = PurePosixPath(rel).name
    return name in MANIFEST_NAMES or any(fnmatch.fnmatch(name, g) for g in MANIFEST_GLOBS)


def copy_sources(dockerfile_text: str) -> list[str] | None:
    """Context sources of COPY/ADD without ``--from`` in a Dockerfile; None means unknown."""
    joined = re.sub(r"\\\r?\n", " ", dockerfile_text)
    sources: list[str] = []
    for line in joined.splitlines():
        words = line.strip().split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:]]
        if any(a.startswith("--from") for a in args):
            continue
        args = [a for a in args if not a.startswith("--")]
        if args and args[0].startswith("["):
            return None  # JSON form: do not guess
        if "<<" in line:
            continue  # heredoc
        sources.extend(a.strip("\"'") for a in args[:-1])
    return sources


def _covered(rel: str, sources: list[str]) -> bool:
    for s in sources:
        s = re.sub(r"^(\./)+", "", s).rstrip("/")
        if s in ("", "."):
            return True
        if "$" in s:
            return True
        if rel == s or rel.startswith(s + "/") or _glob(s, rel) or _match_one(s, rel):
            return True
    return False


def _named_by_copy(rel: str, texts: list[str]) -> bool:
    """True when a COPY/ADD of any of the Dockerfiles names ``rel`` itself (not a parent dir)."""
    for text in texts:
        for src in copy_sources(text) or []:
            src = re.sub(r"^(\./)+", "", src)
            if src not in ("", ".") and (rel == src or _glob(src, rel)):
                return True
    return False


def choose_touch_file(context: Path, dockerfile_texts: list[str]) -> str | None:
    """Pick a source file (relative POSIX path) whose edit should only rebuild the app layers.

    Candidates: files copied into the image by a COPY/ADD of the original Dockerfile, not
    excluded by .dockerignore, not a manifest/lock file, with a known comment syntax. Files that
    a COPY/ADD of either Dockerfile names explicitly (e.g. ``COPY build.sh ./`` ahead of the
    install) are avoided unless nothing else qualifies. Preference: suffix order of
    COMMENT_STYLES, then shallow paths, then alphabetical.
    """
    ignore = BuildContext(context)
    sources = copy_sources(dockerfile_texts[0]) if dockerfile_texts else None
    order = {suf: i for i, suf in enumerate(COMMENT_STYLES)}
    best: tuple[int, int, int, str] | None = None
    for root, dirs, files in os.walk(context):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for f in files:
            rel = (Path(root) / f).relative_to(context).as_posix()
            suffix = PurePosixPath(f).suffix
            if suffix not in order or is_manifest(rel):
                continue
            if ignore.is_ignored(rel):
                continue
            if sources is not None and not _covered(rel, sources):
                continue
            named = 1 if _named_by_copy(rel, dockerfile_texts) else 0
            key = (named, order[suffix], rel.count("/"), rel)
            if best is None or key < best:
                best = key
    return best[3] if best else None


def touch_file(path: Path, token: str | None = None) -> str:
    """Append a harmless comment line to ``path`` (content changes, semantics do not).

    ``token`` defaults to a random value: BuildKit caches by content, so a fixed edit would hit
    the cache left by an earlier verify run and the "warm rebuild" would measure nothing.
    Returns the token used.
    """
    token = token or uuid.uuid4().hex[:12]
    style = COMMENT_STYLES.get(path.suffix, "# {}")
    data = path.read_bytes()
    sep = b"" if data.endswith(b"\n") or not data else b"\n"
    path.write_bytes(data + sep + (style.format(f"{TOUCH_MARKER} {token}") + "\n").encode())
    return token
