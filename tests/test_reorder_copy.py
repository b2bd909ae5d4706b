"""reorder-copy: fixtures, explicit behaviour, and real builds showing the install layer cached."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from conftest import FIXTURES
from fixture_cases import cases, check_case
from msdfix.engine import Settings, rewrite
from msdfix.fixes import Applicability
from msdfix.model import BuildContext
from msdfix.syntax import parse

ID = "reorder-copy"
ONLY = Settings(frozenset([ID]))


def _run(
    text: str, context: Path | None = None, unsafe: bool = False, mounts: bool = False
) -> tuple[str, list[str], list[str]]:
    """reorder-copy's output; ``mounts``: with cache-mount run too (as by default), whose safe
    mounts offset manifests copied twice (``--select reorder-copy`` alone adds none)."""
    select = frozenset([ID, "cache-mount"] if mounts else [ID])
    result = rewrite(text, None, BuildContext(context), Settings(select, unsafe=unsafe))
    applied = [f.message for f in result.applied if f.transform == ID]
    explained = [f.message for f in result.suggestions if f.transform == ID]
    return result.output, applied, explained


@pytest.mark.parametrize("case", cases(ID), ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_every_ecosystem_has_a_rewriting_fixture() -> None:
    changed = {c.path.name for c in cases(ID) if c.expected is not None}
    for prefix in (
        "npm",
        "yarn-v1",
        "yarn-berry",
        "pnpm",
        "pip",
        "poetry",
        "uv",
        "pipenv",
        "go",
        "maven",
        "gradle",
        "cargo",
        "bundler",
        "composer",
        "dotnet",
    ):
        assert any(name.startswith(prefix) for name in changed), prefix


def test_keeps_flags_comments_and_case(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    text = (
        "from python:3.12-slim\r\nworkdir /app\r\n# all of it\r\ncopy --chown=1000:1000 "
        "--chmod=644 . .\r\nrun pip install -r requirements.txt\r\n"
    )
    out, applied, _ = _run(text, tmp_path, unsafe=True, mounts=True)  # pip: index headers
    assert applied
    assert out == (
        "from python:3.12-slim\r\nworkdir /app\r\ncopy --chown=1000:1000 --chmod=644 "
        "requirements.txt ./\r\nrun --mount=type=cache,target=/root/.cache/pip \\\r\n"
        "    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\r\n"
        "    pip install -r requirements.txt\r\n# all of it\r\ncopy --chown=1000:1000 --chmod=644 "
        ". .\r\n"
    )


@pytest.mark.parametrize("flag", ["--exclude=*.md", "--link=false --exclude=docs"])
def test_a_copy_with_a_flag_it_does_not_carry_is_left_alone_with_the_reason(
    tmp_path: Path, flag: str
) -> None:
    """``COPY --exclude`` (a newer frontend's flag: Docker 20.10's said "Unknown flag") was
    skipped with no word; it is still left alone, now saying which flag."""
    (tmp_path / "requirements.txt").write_text("six\n")
    text = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY {flag} . .\nRUN pip install -r requirements.txt\n"
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("has --exclude, which reorder-copy does not carry" in m for m in explained)


def test_install_at_end_of_file_without_newline(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    out, applied, _ = _run(
        "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt", tmp_path
    )
    assert applied
    assert out == (
        "FROM python:3.12\nRUN --mount=type=bind,source=requirements.txt,"
        "target=/app/requirements.txt \\\n    pip install -r /app/requirements.txt\nCOPY . /app\n"
    )


def test_idempotent_on_its_own_output() -> None:
    for case in cases(ID):
        if case.expected is None:
            continue
        context = None if case.options.get("no_context") else case.path
        again = rewrite(
            case.expected, None, BuildContext(context), Settings(frozenset([ID]), unsafe=True)
        )
        assert not again.changed, case.id


def test_unsafe_fix_is_marked_and_skipped_by_default() -> None:
    case = next(c for c in cases(ID) if c.path.name == "npm-postinstall-left-alone")
    result = case.run()
    assert not result.changed
    finding = next(f for f in result.suggestions if f.transform == ID)
    assert finding.fix and finding.fix.applicability is Applicability.UNSAFE and finding.fix.edits
    assert "postinstall" in finding.message


@pytest.mark.parametrize(
    "fixture,manifest",
    [
        ("poetry-installs-root", "pyproject.toml"),
        ("gradle-unsafe", "settings.gradle"),
        ("cargo-adds-fetch", "Cargo.toml"),
        ("bundler", "Gemfile"),
    ],
)
def test_manifest_with_a_long_run_of_blank_lines(
    tmp_path: Path, fixture: str, manifest: str
) -> None:
    """From every line start a ``^\\s*`` (re.M) ran over all the blank lines below: quadratic
    (300,000 blank lines in a pyproject.toml, settings.gradle, Cargo.toml or Gemfile took
    minutes). The manifest says what it said without them."""
    from support.deadline import deadline

    shutil.copytree(FIXTURES / ID / fixture, tmp_path, dirs_exist_ok=True)
    dockerfile = (tmp_path / "Dockerfile").read_text()
    before = _run(dockerfile, tmp_path, unsafe=True)
    path = tmp_path / manifest
    path.write_text(path.read_text() + "\n" * 300_000 + "# end\n")
    with deadline():
        assert _run(dockerfile, tmp_path, unsafe=True) == before


# A comment is one physical line, 65,535 bytes at most (BuildKit's limit): 23 such lines
_UNCLOSED = "\n".join(["# " + "#msdfix:ignore[" * 4_300] * 23)


@pytest.mark.parametrize(
    "comment, ignored",
    [
        (_UNCLOSED, False),
        (_UNCLOSED + "]x", False),
        (_UNCLOSED + "\n# msdfix: ignore[reorder-copy]", True),
    ],
    ids=["unclosed", "text-after-the-bracket", "pragma-below"],
)
def test_pragma_search_in_a_comment_of_unclosed_brackets(
    tmp_path: Path, comment: str, ignored: bool
) -> None:
    """From every "#msdfix:ignore[" of a comment the pragma regex scanned on for a "]" ending
    the line and failed: quadratic (5,000 took seconds, 100,000 most of an hour; one line now
    holds 4,300 at most, so 23 lines of them)."""
    from support.deadline import deadline

    shutil.copytree(FIXTURES / ID / "npm-ci", tmp_path, dirs_exist_ok=True)
    text = (tmp_path / "Dockerfile").read_text().replace("RUN npm", f"{comment}\nRUN npm")
    with deadline():
        _, applied, _ = _run(text, tmp_path)
    assert not applied if ignored else applied


def test_no_context_is_never_safe() -> None:
    """Without a build context the requirements file is unread: it may name ``-e .`` or
    ``-r other.txt``, so copying it alone first can break the build (unknown is not absent)."""
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out, applied, explained = _run(text)
    assert out == text and not applied and "no build context" in explained[0]
    out, applied, _ = _run(text, unsafe=True)
    assert "COPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n" in out
    assert "no build context" in applied[0]
    out, applied, explained = _run(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n"
    )
    assert not applied and "no build context" in explained[0]


def test_run_between_that_touches_the_tree_blocks(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    text = (
        "FROM python:3.12\nCOPY . /app\nRUN chown -R 1000 /app\nWORKDIR /app\nRUN pip install "
        "-r requirements.txt\n"
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied and "line 3" in explained[0]
    harmless = text.replace("chown -R 1000 /app", "useradd -m app && mkdir -p /var/log/app")
    out, applied, _ = _run(harmless, tmp_path)
    assert applied and out.index("COPY . /app") > out.index("pip install")


def test_copy_between_onto_the_tree_blocks(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / "settings.py").write_text("x = 1\n")
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCOPY settings.py config/settings.py\nRUN "
        "pip install -r requirements.txt\n"
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and "line 4" in explained[0]


def test_multi_stage_acts_per_stage_and_never_on_copy_from(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    text = (
        "FROM python:3.12 AS a\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY --from=a /app .\nRUN pip install -r "
        "requirements.txt\n"
    )
    out, applied, _ = _run(text, tmp_path)
    assert len(applied) == 1
    assert out.endswith("COPY --from=a /app .\nRUN pip install -r requirements.txt\n")


def test_output_parses_with_buildkit() -> None:
    dockerfile = pytest.importorskip("dockerfile")
    for case in cases(ID):
        if case.expected is not None:
            dockerfile.parse_string(case.expected)
            parse(case.expected)


# ---------------------------------------------------------------- real builds


def _install_step_cached(output: str, install: str) -> bool:
    """True when the build log shows the step running ``install`` as CACHED."""
    steps: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[0].startswith("#") and parts[0][1:].isdigit():
            steps.setdefault(parts[0], "")
            steps[parts[0]] += parts[1] + "\n"
    return any(install in text and "CACHED" in text for text in steps.values())


@pytest.mark.parametrize(
    ("fixture", "source", "install", "image"),
    [
        ("npm-ci", "server.js", "npm ci", "node:18-slim"),
        ("pip-requirements", "app.py", "pip install", "python:3.12-slim"),
    ],
)
def test_real_build_keeps_install_cached(
    tmp_path: Path, fixture: str, source: str, install: str, image: str
) -> None:
    from support.docker import build, remove_image, require_images, unique_tag

    require_images(image)
    context = tmp_path / "ctx"
    shutil.copytree(FIXTURES / ID / fixture, context)
    original = (context / "Dockerfile").read_text()
    rewritten = rewrite(original, None, BuildContext(context), Settings()).output
    assert rewritten != original
    (context / "rewritten.Dockerfile").write_text(rewritten)
    (context / ".dockerignore").write_text(
        (context / ".dockerignore").read_text() + "*.Dockerfile\ncase.toml\n"
    )
    tags = {name: unique_tag(f"reorder-{fixture}", name.split(".")[0].lower())
            for name in ("Dockerfile", "rewritten.Dockerfile")}  # fmt: skip
    try:
        for name, tag in tags.items():
            first = build(context, context / name, tag)
            assert first.ok, first.tail()
        with (context / source).open("a") as fh:
            mark = uuid.uuid4().hex  # unique, so no earlier run's cache matches the edited tree
            fh.write(f"\n// {mark}\n" if source.endswith(".js") else f"\n# {mark}\n")
        before = build(context, context / "Dockerfile", tags["Dockerfile"])
        after = build(context, context / "rewritten.Dockerfile", tags["rewritten.Dockerfile"])
        assert before.ok and after.ok, before.tail() + after.tail()
        assert not _install_step_cached(before.output, install), "the original reruns the install"
        assert _install_step_cached(after.output, install), after.output
    finally:
        remove_image(*tags.values())


# --- manifests on bind mounts ----------------------------------------------------------------

PIP_APP = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
NPM_APP = "FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN npm {} --no-audit --no-fund\n"
NPM_FILES = {
    "package.json": '{"name": "app", "version": "1.0.0"}\n',
    "package-lock.json": '{"name": "app", "version": "1.0.0", "lockfileVersion": 3, '
    '"requires": true, "packages": {"": {"name": "app", "version": "1.0.0"}}}\n',
    "server.js": "console.log('hi')\n",
}


def _stays(text: str, context: Path, reason: str) -> None:
    """The install stays after the COPY, and the explanation says ``reason``."""
    out, _, explained = _run(text, context)
    assert out == text
    assert any(reason in m for m in explained), explained


def _pip_context(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# no dependencies\n")
    (tmp_path / "app.py").write_text("print('hi')\n")


def _npm_context(tmp_path: Path) -> None:
    for name, text in NPM_FILES.items():
        (tmp_path / name).write_text(text)


@pytest.mark.parametrize(
    "head",
    [
        "ARG APP_HOME=/app\nWORKDIR $APP_HOME",
        "ARG BASE=/app\nENV APP_HOME=$BASE\nWORKDIR ${APP_HOME}",
        "ARG APP_HOME=/app\nFROM python:3.12-slim\nARG APP_HOME\nWORKDIR $APP_HOME",
    ],
)
def test_a_workdir_from_a_build_argument_is_never_written_as_a_fixed_path(
    tmp_path: Path, head: str
) -> None:
    """``--build-arg APP_HOME=/srv`` moves the workdir: a bind target written as
    /app/requirements.txt would hide the file from pip. The manifests are copied instead,
    to the workdir as written."""
    _pip_context(tmp_path)
    text = PIP_APP.replace("WORKDIR /app", head)
    if head.startswith("ARG APP_HOME=/app\nFROM"):
        text = text.replace("FROM python:3.12-slim\n", "", 1)
    out, applied, _ = _run(text, tmp_path, unsafe=True)  # pip caches by the index's headers
    assert applied and "COPY requirements.txt ./" in out
    assert "/app/requirements.txt" not in out


def test_manifests_are_bind_mounted_only_for_installs_that_cannot_write_them(
    tmp_path: Path,
) -> None:
    """pip's requirements files and ``npm ci`` only read the manifests, so the install reads them
    from bind mounts and the image holds one copy; ``npm install`` rewrites the lock file in
    place, so its mounts are read-write (BuildKit discards the writes); ``--chown`` changes who may read them, and ``--ignore cache-mount`` says the builder has no
    RUN --mount, so those still copy the manifests (unsafe without --mount: no cache mount
    offsets the second copy)."""
    _pip_context(tmp_path)
    _npm_context(tmp_path)
    out, applied, _ = _run(PIP_APP, tmp_path)
    assert (
        applied and "RUN --mount=type=bind,source=requirements.txt,target=/app/requirements" in out
    )
    assert "COPY requirements.txt" not in out and "mounted for the install" in applied[0]
    out, applied, _ = _run(NPM_APP.format("ci"), tmp_path)
    assert applied and out.count("--mount=type=bind") == 2 and "COPY package.json" not in out
    out, applied, _ = _run(NPM_APP.format("install"), tmp_path)
    assert applied and "target=/app/package-lock.json,rw " in out and "COPY package" not in out
    legacy = rewrite(
        PIP_APP, None, BuildContext(tmp_path), Settings(ignore=frozenset(["cache-mount"]))
    )
    assert legacy.output == PIP_APP  # no cache mount offsets the copy: unsafe
    assert any("no safe cache mount takes" in f.message for f in legacy.suggestions)
    legacy = rewrite(
        PIP_APP,
        None,
        BuildContext(tmp_path),
        Settings(ignore=frozenset(["cache-mount"]), unsafe=True),
    )
    assert "COPY requirements.txt ./" in legacy.output and "--mount" not in legacy.output
    chown = PIP_APP.replace("COPY . .", "COPY --chown=1000 . .")
    out, applied, _ = _run(chown, tmp_path, unsafe=True)  # pip caches by the index's headers
    assert applied and "COPY --chown=1000 requirements.txt ./" in out and "type=bind" not in out


NODE_APP = 'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN {}\nCMD ["node", "server.js"]\n'
PY_APP = "FROM python:3.12-slim\nRUN pip install poetry uv\nWORKDIR /app\nCOPY . .\nRUN {}\n"


@pytest.mark.parametrize(
    ("install", "files", "mode"),
    [
        ("npm install", {"package-lock.json": NPM_FILES["package-lock.json"]}, "rw"),
        ("npm install --omit=dev", {"package-lock.json": NPM_FILES["package-lock.json"]}, "rw"),
        ("yarn install", {"yarn.lock": "# yarn lockfile v1\n"}, "rw"),
        ("yarn --frozen-lockfile --production", {"yarn.lock": "# yarn lockfile v1\n"}, "ro"),
        ("yarn install --immutable", {"yarn.lock": "__metadata:\n", ".yarnrc.yml": ""}, "rw"),
        (  # node-modules: yarn 2+'s global cache goes on a cache mount (PnP's stays)
            "yarn install",
            {"yarn.lock": "__metadata:\n", ".yarnrc.yml": "nodeLinker: node-modules\n"},
            None,
        ),
        ("corepack enable && yarn install", {"yarn.lock": "# yarn lockfile v1\n"}, None),
        ("pnpm install --frozen-lockfile", {"pnpm-lock.yaml": "lockfileVersion: '6.0'\n"}, "ro"),
    ],
)
def test_node_installs_read_manifests_from_mounts_as_they_write_them(
    tmp_path: Path, install: str, files: dict[str, str], mode: str | None
) -> None:
    """Built for real with a 20-40 KB lock: the copied manifests made the image larger by
    their size (yarn 1 +26.5 KB, npm install +6 KB net of its cache). ``npm install`` and
    yarn 1 rewrite the lock in place, so they read it from read-write bind mounts (BuildKit
    discards the writes; a read-only one failed with EROFS); yarn's and pnpm's frozen
    installs never write it (read-only); pnpm renames a new lock over the old one, which
    fails on any bind mount (EBUSY), and a version corepack picks is not known, so those
    still copy; yarn 2+'s ``install --immutable`` never writes the lock (read-write: it may
    normalise package.json in place), its plain install still copies."""
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (tmp_path / "server.js").write_text("console.log('hi')\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    out, applied, _ = _run(NODE_APP.format(install), tmp_path, mounts=True)
    assert applied, out
    lock = next(iter(files))
    if mode is None:
        assert "type=bind" not in out and f"COPY package.json {lock}" in out, out
    else:
        suffix = ",rw" if mode == "rw" else ""
        assert f"source={lock},target=/app/{lock}{suffix} " in out, out
        assert "COPY package.json" not in out and "mounted for the install" in applied[0]


def _berry_app(root: Path, yarn: dict[str, str]) -> None:
    (root / "package.json").write_text('{"name": "app", "packageManager": "yarn@4.5.3"}\n')
    (root / "yarn.lock").write_text("__metadata:\n  version: 8\n")
    (root / ".yarnrc.yml").write_text("yarnPath: .yarn/releases/yarn-4.5.3.cjs\n")
    (root / "server.js").write_text("console.log('hi')\n")
    for name, text in yarn.items():
        (root / ".yarn" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / ".yarn" / name).write_text(text)


def test_yarn_berry_reads_its_release_from_a_mount(tmp_path: Path) -> None:
    """Built for real (yarn 4.5.3, node:20-slim): `COPY .yarn/ .yarn/` before `yarn install
    --immutable` made the image 2,758,308 bytes larger than the original (the 2.76 MB
    release twice); with .yarn/releases and the manifests on read-write bind mounts it built,
    answered the same and was 7,139 bytes smaller (the package cache on its mount)."""
    _berry_app(tmp_path, {"releases/yarn-4.5.3.cjs": "//\n", "plugins/p.cjs": "//\n"})
    out, applied, _ = _run(NODE_APP.format("yarn install --immutable"), tmp_path)
    assert applied and "COPY .yarn" not in out and "COPY package.json" not in out, out
    for entry in ("releases", "plugins"):
        assert f"source=.yarn/{entry},target=/app/.yarn/{entry},rw " in out, out


@pytest.mark.parametrize(
    ("pin", "switch", "mounted"),
    [
        ("yarn@4.5.3", "", True),
        (None, "", False),
        ("yarn@1.22.22", "", False),
        ("yarn@4.5.3", "RUN yarn set version 4.6.0\n", False),
    ],
)
def test_corepack_runs_the_pinned_berry_from_mounts(
    tmp_path: Path, pin: str | None, switch: str, mounted: bool
) -> None:
    """Built for real (corepack 0.31, yarn 4.5.3 pinned, .yarn/releases committed): the
    mounted install built, answered the same, left package.json byte-identical and was 7,099
    bytes smaller. Corepack runs the pinned version and writes package.json only to pin a
    missing one; without a pin, or with a version set on the way, the manifests are copied."""
    _berry_app(tmp_path, {"releases/yarn-4.5.3.cjs": "//\n"})
    package = {"name": "app"} | ({"packageManager": pin} if pin else {})
    (tmp_path / "package.json").write_text(json.dumps(package) + "\n")
    text = NODE_APP.replace("WORKDIR", f"RUN corepack enable\n{switch}WORKDIR")
    out, applied, _ = _run(text.format("yarn install --immutable"), tmp_path)
    assert bool(applied) is mounted, out  # a copied .yarn/ is unsafe: held twice
    out = _run(text.format("yarn install --immutable"), tmp_path, unsafe=True)[0]
    assert ("source=.yarn/releases,target=/app/.yarn/releases,rw " in out) is mounted, out
    assert ("COPY .yarn/ .yarn/" in out) is not mounted, out


@pytest.mark.parametrize(
    ("rc", "pin", "safe"),
    [
        ("nodeLinker: node-modules\n", "yarn@4.5.0", True),
        ("nodeLinker: node-modules\nenableGlobalCache: false\n", "yarn@4.5.0", False),
        ("nodeLinker: node-modules\nenableGlobalCache: 0\n", "yarn@4.5.0", False),  # round 26
        ("nodeLinker: node-modules\n", "yarn@3.8.5", True),
        ("nodeLinker: node-modules\ncacheFolder: ./cache\n", "yarn@4.5.0", False),
        ("", "yarn@4.5.0", False),
    ],
)
def test_copied_berry_manifests_with_the_cache_in_the_image_are_unsafe(
    tmp_path: Path, rc: str, pin: str, safe: bool
) -> None:
    """Built for real (corepack, yarn 4.5.0, ``enableGlobalCache: false``, a plain ``yarn
    install``): the copied package.json, yarn.lock and .yarnrc.yml made the image 24,302
    bytes larger, as nothing took yarn's cache (in .yarn/cache) out of the image to offset
    them. With the global cache (Yarn 4's default; yarn 3's global mirror) and node_modules
    its cache mount does (yarn 3.8.5: 1,820,743 bytes smaller, built)."""
    (tmp_path / ".yarnrc.yml").write_text(rc)
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "packageManager": pin}))
    (tmp_path / "yarn.lock").write_text("__metadata:\n  version: 8\n")
    (tmp_path / "server.js").write_text("console.log('hi')\n")
    text = NODE_APP.replace("WORKDIR", "RUN corepack enable\nWORKDIR").format("yarn install")
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert bool(applied) is safe, out
    assert safe or any("no cache mount takes it out" in m for m in explained), explained
    assert "COPY package.json yarn.lock .yarnrc.yml ./" in _run(text, tmp_path, unsafe=True)[0]


@pytest.mark.parametrize(
    ("rc", "env", "pin", "safe"),
    [
        ("enableMirror: false\n", "", "yarn@3.8.5", False),
        ("", "YARN_ENABLE_MIRROR=false", "yarn@3.8.5", False),
        ("", "YARN_ENABLE_MIRROR=0", "yarn@3.8.5", False),
        ("enableMirror: false\n", "", "", False),  # yarn's version unknown
        ("enableMirror: false\n", "YARN_ENABLE_GLOBAL_CACHE=true", "yarn@3.8.5", True),
        ("enableMirror: false\n", "", "yarn@4.5.0", True),  # yarn 4's global cache
        ("enableMirror: false\n", "YARN_ENABLE_GLOBAL_CACHE=false", "yarn@4.5.0", False),
        ("", "YARN_ENABLE_GLOBAL_CACHE=false", "yarn@4.5.0", True),  # the mirror takes it
        ("enableMirror: true\n", "", "yarn@3.8.5", True),
        ("", "YARN_ENABLE_MIRROR=true", "yarn@3.8.5", True),
    ],
)
def test_copied_berry_manifests_without_the_global_mirror_are_unsafe(
    tmp_path: Path, rc: str, env: str, pin: str, safe: bool
) -> None:
    """Built for real (corepack, yarn 3.8.5, node_modules, a plain ``yarn install``): with
    ``enableMirror: false`` (in .yarnrc.yml or ``ENV YARN_ENABLE_MIRROR=false``) yarn 3
    keeps its cache only in .yarn/cache, so the mounted rewrite's copied manifests made the
    image 1,092 (1,072) bytes larger; with the mirror on it was 961,631 bytes smaller. Yarn
    4.5 with ``enableMirror: false`` uses its global cache (962,578 bytes smaller), and with
    ``YARN_ENABLE_GLOBAL_CACHE=false`` alone still fills the mirror (962,612 smaller)."""
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n" + rc)
    package = {"name": "a"} | ({"packageManager": pin} if pin else {})
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "yarn.lock").write_text("__metadata:\n  version: 6\n")
    (tmp_path / "server.js").write_text("console.log('hi')\n")
    switch = f"ENV {env}\nRUN corepack enable\n" if env else "RUN corepack enable\n"
    text = NODE_APP.replace("WORKDIR", f"{switch}WORKDIR").format("yarn install")
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert bool(applied) is safe, out
    assert safe or any("global mirror empty" in m for m in explained), explained
    assert "COPY package.json yarn.lock .yarnrc.yml ./" in _run(text, tmp_path, unsafe=True)[0]


@pytest.mark.parametrize("output", ["unplugged/x/package.json", "install-state.gz"])
def test_yarn_berry_outputs_in_the_context_keep_the_copy(tmp_path: Path, output: str) -> None:
    """What the install writes into .yarn/, found in the context, would be seen by the
    original's install and put back over the install's by the full COPY: copied as before."""
    _berry_app(tmp_path, {"releases/yarn-4.5.3.cjs": "//\n", output: "x\n"})
    out, applied, _ = _run(NODE_APP.format("yarn install --immutable"), tmp_path, unsafe=True)
    assert applied and "COPY .yarn/ .yarn/" in out and "type=bind" not in out, out
    assert not _run(NODE_APP.format("yarn install --immutable"), tmp_path)[1]  # held twice


@pytest.mark.parametrize(
    ("install", "lock", "mode"),
    [
        ("uv sync --no-install-project", "uv.lock", "rw"),
        ("uv sync --locked --no-install-project", "uv.lock", "ro"),
        ("uv sync --frozen --no-dev --no-install-project", "uv.lock", "ro"),
        ("poetry install --no-root --only main", "poetry.lock", "rw"),
    ],
)
def test_python_project_installs_read_manifests_from_mounts(
    tmp_path: Path, install: str, lock: str, mode: str
) -> None:
    """``uv sync`` rewrites a stale uv.lock in place and poetry writes its TOML files in place
    (read-write mounts, built with a stale uv.lock: the sync passed); ``--locked`` and
    ``--frozen`` never write uv.lock (read-only, built). Copied, the 60-83 KB locks were in the
    image twice."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1"\n')
    (tmp_path / lock).write_text("version = 1\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, _ = _run(PY_APP.format(install), tmp_path)
    suffix = ",rw" if mode == "rw" else ""
    assert applied and f"source={lock},target=/app/{lock}{suffix} " in out, out
    assert "COPY pyproject.toml" not in out


def test_a_whole_tree_add_gets_bind_mounted_manifests_like_a_copy(tmp_path: Path) -> None:
    """``ADD . .`` of a context folder copies like ``COPY . .`` (ADD unpacks only an archive
    named as its source), so pip's requirements file is mounted, not copied a second time
    (brat_displacy_adapter: the image held requirements.txt twice)."""
    _pip_context(tmp_path)
    out, applied, _ = _run(PIP_APP.replace("COPY . .", "ADD . ."), tmp_path)
    assert applied and "--mount=type=bind,source=requirements.txt" in out, out
    assert "COPY requirements.txt" not in out and "ADD . ." in out


PIPENV_APP = "FROM python:3.12\nRUN pip install pipenv\nWORKDIR /app\nCOPY . .\nRUN {}\n"


@pytest.mark.parametrize(
    ("install", "mounted"),
    [
        ("pipenv install --system --deploy", True),
        ("pipenv sync --system", True),
        ("pipenv install --system", False),
        ("pipenv install --deploy requests", False),
        ("pipenv install --deploy -r requirements.txt", False),
    ],
)
def test_pipenv_reads_its_manifests_from_mounts_only_when_it_cannot_write_them(
    tmp_path: Path, install: str, mounted: bool
) -> None:
    """``pipenv sync`` and ``pipenv install --deploy`` never write the Pipfile or the lock
    (a real build passed with both read-only), so they read them from bind mounts: a COPY
    kept a second copy of Pipfile.lock in the image (k8s-ecrupdater: 44 KB larger). A plain
    install may lock, and a package or ``-r`` file is added to the Pipfile: those copy."""
    (tmp_path / "Pipfile").write_text('[packages]\nrequests = "*"\n')
    (tmp_path / "Pipfile.lock").write_text('{"_meta": {}, "default": {}, "develop": {}}\n')
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, _ = _run(PIPENV_APP.format(install), tmp_path)
    binds = "--mount=type=bind,source=Pipfile,target=/app/Pipfile" in out
    assert binds is mounted, out
    assert not mounted or (applied and "COPY Pipfile Pipfile.lock ./" not in out), out


YARN_APP = 'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN {}\nCMD ["node", "app.js"]\n'


@pytest.mark.parametrize(
    ("install", "lock", "mounted"),
    [
        ("yarn install --frozen-lockfile --production", "yarn.lock", True),
        ("yarn --frozen-lockfile", "yarn.lock", True),
        ("corepack enable && yarn install --frozen-lockfile", "yarn.lock", False),
        ("pnpm install --frozen-lockfile", "pnpm-lock.yaml", True),
        ("yarn install --production", "yarn.lock", True),  # yarn 1 writes in place: rw
    ],
)
def test_frozen_yarn_and_pnpm_installs_read_their_manifests_from_mounts(
    tmp_path: Path, install: str, lock: str, mounted: bool
) -> None:
    """yarn 1's and pnpm's ``--frozen-lockfile`` ("Don't generate a lockfile and fail if an
    update is needed") never writes package.json or the lock, so the install reads them from
    bind mounts: a COPY kept a second copy of yarn.lock in the image, which a `yarn cache
    clean` original had not. yarn 1 without it rewrites them in place (read-write mounts);
    pnpm without it renames a new lock over the old one, and corepack's shims may pin
    packageManager into package.json: those still copy the manifests."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}\n')
    (tmp_path / lock).write_text("# lock\n")
    (tmp_path / "app.js").write_text("console.log('hi')\n")
    out, applied, _ = _run(YARN_APP.format(install), tmp_path, mounts=True)
    assert applied, out
    binds = f"--mount=type=bind,source={lock},target=/app/{lock}" in out
    assert binds is mounted, out
    assert ("COPY package.json" in out) is not mounted, out


@pytest.mark.parametrize("install", ["pnpm install --frozen-lockfile --prod", "pnpm install"])
def test_a_pnpm_store_command_stays_in_the_install_run(tmp_path: Path, install: str) -> None:
    """``pnpm store prune`` manages the store, not the project: split off after the full COPY
    it ran without the store's cache mount and failed the build ("ENOENT: no such file or
    directory, scandir '/root/.local/share/pnpm/store/v3/files'", built for real); it stays in
    the install RUN."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}\n')
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '6.0'\n")
    (tmp_path / "app.js").write_text("console.log('hi')\n")
    text = "FROM node:18-slim\nRUN npm install -g pnpm@8\nWORKDIR /app\nCOPY . .\n"
    text += f'RUN {install} && pnpm store prune\nCMD ["node", "app.js"]\n'
    out, applied, _ = _run(text, tmp_path, unsafe=True)  # a plain install's copy is unsafe
    assert applied, out
    assert f"{install} && pnpm store prune\nCOPY . .\n" in out, out


@pytest.mark.parametrize(
    ("lock", "setting", "install", "folder"),
    [
        ("yarn.lock", (".yarnrc", "--modules-folder deps\n"), "yarn install", "deps"),
        ("yarn.lock", (".yarnrc", '"--install.modules-folder" "./deps"\n'), "yarn", "deps"),
        ("yarn.lock", None, "yarn install --modules-folder=deps", "deps"),
        ("pnpm-lock.yaml", (".npmrc", "modules-dir=deps\n"), "pnpm install", "deps"),
        ("pnpm-lock.yaml", (".npmrc", "virtual-store-dir=.vs\n"), "pnpm install", ".vs"),
        ("yarn.lock", (".yarnrc", "--modules-folder node_modules\n"), "yarn install", None),
    ],
)
def test_a_modules_folder_of_the_context_keeps_the_install(
    tmp_path: Path, lock: str, setting: tuple[str, str] | None, install: str, folder: str | None
) -> None:
    """yarn's and pnpm's modules folder and virtual store are outputs of the install as
    node_modules is: built with yarn 1.22, ``--modules-folder deps`` in .yarnrc and a stale
    deps/ms in the context, copied after the moved install, replaced the ms yarn had installed.
    Without that folder in the context (or another folder set) the install moves."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}\n')
    (tmp_path / lock).write_text("lockfileVersion: '6.0'\n" if "pnpm" in lock else "# lock\n")
    if setting:
        (tmp_path / setting[0]).write_text(setting[1])
    text = f"FROM node:18\nRUN npm i -g pnpm@8\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    assert _run(text, tmp_path, unsafe=True)[0] != text
    (tmp_path / "deps/ms").mkdir(parents=True)
    (tmp_path / ".vs").mkdir()
    (tmp_path / "deps/ms/index.js").write_text("stale\n")
    (tmp_path / ".vs/lock.yaml").write_text("stale\n")
    out, _, explained = _run(text, tmp_path, unsafe=True)
    assert (out == text) is (folder is not None), explained
    if folder:
        assert any(f"{folder} is in the build context" in m for m in explained), explained


@pytest.mark.parametrize(
    ("install", "safe"),
    [
        # npm install and yarn 1 read their manifests from read-write mounts: no copy
        ("npm install && npm cache clean --force", True),
        ("yarn install --production && yarn cache clean", True),
        # under corepack, yarn's manifests are copied
        ("corepack enable && yarn install --production && yarn cache clean", False),
        ("corepack enable && yarn install \\\n && yarn cache clean", False),
        ("corepack enable && yarn install --production", True),
        ("corepack enable && yarn install && apk del .build-deps", True),
        ("--mount=type=cache,target=/usr/local/share/.cache/yarn corepack enable && yarn", False),
        ("--mount=type=cache,target=/var/cache/apt corepack enable && yarn install", True),
    ],
)
def test_copied_manifests_are_unsafe_where_the_original_keeps_no_cache(
    tmp_path: Path, install: str, safe: bool
) -> None:
    """An install that may write its manifests gets them by COPY, so the image holds them twice;
    that costs less than the download cache the mount takes out of the image, unless the
    original emptied it (``npm cache clean --force``, which cache-mount drops in the same run):
    built for real, `COPY . .` / `npm install && npm cache clean --force` on node:12-slim was
    74,286 bytes larger rewritten (npm install now reads them from read-write mounts; yarn
    under corepack still copies them)."""
    _npm_context(tmp_path)
    (tmp_path / "yarn.lock").write_text("# lock\n")
    if "yarn" not in install:
        (tmp_path / "yarn.lock").unlink()
    text = f'FROM node:12-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "i.js"]\n'
    result = rewrite(text, None, BuildContext(tmp_path), Settings())
    moved = [f for f in result.applied if f.transform == ID]
    assert bool(moved) is safe, result.output
    if not safe:
        told = [f.message for f in result.suggestions if f.transform == ID]
        assert any("twice" in m and "leaves no download cache" in m for m in told), told


@pytest.mark.parametrize("app", ["pip", "npm"])
def test_bind_mounted_manifests_build_the_same_files(app: str, tmp_path: Path) -> None:
    """Built for real: the rewrite with bind-mounted manifests builds, and its image holds the
    same files at the same size as the original's (no second copy of the manifests)."""
    docker_mod = pytest.importorskip("support.docker")
    original = PIP_APP if app == "pip" else NPM_APP.format("ci")
    (_pip_context if app == "pip" else _npm_context)(tmp_path)
    out, applied, _ = _run(original, tmp_path)
    assert applied and "type=bind" in out
    docker_mod.require_images(original.split()[1])
    tags: list[str] = []
    try:
        built = []
        for name, text in (("original", original), ("rewrite", out)):
            dockerfile = tmp_path.parent / f"{tmp_path.name}-{name}.Dockerfile"
            dockerfile.write_text(text)
            result = docker_mod.build(tmp_path, dockerfile, docker_mod.unique_tag("bind", name))
            tags.append(result.tag)
            assert result.ok, result.tail()
            built.append(result.tag)
        listing = "find /app -printf '%p %s %m %u\\n' | sort"
        listed = [docker_mod.run(t, listing, entrypoint="").stdout for t in built]
        assert listed[0] == listed[1] and "/app/" in listed[0]
        assert docker_mod.image_size(built[1]) <= docker_mod.image_size(built[0])
    finally:
        docker_mod.remove_image(*tags)


@pytest.mark.parametrize(
    "env, moved",
    [
        ("ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/app/wheels", False),
        ("ENV PIP_CONSTRAINT=constraints.txt", False),
        ("ENV PIP_FIND_LINKS=/opt/wheels", True),
        ("ENV PIP_FIND_LINKS=https://example.com/wheels", True),
    ],
)
def test_an_install_reading_the_copied_tree_through_pip_env_stays(
    tmp_path: Path, env: str, moved: bool
) -> None:
    """``PIP_FIND_LINKS=/app/wheels`` makes pip read wheels that ``COPY . .`` brings: moved
    before the copy, the install finds none (a real build failed with "No matching
    distribution")."""
    (tmp_path / "requirements.txt").write_text("flask\n")
    text = f"FROM python:3.12\n{env}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"reorder-copy"}))).output
    assert (out != text) is moved


@pytest.mark.parametrize(
    "manifest, extra",
    [
        ('[package]\nname = "a"\nversion = "0.1.0"\ndefault-run = "migrate"\n', {}),
        ('[package]\nname = "a"\nversion = "0.1.0"\n[[bench]]\nname = "throughput"\n', {}),
        ('[package]\nname = "a"\nversion = "0.1.0"\n', {".cargo/config.toml": "[source.vendored-sources]\n"}),
    ],
)  # fmt: skip
def test_cargo_fetch_stub_is_not_used_where_it_fails(
    tmp_path: Path, manifest: str, extra: dict[str, str]
) -> None:
    """The `touch src/main.rs && cargo fetch` stub failed real builds: a default-run target,
    a bench without a path, and crates vendored through .cargo/config.toml."""
    for rel, text in {"Cargo.toml": manifest, "Cargo.lock": "version = 3\n", **extra}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    text = "FROM rust:1.75\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    out, _, explained = _run(text, tmp_path)
    assert out == text
    assert explained, explained


@pytest.mark.parametrize(
    "configs, said",
    [
        # both: cargo reads the one without the extension (the Cargo book)
        (
            {".cargo/config": '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "vendor"\n',
             ".cargo/config.toml": "[net]\nretry = 3\n"},
            "api/.cargo/config makes source v the folder vendor (vendored crates)",
        ),
        ({".cargo/config.toml": '[patch.crates-io]\nms = { path = "../ms" }\n'},
         "api/.cargo/config.toml patches ms with the path ../ms"),
        ({".cargo/config.toml": "[net]\nretry = 3\n"},
         "api/.cargo/config.toml configures cargo (settings msdfix does not check"),
    ],
)  # fmt: skip
def test_the_cargo_configuration_reason_names_the_file_cargo_reads(
    tmp_path: Path, configs: dict[str, str], said: str
) -> None:
    """The reason named ``.cargo/config.toml`` "from the sources (vendored crates?)" whatever
    it held, without the project's folder, and where both files exist cargo reads
    ``.cargo/config``: it now names the file cargo reads and what in it reads the sources."""
    files = {
        "Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\n',
        "Cargo.lock": "version = 3\n",
    }
    for rel, text in {**files, **configs}.items():
        (tmp_path / "api" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "api" / rel).write_text(text)
    text = "FROM rust:1.75\nWORKDIR /app\nCOPY api/ .\nRUN cargo build --release\n"
    out, _, explained = _run(text, tmp_path)
    assert out == text
    assert any(said in m for m in explained), explained


@pytest.mark.parametrize(
    "files, run",
    [
        ({"requirements.txt": "--find-links vendor\nhello==0.1\n"}, "pip install -r requirements.txt"),
        ({"requirements.txt": "hello==0.1\n"}, "pip install -f wheels -r requirements.txt"),
        ({"package.json": '{"name": "a", "dependencies": {"ms": "2"}}', "yarn.lock": "", ".yarnrc": 'yarn-offline-mirror "./mirror"\n'}, "yarn install --offline"),
        ({"package.json": '{"name": "a", "scripts": {"build": "node b.js"}, "dependencies": {"ms": "2"}}', "package-lock.json": "{}"}, "export API=x && npm ci && npm run build"),
    ],
)  # fmt: skip
def test_installs_that_read_more_than_their_manifests_stay(
    tmp_path: Path, files: dict[str, str], run: str
) -> None:
    """Each broke a real build once moved before ``COPY . .`` (or lost the shell's exported
    variable once split): a wheel folder named without ./, a yarn offline mirror, an export."""
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    text = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
    if "pip" in run:
        text = text.replace("node:20", "python:3.12")
    out, _, explained = _run(text, tmp_path)
    assert out == text, out


@pytest.mark.parametrize(
    "line",
    [
        "--no-index --find-links=wheels",
        "--prefer-binary -f ./wheels",
        "--trusted-host pypi.example.com --extra-index-url file:///app/wheels",
        "--no-deps -e .",
    ],
)
def test_a_path_option_after_another_option_on_a_requirements_line_stays(
    tmp_path: Path, line: str
) -> None:
    """pip reads every option of a requirements line. Built for real: with
    ``--no-index --find-links=wheels`` on one line the install moved before ``COPY . .`` and
    found no wheels folder ("No matching distribution found for mylib==1.0"); only the
    line's first option used to be read."""
    (tmp_path / "requirements.txt").write_text(f"{line}\nmylib==1.0\n")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels/mylib-1.0-py3-none-any.whl").write_text("")
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out, _, explained = _run(text, tmp_path)
    assert out == text, out
    assert any("installs a local path" in m for m in explained), explained


@pytest.mark.parametrize(
    "conf, moved",
    [
        ("[global]\nno-index = true\nfind-links = /app/wheels\n", False),
        ("[install]\nextra-index-url =\n    https://pypi.org/simple\n    file:///app/simple\n", False),
        ("[global]\nfind-links = wheels\n", False),  # relative to the install's directory
        ("[global]\nindex-url = https://pypi.example.com/simple\n", True),
        ("[global]\nfind-links = /opt/wheels\n", True),  # outside the copied tree
    ],
)  # fmt: skip
def test_a_copied_pip_conf_naming_the_copied_tree_keeps_the_install(
    tmp_path: Path, conf: str, moved: bool
) -> None:
    """pip reads /etc/pip.conf's options like its command line's. Built for real: ``COPY
    pip.conf /etc/pip.conf`` with ``find-links = /app/wheels``, the install moved before
    ``COPY . .`` found no wheels ("No matching distribution found for mylib==1.0")."""
    (tmp_path / "requirements.txt").write_text("mylib==1.0\n")
    (tmp_path / "pip.conf").write_text(conf)
    text = (
        "FROM python:3.12-slim\nCOPY pip.conf /etc/pip.conf\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    if not moved:
        assert any("pip's configuration" in m for m in explained), explained


@pytest.mark.parametrize(
    "run, moved",
    [
        ("pip config set global.find-links /app/wheels && pip config set global.no-index true", False),
        ("python3 -m pip config --global set install.find-links file:///app/wheels", False),
        ("printf '[global]\\nfind-links = /app/wheels\\n' > /etc/pip.conf", False),
        ("pip config set global.index-url https://pypi.example.com/simple", True),
        ("pip config set global.find-links /opt/wheels", True),
    ],
)  # fmt: skip
def test_pip_configuration_a_run_writes_keeps_the_install(
    tmp_path: Path, run: str, moved: bool
) -> None:
    """Built for real: ``RUN pip config set global.find-links /app/wheels`` before ``COPY .
    .``, the install moved before the COPY found no wheels ("No matching distribution found
    for mylib==1.0")."""
    (tmp_path / "requirements.txt").write_text("mylib==1.0\n")
    text = (
        f"FROM python:3.12-slim\nRUN {run}\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    if not moved:
        assert any("pip's configuration" in m or "pip config set" in m for m in explained)


@pytest.mark.parametrize(
    "run, moved",
    [
        ("yarn config set yarn-offline-mirror /app/mirror", False),
        ("npm config set cafile=/app/certs/ca.pem", False),
        ("yarn config set yarn-offline-mirror /opt/mirror", True),
        ("yarn config set registry https://registry.example.com", True),
    ],
)
def test_node_configuration_a_run_writes_keeps_the_install(
    tmp_path: Path, run: str, moved: bool
) -> None:
    """Built for real: ``RUN yarn config set yarn-offline-mirror /app/mirror`` before ``COPY
    . .``, the ``yarn install --offline`` moved before the COPY failed ("Can't make a request
    in offline mode")."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    # a lock in step (an empty one is stale: yarn adds ms)
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\n\nms@2.1.3:\n  version "2.1.3"\n')
    text = f"FROM node:20-slim\nRUN {run}\nWORKDIR /app\nCOPY . .\nRUN yarn install --offline\n"
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    if not moved:
        assert any("config set" in m for m in explained), explained


def test_a_copied_uv_toml_naming_a_local_folder_keeps_the_install(tmp_path: Path) -> None:
    """uv reads /etc/uv/uv.toml. Built for real: ``COPY docker/uv.toml /etc/uv/uv.toml``
    with ``find-links = ["/app/wheels"]``, the ``uv pip install`` moved before ``COPY . .``
    failed ("Failed to read `--find-links` directory: /app/wheels")."""
    (tmp_path / "requirements.txt").write_text("mylib==1.0\n")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/uv.toml").write_text('find-links = ["/app/wheels"]\nno-index = true\n')
    text = (
        "FROM python:3.12-slim\nRUN pip install uv\nCOPY docker/uv.toml /etc/uv/uv.toml\n"
        "WORKDIR /app\nCOPY . .\nRUN uv pip install --system -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert out == text, out
    assert any("uv's configuration" in m for m in explained), explained


@pytest.mark.parametrize(
    "dest, setting",
    [
        ("/root/.npmrc", "offline=true\ncache=/app/npm-cache\n"),
        ("/usr/local/etc/npmrc", "cache = /app/npm-cache\n"),
        ("/root/.yarnrc", 'yarn-offline-mirror "/app/mirror"\n'),
        ("/root/.npmrc", "cafile=/app/certs/ca.pem\n"),
        ("/root/.yarnrc.yml", "cacheFolder: /app/npm-cache\n"),
    ],
)
def test_a_copied_npmrc_naming_the_copied_tree_keeps_the_install(
    tmp_path: Path, dest: str, setting: str
) -> None:
    """npm reads ~/.npmrc and /usr/local/etc/npmrc. Built for real: ``COPY docker/npmrc
    /root/.npmrc`` with ``offline=true`` and ``cache=/app/npm-cache`` (a cache the repository
    holds), the ``npm install`` moved before ``COPY . .`` failed (ENOTCACHED)."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "docker").mkdir()
    name = dest.rpartition("/")[2].lstrip(".")  # docker/npmrc, docker/yarnrc.yml
    (tmp_path / "docker" / name).write_text(setting)
    (tmp_path / "npm-cache/_cacache").mkdir(parents=True)  # the cache the repository holds
    (tmp_path / "npm-cache/_cacache/index").write_text("x")
    text = (
        f"FROM node:18\nWORKDIR /app\nCOPY docker/{name} {dest}\nCOPY . .\n"
        'RUN npm install\nCMD ["node", "index.js"]\n'
    )
    out, _, explained = _run(text, tmp_path)
    assert out == text, out
    assert any("a configuration of the node managers" in m for m in explained), explained


@pytest.mark.parametrize(
    "env, install, moved",
    [
        ("ENV npm_config_cache=/app/npm-cache NPM_CONFIG_OFFLINE=true\n", "npm install", False),
        ("ENV YARN_CACHE_FOLDER=/app/ycache\n", "yarn install --offline", False),
        ("", "npm install --offline --cache /app/npm-cache", False),
        ("", "yarn install --offline --cache-folder=/app/ycache", False),
        ("ENV npm_config_cache=/tmp/npm\n", "npm install --cache /root/.npm", True),
        ("ENV npm_config_cache=/app/.npm\n", "npm install", True),  # not in the context
    ],
)
def test_a_node_cache_in_the_copied_tree_keeps_the_install(
    tmp_path: Path, env: str, install: str, moved: bool
) -> None:
    """A cache folder the repository holds, named by a variable or an option. Built for
    real: ``ENV YARN_CACHE_FOLDER=/app/ycache`` with ``yarn install --offline`` failed once
    moved before ``COPY . .`` ("Can't make a request in offline mode"); ``npm_config_cache``
    and ``--cache /app/npm-cache`` with npm's offline mode failed (ENOTCACHED)."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    if install.startswith("yarn"):  # npm writes a yarn.lock beside package.json again
        (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\nms@2.1.3:\n  version "2.1.3"\n')
    for cache in ("npm-cache/_cacache", "ycache/v6/npm-ms-2.1.3/node_modules/ms", "tmp/npm"):
        (tmp_path / cache).mkdir(parents=True)
        (tmp_path / cache / "index").write_text("x")
    text = f"FROM node:18\n{env}WORKDIR /app\nCOPY . .\nRUN {install}\n"
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    assert moved or any("from the copied files" in m for m in explained), explained


@pytest.mark.parametrize(
    "setting, moved",
    [
        ("ENV UV_CACHE_DIR=/app/.uv-cache UV_OFFLINE=1", False),
        ("ENV UV_CACHE_DIR=/app/.cache/uv", True),  # not in the context: the install fills it
        ("ENV UV_OFFLINE=1", True),
    ],
)
def test_a_uv_cache_in_the_copied_tree_keeps_the_install(
    tmp_path: Path, setting: str, moved: bool
) -> None:
    """Built for real: ``ENV UV_CACHE_DIR=/app/.uv-cache UV_OFFLINE=1`` with the cache in
    the repository, the ``uv pip install`` moved before ``COPY . .`` failed ("No solution
    found when resolving dependencies")."""
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / ".uv-cache/wheels-v5").mkdir(parents=True)
    (tmp_path / ".uv-cache/wheels-v5/six").write_text("x")
    text = (
        f"FROM python:3.12-slim\nRUN pip install uv\n{setting}\nWORKDIR /app\nCOPY . .\n"
        "RUN uv pip install --system -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    assert moved or any("a package cache the build context holds" in m for m in explained)


def test_a_project_npmrc_naming_its_cache_by_an_absolute_path_keeps_the_install(
    tmp_path: Path,
) -> None:
    """Built for real: the project's .npmrc with ``cache=/app/npm-cache`` and ``offline=true``
    (the cache in the repository, the project copied to /app): the ``npm ci`` moved before
    ``COPY . .`` failed (ENOTCACHED); a relative ``cache=npm-cache`` already stayed."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"": {}}}')
    (tmp_path / ".npmrc").write_text("cache=/app/npm-cache\noffline=true\n")
    (tmp_path / "npm-cache/_cacache").mkdir(parents=True)
    (tmp_path / "npm-cache/_cacache/x").write_text("x")
    text = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
    _stays(text, tmp_path, "npm-cache (a package cache in the build context) would be in")


@pytest.mark.parametrize("folder", ["ycache", "/app/ycache"])
def test_a_yarn_1_cache_folder_holding_node_modules_keeps_the_install(
    tmp_path: Path, folder: str
) -> None:
    """yarn 1 keeps each package of its cache in a node_modules folder
    (v6/npm-ms-2.1.3-<hash>-integrity/node_modules/ms), which the context walk leaves out.
    Built for real: the project's .yarnrc with ``cache-folder "/app/ycache"`` and ``yarn
    install --offline``: the moved install failed ("Can't make a request in offline mode")."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\nms@2.1.3:\n  version "2.1.3"\n')
    (tmp_path / ".yarnrc").write_text(f'cache-folder "{folder}"\n')
    package = tmp_path / "ycache/v6/npm-ms-2.1.3-574c-integrity/node_modules/ms"
    package.mkdir(parents=True)
    (package / "index.js").write_text("x")
    text = "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN yarn install --offline\n"
    _stays(text, tmp_path, "ycache (a package cache in the build context) would be in")


@pytest.mark.parametrize(
    "env, moved",
    [
        ("export PIP_FIND_LINKS=/app/wheels\nexport PIP_NO_INDEX=1\n", False),
        ("PIP_CONSTRAINT=/app/constraints.txt\n", False),
        ("export PIP_INDEX_URL=https://pypi.example.com/simple\n", True),
    ],
)
def test_a_sourced_copied_file_setting_a_path_of_the_tree_keeps_the_install(
    tmp_path: Path, env: str, moved: bool
) -> None:
    """Built for real: ``COPY docker/build.env /etc/build.env`` with ``export
    PIP_FIND_LINKS=/app/wheels`` and ``PIP_NO_INDEX=1``, then ``RUN . /etc/build.env && pip
    install -r requirements.txt``: the install moved before ``COPY . .`` failed ("No
    matching distribution found for six")."""
    (tmp_path / "requirements.txt").write_text("six\n")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/build.env").write_text(env)
    text = (
        "FROM python:3.12-slim\nCOPY docker/build.env /etc/build.env\nWORKDIR /app\n"
        "COPY . .\nRUN . /etc/build.env && pip install -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    assert moved or any("from the copied files" in m for m in explained), explained


def test_a_copied_npmrc_without_a_path_setting_moves_the_install(tmp_path: Path) -> None:
    """``cache-min`` is not ``cache``, and a cache folder the context does not hold is one
    the install only fills: the move is as it was."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/npmrc").write_text("cache-min=9999\nomit=dev\ncache=/app/.npm\n")
    text = "FROM node:18\nWORKDIR /app\nCOPY docker/npmrc /root/.npmrc\nCOPY . .\nRUN npm install\n"
    out, _, _ = _run(text, tmp_path)
    assert "--mount=type=bind,source=package.json" in out, out


@pytest.mark.parametrize(
    "files, mounted",
    [
        ({"uv.toml": "[pip]\nsystem = true\n"}, "uv.toml"),
        ({"pyproject.toml": "[tool.uv]\nconstraint-dependencies = ['werkzeug<3.1']\n"}, "pyproject.toml"),
        ({"pyproject.toml": "[project]\nname = 'app'\n"}, None),  # no uv settings in it
    ],
)  # fmt: skip
def test_uv_pip_moved_before_the_copy_still_reads_its_settings(
    tmp_path: Path, files: dict[str, str], mounted: str | None
) -> None:
    """`uv pip install` reads uv.toml or pyproject.toml's [tool.uv] from its directory: built
    for real, the moved install without it failed ("No virtual environment found") or
    installed versions its constraints exclude."""
    for name, text in {"requirements.txt": "flask==3.0.3\n", **files}.items():
        (tmp_path / name).write_text(text)
    text = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN uv pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    out, applied, _ = _run(text, tmp_path)
    assert applied, out
    assert "source=requirements.txt,target=/app/requirements.txt" in out
    for name in ("uv.toml", "pyproject.toml"):
        assert (f"source={name},target=/app/{name}" in out) is (name == mounted), out


@pytest.mark.parametrize(
    "env, run, files, moved",
    [
        ("ENV PIP_EXTRA_INDEX_URL=file:///app/pypi/simple", "pip install -r requirements.txt", {}, False),
        ("ENV PIP_INDEX_URL=file:///app/pypi/simple", "pip install -r requirements.txt", {}, False),
        ("ENV PIP_EXTRA_INDEX_URL=pypi/simple", "pip install -r requirements.txt", {}, False),
        ("ENV UV_INDEX=acme=file:///app/pypi/simple", "uv pip install --system -r requirements.txt", {}, False),
        ("ENV UV_EXTRA_INDEX_URL=file:///app/pypi/simple", "uv pip install --system -r requirements.txt", {}, False),
        ("ENV UV_DEFAULT_INDEX=file://localhost/app/pypi/simple", "uv pip install --system -r requirements.txt", {}, False),
        ("", "pip install -i file:///app/pypi/simple -r requirements.txt", {}, False),
        ("", "pip install --extra-index-url=file:///app/pypi/simple -r requirements.txt", {}, False),
        ("", "pip install --extra-index-url ./pypi/simple -r requirements.txt", {}, False),
        ("", "uv pip install --system --index acme=file:///app/pypi/simple -r requirements.txt", {}, False),
        ("", "uv pip install --system --default-index file:///app/pypi/simple -r requirements.txt", {}, False),
        ("", "pip install -r requirements.txt", {"requirements.txt": "--extra-index-url file:///app/pypi/simple\nacme-utils==1.0\n"}, False),
        ("", "pip install -r requirements.txt", {"requirements.txt": "-r base.txt\n", "base.txt": "-i pypi/simple\nacme-utils==1.0\n"}, False),
        ("", "pip install -r requirements.txt", {"requirements.txt": "--index-url=file:pypi/simple\nacme-utils==1.0\n"}, False),
        # remote indexes, and local ones outside the copied tree, are not read from it
        ("ENV PIP_EXTRA_INDEX_URL=https://pypi.example.com/simple", "pip install -r requirements.txt", {}, True),
        ("ENV PIP_EXTRA_INDEX_URL=file:///opt/pypi/simple", "pip install -r requirements.txt", {}, True),
        ("", "pip install -i https://pypi.example.com/simple -r requirements.txt", {}, True),
        ("", "pip install -f file:///opt/wheels -r requirements.txt", {}, True),
        ("", "uv pip install --system --index acme=https://pypi.example.com/simple -r requirements.txt", {}, True),
        ("", "pip install -r requirements.txt", {"requirements.txt": "--extra-index-url https://pypi.example.com/simple\nflask\n"}, True),
    ],
)  # fmt: skip
def test_an_install_reading_a_local_index_of_the_copied_tree_stays(
    tmp_path: Path, env: str, run: str, files: dict[str, str], moved: bool
) -> None:
    """A real build broke: ``PIP_EXTRA_INDEX_URL=file:///srv/app/pypi/simple`` named an index
    that ``COPY . .`` brings, and the moved install found no acme-utils ("No matching
    distribution"). A ``file:`` URL or a path given as an index is read like --find-links."""
    for name, text in {"requirements.txt": "acme-utils==1.0\nflask\n", **files}.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pypi/simple/acme-utils").mkdir(parents=True)
    (tmp_path / "pypi/simple/acme-utils/index.html").write_text("<a>acme_utils-1.0.whl</a>\n")
    text = f"FROM python:3.12\n{env}\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
    out, applied, explained = _run(text, tmp_path)
    assert (out != text) is moved, out
    if not moved:
        assert any("pypi/simple" in m for m in explained), explained


@pytest.mark.parametrize(
    "env",
    [
        "PIP_FIND_LINKS=/app/wheels",  # pipenv runs pip in its environment
        "PIPENV_PIPFILE=/app/deploy/Pipfile",  # the root Pipfile is another project's
    ],
)
def test_pipenv_reads_files_named_by_environment_variables(tmp_path: Path, env: str) -> None:
    """A copied folder or Pipfile named by a variable keeps the install after the COPY."""
    for folder in (tmp_path, tmp_path / "deploy"):
        folder.mkdir(exist_ok=True)
        (folder / "Pipfile").write_text('[packages]\nflask = "*"\n')
        (folder / "Pipfile.lock").write_text("{}\n")
    text = (
        f"FROM python:3.12\nENV {env}\nWORKDIR /app\nCOPY . .\n"
        "RUN pipenv install --system --deploy\n"
    )
    _stays(text, tmp_path, env)


PNPM_LOCK = """lockfileVersion: '6.0'

overrides:
  qs: file:./vendor/qs-6.11.0-acme.1.tgz

dependencies:
  express:
    specifier: 4.18.2
    version: 4.18.2

packages:

  file:vendor/qs-6.11.0-acme.1.tgz:
    resolution: {integrity: sha512-OYbj, tarball: file:vendor/qs-6.11.0-acme.1.tgz}
    name: qs
    version: 6.11.0-acme.1
"""
PLAIN_PNPM_LOCK = """lockfileVersion: '6.0'

dependencies:
  link:
    specifier: ^1.0.0
    version: 1.0.0

packages:

  /link@1.0.0:
    resolution: {integrity: sha512-abc}
    dev: false
"""
BERRY_LOCK = """__metadata:
  version: 8

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."

"ms@npm:2.1.3":
  version: 2.1.3
  resolution: "ms@npm:2.1.3"

"resolve@patch:resolve@npm%3A^1.22.1#~builtin<compat/resolve>":
  version: 1.22.8
"""
NPM_LOCK = {"lockfileVersion": 3, "packages": {"": {"dependencies": {"express": "4.18.2"}}, "node_modules/express": {"version": "4.18.2", "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz"}}}  # fmt: skip


@pytest.mark.parametrize(
    "package, lock, run, reason",
    [
        # the real failure: pnpm.overrides to a vendored tarball (ENOENT once moved)
        ({"pnpm": {"overrides": {"qs": "file:./vendor/qs-6.11.0-acme.1.tgz"}}}, ("pnpm-lock.yaml", PNPM_LOCK), "pnpm install --frozen-lockfile --prod", "dependency qs is a local path"),
        ({"overrides": {"express": {"qs": "file:./vendor/qs.tgz"}}}, ("package-lock.json", NPM_LOCK), "npm ci", "dependency express > qs is a local path"),
        ({"overrides": {"qs": {".": "file:./vendor/qs.tgz", "side-channel": "1.0.4"}}}, ("package-lock.json", NPM_LOCK), "npm ci", "dependency qs is a local path"),
        ({"pnpm": {"packageExtensions": {"express@4": {"dependencies": {"qs": "link:./vendor/qs"}}}}}, ("pnpm-lock.yaml", PLAIN_PNPM_LOCK), "pnpm install", "dependency express@4 > dependencies > qs is a local path"),
        # package.json says nothing; the lock the install reads resolves a local package
        ({}, ("pnpm-lock.yaml", PNPM_LOCK.replace("overrides:\n  qs: file:./vendor/qs-6.11.0-acme.1.tgz\n", "")), "pnpm install --frozen-lockfile", "pnpm-lock.yaml resolves a package from a local path (file:vendor/qs-6.11.0-acme.1.tgz:)"),
        ({}, ("package-lock.json", {**NPM_LOCK, "packages": {**NPM_LOCK["packages"], "node_modules/qs": {"version": "6.11.0", "resolved": "file:vendor/qs.tgz"}}}), "npm ci", '"resolved": "file:vendor/qs.tgz"'),
        ({}, ("package-lock.json", {**NPM_LOCK, "packages": {**NPM_LOCK["packages"], "node_modules/util": {"resolved": "lib/util", "link": True}}}), "npm ci", '"link": true'),
        ({}, ("npm-shrinkwrap.json", {"lockfileVersion": 1, "dependencies": {"qs": {"version": "file:vendor/qs.tgz"}}}), "npm ci", '"version": "file:vendor/qs.tgz"'),
        ({}, ("yarn.lock", '# yarn lockfile v1\n\n"qs@file:./vendor/qs.tgz":\n  version "6.11.0"\n'), "yarn install --frozen-lockfile", "yarn.lock resolves a package from a local path"),
        ({}, ("yarn.lock", BERRY_LOCK + '\n"qs@portal:./vendor/qs::locator=app%40workspace%3A.":\n  version: 0.0.0-use.local\n'), "yarn install --immutable", "@portal:"),
    ],
)  # fmt: skip
def test_a_node_install_of_a_local_override_or_locked_local_package_stays(
    tmp_path: Path, package: dict[str, object], lock: tuple[str, object], run: str, reason: str
) -> None:
    """A real build broke: pnpm.overrides pointed qs at a vendored tarball, and the install
    moved before ``COPY . .`` failed with ENOENT. Override tables are read to the bottom, and
    a lock file entry resolved from the project's files means the manifests cannot install."""
    name, content = lock
    package = {"name": "app", "dependencies": {"express": "4.18.2"}, **package}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / name).write_text(
        content if isinstance(content, str) else json.dumps(content, indent=2)
    )
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor/qs.tgz").write_text("x")
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD ["node", "index.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert out == text, out
    assert any(reason in m for m in explained), explained


@pytest.mark.parametrize(
    "lock, run",
    [
        (("pnpm-lock.yaml", PLAIN_PNPM_LOCK), "pnpm install --frozen-lockfile"),  # a package named link
        (("yarn.lock", BERRY_LOCK), "yarn install --immutable"),  # the root workspace, a builtin patch
        (("package-lock.json", NPM_LOCK), "npm ci"),
    ],
)  # fmt: skip
def test_a_node_install_with_registry_packages_only_still_moves(
    tmp_path: Path, lock: tuple[str, object], run: str
) -> None:
    name, content = lock
    package = {
        "name": "app",
        "dependencies": {"express": "4.18.2"},
        "overrides": {"qs": {".": "6.11.0"}},
    }
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / name).write_text(
        content if isinstance(content, str) else json.dumps(content, indent=2)
    )
    if name == "yarn.lock":
        (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD ["node", "index.js"]\n'
    out, applied, _ = _run(text, tmp_path)
    assert applied and out != text, out
    assert f"COPY package.json {name}" in out or f"source={name}" in out, out


@pytest.mark.parametrize(
    "env, files, copied",
    [
        ("", {".env": "PIP_MIRROR_URL=https://pypi.org/simple\n"}, "COPY Pipfile Pipfile.lock .env ./"),
        ("ENV PIPENV_DONT_LOAD_ENV=1\n", {".env": "X=1\n"}, "COPY Pipfile Pipfile.lock ./"),
        ("", {".env": "X=1\n", ".dockerignore": ".env\n"}, "COPY Pipfile Pipfile.lock ./"),
        ("", {}, "COPY Pipfile Pipfile.lock ./"),
        ("ENV PIPENV_DOTENV_LOCATION=/app/deploy/pipenv.env\n", {".env": "X=1\n", "deploy/pipenv.env": "X=1\n"}, "COPY deploy/pipenv.env deploy/"),
        ("ENV PIPENV_DOTENV_LOCATION=/etc/pipenv.env\n", {".env": "X=1\n"}, "COPY Pipfile Pipfile.lock ./"),
        # a value msdfix cannot know: declined
        ("ARG PIPENV_DOTENV_LOCATION=.env.prod\n", {".env.prod": "X=1\n"}, None),
        ("ARG DOTENV\nENV PIPENV_DOTENV_LOCATION=$DOTENV\n", {".env": "X=1\n"}, None),
    ],
)  # fmt: skip
def test_pipenv_install_moved_before_the_copy_still_loads_its_dotenv(
    tmp_path: Path, env: str, files: dict[str, str], copied: str | None
) -> None:
    """A real build broke: ``pipenv install`` loads .env from the project, and the Pipfile's
    source URL was ``${PIP_MIRROR_URL}`` from it; moved before ``COPY . .`` with Pipfile and
    Pipfile.lock only, the install looked in the index "${PIP_MIRROR_URL}"."""
    pipfile = '[[source]]\nurl = "${PIP_MIRROR_URL}"\nname = "mirror"\n[packages]\nflask = "*"\n'
    for name, text in {"Pipfile": pipfile, "Pipfile.lock": "{}\n", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    text = f"FROM python:3.12\n{env}WORKDIR /app\nCOPY . .\nRUN pipenv install --system --deploy\n"
    out, applied, explained = _run(text, tmp_path)
    if copied is None:
        assert out == text, out
        assert any("PIPENV_DOTENV_LOCATION" in m for m in explained), explained
    else:
        head = out.split("COPY . .")[0]
        brought = set(re.findall(r"--mount=type=bind,source=([^,]+),", head))
        for line in head.splitlines():
            brought |= set(line.split()[1:-1]) if line.startswith("COPY") else set()
        wanted = set(copied.split()[1:-1])
        assert wanted <= brought, out
        assert ".env" in brought if ".env" in wanted else ".env" not in brought, out


@pytest.mark.parametrize(
    "files, copied",
    [
        ({".env.yarn": "NPM_TOKEN=x\n"}, ".env.yarn"),
        ({".env.yarn": "X=1\n", ".yarnrc.yml": "nodeLinker: node-modules\ninjectEnvironmentFiles: [.env.ci?]\n", ".env.ci": "X=1\n"}, ".env.ci"),
        ({".yarnrc.yml": "injectEnvironmentFiles:\n  - .env.ci\n  - '.env.local?'\nnodeLinker: node-modules\n", ".env.ci": "X=1\n", ".env.local": "Y=2\n"}, ".env.ci .env.local"),
        ({".yarnrc.yml": "injectEnvironmentFiles: []\n", ".env.yarn": "X=1\n"}, ""),
        ({}, ""),
        ({".yarnrc.yml": "injectEnvironmentFiles: ['${ENV_FILE}']\n"}, None),
    ],
)  # fmt: skip
def test_yarn_install_moved_before_the_copy_still_loads_its_environment_files(
    tmp_path: Path, files: dict[str, str], copied: str | None
) -> None:
    """Yarn (Berry) loads .env.yarn, or the files injectEnvironmentFiles names, into the
    environment of every command, an install too (``${VAR}`` in .yarnrc.yml, install
    scripts): the same hidden input as pipenv's .env, copied with the manifests."""
    package = '{"name": "app", "packageManager": "yarn@4.5.3", "dependencies": {"ms": "2.1.3"}}'
    for name, text in {"package.json": package, "yarn.lock": BERRY_LOCK, **files}.items():
        (tmp_path / name).write_text(text)
    text = (
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\nCMD ["node", "i.js"]\n'
    )
    out, _, explained = _run(text, tmp_path)
    if copied is None:
        assert out == text, out
        assert any("injectEnvironmentFiles" in m for m in explained), explained
        return
    before = out.split("COPY . .")[0]
    for name in (".env.yarn", ".env.ci", ".env.local"):
        assert (name in before) is (name in copied.split()), out


PY_FILES = {
    "requirements.txt": "flask==3.0.3\n",
    "app.py": "print('hi')\n",
    "Aptfile": "jq\n",
    "VERSION": "2.4.1\n",
    "vendor/acme-cli_1.4.0_all.deb": "!<arch>\n",
    "sdk/lib/libacme.so.1": "\x7fELF",
}


@pytest.mark.parametrize(
    "between, moved",
    [
        # each broke a real build or app (round 7): the RUN read the tree after the COPY
        ("RUN apt-get update && xargs apt-get install -y < Aptfile", False),
        ('RUN echo "$(cat VERSION)" > /etc/app-release', False),
        ("RUN v=`cat VERSION` && echo $v > /etc/app-release", False),
        ("RUN apt-get update && apt-get install -y ./vendor/acme-cli_1.4.0_all.deb", False),
        ("RUN echo /app/sdk/lib > /etc/ld.so.conf.d/acme.conf && ldconfig", False),
        ("RUN ldconfig", False),
        ("RUN useradd -m -d /app app", False),  # the home it makes would own the tree
        # what reads nothing of the tree still lets the install move
        ("RUN apt-get update && apt-get install -y --no-install-recommends jq", True),
        ("RUN echo 'deb http://deb.debian.org/debian bookworm main' > /etc/apt/x.list", True),
        ("RUN useradd -m app", True),
    ],
)
def test_a_run_between_the_copy_and_the_install_that_reads_the_tree_keeps_it(
    tmp_path: Path, between: str, moved: bool
) -> None:
    """A RUN between ``COPY . .`` and the install moves with the install before the COPY: it
    may do so only when none of its words, redirects or command substitutions names the
    copied tree (``xargs apt-get install < Aptfile`` failed: "cannot open Aptfile")."""
    for name, text in PY_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    text = (
        f"FROM python:3.12\nWORKDIR /app\nCOPY . .\n{between}\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained


@pytest.mark.parametrize(
    "setup, files, reason",
    [
        ("", {"requirements.txt": "acme-utils@file:///app/vendor/acme.whl\n"}, "installs a local path"),
        ("", {"requirements.txt": "acme[cli] @file:vendor/acme.whl\n"}, "installs a local path"),
        ("ENV PIP_CERT=/app/certs/ca.pem", {}, "reads PIP_CERT=/app/certs/ca.pem"),
        ("ENV REQUESTS_CA_BUNDLE=/app/certs/ca.pem", {}, "reads REQUESTS_CA_BUNDLE"),
        ("ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt", {}, None),
    ],
)  # fmt: skip
def test_pip_reads_of_the_copied_tree_keep_the_install_after_the_copy(
    tmp_path: Path, setup: str, files: dict[str, str], reason: str | None
) -> None:
    """A PEP 508 ``name@file:`` reference however spaced, and a certificate bundle of the
    tree named by PIP_CERT or REQUESTS_CA_BUNDLE (the moved install found no CA bundle)."""
    for name, text in {"requirements.txt": "flask==3.0.3\n", **files}.items():
        (tmp_path / name).write_text(text)
    text = (
        f"FROM python:3.12\n{setup}\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out == text) is (reason is not None), explained
    if reason:
        assert any(reason in m for m in explained), explained


def test_uv_settings_naming_a_folder_of_the_tree_keep_the_install(tmp_path: Path) -> None:
    """uv.toml's ``find-links = ["vendor/wheels"]``: "Failed to read --find-links directory"."""
    (tmp_path / "requirements.txt").write_text("acme-utils==1.0\n")
    (tmp_path / "uv.toml").write_text('find-links = ["vendor/wheels"]\n')
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN uv pip install --system -r requirements.txt\n"
    )
    _stays(text, tmp_path, "uv.toml sets find-links to vendor/wheels")
    (tmp_path / "uv.toml").write_text('index-url = "https://pypi.example.com/simple"\n')
    assert _run(text, tmp_path)[0] != text  # a remote index: the manifests are enough


def test_poetry_only_root_installs_the_project_and_stays_after_the_copy(tmp_path: Path) -> None:
    """``--only-root`` installs nothing but the project: the reverse of ``--no-root``."""
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'shop'\n")
    (tmp_path / "poetry.lock").write_text("")
    text = (
        "FROM python:3.12\nRUN pip install poetry\nWORKDIR /app\nCOPY . .\n"
        "RUN poetry install --no-root --only main\nRUN poetry install --only-root\n"
    )
    out, _, _ = _run(text, tmp_path)
    assert out.index("poetry install --no-root") < out.index("COPY . .")
    assert out.index("COPY . .") < out.index("RUN poetry install --only-root")


def test_an_npm_config_file_of_the_tree_keeps_the_install_after_the_copy(tmp_path: Path) -> None:
    """``ENV NPM_CONFIG_USERCONFIG=/app/.npmrc.docker`` (legacy-peer-deps): the moved npm ci
    failed with ERESOLVE (built for real)."""
    _npm_context(tmp_path)
    (tmp_path / ".npmrc.docker").write_text("legacy-peer-deps=true\n")
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY . .\nENV NPM_CONFIG_USERCONFIG=/app/.npmrc.docker\n"
        "RUN npm ci\n"
    )
    _stays(text, tmp_path, "NPM_CONFIG_USERCONFIG=/app/.npmrc.docker")


@pytest.mark.parametrize(
    ("env", "run", "reason"),
    [
        ("ENV UV_PROJECT_ENVIRONMENT=/app/env\n", "uv sync --frozen", "env is in the build"),
        ("ENV UV_PROJECT_ENVIRONMENT=env\n", "uv sync --frozen", "env is in the build"),
        ("", "UV_PROJECT_ENVIRONMENT=./env uv sync --frozen", "env is in the build"),
        ("ARG VENV=/app/env\nENV UV_PROJECT_ENVIRONMENT=$VENV\n", "uv sync --frozen", "build arg"),
        ("ENV UV_PROJECT_ENVIRONMENT=/opt/venv\n", "uv sync --frozen", None),
        ("", "uv sync --frozen", None),
    ],
)
def test_a_uv_environment_the_context_holds_keeps_the_install(
    tmp_path: Path, env: str, run: str, reason: str | None
) -> None:
    """UV_PROJECT_ENVIRONMENT names where uv sync installs, an output like .venv: built with
    uv 0.4.30, a developer's env/ in the context (linked to /opt/homebrew's python3.12)
    overwrote the environment the moved sync had made, and the container did not start."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'a'\nversion = '1'\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / "env/bin").mkdir(parents=True)
    (tmp_path / "env/pyvenv.cfg").write_text("home = /opt/homebrew/bin\n")
    text = f"FROM python:3.12\nRUN pip install uv\n{env}WORKDIR /app\nCOPY . .\n"
    text += f"RUN {run} --no-install-project\n"
    out, _, explained = _run(text, tmp_path)
    assert (out == text) is (reason is not None), explained
    if reason:
        assert any(reason in m for m in explained), explained


@pytest.mark.parametrize(
    ("option", "moved"),
    [
        ("-U -t libs", False),  # built: a stale libs/six.py replaced the six pip installed
        ("--target=libs", False),
        ("--prefix local", False),
        ("-t /app/libs", False),
        ("-t ./libs", False),
        ("-t /opt/libs", True),  # outside the copied tree
    ],
)
def test_a_pip_target_in_the_copied_tree_keeps_the_install(
    tmp_path: Path, option: str, moved: bool
) -> None:
    """``pip install -r requirements.txt -U -t libs``: moved, the full COPY put the context's
    stale libs/six.py over the six pip had installed there (the original replaced it)."""
    _pip_context(tmp_path)
    text = (
        f"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt {option}\n"
    )
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained
    if not moved:
        assert any("inside the copied files, where the full COPY" in m for m in explained)


@pytest.mark.parametrize(
    "archive, moved",
    [
        ("mypkg-1.0.tar.bz2", False),  # built: "No such file or directory: '/app/mypkg-1.0...'"
        ("mypkg-1.0.tgz", False),
        ("mypkg-1.0.tar", False),
        ("mypkg-1.0.tar.xz", False),
        ("MyPkg-1.0.TBZ", False),  # pip compares the extension lowercased
        ("mypkg-1.0", True),  # a name and version, not a file
    ],
)
def test_an_archive_named_bare_is_a_file_pip_opens(
    tmp_path: Path, archive: str, moved: bool
) -> None:
    """pip opens any argument ending in one of its archive extensions from the working
    folder, with no path before it, in a requirements file and on the command line."""
    (tmp_path / "requirements.txt").write_text(f"six==1.16.0\n{archive}\n")
    (tmp_path / "base.txt").write_text("six==1.16.0\n")
    for install in ("-r requirements.txt", f"-r base.txt {archive}"):
        text = f"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install {install}\n"
        out, _, explained = _run(text, tmp_path)
        assert (out != text) is moved, (install, explained)


@pytest.mark.parametrize(
    "requirements, moved",
    [
        ("-r ./sub/../base.txt\n", False),  # pip opens sub/.. as written: sub must exist
        ("--prefer-binary -r base.txt\n", True),  # an include after another option
    ],
)
def test_requirement_includes_are_read_as_pip_reads_them(
    tmp_path: Path, requirements: str, moved: bool
) -> None:
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "base.txt").write_text("flask==3.0.3\n")
    (tmp_path / "sub").mkdir()
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained
    if moved:
        assert "source=base.txt" in out


def test_a_run_with_a_fallback_is_not_split(tmp_path: Path) -> None:
    """``pip install -r r.txt && pip install ujson || echo skipped``: split, the first part
    lost its fallback and the build failed (built for real)."""
    _pip_context(tmp_path)
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt && python setup.py build || echo skipped\n"
    )
    assert _run(text, tmp_path)[0] == text


def test_comments_inside_a_split_run_are_kept(tmp_path: Path) -> None:
    _pip_context(tmp_path)
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt \\\n"
        "    # byte-compile (OPS-231)\n    && python -m compileall -q /app\n"
    )
    out, _, _ = _run(text, tmp_path)
    assert "# byte-compile (OPS-231)\nRUN python -m compileall -q /app" in out


def test_a_file_ending_in_a_line_continuation_is_left_alone(tmp_path: Path) -> None:
    """The moved COPY joined the last RUN: ``pip install -r requirements.txt COPY . .``."""
    _pip_context(tmp_path)
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt \\\n"
    out, _, explained = _run(text, tmp_path)
    assert out == text and "line continuation" in " ".join(explained)


def _puppeteer_lock(install_script: bool) -> str:
    meta = (
        {"version": "21.5.2", "hasInstallScript": True} if install_script else {"version": "21.5.2"}
    )
    packages = {"": {"name": "app", "dependencies": {"puppeteer": "21.5.2"}}}
    packages["node_modules/puppeteer"] = meta
    return json.dumps({"name": "app", "lockfileVersion": 3, "packages": packages})


@pytest.mark.parametrize(
    ("config", "lock"),
    [
        (".puppeteerrc.cjs", True),
        ("puppeteer.config.js", True),
        (".config/puppeteerrc", True),
        (".puppeteerrc.cjs", None),  # no lock file: which dependencies run scripts is unknown
    ],
)
def test_a_dependency_install_script_reading_project_configuration_keeps_the_order(
    tmp_path: Path, config: str, lock: bool | None
) -> None:
    """npm runs dependencies' install scripts with INIT_CWD at the project, and they read
    their configuration there: puppeteer's postinstall skipped the Chrome download that
    `.puppeteerrc.cjs` turned off in the original, and downloaded it (a failed build without
    network, a larger image with) once the install ran before the full COPY (built for real:
    rafaelkallis/uzh-github-spider with a browserless set-up)."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "app", "dependencies": {"puppeteer": "21.5.2"}})
    )
    if lock is not None:
        (tmp_path / "package-lock.json").write_text(_puppeteer_lock(lock))
    (tmp_path / config).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / config).write_text("module.exports = { skipDownload: true };\n")
    (tmp_path / "index.js").write_text("require('puppeteer')\n")
    text = NPM_APP.format("install")
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("read by puppeteer's install script" in m for m in explained), explained


def test_a_dependency_without_an_install_script_leaves_its_configuration_to_the_copy(
    tmp_path: Path,
) -> None:
    """An npm lock v2+ marks every package that runs an install script: a configuration file
    named for another package is read when the app runs, after the full COPY."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "app", "dependencies": {"puppeteer": "21.5.2"}})
    )
    (tmp_path / "package-lock.json").write_text(_puppeteer_lock(False))
    (tmp_path / ".puppeteerrc.cjs").write_text("module.exports = {};\n")
    (tmp_path / "index.js").write_text("require('puppeteer')\n")
    _, applied, _ = _run(NPM_APP.format("install"), tmp_path)
    assert applied


_BUNDLE = (
    'FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install{flags}\nCMD ["ruby", "app.rb"]\n'
)


def _gem_project(tmp_path: Path, gemfile: str) -> None:
    (tmp_path / "Gemfile").write_text(gemfile)
    (tmp_path / "Gemfile.lock").write_text("GEM\n  specs:\n    greeter (0.1.0)\n")
    (tmp_path / "app.rb").write_text('require "greeter"\n')


def test_bundler_vendor_cache_stays_with_the_install(tmp_path: Path) -> None:
    """Bundler installs from vendor/cache (`bundle package` output; `--local`: only from it):
    moved before `COPY . .`, a real build found no gem ("Could not find greeter-0.1.0")."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    text = _BUNDLE.format(flags=" --local")
    assert _run(text, tmp_path)[1]  # without a cache folder the move is made
    (tmp_path / "vendor" / "cache").mkdir(parents=True)
    (tmp_path / "vendor" / "cache" / "greeter-0.1.0.gem").write_bytes(b"gem")
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("vendor/cache" in m for m in explained)


def test_bundler_cache_path_from_bundle_config(tmp_path: Path) -> None:
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    (tmp_path / ".bundle").mkdir()
    (tmp_path / ".bundle" / "config").write_text('---\nBUNDLE_CACHE_PATH: "gems"\n')
    (tmp_path / "gems").mkdir()
    (tmp_path / "gems" / "greeter-0.1.0.gem").write_bytes(b"gem")
    text = _BUNDLE.format(flags="")
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


@pytest.mark.parametrize(
    "line",
    [
        'ruby File.read(File.join(__dir__, ".ruby-version")).strip',
        'ruby file: ".ruby-version"',
        'instance_eval(File.read("Gemfile.local"))',
    ],
)
def test_bundler_gemfile_that_reads_files_stays(tmp_path: Path, line: str) -> None:
    """A Gemfile is Ruby: `ruby File.read(".ruby-version")` failed a real build of the
    manifests-only install ("There was an error parsing `Gemfile`: No such file")."""
    _gem_project(tmp_path, f'source "https://rubygems.org"\n{line}\n# load the gems\n')
    text = _BUNDLE.format(flags="")
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("reads other files" in m for m in explained)


def test_bundler_gemfile_comment_saying_load_is_not_a_read(tmp_path: Path) -> None:
    _gem_project(
        tmp_path,
        'source "https://rubygems.org"\nruby "3.3.0"\ngem "greeter" # load File.read early\n',
    )
    assert _run(_BUNDLE.format(flags=""), tmp_path)[1]


def test_configured_install_folder_in_the_context_keeps_the_order(tmp_path: Path) -> None:
    """composer.json's `config.vendor-dir` (and .bundle/config's BUNDLE_PATH) move the
    install: a local lib/vendor copied after the install replaced what composer installed
    (a real image served the stale package file)."""
    (tmp_path / "composer.json").write_text(
        json.dumps({"name": "a/b", "require": {}, "config": {"vendor-dir": "lib/vendor"}})
    )
    (tmp_path / "composer.lock").write_text("{}")
    text = (
        "FROM php:8.3-cli\nWORKDIR /app\nCOPY . .\nRUN composer install --no-dev\n"
        'CMD ["php", "-S", "0.0.0.0:8080"]\n'
    )
    assert _run(text, tmp_path)[1]
    (tmp_path / "lib" / "vendor").mkdir(parents=True)
    (tmp_path / "lib" / "vendor" / "autoload.php").write_text("<?php\n")
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("lib/vendor is in the build context" in m for m in explained)
    gems = tmp_path / "gems"
    gems.mkdir()
    (gems / "Gemfile").write_text('source "https://rubygems.org"\ngem "rack"\n')
    (gems / "Gemfile.lock").write_text("GEM\n  specs:\n    rack (3.0.8)\n")
    (gems / ".bundle").mkdir()
    (gems / ".bundle" / "config").write_text('---\nBUNDLE_PATH: ".gems"\n')
    (gems / ".gems").mkdir()
    (gems / ".gems" / "x.rb").write_text("")
    out, applied, _ = _run(_BUNDLE.format(flags=""), gems, unsafe=True)
    assert out == _BUNDLE.format(flags="") and not applied


@pytest.mark.parametrize(
    ("root", "marker"),
    [('{"name": "m", "workspaces": ["apps/*"]}', None), ('{"name": "m"}', "pnpm-workspace.yaml")],
)
def test_an_install_below_a_workspace_root_stays_after_the_copy(
    tmp_path: Path, root: str, marker: str | None
) -> None:
    """``cd apps/web && npm ci`` in a workspace member installs the whole workspace from the
    root's package.json and lock (npm looks for the root in the parent folders): moved before
    ``COPY . .`` with apps/web/package.json alone, it found no lock file."""
    (tmp_path / "apps/web").mkdir(parents=True)
    (tmp_path / "package.json").write_text(root)
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    (tmp_path / "apps/web/package.json").write_text('{"name": "web", "dependencies": {}}')
    if marker:
        (tmp_path / marker).write_text("packages:\n  - 'apps/*'\n")
    text = 'FROM node:20\nWORKDIR /repo\nCOPY . .\nRUN cd apps/web && npm ci\nCMD ["node"]\n'
    _stays(text, tmp_path, "above the project marks a workspace root")


@pytest.mark.parametrize(
    "env, config",
    [
        ("WORKDIR /root\n", ".config/pip/pip.conf"),
        ("ENV HOME=/app\nWORKDIR /app\n", ".pip/pip.conf"),
        ("ENV XDG_CONFIG_HOME=/app\nWORKDIR /app\n", "pip/pip.conf"),
    ],
)
def test_pips_user_configuration_in_the_tree_keeps_the_order(
    tmp_path: Path, env: str, config: str
) -> None:
    """pip reads ~/.config/pip/pip.conf, ~/.pip/pip.conf and $XDG_CONFIG_HOME/pip/pip.conf:
    with the tree copied to HOME, the moved install lost its find-links and failed ("No
    matching distribution found", built for real, round 11)."""
    (tmp_path / "requirements.txt").write_text("acme-local==1.0\n")
    (tmp_path / config).parent.mkdir(parents=True)
    (tmp_path / config).write_text("[global]\nfind-links = /root/wheels\n")
    text = f"FROM python:3.11\n{env}COPY . .\nRUN pip install -r requirements.txt\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any("pip's user configuration" in m for m in explained), explained
    (tmp_path / config).unlink()
    assert _run(text, tmp_path)[1]  # without the file, the install moves


@pytest.mark.parametrize(
    "files",
    [
        {".yarnrc": 'yarn-offline-mirror "/app/offline"\n'},
        {".yarnrc": 'cafile "/app/certs/ca.pem"\n'},
        {".npmrc": "cafile=/app/certs/ca.pem\n"},
        {"package.json": '{"dependencies": {"x": "file:///app/vendor/x.tgz"}}'},
    ],
)
def test_an_absolute_path_into_the_tree_is_a_local_path(tmp_path: Path, files: dict) -> None:
    """``yarn-offline-mirror "/app/offline"`` names the copied tree as much as
    ``"./offline"``: the moved ``yarn install --offline`` failed ("Can't make a request in
    offline mode", built for real, round 11), and so did the split's prod-deps stage."""
    (tmp_path / "package.json").write_text('{"dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "yarn.lock").write_text("")
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile\n"
    out, applied, _ = _run(text, tmp_path)
    assert out == text and not applied, out


def test_a_package_manager_config_msdfix_cannot_read_may_name_a_local_path(
    tmp_path: Path,
) -> None:
    """An .npmrc over 1 MiB (or in a link loop) was read as empty, so its
    ``cafile=/app/certs/ca.pem`` went unseen and the install moved before the COPY that
    brings the file. What it names is unknown: the install stays, and the reason says why."""
    (tmp_path / "package.json").write_text('{"dependencies": {"ms": "2.1.3"}}')
    (tmp_path / ".npmrc").write_text("; generated\n" * (1 << 17) + "cafile=/app/certs/ca.pem\n")
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any(".npmrc is over 1 MiB (it may name a path in the project)" in m for m in explained)
    (tmp_path / ".npmrc").unlink()
    (tmp_path / ".npmrc").symlink_to(".npmrc")
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any(".npmrc links outside the build context or in a loop" in m for m in explained)


def test_an_absolute_config_path_outside_the_tree_moves(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"ms": "2.1.3"}}')
    (tmp_path / ".npmrc").write_text("cafile=/etc/ssl/corp.pem\n")
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
    assert _run(text, tmp_path)[1]


@pytest.mark.parametrize(
    "dep, local",
    [
        ('acme = {file = "./wheels/acme-1.0-py3-none-any.whl"}', True),
        ('acme = {file = "libs/acme"}', True),
        ('acme = {file = "file:///app/libs/acme"}', True),
        ('acme = {file = "https://example.org/acme-1.0.tar.gz"}', False),
    ],
)
def test_a_pipfile_file_dependency_is_local(tmp_path: Path, dep: str, local: bool) -> None:
    """Pipfile's ``{file = "./wheels/x.whl"}`` installs from the tree like ``path``: the moved
    ``pipenv install`` failed with "No such file or directory" (built for real, round 11)."""
    (tmp_path / "Pipfile").write_text(f'[packages]\nsix = "*"\n{dep}\n')
    text = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pipenv install --system --skip-lock\n"
    out, applied, _ = _run(text, tmp_path, unsafe=True)  # copied: pip caches by headers
    assert bool(applied) is not local, out


@pytest.mark.parametrize(
    "files, install",
    [
        (  # yarn Berry with an empty lock: the install fills it, COPY . . empties it again
            {
                "package.json": json.dumps(
                    {"name": "b", "packageManager": "yarn@4.5.0", "dependencies": {"ms": "2.1.3"}}
                ),
                ".yarnrc.yml": "nodeLinker: pnp\n",
                "yarn.lock": "",
            },
            "yarn install && yarn build",
        ),
        (  # package-lock.json behind package.json: npm install rewrites it
            {
                "package.json": json.dumps({"name": "a", "dependencies": {"ms": "2.1.2"}}),
                "package-lock.json": json.dumps(
                    {
                        "lockfileVersion": 3,
                        "packages": {
                            "": {"name": "a", "dependencies": {"ms": "2.1.3"}},
                            "node_modules/ms": {"version": "2.1.3"},
                        },
                    }
                ),
            },
            "npm install",
        ),
        (  # package.json's version bumped, the lock's not: npm install writes it (round 21)
            {
                "package.json": json.dumps(
                    {"name": "a", "version": "1.0.1", "dependencies": {"ms": "2.1.3"}}
                ),
                "package-lock.json": json.dumps(
                    {
                        "name": "a",
                        "version": "1.0.0",
                        "lockfileVersion": 3,
                        "packages": {
                            "": {"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}}
                        },
                    }
                ),
            },
            "npm install --production",
        ),
        (  # a yarn 1 yarn.lock with no entry for package.json's ms@2.1.3: yarn saves a new one
            {
                "package.json": json.dumps({"name": "a", "dependencies": {"ms": "2.1.3"}}),
                "yarn.lock": '# yarn lockfile v1\n\n\nms@2.1.2:\n  version "2.1.2"\n',
            },
            "yarn install --no-progress",
        ),
    ],
)
def test_an_install_that_rewrites_a_stale_lock_is_not_moved_safely(
    tmp_path: Path, files: dict[str, str], install: str
) -> None:
    """Moved before ``COPY . .``, an install that rewrites the lock file has its work undone by
    the COPY: ``yarn build`` then failed with "This package doesn't seem to be present in your
    lockfile" (built for real). A frozen install or a lock in step is still moved."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert out == text
    assert any("the install rewrites" in m for m in explained), explained
    if install == "npm install":
        assert _run(text.replace("npm install", "npm ci"), tmp_path)[0] != text
        (tmp_path / "package.json").write_text(
            json.dumps({"name": "a", "dependencies": {"ms": "2.1.3"}})
        )
        assert _run(text, tmp_path)[0] != text


@pytest.mark.parametrize(
    ("install", "npmrc", "env", "moved"),
    [
        ("npm ci", "", "", False),
        ("npm install --omit=dev", "", "", False),
        ("npm ci --no-package-lock", "", "", True),
        ("npm ci --package-lock=false", "", "", True),
        ("npm ci", "package-lock=false\n", "", True),
        ("npm ci", "", "ENV npm_config_package_lock=false\n", True),
        ("npm ci --package-lock true", "package-lock=false\n", "", False),
    ],
)
def test_npm_beside_a_yarn_lock_rewrites_it(
    tmp_path: Path, install: str, npmrc: str, env: str, moved: bool
) -> None:
    """npm (``npm ci`` too) writes a yarn.lock beside package.json again in its own form
    (npm's resolved URLs, no hashes), so a moved install leaves the context's copy where the
    original left npm's (built: both answered, /app/yarn.lock differed); with package-lock
    set false npm leaves it alone (built) and the install still moves."""
    _npm_context(tmp_path)
    (tmp_path / "yarn.lock").write_text("# yarn lockfile v1\n")
    if npmrc:
        (tmp_path / ".npmrc").write_text(npmrc)
    text = f'FROM node:18-slim\n{env}WORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained
    assert moved or any("rewrites yarn.lock" in m for m in explained), explained
    (tmp_path / "yarn.lock").unlink()
    assert _run(text, tmp_path)[0] != text


@pytest.mark.parametrize(
    ("dependencies", "safe"),
    [
        ({"debug": "^4.3.4", "@a/b": "^1.0.0"}, True),  # every pattern reached and locked
        ({"debug": "^4.3.4", "@a/b": "~1.0.2"}, False),  # @a/b@^1.0.0: yarn drops it
        ({"debug": "^4.3.4", "@a/b": "^1.0.0", "ms": "^2.1.1"}, False),  # no ms@^2.1.1
        ({"debug": "^4.3.4", "@a/b": "^1.1.0"}, False),  # ^1.1.0 is not locked
        ({"debug": "^4.3.4"}, False),  # @a/b@^1.0.0: nothing asks for it, yarn drops it
        ({"@a/b": "^1.0.0"}, False),  # debug's and ms's entries
    ],
)
def test_a_yarn_1_lock_out_of_step_is_stale(
    tmp_path: Path, dependencies: dict[str, str], safe: bool
) -> None:
    """Round 21 (bulk, built for real with yarn 1.22): a plain yarn 1 install moved before
    ``COPY . .`` saved the lock it resolved ("Saved lockfile") into the bind mount, and the
    full COPY put the stale copy back: with an entry missing the original image's yarn.lock
    had 582 bytes and the rewrite's 345; with an entry no dependency asks for, 323 and 582;
    second pass: with a pattern of a reached entry no longer asked for (``ms@^2.1.1,
    ms@^2.1.3:`` after ms left package.json, debug asking ms@^2.1.3), 604 and 615."""
    lock = (
        "# yarn lockfile v1\n\n\n"
        '"@a/b@^1.0.0", "@a/b@~1.0.2":\n  version "1.0.3"\n\n'
        'debug@^4.3.4:\n  version "4.4.3"\n  dependencies:\n    "@a/b" "~1.0.2"\n    ms "^2.1.3"\n\n'
        'ms@^2.1.3:\n  version "2.1.3"\n'
    )
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "dependencies": dependencies}))
    (tmp_path / "yarn.lock").write_text(lock)
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is safe, explained
    assert safe or any("the install rewrites yarn.lock (it locks " in m for m in explained)
    # a frozen install never writes the lock
    frozen = text.replace("yarn install", "yarn install --frozen-lockfile")
    assert _run(frozen, tmp_path)[0] != frozen


@pytest.mark.parametrize(
    ("dependencies", "safe"),
    [
        ({"debug": "^4.3.1", "ms": "^2.1.1"}, True),
        ({"debug": "^4.3.1", "ms": "^2.1.1", "bytes": "^3.1.2"}, False),  # yarn adds bytes
    ],
)
def test_a_yarn_1_lock_with_resolutions_missing_a_dependency_is_stale(
    tmp_path: Path, dependencies: dict[str, str], safe: bool
) -> None:
    """Round 21, second pass (built with yarn 1.22): a project with ``resolutions`` whose
    package.json gained bytes after the lock was written; yarn added it ("Saved lockfile"):
    1,379 bytes in the original image, the context's 1,131 in the moved install's rewrite.
    Nested patterns follow the resolutions (debug@4.3.4 below is what yarn wrote), so only
    package.json's own are looked up."""
    lock = (
        "# yarn lockfile v1\n\n\n"
        'debug@4.3.4:\n  version "4.3.4"\n  dependencies:\n    ms "2.1.2"\n\n'
        'debug@^4.3.1:\n  version "4.4.3"\n  dependencies:\n    ms "^2.1.3"\n\n'
        'ms@2.1.2, ms@^2.1.3:\n  version "2.1.2"\n\n'
        'ms@^2.1.1:\n  version "2.1.3"\n'
    )
    package = {
        "name": "a",
        "dependencies": dependencies,
        "resolutions": {"ms": "2.1.2", "debug": "4.3.4"},
    }
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "yarn.lock").write_text(lock)
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is safe, explained
    assert safe or any("(it locks no bytes@^3.1.2)" in m for m in explained), explained


@pytest.mark.parametrize(
    ("head", "safe"),
    [
        ("FROM node:20", False),
        ("FROM node", False),  # latest: npm 10
        ("FROM node:10", True),  # npm 6 keeps a version 1 lock
        ("FROM node:14.17-slim", True),
        ("FROM node:10\nRUN npm install -g npm@8", False),  # another npm
        ("FROM node:10\nRUN npm i -g npm", False),
    ],
)
def test_an_old_package_lock_that_npm_rewrites_is_stale(
    tmp_path: Path, head: str, safe: bool
) -> None:
    """Round 21 (bulk, built for real with npm 10): ``npm install`` moved before ``COPY .
    /src`` rewrote a lockfileVersion 1 package-lock.json as version 3 ("npm warn old
    lockfile ... one-time fix-up") in the bind mount, and the full COPY put the old one back:
    the original image's package-lock.json had 507 bytes (version 3), the rewrite's 347
    (version 1). npm 6 (node images up to 14) keeps a version 1 lock."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}})
    )
    lock = {
        "name": "a",
        "version": "1.0.0",
        "lockfileVersion": 1,
        "requires": True,
        "dependencies": {"ms": {"version": "2.1.3"}},
    }
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = (
        f'{head}\nCOPY . /src\nWORKDIR /src\nRUN npm install --production\nCMD ["node", "s.js"]\n'
    )
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("lockfileVersion 1, which npm 7" in m for m in explained), explained


@pytest.mark.parametrize(
    ("fields", "root", "safe"),
    [
        ({"bin": "./cli.js"}, {"bin": {"a": "cli.js"}}, True),  # as npm writes it
        ({"bin": {"a": "cli.js"}}, {"bin": {"a": "cli.js"}}, True),
        ({"bin": "cli.js"}, {"bin": {"old": "server/bin.js"}}, False),
        ({"bin": "cli.js"}, {}, False),
        ({"license": "MIT"}, {"license": "MIT"}, True),
        ({"license": "MIT"}, {}, False),
        ({"engines": {"node": ">=18"}}, {"engines": {"node": ">=16"}}, False),
        # round 21 (second pass): npm 10 writes these too, as it normalises them
        ({"peerDependencies": {"bytes": "^3.1.2"}}, {}, False),
        (  # a peer must have its entry too (ms's is there)
            {"peerDependencies": {"ms": "^2.1.0"}},
            {"peerDependencies": {"ms": "^2.1.0"}},
            True,
        ),
        ({"funding": "https://x.org/f"}, {"funding": {"url": "https://x.org/f"}}, True),
        ({"funding": "https://x.org/f"}, {}, False),
        ({"bundledDependencies": ["ms"]}, {"bundleDependencies": ["ms"]}, True),
        # round 23 (npm 10.8.2 kept these): true bundles every dependency, a map its names
        ({"bundleDependencies": True}, {"bundleDependencies": ["ms"]}, True),
        ({"bundleDependencies": {"ms": "2.1.3"}}, {"bundleDependencies": ["ms"]}, True),
        ({"bundleDependencies": False}, {}, True),
        ({"bundleDependencies": True}, {}, False),
        ({"os": ["linux"], "cpu": ["x64"]}, {"os": ["linux"], "cpu": ["x64"]}, True),
        ({"os": ["linux"]}, {}, False),
    ],
)
def test_a_package_lock_whose_root_entry_is_not_package_json_is_stale(
    tmp_path: Path, fields: dict[str, object], root: dict[str, object], safe: bool
) -> None:
    """Round 21 (bulk, built for real with npm 10): npm install wrote package.json's ``bin``
    into the lock's root entry (a lock copied from another project named its bin), the moved
    install's write went to the bind mount and the full COPY put the old lock back: 959 bytes
    in the original image, 971 in the rewrite. npm copies bin, license and engines there,
    and peerDependencies (a peer added after the lock: 488 bytes in the rewrite, npm's 898
    in the original), funding, os, cpu and the bundled list."""
    package = {"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}, **fields}
    entry = {"name": "a", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}, **root}
    packages = {"": entry, "node_modules/ms": {"version": "2.1.3"}}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm i\nCMD ["node", "cli.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("package-lock.json (its root " in m for m in explained), explained


@pytest.mark.parametrize(
    ("entries", "safe"),
    [
        (["node_modules/debug", "node_modules/ms", "node_modules/@a/b"], True),
        (["node_modules/debug", "node_modules/@a/b"], False),  # no ms: npm adds it
        (["node_modules/debug", "node_modules/debug/node_modules/ms", "node_modules/@a/b"], False),
        (
            [
                "node_modules/debug",
                "node_modules/debug/node_modules/ms",
                "node_modules/ms",
                "node_modules/@a/b",
            ],
            True,
        ),
        (["node_modules/debug", "node_modules/ms"], False),  # the dev dependency @a/b
    ],
)
def test_a_package_lock_missing_an_entry_is_stale(
    tmp_path: Path, entries: list[str], safe: bool
) -> None:
    """Round 21, second pass (built with npm 10): a package-lock.json whose root entry was in
    step but which held no node_modules/ms that debug asks for; npm install added it, the
    moved install's write went to the bind mount and the full COPY put the old lock back:
    1,387 bytes in the original image, 1,122 in the rewrite. Entries resolve as Node looks
    them up (a nested node_modules, then each folder above)."""
    package = {
        "name": "a",
        "version": "1.0.0",
        "dependencies": {"debug": "^4.3.4", "ms": "^2.1.3"},
        "devDependencies": {"@a/b": "^1.0.0"},
    }
    packages: dict[str, object] = {"": dict(package)}
    for path in entries:  # npm marks the dev dependency's entry dev
        version = "2.1.3" if path.endswith("/ms") else "1.0.0"  # each in its range
        packages[path] = {"version": version, **({"dev": True} if "@a/b" in path else {})}
    packages["node_modules/debug"] = {"version": "4.4.3", "dependencies": {"ms": "^2.1.3"}}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("it holds no entry for " in m for m in explained), explained


# A JSON file's layout: its indent (None: all on one line) and what ends its last line.
Layout = tuple[int | str | None, str]


@pytest.mark.parametrize(
    ("package_format", "lock_format", "safe"),
    [
        ((2, "\n"), (2, "\n"), True),
        ((2, "\n"), (2, "\r\n"), False),  # built: 2,306 bytes in the rewrite, 2,232 in npm's
        ((2, "\r\n"), (2, "\r\n"), True),  # a Windows checkout of both: npm keeps CRLF
        ((4, "\n"), (4, "\n"), True),
        ((4, "\n"), (2, "\n"), False),
        (("\t", "\n"), ("\t", "\n"), True),
        ((None, ""), (2, "\n"), True),  # package.json on one line: two spaces and LF
        ((None, ""), (4, "\n"), False),
        ((2, "\n"), (2, ""), False),  # no line break at the end: npm adds one
        ((2, "\n"), (2, "\n\n"), False),
    ],
)
def test_a_package_lock_npm_would_lay_out_again_is_stale(
    tmp_path: Path, package_format: Layout, lock_format: Layout, safe: bool
) -> None:
    """Round 21, second pass (built with npm 10): npm install writes package-lock.json with
    package.json's indent and line break and one line break at the end; a lock laid out
    otherwise (CRLF under an LF package.json, 4 spaces under 2, no final line break) was
    rewritten, and the moved install's write went to the bind mount: 2,232 bytes in the
    original image, the context's 2,306 in the rewrite for the CRLF lock."""

    def dump(data: object, layout: Layout) -> str:
        indent, end = layout
        if indent is None:
            return json.dumps(data)
        text = json.dumps(data, indent=indent)
        return text.replace("\n", "\r\n" if end.startswith("\r") else "\n") + end

    package = {"name": "a", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}}
    packages = {"": package, "node_modules/ms": {"version": "2.1.3"}}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_bytes(dump(package, package_format).encode())
    (tmp_path / "package-lock.json").write_bytes(dump(lock, lock_format).encode())
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(dockerfile, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("package.json's indent and line ends" in m for m in explained), explained


@pytest.mark.parametrize(
    ("peer", "npmrc", "install", "safe"),
    [
        (False, "", "npm install", False),  # npm 7+ adds the peer ajv
        (True, "", "npm install", True),
        (False, "", "npm install --legacy-peer-deps", True),
        (False, "legacy-peer-deps=true\n", "npm install", True),
    ],
)
def test_a_package_lock_without_a_peer_npm_installs_is_stale(
    tmp_path: Path, peer: bool, npmrc: str, install: str, safe: bool
) -> None:
    """Round 21, second pass (built with npm 10): a lock written with --legacy-peer-deps held
    no entry for ajv-keywords' peer ajv; npm install added ajv and its dependencies, and the
    moved install's lock went to the bind mount: 2,918 bytes in the original image, 589 in
    the rewrite. An optional peer (peerDependenciesMeta) is not asked for."""
    package = {"name": "a", "version": "1.0.0", "dependencies": {"ajv-keywords": "^3.5.2"}}
    keywords = {
        "version": "3.5.2",
        "peerDependencies": {"ajv": "^6.9.1", "opt": "*"},
        "peerDependenciesMeta": {"opt": {"optional": True}},
    }
    packages: dict[str, object] = {"": dict(package), "node_modules/ajv-keywords": keywords}
    if peer:
        packages["node_modules/ajv"] = {"version": "6.12.6", "peer": True}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    if npmrc:
        (tmp_path / ".npmrc").write_text(npmrc)
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("it holds no entry for ajv" in m for m in explained), explained


@pytest.mark.parametrize(
    ("npmrc", "env", "install", "safe"),
    [
        ("", "ENV npm_config_legacy_peer_deps=true\n", "npm install", True),
        ("", "ENV NPM_CONFIG_LEGACY_PEER_DEPS=true\n", "npm install", True),
        ("", "", "npm_config_legacy_peer_deps=true npm install", True),
        ("", "", "npm install --legacy-peer-deps=true", True),
        ("legacy-peer-deps\n", "", "npm install", True),  # a bare key is true (ini)
        # the command line and the variables win over the .npmrc: npm then adds the peer
        ("legacy-peer-deps=true\n", "", "npm install --legacy-peer-deps=false", False),
        ("legacy-peer-deps=true\n", "", "npm install --no-legacy-peer-deps", False),
        (
            "legacy-peer-deps=true\n",
            "ENV npm_config_legacy_peer_deps=false\n",
            "npm install",
            False,
        ),
    ],
)
def test_legacy_peer_deps_is_read_where_npm_reads_it(
    tmp_path: Path, npmrc: str, env: str, install: str, safe: bool
) -> None:
    """npm 10 takes legacy-peer-deps from the command line, then ``npm_config_*`` variables
    (any case), then the project's .npmrc (@npmcli/config). With it off npm adds the peer
    the lock lacks and rewrites the lock, which the moved full COPY would put back stale;
    msdfix had read only ``--legacy-peer-deps`` as written and the .npmrc, so
    ``--legacy-peer-deps=false`` or ``npm_config_legacy_peer_deps=false`` over an .npmrc
    saying true kept the lock as in step."""
    package = {"name": "a", "version": "1.0.0", "dependencies": {"ajv-keywords": "^3.5.2"}}
    keywords = {"version": "3.5.2", "peerDependencies": {"ajv": "^6.9.1"}}
    packages = {"": dict(package), "node_modules/ajv-keywords": keywords}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    if npmrc:
        (tmp_path / ".npmrc").write_text(npmrc)
    text = f'FROM node:20\n{env}WORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("it holds no entry for ajv" in m for m in explained), explained


@pytest.mark.parametrize(
    ("workdir", "lock_name", "safe"),
    [
        ("/app", "app", True),
        ("/srv/my-proj", "my-proj", True),
        ("/app", "BotTelegramSupport", False),  # built: npm wrote "app"
        ("/app", None, False),  # npm adds the name
        ("/srv/my-proj", "app", False),
        ("/", None, False),  # the folder's name is not known
    ],
)
def test_a_package_lock_not_named_after_the_folder_of_a_nameless_project_is_stale(
    tmp_path: Path, workdir: str, lock_name: str | None, safe: bool
) -> None:
    """Round 22 (a real telegram bot, built with npm 10): package.json had no name and the
    lock was named "BotTelegramSupport"; npm install named it after the project folder
    ("app" in /app), so the original image's lock had 158,903 bytes and the moved install's
    rewrite the context's 158,918."""
    package = {"dependencies": {"ms": "^2.1.3"}}
    packages = {"": dict(package), "node_modules/ms": {"version": "2.1.3"}}
    lock: dict[str, object] = {"lockfileVersion": 3, "requires": True, "packages": packages}
    if lock_name is not None:
        lock = {"name": lock_name, **lock}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = f'FROM node:20\nWORKDIR {workdir}\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("npm names the lock after the project folder" in m for m in explained)


@pytest.mark.parametrize(("libc", "safe"), [(False, True), (True, False)])
def test_a_package_lock_with_libc_fields_is_stale(tmp_path: Path, libc: bool, safe: bool) -> None:
    """Round 22 (a real React app's lock written by a newer npm, built with npm 10.8): npm
    before 11.11 drops the ``libc`` fields of a lock's entries (npm/cli#8514), so the
    original image's lock had 84,155 bytes and the moved install's rewrite the context's
    84,561."""
    package = {"name": "a", "version": "1.0.0", "optionalDependencies": {"x-linux-gnu": "1.0.0"}}
    native = {"version": "1.0.0", "optional": True, "os": ["linux"], "cpu": ["x64"]}
    if libc:
        native["libc"] = ["glibc"]
    packages = {"": dict(package), "node_modules/x-linux-gnu": native}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("has libc, which npm before 11.11 drops" in m for m in explained)


def _flag_lock(case: str) -> tuple[dict[str, object], dict[str, object]]:
    """package.json and the lock's packages for the flag cases (each run through npm 10
    offline with --package-lock-only: "kept" and "peer-ok" were kept, the others
    rewritten)."""

    def entry(name: str, **more: object) -> dict[str, object]:
        url = f"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz"
        return {"version": "1.0.0", "resolved": url, "integrity": "sha512-AAAA", **more}

    if case == "kept":  # a real lock's shape: npm's walk leaves fsevents dev and optional
        optional = {"prisma": {"optional": True}}
        return {"dependencies": {"client": "^1.0.0"}, "devDependencies": {"prisma": "^1.0.0"}}, {
            "node_modules/client": entry(
                "client", peerDependencies={"prisma": "*"}, peerDependenciesMeta=optional
            ),
            "node_modules/fsevents": entry("fsevents", dev=True, optional=True),
            "node_modules/prisma": entry(
                "prisma", devOptional=True, optionalDependencies={"fsevents": "^1.0.0"}
            ),
        }
    packages = {
        "node_modules/anim": entry("anim", peerDependencies={"tw": ">=1"}),
        "node_modules/tw": entry("tw", **({"dev": True} if case == "peer-dev" else {})),
    }
    if case == "extraneous":
        packages["node_modules/left"] = entry("left")
    return {"dependencies": {"anim": "^1.0.0"}, "devDependencies": {"tw": "^1.0.0"}}, packages


@pytest.mark.parametrize(
    ("case", "safe"),
    [("kept", True), ("peer-ok", True), ("peer-dev", False), ("extraneous", False)],
)
def test_a_package_lock_whose_flags_npm_computes_otherwise_is_stale(
    tmp_path: Path, case: str, safe: bool
) -> None:
    """Round 22 (a real React app, built with npm 10): its lock marked 113 entries dev that
    a dependency's peer reaches (tailwindcss-animate's tailwindcss); npm install computes
    the flags again and wrote them without, so the original image's lock had 268,684 bytes
    and the moved install's rewrite the context's 270,750. An entry nothing reaches is
    pruned. The flags follow npm's own walk (a dev dependency that is also an optional peer
    leaves its optional dependency dev, as in a real lock npm kept)."""
    deps, packages = _flag_lock(case)
    package = {"name": "a", "version": "1.0.0", **deps}
    lock = {
        "name": "a",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {"": dict(package), **packages},
    }
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("dev/optional/peer flags otherwise" in m for m in explained), explained


@pytest.mark.parametrize(
    ("overrides", "safe"),
    [
        ({"ms": "2.1.2"}, True),
        ({"ms": "2.1.3"}, False),  # built: npm wrote 2.1.3, the rewrite kept 2.1.2
        ({"ms": "^2.1.0"}, True),
        ({"ms": "~2.0.0"}, False),
        ({"ms": ">=2.1.1 <3"}, True),  # round 23: node-semver's ranges are read
        ({"ms": "2.0.0 || 2.1.x"}, True),
        ({"ms": "2.1.0 - 2.1.2"}, True),
        ({"ms": "<=2.1"}, True),
        ({"ms": ">2.1"}, False),
        ({"ms": "2.0.0 - 2.1.1"}, False),
        ({"ms": "<2.1.2 || >=3"}, False),
        ({"ms": "npm:ms@2.1.2"}, True),  # an alias of ms itself: its range
        ({"ms": "npm:ms@2.1.3"}, False),
        ({"ms": "npm:other@2.1.2"}, False),  # another package: not read
        ({"ms": "latest"}, False),  # a tag: not read
        ({"ms@^2": "2.1.2"}, False),  # a selector: not read
        ({"debug": {"ms": "2.1.2"}}, True),
        ({"debug": {"ms": "2.1.3"}}, False),
        # round 24, built: an override that reaches nothing leaves debug's ^2.1.3 over the
        # locked 2.1.2, which npm resolved again (2.1.3 written)
        ({"other": {"ms": "2.1.3"}}, False),
        ({"ms": "$ms"}, False),  # package.json has no ms of its own
    ],
)
def test_a_package_lock_that_does_not_follow_the_overrides_is_stale(
    tmp_path: Path, overrides: dict[str, object], safe: bool
) -> None:
    """Round 22 (built with npm 10): package.json's override of ms changed from 2.1.2 to
    2.1.3 after the lock was written; npm install put ms 2.1.3 in node_modules and the lock,
    while the moved install's rewrite kept the context's lock, which said 2.1.2. The lock
    records no overrides, so its entries are checked against them. Round 23 (npm 10.8.2, locks
    written before an override was added): npm kept the lock whose ms 2.1.3 met `>=2.1.0 <3`,
    `2.x`, `>2.0`, `<=2.1`, `2.0.0 || 2.1.3` and `npm:ms@2.1.3`, and rewrote it for `<2.1.3`,
    `2.0.0 - 2.1.2` and `npm:ms@2.1.2` (`npm ci` then failed)."""
    package = {"name": "a", "version": "1.0.0", "dependencies": {"debug": "^4.3.4"}}
    package["overrides"] = overrides
    packages = {
        "": {"name": "a", "version": "1.0.0", "dependencies": {"debug": "^4.3.4"}},
        "node_modules/debug": {"version": "4.4.3", "dependencies": {"ms": "^2.1.3"}},
        "node_modules/ms": {"version": "2.1.2"},
    }
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    stale = ("follow package.json's overrides", "does not satisfy its range")
    assert safe or any(w in m for m in explained for w in stale), explained


@pytest.mark.parametrize(
    ("asked", "overrides", "safe"),
    [
        ("^4.3.4", {}, True),
        ("^3.2.7", {}, False),  # built: npm 10.8.2 and 9.2.0 rewrote it, `npm ci` failed
        ("npm:debug@^4.3.4", {}, True),
        ("npm:debug@^3.2.7", {}, False),
        ("^3.2.7", {"debug": "4.4.3"}, True),  # the override's range, met
        ("latest", {}, True),  # a tag: not read here
    ],
)
def test_a_package_lock_entry_outside_the_range_asked_for_is_stale(
    tmp_path: Path, asked: str, overrides: dict[str, str], safe: bool
) -> None:
    """Round 23 (npm 10.8.2 and 9.2.0): a lock whose root entry asks for debug ^3.2.7 (as
    package.json does) over a locked debug 4.4.3, as a merge of two branches' locks leaves
    it: npm install resolved debug again and rewrote the lock, `npm ci` failed; msdfix had
    moved the install, and the full COPY put the context's stale lock back."""
    package = {"name": "a", "version": "1.0.0", "dependencies": {"debug": asked}}
    if overrides:
        package["overrides"] = overrides
    packages = {
        "": {"name": "a", "version": "1.0.0", "dependencies": {"debug": asked}},
        "node_modules/debug": {"version": "4.4.3", "dependencies": {"ms": "^2.1.3"}},
        "node_modules/ms": {"version": "2.1.3"},
    }
    if asked.startswith("npm:"):
        packages["node_modules/debug"]["name"] = "debug"
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("does not satisfy its range" in m for m in explained), explained


@pytest.mark.parametrize(
    ("asked", "locked", "overrides", "safe"),
    [
        ({"ms": "^2.1.0"}, "3.0.0-canary.1", {}, False),  # built: npm wrote ms 2.1.3
        ({"ms": "^3.0.0-canary.0"}, "3.0.0-canary.1", {}, True),  # a prerelease of 3.0.0
        ({"ms": "^2.1.0-0"}, "3.0.0-canary.1", {}, False),
        ({"ms": "*"}, "3.0.0-canary.1", {}, True),  # dep-valid: `*` takes any version
        ({"debug": "^4.3.4"}, "3.0.0-canary.1", {"ms": "3.0.0-canary.1"}, True),  # built
        ({"debug": "^4.3.4"}, "3.0.0-canary.1", {"ms": "*"}, False),  # built: rewritten
        ({"debug": "^4.3.4"}, "2.1.2", {"ms": "*"}, False),  # debug's own ^2.1.3
        ({"debug": "^4.3.4"}, "2.1.3", {"ms": "*"}, True),
        ({"debug": "^4.3.4"}, "2.1.2", {"ms": {".": "*"}}, False),
        ({"debug": "^4.3.4"}, "2.1.2", {"ms": {".": "2.1.2"}}, True),
        # round 25: node-semver 7.8.5 reads no version with a part above 2**53 - 1 or
        # longer than 256 characters, so satisfies('2.99...9.0', '^2.1.0') is false and npm
        # resolves the edge again; 5,000 digits were an internal error (Python's int())
        ({"ms": "^2.1.0"}, "2.9007199254740991.0", {}, True),
        ({"ms": "^2.1.0"}, "2.9007199254740992.0", {}, False),
        ({"ms": "^2.1.0"}, "2." + "9" * 5000 + ".0", {}, False),
        ({"ms": "^2.1.0"}, "2.1.2+" + "a" * 300, {}, False),
        ({"ms": "*"}, "2." + "9" * 5000 + ".0", {}, True),  # dep-valid: `*` takes any
        ({"debug": "^4.3.4"}, "2.1.3", {"ms": ">=2." + "9" * 5000 + ".0"}, False),
    ],
)
def test_prerelease_versions_and_star_overrides_are_read_as_npm_reads_them(
    tmp_path: Path, asked: dict[str, str], locked: str, overrides: dict[str, object], safe: bool
) -> None:
    """Round 24 (npm 10.8.2): a lock entry with a prerelease version had read as unknown,
    so a merged lock whose ms 3.0.0-canary.1 sat under the root's ^2.1.0 was kept, while npm
    install wrote ms 2.1.3 and the moved install's image kept the stale lock (558 bytes
    against 486), and an override to 3.0.0-canary.1 read as unmet, while npm kept that lock
    (same bytes, files and answer). A prerelease meets a range only through a comparator
    with a prerelease of its major.minor.patch, as node-semver's satisfies has it (6,500
    versions and ranges run through npm's own semver 7.6.2 agree). An override of ``*``
    replaces nothing (arborist's ``Edge.spec``): npm rewrote a lock whose canary ms met
    ``*`` but not debug's own ^2.1.3."""
    package: dict[str, object] = {"name": "a", "version": "1.0.0", "dependencies": asked}
    if overrides:
        package["overrides"] = overrides
    packages: dict[str, object] = {
        "": {"name": "a", "version": "1.0.0", "dependencies": asked},
        "node_modules/ms": {"version": locked},
    }
    if "debug" in asked:
        packages["node_modules/debug"] = {"version": "4.4.3", "dependencies": {"ms": "^2.1.3"}}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("package-lock.json (" in m for m in explained), explained


@pytest.mark.parametrize(
    ("react", "run", "safe"),
    [
        ("17.0.2", "npm install", False),  # built: npm wrote react 18.3.1 into the lock
        ("17.0.2", "npm install --legacy-peer-deps", True),  # built: npm kept the lock
        ("18.3.1", "npm install", True),
        # round 24, reglock (npm 10.8.2): nopt reads a boolean "1" as true; --force still
        # makes the peer edges (both built)
        ("17.0.2", "npm_config_legacy_peer_deps=1 npm install", True),
        ("17.0.2", "NPM_CONFIG_LEGACY_PEER_DEPS=true npm install", True),
        ("17.0.2", "npm_config_legacy_peer_deps=0 npm install", False),
        ("17.0.2", "npm install --force", False),
    ],
)
def test_a_lock_entry_outside_a_peer_range_is_stale(
    tmp_path: Path, react: str, run: str, safe: bool
) -> None:
    """Round 24 (npm 10.8.2): a merged lock held react 17.0.2, which the root's ``^17.0.2 ||
    ^18.2.0`` takes and react-dom 18.3.1's peer ``^18.3.1`` does not; npm install resolved
    react again and wrote 18.3.1 into the lock, and the moved install's image kept the
    context's stale lock. With --legacy-peer-deps npm makes no peer edges and kept it."""
    asked = {"react": "^17.0.2 || ^18.2.0", "react-dom": "^18.2.0"}
    package = {"name": "a", "version": "1.0.0", "dependencies": asked}
    packages = {
        "": {"name": "a", "version": "1.0.0", "dependencies": asked},
        "node_modules/react": {"version": react},
        "node_modules/react-dom": {"version": "18.3.1", "peerDependencies": {"react": "^18.3.1"}},
    }
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained
    assert safe or any("react-dom asks for does not satisfy" in m for m in explained), explained


PNPM6_LOCK = """lockfileVersion: '6.0'

dependencies:
  ms:
    specifier: 2.1.2
    version: 2.1.2

devDependencies:
  '@types/ms':
    specifier: ^0.7.31
    version: 0.7.34

packages:

  /ms@2.1.2:
    resolution: {integrity: sha512-abc}
    dev: false
"""
PNPM9_LOCK = """lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      ms:
        specifier: 2.1.2
        version: 2.1.2
    devDependencies:
      '@types/ms':
        specifier: ^0.7.31
        version: 0.7.34

packages:

  ms@2.1.2:
    resolution: {integrity: sha512-abc}
"""
PNPM5_LOCK = """lockfileVersion: 5.4

specifiers:
  '@types/ms': ^0.7.31
  ms: 2.1.2

dependencies:
  ms: 2.1.2
"""


@pytest.mark.parametrize(
    ("lock", "ms", "run", "safe"),
    [
        (PNPM6_LOCK, "2.1.2", "pnpm install", True),
        (PNPM6_LOCK, "2.1.3", "pnpm install", False),  # built: pnpm 8.15.9 wrote 2.1.3
        (PNPM6_LOCK, "2.1.3", "pnpm install --frozen-lockfile", True),  # fails alike
        (PNPM9_LOCK, "2.1.2", "pnpm install", True),
        (PNPM9_LOCK, "^2.1.2", "pnpm install", False),
        (PNPM5_LOCK, "2.1.2", "pnpm install", True),
        (PNPM5_LOCK, "2.1.3", "pnpm install", False),
        (PNPM9_LOCK.replace("  .:", "  packages/a: {}\n\n  .:"), "2.1.2", "pnpm install", False),
        ("overrides:\n  ms: 2.1.2\n\n" + PNPM6_LOCK, "2.1.2", "pnpm install", False),
    ],
)
def test_a_pnpm_lock_whose_specifiers_are_not_package_json_s_is_stale(
    tmp_path: Path, lock: str, ms: str, run: str, safe: bool
) -> None:
    """Round 24 (pnpm 8.15.9): package.json's ms changed from 2.1.2 to 2.1.3 after the lock;
    pnpm install wrote 2.1.3 into pnpm-lock.yaml, while the moved install's image (reordered
    and split) kept the context's lock, which said 2.1.2. The root importer's specifiers
    (lockfile 5.4, 6.0 and 9.0 as pnpm 7, 8 and 9 wrote them) are compared with
    package.json; a workspace's other importers and overrides are not read: stale."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": ms}}
    package["devDependencies"] = {"@types/ms": "^0.7.31"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pnpm-lock.yaml").write_text(lock)
    pnpm = {"5.4": 7, "'6.0'": 8, "'9.0'": 9}[lock.partition("lockfileVersion: ")[2].split()[0]]
    text = (
        f"FROM node:20\nRUN npm i -g pnpm@{pnpm}\nWORKDIR /app\nCOPY . .\n"
        f'RUN {run}\nCMD ["node", "s.js"]\n'
    )
    _, _, explained = _run(text, tmp_path)  # alone, unsafe anyway: the manifests twice
    assert any("rewrites pnpm-lock.yaml (" in m for m in explained) is not safe, explained


@pytest.mark.parametrize(
    ("lock", "setup", "manager", "writes"),
    [
        (PNPM6_LOCK, "npm i -g pnpm@8.15.9", None, None),
        (PNPM6_LOCK, "npm i -g pnpm@9.15.9", None, "9.0"),  # built: 9.0 over 6.0
        (PNPM9_LOCK, "npm install --global pnpm@8", None, "6.0"),  # built: 6.0 over 9.0
        (PNPM9_LOCK, "npm i -g pnpm@10", None, None),  # built: pnpm 10.34.9, 9's bytes
        (PNPM5_LOCK, "npm i -g pnpm@9", None, "9.0"),
        (PNPM5_LOCK, "npm i -g pnpm@7.33.7", None, None),
        (PNPM9_LOCK, "npm i -g pnpm", None, "which pnpm runs"),  # the registry's latest
        (PNPM9_LOCK, "corepack enable", None, "which pnpm runs"),
        (PNPM9_LOCK, "corepack enable", "pnpm@9.15.9+sha512.abc", None),
        (PNPM9_LOCK, "corepack enable", "pnpm@8.15.9", "6.0"),
        (PNPM9_LOCK, "corepack prepare pnpm@8.15.9 --activate", "pnpm@9.1.0", "6.0"),
        (PNPM9_LOCK, "npm i -g pnpm@9 && npm i -g pnpm@latest-8", None, "6.0"),
        (PNPM9_LOCK, "npm i -g pnpm@$PNPM", None, "which pnpm runs"),
    ],
)
def test_a_pnpm_lock_another_pnpm_major_wrote_is_stale(
    tmp_path: Path, lock: str, setup: str, manager: str | None, writes: str | None
) -> None:
    """Round 24 (pnpm 7.33.7, 8.15.9, 9.15.9, 10.34.9 over the locks each wrote for one
    project): a pnpm install that is not frozen kept only its own major's lockfileVersion
    and rewrote the others' (pnpm 9 wrote 9.0 over 6.0: the reordered split kept the
    context's 6.0 lock, the original 9.0). Which pnpm runs is read from the RUNs before the
    install, then package.json's packageManager; not known: stale."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": "2.1.2"}}
    package["devDependencies"] = {"@types/ms": "^0.7.31"}
    if manager:
        package["packageManager"] = manager
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pnpm-lock.yaml").write_text(lock)
    text = (
        f"FROM node:20\nRUN {setup}\nWORKDIR /app\nCOPY . .\n"
        'RUN pnpm install\nCMD ["node", "s.js"]\n'
    )
    _, _, explained = _run(text, tmp_path)  # alone, unsafe anyway: the manifests twice
    stale = [m for m in explained if "rewrites pnpm-lock.yaml (" in m]
    if writes is None:
        assert not stale, explained
    else:
        assert stale and writes in stale[0], explained


@pytest.mark.parametrize(
    ("env", "install", "stale"),
    [
        ("", "pnpm install --frozen-lockfile=true", False),
        ("", "pnpm i --frozen-lockfile", False),
        ("", "pnpm install --frozen-lockfile --no-frozen-lockfile", True),
        ("", "pnpm install --frozen-lockfile=false", True),
        ("ENV CI=true\n", "pnpm install", True),
    ],
)
def test_a_pnpm_install_frozen_by_its_arguments_keeps_any_pnpm_s_lock(
    tmp_path: Path, env: str, install: str, stale: bool
) -> None:
    """Round 25 (pnpm 8.15.9, 9 and 10 over a stale lock): ``--frozen-lockfile=true`` failed
    ERR_PNPM_OUTDATED_LOCKFILE as the bare flag does, so the install never rewrites the lock
    whichever pnpm runs (built: the reordered split and the original, same answer and lock
    bytes, 729 -> 286 MB). ``CI=true`` stays stale: pnpm 10 under it rewrote pnpm 8's 6.0
    lock, where ``--frozen-lockfile`` failed ERR_PNPM_LOCKFILE_BREAKING_CHANGE."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": "2.1.2"}}
    package["devDependencies"] = {"@types/ms": "^0.7.31"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pnpm-lock.yaml").write_text(PNPM9_LOCK)
    text = (
        f"FROM node:20\nRUN npm i -g pnpm\n{env}WORKDIR /app\nCOPY . .\n"
        f'RUN {install}\nCMD ["node", "s.js"]\n'
    )
    _, _, explained = _run(text, tmp_path)
    assert any("rewrites pnpm-lock.yaml (" in m for m in explained) is stale, explained


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_pnpm_option_s_value_after_a_space_is_read_as_after_an_equals_sign(
    tmp_path: Path, value: str
) -> None:
    """Round 26 (pnpm 8.15.9 and 9.15.9 over a stale lock): nopt takes the ``true`` or
    ``false`` after ``--frozen-lockfile`` as its value: ``--frozen-lockfile false`` rewrote
    the lock as ``--no-frozen-lockfile`` did, ``--frozen-lockfile true`` failed as the bare
    flag did (built, in step: the reordered install and mount, same version and lock). Both
    were read as an install of a package named after the word: no reorder at all, and the
    store's mount unsafe."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": "2.1.2"}}
    package["devDependencies"] = {"@types/ms": "^0.7.31"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pnpm-lock.yaml").write_text(PNPM9_LOCK)
    found = []
    for spelling in (f"--frozen-lockfile {value}", f"--frozen-lockfile={value}"):
        text = (
            "FROM node:20\nRUN npm i -g pnpm\nWORKDIR /app\nCOPY . .\n"
            f'RUN pnpm install {spelling}\nCMD ["node", "s.js"]\n'
        )
        result = rewrite(text, None, BuildContext(tmp_path), Settings(unsafe=True))
        findings = [*result.applied, *result.suggestions]
        found.append([(f.transform, f.fix and f.fix.applicability, f.message) for f in findings])
    assert found[0] == found[1]
    assert any(f[0] == ID for f in found[0]), found[0]


_PNPM_SETTINGS = "settings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"


@pytest.mark.parametrize(
    ("npmrc", "env", "stale"),
    [
        (None, "", False),
        ("auto-install-peers=true\n", "", False),
        ("registry=https://registry.npmjs.org/\n", "", False),
        ("auto-install-peers=false\n", "", True),
        ("exclude-links-from-lockfile\n", "", True),  # a bare key is true
        (None, "ENV npm_config_auto_install_peers=false\n", True),
        ("dedupe-peer-dependents=false\n", "", True),  # a setting the lock does not hold
        (None, "RUN pnpm config set auto-install-peers false\n", True),
    ],
)
def test_a_pnpm_setting_the_lock_holds_otherwise_makes_it_stale(
    tmp_path: Path, npmrc: str | None, env: str, stale: bool
) -> None:
    """Round 25 (pnpm 8.15.9): ``auto-install-peers=false`` in .npmrc over a lock whose
    ``settings:`` hold ``autoInstallPeers: true``: pnpm install wrote false into the lock,
    while the reordered install (rated safe) kept the context's lock (other bytes, built)."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": "2.1.2"}}
    package["devDependencies"] = {"@types/ms": "^0.7.31"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    lock = PNPM6_LOCK.replace("\n\n", "\n\n" + _PNPM_SETTINGS, 1)
    (tmp_path / "pnpm-lock.yaml").write_text(lock)
    if npmrc is not None:
        (tmp_path / ".npmrc").write_text(npmrc)
    text = (
        f"FROM node:20\nRUN npm i -g pnpm@8.15.9\n{env}WORKDIR /app\nCOPY . .\n"
        'RUN pnpm install\nCMD ["node", "s.js"]\n'
    )
    _, _, explained = _run(text, tmp_path)
    assert any("rewrites pnpm-lock.yaml (" in m for m in explained) is stale, explained


@pytest.mark.parametrize(("case", "safe"), [("peer-ok", False), ("peer-dev", True)])
def test_an_install_skipping_peers_computes_the_flags_without_them(
    tmp_path: Path, case: str, safe: bool
) -> None:
    """Round 22 (npm 10 offline with --package-lock-only): with --legacy-peer-deps npm
    makes no peer edges, so a dev dependency that a dependency's peer reached becomes dev
    again: the lock written without the flag was rewritten, the one with it kept."""
    deps, packages = _flag_lock(case)
    package = {"name": "a", "version": "1.0.0", **deps}
    lock = {"name": "a", "version": "1.0.0", "lockfileVersion": 3, "requires": True}
    lock["packages"] = {"": dict(package), **packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    run = "npm install --legacy-peer-deps"
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert ("--mount=type=bind" in out) is safe, explained


def test_manifests_copied_just_before_are_not_copied_again(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n")
    (tmp_path / "go.sum").write_text("")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = (
        "FROM golang:1.19\nWORKDIR /src\nCOPY go.mod go.sum ./\nCOPY . .\n"
        "RUN go build -o /bin/app .\n"
    )
    out, applied, _ = _run(text, tmp_path)
    assert out.count("COPY go.mod go.sum ./") == 1
    assert out.index("COPY go.mod") < out.index("go mod download") < out.index("COPY . .")
    assert applied and applied[0].startswith("run `go mod download`")
    # elsewhere, or only one of the manifests: the fix copies them itself
    for earlier in ("COPY go.mod /tmp/\n", "COPY go.mod ./\n", "COPY go.mod /src\n"):
        out, _, _ = _run(text.replace("COPY go.mod go.sum ./\n", earlier), tmp_path)
        assert "target=/src/go.sum,rw \\\n    go mod download\nCOPY . ." in out, out


def test_npm_manifests_copied_just_before_need_no_bind_mounts(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {"": {}}}\n')
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nCOPY . .\n"
        "RUN npm ci && npm run build\n"
    )
    out, applied, _ = _run(text, tmp_path)
    assert "--mount=type=bind" not in out and out.count("COPY package.json") == 1
    assert out.index("RUN npm ci") < out.index("COPY . .") < out.index("RUN npm run build")
    assert "mounted" not in applied[0]
    out, applied, _ = _run(text.replace("COPY package.json package-lock.json ./\n", ""), tmp_path)
    assert "--mount=type=bind,source=package.json" in out and "mounted" in applied[0]


def test_the_copy_stays_above_a_workdir_a_non_root_user_creates(tmp_path: Path) -> None:
    """Round 13 (u36), built for real: moved below `USER app` + `WORKDIR /home/app/src`, the
    COPY landed in a directory WORKDIR had created for app, so app could write its own code
    (the original's directory was root:root 0755)."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "app.py").write_text("import six\n")
    text = (
        "FROM python:3.12\nRUN useradd -m -u 1001 app\nCOPY . /home/app/src\nUSER app\n"
        "WORKDIR /home/app/src\nRUN pip install --user -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("WORKDIR at line 5 runs as user app" in m for m in explained)
    # the COPY gives the directory to that user itself: moving it changes nothing (unsafe
    # only because pip's cache stays in the image, so nothing offsets the copied manifest)
    chowned = text.replace("COPY . /home/app/src", "COPY --chown=app:app . /home/app/src")
    assert _run(chowned, tmp_path, unsafe=True)[1]
    assert any("no safe cache mount takes" in m for m in _run(chowned, tmp_path)[2])


def test_an_unknown_base_images_user_counts_as_root_for_the_workdir(tmp_path: Path) -> None:
    """Most images msdfix does not know start as root: their WORKDIR is root's, as the COPY's
    directory was; a USER the file sets from a variable is unknown, and keeps the order."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    text = (
        "FROM registry.example/base:1\nCOPY . /app\nWORKDIR /app\n"
        "RUN pip install -r requirements.txt\n"
    )
    assert _run(text, tmp_path)[1]
    variable = text.replace("COPY . /app\n", "COPY . /app\nUSER $APP_USER\n")
    assert not _run(variable, tmp_path)[1]


def test_a_yarn_1_install_moved_before_the_copy_still_cleans_with_yarnclean(
    tmp_path: Path,
) -> None:
    """yarn 1 deletes what .yarnclean names (``*.md``, ``test``) from node_modules on every
    install: moved before ``COPY . .`` without it, the install kept them (a larger image)."""
    package = '{"name": "app", "dependencies": {"ms": "2.1.3"}}'
    lock = '# yarn lockfile v1\n\n\nms@2.1.3:\n  version "2.1.3"\n'
    files = {"package.json": package, "yarn.lock": lock, ".yarnclean": "*.md\n", "i.js": ""}
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile\nCMD ["node", "i.js"]\n'
    out, _, _ = _run(text, tmp_path)
    before = out.split("COPY . .")[0]
    assert "yarn install" in before, out
    assert ".yarnclean" in before, out


def _go_context(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")


def test_the_added_fetch_carries_the_build_commands_inline_variables(tmp_path: Path) -> None:
    """``GOPROXY=https://goproxy.corp.example go build``: a bare ``go mod download`` went to
    the public proxy (built for real: no such host); the fetch gets the same variables."""
    _go_context(tmp_path)
    run = "RUN GOPROXY=https://goproxy.corp.example CGO_ENABLED=0 go build -o /app .\n"
    out, applied, _ = _run(f"FROM golang:1.22\nWORKDIR /src\nCOPY . .\n{run}", tmp_path)
    fetch = "GOPROXY=https://goproxy.corp.example go mod download\n"
    assert out.index("target=/src/go.mod,rw \\\n    " + fetch) < out.index("COPY . .")
    assert applied


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (
            "RUN --mount=type=bind,source=third_party/goproxy,target=/goproxy go build .\n",
            "its RUN has `--mount=type=bind,source=third_party/goproxy,target=/goproxy`",
        ),
        (
            "RUN --mount=type=secret,id=netrc,target=/root/.netrc go build .\n",
            "its RUN has `--mount=type=secret,id=netrc,target=/root/.netrc`",
        ),
        (
            "RUN --mount=type=bind,from=deps,source=/go/pkg/mod,target=/go/pkg/mod go build .\n",
            "which an added fetch step would not have",
        ),
        (
            "RUN go env -w GOPROXY=https://goproxy.corp.example && go build .\n",
            "`go env -w GOPROXY=https://goproxy.corp.example` runs before it in the same RUN",
        ),
        (
            'RUN git config --global url."https://x@github.com/".insteadOf "https://github.com/"'
            " && go build .\n",
            "runs before it in the same RUN",
        ),
        ('RUN GOFLAGS="-tags=a b" go build .\n', "its inline `GOFLAGS=...` cannot be carried"),
    ],
)
def test_no_fetch_without_what_the_build_run_downloads_with(
    tmp_path: Path, run: str, reason: str
) -> None:
    """The added fetch runs in a RUN of its own: a bind mount of a module proxy, a secret, a
    ``go env -w`` or ``git config`` before the build are not there (built for real: the fetch
    failed with the proxy, ``GOPROXY=off`` and ``go env -w`` forms)."""
    _go_context(tmp_path)
    _stays(f"FROM golang:1.22\nWORKDIR /src\nCOPY . .\n{run}", tmp_path, reason)


@pytest.mark.parametrize(
    "env",
    [
        "ENV GOPROXY=file:///src/third_party/goproxy GOSUMDB=off\n",
        "ENV GOPROXY=https://proxy.golang.org|file:///src/third_party/goproxy\n",
        "ENV GOFLAGS=-modfile=/src/go.prod.mod\n",
    ],
)
def test_go_reading_the_copied_tree_through_its_environment_stays(tmp_path: Path, env: str) -> None:
    """A ``file://`` GOPROXY (or a ``-modfile``) under the copied tree is read by the fetch
    too: moved before the COPY it found no proxy (built for real)."""
    _go_context(tmp_path)
    text = f"FROM golang:1.22\nWORKDIR /src\n{env}COPY . .\nRUN go build -o /app .\n"
    _stays(text, tmp_path, "from the copied files, so it cannot move before the COPY")


def test_go_proxy_keywords_and_remote_urls_are_not_paths(tmp_path: Path) -> None:
    _go_context(tmp_path)
    env = "ENV GOPROXY=https://goproxy.corp.example,direct GOFLAGS=-mod=mod\n"
    out, applied, _ = _run(
        f"FROM golang:1.22\nWORKDIR /src\n{env}COPY . .\nRUN go build .\n", tmp_path
    )
    assert "    go mod download\nCOPY . ." in out and applied


@pytest.mark.parametrize("name", ["maven.config", "jvm.config", "extensions.xml"])
def test_maven_project_configuration_keeps_the_build_after_the_copy(
    tmp_path: Path, name: str
) -> None:
    """mvn reads .mvn/maven.config (``-s .mvn/settings.xml``: a mirror), jvm.config and
    extensions.xml from the project on every run: a fetch before the COPY ran without them."""
    (tmp_path / "pom.xml").write_text("<project><artifactId>app</artifactId></project>\n")
    (tmp_path / ".mvn").mkdir()
    (tmp_path / ".mvn" / name).write_text("-s .mvn/settings.xml\n")
    text = "FROM maven:3.9-eclipse-temurin-17\nWORKDIR /build\nCOPY . .\nRUN mvn -B package\n"
    _stays(text, tmp_path, f".mvn/{name} configures Maven from the sources")
    (tmp_path / ".mvn" / name).unlink()
    out, _, _ = _run(text, tmp_path, unsafe=True)
    assert "dependency:go-offline" in out


@pytest.mark.parametrize(
    "dotenv", ["PIP_FIND_LINKS=/app/wheels", "PIP_FIND_LINKS=./wheels", 'PIP_FIND_LINKS="wheels"']
)
def test_pipenv_dotenv_naming_a_path_of_the_tree_keeps_the_order(
    tmp_path: Path, dotenv: str
) -> None:
    """Built for real (k8s-ecrupdater's shape): .env sets PIP_FIND_LINKS to the project's
    wheels/ folder; moved before ``COPY . .`` with Pipfile, Pipfile.lock and .env only,
    pipenv found no wheels: "No matching distribution found for acme-local==1.0"."""
    files = {"Pipfile": '[packages]\nacme-local = "==1.0"\n', "Pipfile.lock": "{}\n"}
    files |= {".env": dotenv + "\n", "wheels/acme_local-1.0-py3-none-any.whl": "x"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pipenv install --system --deploy\n"
    _stays(text, tmp_path, "reads PIP_FIND_LINKS=/app/wheels from the copied files")
    (tmp_path / ".env").write_text("DJANGO_DEBUG=1\n")  # no path: the move stays
    assert _run(text, tmp_path)[0] != text


@pytest.mark.parametrize(
    "pnpmfile, moves",
    [
        ('module.exports = { hooks: require("./tools/hooks") }\n', False),
        ("const f = require('fs').readFileSync(__dirname + '/hooks.json')\n", False),
        ("const h = require(process.env.HOOKS)\n", False),
        ("module.exports = { hooks: { readPackage: (p) => p } }\n", True),
    ],
)
def test_a_pnpmfile_that_loads_project_files_keeps_the_order(
    tmp_path: Path, pnpmfile: str, moves: bool
) -> None:
    """Built for real: ``.pnpmfile.cjs`` came along with the manifests, but the
    ``./tools/hooks`` it requires did not: "Error during pnpmfile execution ... Cannot find
    module './tools/hooks'" (the split's prod-deps stage copied the same three files)."""
    files = {"package.json": '{"name": "x", "dependencies": {"ms": "2.1.3"}}', "pnpm-lock.yaml": ""}
    files |= {".pnpmfile.cjs": pnpmfile, "tools/hooks.js": "module.exports = {}\n"}
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n"
    text += 'CMD ["node", "i.js"]\n'
    out, _, explained = _run(text, tmp_path)
    if moves:
        assert out != text and "source=.pnpmfile.cjs,target=/app/.pnpmfile.cjs " in out, out
    else:
        assert out == text, out
        assert any(".pnpmfile.cjs loads" in m for m in explained), explained
    split = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"split-stages"})))
    assert moves or "prod-deps" not in split.output, split.output


# ---- round 14 (Ruby and PHP apps, built for real)


@pytest.mark.parametrize(
    "gemfile",
    [
        'source "https://rubygems.org"\ngem "rake"\n\npath "components" do\n  gem "billing"\nend\n',
        'source "https://rubygems.org"\ngem "rake"\ngem "x", git: "vendor/x"\n',
    ],
)
def test_bundler_local_gems_in_any_dsl_form_stay(tmp_path: Path, gemfile: str) -> None:
    """`path "components" do ... end` (the block form) and a local `git:` repository: moved
    before `COPY . .`, a real build failed ("The path `/app/components` does not exist")."""
    _gem_project(tmp_path, gemfile)
    text = _BUNDLE.format(flags="")
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("local path gems" in m for m in explained)


def test_bundler_lock_with_a_path_section_stays(tmp_path: Path) -> None:
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter"\n')
    (tmp_path / "Gemfile.lock").write_text(
        "PATH\n  remote: engines/greeter\n  specs:\n    greeter (0.1.0)\n"
    )
    out, applied, _ = _run(_BUNDLE.format(flags=""), tmp_path, unsafe=True)
    assert not applied


def test_bundler_lock_without_a_build_platform_stays(tmp_path: Path) -> None:
    """A Gemfile.lock made on a Mac: `bundle install` adds x86_64-linux to it and the moved
    full COPY put the old lock back; `bundle exec` as a non-root user then failed to rewrite
    it (Bundler::PermissionError, built for real)."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    lock = "GEM\n  specs:\n    greeter (0.1.0)\n\nPLATFORMS\n  {}\n\nDEPENDENCIES\n  greeter\n"
    (tmp_path / "Gemfile.lock").write_text(lock.format("arm64-darwin-23"))
    out, applied, explained = _run(_BUNDLE.format(flags=""), tmp_path, unsafe=True)
    assert not applied and any("no platform of the build" in m for m in explained)
    (tmp_path / "Gemfile.lock").write_text(lock.format("arm64-darwin-23\n  x86_64-linux"))
    assert _run(_BUNDLE.format(flags=""), tmp_path)[1]


@pytest.mark.parametrize(
    ("env", "files"),
    [
        ("ENV BUNDLE_GEMFILE=/app/Gemfile.next\n", ["Gemfile.next"]),
        ("ENV BUNDLE_CACHE_PATH=vendor/gems\n", []),
    ],
)
def test_bundler_manifest_named_by_the_environment_stays(
    tmp_path: Path, env: str, files: list[str]
) -> None:
    """BUNDLE_GEMFILE names another Gemfile: the moved install failed ("No such file or
    directory @ rb_sysopen - /app/Gemfile.next", built for real)."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    for name in files:
        (tmp_path / name).write_text('source "https://rubygems.org"\n')
    text = "FROM ruby:3.3\n" + env + "WORKDIR /app\nCOPY . .\nRUN bundle install\n"
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


@pytest.mark.parametrize(
    ("head", "run"),
    [
        ("", "export BUNDLE_GEMFILE=/app/Gemfile.next && bundle install"),
        ("", "declare -x BUNDLE_GEMFILE=Gemfile.next; bundle install"),
        ("", "env BUNDLE_GEMFILE=Gemfile.next bundle install"),
        ("ARG GEMFILE=Gemfile\nENV BUNDLE_GEMFILE=/app/${GEMFILE}\n", "bundle install"),
        ("ARG BUNDLE_GEMFILE\n", "bundle install"),
    ],
)
def test_bundler_manifest_named_in_the_run_or_by_a_build_argument_stays(
    tmp_path: Path, head: str, run: str
) -> None:
    """Round 15: the Gemfile named by `export`/`env` in the RUN, or by a build argument
    (`--build-arg GEMFILE=Gemfile.next`), is not the copied Gemfile: the moved install failed
    ("There was an error parsing `Gemfile.next`: No such file or directory", built)."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    (tmp_path / "Gemfile.next").write_text('source "https://rubygems.org"\n')
    text = f"FROM ruby:3.3\n{head}WORKDIR /app\nCOPY . .\nRUN {run}\n"
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


@pytest.mark.parametrize(
    "head",
    [
        "ARG PIP_INDEX_URL\n",
        "ARG PIP_EXTRA_INDEX_URL=https://pypi.example/simple\n",
        "ARG NODE_OPTIONS=--max-old-space-size=4096\n",
    ],
)
def test_index_url_build_argument_still_moves(tmp_path: Path, head: str) -> None:
    """A build argument naming an index (not a project file) leaves the install movable."""
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    text = f"FROM python:3.11\n{head}WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    assert _run(text, tmp_path)[1]


def test_bundler_default_gemfile_named_by_the_environment_moves(tmp_path: Path) -> None:
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    text = "FROM ruby:3.3\nENV BUNDLE_GEMFILE=/app/Gemfile\nWORKDIR /app\nCOPY . .\nRUN bundle install\n"
    assert _run(text, tmp_path)[1]


def test_bundler_cache_path_set_in_the_install_run_stays(tmp_path: Path) -> None:
    """`bundle config set --local cache_path vendor/gems && bundle install --local`: moved,
    a real build found no gem ("Could not find sinatra-3.0.5, ... in any of the sources")."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter", "0.1.0"\n')
    (tmp_path / "vendor" / "gems").mkdir(parents=True)
    (tmp_path / "vendor" / "gems" / "greeter-0.1.0.gem").write_bytes(b"gem")
    text = (
        "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\n"
        "RUN bundle config set --local cache_path vendor/gems && bundle install --local\n"
    )
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


def _composer_project(tmp_path: Path, composer: dict[str, object], lock: object = None) -> str:
    (tmp_path / "composer.json").write_text(json.dumps(composer))
    (tmp_path / "composer.lock").write_text(json.dumps(lock if lock is not None else {}))
    (tmp_path / "index.php").write_text("<?php\n")
    return "FROM php:8.3-cli\nWORKDIR /app\nCOPY . .\nRUN composer install --no-dev\n"


@pytest.mark.parametrize(
    "repo",
    [
        {"type": "artifact", "url": "artifacts/"},
        {"type": "vcs", "url": "libs/greeter"},
        {"type": "composer", "url": "file:///app/packages"},
        {
            "type": "package",
            "package": {
                "name": "a/x",
                "version": "1.0.0",
                "dist": {"type": "zip", "url": "d/x.zip"},
            },
        },
    ],
)
def test_composer_repositories_of_local_files_stay(tmp_path: Path, repo: dict[str, object]) -> None:
    """An artifact repository (zips in the project): moved, a real build failed ("The
    "artifacts/acme-greeter-1.2.0.zip" file could not be downloaded")."""
    text = _composer_project(tmp_path, {"name": "a/b", "repositories": [repo]})
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("from the project" in m for m in explained)


@pytest.mark.parametrize(
    ("extra", "lock", "moved"),
    [
        ({"merge-plugin": {"include": ["modules/*/composer.json"]}}, False, False),
        ({"merge-plugin": {"include": ["modules/*/composer.json"]}}, True, True),
        ({"patches": {"acme/greeter": {"say hello": "patches/greeter.patch"}}}, True, False),
        ({"patches": {"acme/greeter": [{"description": "x", "url": "p/x.diff"}]}}, True, False),
        ({"patches": {"acme/greeter": {"x": "https://example.com/x.patch"}}}, True, True),
        ({"patches-file": "composer.patches.json"}, True, False),
    ],
)
def test_composer_plugins_reading_the_project_keep_the_install(
    tmp_path: Path, extra: dict[str, object], lock: bool, moved: bool
) -> None:
    """Built with Debian's composer 2.5.5: moved, merge-plugin without a lock left out the
    package a merged composer.json requires ("Class not found"; with the lock both images
    matched), and composer-patches 1.7.3 stopped with a TypeError on the missing patch.
    ``--no-plugins`` runs neither."""
    text = _composer_project(tmp_path, {"name": "a/b", "extra": extra})
    if not lock:
        (tmp_path / "composer.lock").unlink()
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained
    if not moved:
        assert any("composer.json's extra." in m for m in explained), explained
        quiet = text.replace("--no-dev", "--no-dev --no-plugins")
        assert _run(quiet, tmp_path)[0] != quiet


@pytest.mark.parametrize(
    ("path", "selects", "present", "lock", "moved"),
    [
        ("web/modules/contrib/{$name}", "type:drupal-module", "contrib/mymod/x", True, False),
        ("web/modules/contrib/{$name}", "type:drupal-module", "contrib/mymod/x", False, False),
        ("web/modules/contrib/{$name}", "type:drupal-module", "custom/x/x.module", True, True),
        ("web/modules/custom/{$name}", "type:drupal-custom-module", "custom/x/x", True, True),
        ("web/modules/custom/{$name}", "type:drupal-custom-module", "custom/x/x", False, False),
        ("modules/{$vendor}-{$name}", "acme/mymod", "../../modules/acme-mymod/x", True, False),
        ("modules/{$vendor}-{$name}", "vendor:other", "../../modules/acme-mymod/x", True, True),
        ("web/core", "type:drupal-module", "custom/x/x.module", True, True),  # web/core absent
        ("{$name}/", "type:drupal-module", "../../index.php", True, False),  # named by package
    ],
)
def test_composer_installer_paths_in_the_context_keep_the_install(
    tmp_path: Path, path: str, selects: str, present: str, lock: bool, moved: bool
) -> None:
    """composer/installers' ``installer-paths`` are install outputs like vendor/: built with
    Debian's composer 2.5.5, a stale web/modules/contrib/mymod of the context, copied after
    the moved install, replaced the module composer had installed ("stale" for "v1"). With a
    composer.lock only the paths a locked package is selected for count (a custom-module
    path with no locked custom module installs nothing there)."""
    extra = {"installer-paths": {path: [selects]}}
    locked = {"packages": [{"name": "acme/mymod", "type": "drupal-module"}]}
    text = _composer_project(tmp_path, {"name": "a/b", "extra": extra}, locked)
    if not lock:
        (tmp_path / "composer.lock").unlink()
    where = tmp_path / "web/modules" / present
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text("stale\n")
    out, _, explained = _run(text, tmp_path)
    assert (out != text) is moved, explained
    if not moved:
        assert any("is in the build context and not in .dockerignore" in m for m in explained)


def test_composer_lock_with_a_local_dist_stays(tmp_path: Path) -> None:
    lock = {"packages": [{"name": "a/x", "dist": {"type": "zip", "url": "artifacts/x.zip"}}]}
    text = _composer_project(tmp_path, {"name": "a/b"}, lock)
    assert not _run(text, tmp_path, unsafe=True)[1]
    remote = {"packages": [{"name": "a/x", "dist": {"type": "zip", "url": "https://x/y.zip"}}]}
    text = _composer_project(tmp_path, {"name": "a/b"}, remote)
    assert _run(text, tmp_path)[1]


@pytest.mark.parametrize("env", ["COMPOSER=composer.prod.json", "COMPOSER_VENDOR_DIR=libs/vendor"])
def test_composer_manifest_named_by_the_environment_stays(tmp_path: Path, env: str) -> None:
    """COMPOSER names another composer.json: the moved install failed ("Composer could not
    find a composer.json file in /app", built for real)."""
    text = _composer_project(tmp_path, {"name": "a/b"})
    text = text.replace("WORKDIR /app\n", f"ENV {env}\nWORKDIR /app\n")
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


@pytest.mark.parametrize(
    ("head", "run"),
    [
        ("", "export COMPOSER=composer.prod.json && composer install --no-dev"),
        ("ARG MANIFEST=composer.json\nENV COMPOSER=${MANIFEST}\n", "composer install --no-dev"),
    ],
)
def test_composer_manifest_named_in_the_run_or_by_a_build_argument_stays(
    tmp_path: Path, head: str, run: str
) -> None:
    """Round 15: `export COMPOSER=...` in the RUN or an ENV from a build argument names
    another composer.json than the one the moved install would copy."""
    text = _composer_project(tmp_path, {"name": "a/b"})
    text = text.replace("WORKDIR /app\n", f"{head}WORKDIR /app\n")
    text = re.sub(r"(?m)^RUN composer install.*$", f"RUN {run}", text)
    out, applied, _ = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied


@pytest.mark.parametrize(
    ("flags", "dump"),
    [
        ("--ignore-platform-req=php", "--ignore-platform-req=php"),
        ("--ignore-platform-reqs", "--ignore-platform-reqs"),
        ("--apcu-autoloader-prefix=shop", "--apcu-prefix=shop"),
    ],
)
def test_composer_dump_autoload_keeps_the_platform_flags(
    tmp_path: Path, flags: str, dump: str
) -> None:
    """Without `--ignore-platform-req=php` the dumped autoloader checked the PHP version the
    install ignored, and the container stopped ("Composer detected issues in your platform",
    built for real)."""
    text = _composer_project(tmp_path, {"name": "a/b"}).replace("--no-dev", f"--no-dev {flags}")
    out, applied, _ = _run(text, tmp_path)
    assert applied
    assert f"RUN composer dump-autoload --no-dev {dump}\n" in out


def _vite_app(tmp_path: Path) -> None:
    """A locked npm app whose build script runs vite."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "scripts": {"build": "vite build"}})
    )
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {}}))
    (tmp_path / "index.js").write_text("")


def test_cleanup_of_the_install_after_the_split_stays(tmp_path: Path) -> None:
    """`npm ci && npm run build && rm -rf node_modules`: split, node_modules stayed in the
    install layer and the image grew by 22 MB (built for real)."""
    _vite_app(tmp_path)
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && rm -rf node_modules\n"
    )
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("changes what the install wrote" in m for m in explained)
    assert _run(text.replace(" && rm -rf node_modules", ""), tmp_path)[1]


def test_an_install_rest_that_deletes_it_moves_in_a_stage_only_copied_from(
    tmp_path: Path,
) -> None:
    """The deleted files stay in a lower layer only of a stage that ships: a build stage
    whose output is copied out keeps none of its layers, so its install still moves (the
    bench app node-bundle-rmmodules, after its split, lost its cached install)."""
    _vite_app(tmp_path)
    build = (
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\n"
        "RUN npm ci && npm run build && rm -rf node_modules\n"
    )
    copied = build + "FROM nginx:1.25\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
    assert _run(copied, tmp_path)[1]
    dev = build + 'CMD ["npm", "start"]\n' + copied.removeprefix(build)  # --target build ships it
    assert not _run(dev, tmp_path, unsafe=True)[1]


@pytest.mark.parametrize(
    "rest, moves",
    [
        ("npm run build && chown -R app:app /home/app", False),
        ("npm run build && chmod -R g+w .", False),
        ("npm run build && npm prune --production", False),
        ("npm run build && rm -rf node_modules", False),
        ("npm run build && rm -rf node_modules/typescript", False),
        ("npm run build && rm -rf /tmp/* ~/.npm", True),
        ("npm run build && chown -R app:app /home/app/dist", True),
    ],
)
def test_an_install_whose_run_later_changes_what_it_wrote_keeps_the_order(
    tmp_path: Path, rest: str, moves: bool
) -> None:
    """Built for real (lochnguyen/prerender's ``npm install && chown -R prerender ...``): split
    off after the COPY, the chown re-wrote every file of node_modules into a new layer (+5 %);
    ``npm install && npm run build && npm prune --production`` (or ``rm -rf node_modules``)
    kept the dev dependencies in the install's layer (+2 %)."""
    _npm_context(tmp_path)
    text = f"FROM node:18\nWORKDIR /home/app\nCOPY . /home/app\nRUN npm install && {rest}\n"
    out, _, explained = _run(text, tmp_path)
    if moves:
        assert out != text, explained
    else:
        assert out == text
        assert any("changes what the install wrote" in m for m in explained), explained


@pytest.mark.parametrize(
    "head", ["ARG SUB\nWORKDIR /app${SUB:+/sub}", "ARG APP_HOME\nWORKDIR ${APP_HOME:-/app}"]
)
def test_a_workdir_from_a_build_argument_modifier_is_not_its_default(
    tmp_path: Path, head: str
) -> None:
    """``${SUB:+/sub}`` and ``${APP_HOME:-/app}`` change with ``--build-arg``: a bind target
    written as /app/package.json hid the manifest from ``npm ci`` (built: "can only install
    with an existing package-lock.json")."""
    _pip_context(tmp_path)
    out, _, _ = _run(PIP_APP.replace("WORKDIR /app", head), tmp_path)
    assert "/app/requirements.txt" not in out


def test_node_options_that_load_a_copied_file_keep_the_install_after_the_copy(
    tmp_path: Path,
) -> None:
    """npm is a node program: ``NODE_OPTIONS=--require ./tracing.js`` made the moved ``npm ci``
    fail with "Cannot find module './tracing.js'" (built)."""
    _npm_context(tmp_path)
    (tmp_path / "tracing.js").write_text("console.log('tracing')\n")
    text = (
        'FROM node:20\nENV NODE_OPTIONS="--require ./tracing.js"\nWORKDIR /app\nCOPY . .\n'
        'RUN npm ci\nCMD ["node", "server.js"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert not applied
    assert any("NODE_OPTIONS=./tracing.js" in m for m in explained)
    module = text.replace("./tracing.js", "dd-trace/init")  # a module name is no file
    assert _run(module, tmp_path)[1]


def test_a_stage_whose_from_a_build_argument_chooses_keeps_its_install(tmp_path: Path) -> None:
    """``FROM base-${ENV} AS final``: base-dev's WORKDIR is /usr/src/app, base-prod's /app;
    built for real with ``--build-arg ENV=dev``, the manifests bind-mounted at /app left
    ``npm ci`` in /usr/src/app without a package-lock.json."""
    _npm_context(tmp_path)
    text = (
        "ARG ENV=prod\n"
        "FROM node:20 AS base-prod\nWORKDIR /app\n"
        "FROM node:20 AS base-dev\nWORKDIR /usr/src/app\n"
        "FROM base-${ENV} AS final\nCOPY . .\nRUN npm ci\n"
        'CMD ["node", "server.js"]\n'
    )
    _stays(text, tmp_path, "may name another stage under --build-arg")


@pytest.mark.parametrize(
    "install",
    [
        "pip install -r requirements.txt $EXTRA_REQS",
        'pip install "${PIP_ARGS}" -r requirements.txt',
        "uv pip install --system -r requirements.txt $EXTRA_REQS",
    ],
)
def test_pip_words_a_variable_gives_keep_the_install_after_the_copy(
    tmp_path: Path, install: str
) -> None:
    """``--build-arg EXTRA_REQS="-r requirements-dev.txt"``: built for real, the moved
    install found no requirements-dev.txt ("Could not open requirements file")."""
    _pip_context(tmp_path)
    text = (
        'FROM python:3.12\nARG EXTRA_REQS=""\nARG PIP_ARGS=""\nWORKDIR /app\nCOPY . .\n'
        f'RUN {install}\nCMD ["python", "app.py"]\n'
    )
    _stays(text, tmp_path, "a build argument may make it name files")


@pytest.mark.parametrize(
    ("setting", "stays"),
    [
        ("ARG GOPROXY=file:///src/goproxy\nENV GOPROXY=${GOPROXY}\n", True),
        ("ARG GOFLAGS=-modfile=/src/go.alt.mod\n", True),
        ("ARG GOENV\n", True),  # a file, whatever the build passes
        # A proxy or flags argument is read from its default: builds pass a proxy's URL there
        ("ARG GOPROXY=https://proxy.golang.org,direct\nENV GOPROXY=${GOPROXY}\n", False),
        ("ARG GOPROXY\n", False),
        ("ARG GOFLAGS=-mod=mod\n", False),
    ],
)
def test_a_go_variable_a_build_argument_sets_keeps_the_build_after_the_copy(
    tmp_path: Path, setting: str, stays: bool
) -> None:
    """``GOPROXY=file:///src/goproxy``: built for real, the added `go mod download` ran before
    the COPY brought the proxy ("no such file or directory"). A variable that names a file
    stays unknown whatever its default; a proxy, index or flags variable counts when its
    default names a path (``--build-arg GOPROXY=file://...`` over a URL default is a known
    limitation)."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = (
        f"FROM golang:1.22 AS build\n{setting}WORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/app .\n"
    )
    if stays:
        _stays(text, tmp_path, "a build argument may set it")
    else:
        assert "go mod download" in _run(text, tmp_path)[0]


def test_a_pip_variable_a_build_argument_sets_keeps_the_install_after_the_copy(
    tmp_path: Path,
) -> None:
    """``ARG PIP_FIND_LINKS=""`` may become ``/app/wheels``, a folder of the copied tree."""
    _pip_context(tmp_path)
    text = (
        'FROM python:3.12\nARG PIP_FIND_LINKS=""\nWORKDIR /app\nCOPY . .\n'
        'RUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    _stays(text, tmp_path, "PIP_FIND_LINKS (a build argument may set it")


@pytest.mark.parametrize(
    "files, reason",
    [
        # pnpm 10 reads its settings from pnpm-workspace.yaml (no `packages`: one project)
        ({"pnpm-workspace.yaml": "patchedDependencies:\n  ms@2.1.3: patches/ms@2.1.3.patch\n"}, "pnpm-workspace.yaml patchedDependencies"),
        # the lock records the patches the install applies
        ({"pnpm-lock.yaml": "lockfileVersion: '9.0'\n\npatchedDependencies:\n  ms@2.1.3:\n    hash: abc\n    path: patches/ms@2.1.3.patch\n"}, "pnpm-lock.yaml patchedDependencies"),
        ({"package.json": '{"name": "x", "dependencies": {"ms": "2.1.3"}, "patchedDependencies": {"ms@2.1.3": "patches/ms@2.1.3.patch"}}'}, "package.json patchedDependencies"),
    ],
)  # fmt: skip
def test_patched_dependencies_declared_outside_package_json_keep_the_order(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    """Built for real: pnpm 10 with ``patchedDependencies`` in pnpm-workspace.yaml; the moved
    install got the three manifests without patches/ ("ENOENT: no such file or directory,
    open '/app/patches/ms@2.1.3.patch'"), and so did the split's prod-deps stage."""
    lock = "lockfileVersion: '9.0'\n"
    base = {
        "package.json": '{"name": "x", "dependencies": {"ms": "2.1.3"}}',
        "pnpm-lock.yaml": lock,
    }
    for name, body in (base | files | {"patches/ms@2.1.3.patch": "--- a\n"}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = "FROM node:20\nRUN npm i -g pnpm@10\nWORKDIR /app\nCOPY . .\n"
    text += 'RUN pnpm install --frozen-lockfile\nCMD ["node", "i.js"]\n'
    _stays(text, tmp_path, f"{reason} needs the patch files")
    split = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"split-stages"})))
    assert "prod-deps" not in split.output, split.output
    assert any(reason in f.message for f in split.applied), [f.message for f in split.applied]


@pytest.mark.parametrize(
    "rc, cache",
    [
        ("nodeLinker: node-modules\nenableGlobalCache: false\n", ".yarn/cache"),
        ("nodeLinker: node-modules\ncacheFolder: ./deps/yarn\n", "deps/yarn"),
    ],
)
def test_a_yarn_cache_in_the_context_keeps_the_install_after_the_copy(
    tmp_path: Path, rc: str, cache: str
) -> None:
    """Built for real (yarn 4, zero-installs): the moved install copied .yarn/ with the
    manifests, and COPY . . brought the committed .yarn/cache again, so the image held it
    twice (360,492,456 -> 407,802,532 bytes). Out of the context (.dockerignore) it moves,
    reading the manifests from mounts (corepack runs the pinned yarn 4)."""
    lock = '__metadata:\n  version: 8\n\n"ms@npm:^2.1.3":\n  version: 2.1.3\n'
    files = {
        "package.json": '{"name": "x", "packageManager": "yarn@4.1.1", "dependencies": {"ms": "^2.1.3"}}',
        "yarn.lock": lock,
        ".yarnrc.yml": rc,
        f"{cache}/ms-npm-2.1.3-81ff3cfac1-d924b57e73.zip": "PK",
        "index.js": "require('ms')\n",
    }
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = "FROM node:18-slim\nWORKDIR /app\nRUN corepack enable\nCOPY . .\n"
    text += 'RUN yarn install --immutable\nCMD ["node", "index.js"]\n'
    _stays(text, tmp_path, f"{cache} (a package cache in the build context) would be in")
    (tmp_path / ".dockerignore").write_text(f"{cache}\n")
    out = _run(text, tmp_path)[0]
    assert "--mount=type=bind,source=yarn.lock,target=/app/yarn.lock,rw" in out, out
    assert out.index("yarn install") < out.index("COPY . .") and "COPY package" not in out


@pytest.mark.parametrize(
    "files, install, cache",
    [
        ({".yarnrc": 'cache-folder ".yarn-cache"\n', "yarn.lock": "# yarn lockfile v1\n"}, "yarn install --frozen-lockfile", ".yarn-cache"),
        ({".npmrc": "cache=.npm-cache\n", "package-lock.json": '{"lockfileVersion": 3, "packages": {"": {}}}'}, "npm ci", ".npm-cache"),
        ({"pnpm-lock.yaml": "lockfileVersion: '6.0'\n"}, "pnpm install --frozen-lockfile --store-dir=.yarn-cache", ".yarn-cache"),
    ],
)  # fmt: skip
def test_a_project_cache_folder_in_the_context_keeps_the_install_after_the_copy(
    tmp_path: Path, files: dict[str, str], install: str, cache: str
) -> None:
    """The rule of the zero-installs build, for a cache folder the install is told to keep in
    the project (a CI job's ``--cache-folder .yarn-cache`` left in the checkout): the moved
    install fills it and COPY . . brings the context's copy again."""
    base = {"package.json": '{"name": "x", "dependencies": {"ms": "2.1.3"}}', "index.js": ""}
    for name, body in (base | files | {f"{cache}/ms-2.1.3.tgz": "x"}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    text = f'FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD ["node", "index.js"]\n'
    _stays(text, tmp_path, f"{cache} (a package cache in the build context) would be in")
    (tmp_path / ".dockerignore").write_text(f"{cache}\n")
    assert _run(text, tmp_path)[0] != text


@pytest.mark.parametrize("rc", [".yarnrc", ".npmrc", ".yarnrc.yml"])
def test_a_yarn_install_below_a_folder_with_yarn_settings_stays_after_the_copy(
    tmp_path: Path, rc: str
) -> None:
    """yarn reads its settings files in every folder above the working directory: built for
    real, ``cd frontend && yarn install`` moved before ``COPY . .`` lacked the root's
    ``--install.ignore-engines true`` and failed the engines check. npm reads the project's
    own .npmrc only, so its install still moves."""
    package = '{"name": "web", "devDependencies": {"ms": "2.1.3"}}'
    lock = '# yarn lockfile v1\n\n\nms@2.1.3:\n  version "2.1.3"\n'
    _write_files(
        tmp_path,
        {"frontend/package.json": package, "frontend/yarn.lock": lock, rc: "x true\n", "a.py": ""},
    )
    text = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        'RUN cd frontend && yarn install --frozen-lockfile\nCMD ["python", "a.py"]\n'
    )
    _stays(text, tmp_path, f"yarn reads {rc} in a folder above the project")
    (tmp_path / "frontend" / "yarn.lock").unlink()
    (tmp_path / "frontend" / "package-lock.json").write_text('{"lockfileVersion": 3}')
    npm = text.replace("yarn install --frozen-lockfile", "npm ci")
    out, applied, _ = _run(npm, tmp_path)
    assert out.index("npm ci") < out.index("COPY . ."), (out, applied)


def _write_files(root: Path, files: dict[str, str]) -> None:
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)


@pytest.mark.parametrize(
    "build",
    ["go build -o /bin/app .", "go mod download && go build -o /bin/app ."],
)
def test_go_fetch_reads_go_mod_and_go_sum_from_read_write_mounts(
    tmp_path: Path, build: str
) -> None:
    """``go mod download`` rewrites go.sum in place when it lacks a hash ("go: updating
    go.sum": read-only, the real build failed; read-write, it built), so the added or moved
    fetch reads go.mod and go.sum from read-write bind mounts: copied, they were in the image
    twice."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.19\n")
    (tmp_path / "go.sum").write_text("")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = f"FROM golang:1.19\nWORKDIR /app\nCOPY . .\nRUN {build}\n"
    out, applied, _ = _run(text, tmp_path)
    assert applied and "source=go.sum,target=/app/go.sum,rw " in out, out
    assert "COPY go.mod" not in out and "mounted" in applied[0]


def test_go_download_that_completes_go_sum_is_unsafe(tmp_path: Path) -> None:
    """``go mod download`` adds a required module's missing go.mod hash to go.sum, and the
    ``go build`` after it needs it; moved before ``COPY . .``, the download's write was lost
    (discarded by the read-write mount, or overwritten by the full COPY) and the build failed
    with "missing go.sum entry" where the original built (golang:1.19, built for real). A
    go.sum with every required module's go.mod hash keeps the safe move."""
    go_mod = "module example.com/app\n\ngo 1.19\n\nrequire example.com/dep v1.0.0\n"
    (tmp_path / "go.mod").write_text(go_mod)
    (tmp_path / "go.sum").write_text("example.com/dep v1.0.0 h1:l1Im2fK1zhhSrp6BkLPgP3rZes=\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = "FROM golang:1.19\nWORKDIR /app\nCOPY . .\nRUN go mod download\nRUN go build .\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("adds example.com/dep v1.0.0's go.mod hash to go.sum" in e for e in explained)
    (tmp_path / "go.sum").write_text(
        "example.com/dep v1.0.0 h1:l1Im2fK1zhhSrp6BkLPgP3rZes=\n"
        "example.com/dep v1.0.0/go.mod h1:fGPp69Hit/toBUWE+Ldh2b+Bo3=\n"
    )
    out, applied, _ = _run(text, tmp_path)
    assert applied and "source=go.sum,target=/app/go.sum,rw " in out, out


UV_LOCK = """version = 1
requires-python = ">=3.11"

[[package]]
name = "six"
version = "1.16.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "my-app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "six" }]

[package.metadata]
requires-dist = [{ name = "six", specifier = "==1.16.0" }]
"""


@pytest.mark.parametrize(
    ("dependencies", "safe"),
    [('["six==1.16.0"]', True), ('["Six>=1.16", "idna==3.7"]', False)],
)
def test_uv_sync_of_a_stale_lock_is_unsafe(tmp_path: Path, dependencies: str, safe: bool) -> None:
    """A plain ``uv sync`` rewrites a uv.lock that lists other dependencies than
    pyproject.toml; moved before ``COPY . .`` the write was lost, and the image's ``uv run``
    locked again at start (offline: "failed to lookup address information"; the original
    answered), built for real with uv 0.4.30. ``--locked`` never writes, so it stays safe."""
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "My_App"\nversion = "0.1.0"\ndependencies = {dependencies}\n'
    )
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(PY_APP.format("uv sync --no-install-project"), tmp_path)
    assert bool(applied) is safe, (applied, explained)
    if not safe:
        assert any("rewrites uv.lock, which lists other dependencies" in e for e in explained)
        locked = PY_APP.format("uv sync --locked --no-install-project")
        assert _run(locked, tmp_path)[1]


@pytest.mark.parametrize(
    ("files", "text", "mount"),
    [
        (
            {"package.json": '{"name": "a"}\n', "bun.lockb": "x", "index.js": "1\n"},
            "FROM oven/bun:1\nWORKDIR /app\nCOPY . .\nRUN bun install --frozen-lockfile\n",
            "source=bun.lockb,target=/app/bun.lockb \\",
        ),
        (
            {"Gemfile": 'source "https://rubygems.org"\ngem "rack"\n', "app.rb": "1\n"},
            "FROM ruby:3.3-slim\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
            "source=Gemfile.lock,target=/app/Gemfile.lock,rw \\",
        ),
        (
            {"composer.json": '{"require": {"php": ">=8.0"}}', "index.php": "<?php\n"},
            "FROM composer:2\nWORKDIR /app\nCOPY . .\nRUN composer install --no-dev\n",
            "source=composer.lock,target=/app/composer.lock \\",
        ),
        (
            {
                "Cargo.toml": '[package]\nname = "a"\nversion = "0.1.0"\n',
                "src/main.rs": "fn main() {}\n",
            },
            'FROM rust:1.75\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\nCMD ["cargo", "run"]\n',
            "source=Cargo.lock,target=/app/Cargo.lock,rw \\",
        ),
    ],
    ids=["bun-frozen", "bundler", "composer", "cargo-fetch"],
)
def test_more_installs_read_manifests_from_mounts_as_they_write_them(
    tmp_path: Path, files: dict[str, str], text: str, mount: str
) -> None:
    """Built for real (a nineteenth round): copied, the manifests made the image larger by
    their size (bun.lockb +20,701 bytes, Gemfile + lock +263, composer.json + lock +723,
    Cargo.toml + lock +225 where cargo runs at start). bun's frozen install and ``composer
    install`` never write them (read-only mounts built, to the byte the original's size);
    Bundler and ``cargo fetch`` rewrite a stale lock in place (EROFS on a read-only mount, a
    read-write one built)."""
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(body)
    first = next(iter(files))
    extra = {
        "Gemfile": ("Gemfile.lock", "x\n"),
        "composer.json": ("composer.lock", '{"packages": []}\n'),
        "Cargo.toml": ("Cargo.lock", "x\n"),
    }
    if first in extra:
        (tmp_path / extra[first][0]).write_text(extra[first][1])
    out, applied, _ = _run(text, tmp_path)
    assert applied and mount in out, out
    assert "mounted" in applied[0] and f"COPY {first}" not in out, out


@pytest.mark.parametrize(
    ("manager", "lock", "text"),
    [
        ("bun", "bun.lockb", "FROM oven/bun:1\nWORKDIR /app\nCOPY . .\nRUN bun install\n"),
        (
            "pnpm",
            "pnpm-lock.yaml",
            "FROM node:20-slim\nRUN npm i -g pnpm@9\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n",
        ),
    ],
)
def test_a_plain_hard_linking_install_copies_its_manifests_unsafely(
    tmp_path: Path, manager: str, lock: str, text: str
) -> None:
    """bun's and pnpm's plain installs rename a new lockfile over a stale one (EBUSY on a bind
    mount), so their manifests are copied; both hard-link node_modules to their cache or
    store, so its cache mount saves nothing to offset the second copy (real images grew by
    20,701 bytes with bun, 20,980 with pnpm in the eighteenth round)."""
    (tmp_path / "package.json").write_text('{"name": "a"}\n')
    (tmp_path / lock).write_text("x\n")
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any(f"{manager} hard-links the installed files" in m for m in explained), explained


def test_a_copied_yarn_folder_is_unsafe(tmp_path: Path) -> None:
    """Yarn Berry's .yarn/ (its 2.75 MB release) copied for the install and again with the
    sources: real images grew by 2,747,188 bytes (global cache on a cache mount, one package)
    and 2,778,107 (``enableGlobalCache: false``). A .yarn/ that .dockerignore empties moves.
    (``--immutable`` reads them from mounts instead: see above.)"""
    (tmp_path / "package.json").write_text('{"name": "a", "packageManager": "yarn@4.5.0"}\n')
    (tmp_path / "yarn.lock").write_text("__metadata:\n  version: 8\n")
    (tmp_path / ".yarnrc.yml").write_text(
        "yarnPath: .yarn/releases/yarn-4.5.0.cjs\nnodeLinker: node-modules\n"
    )
    (tmp_path / ".yarn/releases").mkdir(parents=True)
    (tmp_path / ".yarn/releases/yarn-4.5.0.cjs").write_text("//\n")
    text = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN yarn install\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("would hold .yarn/ twice" in m for m in explained), explained
    (tmp_path / ".dockerignore").write_text(".yarn\n")
    out, applied, _ = _run(text, tmp_path, mounts=True)
    assert applied and "COPY package.json yarn.lock .yarnrc.yml ./" in out, out


@pytest.mark.parametrize(
    "install",
    [
        "bundle config set --local path vendor/bundle && bundle install",
        "bundle config set path vendor/bundle && bundle install",
        "bundle config path vendor/bundle && bundle install",
        "bundle config --delete without && bundle install",
        "bundle install --without development",
    ],
)
def test_a_bundle_config_the_install_writes_keeps_the_order(tmp_path: Path, install: str) -> None:
    """With .bundle/config in the context, a RUN that writes it (``bundle config set``
    with ``--local`` or without a scope, which Bundler 2 makes local inside an app; a
    remembered ``bundle install`` option) lost its settings when the full COPY brought the
    context's back: real images failed at start (Bundler::GemNotFound), ``--local`` and,
    nineteenth round's second pass, ``bundle config set path vendor/bundle``."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter"\n')
    (tmp_path / ".bundle").mkdir()
    (tmp_path / ".bundle/config").write_text('---\nBUNDLE_WITHOUT: "test"\n')
    text = f"FROM ruby:3.3-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    _stays(text, tmp_path, "writes .bundle/config, which the full COPY would bring back")
    global_ = text.replace(install, "bundle config set --global without test && bundle install")
    assert _run(global_, tmp_path, unsafe=True)[1], "--global: ~/.bundle/config"
    (tmp_path / ".bundle/config").unlink()
    (tmp_path / ".bundle").rmdir()
    out, applied, _ = _run(text, tmp_path)
    assert applied and "source=Gemfile,target=/app/Gemfile,rw" in out, out


def test_a_copied_bundle_folder_is_unsafe(tmp_path: Path) -> None:
    """With .bundle/config in the context the manifests are copied (a folder), and nothing
    offsets the second copy: built (Bundler 2.3, gems from a ``file://`` repository), the
    image was 273 bytes larger than the original. A .bundle/ that .dockerignore empties
    moves."""
    _gem_project(tmp_path, 'source "https://rubygems.org"\ngem "greeter"\n')
    (tmp_path / ".bundle").mkdir()
    (tmp_path / ".bundle/config").write_text('---\nBUNDLE_WITHOUT: "test"\n')
    text = "FROM ruby:3.3-slim\nWORKDIR /app\nCOPY . .\nRUN bundle install\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any("would hold .bundle/ twice" in m for m in explained), explained
    assert "COPY .bundle/ .bundle/" in _run(text, tmp_path, unsafe=True)[0]
    (tmp_path / ".dockerignore").write_text(".bundle\n")
    assert _run(text, tmp_path)[1]


@pytest.mark.parametrize(
    ("install", "mode"),
    [("pdm install --prod --frozen-lockfile", ""), ("pdm install --prod", ",rw")],
)
def test_pdm_installs_read_manifests_from_mounts(tmp_path: Path, install: str, mode: str) -> None:
    """Built for real (PDM 2.12, a 27 KB pdm.lock): copied, pyproject.toml and pdm.lock made
    the image 27,402 bytes larger (PDM's cache mount saved nothing). ``--frozen-lockfile``
    never writes the lock (read-only mounts built at the original's size); the plain install
    rewrites a stale one in place (a read-write mount built)."""
    pyproject = '[project]\nname = "app"\nversion = "0.1"\n\n[tool.pdm]\ndistribution = false\n'
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "pdm.lock").write_text("[metadata]\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, _ = _run(PY_APP.replace("poetry uv", "pdm").format(install), tmp_path)
    assert applied and f"source=pdm.lock,target=/app/pdm.lock{mode} " in out, out
    assert "COPY pyproject.toml" not in out


@pytest.mark.parametrize(
    "lock",
    [
        '{"packages": 5}',
        '{"packages-dev": {"a": 1}}',
        "[1]",
        '{"packages": [' + " " * (1 << 20) + "]}",
    ],
)
def test_composer_lock_that_cannot_be_read_stays(tmp_path: Path, lock: str) -> None:
    """A composer.lock whose packages are not a list was an internal error (`'int' object is
    not iterable`), and one over the manifest limit counted as locking nothing: what it locks
    is unknown (a local dist needs the sources), so the install stays where it is."""
    text = _composer_project(tmp_path, {"name": "a/b"})
    (tmp_path / "composer.lock").write_text(lock)
    out, applied, explained = _run(text, tmp_path, unsafe=True)
    assert out == text and not applied
    assert any("composer.lock could not be read" in m for m in explained)


@pytest.mark.parametrize(
    "manifest, text, install",
    [
        ("go.mod", "module x\n\ngo 1.21\n\nreplace example.com/lib => ./lib\n", "go mod download"),
        ("pom.xml", "<project><modules><module>core</module></modules></project>\n", "mvn -B package"),
        ("Cargo.toml", '[package]\nname = "a"\n\n[dependencies]\nlib = { path = "lib" }\n', "cargo build --release"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shape", ["large", "loop"])
def test_a_manifest_that_cannot_be_read_is_unknown_not_empty(
    tmp_path: Path, manifest: str, text: str, install: str, shape: str
) -> None:
    """A go.mod padded past the 1 MiB manifest limit read as empty, so its local `replace`
    (or a pom's modules, a crate's path dependency) was not seen and the install moved
    before `COPY . .`, where the replaced folder is missing. Unreadable is unknown."""
    image = {
        "go.mod": "golang:1.22",
        "pom.xml": "maven:3-eclipse-temurin-17",
        "Cargo.toml": "rust:1.75",
    }
    dockerfile = f"FROM {image[manifest]}\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    (tmp_path / manifest).write_text(text)
    assert _run(dockerfile, tmp_path)[0] == dockerfile  # the hazard, read
    if shape == "large":
        (tmp_path / manifest).write_text(text + ("#" if manifest != "go.mod" else "//") * (1 << 20))
        if manifest == "pom.xml":
            (tmp_path / manifest).write_text(text + "<!--" + " " * (1 << 20) + "-->\n")
    else:
        (tmp_path / manifest).unlink()
        (tmp_path / manifest).symlink_to(manifest)
    out, applied, explained = _run(dockerfile, tmp_path)
    assert out == dockerfile and not applied
    if shape == "large":  # (a link loop is no file the install can read: declined before)
        assert any(f"{manifest} is over 1 MiB" in m for m in explained)


def test_an_included_requirements_file_that_cannot_be_read_is_not_called_missing(
    tmp_path: Path,
) -> None:
    """`-r base.txt` where base.txt is over 1 MiB was declined as "base.txt is not in the
    build context": the reason says it cannot be read."""
    (tmp_path / "requirements.txt").write_text("-r base.txt\nflask\n")
    (tmp_path / "base.txt").write_text("requests\n" + "#\n" * (1 << 19))
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("base.txt is over 1 MiB" in m for m in explained)


@pytest.mark.parametrize(
    ("files", "text"),
    [
        (  # yarn 1 as the node user, manifests copied for --chown: cache-mount leaves it alone
            {"package.json": '{"name": "a"}\n', "yarn.lock": "# yarn lockfile v1\n"},
            "FROM node:18-slim\nWORKDIR /app\nRUN chown node /app\nUSER node\n"
            "COPY --chown=node . .\nRUN yarn install --frozen-lockfile\n",
        ),
        (  # pip --user as a user whose home msdfix cannot know
            {"requirements.txt": "six==1.16.0\n"},
            "FROM python:3.11-slim\nRUN useradd -m app\nWORKDIR /home/app/src\nUSER app\n"
            "COPY --chown=app . .\nRUN pip install --user -r requirements.txt\n",
        ),
        (  # PIP_NO_CACHE_DIR: pip keeps no cache, so cache-mount mounts none
            {"requirements.txt": "six==1.16.0\n"},
            "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=1\nWORKDIR /app\n"
            "COPY --chown=1000 . .\nRUN pip install -r requirements.txt\n",
        ),
        (  # dotnet restore in the image that runs `dotnet run`: nuget's store stays in it
            {"app.csproj": '<Project Sdk="Microsoft.NET.Sdk"></Project>\n'},
            "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /app\nCOPY . .\n"
            'RUN dotnet restore\nCMD ["dotnet", "run"]\n',
        ),
    ],
)
def test_copied_manifests_without_a_safe_cache_mount_are_unsafe(
    tmp_path: Path, files: dict[str, str], text: str
) -> None:
    """Manifests copied for the install are in the image twice; only the download cache that
    cache-mount's safe mount takes out of the image offsets that. Where cache-mount leaves
    the install RUN alone (or rates its mount unsafe), the move is unsafe: real rewrites were
    larger (yarn 1 as the node user +382 bytes, pip --user +12 bytes, pip with
    PIP_NO_CACHE_DIR +12 bytes, same output)."""
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("no safe cache mount takes" in m for m in explained), explained


def test_copied_manifests_with_a_safe_cache_mount_stay_safe(tmp_path: Path) -> None:
    """The same copy, rated safe where cache-mount mounts the install's download cache."""
    (tmp_path / "app.csproj").write_text('<Project Sdk="Microsoft.NET.Sdk"></Project>\n')
    text = (
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /app\nCOPY . .\n"
        'RUN dotnet restore && dotnet build\nCMD ["dotnet", "bin/app.dll"]\n'
    )
    out, applied, _ = _run(text, tmp_path, mounts=True)
    assert "COPY app.csproj ./\nRUN" in out and applied, out


@pytest.mark.parametrize(
    "how",
    ["--select reorder-copy", "# msdfix: ignore[cache-mount]", "# msdfix: ignore[cache-mount] why"],
)
def test_copied_manifests_count_only_on_mounts_this_run_writes(tmp_path: Path, how: str) -> None:
    """``--select reorder-copy`` (or a pragma turning cache-mount off at the install) adds no
    cache mount, so nothing offsets the second copy of the manifests: the copy had been rated
    safe on a mount the output does not have. A "[" no "]" closes is no pragma."""
    (tmp_path / "app.csproj").write_text('<Project Sdk="Microsoft.NET.Sdk"></Project>\n')
    run = 'RUN dotnet restore && dotnet build\nCMD ["dotnet", "bin/app.dll"]\n'
    pragma = "" if how.startswith("--") else how + "\n"
    text = f"FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /app\nCOPY . .\n{pragma}{run}"
    out, applied, explained = _run(text, tmp_path, mounts=not how.startswith("--"))
    assert out == text and not applied, out
    assert any("no safe cache mount takes" in m for m in explained), explained
    typo = text.replace("ignore[cache-mount]", "ignore[cache-mount") if pragma else text
    out, applied, _ = _run(typo, tmp_path, mounts=True)
    assert "COPY app.csproj ./\n" in out and applied, out


def test_an_added_fetch_with_copied_manifests_and_no_safe_cache_mount_is_unsafe(
    tmp_path: Path,
) -> None:
    """The fetch reorder-copy adds before a build (``go mod download``) with manifests copied
    (``--chown``): where cache-mount cannot mount the build's module cache (a user whose uid
    and home are unknown), nothing offsets the second go.mod (a real rewrite was 18 bytes
    larger, same output); as root, with the cache mounted, the move stays safe."""
    (tmp_path / "go.mod").write_text("module a\n\ngo 1.19\n")
    (tmp_path / "go.sum").write_text("")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    text = (
        "FROM golang:1.19\nRUN useradd -m app\nUSER app\nWORKDIR /home/app/src\n"
        'COPY --chown=app . .\nRUN go build -o /home/app/a .\nCMD ["/home/app/a"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("no safe cache mount takes go's" in m for m in explained), explained
    root = (
        'FROM golang:1.19\nWORKDIR /src\nCOPY --chown=1000 . .\nRUN go build -o /a .\nCMD ["/a"]\n'
    )
    out, applied, _ = _run(root, tmp_path, mounts=True)
    assert applied and "COPY --chown=1000 go.mod go.sum ./" in out, out


@pytest.mark.parametrize(
    ("env", "flag", "safe"),
    [
        ("", "", False),
        ("ENV UV_LINK_MODE=hardlink\n", "", False),
        ("ENV UV_LINK_MODE=copy\n", "", True),
        ("", " --link-mode=copy", True),
        ("ENV UV_LINK_MODE=copy\n", " --link-mode hardlink", False),
    ],
)
def test_copied_uv_manifests_are_unsafe_where_uv_hard_links_its_cache(
    tmp_path: Path, env: str, flag: str, safe: bool
) -> None:
    """uv's Linux default link mode is ``hardlink``: the venv and the cache share their files,
    so the cache mount saves only uv's metadata. Built (uv 0.4.30, ``COPY --chown=1000:1000
    . .``, ``uv sync --frozen --no-install-project``, a 15,490-byte uv.lock): the mounted
    rewrite's copied manifests made the image 7,347 bytes larger; with ``UV_LINK_MODE=copy``
    the cache holds a second copy of the packages, and the rewrite was 3,518,257 bytes
    smaller."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "a"\nversion = "0"\n')
    (tmp_path / "uv.lock").write_text("version = 1\n")
    text = (
        f"FROM python:3.12-slim\nRUN pip install uv\n{env}WORKDIR /app\n"
        f"COPY --chown=1000:1000 . .\nRUN uv sync --frozen --no-install-project{flag}\n"
    )
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert bool(applied) is safe, explained
    assert safe or any("uv hard-links the installed files" in m for m in explained), explained
    assert "COPY --chown=1000:1000 pyproject.toml uv.lock ./" in _run(text, tmp_path, True)[0]


@pytest.mark.parametrize(
    "install", ["pip install -r requirements.txt", "python -m pip install -r requirements.txt"]
)
def test_copied_pip_requirements_are_unsafe_as_pip_caches_by_the_index_headers(
    tmp_path: Path, install: str
) -> None:
    """pip's HTTP cache keeps a download only where the index's response allows it
    (Cache-Control): built against a PyPI mirror that sent no caching headers, pip as root
    after ``COPY --chown=app:app . .`` left ~/.cache/pip empty, so the mounted rewrite's
    copied requirements.txt made the image 22 bytes larger (same output)."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    text = (
        "FROM python:3.12-slim\nRUN useradd -m app\nWORKDIR /app\n"
        f"COPY --chown=app:app . .\nRUN {install}\nUSER app\n"
    )
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert not applied and out.count("COPY") == text.count("COPY"), out
    assert any("HTTP caching headers" in m for m in explained), explained
    assert "COPY --chown=app:app requirements.txt ./" in _run(text, tmp_path, True)[0]


def test_uv_pip_with_copied_requirements_is_read_as_uv(tmp_path: Path) -> None:
    """``uv pip install`` is uv's install (it hard-links its cache), not pip's."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    text = (
        "FROM python:3.12-slim\nRUN pip install uv\nWORKDIR /app\n"
        "COPY --chown=1000 . .\nRUN uv pip install --system -r requirements.txt\n"
    )
    explained = _run(text, tmp_path)[2]
    assert any("uv hard-links" in m for m in explained), explained


@pytest.mark.parametrize(
    ("lock", "flags", "safe"),
    [
        ({"packages": [], "packages-dev": []}, "", False),
        ({"packages": [], "packages-dev": [{"name": "x/y"}]}, " --no-dev", False),
        ({"packages": [], "packages-dev": [{"name": "x/y"}]}, "", True),
        ({"packages": [{"name": "x/y"}], "packages-dev": []}, " --no-dev", True),
    ],
)
def test_copied_composer_manifests_with_nothing_locked_are_unsafe(
    tmp_path: Path, lock: dict[str, object], flags: str, safe: bool
) -> None:
    """A composer.lock that locks no package the install takes downloads nothing, so the
    cache mount has nothing to take out of the image. Built (no packages, ``COPY
    --chown=www-data:www-data . .``, ``composer install --no-dev``): the copied
    composer.json and composer.lock made the rewrite 726 bytes larger, same output."""
    (tmp_path / "composer.json").write_text('{"name": "a/b", "require": {"php": ">=8.0"}}\n')
    (tmp_path / "composer.lock").write_text(json.dumps(lock) + "\n")
    text = (
        "FROM composer:2\nWORKDIR /app\nCOPY --chown=www-data:www-data . .\n"
        f"RUN composer install --no-interaction{flags}\n"
    )
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert bool(applied) is safe, explained
    assert safe or any("locks no package" in m for m in explained), explained
    assert (
        "COPY --chown=www-data:www-data composer.json composer.lock ./"
        in _run(text, tmp_path, True)[0]
    )


def test_copied_pipfiles_are_unsafe_as_pipenv_caches_through_pip(tmp_path: Path) -> None:
    """pipenv downloads through pip's HTTP cache: built against a mirror that sent no
    caching headers (pipenv 2024.0.1, ``COPY --chown=1000:1000 . .``, ``pipenv install
    --deploy --system``), the copied Pipfile and Pipfile.lock made the rewrite 1,375 bytes
    larger, same output."""
    (tmp_path / "Pipfile").write_text('[packages]\nsix = "==1.16.0"\n')
    (tmp_path / "Pipfile.lock").write_text('{"_meta": {}, "default": {}, "develop": {}}\n')
    text = (
        "FROM python:3.12-slim\nRUN pip install pipenv\nWORKDIR /app\n"
        "COPY --chown=1000:1000 . .\nRUN pipenv install --deploy --system\n"
    )
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert not applied and out.count("COPY") == text.count("COPY"), out
    assert any("pipenv keeps a download" in m for m in explained), explained


def test_copied_pdm_manifests_are_unsafe_as_pdm_caches_by_the_index_headers(
    tmp_path: Path,
) -> None:
    """pdm's download cache (``~/.cache/pdm/http``) follows the index's caching headers:
    built against a mirror that sent none (pdm 2.12.4, ``COPY --chown=1000:1000 . .``,
    ``pdm install --prod --frozen-lockfile``), it stayed empty and the copied pyproject.toml
    and pdm.lock made the rewrite 27,402 bytes larger, same output."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "a"\nversion = "0"\ndependencies = ["click"]\n'
        "[tool.pdm]\ndistribution = false\n"
    )
    (tmp_path / "pdm.lock").write_text("[metadata]\n")
    text = (
        "FROM python:3.12-slim\nRUN pip install pdm\nWORKDIR /app\n"
        "COPY --chown=1000:1000 . .\nRUN pdm install --prod --frozen-lockfile\n"
    )
    out, applied, explained = _run(text, tmp_path, mounts=True)
    assert not applied and out.count("COPY") == text.count("COPY"), out
    assert any("pdm keeps a download" in m for m in explained), explained


_PAD = "x" * (1 << 20)  # past read_text's 1 MiB


def test_a_large_stale_package_lock_is_not_moved_safely(tmp_path: Path) -> None:
    """A package-lock.json over 1 MiB (a common size) was read as none, so a root behind
    package.json went unseen and ``npm install``, which rewrites it, moved safely before the
    COPY that puts the stale copy back. Locks are read up to 64 MiB; one msdfix cannot read
    (a link loop) makes the move unsafe."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "a", "dependencies": {"ms": "2.1.2"}})
    )
    lock = {"lockfileVersion": 3, "packages": {"": {"name": "a", "dependencies": {"ms": "2.1.3"}}}}
    (tmp_path / "package-lock.json").write_text(json.dumps({**lock, "x": _PAD}))
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "s.js"]\n'
    out, _, explained = _run(text, tmp_path)
    assert out == text
    assert any("the install rewrites package-lock.json" in m for m in explained), explained
    (tmp_path / "package-lock.json").unlink()
    (tmp_path / "package-lock.json").symlink_to("package-lock.json")
    out, _, explained = _run(text, tmp_path)
    assert out == text
    assert any(
        "package-lock.json links outside the build context or in a loop, so whether the "
        "install rewrites it is unknown" in m
        for m in explained
    ), explained


def test_a_large_go_sum_missing_a_hash_is_not_moved_safely(tmp_path: Path) -> None:
    """A go.sum over 1 MiB (a large module's) was read as none, so the go.mod hash the
    download adds went unseen and the move was safe: the full COPY put the old go.sum back
    and ``go build`` failed with "missing go.sum entry"."""
    go_mod = "module example.com/app\n\ngo 1.19\n\nrequire example.com/dep v1.0.0\n"
    (tmp_path / "go.mod").write_text(go_mod)
    filler = "".join(f"example.com/m{i} v1.0.0 h1:{'a' * 44}=\n" for i in range(20000))
    (tmp_path / "go.sum").write_text(filler + "example.com/dep v1.0.0 h1:l1Im2fK1zhhSrp6BkL=\n")
    assert (tmp_path / "go.sum").stat().st_size > 1 << 20
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    text = "FROM golang:1.19\nWORKDIR /app\nCOPY . .\nRUN go mod download\nRUN go build .\n"
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied
    assert any("adds example.com/dep v1.0.0's go.mod hash to go.sum" in e for e in explained)


def test_uv_sync_of_a_large_stale_lock_is_unsafe(tmp_path: Path) -> None:
    """A uv.lock over 1 MiB was read as none, so its dependencies out of step with
    pyproject.toml went unseen and the rewriting ``uv sync`` moved safely."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "My_App"\nversion = "0.1.0"\ndependencies = ["idna==3.7"]\n'
    )
    (tmp_path / "uv.lock").write_text(f"# {_PAD}\n{UV_LOCK}")
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(PY_APP.format("uv sync --no-install-project"), tmp_path)
    assert not applied
    assert any("rewrites uv.lock, which lists other dependencies" in e for e in explained)


def test_uv_settings_msdfix_cannot_read_keep_the_install(tmp_path: Path) -> None:
    """A uv.toml over 1 MiB was read as absent, so `uv pip install` moved before the COPY
    without the settings it reads (``[pip] system = true``: "No virtual environment found",
    built for real). What it sets is unknown: the install stays, and the reason says why."""
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "uv.toml").write_text("# generated\n" * (1 << 17) + "[pip]\nsystem = true\n")
    text = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN uv pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any("uv.toml is over 1 MiB, so what it needs is unknown" in m for m in explained)


def test_a_yarnrc_msdfix_cannot_read_keeps_the_install(tmp_path: Path) -> None:
    """A .yarnrc.yml in a link loop was read as empty: the default .env.yarn stood for the
    environment files its injectEnvironmentFiles may name. The install stays."""
    package = '{"name": "app", "packageManager": "yarn@4.5.3", "dependencies": {"ms": "2.1.3"}}'
    (tmp_path / "package.json").write_text(package)
    (tmp_path / "yarn.lock").write_text(BERRY_LOCK)
    (tmp_path / ".yarnrc.yml").symlink_to(".yarnrc.yml")
    text = (
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\nCMD ["node", "i.js"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any(".yarnrc.yml links outside the build context or in a loop" in m for m in explained)


@pytest.mark.parametrize("marker", ["turbo.json", "pnpm-workspace.yaml"])
def test_a_monorepo_marker_over_the_limit_still_marks_one(tmp_path: Path, marker: str) -> None:
    """A monorepo marker over 1 MiB was read as none, so the monorepo's install moved before
    the COPY with the root's manifest alone. lerna.json, nx.json, turbo.json mark one by
    being there; a pnpm-workspace.yaml msdfix cannot read may list packages."""
    (tmp_path / "package.json").write_text('{"name": "a", "dependencies": {"ms": "2.1.3"}}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    (tmp_path / marker).write_text("# generated\n" * (1 << 17) + "packages:\n  - apps/*\n")
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "s.js"]\n'
    out, applied, explained = _run(text, tmp_path)
    assert out == text and not applied, out
    assert any(f"{marker} marks a monorepo" in m for m in explained), explained


@pytest.mark.parametrize(
    ("pyproject", "why"),
    [
        ('dependencies = ["Six == 1.16.0"]', None),  # spacing: uv kept the lock
        ('requires-python = ">= 3.11"\ndependencies = ["six==1.16.0"]', None),
        ('dependencies = ["six>=1.17"]', "lists other dependencies"),
        ('dependencies = ["six[x]==1.16.0"]', "lists other dependencies"),
        ('requires-python = ">=3.12"\ndependencies = ["six==1.16.0"]', "another requires-python"),
        ('dependencies = ["six==1.16.0"]\n[dependency-groups]\ndev = ["idna"]', "groups"),
        (
            'dependencies = ["six==1.16.0"]\n[tool.uv]\nconstraint-dependencies = ["idna<4"]',
            "tool.uv",
        ),
        ('dependencies = ["six==1.16.0"]\n[tool.uv]\nresolution = "lowest-direct"', "resolution"),
        ('dependencies = ["six==1.16.0"]\n[tool.uv]\nprerelease = "allow"', "prerelease"),
    ],
)
def test_uv_sync_of_a_lock_out_of_step_beyond_names_is_unsafe(
    tmp_path: Path, pyproject: str, why: str | None
) -> None:
    """``uv sync`` re-locks when a requirement's specifier or extras, requires-python, a
    dependency group or a constraint changed, not only a name (built with uv 0.9.5:
    ``six>=1.10`` became ``>=1.15`` in pyproject.toml; moved before ``COPY . .``, the
    image's uv.lock was the context's stale one, and ``uv run --offline`` locked again and
    failed where the original printed 1.17.0). Spacing is no change: still safe."""
    head = '[project]\nname = "My_App"\nversion = "0.1.0"\n'
    (tmp_path / "pyproject.toml").write_text(head + pyproject + "\n")
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(PY_APP.format("uv sync --no-install-project"), tmp_path)
    assert bool(applied) is (why is None), (applied, explained)
    if why is not None:
        assert any("rewrites uv.lock, which" in e and why in e for e in explained), explained


@pytest.mark.parametrize(
    ("setting", "files", "why"),
    [
        ("ENV UV_RESOLUTION=lowest-direct\n", {}, "the resolution setting"),
        ("ENV UV_PRERELEASE=allow\n", {}, "the prerelease setting"),
        ("ARG UV_FORK_STRATEGY=fewest\n", {}, "the fork-strategy setting"),
        ("ENV UV_EXCLUDE_NEWER=2024-01-01\n", {}, "the exclude-newer setting"),
        ("", {"uv.toml": 'resolution = "lowest"\n'}, "the resolution setting"),
        ("ARG UV_RESOLUTION\n", {}, "UV_RESOLUTION (a value msdfix does not know)"),
        ("ENV UV_CONFIG_FILE=/etc/uv.toml\n", {}, "UV_CONFIG_FILE"),
        ("ENV UV_RESOLUTION=highest UV_PRERELEASE=if-necessary-or-explicit\n", {}, None),
        ("ENV UV_NO_CONFIG=1\n", {"uv.toml": 'resolution = "lowest"\n'}, None),
        ("ENV UV_RESOLUTION=lowest\n", {"uv.toml": 'resolution = "highest"\n'}, "resolution"),
    ],
)
def test_uv_sync_with_resolver_settings_the_lock_lacks_is_unsafe(
    tmp_path: Path, setting: str, files: dict[str, str], why: str | None
) -> None:
    """uv compares the resolver settings it runs with (option, then ``UV_*`` variable, then
    uv.toml or [tool.uv]) with the lock's ``[options]`` and locks again where they differ;
    only [tool.uv] was read, so an ENV, ARG or uv.toml setting the lock lacks moved a plain
    ``uv sync`` before the COPY (built with uv 0.13.9: ``ENV UV_RESOLUTION=lowest-direct``
    or uv.toml's ``resolution = "lowest-direct"``, the original re-locked and answered six
    1.10.0, the rewrite's install failed renaming onto the mounted uv.lock, "Device or
    resource busy"). uv's defaults and an ignored uv.toml stay safe."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "My_App"\nversion = "0.1.0"\ndependencies = ["six==1.16.0"]\n'
    )
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    dockerfile = PY_APP.format("uv sync --no-install-project").replace(
        "WORKDIR /app\n", f"WORKDIR /app\n{setting}"
    )
    out, applied, explained = _run(dockerfile, tmp_path)
    assert bool(applied) is (why is None), (applied, explained)
    if why is not None:
        assert any("rewrites uv.lock, which" in e and why in e for e in explained), explained


@pytest.mark.parametrize(
    ("option", "safe"),
    [("--resolution lowest-direct", False), ("--resolution=highest", True), ("", True)],
)
def test_uv_sync_resolver_options_are_compared_with_the_lock(
    tmp_path: Path, option: str, safe: bool
) -> None:
    """``uv sync --resolution lowest-direct`` locks again where the lock was resolved with
    the default; the default itself and a lock resolved with an exclude-newer date given as
    the same date keep it (uv writes ``2024-01-01`` as ``2024-01-02T00:00:00Z``; it was read
    as another value, too strict: built with ``ENV UV_EXCLUDE_NEWER=2024-01-01``, the lock
    kept its bytes and the moved install answered the same)."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "My_App"\nversion = "0.1.0"\ndependencies = ["six==1.16.0"]\n'
        '[tool.uv]\nexclude-newer = "2024-01-01"\n'
    )
    lock = UV_LOCK.replace(
        "\n\n[[package]]", '\n\n[options]\nexclude-newer = "2024-01-02T00:00:00Z"\n\n[[package]]', 1
    )
    (tmp_path / "uv.lock").write_text(lock)
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(
        PY_APP.format(f"uv sync {option} --no-install-project"), tmp_path
    )
    assert bool(applied) is safe, (applied, explained)


PDM_LOCK = """# This file is @generated by PDM.
[metadata]
groups = ["default"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:e194667b15406669cdb7138b2def5e61be29b3d0995457a76b0ccb05b15b2578"
"""


@pytest.mark.parametrize(
    ("dependencies", "safe"),
    [('["six>=1.10"]', True), ('["six>=1.15"]', False), ('["six>=1.10", "idna"]', False)],
)
def test_pdm_install_of_a_lock_with_another_content_hash_is_unsafe(
    tmp_path: Path, dependencies: str, safe: bool
) -> None:
    """A plain ``pdm install`` locks again when pdm.lock's content_hash is not the hash pdm
    computes of pyproject.toml (built with pdm 2.22.2: ``six>=1.10`` locked, then
    ``>=1.15``; moved before ``COPY . .``, the image held the context's stale pdm.lock).
    The hash is pdm's own (this lock's was written by pdm for ``six>=1.10``), so the lock
    in step still moves; ``--frozen-lockfile`` never writes."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f"dependencies = {dependencies}\n\n[tool.pdm]\ndistribution = false\n"
    )
    (tmp_path / "pdm.lock").write_text(PDM_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(PY_APP.format("pdm install"), tmp_path)
    assert bool(applied) is safe, (applied, explained)
    if not safe:
        assert any("rewrites pdm.lock, which has another content_hash" in e for e in explained)
        assert _run(PY_APP.format("pdm install --frozen-lockfile"), tmp_path)[1]


@pytest.mark.parametrize("flag", ["-U", "--upgrade", "--upgrade-package=six", "-Psix"])
def test_uv_sync_that_upgrades_an_in_step_lock_is_unsafe(tmp_path: Path, flag: str) -> None:
    """``uv sync -U`` (or ``-P``) locks again and rewrites even a uv.lock in step (built
    with uv 0.13.9: a lock resolved with ``--exclude-newer 2020-01-01`` was rewritten), so
    the moved install's write was lost under the context's copy; without it, safe."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "My_App"\nversion = "0.1.0"\ndependencies = ["six==1.16.0"]\n'
    )
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    assert _run(PY_APP.format("uv sync --no-install-project"), tmp_path)[1]
    out, applied, explained = _run(PY_APP.format(f"uv sync {flag} --no-install-project"), tmp_path)
    assert not applied, out
    assert any("rewrites uv.lock, which `-" in e and "upgrades" in e for e in explained), explained


def test_pdm_install_with_a_saved_interpreter_in_the_context_is_unsafe(tmp_path: Path) -> None:
    """pdm replaces a .pdm-python naming a missing interpreter (a host's venv), which failed
    on the mounted file: "[Errno 16] Device or resource busy: '/app/.pdm-python'" (built
    with pdm 2.22.2; the original answered). Without the file the lock in step moves."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["six>=1.10"]\n\n[tool.pdm]\ndistribution = false\n'
    )
    (tmp_path / "pdm.lock").write_text(PDM_LOCK)
    (tmp_path / "app.py").write_text("print('hi')\n")
    assert _run(PY_APP.format("pdm install"), tmp_path)[1]
    (tmp_path / ".pdm-python").write_text("/home/me/app/.venv/bin/python\n")
    out, applied, explained = _run(PY_APP.format("pdm install"), tmp_path)
    assert not applied, out
    assert any("pdm replaces .pdm-python" in e for e in explained), explained


def test_pdm_install_hashes_group_names_as_pdm_normalizes_them(tmp_path: Path) -> None:
    """pdm hashes a dependency group's name with every run of characters other than ASCII
    letters and digits as ``-`` (``Lint+Tools`` -> ``lint-tools``; packaging's rule keeps the
    plus): this content_hash is the one pdm 2.22.2 wrote, and its install left the lock
    byte-identical, so the move stays safe."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["six>=1.10"]\n\n[dependency-groups]\n"Lint+Tools" = ["six"]\n\n'
        "[tool.pdm]\ndistribution = false\n"
    )
    lock = PDM_LOCK.replace(
        "e194667b15406669cdb7138b2def5e61be29b3d0995457a76b0ccb05b15b2578",
        "1608c815f71badd161ccb922b3c80b4d67fabbe56ceeb99567fb6a69291fd68e",
    )
    (tmp_path / "pdm.lock").write_text(lock)
    (tmp_path / "app.py").write_text("print('hi')\n")
    out, applied, explained = _run(PY_APP.format("pdm install"), tmp_path)
    assert applied, explained


def test_an_apt_setting_names_no_file_of_the_tree(tmp_path: Path) -> None:
    """``apt-get -o Dir::Cache::Archives=/var/cache/apt/debs`` (what cache-mount writes) names
    a path after ``NAME=``, outside the copied tree: the apt RUN between the COPY and the
    install blocked the reorder. Built (npm and pip apps, apt-get between): the reordered
    image answered the same with the same files and size."""
    (tmp_path / "package.json").write_text('{"name": "a", "version": "1.0.0"}')
    text = (
        "FROM node:18\nCOPY . /usr/src/app\nWORKDIR /usr/src/app\n"
        "RUN apt-get update && apt-get -o Dir::Cache::Archives=/var/cache/apt/debs install -y jq\n"
        'RUN npm install\nCMD ["node", "index.js"]\n'
    )
    out, applied, explained = _run(text, tmp_path)
    assert applied and "COPY . /usr/src/app\nCMD" in out, explained
    inside = text.replace("=/var/cache/apt/debs", "=/usr/src/app/debs")
    out, applied, explained = _run(inside, tmp_path)
    assert not applied and "uses the copied files in between" in " ".join(explained)


@pytest.mark.parametrize(
    ("root", "overrides", "stale"),
    [
        ("^2.1.3", {"debug": {"ms": "2.1.2"}}, True),  # built: npm wrote ms 2.1.3 on top
        ("2.1.2", {"debug": {"ms": "2.1.2"}}, False),  # the lock npm wrote
        ("^2.1.3", {"ms": "2.1.2"}, False),  # a top-level override: npm_override_unmet's
        ("^2.1.3", {"express": {"ms": "2.1.2"}}, True),
    ],
)
def test_a_nested_override_leaves_the_root_s_own_edge_to_its_range(
    tmp_path: Path, root: str, overrides: dict[str, object], stale: bool
) -> None:
    """Round 24 (npm 10.8.2): with overrides ``{"debug": {"ms": "2.1.2"}}`` the lock held one
    ms 2.1.2; package.json's own ms then became ``^2.1.3`` (the lock's root entry with it,
    as a merge leaves it). npm install put ms 2.1.3 on top and 2.1.2 under debug, and the
    moved install's image kept the context's lock: the nested override had hidden every ms
    edge from the range check, the root's too."""
    deps = {"debug": "4.3.4", "ms": root}
    package = {"name": "ov", "version": "1.0.0", "dependencies": deps, "overrides": overrides}
    packages = {
        "": {"name": "ov", "version": "1.0.0", "dependencies": deps},
        "node_modules/debug": {"version": "4.3.4", "dependencies": {"ms": "2.1.2"}},
        "node_modules/ms": {"version": "2.1.2"},
    }
    lock = {"name": "ov", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "package-lock.json").write_text(json.dumps(lock, indent=2) + "\n")
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "i.js"]\n'
    _, _, explained = _run(text, tmp_path)
    found = [m for m in explained if "the ms entry that the root asks for" in m]
    assert bool(found) is stale, explained


@pytest.mark.parametrize(
    ("catalogs", "workspace", "why"),
    [
        (False, None, None),
        (True, "catalog:\n  ms: 2.1.3\n", "catalogs"),  # built: pnpm 10 wrote 2.1.3
        (False, "onlyBuiltDependencies:\n  - esbuild\n", "pnpm-workspace.yaml"),
        (False, "", "dependenciesMeta"),  # built: pnpm 9.15.9 wrote it into the importer
    ],
)
def test_pnpm_catalogs_and_workspace_settings_are_not_compared(
    tmp_path: Path, catalogs: bool, workspace: str | None, why: str | None
) -> None:
    """Round 24 (pnpm 10.34.9): ms taken from pnpm-workspace.yaml's catalog, which changed
    from 2.1.2 to 2.1.3 after the lock; the root's ``catalog:`` specifier stayed the same,
    pnpm install wrote 2.1.3 into the lock's catalogs, and the moved install's image kept the
    context's 2.1.2 lock. Catalogs, pnpm-workspace.yaml's settings and dependenciesMeta
    (``workspace`` ""), which pnpm 9.15.9 wrote into a lock made without it, are not
    compared."""
    spec = "catalog:" if catalogs else "2.1.2"
    package: dict[str, object] = {"name": "c", "version": "1.0.0", "dependencies": {"ms": spec}}
    if workspace == "":
        package["dependenciesMeta"] = {"ms": {"injected": True}}
    head = "lockfileVersion: '9.0'\n\n"
    if catalogs:
        head += "catalogs:\n  default:\n    ms:\n      specifier: 2.1.2\n      version: 2.1.2\n\n"
    written = "'catalog:'" if catalogs else spec  # pnpm 10.34.9 quotes it
    lock = head + (
        f"importers:\n\n  .:\n    dependencies:\n      ms:\n        specifier: {written}\n"
        "        version: 2.1.2\n\npackages:\n\n  ms@2.1.2:\n    resolution: {integrity: x}\n"
    )
    (tmp_path / "package.json").write_text(json.dumps(package))
    (tmp_path / "pnpm-lock.yaml").write_text(lock)
    if workspace:
        (tmp_path / "pnpm-workspace.yaml").write_text(workspace)
    text = (
        "FROM node:20\nRUN npm i -g pnpm@10.34.9\nWORKDIR /app\nCOPY . .\n"
        'RUN pnpm install\nCMD ["node", "s.js"]\n'
    )
    _, _, explained = _run(text, tmp_path)
    stale = [m for m in explained if "rewrites pnpm-lock.yaml (" in m]
    if why is None:
        assert not stale, explained
    else:
        assert stale and why in stale[0], explained


@pytest.mark.parametrize("install", ["pip install -qr req.txt", "pip3 install -Uqrreq.txt"])
def test_grouped_short_options_name_the_requirements_file(tmp_path, install) -> None:
    """optparse reads ``-qr req.txt`` as ``-q -r req.txt`` (built: the install moved before
    ``COPY . .`` with req.txt alone gave the same six 1.16.0 and files; it was left unread)."""
    (tmp_path / "req.txt").write_text("six==1.16.0\n")
    (tmp_path / "app.py").write_text("import six\n")
    text = f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD python app.py\n"
    out, applied, _ = _run(text, tmp_path)
    assert out.index(install) < out.index("COPY . .") and "req.txt" in applied[0], out


@pytest.mark.parametrize("install", ["pip install -r req.txt -e.", "pip install -e. -rreq.txt"])
def test_an_editable_install_written_together_with_its_option_needs_the_sources(
    tmp_path, install
) -> None:
    """optparse reads ``-e.`` as ``-e .``: the project itself (built: moved before ``COPY .
    .`` with req.txt alone, pip failed "file:///app does not appear to be a Python project";
    the original installed demo and six)."""
    (tmp_path / "req.txt").write_text("six==1.16.0\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1"\n')
    text = f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {install}\nCMD python -m demo\n"
    out, applied, _ = _run(text, tmp_path)
    assert out == text and not applied, out
