"""Tests for ``msdfix verify`` (src/msdfix/verify/).

Unit tests need no Docker. Tests that build images call ``require_images`` and are skipped,
with the reason, when no daemon or stand-in base image is available; start them with::

    eval "$(tests/support/dockerd.sh start)"
    tests/support/standins.sh alpine:3.20 python:3.12-slim
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from msdfix.model.context import BuildContext
from msdfix.verify import Tolerances, verify_command
from msdfix.verify import docker as dk
from msdfix.verify.command import rewritten_text
from msdfix.verify.configdiff import declared_keys, diff_configs, env_map, has_errors
from msdfix.verify.context import TOUCH_MARKER, copy_context, touch_file
from msdfix.verify.docker import BuildOutcome, CheckOutcome, free_ports, parse_http_spec
from msdfix.verify.report import ImageResult, VerifyReport, human_size, ratio, render_json
from msdfix.verify.tolerance import parse_percent, parse_warm

try:
    from tests.support import docker as sd
except ImportError:  # tests/ itself on sys.path (rootdir-relative imports)
    from support import docker as sd  # type: ignore[no-redef]

FIXTURES = Path(__file__).parent / "verify_fixtures"


# ---------------------------------------------------------------- size / ratio formatting
@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (None, "-"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (int(1.25 * 1024**3), "1.2 GiB"),
    ],
)
def test_human_size(n: int | None, expected: str) -> None:
    assert human_size(n) == expected


def test_ratio() -> None:
    assert ratio(200, 50) == 0.25
    assert ratio(None, 1) is None
    assert ratio(0, 1) is None


# ---------------------------------------------------------------- config diff
def test_env_map() -> None:
    assert env_map(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    assert env_map(None) == {}


def test_declared_keys_env_and_label_forms() -> None:
    text = (
        'FROM x\nENV A=1 B="two words"\nenv LEGACY value with spaces\n'
        'ENV C=3 \\\n    D=4\nLABEL org.opencontainers.image.title=app maintainer="me"\n'
    )
    assert declared_keys(text, "ENV") == {"A", "B", "LEGACY", "C", "D"}
    assert declared_keys(text, "LABEL") == {"org.opencontainers.image.title", "maintainer"}
    escaped = "# escape=`\nFROM x\nENV A=1 `\n    B=2\nRUN echo ENV C=3\n"
    assert declared_keys(escaped, "ENV") == {"A", "B"}  # continuation with `; RUN text is not ENV


def test_diff_configs_identical_is_empty() -> None:
    cfg = {
        "Cmd": ["node", "server.js"],
        "Env": ["PATH=/bin", "PORT=3000"],
        "ExposedPorts": {"3000/tcp": {}},
        "WorkingDir": "/app",
        "User": "",
    }
    assert diff_configs(cfg, dict(cfg), "ENV PORT=3000") == []


def test_diff_configs_severity() -> None:
    orig = {
        "Cmd": ["node", "server.js"],
        "Env": ["PATH=/usr/bin", "PORT=3000", "NODE_VERSION=18"],
        "ExposedPorts": {"3000/tcp": {}, "9229/tcp": {}},
        "WorkingDir": "/app",
        "Labels": {"maintainer": "me", "vendor": "base"},
    }
    new = {
        "Cmd": ["node", "dist/server.js"],
        "Env": ["PATH=/bin", "PORT=8080"],
        "ExposedPorts": {"9229/tcp": {}, "3000/tcp": {}},
        "WorkingDir": "/app",
        "Labels": {"maintainer": "me"},
        "User": "nonroot",
    }
    diffs = {d.key: d for d in diff_configs(orig, new, "ENV PORT=3000\nLABEL maintainer=me\n")}
    assert diffs["Cmd"].severity == "error"
    assert diffs["Env.PORT"].severity == "error"  # set by the Dockerfile
    assert diffs["Env.PATH"].severity == "warning"  # inherited from the base image
    assert diffs["Env.NODE_VERSION"].rewritten is None
    assert diffs["Labels.vendor"].severity == "warning"
    assert diffs["User"].severity == "error"
    assert "ExposedPorts" not in diffs  # order does not matter
    assert "WorkingDir" not in diffs
    ordered = diff_configs(orig, new, "ENV PORT=3000")
    assert [d.severity for d in ordered] == sorted(
        (d.severity for d in ordered), key=lambda s: s != "error"
    )
    assert has_errors(ordered)


def test_diff_configs_empty_values_equal() -> None:
    assert diff_configs({"Entrypoint": None, "User": ""}, {"Entrypoint": [], "User": None}) == []


# ---------------------------------------------------------------- context handling
@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        ("node_modules/x/index.js", ["node_modules"], True),
        ("a/node_modules/x.js", ["node_modules"], False),
        ("a/node_modules/x.js", ["**/node_modules"], True),
        ("debug.log", ["*.log", "!keep.log"], True),
        ("keep.log", ["*.log", "!keep.log"], False),
        ("docs/a.md", ["docs/*.md"], True),
        ("src/main.go", ["./src"], True),
        ("src/main.go", ["*.md"], False),
    ],
)
def test_is_ignored(tmp_path: Path, path: str, patterns: list[str], ignored: bool) -> None:
    (tmp_path / ".dockerignore").write_text("\n".join(patterns) + "\n")
    assert BuildContext(tmp_path).is_ignored(path) is ignored


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def _write_dir(root: Path, files: dict[str, str]) -> Path:
    _write(root, files)
    return root


def test_touch_file_appends_comment(tmp_path: Path) -> None:
    js, py, nonl = tmp_path / "a.js", tmp_path / "b.py", tmp_path / "c.go"
    js.write_text("x()\n")
    py.write_text("x = 1\n")
    nonl.write_text("package main")
    for p in (js, py, nonl):
        touch_file(p, "t1")
    assert js.read_text() == f"x()\n// {TOUCH_MARKER} t1\n"
    assert py.read_text() == f"x = 1\n# {TOUCH_MARKER} t1\n"
    assert nonl.read_text() == f"package main\n// {TOUCH_MARKER} t1\n"
    # default token is random, so repeated runs never hit an old BuildKit cache entry
    a, b = touch_file(js), touch_file(js)
    assert a != b and js.read_text().endswith(f"// {TOUCH_MARKER} {b}\n")


def test_copy_context_uses_the_dockerfiles_own_ignore_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src, {"a.txt": "a", "b.txt": "b", ".dockerignore": "a.txt\n", "Dockerfile": "FROM x"})
    assert not (copy_context(src, tmp_path / "c1", src / "Dockerfile") / "a.txt").exists()
    _write(src, {"Dockerfile.dockerignore": "b.txt\n"})  # BuildKit prefers this one
    dest = copy_context(src, tmp_path / "c2", src / "Dockerfile")
    assert (dest / "a.txt").exists() and not (dest / "b.txt").exists()
    assert (dest / ".dockerignore").exists() and (dest / "Dockerfile.dockerignore").exists()


def test_copy_context_skips_fifos(tmp_path: Path) -> None:
    src = _write_dir(tmp_path / "src", {"a.py": "a"})
    os.mkfifo(src / "pipe")
    dest = copy_context(src, tmp_path / "copy")
    assert (dest / "a.py").exists() and not (dest / "pipe").exists()


def test_copy_context_skips_ignored_and_leaves_source_alone(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(
        src,
        {
            "a.js": "a",
            "node_modules/x.js": "x",
            "keep/b.py": "b",
            ".dockerignore": "node_modules\n",
        },
    )
    dest = copy_context(src, tmp_path / "copy")
    assert (dest / "a.js").read_text() == "a"
    assert (dest / "keep/b.py").exists()
    assert not (dest / "node_modules").exists()
    touch_file(dest / "a.js")
    assert (src / "a.js").read_text() == "a"


def test_parse_http_spec() -> None:
    assert parse_http_spec("3000") == (3000, "/")
    assert parse_http_spec("8000:/health") == (8000, "/health")
    assert parse_http_spec("80:index.html") == (80, "/index.html")
    with pytest.raises(ValueError):
        parse_http_spec("abc")
    with pytest.raises(ValueError):
        parse_http_spec("70000")


def test_free_ports_are_distinct() -> None:
    first, second = free_ports(2)
    assert first != second and 1024 <= min(first, second)


# ---------------------------------------------------------------- tolerances
def test_parse_tolerances() -> None:
    assert parse_percent("1") == 1.0 and parse_percent("2.5%") == 2.5
    assert parse_warm("10%+1.5s") == (10.0, 1.5) and parse_warm(" 20 % ") == (20.0, 0.0)
    for bad in ("x", "-1"):
        with pytest.raises(ValueError):
            parse_percent(bad)
    for bad in ("10", "10%+1.5", "fast"):
        with pytest.raises(ValueError):
            parse_warm(bad)
    assert Tolerances().describe() == "size +1%, warm rebuild +10% +1.5s"


def _pair(size: tuple[int, int], warm: tuple[float, float]) -> VerifyReport:
    o = ImageResult(
        "original", "t:o", BuildOutcome(True, 30), size[0], 5, BuildOutcome(True, warm[0])
    )
    r = ImageResult(
        "rewritten", "t:r", BuildOutcome(True, 30), size[1], 5, BuildOutcome(True, warm[1])
    )
    return VerifyReport("Dockerfile", "/ctx", "buildkit", o, r)


def test_regressions_beyond_the_tolerances_fail() -> None:
    report = _pair((100 * 2**20, 145 * 2**20), (10.0, 24.0))  # 1.45x larger, 2.4x slower
    assert not report.passed
    assert report.failures() == [
        "image is larger: 145.0 MiB vs 100.0 MiB (+45%, tolerance +1%)",
        "warm rebuild is slower: 24.0s vs 10.0s (+140%, tolerance +10% +1.5s)",
    ]
    data = json.loads(render_json(report))
    assert data["regressions"] == report.failures() and data["passed"] is False


def test_within_the_tolerances_passes() -> None:
    assert _pair((1000, 1010), (10.0, 12.5)).passed  # +1%, +25% but only 2.5s (10% + 1.5s)
    assert not _pair((1000, 1011), (10.0, 10.0)).passed
    assert not _pair((1000, 1000), (10.0, 12.6)).passed
    assert _pair((1000, 400), (2.0, 3.6)).passed  # small builds: the 1.5s covers noise
    loose = _pair((1000, 1100), (10.0, 20.0))
    loose.tolerances = Tolerances(size_pct=10, warm_pct=100, warm_seconds=0)
    assert loose.passed


def test_failed_original_is_not_a_regression_baseline() -> None:
    report = _pair((1000, 2000), (1.0, 30.0))
    report.original.build, report.original.warm = BuildOutcome(False, 1.0), None
    report.original.size = None
    assert report.regressions() == []


def test_a_rewrite_of_an_original_that_does_not_build_does_not_pass() -> None:
    """Nothing was compared (size, config, smoke): verify passed it, exit 0, before."""
    report = _pair((1000, 1000), (1.0, 1.0))
    report.original.build, report.original.warm = BuildOutcome(False, 1.0, "boom"), None
    report.original.size = None
    assert not report.passed
    assert report.failures() == [
        "original image does not build: nothing to compare the rewrite with"
    ]


# ---------------------------------------------------------------- JSON report shape
def _report(rewritten_ok: bool = True) -> VerifyReport:
    o = ImageResult(
        "original",
        "msdfix-verify/app:original-0123456789",
        build=BuildOutcome(True, 10.0),
        size=400_000_000,
        layers=9,
        warm=BuildOutcome(True, 8.0),
        warm_runs=[8.0],
        config={"Cmd": ["a"]},
        smoke_http=CheckOutcome(True, "HTTP 200 from /", 1.0, 40001),
    )
    r = ImageResult(
        "rewritten",
        "msdfix-verify/app:rewritten-0123456789",
        build=BuildOutcome(rewritten_ok, 12.0, "step 1\nboom"),
        size=100_000_000 if rewritten_ok else None,
        layers=5,
        warm=BuildOutcome(True, 2.0) if rewritten_ok else None,
        warm_runs=[2.0] if rewritten_ok else [],
        smoke_http=CheckOutcome(True, "HTTP 200 from /", 1.0, 40002) if rewritten_ok else None,
    )
    return VerifyReport(
        "Dockerfile",
        "/ctx",
        "buildkit",
        o,
        r,
        touched_file="src/a.js",
        touched_reason="src/a.js: a node source named by the entry command",
        cold_cache_mounts_emptied=True,
    )


def test_json_report_shape() -> None:
    data = json.loads(render_json(_report()))
    assert data["version"] == 1
    assert data["passed"] is True and data["failures"] == [] and data["regressions"] == []
    assert set(data) >= {
        "dockerfile",
        "context",
        "builder",
        "touched_file",
        "touched_reason",
        "tolerances",
        "cold_builds",
        "images",
        "ratios",
        "config",
        "notes",
        "regressions",
        "failures",
        "passed",
        "unchanged",
    }
    assert data["tolerances"] == {"size_pct": 1.0, "warm_pct": 10.0, "warm_seconds": 1.5}
    assert data["cold_builds"] == {"layer_cache": False, "cache_mounts_emptied": True}
    rw = data["images"]["rewritten"]
    assert set(rw) == {
        "tag",
        "build",
        "size_bytes",
        "size_human",
        "layers",
        "warm_build",
        "warm_runs",
        "smoke",
        "smoke_http",
    }
    assert rw["build"] == {"ok": True, "seconds": 12.0, "log_tail": None}
    assert rw["smoke_http"]["host_port"] == 40002
    assert rw["size_human"] == "95.4 MiB"
    assert data["ratios"]["size"] == 0.25
    assert data["ratios"]["warm_build"] == 0.25
    assert data["config"] == {"equivalent": True, "differences": []}


def test_a_smoke_check_failing_on_both_images_says_so() -> None:
    """An app that needs an env var to start fails the check on both: the check is suspect."""
    report = _report()
    exited = CheckOutcome(False, "container exited (code 1): PORT is required")
    report.rewritten.smoke_http = exited
    assert report.failures() == ["HTTP smoke check failed on rewritten image"]
    report.original.smoke_http = exited
    report.original.smoke = report.rewritten.smoke = CheckOutcome(False, "exit 1")
    assert report.failures() == [
        "smoke command failed on rewritten image (and on the original: check the smoke check"
        " itself)",
        "HTTP smoke check failed on rewritten image (and on the original: check the smoke"
        " check itself)",
    ]


def test_json_report_failure() -> None:
    data = json.loads(render_json(_report(rewritten_ok=False)))
    assert data["passed"] is False
    assert "rewritten image does not build" in data["failures"]
    assert data["images"]["rewritten"]["build"]["log_tail"].endswith("boom")


def test_text_report_shows_tolerances_and_edit_reason() -> None:
    from rich.console import Console

    from msdfix.verify.report import render_table

    console = Console(width=200, record=True)
    render_table(_pair((100, 200), (1.0, 1.0)), console)
    text = console.export_text()
    assert "tolerances: size +1%, warm rebuild +10% +1.5s" in text
    assert "2.00x (max 1.01x)" in text and "FAIL: image is larger" in text


# ---------------------------------------------------------------- settings ([tool.msdfix])
PIP = "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"


def test_rewrite_honours_tool_msdfix_configuration(tmp_path: Path) -> None:
    df = tmp_path / "svc" / "Dockerfile"
    _write(tmp_path, {"svc/Dockerfile": PIP, "svc/requirements.txt": "six\n"})
    assert "--mount=type=cache" in rewritten_text(df, df.parent, None, None, None)
    (tmp_path / "pyproject.toml").write_text('[tool.msdfix]\nignore = ["cache-mount"]\n')
    assert rewritten_text(df, df.parent, None, None, None) == PIP  # found from the parent dir
    assert "--mount=type=cache" in rewritten_text(df, df.parent, "cache-mount", "", None)


def test_cli_configuration_errors_exit_2(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": PIP, ".msdfix.toml": 'select = ["no-such-transform"]\n'})
    result = CliRunner().invoke(verify_command, [str(tmp_path / "Dockerfile")])
    assert result.exit_code == 2 and "no-such-transform" in result.output
    (tmp_path / ".msdfix.toml").unlink()
    result = CliRunner().invoke(verify_command, [str(tmp_path / "Dockerfile"), "--ignore", "nope"])
    assert result.exit_code == 2 and "nope" in result.output
    result = CliRunner().invoke(
        verify_command, [str(tmp_path / "Dockerfile"), "--warm-tolerance", "fast"]
    )
    assert result.exit_code == 2 and "--warm-tolerance" in result.output


def test_cli_bad_dockerfile_exits_2(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "FROM alpine\nFOO bar\n", "ok.Dockerfile": "FROM alpine\n"})
    result = CliRunner().invoke(verify_command, [str(tmp_path / "Dockerfile")])
    assert result.exit_code == 2 and "Dockerfile:2: error: unknown instruction" in result.output
    # also when the rewrite is given: the original is read to choose the file to edit
    args = [str(tmp_path / "Dockerfile"), "--rewritten", str(tmp_path / "ok.Dockerfile")]
    result = CliRunner().invoke(verify_command, args)
    assert result.exit_code == 2 and "Dockerfile:2: error: unknown instruction" in result.output


# ---------------------------------------------------------------- CLI without Docker
def test_cli_exit_2_without_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nope.sock")
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df)])
    assert result.exit_code == 2, result.output
    assert "dockerd.sh start" in result.output


def test_a_daemon_gone_after_a_build_is_docker_unavailable() -> None:
    """`docker image inspect` failing was CalledProcessError: "internal error (a bug in msdfix)"."""
    client = _FakeClient()
    client.run = lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "Cannot connect")  # type: ignore[method-assign]
    with pytest.raises(dk.DockerUnavailable, match="failed after its build: Cannot connect"):
        dk.inspect_image(client, "img")


def test_cli_exit_2_when_docker_stops_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docker command past its timeout (a hung daemon) exits 2, not 123 "a bug in msdfix"."""
    import msdfix.verify.command as command

    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")

    def hung(opts, err):  # type: ignore[no-untyped-def]
        raise subprocess.TimeoutExpired(["docker", "inspect"], 20)

    monkeypatch.setattr(command, "run_verify", hung)
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df)])
    assert result.exit_code == 2 and "timed out after 20 seconds" in result.output, result.output


@pytest.mark.docker
def test_verify_exits_2_when_the_daemon_goes_away_after_a_build(tmp_path: Path) -> None:
    """A client that stops reaching the daemon after the first build (real build, then none)."""
    sd.require_images("alpine:3.20")
    real = dk.detect_client().path
    wrapper = tmp_path / "docker"
    wrapper.write_text(
        '#!/bin/sh\ncase "$1 $2" in "image inspect") echo "Cannot connect to the Docker '
        f'daemon" >&2; exit 1;; esac\nexec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    df = tmp_path / "Dockerfile"
    df.write_text('FROM alpine:3.20\nCMD ["true"]\n')
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df),
                                                 "--docker", str(wrapper)])  # fmt: skip
    assert result.exit_code == 2 and "Cannot connect" in result.output, result.output


def test_cli_passes_build_flags_to_every_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--build-arg, --secret, --ssh and --target reach the builds as docker build takes them."""
    import msdfix.verify.command as command

    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    seen = []

    def fake(opts, err):  # type: ignore[no-untyped-def]
        seen.append(opts.build_flags)
        raise dk.DockerUnavailable("stop here")

    monkeypatch.setattr(command, "run_verify", fake)
    args = ["--build-arg", "A=1", "--secret", "id=t,env=T", "--ssh", "default", "--target", "dev"]
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df), *args])
    assert result.exit_code == 2, result.output
    assert seen == [tuple(args)]


def test_cli_rejects_bad_http_spec(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    result = CliRunner().invoke(
        verify_command, [str(df), "--rewritten", str(df), "--smoke-http", "http"]
    )
    assert result.exit_code == 2
    assert "PORT[:PATH]" in result.output


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        (["--smoke", "'unclosed"], "No closing quotation"),
        (["--size-tolerance", "nan"], "finite"),
        (["--size-tolerance", "inf"], "finite"),
        (["--http-timeout", "nan"], "expected seconds"),
        (["--http-timeout", "-1"], "expected seconds"),
    ],
)
def test_cli_parses_every_option_before_any_work(
    tmp_path: Path, option: list[str], shown: str
) -> None:
    """``--smoke "'x"`` was split only after the Docker check: an internal error (exit 123).
    ``--size-tolerance nan`` passed the check of negative values, and no size fails a
    comparison with NaN; ``--http-timeout`` took nan and negative values."""
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df), *option])
    assert result.exit_code == 2, result.output
    assert shown in result.output


# ---------------------------------------------------------------- real Docker
def _verify(fixture: str | Path, rewritten: str, *extra: str, original: str = "Dockerfile"):  # type: ignore[no-untyped-def]
    ctx = fixture if isinstance(fixture, Path) else FIXTURES / fixture
    result = CliRunner().invoke(
        verify_command,
        [
            str(ctx / original),
            "--rewritten",
            str(ctx / rewritten),
            "--output-format",
            "json",
            *extra,
        ],
    )
    start = result.stdout.find("{")
    assert start >= 0, result.output
    return result.exit_code, json.loads(result.stdout[start:])


def _tags(data: dict) -> list[str]:
    return [data["images"][label]["tag"] for label in ("original", "rewritten")]


@pytest.mark.docker
def test_verify_busybox_pass() -> None:
    sd.require_images("alpine:3.20")
    code, data = _verify(
        "busybox-web",
        "rewritten.Dockerfile",
        "--smoke",
        "test -f /opt/deps/marker",
        "--smoke-http",
        "8080:/index.html",
    )
    assert code == 0, data
    assert data["passed"] is True
    assert data["touched_file"] == "www/app.js"
    assert data["touched_reason"].startswith("www/app.js: ")
    assert data["cold_builds"] == {"layer_cache": False, "cache_mounts_emptied": True}
    for label in ("original", "rewritten"):
        img = data["images"][label]
        assert img["build"]["ok"] and img["warm_build"]["ok"]
        assert img["size_bytes"] > 0 and img["layers"] >= 1
        assert img["smoke"]["ok"] and img["smoke_http"]["ok"]
    # each image answered on its own host port
    ports = {
        data["images"][label]["smoke_http"]["host_port"] for label in ("original", "rewritten")
    }
    assert len(ports) == 2 and None not in ports
    # The rewritten Dockerfile does not rerun build.sh (sleep 2) after a www/ edit.
    assert (
        data["images"]["rewritten"]["warm_build"]["seconds"]
        < data["images"]["original"]["warm_build"]["seconds"]
    )
    assert data["config"]["equivalent"] is True
    # tags are unique to the run and removed afterwards (no --keep-images)
    tags = _tags(data)
    assert all(t.startswith("msdfix-verify/busybox-web:") for t in tags)
    assert not any(sd.have_image(t) for t in tags)
    # the user's files are untouched
    assert TOUCH_MARKER not in (FIXTURES / "busybox-web/www/app.js").read_text()


@pytest.mark.docker
def test_verify_config_difference_fails() -> None:
    sd.require_images("alpine:3.20")
    code, data = _verify("busybox-web", "changed-cmd.Dockerfile")
    assert code == 1
    assert data["config"]["equivalent"] is False
    assert [d["key"] for d in data["config"]["differences"]] == ["Cmd"]


@pytest.mark.docker
def test_verify_broken_rewrite_fails_with_log_and_keeps_images_on_request() -> None:
    sd.require_images("alpine:3.20")
    code, data = _verify("busybox-web", "broken.Dockerfile", "--keep-images")
    first = _tags(data)[0]
    try:
        assert code == 1
        assert "rewritten image does not build" in data["failures"]
        assert "deliberate failure" in data["images"]["rewritten"]["build"]["log_tail"]
        assert sd.have_image(first)
        _, again = _verify("busybox-web", "broken.Dockerfile", "--keep-images")
        assert _tags(again)[0] != first  # another run never reuses (or removes) these tags
        sd.remove_image(_tags(again)[0])
    finally:
        sd.remove_image(first)


@pytest.mark.docker
def test_verify_fails_when_the_original_does_not_build(tmp_path: Path) -> None:
    """A failing original (a download that failed, a missing secret) leaves nothing to compare."""
    sd.require_images("alpine:3.20")
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nRUN false\nCMD ["echo", "hi"]\n')
    (tmp_path / "rewritten.Dockerfile").write_text('FROM alpine:3.20\nCMD ["echo", "hi"]\n')
    code, data = _verify(tmp_path, "rewritten.Dockerfile", "--smoke", "echo hi")
    assert data["images"]["rewritten"]["build"]["ok"], data
    assert code == 1 and data["failures"] == [
        "original image does not build: nothing to compare the rewrite with"
    ]


@pytest.mark.docker
def test_verify_fails_larger_and_slower_rewrites(tmp_path: Path) -> None:
    """A rewrite that is larger and rebuilds slower passes every other check, yet fails."""
    sd.require_images("alpine:3.20")
    ctx = tmp_path / "busybox-web"
    shutil.copytree(FIXTURES / "busybox-web", ctx)
    text = (ctx / "Dockerfile").read_text()
    (ctx / "bigger.Dockerfile").write_text(
        text.replace(
            "RUN sh build.sh\n", "RUN sh build.sh && head -c 3000000 /dev/urandom > /pad\n"
        )
    )
    (ctx / "slower.Dockerfile").write_text(
        text.replace("RUN sh build.sh\n", "RUN sh build.sh && sleep 5\n")
    )
    code, data = _verify(ctx, "bigger.Dockerfile")
    assert code == 1 and data["passed"] is False
    assert [r.split(":")[0] for r in data["regressions"]] == ["image is larger"], data[
        "regressions"
    ]
    code, data = _verify(ctx, "slower.Dockerfile", "--size-tolerance", "5")
    assert code == 1, data
    assert [r.split(":")[0] for r in data["regressions"]] == ["warm rebuild is slower"]
    assert len(data["images"]["rewritten"]["warm_runs"]) == 2  # confirmed by a second run
    code, data = _verify(ctx, "slower.Dockerfile", "--warm-tolerance", "400%+5s")
    assert code == 0, data["failures"]


@pytest.mark.docker
def test_cold_builds_start_with_empty_cache_mounts(tmp_path: Path) -> None:
    """Each cold build fails if a cache mount still holds what an earlier build put there.

    ``--no-cache`` alone does not empty cache mounts that set uid/gid/mode (moby/buildkit#5305,
    fixed in 2024; the mounts msdfix writes for non-root users set uid and gid).
    """
    sd.require_images("alpine:3.20")
    ctx = tmp_path / "ctx"
    _write(ctx, {"app.sh": "echo hi\n", ".dockerignore": "*.Dockerfile\n"})
    mount = f"--mount=type=cache,id=msdfix-test-{uuid.uuid4().hex},target=/c,uid=0,gid=0"
    check = f"RUN {mount} test ! -e /c/filled && touch /c/filled\n"
    base = "FROM alpine:3.20\n" + check + 'COPY app.sh /app.sh\nCMD ["sh", "/app.sh"]\n'
    (ctx / "Dockerfile").write_text(base)
    (ctx / "rewritten.Dockerfile").write_text(base.replace("COPY", "WORKDIR /\nCOPY"))
    code, data = _verify(ctx, "rewritten.Dockerfile")
    assert code == 0, data["failures"] + [
        (data["images"][x]["build"] or {}).get("log_tail") for x in ("original", "rewritten")
    ]
    assert data["touched_file"] == "app.sh"


@pytest.mark.docker
def test_verify_python_pip_cache_mount() -> None:
    """BuildKit cache mount + pip install from PyPI (needs registry access)."""
    sd.require_images("python:3.12-slim")
    code, data = _verify("py-http", "rewritten.Dockerfile", "--smoke-http", "8000")
    assert code == 0, json.dumps(data, indent=1)
    assert data["touched_file"] == "app.py"
    assert data["images"]["rewritten"]["smoke_http"]["ok"]


# ---------------------------------------------------------------- smoke http, without Docker
class _FakeClient(dk.Client):
    """Answers `docker run/port/inspect/rm` as a daemon would; records every call."""

    def __init__(self, network: str | None = None) -> None:
        super().__init__("docker", "buildkit", network, {})
        self.calls: list[tuple[str, ...]] = []

    def run(self, *args: str, timeout: float | None = 600, check: bool = False):  # type: ignore[no-untyped-def,override]
        self.calls.append(args)
        out = {"run": "cid\n", "inspect": "true 0\n"}.get(args[0], "")
        if args[0] == "port":
            published = next(a for c in self.calls if c[0] == "run" for a in c if "127.0.0.1:" in a)
            out = f"127.0.0.1:{published.split(':')[1]}\n"
        return subprocess.CompletedProcess(args, 0, out, "")


class _Server:
    """A local HTTP server standing in for the container's published port."""

    def __init__(self, port: int) -> None:
        handler = type("H", (http.server.BaseHTTPRequestHandler,), {
            "do_GET": lambda self: (self.send_response(200), self.end_headers()),
            "log_message": lambda self, *a: None,
        })  # fmt: skip
        self.httpd = http.server.HTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_smoke_http_publishes_on_the_given_host_port() -> None:
    host_port = free_ports(1)[0]
    server = _Server(host_port)
    client = _FakeClient()
    try:
        outcome = dk.smoke_http(client, "img", 8080, "/", timeout=10, host_port=host_port)
    finally:
        server.close()
    assert outcome.ok and outcome.host_port == host_port, outcome
    run = next(c for c in client.calls if c[0] == "run")
    assert run[:2] == ("run", "-d") and run[4:6] == ("-p", f"127.0.0.1:{host_port}:8080")
    assert ("rm", "-f", "-v", run[3]) in client.calls  # always removed, by name, with volumes


class _FailingClient(_FakeClient):
    """`docker run` fails as the daemon fails it; the calls are recorded."""

    def __init__(self, fail: str) -> None:
        super().__init__()
        self.fail = fail

    def run(self, *args: str, timeout: float | None = 600, check: bool = False):  # type: ignore[no-untyped-def,override]
        if args[0] != "run":
            return super().run(*args, timeout=timeout, check=check)
        self.calls.append(args)
        if self.fail == "timeout":  # the client is killed; the container runs on
            raise subprocess.TimeoutExpired(list(args), timeout or 0)
        if self.fail == "busy" and len([c for c in self.calls if c[0] == "run"]) == 1:
            return subprocess.CompletedProcess(args, 125, "cid\n", "address already in use")
        if self.fail == "busy":
            return subprocess.CompletedProcess(args, 0, "cid\n", "")
        # the CMD is not in the image: created, not started, its id printed anyway
        return subprocess.CompletedProcess(args, 127, "cid\n", 'exec: "/app": not found')


def _names_removed(client: _FakeClient) -> list[str]:
    """The names `docker run --name` got, each once it was removed after its run."""
    runs = [c for c in client.calls if c[0] == "run"]
    names = [c[c.index("--name") + 1] for c in runs]
    removed = {c[3] for c in client.calls if c[:3] == ("rm", "-f", "-v")}
    return [n for n in names if n in removed]


def test_a_smoke_command_that_times_out_removes_its_container() -> None:
    """Killing `docker run` on the timeout left the container running (and its image)."""
    client = _FailingClient("timeout")
    outcome = dk.smoke_cmd(client, "img", ["sleep", "600"], timeout=1)
    assert not outcome.ok and "timed out" in outcome.detail
    assert len(_names_removed(client)) == 1, client.calls


def test_smoke_http_removes_a_container_that_failed_to_start() -> None:
    """A CMD missing from the image: `docker run -d` fails after creating the container."""
    client = _FailingClient("missing-cmd")
    outcome = dk.smoke_http(client, "img", 8080, "/", timeout=5)
    assert not outcome.ok and "docker run failed" in outcome.detail
    assert len(_names_removed(client)) == 1, client.calls


def test_smoke_http_retries_a_busy_port_and_removes_every_container() -> None:
    client = _FailingClient("busy")
    dk.smoke_http(client, "img", 8080, "/", timeout=1, host_port=free_ports(1)[0])
    runs = [c for c in client.calls if c[0] == "run"]
    assert len(runs) == 2 and len(_names_removed(client)) == 2, client.calls


@pytest.mark.docker
def test_a_smoke_command_timeout_leaves_no_container(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real daemon: the container of a smoke command past its timeout is gone afterwards."""
    sd.require_images("alpine:3.20")
    name = f"msdfix-verify-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(dk, "container_name", lambda: name)
    client = dk.detect_client()
    outcome = dk.smoke_cmd(client, "alpine:3.20", ["sleep", "300"], timeout=5)
    assert not outcome.ok and "timed out" in outcome.detail
    left = client.run("ps", "-aq", "--filter", f"name={name}").stdout.strip()
    assert left == "", f"container {name} left behind"


@pytest.mark.docker
def test_smoke_checks_leave_no_anonymous_volume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image with a VOLUME line: `docker rm -f` kept the volume of every smoke container."""
    sd.require_images("alpine:3.20")
    (tmp_path / "Dockerfile").write_text(
        "FROM alpine:3.20\nRUN mkdir /www && echo ok > /www/index.html\nVOLUME /data\n"
        'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n'
    )
    tag = sd.unique_tag("verify-volume")
    client = dk.detect_client()
    assert client.run("build", "-q", "-t", tag, str(tmp_path)).returncode == 0
    volumes: list[str] = []
    real_remove = dk.remove_container

    def remove(client: dk.Client, name: str) -> None:
        fmt = "{{range .Mounts}}{{.Name}} {{end}}"
        volumes.extend(client.run("inspect", "-f", fmt, name).stdout.split())
        real_remove(client, name)

    monkeypatch.setattr(dk, "remove_container", remove)
    try:
        assert dk.smoke_http(client, tag, 8080, "/", timeout=20).ok
        assert not dk.smoke_cmd(client, tag, ["sleep", "60"], timeout=3).ok
    finally:
        client.run("image", "rm", "-f", tag)
    assert volumes, "the smoke containers had no volume to check"
    left = [v for v in volumes if client.run("volume", "inspect", v).returncode == 0]
    assert left == [], f"anonymous volumes left behind: {left}"


def test_health_argv_is_the_command_docker_runs() -> None:
    shell = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}}
    assert dk.health_argv(shell) == ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]
    assert dk.health_argv({**shell, "Shell": ["/bin/bash", "-c"]})[:2] == ["/bin/bash", "-c"]  # type: ignore[index]
    assert dk.health_argv({"Healthcheck": {"Test": ["CMD", "test", "-f", "/ok"]}}) == [
        "test", "-f", "/ok"
    ]  # fmt: skip
    assert dk.health_argv({"Healthcheck": {"Test": ["NONE"]}}) is None
    assert dk.health_argv({"Healthcheck": None}) is None and dk.health_argv({}) is None


def test_smoke_http_fails_an_answering_container_whose_healthcheck_fails() -> None:
    """A split onto node:18-slim answered on its port; its `curl` HEALTHCHECK never passed."""

    class Unhealthy(_FakeClient):
        def run(self, *args: str, timeout: float | None = 600, check: bool = False):  # type: ignore[no-untyped-def,override]
            if args[0] == "exec":
                self.calls.append(args)
                return subprocess.CompletedProcess(args, 127, "", "sh: 1: curl: not found")
            return super().run(*args, timeout=timeout, check=check)

    host_port = free_ports(1)[0]
    server = _Server(host_port)
    health = ["/bin/sh", "-c", "curl -f http://localhost:3000/ || exit 1"]
    try:
        bad = dk.smoke_http(Unhealthy(), "img", 3000, "/", 2, host_port, health)
        good = dk.smoke_http(_FakeClient(), "img", 3000, "/", 2, host_port, health)
    finally:
        server.close()
    assert not bad.ok and "HEALTHCHECK failed (exit 127): sh: 1: curl: not found" in bad.detail
    assert bad.detail.startswith("no healthy answer on port 3000/ within 2s (HTTP 200, but its")
    assert good.ok and good.detail == "HTTP 200 from /, HEALTHCHECK ok", good


@pytest.mark.docker
def test_verify_runs_the_healthcheck_of_an_answering_image(tmp_path: Path) -> None:
    """The same HEALTHCHECK over a rewrite without the file it needs (as curl on a slim base)."""
    sd.require_images("alpine:3.20")
    text = (
        "FROM alpine:3.20\nRUN mkdir /www && echo ok > /www/index.html && touch /ready\n"
        'HEALTHCHECK CMD ["test", "-f", "/ready"]\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n'
    )
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "rewritten.Dockerfile").write_text(text.replace(" && touch /ready", ""))
    code, data = _verify(tmp_path, "rewritten.Dockerfile", "--smoke-http", "8080",
                         "--http-timeout", "8")  # fmt: skip
    assert data["images"]["original"]["smoke_http"]["detail"] == "HTTP 200 from /, HEALTHCHECK ok"
    assert (
        code == 1
        and "HEALTHCHECK failed (exit 1)" in (data["images"]["rewritten"]["smoke_http"]["detail"])
    ), data


def test_smoke_http_with_host_network_refuses_a_busy_port() -> None:
    port = free_ports(1)[0]
    server = _Server(port)  # someone else's server on the host
    client = _FakeClient(network="host")
    try:
        outcome = dk.smoke_http(client, "img", port, "/", timeout=5)
    finally:
        server.close()
    assert not outcome.ok and "already in use on the host" in outcome.detail
    assert not any(c[0] == "run" for c in client.calls)


@pytest.mark.docker
def test_verify_passes_build_args_and_secrets_to_both_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build-secrets rewrite verifies when the user passes the secret, as docker build needs."""
    sd.require_images("alpine:3.20")
    (tmp_path / "Dockerfile").write_text(
        'FROM alpine:3.20\nARG TOKEN\nRUN test "$TOKEN" = s3cret && echo ok > /ok\nCMD ["cat", "/ok"]\n'
    )
    (tmp_path / "rewritten.Dockerfile").write_text(
        "FROM alpine:3.20\n"
        'RUN --mount=type=secret,id=token,required=true TOKEN="$(cat /run/secrets/token)" '
        '&& test "$TOKEN" = s3cret && echo ok > /ok\nCMD ["cat", "/ok"]\n'
    )
    monkeypatch.setenv("TOKEN", "s3cret")
    flags = ("--build-arg", "TOKEN=s3cret", "--secret", "id=token,env=TOKEN")
    code, data = _verify(tmp_path, "rewritten.Dockerfile", *flags, "--smoke", "cat /ok")
    assert code == 0, data
    assert all(data["images"][label]["build"]["ok"] for label in ("original", "rewritten"))
    code, data = _verify(tmp_path, "rewritten.Dockerfile", "--build-arg", "TOKEN=s3cret")
    assert code == 1 and not data["images"]["rewritten"]["build"]["ok"]


@pytest.mark.docker
def test_verify_builds_the_target_stage_of_both_files(tmp_path: Path) -> None:
    """A stage built with --target (a dev image) is proven only when verify builds it."""
    sd.require_images("alpine:3.20")
    text = (
        'FROM alpine:3.20 AS dev\nRUN echo tools > /tools\nCMD ["cat", "/tools"]\n'
        'FROM alpine:3.20\nRUN echo app > /app\nCMD ["cat", "/app"]\n'
    )
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "rewritten.Dockerfile").write_text(text.replace("RUN echo tools > /tools\n", ""))
    code, data = _verify(tmp_path, "rewritten.Dockerfile", "--smoke", "cat /app")
    assert code == 0, data
    code, data = _verify(
        tmp_path, "rewritten.Dockerfile", "--target", "dev", "--smoke", "cat /tools"
    )
    assert code == 1 and data["images"]["original"]["smoke"]["ok"], data
    assert not data["images"]["rewritten"]["smoke"]["ok"]


# --- hostile names and special files (round 14) ---


@pytest.mark.parametrize("name", ["src/[/]app.py", "src/[link=https://evil.example]x[/link].py"])
def test_the_text_report_never_reads_a_file_name_as_markup(name: str) -> None:
    """A context file named ``[/]app.py`` (the file verify edits) raised MarkupError after both
    builds; ``[link=...]`` printed a terminal hyperlink."""
    import io

    from rich.console import Console

    from msdfix.verify.report import render_table

    report = VerifyReport(
        "Dockerfile", ".", "buildx", ImageResult("original", "t:o"),
        ImageResult("rewritten", "t:r"), touched_file=name, touched_reason=f"{name}: chosen",
        notes=[f"note about {name}"],
    )  # fmt: skip
    buffer = io.StringIO()
    render_table(report, Console(file=buffer, force_terminal=True, width=200))
    out = buffer.getvalue()
    assert f"edited for the warm rebuild: {name}: chosen" in out
    assert "\x1b]8;" not in out


def test_special_files_are_refused_before_reading(tmp_path: Path) -> None:
    """``verify --rewritten R PATH`` read PATH and R unbounded: a FIFO hung, /dev/zero ran out
    of memory. They are refused as the main command refuses them (exit 2, one line)."""
    fifo = tmp_path / "Dockerfile.fifo"
    os.mkfifo(fifo)
    good = tmp_path / "Dockerfile"
    good.write_text("FROM python:3.12-slim\n")
    for args in (["--rewritten", str(good), str(fifo)], ["--rewritten", str(fifo), str(good)],
                 [str(fifo)], ["--rewritten", str(good), "/dev/zero"]):  # fmt: skip
        result = CliRunner().invoke(verify_command, args)
        assert result.exit_code == 2, (args, result.output)
        assert "not a regular file" in result.output, (args, result.output)


def test_an_empty_workdir_and_root_are_the_same_config() -> None:
    """distroless spells out ``WorkingDir: "/"``, debian leaves it empty: both run in /."""
    assert not diff_configs({"WorkingDir": ""}, {"WorkingDir": "/"})
    assert diff_configs({"WorkingDir": ""}, {"WorkingDir": "/app"})
