"""Before/after fixture cases: fixtures/<transform>/<case>/Dockerfile (+ expected.Dockerfile)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conftest import FIXTURES
from msdfix.engine import Result, Settings, rewrite
from msdfix.model import BuildContext

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


MESSAGES = ".messages.txt"  # fixtures/<transform>/<case>.messages.txt, outside the build context


@dataclass
class Case:
    """One fixture directory; ``expected`` is None for cases that must stay unchanged."""

    transform: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.transform}/{self.path.name}"

    @property
    def source(self) -> str:
        return (self.path / "Dockerfile").read_text(encoding="utf-8")

    @property
    def expected(self) -> str | None:
        path = self.path / "expected.Dockerfile"
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def messages_path(self) -> Path:
        return self.path.with_name(self.path.name + MESSAGES)

    @property
    def messages(self) -> str | None:
        path = self.messages_path
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def options(self) -> dict:
        path = self.path / "case.toml"
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def materialise(self, tmp: Path) -> Path:
        """The case's context copied into ``tmp``, with the paths case.toml ``make`` lists
        created (``.git`` and ``node_modules`` cannot live in the repository)."""
        root = tmp / self.path.name
        shutil.copytree(self.path, root, ignore=shutil.ignore_patterns("case.toml", "expected.*"))
        for rel in self.options.get("make", []):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("x\n", encoding="utf-8")
        return root

    def run(self, only_this: bool = True) -> Result:
        opts = self.options
        select = opts.get("select", [self.transform] if only_this else None)
        settings = Settings(frozenset(select) if select else None, unsafe=bool(opts.get("unsafe")))
        if opts.get("make"):  # run on a materialised copy (paths in messages are relative)
            with tempfile.TemporaryDirectory() as tmp:
                root = self.materialise(Path(tmp))
                context = BuildContext(root, root / "Dockerfile")
                return rewrite(self.source, str(root / "Dockerfile"), context, settings)
        context = BuildContext(None if opts.get("no_context") else self.path)
        return rewrite(self.source, str(self.path / "Dockerfile"), context, settings)


def cases(transform: str) -> list[Case]:
    folder = FIXTURES / transform
    if not folder.is_dir():
        return []
    return [Case(transform, p) for p in sorted(folder.iterdir()) if (p / "Dockerfile").is_file()]


def check_case(case: Case) -> None:
    """The rewrite equals expected.Dockerfile (or leaves the file alone), and is stable."""
    result = case.run()
    expected = case.expected
    if expected is None:
        assert result.output == case.source, f"{case.id} must be left unchanged"
    else:
        assert result.output == expected, f"{case.id}: output differs from expected.Dockerfile"
        again = rewrite(
            result.output,
            None,
            BuildContext(case.path),
            Settings(frozenset([case.transform]), unsafe=bool(case.options.get("unsafe"))),
        )
        assert not again.changed, f"{case.id}: second run changes the output"
        _assert_buildkit_parses(result.output, case.id)
    assert render_messages(result) == case.messages, (
        f"{case.id}: the summary differs from {case.messages_path.name} "
        "(if the change is intended: python tests/fixture_cases.py --update)"
    )
    reason = case.options.get("reason")
    if reason:
        messages = " ".join(f.message for f in result.applied + result.suggestions)
        assert reason in messages, f"{case.id}: expected reason {reason!r} in {messages!r}"


def render_messages(result: Result) -> str:
    """The summary lines of a fixture's run, in line order: its reasons' snapshot."""
    findings = sorted(result.applied + result.suggestions, key=lambda f: f.line)
    lines = []
    for finding in findings:
        status = "left unchanged"
        if finding.fix is not None:
            applied = "" if finding in result.applied else ", not applied"
            status = finding.fix.applicability.value + applied
        lines.append(f"line {finding.line}: {finding.transform} [{status}] {finding.message}\n")
    return "".join(lines)


def _assert_buildkit_parses(text: str, label: str) -> None:
    """The BuildKit parser (oracle) accepts ``text``; skipped when the oracle is not installed."""
    try:
        import dockerfile
    except ImportError:  # pragma: no cover
        return
    try:
        dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:  # pragma: no cover - the assertion reports it
        raise AssertionError(f"{label}: BuildKit rejects the output: {exc}") from exc


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(
            "usage: python tests/fixture_cases.py --update  (rewrites every <case>.messages.txt)"
        )
    for transform in sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()):
        for case in cases(transform):
            case.messages_path.write_text(render_messages(case.run()), encoding="utf-8")
