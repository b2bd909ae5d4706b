"""Tests for ``msdfix verify`` (src/msdfix/verify/).

Unit tests need no Docker. Tests that build images call ``require_images`` and are skipped,
with the reason, when no daemon or stand-in base image is available; start them with::

    eval "$(tests/support/dockerd.sh start)"
    tests/support/standins.sh alpine:3.20 python:3.12-slim
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from msdfix.model.context import BuildContext
from msdfix.verify import verify_command
from msdfix.verify.configdiff import declared_keys, diff_configs, env_map, has_errors
from msdfix.verify.context import (
    TOUCH_MARKER,
    choose_touch_file,
    copy_context,
    copy_sources,
    is_manifest,
    touch_file,
)
from msdfix.verify.docker import BuildOutcome, CheckOutcome, parse_http_spec
from msdfix.verify.report import ImageResult, VerifyReport, human_size, ratio, render_json

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


def test_is_manifest() -> None:
    for name in (
        "package.json",
        "sub/package-lock.json",
        "requirements-dev.txt",
        "go.sum",
        "Cargo.lock",
        "pom.xml",
        "Dockerfile.prod",
        "app.csproj",
    ):
        assert is_manifest(name), name
    for name in ("index.js", "src/main.go", "app.py", "README.md"):
        assert not is_manifest(name), name


def test_copy_sources() -> None:
    text = (
        "FROM a AS b\nCOPY package.json package-lock.json ./\nCOPY --from=b /x /y\n"
        "ADD --chown=1:1 src \\\n  ./src\nCOPY . .\n"
    )
    assert copy_sources(text) == ["package.json", "package-lock.json", "src", "."]
    assert copy_sources('FROM a\nCOPY ["a b", "/c"]\n') is None


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def test_choose_touch_file_prefers_source_not_manifest(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "package.json": "{}",
            "package-lock.json": "{}",
            "README.md": "x",
            "server.js": "1",
            "src/util.js": "1",
            "node_modules/dep/index.js": "1",
            "webpack.config.js": "1",
            "ignored.js": "1",
            ".dockerignore": "ignored.js\n",
        },
    )
    df = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n'
    # ignored.js is excluded by .dockerignore, the webpack config by globs; shallow first.
    assert choose_touch_file(tmp_path, [df]) == "server.js"
    # a file the (rewritten) Dockerfile copies explicitly is avoided while others exist
    rewritten = "FROM node:18\nCOPY package*.json server.js ./\nRUN npm ci\nCOPY . .\n"
    assert choose_touch_file(tmp_path, [df, rewritten]) == "src/util.js"
    assert choose_touch_file(tmp_path / "src", ["FROM x\nCOPY util.js .\n"]) == "util.js"


def test_choose_touch_file_respects_copy_sources(tmp_path: Path) -> None:
    _write(tmp_path, {"app/main.py": "x", "tools/gen.py": "x", "requirements.txt": "flask"})
    df = (
        "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        "COPY app/ app/\n"
    )
    assert choose_touch_file(tmp_path, [df]) == "app/main.py"


def test_choose_touch_file_none(tmp_path: Path) -> None:
    _write(tmp_path, {"package.json": "{}", "data.bin": "x"})
    assert choose_touch_file(tmp_path, ["FROM x\nCOPY . .\n"]) is None


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


# ---------------------------------------------------------------- JSON report shape
def _report(rewritten_ok: bool = True) -> VerifyReport:
    o = ImageResult(
        "original",
        "msdfix-verify/app:original",
        build=BuildOutcome(True, 10.0),
        size=400_000_000,
        layers=9,
        warm=BuildOutcome(True, 8.0),
        config={"Cmd": ["a"]},
        smoke_http=CheckOutcome(True, "HTTP 200 from /"),
    )
    r = ImageResult(
        "rewritten",
        "msdfix-verify/app:rewritten",
        build=BuildOutcome(rewritten_ok, 12.0, "step 1\nboom"),
        size=100_000_000 if rewritten_ok else None,
        layers=5,
        warm=BuildOutcome(True, 2.0) if rewritten_ok else None,
        smoke_http=CheckOutcome(True, "HTTP 200 from /") if rewritten_ok else None,
    )
    return VerifyReport("Dockerfile", "/ctx", "buildkit", o, r, touched_file="src/a.js")


def test_json_report_shape() -> None:
    data = json.loads(render_json(_report()))
    assert data["version"] == 1
    assert data["passed"] is True and data["failures"] == []
    assert set(data) >= {
        "dockerfile",
        "context",
        "builder",
        "touched_file",
        "images",
        "ratios",
        "config",
        "notes",
        "failures",
        "passed",
        "unchanged",
    }
    rw = data["images"]["rewritten"]
    assert set(rw) == {
        "tag",
        "build",
        "size_bytes",
        "size_human",
        "layers",
        "warm_build",
        "smoke",
        "smoke_http",
    }
    assert rw["build"] == {"ok": True, "seconds": 12.0, "log_tail": None}
    assert rw["size_human"] == "95.4 MiB"
    assert data["ratios"]["size"] == 0.25
    assert data["ratios"]["warm_build"] == 0.25
    assert data["config"] == {"equivalent": True, "differences": []}


def test_json_report_failure() -> None:
    data = json.loads(render_json(_report(rewritten_ok=False)))
    assert data["passed"] is False
    assert "rewritten image does not build" in data["failures"]
    assert data["images"]["rewritten"]["build"]["log_tail"].endswith("boom")


# ---------------------------------------------------------------- CLI without Docker
def test_cli_exit_2_without_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nope.sock")
    result = CliRunner().invoke(verify_command, [str(df), "--rewritten", str(df)])
    assert result.exit_code == 2, result.output
    assert "dockerd.sh start" in result.output


def test_cli_rejects_bad_http_spec(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine:3.20\n")
    result = CliRunner().invoke(
        verify_command, [str(df), "--rewritten", str(df), "--smoke-http", "http"]
    )
    assert result.exit_code == 2
    assert "PORT[:PATH]" in result.output


# ---------------------------------------------------------------- real Docker
def _verify(fixture: str, rewritten: str, *extra: str) -> tuple[int, dict]:
    ctx = FIXTURES / fixture
    result = CliRunner().invoke(
        verify_command,
        [
            str(ctx / "Dockerfile"),
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
    for label in ("original", "rewritten"):
        img = data["images"][label]
        assert img["build"]["ok"] and img["warm_build"]["ok"]
        assert img["size_bytes"] > 0 and img["layers"] >= 1
        assert img["smoke"]["ok"] and img["smoke_http"]["ok"]
    # The rewritten Dockerfile does not rerun build.sh (sleep 2) after a www/ edit.
    assert (
        data["images"]["rewritten"]["warm_build"]["seconds"]
        < data["images"]["original"]["warm_build"]["seconds"]
    )
    assert data["config"]["equivalent"] is True
    # images are removed afterwards (no --keep-images)
    assert not sd.have_image("msdfix-verify/busybox-web:rewritten")
    # the user's files are untouched
    assert TOUCH_MARKER not in (FIXTURES / "busybox-web/www/app.js").read_text()


def test_verify_config_difference_fails() -> None:
    sd.require_images("alpine:3.20")
    code, data = _verify("busybox-web", "changed-cmd.Dockerfile")
    assert code == 1
    assert data["config"]["equivalent"] is False
    assert [d["key"] for d in data["config"]["differences"]] == ["Cmd"]


def test_verify_broken_rewrite_fails_with_log() -> None:
    sd.require_images("alpine:3.20")
    code, data = _verify("busybox-web", "broken.Dockerfile", "--keep-images")
    assert code == 1
    assert "rewritten image does not build" in data["failures"]
    assert "deliberate failure" in data["images"]["rewritten"]["build"]["log_tail"]
    assert sd.have_image("msdfix-verify/busybox-web:original")
    sd.remove_image("msdfix-verify/busybox-web:original")


def test_verify_python_pip_cache_mount() -> None:
    """BuildKit cache mount + pip install from PyPI (needs registry access)."""
    sd.require_images("python:3.12-slim")
    code, data = _verify("py-http", "rewritten.Dockerfile", "--smoke-http", "8000")
    assert code == 0, json.dumps(data, indent=1)
    assert data["touched_file"] == "app.py"
    assert data["images"]["rewritten"]["smoke_http"]["ok"]
