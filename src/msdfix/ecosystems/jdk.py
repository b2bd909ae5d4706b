"""JDK -> JRE (slim-base, split-stages): a program that compiles Java while it runs needs the
JDK's compiler.

A JRE (eclipse-temurin's, built as OpenJDK's legacy JRE image) has no ``jdk.compiler`` module:
``java Hello.java`` (the single-file source launcher, JEP 330) cannot start, and
``ToolProvider.getSystemJavaCompiler()`` returns null (rule engines, JSP, template compilers).
"""

from __future__ import annotations

import re

from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.program_calls import MAX_SCANNED, source_text

JVM_SOURCES = ("*.java", "*.kt", "*.groovy", "*.scala")
# The compiler API, the JDK's in-process tools, or a JDK tool run as a process.
_COMPILES = re.compile(
    r"\bgetSystemJavaCompiler\b|\bgetSystemDocumentationTool\b|\bjavax\.tools\.JavaCompiler\b"
    r"|\bToolProvider\.findFirst\(|\bjdk\.jshell\b"
    r"""|\b(?:ProcessBuilder|exec)\([ \t]*(?:(?:List\.of|Arrays\.asList)\([ \t]*)?"""
    r"""["'](?:javac|jar|jshell|jcmd|jstack|jmap|jps|jinfo|jstat)["' ]"""
)


def source_file_launch(args: list[str]) -> str | None:
    """The source file ``java`` runs in source-file mode (``java Hello.java``,
    ``java --source 17 script``), or None."""
    for i, arg in enumerate(args):
        if arg == "--source" or arg.startswith("--source="):
            return args[i + 1] if arg == "--source" and i + 1 < len(args) else arg
        if not arg.startswith("-") and arg.endswith(".java"):
            return arg
    return None


def compiling_source(ctx: BuildContext) -> str | None:
    """A JVM source of the context that compiles Java or runs a JDK tool while the program
    runs; ``"*"`` when the context has more sources than msdfix reads; None when none does.
    Sources are read up to 8 MiB (``source_text``); Unreadable for one msdfix cannot read."""
    if not ctx.present:
        return None
    files = sorted({f for pattern in JVM_SOURCES for f in ctx.glob(pattern)})
    if len(files) > MAX_SCANNED:
        return "*"
    for rel in files:
        if _COMPILES.search(source_text(ctx, rel)):
            return rel
    return None


def compiling_reason(ctx: BuildContext) -> str | None:
    """Why a JRE may not run the context's program (see ``compiling_source``), or None."""
    try:
        found = compiling_source(ctx)
    except Unreadable as exc:  # unread is not "compiles nothing"
        return (
            f"{exc}, so whether it compiles Java while it runs is unknown (a JRE has no compiler)"
        )
    if found == "*":
        return (
            "the context has more JVM sources than msdfix reads: one may compile Java while it "
            "runs (a JRE has no compiler)"
        )
    if found is not None:
        return f"{found} compiles Java or runs a JDK tool while it runs (a JRE has no compiler)"
    return None
