"""Build-context handling for ``msdfix verify``: a private copy, and the edit of one file.

The user's files are never modified: the context is copied to a temporary directory and the
"edit one source file" step of the warm rebuild happens in that copy.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from msdfix.files import walk
from msdfix.model.context import BuildContext, ContextTooLarge

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
    ".ru": "# {}",
    ".ex": "# {}",
    ".exs": "# {}",
    ".sh": "# {}",
    ".vue": "<!-- {} -->",
    ".svelte": "<!-- {} -->",
    ".css": "/* {} */",
    ".scss": "/* {} */",
    ".html": "<!-- {} -->",
}
TOUCH_MARKER = "msdfix verify: warm rebuild edit"


def copy_context(src: Path, dest: Path, dockerfile: Path | None = None) -> Path:
    """Copy the build context to ``dest`` (created), skipping what the build's .dockerignore
    (``<Dockerfile>.dockerignore`` first) excludes; ignore files themselves are always copied.

    Directories are only pruned as a whole when no ``!`` pattern could re-include something.
    """
    context = BuildContext(src, dockerfile)
    try:
        has_negation = context.has_exceptions
        ignore: BuildContext | None = context
    except ContextTooLarge:  # too many rules to evaluate: copy all, the build applies them
        has_negation, ignore = True, None
    dest.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in walk(src):
        rel_root = Path(root).relative_to(src)
        keep_dirs = []
        for d in dirs:
            rel = (rel_root / d).as_posix()
            if not has_negation and ignore and ignore.is_ignored(rel):
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
            if ignore and ignore.is_ignored(rel) and not f.endswith(".dockerignore"):
                continue
            srcf = Path(root) / f
            if srcf.is_symlink():
                os.symlink(os.readlink(srcf), dest / rel)
            elif srcf.is_file():  # not FIFOs, sockets or devices: reading them could hang
                shutil.copy2(srcf, dest / rel)
    return dest


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
