"""Programs a project's own sources run by name (``exec.Command("git", ...)``,
``subprocess.run(["curl", ...])``, ``execSync('git rev-parse')``): tools that a ``-slim`` or
distroless image may lack although the full toolchain image has them."""

from __future__ import annotations

import re

from msdfix.model.context import BuildContext

# Names distinctive enough to look for as quoted words in sources ("file" and "free" are not).
CALLED = (
    "curl", "wget", "git", "ssh", "scp", "sftp", "gpg", "hg", "svn", "ps", "pkill", "pgrep",
    "convert", "identify", "magick", "unzip", "bzip2", "xz",
)  # fmt: skip
SOURCE_PATTERNS = ("*.py", "*.js", "*.mjs", "*.cjs", "*.ts", "*.go", "*.rb", "*.sh", "*.rs")
MAX_SCANNED = 4000


def tool_patterns(tools: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a tool named as a quoted word in a source, a tool run at a shell script line's start),
    each with the tool's name as group 1."""
    names = "|".join(map(re.escape, tools))
    literal = re.compile(r"[\"'`](?:/usr/bin/|/bin/)?(" + names + r")[\"'` ]")
    shell = re.compile(r"(?m)^[^#\n]*(?<![\w./-])(" + names + r")(?![\w.-])")
    return literal, shell


def called_tool(ctx: BuildContext, tools: tuple[str, ...]) -> str | None:
    """The first of ``tools`` a source file of the build context names as a program (a quoted
    word, or a command at the start of a shell script's line); None when none does, or when
    there is no context or too much of it to read."""
    if not ctx.present or not tools:
        return None
    literal, shell = tool_patterns(tools)
    files = sorted({f for pattern in SOURCE_PATTERNS for f in ctx.glob(pattern)})
    if len(files) > MAX_SCANNED:
        return None
    for rel in files:
        if "node_modules/" in rel or rel.startswith("vendor/"):
            continue
        text = ctx.read_text(rel) or ""
        match = literal.search(text) or (shell.search(text) if rel.endswith(".sh") else None)
        if match:
            return match.group(1)
    return None
