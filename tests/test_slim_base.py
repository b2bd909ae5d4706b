"""slim-base: fixtures, tag mapping rules, safety decisions, corpus, and a real build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.ecosystems.images import (
    FAMILIES,
    RULES,
    alpine_target,
    family_of,
    is_small,
    jre_target,
    slim_target,
)
from msdfix.engine import Result, Settings, rewrite
from msdfix.fixes import Applicability
from msdfix.model import BuildContext
from msdfix.transforms.slim_base import SlimBase

ID = "slim-base"


def _run(text: str, unsafe: bool = False, context: str | Path | None = None):  # type: ignore[no-untyped-def]
    return rewrite(text, None, BuildContext(context), Settings(frozenset({ID}), unsafe=unsafe))


@pytest.mark.parametrize("case", cases(ID), ids=lambda c: c.id)
def test_fixture(case) -> None:  # type: ignore[no-untyped-def]
    check_case(case)


@pytest.mark.parametrize(
    ("family", "tag", "expected"),
    [
        ("node", "18", "18-slim"),
        ("node", "18.19.0", "18.19.0-slim"),
        ("node", "18-bookworm", "18-bookworm-slim"),
        ("node", "lts", "lts-slim"),
        ("python", "3.12", "3.12-slim"),
        ("python", "3.12-bookworm", "3.12-slim-bookworm"),
        ("python", "3", "3-slim"),
        ("ruby", "3.3-bookworm", "3.3-slim-bookworm"),
        ("debian", "bookworm", "bookworm-slim"),
        ("debian", "12", "12-slim"),
        ("debian", "bookworm-20240110", "bookworm-20240110-slim"),
        ("openjdk", "11", "11-jre-slim"),
        ("node", "18-slim", None),
        ("node", "18-alpine", None),
        ("node", "latest", None),
        ("python", "3.12-rc", None),
        ("python", "3.12-windowsservercore", None),
        ("debian", "7", None),  # no -slim before jessie
        ("debian", "bookworm-slim", None),
        ("ubuntu", "22.04", None),  # ubuntu has no slim
        ("php", "8.3-apache", None),
    ],
)
def test_slim_tags(family: str, tag: str, expected: str | None) -> None:
    target = slim_target(family, tag)
    assert (target.tag if target else None) == expected


def test_jre_and_alpine_tags() -> None:
    assert jre_target("eclipse-temurin", "17").tag == "17-jre"  # type: ignore[union-attr]
    assert jre_target("eclipse-temurin", "17-jdk-alpine").tag == "17-jre-alpine"  # type: ignore[union-attr]
    assert jre_target("eclipse-temurin", "17.0.9_9-jdk-jammy").tag == "17.0.9_9-jre-jammy"  # type: ignore[union-attr]
    assert jre_target("eclipse-temurin", "17-jre") is None
    vendor = jre_target("openjdk", "17")
    assert vendor is not None and vendor.repository == "eclipse-temurin" and vendor.tag == "17-jre"
    assert jre_target("openjdk", "17.0.2-jdk") is None  # no temurin tag for that exact pin
    assert alpine_target("nginx", "1.25").tag == "1.25-alpine"  # type: ignore[union-attr]
    assert alpine_target("nginx", "stable").tag == "stable-alpine"  # type: ignore[union-attr]
    assert alpine_target("node", "18-bookworm-slim").tag == "18-alpine"  # type: ignore[union-attr]
    assert alpine_target("python", "3.12") is None  # never proposed for python
    assert is_small("18-slim") and is_small("3.12-slim-bookworm") and is_small("17-jre")
    assert not is_small("18") and not is_small("bookworm")


def test_knowledge_table() -> None:
    assert family_of("library/node") is FAMILIES["node"]
    assert family_of("public.ecr.aws/docker/library/python") is FAMILIES["python"]
    assert FAMILIES["golang"].role == "build"
    assert FAMILIES["ubuntu"].variant("slim") is None
    for family in FAMILIES.values():
        sizes = [v.size_mb for v in family.variants]
        assert sizes == sorted(sizes, reverse=True), family.name
        for variant in family.variants:
            assert variant.libc in ("glibc", "musl", "none")
            if variant.kind in ("distroless", "scratch"):
                assert not variant.shell
    assert FAMILIES["node"].variant("alpine").libc == "musl"  # type: ignore[union-attr]
    assert {r.applicability for r in RULES} <= {"safe", "unsafe", "display-only", "leave"}


def test_docstring_sections() -> None:
    import msdfix.transforms.slim_base as module

    for section in ("What it does", "Why", "Example", "Fix safety"):
        assert section in (module.__doc__ or "")
    assert SlimBase.order == 40


def test_only_the_image_text_changes() -> None:
    text = '# runtime\nFROM --platform=linux/amd64 node:18   AS Runtime\nCMD ["node", "a.js"]\n'
    out = _run(text).output
    assert out == text.replace("node:18 ", "node:18-slim ")


def test_registry_prefix_and_mirror_kept() -> None:
    for image in ("docker.io/library/node:18", "public.ecr.aws/docker/library/node:18"):
        out = _run(f'FROM {image}\nCMD ["node", "a.js"]\n').output
        assert f"FROM {image}-slim\n" in out


def test_a_tag_through_a_pull_through_cache_is_unsafe() -> None:
    """mirror.gcr.io caches the Hub tags pulled through it: python:3.11-slim there may be
    missing (built: the rewrite failed, "not found", where it held python:3.11 only)."""
    text = 'FROM mirror.gcr.io/library/python:3.11\nCMD ["python3", "-V"]\n'
    assert _run(text).output == text
    result = _run(text, unsafe=True)
    assert result.output == text.replace("3.11", "3.11-slim")
    assert "pull-through cache" in result.applied[0].message


def test_vendor_change_keeps_registry_prefix() -> None:
    out = _run(
        'FROM docker.io/library/openjdk:17\nCMD ["java", "-jar", "/a.jar"]\n', unsafe=True
    ).output
    assert out.startswith("FROM docker.io/library/eclipse-temurin:17-jre\n")


def test_digest_is_display_only_and_never_applied() -> None:
    text = "FROM python:3.12@sha256:" + "a" * 64 + '\nCMD ["python", "-V"]\n'
    result = _run(text, unsafe=True)
    assert result.output == text
    [fix] = [f.fix for f in result.suggestions if f.fix]
    assert fix.applicability is Applicability.DISPLAY_ONLY
    assert fix.edits[0].content == "python:3.12-slim"


def test_only_the_final_stage_changes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    text = (
        "FROM python:3.12 AS build\nRUN pip wheel -w /w flask\n"
        'FROM python:3.12\nCOPY app.py /\nCMD ["python", "/app.py"]\n'
    )
    out = _run(text, context=tmp_path).output
    assert out.startswith("FROM python:3.12 AS build\n")
    assert "\nFROM python:3.12-slim\n" in out


def test_compiled_packages_copied_from_full_stage_are_unsafe(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.9\n")
    text = (
        "FROM python:3.12 AS build\nCOPY requirements.txt .\n"
        "RUN pip install --prefix=/install -r requirements.txt\n"
        'FROM python:3.12\nCOPY --from=build /install /usr/local\nCMD ["python", "-m", "app"]\n'
    )
    safe = _run(text, context=tmp_path)
    assert not safe.changed
    assert any("copies python packages built on python:3.12" in f.message for f in safe.suggestions)


def test_copied_sources_unread_without_a_context_are_unsafe(tmp_path: Path) -> None:
    """Built (node:8 stand-ins): a copied hello.js running `git --version` answered on the
    full image and failed on -slim ("git: not found"); without a context nobody read it."""
    text = 'FROM node:8.16.1\nRUN mkdir /src\nCOPY hello.js /src\nCMD ["node", "/src/hello.js"]\n'
    blind = _run(text)
    assert not blind.changed
    assert any(
        "no build context" in f.message and "hello.js" in f.message for f in blind.suggestions
    )
    (tmp_path / "hello.js").write_text("console.log('hello world')\n")
    assert _run(text, context=tmp_path).changed  # read, and it runs nothing


def test_an_unread_script_is_named_once_among_the_reasons() -> None:
    """A copied script the stage runs, without a context, is unknown for two reasons (it runs
    it; it copies it): the message names it in the first and the second names the rest."""
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY start /usr/local/bin/start\nCOPY app.js .\n"
        'RUN start\nCMD ["node", "app.js"]\n'
    )
    (message,) = [f.message for f in _run(text).suggestions if f.transform == "slim-base"]
    assert "it runs start, which msdfix cannot read" in message
    assert "copies (app.js)" in message and message.count("start") == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_requirements_are_read_in_the_encoding_their_byte_order_mark_names(
    tmp_path: Path, encoding: str
) -> None:
    """PowerShell's ``pip freeze > requirements.txt`` writes UTF-16 with a BOM, which pip
    reads: msdfix must see the same packages in it as in a UTF-8 file."""
    (tmp_path / "requirements.txt").write_bytes("psycopg2==2.9.9\n".encode(encoding))
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    assert not result.changed
    assert any("installs psycopg2" in f.message for f in result.suggestions)


def test_never_writes_latest() -> None:
    for text in ('FROM node\nCMD ["node"]\n', 'FROM node:latest\nCMD ["node"]\n'):
        result = _run(text, unsafe=True)
        assert "latest" not in result.output.replace(text, "") and not result.changed


def test_stable_on_own_output() -> None:
    for case in cases(ID):
        if case.expected is None:
            continue
        unsafe = bool(case.options.get("unsafe"))
        again = rewrite(
            case.expected, None, BuildContext(case.path), Settings(frozenset({ID}), unsafe=unsafe)
        )
        assert not again.changed, case.id


def test_corpus(corpus: list[Path]) -> None:
    """No crash or internal error; changed outputs parse with BuildKit and are stable."""
    dockerfile = pytest.importorskip("dockerfile")
    changed = 0
    for path in corpus:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            result = _run(text, unsafe=True)
        except Exception as exc:  # ParseError is the only acceptable failure
            assert type(exc).__name__ == "ParseError", f"{path}: {exc!r}"
            continue
        if result.changed:
            changed += 1
            dockerfile.parse_string(result.output)
            assert not _run(result.output, unsafe=True).changed, path
    assert changed > 0


# --- real builds (skipped without a daemon) -------------------------------------------------

SERVER = """const http = require('http');
http.createServer((req, res) => res.end('hello from ' + process.version)).listen(3000);
"""
SMOKE = """require('./server.js');
setTimeout(() => require('http').get('http://127.0.0.1:3000/', (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => { console.log(body); process.exit(0); });
}).on('error', (e) => { console.error(e); process.exit(1); }), 500);
"""
LOCK = '{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}}}\n'
ORIGINAL = """FROM node:18
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . ./
EXPOSE 3000
CMD ["node", "server.js"]
"""


def test_real_build_node_slim(tmp_path: Path) -> None:
    """node:18 and the node:18-slim msdfix picks both build and answer; slim is smaller."""
    docker = pytest.importorskip("support.docker")
    docker.require_images("node:18", "node:18-slim")
    (tmp_path / "server.js").write_text(SERVER)
    (tmp_path / "smoke.js").write_text(SMOKE)
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text(LOCK)
    result = _run(ORIGINAL, context=tmp_path)
    assert "FROM node:18-slim\n" in result.output
    sizes = {}
    for name, text in (("before", ORIGINAL), ("after", result.output)):
        path = tmp_path / f"{name}.Dockerfile"
        path.write_text(text)
        tag = docker.unique_tag("slim-base", name)
        build = docker.build(tmp_path, path, tag)
        assert build.ok, build.tail()
        smoke = docker.run(tag, ["node", "smoke.js"])
        assert smoke.returncode == 0 and "hello from" in smoke.stdout, smoke.stdout + smoke.stderr
        sizes[name] = docker.image_size(tag)
        docker.remove_image(tag)
    print(f"slim-base real build: node:18 {sizes['before']} B, node:18-slim {sizes['after']} B")
    assert sizes["after"] < sizes["before"]


@pytest.mark.parametrize(
    ("install", "unsafe"),
    [
        ("", True),
        ("RUN apt-get update && apt-get install -y --no-install-recommends media-types\n", False),
        ("RUN apt-get update && apt-get install -y mailcap\n", False),
    ],
)
def test_python_slim_lacks_the_mime_types_its_mimetypes_reads(install, unsafe):
    """python's -slim images have no /etc/mime.types (docker-library/python#254): built for
    real with it removed, ``python -m http.server`` sent .woff2 and .webp as
    application/octet-stream where python:3.12 sent font/woff2 and image/webp."""
    text = f"FROM python:3.12\n{install}WORKDIR /srv\nCOPY site/ ./\n"
    text += 'CMD ["python", "-m", "http.server", "8000"]\n'
    result = _run(text, unsafe=True)
    [fix] = [f for f in result.applied if "python:3.12-slim" in f.message]
    reason = "python:3.12-slim has no media-types, which the full image installs"
    assert (reason in fix.message) is unsafe, fix.message
    if unsafe:
        assert fix.fix and fix.fix.applicability is Applicability.UNSAFE


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("COPY --chown=www-data:www-data www /usr/share/nginx/html", "user www-data"),
        ("COPY --chown=nginx:www-data www /usr/share/nginx/html", "group www-data"),
        ("COPY www /usr/share/nginx/html\nUSER www-data", "user www-data"),
        ("COPY --chown=nginx:nginx www /usr/share/nginx/html\nUSER 101", None),
    ],
)
def test_nginx_alpine_needs_the_users_the_stage_names(line, kept):
    """Alpine's baselayout has no www-data user (a group 82, Debian's is 33): on an alpine
    image ``USER www-data`` stopped the container ("unable to find user www-data: no matching
    entries in passwd file", built for real on alpine:3.20). nginx (101) is in both images."""
    result = _run(f"FROM nginx:1.25\n{line}\n")
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    if kept is None:
        assert "nginx:1.25-alpine" in result.output
    else:
        assert "nginx:1.25-alpine" not in result.output
        assert f"{kept} (line " in messages, messages


@pytest.mark.parametrize(
    ("user", "home"),
    [
        ("nginx", "nginx is 101:101 with HOME /nonexistent on nginx:1.25, 101:101 with HOME /var"),
        ("nobody", "nobody is 65534:65534 with HOME /nonexistent on nginx:1.25, 65534:65534 with"),
        ("101", None),
        ("root", None),
    ],
)
def test_nginx_alpine_is_unsafe_where_the_users_home_differs(user: str, home: str | None) -> None:
    """Round 24: nginx's Dockerfiles give nginx (101) HOME /nonexistent on Debian (adduser
    --home /nonexistent) and /var/cache/nginx on alpine (adduser -h /var/cache/nginx);
    alpine's nobody has HOME / (``docker run --user nobody alpine:3.20``), Debian's
    /nonexistent. The stand-in nginx:alpine here is Debian, so no build could show it."""
    result = _run(f"FROM nginx:1.25\nCOPY www /usr/share/nginx/html\nUSER {user}\n")
    [fix] = [f for f in result.applied + result.suggestions if "nginx:1.25-alpine" in f.message]
    assert fix.fix and (fix.fix.applicability is Applicability.SAFE) is (home is None)
    assert home is None or f"USER {user}: {home}" in fix.message, fix.message


@pytest.mark.parametrize(
    ("entry", "safe"),
    [
        ("", True),
        ('CMD ["nginx", "-g", "daemon off;"]', True),
        ('ENTRYPOINT ["/entrypoint.sh"]\nCMD ["nginx", "-g", "daemon off;"]', False),
    ],
)
def test_nginx_alpine_is_unsafe_when_the_image_starts_its_own_program(entry, safe):
    """An entrypoint script would run under busybox sh and musl instead of bash and glibc."""
    text = "FROM nginx:1.25\nCOPY entrypoint.sh /\nCOPY www /usr/share/nginx/html\n" + entry
    result = _run(text + "\n")
    [fix] = [f for f in result.applied + result.suggestions if "nginx:1.25-alpine" in f.message]
    assert fix.fix and (fix.fix.applicability is Applicability.SAFE) is safe, fix.message
    if not safe:
        assert "entrypoint.sh" in fix.message and "busybox" in fix.message


@pytest.mark.parametrize(
    "run, reason, applied",
    [
        ("tar -xJf data/cities.tar.xz -C data", "line 6 uses xz, which python:3.12-slim does not have", False),
        ("python setup.py build_ext --inplace", "runs code msdfix does not read (`python setup.py`)", False),
        ("find data -name '*.bz2' | xargs -r bzip2 -d", "line 6 uses bzip2", False),
        ("python -m compileall .", None, True),  # a module of the interpreter, not the project's code
    ],
)  # fmt: skip
def test_a_run_that_needs_the_full_image_keeps_it(
    tmp_path: Path, run: str, reason: str | None, applied: bool
) -> None:
    """Built for real on python:3.12-slim: tar found no xz, and the project's Cython
    extension found no gcc. The lock-like requirements leave no other reason."""
    (tmp_path / "requirements.txt").write_text("flask==3.0.3 --hash=sha256:" + "0" * 64 + "\n")
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --only-binary :all: -r requirements.txt\nCOPY . .\n"
        f'RUN {run}\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    assert result.changed is applied, [f.message for f in result.suggestions]
    if reason:
        assert any(reason in f.message for f in result.suggestions), result.suggestions


def test_node_dependencies_are_read_where_the_install_takes_its_manifests(tmp_path: Path) -> None:
    """The root's package.json is clean and api/'s lock has a node-gyp addon: the install
    reads api/'s (built for real on node:18-slim: gyp found no make)."""
    lock = {
        "lockfileVersion": 3,
        "packages": {"": {}, "node_modules/iconv": {"hasInstallScript": True}},
    }
    for rel, data in {
        "package.json": {"devDependencies": {"prettier": "3"}},
        "package-lock.json": {"lockfileVersion": 3, "packages": {"": {}}},
        "api/package.json": {"dependencies": {"iconv": "3"}},
        "api/package-lock.json": lock,
    }.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(json.dumps(data))
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY api/package.json api/package-lock.json ./\n"
        'RUN npm ci --omit=dev\nCOPY api/ .\nCMD ["node", "server.js"]\n'
    )
    result = _run(text, context=tmp_path)
    assert not result.changed
    assert any("(iconv)" in f.message for f in result.suggestions), result.suggestions


@pytest.mark.parametrize(
    "run",
    [
        'su app -c "pip install --user --no-cache-dir netifaces==0.11.0"',
        'runuser app -c "pip install --user netifaces==0.11.0"',
        "runuser -u app -- pip install --user netifaces==0.11.0",
        "gosu app pip install --user netifaces==0.11.0",
        "su-exec app pip install --user netifaces==0.11.0",
        "setpriv --reuid=app --regid=app --init-groups pip install --user netifaces==0.11.0",
        "chroot --userspec=app / pip install --user netifaces==0.11.0",
    ],
)
def test_an_install_run_through_a_user_switch_is_seen(run: str) -> None:
    """Built for real: `su app -c "pip install netifaces"` on python:3.12-slim found no gcc;
    each of these runs the install as another user, as `sudo -u` does."""
    text = f'FROM python:3.12\nRUN useradd -m app\nRUN {run}\nCMD ["python", "-m", "app"]\n'
    result = _run(text)
    assert not result.changed
    assert any(
        "unsafe: line 3" in f.message or "line 3's python packages" in f.message
        for f in result.suggestions
        if f.fix
    ), result.suggestions


def test_npm_start_scripts_are_read_for_tools(tmp_path) -> None:
    """``"prestart": "git rev-parse --short HEAD > REVISION"``: on node:18-slim the container
    exited with "git: not found" (built for real)."""
    (tmp_path / "package.json").write_text(
        '{"name": "a", "scripts": {"prestart": "git rev-parse HEAD > REVISION", '
        '"start": "node server.js"}}'
    )
    (tmp_path / "server.js").write_text("console.log(1)\n")
    text = 'FROM node:18\nWORKDIR /app\nCOPY . .\nCMD ["npm", "start"]\n'
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert not result.changed
    assert any("`npm start` runs `git`" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("setting", "moves"),
    [("", True), ("ENV GOFLAGS=-mod=mod\n", False), ("ENV GOWORK=off\n", False)],
)
def test_distroless_counts_modules_the_build_downloads(
    tmp_path: Path, setting: str, moves: bool
) -> None:
    """vendor/ and go.work hold a module's code only where the build reads them: with
    ``-mod=mod`` or GOWORK=off it downloads the module (built, round 26: its ``bash -c`` ran
    on golang:1.19 and failed on the split's distroless/static)."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n\nrequire example.com/lib v1.2.0\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor/modules.txt").write_text("# example.com/lib v1.2.0\n## explicit\n")
    if "GOWORK" in setting:
        (tmp_path / "vendor/modules.txt").unlink()
        (tmp_path / "go.work").write_text("go 1.19\n\nuse (\n\t.\n\t./lib\n)\n")
        (tmp_path / "lib").mkdir()
        (tmp_path / "lib/go.mod").write_text("module example.com/lib\n\ngo 1.19\n")
    text = (
        f"FROM golang:1.22 AS build\n{setting}WORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        'FROM debian:12-slim\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("distroless" in result.output) is moves
    if not moves:
        assert any("go.mod requires example.com/lib" in f.message for f in result.suggestions)


@pytest.mark.parametrize(("copy", "moves"), [("COPY . .", True), ("COPY go.mod main.go ./", False)])
def test_distroless_reads_go_work_only_where_the_build_copies_it(
    tmp_path: Path, copy: str, moves: bool
) -> None:
    """go.work holds a module's code only where the image has it above the go build's
    folder: without it go downloads the module (built: v1.2.0's ``bash -c`` failed on the
    split's distroless/static where the original answered)."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n\nrequire example.com/lib v1.2.0\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "go.work").write_text("go 1.19\n\nuse (\n\t.\n\t./lib\n)\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/go.mod").write_text("module example.com/lib\n\ngo 1.19\n")
    text = (
        f"FROM golang:1.22 AS build\nWORKDIR /src\n{copy}\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        'FROM debian:12-slim\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("distroless" in result.output) is moves, result.output


def test_a_distroless_user_needs_its_group_too() -> None:
    """``USER nobody:nogroup`` on distroless: "unable to find group nogroup" (built for real)."""
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        "FROM debian:bookworm-slim\nCOPY --from=build /out/app /usr/local/bin/app\n"
        'USER nobody:nogroup\nCMD ["app"]\n'
    )
    result = _run(text)
    assert "distroless" not in result.output
    assert any("group nogroup" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("base", "moves"), [("alpine:3.20", False), ("debian:12-slim", True), ("ubuntu:22.04", True)]
)
def test_nobody_moves_to_distroless_only_with_the_same_home(
    tmp_path: Path, base: str, moves: bool
) -> None:
    """Round 24, built: a static Go binary on alpine:3.20 with USER nobody printed uid 65534
    and HOME /; moved to distroless it printed HOME /nonexistent (Debian's nobody, which
    debian:12-slim and distroless share: the same answers there)."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = (
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        f"FROM {base}\nCOPY --from=build /out/app /usr/local/bin/app\n"
        'USER nobody\nCMD ["app"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("distroless" in result.output) is moves
    if not moves:
        assert any(
            "nobody is 65534:65534 with HOME / on alpine:3.20" in f.message
            for f in result.suggestions
        )


@pytest.mark.parametrize(
    ("user", "moves"),
    [
        ("33", False),
        ("33:33", False),
        ("10001:33", False),
        ("65534", True),
        ("10001", True),
        ("65532", False),
        ("65532:65532", False),
    ],
)
def test_a_numeric_system_user_of_the_base_keeps_it(tmp_path: Path, user: str, moves: bool) -> None:
    """``USER 33`` is www-data on Debian (home /var/www); distroless has no uid 33, so HOME
    became / and ``user.Current()`` failed (built for real). ``USER 65532`` is distroless's
    nonroot: on debian:12-slim it ran as gid 0 with HOME /, on distroless with 65532 and HOME
    /home/nonroot (round 24, built)."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text(
        'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println() }\n'
    )
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        "FROM debian:12\nCOPY --from=build /out/app /usr/local/bin/app\n"
        f'USER {user}\nENTRYPOINT ["app"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("distroless" in result.output) is moves
    if not moves:
        reasons = ("may be a system user or group", "uid 65532 is nonroot")
        assert any(r in f.message for f in result.suggestions for r in reasons)


def test_a_copy_owned_by_the_nonroot_uid_still_moves(tmp_path: Path) -> None:
    """Only a USER takes its group and HOME from /etc/passwd: ``COPY --chown=65532`` gives
    the same numeric owner on either base."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        "FROM debian:12\nCOPY --from=build --chown=65532:65532 /out/app /usr/local/bin/app\n"
        'ENTRYPOINT ["app"]\n'
    )
    assert "distroless" in _run(text, context=tmp_path).output


@pytest.mark.parametrize(
    ("files", "moves"),
    [
        ({}, True),
        ({"go.mod": "module x\n\ngo 1.19\n\nrequire example.com/shellout v1.0.0\n"}, False),
        (
            {
                "go.mod": "module x\n\ngo 1.19\n\nrequire (\n\texample.com/shellout v1.0.0\n)\n",
                "vendor/modules.txt": "# example.com/shellout v1.0.0\n",
            },
            True,
        ),
        (
            {
                "go.mod": "module x\n\nrequire example.com/lib v0.0.0\n\n"
                "replace example.com/lib => ./lib\n"
            },
            True,
        ),
    ],
)
def test_go_modules_outside_the_context_are_code_msdfix_cannot_read(
    tmp_path: Path, files: dict[str, str], moves: bool
) -> None:
    """main.go imports no os/exec, but a required module did (``bash -c``): on distroless the
    program failed with 'executable file not found' (built for real)."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        'FROM debian:12\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("distroless" in result.output) is moves
    if not moves:
        assert any("example.com/shellout, whose code" in f.message for f in result.suggestions)


def test_copies_are_followed_through_every_stage_they_come_from() -> None:
    """deps (native addon built on node:18) -> build -> runtime: libcurl.so.4 was missing on
    node:18-slim (built for real)."""
    text = (
        "FROM node:18 AS deps\nWORKDIR /app\nRUN npm install node-libcurl@4\n"
        "FROM node:18 AS build\nWORKDIR /app\nCOPY --from=deps /app/node_modules ./node_modules\n"
        "FROM node:18\nWORKDIR /app\nCOPY --from=build /app /app\n"
        'CMD ["node", "server.js"]\n'
    )
    result = _run(text)
    assert (
        not result.output.endswith('CMD ["node", "server.js"]\n')
        or "node:18-slim" not in result.output
    )


@pytest.mark.parametrize(
    "cmd",
    ['["java", "Hello.java"]', '["java", "-Xmx64m", "--source", "17", "/app/hello"]'],
)
def test_java_on_a_source_file_keeps_the_jdk(cmd: str, tmp_path: Path) -> None:
    """The source launcher (JEP 330) compiles with jdk.compiler, which a JRE lacks."""
    (tmp_path / "Hello.java").write_text("class Hello { public static void main(String[] a) {} }\n")
    text = f"FROM eclipse-temurin:17\nWORKDIR /app\nCOPY Hello.java .\nCMD {cmd}\n"
    result = _run(text, unsafe=True, context=tmp_path)
    assert result.output == text
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert "needs the JDK's compiler" in messages


@pytest.mark.parametrize(
    "source",
    [
        "JavaCompiler javac = ToolProvider.getSystemJavaCompiler();",
        'Process p = new ProcessBuilder("jcmd", "1", "Thread.print").start();',
    ],
)
def test_a_program_that_compiles_java_keeps_the_jdk(source: str, tmp_path: Path) -> None:
    """A rule engine compiling rules/*.java at start-up: on a JRE the compiler is null."""
    src = tmp_path / "src/main/java/App.java"
    src.parent.mkdir(parents=True)
    src.write_text(f"class App {{ void run() throws Exception {{ {source} }} }}\n")
    text = (
        "FROM eclipse-temurin:17-jdk AS build\nCOPY src src\nRUN javac -d out src/main/java/*.java\n"
        "FROM eclipse-temurin:17-jdk\nCOPY --from=build /out /app\n"
        'CMD ["java", "-cp", "/app", "App"]\n'
    )
    safe = _run(text, context=tmp_path)
    assert safe.output == text
    unsafe = _run(text, unsafe=True, context=tmp_path)
    assert "FROM eclipse-temurin:17-jre\n" in unsafe.output
    assert any("App.java compiles Java" in f.message for f in unsafe.applied)
    (src).write_text("class App { void run() { System.out.println(1); } }\n")
    assert "FROM eclipse-temurin:17-jre\n" in _run(text, context=tmp_path).output


def test_wheels_a_copied_stage_builds_with_pip_wheel_count_as_built_there(tmp_path: Path) -> None:
    """A builder stage ran ``pip wheel`` (PyGreSQL from its sdist, linked to libpq) and the
    final stage installed the copied wheels with ``--only-binary :all:``: on -slim the import
    failed (libpq.so.5 missing, built for real). ``pip wheel`` builds like ``pip install``."""
    (tmp_path / "requirements.txt").write_text(
        "# This file is autogenerated by pip-compile with Python 3.12\nflask==3.1.0\n"
        "pygresql==6.0.1\n"
    )
    (tmp_path / "app.py").write_text("import pg\n")
    text = (
        "FROM python:3.12 AS builder\nCOPY requirements.txt .\n"
        "RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt\n\n"
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY --from=builder /wheels /wheels\n"
        "RUN pip install --no-index --only-binary :all: --find-links /wheels -r requirements.txt\n"
        'COPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert "python:3.12-slim" not in result.output
    assert "copies python packages built on python:3.12" in messages, messages


@pytest.mark.parametrize(
    ("run", "program"),
    [
        ("mypyc fastmath.py", "mypyc"),  # runs gcc: built for real, -slim failed
        ("python -m setuptools_scm > VERSION", "setuptools_scm"),  # runs git
        ("pyinstaller --onefile tool.py", "pyinstaller"),  # needs binutils
    ],
)
def test_a_build_run_of_an_installed_program_is_unknown_work(
    tmp_path: Path, run: str, program: str
) -> None:
    """A RUN that starts a program pip installed runs code msdfix does not read (split-stages
    already declined such RUNs): ``mypyc`` compiled with gcc, which python:3.12-slim lacks."""
    (tmp_path / "requirements.txt").write_text(
        "# This file is autogenerated by pip-compile with Python 3.12\nmypy==1.13.0\n"
    )
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "prepare.py").write_text("print(1)\n")
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --only-binary :all: -r requirements.txt\nCOPY . .\n"
        f'RUN {run}\nRUN python -m compileall . && python -m prepare\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert "python:3.12-slim" not in result.output
    assert f"runs `{program}`, a program msdfix does not read" in messages, messages
    plain = text.replace(f"RUN {run}\n", "")
    assert "FROM python:3.12-slim" in _run(plain, context=tmp_path).output


@pytest.mark.parametrize(
    ("run", "tool"),
    [
        ('echo "$SHA  /opt/a.txt" | shasum -a 256 -c -', "shasum"),
        ("find /usr/local/lib -name '*.so' -exec strip --strip-unneeded {} +", "strip"),
        ("perl -MJSON::PP -e 'print decode_json(<STDIN>)->{v}' < m.json > VERSION", "perl modules"),
        ("perl -e 'use Digest::SHA qw(sha1_hex); print sha1_hex(1)' > ID", "perl modules"),
        ("perl tools/gen.pl > out.txt", "perl modules"),
        ("bzgrep -q x /opt/a.bz2", "bzgrep"),
    ],
)
def test_full_image_programs_beyond_the_named_few_keep_the_base(run: str, tool: str) -> None:
    """buildpack-deps brings whole packages and their dependencies (git: perl with shasum and
    its modules; gcc: binutils with strip): each RUN failed for real on python:3.12-slim."""
    text = f'FROM python:3.12\nCOPY . /app\nRUN {run}\nCMD ["python", "/app/app.py"]\n'
    result = _run(text, unsafe=True)
    assert result.output == text
    assert any(f"uses {tool}," in s.message for s in result.suggestions), [
        s.message for s in result.suggestions
    ]


def test_perl_one_liner_and_installed_packages_still_allow_slim(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('debug')\n")
    base = "FROM python:3.12\nCOPY app.py /app/app.py\n"
    end = 'CMD ["python", "/app/app.py"]\n'
    one_liner = base + "RUN perl -pi -e 's/debug/info/' /app/app.py\n" + end
    assert "python:3.12-slim" in _run(one_liner, context=tmp_path).output
    installed = (
        base + "RUN apt-get update && apt-get install -y --no-install-recommends perl binutils\n"
        "RUN strip /usr/local/bin/x || true; perl -MJSON::PP -e 1\n" + end
    )
    assert "python:3.12-slim" in _run(installed, unsafe=True, context=tmp_path).output


def test_file_sourced_by_the_entrypoint_is_read_for_tools(tmp_path: Path) -> None:
    """`. /app/lib/helpers` (no suffix, no #! line) ran `wget`: python:3.12-slim was rated
    safe and the real container exited with "wget: not found"."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helpers").write_text('fetch() {\n    wget -q -O /app/c.json "$URL"\n}\n')
    (tmp_path / "entrypoint.sh").write_text(
        '#!/bin/sh\nset -e\n. /app/lib/helpers\nfetch\nexec "$@"\n'
    )
    (tmp_path / "app.py").write_text("print('hi')\n")
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY lib/ lib/\nCOPY entrypoint.sh app.py ./\n"
        'ENTRYPOINT ["/app/entrypoint.sh"]\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    assert result.output == text
    assert any("`wget`" in s.message for s in result.suggestions)


def test_sourced_paths() -> None:
    from msdfix.model.program_calls import is_sourced, sourced_paths

    found = sourced_paths(
        ['set -e\n. /app/lib/helpers\nif [ -f x ]; then source "$APP_DIR/conf/env"; fi\n'
         ". ./local\necho a.b # not sourced\n"]
    )  # fmt: skip
    assert found == {"app/lib/helpers", "conf/env", "local"}
    assert is_sourced("lib/helpers", found) and is_sourced("deploy/local", found)
    assert not is_sourced("lib/other", found)


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends groff-base\n"
            'ENTRYPOINT ["groff", "-man", "-Tutf8"]\n',
            "installs groff-base",
        ),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends man-db jq\n"
            'ENTRYPOINT ["man"]\n',
            "installs man-db",
        ),
        (
            "RUN apt-get update && apt-get install -y stunnel4\n"
            "RUN cp /usr/share/doc/stunnel4/examples/stunnel.conf-sample /etc/stunnel/s.conf\n"
            'CMD ["stunnel"]\n',
            "reads /usr/share/doc/",
        ),
        (  # --build-arg EXTRA_PACKAGES=man-db (static: the stand-in images lack the dpkg rule)
            'ARG EXTRA_PACKAGES=""\n'
            "RUN apt-get update && apt-get install -y curl $EXTRA_PACKAGES\n"
            'CMD ["curl", "--version"]\n',
            "packages a build argument may choose",
        ),
    ],
)
def test_slim_drops_docs_man_pages_groff_and_translations(lines: str, reason: str) -> None:
    """debian:*-slim's dpkg skips /usr/share/{doc,man,groff,info,locale,...} of every package:
    on it groff failed ("can't find 'DESC' file"), man found no page and the cp failed."""
    text = "FROM debian:bookworm\n" + lines
    result = _run(text, unsafe=True)
    assert result.output == text
    assert any(reason in s.message for s in result.suggestions), [
        s.message for s in result.suggestions
    ]


def test_a_package_list_the_run_sets_itself_is_no_build_argument() -> None:
    """``buildDeps='gcc make' && apt-get install $buildDeps`` (the official images' form) names
    its packages in the RUN: only a build argument may choose man-db or a -doc package."""
    text = (
        "FROM debian:bookworm\nRUN buildDeps='curl ca-certificates' && apt-get update "
        '&& apt-get install -y $buildDeps\nCMD ["curl", "--version"]\n'
    )
    assert "bookworm-slim" in _run(text).output


def test_slim_translations_and_cleanups(tmp_path: Path) -> None:
    cleanup = (
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl "
        "&& rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*\n"
        'CMD ["curl", "--version"]\n'
    )
    assert "bookworm-slim" in _run(cleanup).output  # deleting docs is no reason to keep them
    german = cleanup.replace("CMD", "ENV LANG de_DE.UTF-8\nCMD")  # legacy ENV form too
    assert "bookworm-slim" not in _run(german).output
    assert "bookworm-slim" in _run(german, unsafe=True).output
    for english in ('ENV LC_ALL="en_US.UTF-8"', "ENV LANG='C.UTF-8'", "ENV LANG=C.UTF-8"):
        quoted = cleanup.replace("CMD", f"{english}\nCMD")  # quotes are not part of the value
        assert "bookworm-slim" in _run(quoted).output, english
    (tmp_path / "app.py").write_text(
        'import gettext\ngettext.translation("iso_3166-1", "/usr/share/locale", ["de"])\n'
    )
    text = 'FROM python:3.12\nCOPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n'
    assert _run(text, unsafe=True, context=tmp_path).output == text


def test_npm_run_in_a_run_reads_its_scripts_for_tools(tmp_path: Path) -> None:
    """`RUN npm run build` whose script ends with `shasum -a 256 dist/index.html` failed on
    node:20-slim (no perl): the scripts a RUN runs are read like the start command's."""
    (tmp_path / "package.json").write_text(
        json.dumps(
            {
                "name": "ss",
                "version": "1.0.0",
                "scripts": {
                    "build": "node build.js",
                    "postbuild": "shasum -a 256 dist/index.html > dist/SHA256SUMS",
                    "start": "node server.js",
                },
            }
        )
    )
    (tmp_path / "package-lock.json").write_text(
        json.dumps({"name": "ss", "lockfileVersion": 3, "packages": {"": {"name": "ss"}}})
    )
    (tmp_path / "build.js").write_text("require('fs').writeFileSync('dist/index.html', 'x')\n")
    (tmp_path / "server.js").write_text("require('http').createServer().listen(3000)\n")
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
        'COPY . .\nRUN npm run build\nCMD ["node", "server.js"]\n'
    )
    result = _run(text, unsafe=True, context=tmp_path)
    assert "node:20-slim" not in result.output
    assert any("`shasum`" in s.message for s in result.suggestions)
    package = json.loads((tmp_path / "package.json").read_text())
    package["scripts"]["postbuild"] = "node -e 1"
    (tmp_path / "package.json").write_text(json.dumps(package))
    assert "node:20-slim" in _run(text, context=tmp_path).output


@pytest.mark.parametrize(("arg", "safe"), [("ARG APP=api", False), ("ENV APP=api", True)])
def test_a_package_json_chosen_by_a_build_argument_is_not_evidence(
    tmp_path: Path, arg: str, safe: bool
) -> None:
    """``COPY apps/${APP}/package.json``: the default folder's package.json had no package
    that needs the full image, and ``node:20-slim`` was safe; built for real with
    ``--build-arg APP=worker``, whose simple-git found no git (HTTP 500). An ENV cannot be
    changed from the command line: its folder is the one the build reads."""
    lock = {"name": "x", "lockfileVersion": 3, "requires": True, "packages": {"": {}}}
    for app, deps in (("api", {"ms": "2.1.3"}), ("worker", {"simple-git": "3.24.0"})):
        (tmp_path / "apps" / app).mkdir(parents=True)
        (tmp_path / "apps" / app / "package.json").write_text(json.dumps({"dependencies": deps}))
        (tmp_path / "apps" / app / "package-lock.json").write_text(json.dumps(lock))
    text = (
        f"FROM node:20\n{arg}\nWORKDIR /app\n"
        "COPY apps/${APP}/package.json apps/${APP}/package-lock.json ./\n"
        'RUN npm ci --omit=dev\nCOPY apps/${APP}/ ./\nCMD ["node", "server.js"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("FROM node:20-slim" in result.output) is safe, result.output


# ---- round 14 (Ruby and PHP apps, built for real)


_GEMS = 'source "https://rubygems.org"\ngem "puma"\n'


@pytest.mark.parametrize(
    ("start", "script"),
    [
        (
            'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["bundle", "exec", "puma"]\n',
            '#!/bin/sh\nset -e\nbundle check || bundle install\nexec "$@"\n',
        ),
        ("CMD bundle install && bundle exec puma\n", None),
        (  # a bare `bundle` is `bundle install`
            'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["bundle", "exec", "puma"]\n',
            '#!/bin/sh\nset -e\nbundle\nexec "$@"\n',
        ),
        # round 15: a start install through a wrapper, by path or in `sh -c` is one too (the
        # script's `env BUNDLE_JOBS=4 bundle install` got a safe -slim: fastcrc failed, built)
        *(
            (
                'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["bundle", "exec", "puma"]\n',
                f'#!/bin/sh\nset -e\nbundle check || {line}\nexec "$@"\n',
            )
            for line in (
                "env BUNDLE_JOBS=4 bundle install",
                "exec bundle install",
                "/usr/local/bin/bundle install",
                "gosu app bundle install",
                "sudo -E bundle install",
                "sh -c 'bundle install'",
                "bundle --verbose install",
            )
        ),
        ('CMD ["sh", "-c", "exec bundle install && bundle exec puma"]\n', None),
        # round 16: the entrypoint script runs the CMD it is given (exec "$@")
        (
            'ENTRYPOINT ["./docker-entrypoint.sh"]\n'
            'CMD ["sh", "-c", "bundle install && bundle exec puma"]\n',
            '#!/bin/sh\nset -e\nexec "$@"\n',
        ),
        ('ENTRYPOINT ["/docker-entrypoint.sh"]\nCMD bundle install && bundle exec puma\n', None),
    ],
)
def test_install_at_container_start_is_not_slim_safe(
    tmp_path: Path, start: str, script: str | None
) -> None:
    """No RUN installs gems, the entrypoint does: on ruby:3.3-slim it could not compile
    ("mkmf.rb can't find header files for ruby", built for real)."""
    (tmp_path / "Gemfile").write_text(_GEMS)
    (tmp_path / "Gemfile.lock").write_text("GEM\n  specs:\n    puma (6.4.0)\n")
    if script is not None:
        (tmp_path / "docker-entrypoint.sh").write_text(script)
    text = "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\n" + start
    result = _run(text, context=tmp_path)
    assert result.output == text
    assert any("when it starts" in f.message for f in result.suggestions)


def test_compiled_gems_in_the_context_are_not_slim_safe(tmp_path: Path) -> None:
    """A CI-built vendor/bundle copied with the checkout: on -slim its extension could not
    load libpq ("libpq.so.5: cannot open shared object file", built for real)."""
    ext = tmp_path / "vendor/bundle/ruby/3.1.0/gems/pqver-0.2.0/lib/pqver"
    ext.mkdir(parents=True)
    (ext / "pqver.so").write_bytes(b"\x7fELF")
    (tmp_path / "app.rb").write_text('require "bundler/setup"\n')
    text = (
        "FROM ruby:3.3\nENV BUNDLE_PATH=vendor/bundle\nWORKDIR /app\nCOPY . .\n"
        'CMD ["bundle", "exec", "ruby", "app.rb"]\n'
    )
    result = _run(text, context=tmp_path)
    assert result.output == text
    assert any("compiled code" in f.message for f in result.suggestions)
    only_app = text.replace("COPY . .", "COPY app.rb .")
    assert _run(only_app, context=tmp_path).output != only_app


@pytest.mark.parametrize(
    "copy",
    [
        "COPY --from=ghcr.io/acme/gems:1 /usr/local/bundle /usr/local/bundle\n",
        "ADD gems.tar.gz /usr/local/bundle/\n",
    ],
)
def test_gems_copied_from_an_image_or_archive_are_not_slim_safe(tmp_path: Path, copy: str) -> None:
    (tmp_path / "gems.tar.gz").write_bytes(b"")
    (tmp_path / "app.rb").write_text("puts 1\n")
    text = "FROM ruby:3.3\nWORKDIR /app\n" + copy + 'COPY app.rb .\nCMD ["ruby", "app.rb"]\n'
    result = _run(text, context=tmp_path)
    assert result.output == text


@pytest.mark.parametrize(
    "source",
    ["puts `file -b --mime-type #{ARGV[0]}`\n", "out = %x(make -s report)\n"],
)
def test_ruby_backticks_run_full_image_programs(tmp_path: Path, source: str) -> None:
    """`file -b --mime-type` in backticks: on ruby:3.3-slim the worker died with
    "No such file or directory - file" (Errno::ENOENT, built for real)."""
    (tmp_path / "app.rb").write_text(source)
    text = 'FROM ruby:3.3\nWORKDIR /app\nCOPY app.rb .\nCMD ["ruby", "app.rb"]\n'
    result = _run(text, context=tmp_path)
    assert result.output == text


def test_js_template_literal_is_not_a_command(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_text("console.log(`file ${process.argv[2]}`)\n")
    text = 'FROM node:20\nWORKDIR /app\nCOPY index.js .\nCMD ["node", "index.js"]\n'
    assert _run(text, context=tmp_path).output != text


def test_ruby_fiddle_loading_a_system_library_is_not_slim_safe(tmp_path: Path) -> None:
    """`Fiddle.dlopen("libpq.so.5")`: on ruby:3.3-slim "libpq.so.5: cannot open shared object
    file" (Fiddle::DLError, built for real)."""
    (tmp_path / "app.rb").write_text('require "fiddle"\nlib = Fiddle.dlopen("libpq.so.5")\n')
    text = 'FROM ruby:3.3\nWORKDIR /app\nCOPY app.rb .\nCMD ["ruby", "app.rb"]\n'
    result = _run(text, context=tmp_path)
    assert result.output == text
    assert any("libpq" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("install", "moves"),
    [
        ("apt-get install curl", False),
        ("apt install git curl", False),
        ("apt-get -q install curl", False),
        ("apt-get install -y curl", True),
        ("apt-get install --yes curl", True),
        ("apt-get -qq install curl", True),
        ("apt-get install -qy curl", True),
        ("yes | apt-get install curl", True),
    ],
)
def test_an_apt_install_without_yes_keeps_the_full_image(
    tmp_path: Path, install: str, moves: bool
) -> None:
    """Built for real: ``apt-get install curl`` without -y passed on node:18 (curl installed,
    apt asks nothing) and stopped at "Do you want to continue? [Y/n] Abort." on node:18-slim."""
    (tmp_path / "app.py").write_text("print('hi')\n")
    text = (
        f"FROM python:3.11\nRUN apt-get update && {install}\nWORKDIR /app\nCOPY app.py .\n"
        'CMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    slim = [f for f in result.applied if "-slim" in f.message]
    assert bool(slim) is moves, [f.message for f in result.suggestions]
    if not moves:
        assert result.output == text
        assert any("without -y" in f.message for f in result.suggestions)


def test_an_apt_install_without_yes_keeps_the_jdk(tmp_path: Path) -> None:
    """The JRE image lacks packages of the JDK image (binutils in eclipse-temurin) as -slim
    lacks the full image's: an install without -y that pulls in more than it names stops at
    apt's prompt there, as it did on -slim (built)."""
    (tmp_path / "app.jar").write_bytes(b"PK")
    text = (
        "FROM eclipse-temurin:17-jdk\nRUN apt-get update && apt-get install {}binutils\n"
        'COPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n'
    )
    result = _run(text.format(""), context=tmp_path)
    assert result.output == text.format("")
    assert any("without -y" in f.message for f in result.suggestions)
    assert "FROM eclipse-temurin:17-jre\n" in _run(text.format("-y "), context=tmp_path).output


@pytest.mark.parametrize(
    "overlay",
    [
        "ADD overlay.tar.gz /app/",
        "COPY --from=gen /out/ ./",
        "ADD overlay.tgz .",
        # BuildKit expands the ARG before ADD unpacks it; a variable without a value may
        # name an archive too
        "ARG OVERLAY=overlay.tar.gz\nADD $OVERLAY /app/",
        "ARG OVERLAY\nADD ${OVERLAY} .",
    ],
)
def test_manifests_an_archive_or_another_stage_may_replace_are_unknown(tmp_path, overlay):
    """The package.json ``npm ci`` reads came from the archive (its postinstall ran make), not
    from the context: node:20-slim failed with "make: not found" (built). ``ADD $OVERLAY``
    is read with the ARG expanded."""
    ms = {"version": "2.1.3", "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"}
    root = {"name": "x", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}}
    lock = {"name": "x", "lockfileVersion": 3, "packages": {"": root, "node_modules/ms": ms}}
    (tmp_path / "package.json").write_text(json.dumps(root))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    for name in ("overlay.tar.gz", "overlay.tgz"):
        (tmp_path / name).write_bytes(b"\x1f\x8b")
    text = (
        "FROM node:20 AS gen\nWORKDIR /out\nRUN echo\n"
        f"FROM node:20\nWORKDIR /app\nCOPY . .\n{overlay}\nRUN npm ci\n"
        'CMD ["node", "server.js"]\n'
    )
    result = _run(text, context=tmp_path)
    assert "node:20-slim" not in result.output
    assert "FROM node:20-slim" in _run(text.replace(overlay, ""), context=tmp_path).output
    below = text.replace(overlay, overlay.replace("./", "./dist/").replace("/app/", "/app/dist/"))
    if "--from" in overlay:  # a stage's files below the install's folder leave package.json
        assert "FROM node:20-slim" in _run(below, context=tmp_path).output


@pytest.mark.parametrize(
    ("run", "moves"),
    [
        (
            "sed -i 's/#   StrictHostKeyChecking ask/StrictHostKeyChecking no/' /etc/ssh/ssh_config",
            False,
        ),
        ("echo 'StrictHostKeyChecking no' >> /etc/ssh/ssh_config", False),
        ("sed -i 's/none/read|write/' /etc/ImageMagick-6/policy.xml", False),
        ("sed -i 's/none/read|write/' /etc/ImageMagick*/policy.xml", False),
        ("sh -c \"sed -i 's/^#//' /etc/ldap/ldap.conf\"", False),
        ("cp /etc/wgetrc /tmp/wgetrc", False),
        (
            "apt-get update && apt-get install -y openssh-client && sed -i 's/a/b/' /etc/ssh/ssh_config",
            True,
        ),
        ("mkdir -p /etc/ssh && echo 'StrictHostKeyChecking no' >> /etc/ssh/ssh_config", True),
        ("echo 'vm.swappiness=1' >> /etc/sysctl.conf", True),
        ("rm -rf /etc/ssh /etc/ImageMagick-6", True),
        ("echo /etc/ssh/ssh_config", True),
    ],
)
def test_a_run_that_edits_a_file_of_a_full_only_package_keeps_the_full_image(
    tmp_path: Path, run: str, moves: bool
) -> None:
    """Built for real: ``sed -i ... /etc/ssh/ssh_config`` passed on node:18 (openssh-client
    installed) and failed on node:18-slim with "sed: can't read /etc/ssh/ssh_config"."""
    (tmp_path / "server.js").write_text("console.log('hi')\n")
    text = f'FROM node:18\nRUN {run}\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n'
    result = _run(text, context=tmp_path)
    slim = [f for f in result.applied if "-slim" in f.message]
    assert bool(slim) is moves, [f.message for f in result.suggestions]
    if not moves:
        assert any("on the full image only" in f.message for f in result.suggestions)


def test_a_full_only_packages_file_means_nothing_for_debian_slim() -> None:
    """debian:bookworm and debian:bookworm-slim have the same packages (-slim leaves out
    docs only): an edit of /etc/mysql/my.cnf fails on both or on neither."""
    text = "FROM debian:bookworm\nRUN sed -i 's/a/b/' /etc/mysql/my.cnf\nCMD [\"bash\"]\n"
    assert "FROM debian:bookworm-slim\n" in _run(text).output


def test_a_config_file_copied_in_first_is_there_on_slim(tmp_path: Path) -> None:
    """A COPY that brings the directory (or the file) makes the later edit work on -slim."""
    (tmp_path / "ssh_config").write_text("Host *\n")
    (tmp_path / "server.js").write_text("console.log('hi')\n")
    text = (
        "FROM node:18\nCOPY ssh_config /etc/ssh/ssh_config\n"
        "RUN sed -i 's/a/b/' /etc/ssh/ssh_config\nWORKDIR /app\nCOPY server.js .\n"
        'CMD ["node", "server.js"]\n'
    )
    assert "FROM node:18-slim\n" in _run(text, context=tmp_path).output


@pytest.mark.parametrize(
    ("run", "moves"),
    [
        ("apt-get purge -y --auto-remove wget curl", False),
        ("apt-get remove -y git openssh-client && apt-get autoremove -y", False),
        ("apt-mark hold libpq-dev && apt-get update && apt-get upgrade -y", False),
        ("apt-get install -y --no-install-recommends gcc libpq-dev", False),
        ("dpkg -s git > /dev/null", False),
        ("apt-get update && apt-get install -y jq && apt-get purge -y jq", True),
        ("apt-get update && apt-get install -y --no-install-recommends jq", True),
        (
            "apt-get update && apt-get install -y --no-install-recommends jq"
            " && apt-mark auto '.*' > /dev/null && apt-mark manual jq",
            True,
        ),
    ],
)
def test_a_run_acting_on_the_full_images_packages_keeps_it(
    tmp_path: Path, run: str, moves: bool
) -> None:
    """Built for real: ``apt-get purge -y wget curl`` (python:3.12), ``apt-get remove -y git``
    (node:20), ``apt-mark hold libpq-dev`` and an ``apt-get install gcc libpq-dev`` with no
    ``apt-get update`` passed on the full image, whose buildpack-deps packages they name, and
    failed on -slim: "E: Unable to locate package wget". ``apt-mark auto '.*'`` names every
    package, as the official -slim images' own Dockerfiles run it: it keeps -slim. An install
    before any update names a package the full image may not have (``curl ... | bash -`` may
    have fetched lists): its reason says what apt needs, not that the full image has it."""
    (tmp_path / "app.py").write_text("print('hi')\n")
    text = f'FROM python:3.12\nRUN {run}\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    result = _run(text, context=tmp_path)
    slim = [f for f in result.applied if "-slim" in f.message]
    assert bool(slim) is moves, [f.message for f in result.suggestions]
    if not moves:
        said = (  # an install before any update: the package is not known to be the image's
            "install` on gcc with no `apt-get update` before it that msdfix can see"
            if run.startswith("apt-get install")
            else "which the full image installs"
        )
        assert any(said in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("start", "script"),
    [
        ('CMD ["env", "LANG=it_IT.UTF-8", "ls", "/nonexistent"]\n', None),
        ("CMD LC_ALL=fr_FR.UTF-8 exec ls /nonexistent\n", None),
        ('ENTRYPOINT ["/entrypoint.sh"]\n', "#!/bin/sh\nexport LANG=es_ES.UTF-8\nexec ls /x\n"),
    ],
)
def test_a_locale_set_where_the_program_starts_makes_slim_unsafe(
    tmp_path: Path, start: str, script: str | None
) -> None:
    """Built on a -slim with the real dpkg excludes: ``CMD ["env", "LANG=it_IT.UTF-8", ...]``
    and an entrypoint's ``export LANG=es_ES.UTF-8`` printed Italian/Spanish messages on the
    full image and English ones on -slim (no /usr/share/locale), as ENV LANG already said."""
    copy = ""
    if script is not None:
        (tmp_path / "entrypoint.sh").write_text(script)
        copy = "COPY entrypoint.sh /entrypoint.sh\n"
    text = f"FROM debian:bookworm\nRUN apt-get update && apt-get install -y locales\n{copy}{start}"
    result = _run(text, context=tmp_path)
    assert result.output == text
    assert any("translations" in f.message for f in result.suggestions)
    english = text.replace("it_IT", "en_US").replace("fr_FR", "C").replace("es_ES", "en_GB")
    if script is not None:
        (tmp_path / "entrypoint.sh").write_text(script.replace("es_ES", "C"))
    assert "FROM debian:bookworm-slim\n" in _run(english, context=tmp_path).output


@pytest.mark.parametrize(
    ("lines", "applied"),
    [
        (  # built for real: exit 127 on node:18-slim without ca-certificates
            "COPY corp.crt /usr/local/share/ca-certificates/corp.crt\nRUN update-ca-certificates\n",
            "none",
        ),
        ("RUN cat /etc/ssl/certs/ca-certificates.crt > /app-ca.pem\n", "none"),
        (  # built for real: exit 127 (openssl comes with ca-certificates on the full image)
            "RUN openssl req -x509 -newkey rsa:2048 -nodes -keyout /k.pem -out /c.pem -subj /CN=x\n",
            "none",
        ),
        ("RUN apt-get update && apt-get install -y openssl && openssl rand -hex 8 > /s\n", "safe"),
        (  # built for real: "error setting certificate file" at start
            "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
            "unsafe",
        ),
        (
            "RUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/norec\n"
            "RUN apt-get update && apt-get install -y git\n",
            "unsafe",
        ),
        ("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n", "unsafe"),
        ("RUN apt-get update && apt-get install -y curl\n", "safe"),  # recommends bring it
        (  # round 17, built for real: curl's recommended ca-certificates brings the tool
            "COPY corp.crt /usr/local/share/ca-certificates/corp.crt\n"
            "RUN apt-get update && apt-get install -y curl && update-ca-certificates\n",
            "safe",
        ),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends curl "
            "&& update-ca-certificates\n",
            "none",
        ),
        (  # each install's own packages: lftp's recommends bring no CA store for wget
            "RUN apt-get update && apt-get install -y lftp "
            "&& apt-get install -y --no-install-recommends wget\n",
            "unsafe",
        ),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates "
            "curl && update-ca-certificates\n",
            "safe",
        ),
        ("RUN apt-get update && apt-get install -y --no-install-recommends jq\n", "safe"),
    ],
)
def test_node_slim_has_no_ca_certificates(tmp_path: Path, lines: str, applied: str) -> None:
    """nodejs/docker-node's -slim Dockerfiles purge ca-certificates after downloading node
    (``apt-mark auto '.*'`` + ``apt-get purge --auto-remove``); node:18 keeps it. Built for
    real on node:18-slim emulated as the official one: update-ca-certificates and openssl
    failed with exit 127, and curl installed without recommends failed at start with "error
    setting certificate file: /etc/ssl/certs/ca-certificates.crt"."""
    (tmp_path / "corp.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "server.js").write_text("require('http').createServer().listen(3000)\n")
    text = f'FROM node:18\n{lines}WORKDIR /app\nCOPY server.js .\nCMD ["node", "server.js"]\n'
    result = _run(text, context=tmp_path)
    safe = [f for f in result.applied if "node:18-slim" in f.message]
    assert bool(safe) is (applied == "safe"), [f.message for f in result.suggestions]
    unsafe = _run(text, unsafe=True, context=tmp_path)
    moved = [f for f in unsafe.applied if "node:18-slim" in f.message]
    assert bool(moved) is (applied != "none"), [f.message for f in unsafe.suggestions]
    if applied == "unsafe":
        assert "CA certificates" in moved[0].message or "ca-certificates" in moved[0].message


def test_python_slim_keeps_its_ca_certificates(tmp_path: Path) -> None:
    """python's -slim installs ca-certificates itself: update-ca-certificates is there."""
    (tmp_path / "corp.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    text = (
        "FROM python:3.12\nCOPY corp.crt /usr/local/share/ca-certificates/corp.crt\n"
        'RUN update-ca-certificates\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    )
    assert "FROM python:3.12-slim\n" in _run(text, context=tmp_path).output


@pytest.mark.parametrize(
    ("install", "safe"),
    [
        ("", False),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends fontconfig libfreetype6\n",
            True,
        ),
    ],
)
def test_openjdk_slim_has_no_fonts(install: str, safe: bool) -> None:
    """docker-library/openjdk installs fontconfig and libfreetype6 in the full images only
    ("libfontmanager.so: libfreetype.so.6: cannot open shared object file"): a Java program
    that draws text fails on -jre-slim, and msdfix cannot read the jar to rule it out."""
    text = f'FROM openjdk:8\n{install}COPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n'
    result = _run(text)
    assert ("FROM openjdk:8-jre-slim\n" in result.output) is safe, result.output
    unsafe = _run(text, unsafe=True)
    assert "FROM openjdk:8-jre-slim\n" in unsafe.output
    if not safe:
        assert any("fontconfig" in f.message for f in unsafe.applied)


def test_temurin_jre_keeps_its_fonts() -> None:
    """eclipse-temurin's JRE installs fontconfig as its JDK does: the move stays safe."""
    text = 'FROM eclipse-temurin:17-jdk\nCOPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n'
    assert "FROM eclipse-temurin:17-jre\n" in _run(text).output


@pytest.mark.parametrize(
    ("source", "safe"),
    [
        ("import tkinter\n", False),
        ("from tkinter import ttk\n", False),
        ("import matplotlib\nmatplotlib.use('TkAgg')\n", False),
        ("from PIL import Image, ImageTk\n", False),
        ("import matplotlib\nmatplotlib.use('Agg')\n", True),
    ],
)
def test_python_slim_has_no_tkinter(tmp_path: Path, source: str, safe: bool) -> None:
    """docker-library/python's -slim leaves ``*tkinter*`` out of the ldd scan that keeps
    the libraries of its build, so libtk and libtcl are purged; the full image has tk-dev."""
    (tmp_path / "app.py").write_text(source)
    text = 'FROM python:3.12\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    result = _run(text, context=tmp_path)
    assert ("FROM python:3.12-slim\n" in result.output) is safe, result.output
    if not safe:
        unsafe = _run(text, unsafe=True, context=tmp_path)
        assert any("tkinter" in f.message for f in unsafe.applied), unsafe.output


_HEALTHY = (
    "services:\n  server:\n    build:\n      context: .\n    healthcheck:\n"
    "      test: {test}\n      interval: 10s\n"
)


@pytest.mark.parametrize(
    ("test", "slim"),
    [
        ('["CMD", "curl", "-f", "http://localhost:3000/"]', False),
        ("\n        - CMD-SHELL\n        - wget -qO- http://localhost:3000/ || exit 1", False),
        ('["CMD", "node", "healthcheck.js"]', True),
        ('["NONE"]', True),
    ],
)
def test_a_compose_healthcheck_counts_as_a_program_the_image_runs(
    tmp_path: Path, test: str, slim: bool
) -> None:
    """Compose runs a service's ``healthcheck`` ``test`` inside the container: the docker-init
    style .dockerignore keeps compose.yaml out of the image, and on node:18-slim ``curl -f``
    failed ("curl: not found"), so the service turned unhealthy (built for real)."""
    (tmp_path / "server.js").write_text(SERVER)
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text(LOCK)
    (tmp_path / ".dockerignore").write_text("**/compose.y*ml\n")
    (tmp_path / "compose.yaml").write_text(_HEALTHY.replace("{test}", test))
    result = _run(ORIGINAL, context=tmp_path)
    assert ("FROM node:18-slim\n" in result.output) is slim
    if not slim:
        assert any(
            "compose.yaml's service server runs" in f.message and "healthcheck" in f.message
            for f in result.suggestions
        )


def test_a_compose_healthcheck_makes_distroless_unsafe(tmp_path: Path) -> None:
    """A compose healthcheck runs in the image: distroless has no wget or shell for it."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "compose.yaml").write_text(
        _HEALTHY.replace("{test}", '["CMD", "wget", "-qO-", "http://localhost:8080/"]')
    )
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
        'FROM debian:12\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'
    )
    assert "distroless" not in _run(text, context=tmp_path).output
    assert "distroless" in _run(text, unsafe=True, context=tmp_path).output


def test_a_deploy_platform_process_counts_as_a_program_the_image_runs(tmp_path: Path) -> None:
    """A Procfile process (Dokku and Heroku run it in the image) that runs curl keeps the
    full node image; the same file without it moves to -slim."""
    (tmp_path / "server.js").write_text(SERVER)
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text(LOCK)
    (tmp_path / ".dockerignore").write_text("Procfile\n")
    (tmp_path / "Procfile").write_text("web: node server.js\nping: curl -fsS http://x/\n")
    result = _run(ORIGINAL, context=tmp_path)
    assert "FROM node:18-slim\n" not in result.output
    assert any("Procfile runs `curl` in its process" in f.message for f in result.suggestions)
    (tmp_path / "Procfile").write_text("web: node server.js\n")
    assert "FROM node:18-slim\n" in _run(ORIGINAL, context=tmp_path).output


def _wheels_only_app(tmp_path: Path, requirement: str, source: str | None = None) -> Result:
    """A python:3.12 app that installs one hashed requirement from wheels only (evidence that
    pip compiles nothing), with ``source`` as its app.py: what -slim lacks is then the app's."""
    (tmp_path / "requirements.txt").write_text(f"{requirement} --hash=sha256:{'1' * 64}\n")
    if source is not None:
        (tmp_path / "app.py").write_text(source)
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --only-binary :all: -r requirements.txt\n"
        'COPY . .\nCMD ["python", "app.py"]\n'
    )
    return _run(text, context=tmp_path)


@pytest.mark.parametrize(
    "package", ["cairocffi==1.7.1", "file-magic==0.4.1", "python-gnupg==0.5.3"]
)
def test_a_wheel_that_loads_a_library_or_runs_a_program_of_the_full_image_keeps_it(
    tmp_path: Path, package: str
) -> None:
    """cairocffi dlopens libcairo.so.2, file-magic loads libmagic with ctypes, python-gnupg
    runs gpg: python:3.12 has them (imagemagick's librsvg, `file`, gnupg), -slim does not."""
    result = _wheels_only_app(tmp_path, package)
    assert not result.changed, result.output
    name = package.split("==")[0]
    assert any(f"installs {name}" in f.message for f in result.suggestions), [
        f.message for f in result.suggestions
    ]


@pytest.mark.parametrize(
    "source, kept",
    [
        ("import tkinter as tk\n", True),
        ("import matplotlib\nmatplotlib.use('TkAgg')\n", True),
        ("from PIL import Image, ImageTk\n", True),
        ("import matplotlib\nmatplotlib.use('Agg')\n", False),
    ],
)
def test_tkinter_needs_the_full_python_image(tmp_path: Path, source: str, kept: bool) -> None:
    """python:X keeps tk-dev; python:X-slim leaves tkinter's libraries out on purpose (its
    Dockerfile's ``find ... -not -name '*tkinter*'``): `import tkinter` fails there with
    "libtk8.6.so: cannot open shared object file" (static: the stand-ins use Debian's
    python3, which has no tkinter in either image)."""
    result = _wheels_only_app(tmp_path, "six==1.16.0", source)
    assert result.changed is not kept, [f.message for f in result.suggestions]
    if kept:
        assert any("uses tkinter" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    "requirement, source, reason",
    [
        ("torch==2.5.1", "import torch\nmodel = torch.compile(model)\n", "calls torch.compile"),
        ("pytensor==2.26.4", "import pytensor\n", "installs pytensor"),
        # round 26, built: python:3.11 sampled the model, -slim failed with CompileError
        ("pystan==3.10.0", "import stan\nstan.build(CODE)\n", "installs pystan"),
        ("httpstan==4.13.0", "import stan\n", "installs httpstan"),
    ],
)
def test_code_compiled_while_the_program_runs_keeps_the_full_image(
    tmp_path: Path, requirement: str, source: str, reason: str
) -> None:
    """torch.compile (inductor) and pytensor build C++ with g++ when the program runs: the
    full image has it, -slim does not (static, from their documentation)."""
    result = _wheels_only_app(tmp_path, requirement, source)
    assert not result.changed, result.output
    assert any(reason in f.message for f in result.suggestions), [
        f.message for f in result.suggestions
    ]


def test_pyicu_from_requirements_keeps_the_full_image(tmp_path: Path) -> None:
    """PyICU ships no wheel: built (factcoin/factcoin), python:3 compiled it against
    libicu-dev, python:3-slim failed "Please install pkg-config" (and has no g++)."""
    (tmp_path / "requirements.txt").write_text("Django==4.2.11\nPyICU==2.12\n")
    text = (
        "FROM python:3\nRUN apt-get update\nRUN apt-get install -y libicu-dev\nWORKDIR /app\n"
        "COPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, unsafe=True, context=tmp_path)
    assert not result.changed, result.output
    said = " ".join(f.message for f in result.suggestions)
    assert "line 6 installs pyicu, which need compilers" in said, said


@pytest.mark.parametrize("package", ["openjdk-17-jre-headless", "maven", "ant", "gradle"])
def test_an_install_that_brings_a_jre_keeps_the_full_image(package: str) -> None:
    """maven, ant and gradle depend on a JRE, whose postinst fails where -slim dropped
    /usr/share/man/man1 (built for real on bookworm-slim's dpkg excludes); the packages that
    bring one are read from apt's own resolution (``apt-get install -s`` on Debian 12)."""
    text = f'FROM debian:12\nRUN apt-get update && apt-get install -y {package}\nCMD ["bash"]\n'
    result = _run(text)
    assert not result.changed
    said = " ".join(f.message for f in result.suggestions)
    assert f"installs {package}, which " in said and "/usr/share/man/man1" in said
    plain = _run(text.replace(package, "curl"))
    assert "debian:12-slim" in plain.output


def test_a_man_page_cleanup_is_not_the_jre_workaround() -> None:
    """``rm -rf /usr/share/man/*`` after the JRE install named /usr/share/man and passed for
    the ``mkdir -p /usr/share/man/man1`` workaround, so -slim was rated safe."""
    install = "apt-get update && apt-get install -y openjdk-17-jre-headless"
    text = f'FROM debian:12\nRUN {install} && rm -rf /usr/share/man/*\nCMD ["java"]\n'
    assert not _run(text).changed
    made = f'FROM debian:12\nRUN mkdir -p /usr/share/man/man1 && {install}\nCMD ["java"]\n'
    assert "debian:12-slim" in _run(made).output


_FONT_APP = "FROM {base}\nWORKDIR /app\n{install}COPY . .\nCMD {cmd}\n"


@pytest.mark.parametrize(
    ("base", "files", "install", "unsafe"),
    [
        ("python:3.12", {"app.py": 'ImageFont.truetype("DejaVuSans.ttf", 24)\n'}, "", True),
        ("python:3.12", {"app.py": 'TTFont("Vera", "Vera.ttf")\n'}, "", True),
        (
            "python:3.12",
            {"app.py": 'ImageFont.truetype("Roboto.ttf", 24)\n', "Roboto.ttf": "x"},
            "",
            False,
        ),
        (
            "python:3.12",
            {"app.py": 'ImageFont.truetype("DejaVuSans.ttf", 24)\n'},
            "RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core\n",
            False,
        ),
        ("node:18", {"app.js": 'fs.statSync("/usr/share/fonts/truetype/x.ttf")\n'}, "", True),
        ("node:18", {"app.js": 'console.log("no fonts here")\n'}, "", False),
    ],
)
def test_slim_images_have_no_system_fonts(tmp_path, base, files, install, unsafe):
    """The full python/node/ruby images carry fontconfig and fonts-dejavu-core (buildpack-deps'
    imagemagick libraries), -slim none: built for real on emulations of the official images,
    Pillow's ``truetype("DejaVuSans.ttf")`` raised "cannot open resource" on python:3.12-slim
    and a node program found no /usr/share/fonts on node:18-slim."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    cmd = '["python", "app.py"]' if base.startswith("python") else '["node", "app.js"]'
    result = _run(_FONT_APP.format(base=base, install=install, cmd=cmd), True, tmp_path)
    [fix] = [f for f in result.applied if f"{base}-slim" in f.message]
    assert ("has no fonts-dejavu-core" in fix.message) is unsafe, fix.message
    assert fix.fix is not None
    assert (fix.fix.applicability is Applicability.UNSAFE) is unsafe


@pytest.mark.parametrize(
    ("base", "name", "text"),
    [
        ("node:18", "app.js", 'fs.statSync("/usr/share/fonts/x.ttf")\n' + "//\n" * (1 << 19)),
        ("python:3.12", "app.py", 'ImageFont.truetype("Vera.ttf")\n' + "#\n" * (1 << 19)),
    ],
)
def test_a_source_that_cannot_be_read_is_not_free_of_system_fonts(
    tmp_path: Path, base: str, name: str, text: str
) -> None:
    """A source over 1 MiB was read as empty, so one that stats /usr/share/fonts (or loads a
    font by name) let node:18-slim / python:3.12-slim be safe. What it names is unknown."""
    (tmp_path / name).write_text(text)
    cmd = f'["{"python" if name.endswith(".py") else "node"}", "{name}"]'
    result = _run(_FONT_APP.format(base=base, install="", cmd=cmd), False, tmp_path)
    assert f"{base}-slim" not in result.output
    assert any(f"{name} is over 1 MiB" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('RUN fc-cache -f\nCMD ["python", "app.py"]', "RUN at line 2 uses fc-cache"),
        ('CMD ["fc-list"]', "CMD at line 2 uses fc-list"),
        (
            "RUN cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /app/f.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf, which fonts-dejavu-core brings",
        ),
        (
            'RUN apt-get update && apt-get install -y fontconfig && fc-cache -f\nCMD ["python", "app.py"]',
            None,
        ),
    ],
)
def test_slim_images_have_no_fontconfig(line, kept):
    """fontconfig's programs and the DejaVu files are the full image's only (a RUN copying
    DejaVuSans.ttf failed on python:3.12-slim: "No such file or directory")."""
    result = _run(f"FROM python:3.12\n{line}\n")
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    if kept is None:
        assert "python:3.12-slim" in result.output
    else:
        assert "python:3.12-slim" not in result.output
        assert kept in messages, messages


@pytest.mark.parametrize("package", ["@resvg/resvg-js", "find-process", "ps-list"])
def test_node_packages_that_need_the_full_images_files(tmp_path, package):
    """@resvg/resvg-js draws text with the fonts of /usr/share/fonts: on node:18-slim the badge
    had no text (0 inked pixels, 1187 on node:18); find-process and ps-list run procps' ps
    ("ps: not found", "spawn ps ENOENT"; built for real)."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "b", "dependencies": {package: "1.0.0"}})
    )
    text = "FROM node:18\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCOPY . .\n"
    result = _run(text + 'CMD ["node", "s.js"]\n', True, tmp_path)
    [fix] = [f for f in result.applied if "node:18-slim" in f.message]
    assert f"only the full image has ({package})" in fix.message, fix.message
    assert fix.fix and fix.fix.applicability is Applicability.UNSAFE


@pytest.mark.parametrize(
    ("base", "source", "unsafe"),
    [
        ("node:18", 'dns.lookupService("127.0.0.1", 443, cb)\n', True),
        ("node:18", 'fs.readFileSync("/etc/services")\n', True),
        ("python:3.12", 'socket.getservbyname("https")\n', False),  # python's -slim has netbase
        ("node:18", 'dns.lookup("example.com", cb)\n', False),
    ],
)
def test_node_slim_has_no_netbase(tmp_path, base, source, unsafe):
    """node's -slim images have no netbase (debian:*-slim has none; buildpack-deps installs
    it, python's -slim too): ``dns.lookupService("127.0.0.1", 443)`` answered "https" on
    node:18 and "443" on node:18-slim (built for real)."""
    name = "app.js" if base.startswith("node") else "app.py"
    (tmp_path / name).write_text(source)
    cmd = '["node", "app.js"]' if name == "app.js" else '["python", "app.py"]'
    result = _run(_FONT_APP.format(base=base, install="", cmd=cmd), True, tmp_path)
    [fix] = [f for f in result.applied if f"{base}-slim" in f.message]
    assert ("has no netbase" in fix.message) is unsafe, fix.message


@pytest.mark.parametrize(
    ("base", "source", "unsafe"),
    [
        ("debian:12", 't = gettext.translation("iso_3166-1", languages=["de"])\n', True),
        ("debian:12", 'gettext.install("app", localedir="/app/locale")\n', False),
        ("debian:12", 't = gettext.translation("app", "locale", languages=["de"])\n', False),
        ("python:3.12", 't = gettext.translation("app", languages=["de"])\n', False),
    ],
)
def test_debian_python_reads_the_system_translations(tmp_path, base, source, unsafe):
    """Debian's python3 loads a gettext domain given no folder from /usr/share/locale, which
    -slim leaves out: built for real, ``gettext.translation("iso_3166-1", languages=["de"])``
    printed "Deutschland" on debian:12 and raised "No translation file found for domain" on
    debian:12-slim (the python images' Python reads /usr/local/share/locale)."""
    (tmp_path / "app.py").write_text(source)
    install = "RUN apt-get update && apt-get install -y --no-install-recommends python3\n"
    text = _FONT_APP.format(base=base, install=install, cmd='["python3", "app.py"]')
    result = _run(text, True, tmp_path)
    [fix] = [f for f in result.applied if f"{base}-slim" in f.message]
    assert ("loads a gettext domain from the default folder" in fix.message) is unsafe, fix.message


@pytest.mark.parametrize(
    ("base", "line", "tool"),
    [
        ("node:18", "RUN git-lfs install --skip-repo", "git-lfs"),
        ("python:3.12", "RUN gcc-12 -O2 -o /app/tool tool.c", "gcc-12"),
        ("node:18", "HEALTHCHECK CMD pidwait -c node", "pidwait"),
        ("node:18", "RUN python3.11 tools/gen.py", "python3.11"),
        ("python:3.12", "RUN lzless data.xz > /dev/null", "lzless"),
    ],
)
def test_programs_only_the_full_image_has(base, line, tool):
    """Programs the full images have and -slim lacks, from the difference of their program
    folders (emulations of the official images): ``git-lfs install`` exited 127 on
    node:18-slim and passed on node:18 (built for real)."""
    result = _run(f'FROM {base}\nWORKDIR /app\n{line}\nCMD ["sh"]\n')
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert f"{base}-slim" not in result.output
    assert f"uses {tool}, which {base}-slim does not have" in messages, messages


@pytest.mark.parametrize(
    ("deps", "kept"),
    [
        ("curl default-jdk-headless", "installs default-jdk-headless, which needs /usr/share/man"),
        ("man-db", "installs man-db, which reads man pages"),
        ("curl", None),
    ],
)
def test_apt_packages_named_through_a_variable_of_the_run(deps, kept):
    """``BUILDDEPS="..." && apt-get install $BUILDDEPS`` installs what the variable holds
    (rocker's r-ver files, 15 in the corpus, install default-jdk so): built for real, the JRE's
    postinst failed on debian:12-slim for lack of /usr/share/man/man1 and passed on debian:12."""
    text = (
        f'FROM debian:12\nRUN apt-get update && BUILDDEPS="{deps}" \\\n'
        " && apt-get install -y --no-install-recommends $BUILDDEPS \\\n"
        ' && apt-get purge -y ${BUILDDEPS} && rm -rf /var/lib/apt/lists/*\nCMD ["bash"]\n'
    )
    result = _run(text)
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    if kept is None:
        assert "debian:12-slim" in result.output, messages
    else:
        assert "debian:12-slim" not in result.output
        assert kept in messages, messages


def test_apt_packages_named_through_an_env_variable():
    """An ENV value is what ``$BUILD_DEPS`` expands to in a later RUN."""
    text = 'FROM debian:12\nENV BUILD_DEPS="default-jre-headless"\n'
    result = _run(text + 'RUN apt-get update && apt-get install -y $BUILD_DEPS\nCMD ["java"]\n')
    assert "debian:12-slim" not in result.output
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert "installs default-jre-headless, which needs /usr/share/man/man1" in messages


@pytest.mark.parametrize(
    ("run", "unread"),
    [
        ("apt-get install -y $(cat /tmp/packages.txt)", "$(cat /tmp/packages.txt)"),
        ("xargs -a /tmp/packages.txt apt-get install -y", "the packages xargs reads"),
        ("apt-get install -y $PHPIZE_DEPS", "$PHPIZE_DEPS"),
        ("apt-get install -y ./zulu17.deb", "./zulu17.deb"),
        ("dpkg -i /tmp/zulu17.deb", "the .deb files dpkg installs"),
        ("apt-get install -y curl", None),
    ],
)
def test_apt_packages_msdfix_cannot_read(run, unread):
    """Packages read from a file at build time may need what -slim leaves out: built for
    real, ``apt-get install $(cat /tmp/packages.txt)`` with default-jre-headless in the file
    passed on debian:12 and failed on debian:12-slim (/usr/share/man/man1)."""
    text = "FROM debian:12\nCOPY packages.txt /tmp/\n"
    result = _run(text + f'RUN apt-get update && {run}\nCMD ["bash"]\n', unsafe=True)
    [fix] = [f for f in result.applied if "debian:12-slim" in f.message]
    reason = f"installs apt packages msdfix cannot read ({unread})"
    assert (reason in fix.message) is (unread is not None), fix.message


def test_alpine_reason_for_packages_that_run_programs_names_no_native_code(tmp_path):
    """tree-kill (concurrently's dependency) runs procps' ``ps`` and has no compiled code, so
    the alpine alternative is not refused for "native modules or install scripts (tree-kill)
    target glibc" (untrue), but as on -slim, for what only the full image has."""
    lock = {
        "name": "a",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "a", "devDependencies": {"tree-kill": "^1.2.2"}},
            "node_modules/tree-kill": {"version": "1.2.2", "dev": True},
        },
    }
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "devDependencies": {"tree-kill": "^1.2.2"}})
    )
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
    result = _run(text + 'CMD ["node", "s.js"]\n', False, tmp_path)
    messages = [f.message for f in result.suggestions if "node:18-alpine" in f.message]
    assert messages and "only the full image has (tree-kill)" in messages[0], messages
    assert not any("target glibc" in m for m in messages), messages


_GO_DEBIAN = (
    "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\n"
    "RUN CGO_ENABLED=0 go build -o /out/app .\n"
    'FROM debian:12\nCOPY --from=build /out/app /usr/local/bin/app\nCMD ["app"]\n'
)


def test_a_large_go_source_that_runs_commands_keeps_distroless_unsafe(tmp_path: Path) -> None:
    """A Go source over 1 MiB was read as empty: its os/exec went unseen and distroless was
    safe. Sources are searched up to 8 MiB; one msdfix cannot read makes it unsafe."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    padding = "// generated\n" * (1 << 17)
    (tmp_path / "main.go").write_text(
        f'package main\n\nimport "os/exec"\n\nfunc main() {{ exec.Command("sh").Run() }}\n{padding}'
    )
    assert (tmp_path / "main.go").stat().st_size > 1 << 20
    result = _run(_GO_DEBIAN, context=tmp_path)
    assert "distroless" not in result.output
    assert any("import os/exec" in f.message for f in result.suggestions)
    (tmp_path / "main.go").unlink()
    (tmp_path / "main.go").symlink_to(tmp_path / "main.go")
    result = _run(_GO_DEBIAN, context=tmp_path)
    assert "distroless" not in result.output
    assert any(
        "main.go links outside the build context or in a loop, so whether the program runs"
        in f.message
        for f in result.suggestions
    )


def test_a_vendored_source_msdfix_cannot_read_may_set_a_locale(tmp_path: Path) -> None:
    """A vendored script over 1 MiB (or in a link loop) was read as empty, so its
    ``export LANG=de_DE.UTF-8`` went unseen and -slim, which drops the translations, was
    safe. It is searched up to 8 MiB, and one msdfix cannot read makes -slim unsafe."""
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "vendor" / "tool").mkdir(parents=True)
    padding = "# generated\n" * (1 << 17)
    (tmp_path / "vendor" / "tool" / "env.sh").write_text(f"{padding}export LANG=de_DE.UTF-8\n")
    install = "RUN apt-get update && apt-get install -y --no-install-recommends python3\n"
    text = _FONT_APP.format(base="debian:12", install=install, cmd='["python3", "app.py"]')
    [fix] = [f for f in _run(text, True, tmp_path).applied if "debian:12-slim" in f.message]
    assert "vendor/tool/env.sh sets LANG=de_DE.UTF-8" in fix.message, fix.message
    (tmp_path / "vendor" / "tool" / "env.sh").unlink()
    (tmp_path / "vendor" / "tool" / "env.sh").symlink_to("env.sh")
    [fix] = [f for f in _run(text, True, tmp_path).applied if "debian:12-slim" in f.message]
    assert "env.sh links outside the build context or in a loop, so which locale" in fix.message


def test_a_python_source_msdfix_cannot_read_may_serve_files_by_type(tmp_path: Path) -> None:
    """A 1.1 MiB app.py was read as empty, so its ``mimetypes.guess_type`` went unseen and
    the reason for keeping python:3.12 left out media-types (/etc/mime.types). Sources are
    searched up to 8 MiB."""
    padding = "# generated\n" * (1 << 17)
    (tmp_path / "app.py").write_text(f"import mimetypes\n{padding}mimetypes.guess_type(p)\n")
    text = 'FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCMD ["python", "app.py"]\n'
    [fix] = [f for f in _run(text, True, tmp_path).applied if "python:3.12-slim" in f.message]
    assert "or media-types, which the full image installs" in fix.message, fix.message


def test_a_java_source_msdfix_cannot_read_may_compile_java(tmp_path: Path) -> None:
    """A generated App.java over 1 MiB was read as empty, so its getSystemJavaCompiler()
    went unseen and the JRE (no compiler) was safe. Sources are searched up to 8 MiB, and
    one msdfix cannot read (a link loop) makes the JRE unsafe."""
    src = tmp_path / "src/main/java/App.java"
    src.parent.mkdir(parents=True)
    padding = "// generated\n" * (1 << 17)
    src.write_text(f"class App {{\n{padding} Object c = ToolProvider.getSystemJavaCompiler(); }}\n")
    text = (
        "FROM eclipse-temurin:17-jdk AS build\nCOPY src src\nRUN javac -d out src/main/java/*.java\n"
        "FROM eclipse-temurin:17-jdk\nCOPY --from=build /out /app\n"
        'CMD ["java", "-cp", "/app", "App"]\n'
    )
    assert _run(text, context=tmp_path).output == text
    unsafe = _run(text, unsafe=True, context=tmp_path)
    assert any("App.java compiles Java" in f.message for f in unsafe.applied)
    src.unlink()
    src.symlink_to("App.java")
    assert _run(text, context=tmp_path).output == text
    unsafe = _run(text, unsafe=True, context=tmp_path)
    assert any(
        "App.java links outside the build context or in a loop, so whether it compiles Java"
        in f.message
        for f in unsafe.applied
    )


@pytest.mark.parametrize(
    "name", ["Procfile", "fly.toml", "heroku.yml", "render.yaml", "railway.json"]
)
def test_a_deploy_platform_file_msdfix_cannot_read_keeps_distroless_unsafe(
    tmp_path: Path, name: str
) -> None:
    """A platform file linking out of the context (a monorepo's ``Procfile -> ../Procfile``)
    or over 1 MiB was read as empty, so its processes counted as none and distroless (no
    shell, no tools) was safe. What it runs is unknown: distroless is unsafe and says why."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / name).symlink_to(f"../outside/{name}")
    result = _run(_GO_DEBIAN, context=tmp_path)
    assert "distroless" not in result.output
    assert any(
        f"{name} runs commands msdfix cannot tell ({name} links outside the build context"
        in f.message
        for f in result.suggestions
    )


@pytest.mark.parametrize(
    ("entry", "safe"),
    [
        ('ENTRYPOINT ["python3"]', False),
        ('ENTRYPOINT ["/usr/local/bin/python", "-u"]', False),
        ('CMD ["python3", "-c", "print(1)"]', True),
    ],
)
def test_a_bare_interpreter_is_a_tool_environment(entry: str, safe: bool) -> None:
    """``python3`` with no program runs what the image's users bring, as a bare shell does:
    built, a split of ``ENTRYPOINT ["/usr/local/bin/python"]`` onto python:slim lost gcc and
    ``docker run IMAGE -m pip install --no-binary psutil psutil`` failed; python:3.12-slim
    lacks gcc as well."""
    text = f"FROM python:3.12\nENV PYTHONUNBUFFERED=1\n{entry}\n"
    result = _run(text)
    assert ("FROM python:3.12-slim" in result.output) is safe
    if not safe:
        [fix] = result.suggestions
        assert "with no program: its users may rely on tools of the full image" in fix.message


SIX_UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "pg-app"
version = "0.1.0"
source = { virtual = "." }

[package.metadata]
requires-dist = [{ name = "six", specifier = ">=1.10" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.pythonhosted.org/six-1.17.0-py2.py3-none-any.whl" }]
"""


@pytest.mark.parametrize(("extra", "safe"), [("", True), (', "psycopg2==2.9.10"', False)])
def test_a_uv_lock_the_install_replaces_is_no_evidence_for_slim(
    tmp_path: Path, extra: str, safe: bool
) -> None:
    """A plain ``uv sync`` of a uv.lock out of step with pyproject.toml locks again and
    installs what the lock does not list (built with uv 0.13.9: psycopg2 added to
    pyproject.toml was built from its sdist against the full image's libpq); the move to
    -slim said safe from the stale lock's wheels. The lock in step still moves."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pg-app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f'dependencies = ["six>=1.10"{extra}]\n'
    )
    (tmp_path / "uv.lock").write_text(SIX_UV_LOCK)
    text = (
        "FROM python:3.11\nRUN pip install uv==0.13.9\nWORKDIR /app\nCOPY . .\n"
        'RUN uv sync --no-install-project\nCMD [".venv/bin/python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    fix = next(f for f in result.applied + result.suggestions if "python:3.11-slim" in f.message)
    assert fix.fix and (fix.fix.applicability is Applicability.SAFE) is safe, fix.message
    if not safe:
        assert "the install locks again (uv.lock lists other dependencies" in fix.message


@pytest.mark.parametrize(
    ("requirements", "blocked"),
    [
        ("psycopg==3.2.10\npsycopg-binary==3.2.10\ntyping-extensions==4.12.2\n", False),
        ("psycopg==3.2.10\ntyping-extensions==4.12.2\n", True),
        (  # built: python:3.11-slim failed "libpq library not found", python:3.11 answered
            'psycopg==3.2.10\npsycopg-binary==3.2.10 ; sys_platform == "win32"\n'
            "typing-extensions==4.12.2\n",
            True,
        ),
        (  # pip-compile's psycopg[binary]; built: python:3.11-slim, no libpq, answered "binary"
            'psycopg[binary]==3.2.10\npsycopg-binary==3.2.10 ; implementation_name != "pypy"\n'
            "typing-extensions==4.12.2\n",
            False,
        ),
        (  # the same with hashes: the marker ends where pip's options begin
            "psycopg[binary]==3.2.10 --hash=sha256:ab\npsycopg-binary==3.2.10 ; "
            'implementation_name != "pypy" \\\n    --hash=sha256:cd\n'
            "typing-extensions==4.12.2 --hash=sha256:ef\n",
            False,
        ),
        (  # some Linux builds (aarch64) leave it out
            'psycopg==3.2.10\npsycopg-binary==3.2.10 ; platform_machine == "x86_64"\n'
            "typing-extensions==4.12.2\n",
            True,
        ),
    ],
)
def test_psycopg_with_its_binary_package_needs_no_libpq_of_the_full_image(
    tmp_path: Path, requirements: str, blocked: bool
) -> None:
    """psycopg imports psycopg-binary's implementation first, which brings its own libpq
    (built: python:3.12 and python:3.12-slim both answered ``binary 170005 3.2.10``); alone it
    loads the system's libpq, which -slim lacks ("libpq library not found")."""
    (tmp_path / "requirements.txt").write_text(requirements)
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, unsafe=True, context=tmp_path)
    assert any("installs psycopg," in f.message for f in result.suggestions) is blocked
    assert ("FROM python:3.12-slim\n" in result.output) is not blocked


def test_the_reason_names_the_install_that_brings_the_package(tmp_path: Path) -> None:
    """``pip install uv`` before the install of the requirements: the reason named the first
    pip RUN (line 2) for psycopg2, which only line 4 installs (seen in a real uv project)."""
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.9\n")
    text = (
        "FROM python:3.12\nRUN pip install uv\nCOPY requirements.txt .\n"
        'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    messages = " ".join(f.message for f in result.suggestions)
    assert "line 4 installs psycopg2" in messages, messages


PSYCOPG_UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [%s]

[package.optional-dependencies]
binary = [{ name = "psycopg-binary" }]

[package.metadata]
requires-dist = [%s]

[[package]]
name = "psycopg"
version = "3.2.10"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.pythonhosted.org/psycopg-3.2.10-py3-none-any.whl" }]

[[package]]
name = "psycopg-binary"
version = "3.2.10"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://x/psycopg_binary-3.2.10-cp311-cp311-manylinux_2_17_x86_64.whl" },
    { url = "https://x/psycopg_binary-3.2.10-cp311-cp311-manylinux_2_17_aarch64.whl" },
]
"""


@pytest.mark.parametrize("in_extra", [False, True])
def test_psycopg_binary_of_an_extra_a_plain_uv_sync_leaves_out_brings_no_libpq(
    tmp_path: Path, in_extra: bool
) -> None:
    """psycopg-binary only in an extra: a plain ``uv sync`` does not install it, so psycopg
    loads the system's libpq (built with uv 0.9.5: python:3.11 answered ``python 150020``,
    -slim failed "libpq library not found"); as a plain dependency both answered ``binary``."""
    deps = '{ name = "psycopg" }' + ("" if in_extra else ', { name = "psycopg-binary" }')
    wanted = '{ name = "psycopg", specifier = "==3.2.10" }, { name = "psycopg-binary" }'
    (tmp_path / "uv.lock").write_text(PSYCOPG_UV_LOCK % (deps, wanted))
    extra = ("", "\n[project.optional-dependencies]\nbinary = ['psycopg-binary']\n")[in_extra]
    deps_list = "'psycopg==3.2.10'" + ("" if in_extra else ", 'psycopg-binary'")
    (tmp_path / "pyproject.toml").write_text(
        f"[project]\nname = 'app'\nversion = '0.1.0'\nrequires-python = '>=3.11'\n"
        f"dependencies = [{deps_list}]\n{extra}"
    )
    text = (
        "FROM python:3.11\nRUN pip install uv==0.9.5\nWORKDIR /app\nCOPY . .\n"
        'RUN uv sync --locked\nCMD [".venv/bin/python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("FROM python:3.11-slim\n" in result.output) is not in_extra, result.output


@pytest.mark.parametrize(
    ("env", "moved"),
    [
        ("", True),
        ("ENV PSYCOPG_IMPL=python\n", False),
        ("ENV PSYCOPG_IMPL=Binary\n", True),
        ("ARG PSYCOPG_IMPL\n", False),  # --build-arg may set it
    ],
)
def test_psycopg_impl_choosing_another_implementation_needs_the_full_images_libpq(
    tmp_path: Path, env: str, moved: bool
) -> None:
    """``PSYCOPG_IMPL=python`` makes psycopg load the system's libpq although
    psycopg-binary is installed (built with a uv.lock: python:3.11 answered ``python 150020``,
    -slim failed "couldn't import requested psycopg 'python' implementation"), also when the
    ENV comes after the install."""
    deps = '{ name = "psycopg" }, { name = "psycopg-binary" }'
    wanted = '{ name = "psycopg", specifier = "==3.2.10" }, { name = "psycopg-binary" }'
    (tmp_path / "uv.lock").write_text(PSYCOPG_UV_LOCK % (deps, wanted))
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'app'\nversion = '0.1.0'\nrequires-python = '>=3.11'\n"
        "dependencies = ['psycopg==3.2.10', 'psycopg-binary']\n"
    )
    text = (
        "FROM python:3.11\nRUN pip install uv==0.9.5\nWORKDIR /app\nCOPY . .\n"
        f'RUN uv sync --locked\n{env}CMD [".venv/bin/python", "app.py"]\n'
    )
    result = _run(text, context=tmp_path)
    assert ("FROM python:3.11-slim\n" in result.output) is moved, result.output


def test_scripts_of_the_context_the_stage_sources_or_runs_by_name_are_read(tmp_path):
    """-slim's dpkg leaves /usr/share/doc out of every package: built for real, a context
    script without a suffix sourced by a RUN (``bash -c ". /setup"``) that listed
    /usr/share/doc/less printed five files on debian:bookworm and one (copyright) on a -slim
    made as debuerreotype makes it, yet msdfix rated the move safe: it read only ``*.sh``
    scripts run directly. Sourced scripts and files a COPY brings are read; unread ones are
    unknown (unsafe), and a COPY of a folder named like the program is no script."""
    (tmp_path / "setup").write_text("apt-get install -y less\nls /usr/share/doc/less/\n")
    text = 'FROM debian:bookworm\nCOPY setup /setup\nRUN bash -c ". /setup"\nCMD ["bash"]\n'
    result = _run(text, unsafe=True, context=tmp_path)
    assert not [f for f in result.applied if f.transform == ID]
    assert any(
        "setup (run at line 3) names /usr/share/doc/" in f.message for f in result.suggestions
    )
    bare = 'FROM debian:bookworm\nCOPY start /usr/local/bin/\nCMD ["start"]\n'
    [fix] = [f for f in _run(bare, unsafe=True).applied if f.transform == ID]
    assert "it runs start, which msdfix cannot read" in fix.message
    folder = 'FROM debian:bookworm\nADD nginx /etc/nginx/\nCMD ["nginx"]\n'
    [fix] = [f for f in _run(folder).applied if f.transform == ID]
    assert "cannot read" not in fix.message


@pytest.mark.parametrize(
    ("builder", "offered"),
    [
        ("alpine:3.19", True),
        ("public.ecr.aws/docker/library/alpine:3.19", True),  # Hub's alpine through ECR
        ("myreg.example.com/alpine:3.19", False),  # another registry's: its libc is unknown
        ("myreg.example.com/tools:3.19-alpine", False),
    ],
)
def test_files_copied_from_another_registrys_alpine_keep_glibc(tmp_path, builder, offered):
    """Only Hub's alpine (and scratch, and alpine tags) counts as built on musl: an image of
    another registry named alpine may be anything, so its files keep the alpine target off."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {}}')
    lock = {"lockfileVersion": 3, "packages": {"": {"name": "a"}}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    (tmp_path / "index.js").write_text("console.log(1)\n")
    text = (
        f"FROM {builder} AS tools\nRUN echo hi > /tool\nFROM node:18\nWORKDIR /app\n"
        'COPY . .\nRUN npm ci\nCOPY --from=tools /tool /usr/local/bin/tool\nCMD ["node", "index.js"]\n'
    )
    result = _run(text, unsafe=True, context=tmp_path)
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    assert ("`node:18-alpine`" in messages) is offered, messages


@pytest.mark.parametrize(
    ("copy", "user", "outcome"),
    [
        ("COPY --from=build /app /app", "", "safe"),
        ("COPY --from=build /app app", "", "unsafe"),  # into /go, 1777 in golang
        ("COPY --from=build /app /app", "USER 65532", "unsafe"),  # may write into /go
    ],
)
def test_golangs_default_workdir_is_kept_on_distroless(tmp_path, copy, user, outcome):
    """A golang final stage without WORKDIR runs in /go; distroless's is / (nonroot's
    /home/nonroot): the rewrite repeats ``WORKDIR /go`` (it was an internal error, "rewrite
    changed the final image's WORKDIR"; built: both printed "cwd /go", 897 -> 4.1 MB), unsafe
    where the program may write there or a COPY puts files there (golang's /go is 1777)."""
    (tmp_path / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.19\n")
    text = (
        "FROM golang:1.19 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n"
        f'FROM golang:1.19\n{user}\n{copy}\nCMD ["/app"]\n'
    )
    result = _run(text, unsafe=True, context=tmp_path)
    [fix] = [f for f in result.applied if "distroless" in f.message]
    assert "WORKDIR /go\n" in result.output, result.output
    assert ("mode 1777" in fix.message) is (outcome == "unsafe"), fix.message


@pytest.mark.parametrize(
    ("base", "moves"), [("debian:bookworm", True), ("python:3.12-bookworm", False)]
)
def test_debian_slim_compiles_pip_packages_as_the_full_image_does(
    tmp_path: Path, base: str, moves: bool
) -> None:
    """debian's -slim has the same packages (and so the same compilers and libraries) as the
    full tag: a pip install it cannot prove wheel-only is no reason to keep debian:bookworm
    (algas/fab built alike on both), while python's full image brings compilers -slim lacks."""
    text = (
        f"FROM {base}\nRUN apt-get update && apt-get install -y --no-install-recommends gcc "
        "python3-dev python3-pip && pip install --break-system-packages Fabric\n"
        'ENTRYPOINT ["fab"]\n'
    )
    (tmp_path / "Dockerfile").write_text(text)
    result = _run(text, context=tmp_path)
    assert ("-slim" in result.output.splitlines()[0]) is moves, [
        f.message for f in result.suggestions
    ]
    compiles = [f for f in result.suggestions if "without a compiler" in f.message]
    assert bool(compiles) is not moves
