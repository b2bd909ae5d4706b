"""What a transform sees: the parsed file, its model, and its build context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from msdfix.fixes import Applicability, Edit, FileChange, Finding, Fix
from msdfix.model import BuildContext, Model, build_model
from msdfix.syntax import Dockerfile, Instruction


@dataclass
class Document:
    """One Dockerfile under rewrite."""

    dockerfile: Dockerfile
    context: BuildContext
    path: str | None = None
    # The builder supports RUN --mount: cache-mount is not ignored (users of builders without
    # it, the legacy builder and kaniko, ignore cache-mount, as the README says).
    run_mounts: bool = True
    # The text the user wrote for a span of the current text (earlier passes may have edited
    # it: cache-mount drops ``npm cache clean``); None: the current text is the original.
    original_of: Callable[[int, int], str] | None = None
    # cache-mount runs in this run (selected and not ignored), so its safe fixes reach the
    # output: what another transform may count on (``--select reorder-copy`` adds no mount).
    cache_mounting: bool = True

    def written(self, ins: Instruction) -> str:
        """``ins`` as the user wrote it, before this run's earlier fixes."""
        if self.original_of is None:
            return self.text[ins.start : ins.end]
        return self.original_of(ins.start, ins.end)

    @cached_property
    def model(self) -> Model:
        """Stages, global ARGs and the COPY graph (computed once per parsed text)."""
        cached: Model | None = getattr(self.dockerfile, "_model", None)
        if cached is None:
            cached = build_model(self.dockerfile)
            self.dockerfile._model = cached  # type: ignore[attr-defined]
        return cached

    @property
    def text(self) -> str:
        """The current text."""
        return self.dockerfile.text

    @property
    def newline(self) -> str:
        """The file's line ending, to use in inserted lines."""
        return self.dockerfile.newline

    @cached_property
    def ends_in_continuation(self) -> bool:
        """The last instruction ends with a line continuation at the end of the file (valid:
        BuildKit ends it there). Text added after it would join it."""
        instructions = self.dockerfile.instructions
        if not instructions:
            return False
        last = instructions[-1]
        return self.text[last.start :].rstrip(" \t\r\n").endswith(last.escape)

    @cached_property
    def is_windows(self) -> bool:
        """Backtick escape or a PowerShell/cmd SHELL: leave such files alone."""
        cached: bool | None = getattr(self.dockerfile, "_windows", None)
        if cached is None:
            cached = self._windows()
            self.dockerfile._windows = cached  # type: ignore[attr-defined]
        return cached

    def _windows(self) -> bool:
        if self.dockerfile.escape == "`":
            return True
        for ins in self.dockerfile.instructions:
            args = ins.json_args() or []
            if (
                ins.cmd == "shell"
                and args
                and args[0].lower().split("\\")[-1].startswith(("powershell", "pwsh", "cmd"))
            ):
                return True
        stages = self.model.stages
        return any(
            "windows" in s.image.raw.lower() or "nanoserver" in s.image.raw.lower() for s in stages
        )

    def fix(
        self,
        transform: str,
        ins: Instruction,
        message: str,
        edits: list[Edit],
        applicability: Applicability = Applicability.SAFE,
        *,
        file_changes: list[FileChange] | None = None,
        changes_config: frozenset[str] = frozenset(),
    ) -> Finding:
        """A finding located at instruction ``ins``, with the fix made of ``edits``."""
        fix = Fix(applicability, edits, file_changes or [], changes_config)
        return Finding(transform, message, ins.start_line, ins.end_line, fix)

    def note(self, transform: str, ins: Instruction, message: str) -> Finding:
        """An explanation located at instruction ``ins``: a finding without a fix."""
        return Finding(transform, message, ins.start_line, ins.end_line)
