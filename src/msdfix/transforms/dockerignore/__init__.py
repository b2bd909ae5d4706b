"""dockerignore: create or extend the build's .dockerignore with what the build never copies.

What it does
    Appends to the ``.dockerignore`` BuildKit reads (``<Dockerfile>.dockerignore`` next to the
    Dockerfile when there is one, else the context's ``.dockerignore``, created if missing):
    ``.git``, ``node_modules`` (Node projects), ``.venv``/``venv`` and ``__pycache__``/``*.pyc``
    (Python projects), ``dist``/``build``/``target`` when the project's ``.gitignore`` marks them
    as generated, ``.env``/``.env.*``/``*.pem``/``*.key``/``id_rsa*`` anywhere, the Dockerfile
    itself and the new ignore file, when one of them keeps out something the context has now.
    Lines are only appended (never reordered or deleted), and a line that would undo a ``!``
    re-include is not. It also reports a ``COPY``/``ADD`` of a path the existing rules exclude
    (BuildKit's CopyIgnoredFile check).
Why
    Everything in the context is sent to the builder on every build, and a ``COPY . .`` layer is
    rebuilt whenever any file under it changes: a ``git commit`` or a local ``npm install`` then
    invalidates the cache. Host ``node_modules`` and virtualenvs hold binaries for the host's
    platform, and ``.env`` files and keys end up in image layers.
Example
    A Node API with ``COPY . .`` and ``RUN npm ci`` gets a ``.dockerignore`` with ``.git``,
    ``node_modules``, ``**/.env``, ..., ``Dockerfile`` and ``.dockerignore``.
Fix safety
    Every line is checked with Docker's own matching rules against the context's files and
    every ``COPY``/``ADD``/``RUN --mount`` source of every stage, of this Dockerfile and of the
    other Dockerfiles of the context that read the same file: a line that would exclude
    something a source names is never added. A line is safe when nothing the build copies
    changes (only specific paths are copied, or the paths are absent); ``.env``/key files and
    installed dependencies count wherever a copied folder may hold them in a checkout (they are
    not committed). Under ``COPY . .`` it is
    unsafe, with what to check: ``node_modules`` or a virtualenv only when a RUN installs the
    packages (else kept: the app needs them), build outputs only when a RUN builds them, ``.git``
    only when no step msdfix sees reads it (``git``, ``go build``'s VCS stamping,
    setuptools-scm, ...), secrets always (the app may read them). A Dockerfile from stdin gets
    the change as a display-only suggestion; a ``$VAR`` source msdfix cannot expand declines.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from msdfix.document import Document
from msdfix.files import InputError, exists, read_regular, resolves_within
from msdfix.fixes import Applicability, FileChange, Finding
from msdfix.model.copies import stage_sources
from msdfix.model.pending import PendingIgnore, ignore_path
from msdfix.transforms.base import Transform, register
from msdfix.transforms.dockerignore.plan import Verdict, display, own_path, plan


@register
class DockerIgnoreTransform(Transform):
    id = "dockerignore"
    title = "Keep .git, dependencies, build outputs and secrets out of the build context"
    order = 90

    def check(self, doc: Document) -> Iterable[Finding]:
        ctx = doc.context
        path = ignore_path(ctx)
        if path is None or ctx.root is None or not doc.model.stages or doc.is_windows:
            return
        name = display(path, ctx.root)
        if ctx.dockerignore_error:  # the build fails on it already: say why, change nothing
            message = f"{name} left alone (the build fails on it): {ctx.dockerignore_error}"
            yield doc.note(self.id, doc.model.stages[0].from_, message)
            return
        yield from self._copy_ignored(doc, name)
        if path.is_symlink() and not resolves_within(path, ctx.root):
            message = (
                f"{name} left alone: it links out of the build context, where msdfix writes nothing"
            )
            yield doc.note(self.id, doc.model.stages[0].from_, message)
            return
        if path.is_symlink() and not exists(path):
            # A link to nothing: the build reads no ignore file (Docker's open fails with "not
            # exist"), but the name is taken: creating the file failed every --write as
            # "appeared while msdfix was running", and the Dockerfile's own fixes with it.
            message = f"{name} left alone: it is a link to a file that does not exist"
            yield doc.note(self.id, doc.model.stages[0].from_, message)
            return
        try:
            on_disk = read_regular(path)[0].decode("utf-8") if exists(path) else None
        except (InputError, OSError, UnicodeDecodeError) as exc:  # was left alone unsaid
            why = getattr(exc, "message", exc)  # (InputError's message has no file name)
            if isinstance(exc, UnicodeDecodeError):
                why = "it is not UTF-8 text, which msdfix does not rewrite"
            message = f"{name} left alone: {why}"
            yield doc.note(self.id, doc.model.stages[0].from_, message)
            return
        verdicts = plan(doc, path, created=on_disk is None)
        if isinstance(verdicts, str):
            message = f"{name} not extended: {verdicts}"
            yield doc.note(self.id, doc.model.stages[0].from_, message)
            return
        old = ctx.ignore_text if isinstance(ctx, PendingIgnore) else on_disk
        verb = f"create {name}" if on_disk is None else f"extend {name}"
        yield from self._fixes(doc, path, verb, old, verdicts)

    def _fixes(
        self, doc: Document, path: Path, verb: str, old: str | None, verdicts: list[Verdict]
    ) -> Iterable[Finding]:
        anchor = doc.model.stages[0].from_
        stdin = own_path(doc) is None or doc.context.stdin  # only the Dockerfile is output
        safe = [v.candidate.line for v in verdicts if v.status == "safe"]
        unsafe = [v for v in verdicts if v.status == "unsafe"]
        skipped = _grouped([v for v in verdicts if v.status == "skip"])
        note = " (stdin: add these lines yourself)" if stdin else ""
        done: list[str] = []  # lines of the safe fix, which the unsafe one adds after them
        if any(v.worth_it for v in verdicts if v.status == "safe"):
            message = (
                f"{verb}: exclude {', '.join(safe)} from the build context: the build copies "
                f"none of them{note}"
            )
            yield self._fix(doc, path, old, safe, message, Applicability.SAFE, stdin)
            done, safe = safe, []
        if any(v.worth_it for v in unsafe):
            # Cumulative: applied right after the safe fix, it must keep the safe lines too.
            lines = [v.candidate.line for v in verdicts if v.status != "skip"]
            if done:
                lines = done + [v.candidate.line for v in unsafe]
            why = "; ".join(f"{v.candidate.line}: {v.reason}" for v in unsafe)
            also = f"; and {', '.join(safe)}, which the build does not copy" if safe else ""
            names = ", ".join(v.candidate.line for v in unsafe)
            copied = unsafe[0].copied_by
            message = f"{verb}: exclude {names}, which {copied} copies ({why}){also}{note}"
            yield self._fix(doc, path, old, lines, message, Applicability.UNSAFE, stdin)
        if skipped:
            yield doc.note(self.id, anchor, "; ".join(skipped))

    def _fix(
        self,
        doc: Document,
        path: Path,
        old: str | None,
        lines: list[str],
        message: str,
        applicability: Applicability,
        stdin: bool,
    ) -> Finding:
        text = old or ""
        newline = "\r\n" if "\r\n" in text else "\n"
        if text and not text.endswith("\n"):
            text += newline
        new = text + "".join(line + newline for line in lines)
        kind = Applicability.DISPLAY_ONLY if stdin else applicability
        change = FileChange(str(path), old, new)
        return doc.fix(self.id, doc.model.stages[0].from_, message, [], kind, file_changes=[change])

    def _copy_ignored(self, doc: Document, name: str) -> Iterable[Finding]:
        """BuildKit's CopyIgnoredFile: a source the existing rules exclude."""
        rules = doc.context.dockerignore
        for stage in doc.model.stages:
            for ins, source in stage_sources(stage, doc.model):
                if source.pattern is not None and rules.excludes(source.pattern):
                    message = (
                        f"{source.instruction} copies {source.pattern}, which {name} excludes "
                        "(BuildKit's CopyIgnoredFile): the copy fails or copies nothing"
                    )
                    yield doc.note(self.id, ins, message)


def _grouped(kept: list[Verdict]) -> list[str]:
    """The reasons lines were kept out; those kept for what a checkout may have (one reason
    for all the secret lines) named together."""
    reasons: list[str] = []
    unseen: dict[str, list[str]] = {}
    for verdict in kept:
        if verdict.unseen:
            tail = verdict.reason.removeprefix(verdict.candidate.line)
            unseen.setdefault(tail, []).append(verdict.candidate.line)
        else:
            reasons.append(verdict.reason)
    return reasons + [", ".join(lines) + tail for tail, lines in unseen.items()]
