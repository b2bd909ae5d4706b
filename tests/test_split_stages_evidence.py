"""split-stages on evidence the build image carries and the runtime lacks: tools, linked
libraries, cgo-only flags, file owners, and Node installs that need more than the manifests.

Each case was a safe split that broke a real build or app when built for real; each is now
unsafe, declined, or keeps the dev dependencies."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext

ID = "split-stages"
NODE = (
    "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
    "RUN npm run build\n{extra}EXPOSE 3000\nCMD {cmd}\n"
)
GO = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build {flags}-o /app/server .\n{extra}CMD ["/app/server"]\n'


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _split(text: str, root: Path) -> tuple[str, str, None]:
    """(safe output, every message) for split-stages alone."""
    result = rewrite(text, None, BuildContext(root), Settings(frozenset({ID})))
    messages = " ".join(f.message for f in result.applied + result.suggestions)
    return result.output, messages, None


def _node_app(
    root: Path, package: dict[str, object], sources: dict[str, str] | None = None
) -> Path:
    lock = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": {"": {}}}
    files = {
        "package.json": json.dumps({"name": "app", "version": "1.0.0", **package}),
        "package-lock.json": json.dumps(lock),
        "src/index.js": "require('express')\n",
        **(sources or {}),
    }
    return _write(root, files)


BUILD = {"build": "node build.js", "start": "node dist/index.js"}
DEPS = {"express": "^4.18.0"}


@pytest.mark.parametrize(
    "source, runs",
    [
        ("app.post('/upload', upload.single('file'), save)\n", False),
        ("app.post('/many', upload.array( 'file', 8), save)\n", False),
        ("spawn('file', ['-b', '--mime-type', path])\n", True),
        ("execFileSync('file', [path])\n", True),
    ],
)  # fmt: skip
def test_a_form_field_named_like_a_tool_is_not_a_run_program(
    tmp_path: Path, source: str, runs: bool
) -> None:
    """multer's `upload.single('file')` names a form field; node:20 has `file`, node:20-slim
    does not, and the field made the split unsafe (built on express-filebin's pattern: the
    split onto node:4-slim took an upload and answered the same, 713 -> 290 MB). A call
    that runs `file` keeps the full image."""
    sources = {"src/upload.js": "const upload = multer({ dest: 'uploads' })\n" + source}
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, sources)
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert ("AS runtime" in out) is not runs, messages
    assert ("may run `file`" in messages) is runs, messages


def test_a_healthcheck_running_curl_keeps_the_full_image(tmp_path: Path) -> None:
    """node:20 has curl, node:20-slim does not: the container would turn unhealthy."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(
        extra="HEALTHCHECK CMD curl -f http://localhost:3000/ || exit 1\n",
        cmd='["node", "dist/index.js"]',
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "the HEALTHCHECK runs `curl`, which node:20 has and node:20-slim lacks" in messages


def test_a_program_that_runs_git_keeps_the_full_image(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\nimport "os/exec"\nfunc main() { exec.Command("git", "log").Run() }\n',
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "may run `git`, which golang:1.22 has" in messages


def test_a_large_source_that_runs_git_keeps_the_full_image(tmp_path: Path) -> None:
    """A source over 1 MiB was read as empty, so its ``exec.Command("git")`` went unseen and
    the split to a runtime without git was safe. Sources are searched up to 8 MiB."""
    padding = "// generated\n" * (1 << 17)
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f'package main\nimport "os/exec"\n{padding}func main() {{ exec.Command("git", "log").Run() }}\n',
    })  # fmt: skip
    assert (root / "main.go").stat().st_size > 1 << 20
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "may run `git`, which golang:1.22 has" in messages


def test_a_source_over_the_search_limit_is_unknown(tmp_path: Path) -> None:
    """Sources are searched with regexes at about 0.5 s a MiB each (a 10 MiB bundle took
    16 s), so one over MAX_SOURCE_BYTES is not searched: what it runs is unknown."""
    from msdfix.model.context import MAX_SOURCE_BYTES

    padding = "// generated\n" * (MAX_SOURCE_BYTES // 13 + 1)
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f"package main\n{padding}func main() {{}}\n",
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "main.go is over 8 MiB" in messages, messages


def test_a_source_msdfix_cannot_read_may_run_any_tool(tmp_path: Path) -> None:
    """Unknown is never absent: a source in a link loop (or linking out of the context) may
    call git or curl, where reading it as empty had made the split safe."""
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    (root / "probes.yaml").symlink_to(root / "probes.yaml")
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "probes.yaml links outside the build context or in a loop, so which tools" in messages


@pytest.mark.parametrize(
    "source, kept",
    [
        ('files, _ := filepath.Glob("posts/*.md")', ["/app/posts", "/app/ABOUT.md"]),
        ('http.ServeFile(w, r, "LICENSE")', ["/app/posts", "/app/LICENSE"]),
        # names none: top-level docs and licence stay out; Markdown in a folder is content
        # (a Rust blog filtered by `extension() == Some("md")`, with no ".md" to see)
        ('fmt.Println("hello")', ["/app/posts"]),
    ],
)
def test_docs_the_program_reads_are_copied(tmp_path: Path, source: str, kept: list[str]) -> None:
    """A blog reading posts/*.md answered 404 on every page: top-level Markdown, licence and
    VCS files are left out only when no source names their kind."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f"package main\nfunc main() {{ {source} }}\n",
        "posts/hello.md": "# hi\n", "ABOUT.md": "about\n", "LICENSE": "MIT\n",
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    runtime = out.split("AS runtime", 1)[1]
    for path in ["/app/posts", "/app/ABOUT.md", "/app/LICENSE"]:
        assert (path in runtime) is (path in kept), runtime


def test_docs_a_large_source_reads_are_copied(tmp_path: Path) -> None:
    """A generated main.go over 1 MiB was read as empty, so its ``ServeFile(w, r,
    "LICENSE")`` went unseen and the runtime left LICENSE out (the page answered 404).
    Sources are read up to 8 MiB; one msdfix cannot read may read any docs file."""
    padding = "// generated\n" * (1 << 17)
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f'package main\n{padding}func main() {{ http.ServeFile(w, r, "LICENSE") }}\n',
        "LICENSE": "MIT\n",
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "/app/LICENSE" in out.split("AS runtime", 1)[1], messages


@pytest.mark.parametrize(
    "name, text",
    [
        ("main.go", 'package main\n/*\n#cgo LDFLAGS: -lcrypt\n*/\nimport "C"\nfunc main() {}\n'),
        (
            "main.go",
            'package main\n/*\n#cgo linux pkg-config: libpq\n*/\nimport "C"\nfunc main() {}\n',
        ),
    ],
)
def test_a_cgo_program_linking_a_library_is_unsafe(tmp_path: Path, name: str, text: str) -> None:
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", name: text})
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "the sources link lib" in messages


def test_a_large_cgo_source_linking_a_library_is_unsafe(tmp_path: Path) -> None:
    """A generated cgo file over 1 MiB was read as empty, so its ``-lcrypt`` went unseen and
    the split to a runtime without libcrypt was safe. Sources are read up to 8 MiB, and one
    msdfix cannot read makes the split unsafe."""
    padding = "// generated\n" * (1 << 17)
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f'package main\n/*\n#cgo LDFLAGS: -lcrypt\n*/\nimport "C"\nfunc main() {{}}\n{padding}',
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert "the sources link libcrypt" in messages


def test_glibc_and_static_libraries_are_not_counted(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\n/*\n#cgo LDFLAGS: -lm -lpthread\n*/\nimport "C"\nfunc main() {}\n',
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" in out, messages


def test_a_rust_link_attribute_is_unsafe(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
        "Cargo.lock": 'version = 3\n[[package]]\nname = "app"\nversion = "0.1.0"\n',
        "src/main.rs": '#[link(name = "crypt")]\nextern "C" {}\nfn main() {}\n',
    })  # fmt: skip
    text = (
        "FROM rust:1.75\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
        'CMD ["/app/target/release/app"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "the sources link libcrypt" in messages


def test_a_rust_source_msdfix_cannot_read_may_link_a_library(tmp_path: Path) -> None:
    """A Rust source in a link loop was read as empty: its ``#[link(name = "crypt")]`` would
    go unseen. Which libraries the sources link is unknown, so the split is unsafe."""
    root = _write(tmp_path, {
        "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n',
        "Cargo.lock": 'version = 3\n[[package]]\nname = "app"\nversion = "0.1.0"\n',
        "src/main.rs": "mod ffi;\nfn main() {}\n",
    })  # fmt: skip
    (root / "src/ffi.rs").symlink_to("ffi.rs")
    text = (
        "FROM rust:1.75\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
        'CMD ["/app/target/release/app"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "src/ffi.rs links outside the build context or in a loop, so which libraries" in messages


@pytest.mark.parametrize("flag", ["-race ", "-buildmode=c-shared ", "-msan "])
def test_a_build_flag_that_needs_cgo_keeps_cgo_on(tmp_path: Path, flag: str) -> None:
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    out, _, _ = _split(GO.format(flags=flag, extra=""), root)
    assert "CGO_ENABLED=0" not in out


def test_a_shell_form_healthcheck_gets_a_runtime_with_a_shell(tmp_path: Path) -> None:
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="", extra="HEALTHCHECK CMD /app/server -check || exit 1\n")
    out, _, _ = _split(text, root)
    assert "FROM debian:bookworm-slim AS runtime" in out, out


def test_files_given_to_a_non_root_user_make_the_split_unsafe(tmp_path: Path) -> None:
    """The runtime's WORKDIR and the directories COPY --from creates belong to root."""
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = (
        "FROM golang:1.22\nRUN useradd -m app\nWORKDIR /home/app/src\n"
        "COPY --chown=app:app . .\nUSER app\nRUN go build -o server .\n"
        'CMD ["/home/app/src/server"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "the program runs as app and the build gives it files or directories" in messages


@pytest.mark.parametrize(
    "package, sources, reason",
    [
        ({"dependencies": {**DEPS, "util": "file:./packages/util"}}, {}, "package.json names util@file:./packages/util"),
        # npm reads a path or a tarball as a local package (built for real: ENOENT in prod-deps)
        ({"dependencies": {**DEPS, "acme": "./vendor/acme-1.0.0.tgz"}}, {}, "package.json names acme@./vendor/acme-1.0.0.tgz"),
        ({"dependencies": {**DEPS, "acme": "vendor/acme-1.0.0.tgz"}}, {}, "package.json names acme@vendor/acme-1.0.0.tgz"),
        ({"pnpm": {"patchedDependencies": {"ms@2.1.3": "patches/ms.patch"}}}, {}, "package.json names patched dependencies"),
        # an override to a vendored tarball, nested (npm) or recorded only in the lock
        ({"overrides": {"express": {"qs": "file:./vendor/qs-6.11.0.tgz"}}}, {}, "package.json names express > qs@file:./vendor/qs-6.11.0.tgz"),
        ({}, {"package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {"": {}, "node_modules/qs": {"version": "6.11.0", "resolved": "file:vendor/qs-6.11.0.tgz"}}}, indent=2)}, 'package-lock.json resolves a package from a local path ("resolved": "file:vendor/qs-6.11.0.tgz")'),
        ({"devDependencies": {"dotenv": "^16"}}, {"src/config.js": "import 'dotenv/config'\n"}, "src/config.js imports dev dependency dotenv"),
        ({"devDependencies": {"nodemon": "^3"}, "scripts": {**BUILD, "start": "npm run serve", "serve": "nodemon dist/index.js"}}, {}, "the start command uses dev dependency nodemon"),
        ({"devDependencies": {"dotenv": "^16"}, "scripts": {**BUILD, "start": "node -r dotenv/config dist/index.js"}}, {}, "the start command uses dev dependency dotenv"),
        ({"scripts": {**BUILD, "prestart": "tsc -p .", "start": "node dist/index.js"}, "devDependencies": {"typescript": "5"}}, {}, "the start command runs `tsc`"),
        ({"devDependencies": {"semver": "7"}}, {"entrypoint.sh": "#!/bin/sh\n./node_modules/.bin/semver 1.2.3\nexec \"$@\"\n"}, "uses dev dependency ./node_modules/.bin/semver"),
        ({"dependencies": {**DEPS, "@prisma/client": "5"}}, {}, "@prisma/client generates code into node_modules"),
        ({}, {"src/gen.js": "module.exports = require('./node_modules/.generated')\n"}, "loads ./node_modules/.generated"),
        # files skipped as tool configuration or scripts, but the running app loads them
        ({"devDependencies": {"@next/bundle-analyzer": "14"}, "scripts": {**BUILD, "start": "next start"}, "dependencies": {**DEPS, "next": "14"}}, {"next.config.js": "module.exports = require('@next/bundle-analyzer')()({})\n"}, "next.config.js imports dev dependency @next/bundle-analyzer"),
        ({"devDependencies": {"fastify": "4"}, "scripts": {**BUILD, "start": "node scripts/server.js"}}, {"scripts/server.js": "require('fastify')\n"}, "scripts/server.js imports dev dependency fastify"),
        ({"devDependencies": {"convict": "6"}}, {"src/index.js": "const c = require('./app.config')\n", "src/app.config.js": "require('convict')\n"}, "src/app.config.js imports dev dependency convict"),
        ({"devDependencies": {"git-rev-sync": "3"}}, {"src/index.mjs": "import info from './build-info'\n", "src/build-info.js": "import 'git-rev-sync'\n"}, "src/build-info.js imports dev dependency git-rev-sync"),
        # require.resolve throws too (built for real: an asset of dev dependency bootstrap served by express)
        ({"devDependencies": {"bootstrap": "5"}}, {"src/index.js": "require('express')\nconst css = require.resolve('bootstrap/dist/css/bootstrap.min.css')\n"}, "src/index.js imports dev dependency bootstrap"),
        ({"devDependencies": {"bootstrap": "5"}}, {"src/index.mjs": "const css = import.meta.resolve('bootstrap/dist/css/bootstrap.min.css')\n"}, "src/index.mjs imports dev dependency bootstrap"),
    ],
)  # fmt: skip
def test_node_installs_that_need_more_than_the_manifests_keep_dev_dependencies(
    tmp_path: Path, package: dict[str, object], sources: dict[str, str], reason: str
) -> None:
    """Each broke a real app when production dependencies came from a separate install:
    local and patched packages, dev dependencies the sources or the start chain load (npm
    runs prestart before start; an entrypoint script may run a dev dependency's program),
    and code generated into node_modules (Prisma's client)."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS, **package}, sources)
    text = NODE.format(extra="", cmd='["npm", "start"]')
    if "entrypoint.sh" in sources:
        text = text.replace("CMD", 'ENTRYPOINT ["/app/entrypoint.sh"]\nCMD')
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out
    assert reason in messages, messages


@pytest.mark.parametrize(
    "cmd",
    [
        '["npm", "--loglevel", "warn", "start"]',
        '["npm", "--loglevel", "warn", "run", "serve"]',
        '["yarn", "--cwd", ".", "start"]',
        '["pnpm", "--dir", ".", "start"]',
    ],
)
def test_a_runner_option_value_is_no_script_name(tmp_path: Path, cmd: str) -> None:
    """Built for real: ``npm --loglevel warn start`` was read as a script named ``warn``, so
    the start script's nodemon (a dev dependency) went unseen and the split's runtime failed
    with ``nodemon: not found``. An option's value is not the script the runner runs."""
    scripts = {**BUILD, "start": "nodemon dist/index.js", "serve": "nodemon dist/index.js"}
    package = {"scripts": scripts, "dependencies": DEPS, "devDependencies": {"nodemon": "^3"}}
    root = _node_app(tmp_path, package, {})
    out, messages, _ = _split(NODE.format(extra="", cmd=cmd), root)
    assert "prod-deps" not in out
    assert "the start command uses dev dependency nodemon" in messages, messages


@pytest.mark.parametrize(
    "cmd, runs",
    [
        ('["npm", "--prefix", "server", "start"]', "npm --prefix server"),
        ('["pnpm", "--filter", "web", "start"]', "pnpm --filter web"),
        ('["yarn", "--cwd=api", "start"]', "yarn --cwd api"),
    ],
)
def test_a_script_of_another_package_is_not_read_as_the_contexts(
    tmp_path: Path, cmd: str, runs: str
) -> None:
    """``npm --prefix server start`` runs server/package.json's start, not the context's:
    msdfix reads neither for it, so the split is unsafe, as for any program it cannot read
    (read as a script named ``web``, pnpm's call was unsafe only by chance)."""
    package = {"scripts": {**BUILD, "start": "node dist/index.js"}, "dependencies": DEPS}
    root = _node_app(tmp_path, package, {})
    out, messages, _ = _split(NODE.format(extra="", cmd=cmd), root)
    assert "AS runtime" not in out
    assert f"the start command runs `{runs}`" in messages, messages


def test_a_large_source_importing_a_dev_dependency_keeps_it(tmp_path: Path) -> None:
    """A bundled src/config.js over 1 MiB was read as empty, so its ``require('dotenv')``
    (a dev dependency) went unseen and the production-only install dropped it. Sources are
    read up to 8 MiB."""
    padding = "// generated\n" * (1 << 17)
    sources = {"src/config.js": f"{padding}require('dotenv').config()\n"}
    package = {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"dotenv": "^16"}}
    root = _node_app(tmp_path, package, sources)
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" not in out
    assert "src/config.js imports dev dependency dotenv" in messages, messages


def test_sources_too_many_to_check_keep_the_dev_dependencies(tmp_path: Path) -> None:
    """Unknown is never absent: sources msdfix stopped reading may import a dev dependency."""
    from msdfix.transforms.split_stages.node.app_imports import MAX_IMPORT_SCAN

    sources = {f"src/m{i}.js": "module.exports = 1\n" for i in range(MAX_IMPORT_SCAN + 1)}
    package = {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"jest": "29"}}
    root = _node_app(tmp_path, package, sources)
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" not in out
    assert f"over {MAX_IMPORT_SCAN} sources, too many to check" in messages, messages


def test_a_tests_import_of_a_dev_dependency_does_not_count(tmp_path: Path) -> None:
    root = _node_app(
        tmp_path,
        {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"jest": "^29"}},
        {"src/index.test.js": "const {expect} = require('jest')\n"},
    )
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" in out, messages


def test_npx_after_the_install_keeps_the_builds_node_modules(tmp_path: Path) -> None:
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "RUN npm ci\n", "RUN npm ci && npx patch-package\n"
    )
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out
    assert "runs `npx patch-package`, which may change node_modules" in messages


def test_a_build_that_deletes_copied_sources_never_copies_them(tmp_path: Path) -> None:
    """``rm -rf src`` after the build: a runtime COPY that names src would fail. The split
    copies the app whole (src is simply gone) or is declined."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "RUN npm run build\n", "RUN npm run build && rm -rf src\n"
    )
    out, messages, _ = _split(text, root)
    copies = [line for line in out.splitlines() if line.startswith("COPY --from")]
    assert not any("/app/src" in line for line in copies), out
    (root / "build.js").write_text("")  # named entries: src would be listed, so no split
    root.joinpath("package.json").write_text(
        json.dumps({"name": "app", "scripts": {**BUILD, "build": "tsc"}, "dependencies": DEPS})
    )
    (root / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "dist"}}')
    out, messages, _ = _split(text, root)
    copies = [line for line in out.splitlines() if line.startswith("COPY --from")]
    assert not any("/app/src" in line for line in copies), out


def test_a_build_script_writing_outside_the_app_is_unsafe(tmp_path: Path) -> None:
    scripts = {**BUILD, "build": "node build.js && mkdir -p /var/www && cp -r static /var/www/"}
    root = _node_app(tmp_path, {"scripts": scripts, "dependencies": DEPS})
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "AS runtime" not in out
    assert "the npm script at line 6 writes /var/www" in messages


def test_global_tools_come_along_when_npm_start_may_run_them(tmp_path: Path) -> None:
    root = _node_app(
        tmp_path, {"scripts": {**BUILD, "start": "pm2-runtime dist/index.js"}, "dependencies": DEPS}
    )
    text = NODE.format(extra="", cmd='["npm", "start"]').replace(
        "RUN npm ci\n", "RUN npm install -g pm2 && npm ci\n"
    )
    out, _, _ = _split(text, root)
    assert "/usr/local/lib/node_modules" in out, out


@pytest.mark.parametrize(
    "source, copied",
    [
        ("require('child_process').execSync('db-migrate up')\n", True),
        ("require('express')\n", False),
    ],
)
def test_global_tools_come_along_when_the_node_app_runs_one(
    tmp_path: Path, source: str, copied: bool
) -> None:
    """``npm install -g db-migrate`` and ``CMD node src/index.js`` whose index.js runs
    ``execSync('db-migrate ...')``, built for real (bulk jscastel97/menus, twenty-second
    round): the runtime kept /app alone and the app got "/bin/sh: 1: db-migrate: not found".
    A node entry needs the global installs when its sources run one of them by name."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"dist/index.js": source})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "RUN npm ci\n", "RUN npm install -g db-migrate@0.11.14 && npm ci\n"
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    assert ("COPY --from=build /usr/local/bin /usr/local/bin" in out) is copied, out


def test_node_path_to_the_global_folder_brings_the_global_installs(tmp_path: Path) -> None:
    """``ENV NODE_PATH=/usr/local/lib/node_modules``, ``npm install -g left-pad`` and ``CMD
    node index.js``, built for real: the runtime copied /app alone and node stopped with
    MODULE_NOT_FOUND for the global package the app requires."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "RUN npm ci\n",
        "ENV NODE_PATH=/usr/local/lib/node_modules\nRUN npm install -g lp && npm ci\n",
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    assert "COPY --from=build /usr/local/lib/node_modules /usr/local/lib/node_modules" in out


@pytest.mark.parametrize(
    "cmd",
    [
        '["node", "/usr/local/lib/node_modules/pm2/bin/pm2-runtime", "dist/index.js"]',
        '["node", "--require=/usr/local/lib/node_modules/pm2/index.js", "dist/index.js"]',
    ],
)
def test_a_node_entry_naming_a_global_file_brings_the_global_installs(
    tmp_path: Path, cmd: str
) -> None:
    """``npm install -g pm2`` and ``CMD node /usr/local/lib/node_modules/pm2/bin/pm2-runtime
    server.js``, built for real: the split's runtime copied /app alone and node stopped with
    "Cannot find module '/usr/local/lib/node_modules/pm2/bin/pm2-runtime'" (the original
    answered). A node entry whose words name a file of the global folders needs them."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd=cmd).replace(
        "RUN npm ci\n", "RUN npm install -g pm2 && npm ci\n"
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    assert "COPY --from=build /usr/local/lib/node_modules /usr/local/lib/node_modules" in out


@pytest.mark.parametrize(
    ("setup", "moved"),
    [
        ("ENV NPM_CONFIG_PREFIX=/opt/npm-global\nRUN npm install -g pm2\n", True),
        ("ENV npm_config_prefix=/opt/npm-global\nRUN npm install -g pm2\n", True),
        ("ENV PREFIX=/opt/npm-global\nRUN npm install -g pm2\n", True),
        ("ARG NPM_CONFIG_PREFIX\nRUN npm install -g pm2\n", True),
        ("RUN NPM_CONFIG_PREFIX=/opt/g npm install -g pm2\n", True),
        ("RUN npm install -g --prefix /opt/g pm2\n", True),
        ("ENV NODE_ENV=production\nRUN npm install -g pm2\n", False),
    ],
)
def test_an_npm_prefix_moves_the_global_installs_out_of_the_copied_folders(
    tmp_path: Path, setup: str, moved: bool
) -> None:
    """Round 25, built: node:18 with ``ENV NPM_CONFIG_PREFIX=/opt/npm-global``, its bin on
    PATH, ``npm install -g pm2@5.3.1`` and ``CMD ["pm2-runtime", "server.js"]``: the original
    ran the app under pm2; the safe split copied /usr/local/bin and
    /usr/local/lib/node_modules, which held no pm2, and its entrypoint ran node on
    "/app/pm2-runtime" ("Cannot find module"). npm's global prefix follows --prefix,
    npm_config_prefix in any case, and PREFIX (``npm prefix -g`` in node:18 printed each)."""
    root = _node_app(
        tmp_path, {"scripts": {**BUILD, "start": "pm2-runtime dist/index.js"}, "dependencies": DEPS}
    )
    text = NODE.format(extra="", cmd='["npm", "start"]').replace(
        "RUN npm ci\n", setup + "RUN npm ci\n"
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is not moved, messages
    if moved:
        line = 3 + setup.count("\n")  # (the install is the setup's last line)
        assert f"`npm install -g` at line {line} may install under another prefix" in messages
        assert "which the runtime does not copy" in messages


def test_yarn_global_installs_bring_yarns_global_folder(tmp_path: Path) -> None:
    """``yarn global add pm2`` links /usr/local/bin/pm2-runtime into yarn's global folder:
    built for real, a runtime with only /usr/local/bin got a dangling link (the entrypoint then
    ran ``node pm2-runtime``: Cannot find module '/app/pm2-runtime')."""
    root = _node_app(
        tmp_path, {"scripts": {**BUILD, "start": "pm2-runtime dist/index.js"}, "dependencies": DEPS}
    )
    text = NODE.format(extra="", cmd='["npm", "start"]').replace(
        "RUN npm ci\n", "RUN yarn global add pm2 && npm ci\n"
    )
    out, _, _ = _split(text, root)
    assert "COPY --from=build /usr/local/share/.config/yarn/global " in out, out
    # as another user, or moved by a flag, the folder is elsewhere: not a safe split
    for setup in (
        "USER node\nRUN yarn global add pm2\nUSER root\n",
        "RUN yarn global add --prefix /opt pm2\n",
    ):
        moved = NODE.format(extra="", cmd='["npm", "start"]').replace("WORKDIR", setup + "WORKDIR")
        out, messages, _ = _split(moved, root)
        assert "AS runtime" not in out, setup
        assert "installs outside /usr/local/share/.config/yarn/global" in messages, messages


# Requirements that list the whole tree (pip's hash-checking mode): a split may be safe.
LOCKED = "flask==3.0.3 --hash=sha256:" + "0" * 64 + "\n"
PY = 'FROM python:3.12\n{env}WORKDIR /app\nCOPY requirements.txt .\nRUN {install}\nCOPY . .\nCMD ["python", "app.py"]\n'


def _py_split(
    root: Path, old: str = "", new: str = "", files: dict[str, str] | None = None
) -> tuple[str, str]:
    """(safe output, messages) of a Python app whose requirements list the whole tree, with
    ``old`` replaced by ``new`` in the Dockerfile."""
    _write(root, {"requirements.txt": LOCKED, "app.py": "", **(files or {})})
    text = PY.format(env="", install="pip install --only-binary :all: -r requirements.txt")
    out, messages, _ = _split(text.replace(old, new) if old else text, root)
    return out, messages


@pytest.mark.parametrize(
    "env",
    ["ENV PIP_TARGET=/opt/deps PYTHONPATH=/opt/deps\n", "ENV UV_PROJECT_ENVIRONMENT=/opt/venv\n"],
)
def test_an_install_moved_by_the_environment_is_not_split(tmp_path: Path, env: str) -> None:
    """The runtime copies the interpreter's prefix; pip's PIP_TARGET or uv's project
    environment put the packages elsewhere (a real split lost gunicorn)."""
    root = _write(tmp_path, {"requirements.txt": LOCKED, "app.py": ""})
    install = (
        "uv sync --frozen"
        if "UV_" in env
        else "pip install --only-binary :all: -r requirements.txt"
    )
    out, messages, _ = _split(PY.format(env=env, install=install), root)
    assert "AS runtime" not in out
    assert "install outside the interpreter's prefix" in messages


@pytest.mark.parametrize(
    "cmd, tool",
    [
        ('["sh", "-c", "tar -xJf seed.tar.xz -C /app && exec python app.py"]', "xz"),
        ('["git", "daemon", "--base-path=/app"]', "git"),
    ],
)
def test_a_start_command_running_a_tool_of_the_full_image_keeps_it(
    tmp_path: Path, cmd: str, tool: str
) -> None:
    """python:3.12-slim has neither xz nor git: the container would exit at its start."""
    out, messages = _py_split(tmp_path, '["python", "app.py"]', cmd)
    assert "AS runtime" not in out
    assert f"the start command runs `{tool}`, which python:3.12 has" in messages, messages


def test_a_quoted_workdir_is_the_directory_it_names(tmp_path: Path) -> None:
    """``WORKDIR "/srv/app"`` is /srv/app: the runtime copied ``/"/srv/app"`` before."""
    out, _ = _py_split(tmp_path, "WORKDIR /app", 'WORKDIR "/srv/app"')
    assert "COPY --from=build /srv/app /srv/app\n" in out, out


UV_LOCK = """version = 1

[[package]]
name = "{name}"
version = "3.2.3"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [{{ url = "https://files.pythonhosted.org/{name}-3.2.3-py3-none-any.whl" }}]

[[package]]
name = "srv"
version = "0.1.0"
source = {{ virtual = "." }}
"""


@pytest.mark.parametrize("name, safe", [("psycopg", False), ("itsdangerous", True)])
def test_a_lock_file_dependency_that_loads_a_system_library_is_seen(
    tmp_path: Path, name: str, safe: bool
) -> None:
    """uv.lock lists every dependency: psycopg (a pure-Python wheel) loads libpq, which
    python:3.12-slim lacks. Built for real, the split's app failed "libpq library not found"."""
    root = _write(
        tmp_path, {"pyproject.toml": "", "uv.lock": UV_LOCK.format(name=name), "app.py": ""}
    )
    text = (
        "FROM python:3.12\nWORKDIR /srv\nRUN pip install uv==0.4.30\n"
        "COPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-install-project\n"
        'COPY app.py .\nCMD ["/srv/.venv/bin/python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is safe, messages
    if not safe:
        assert "psycopg" in messages and "libpq5" in messages, messages


@pytest.mark.parametrize(
    "files, requirement, reason",
    [
        ({"docker-entrypoint.sh": "#!/bin/sh\nset -e\nmake -s migrate\nexec \"$@\"\n"}, "", "the program may run `make`"),
        ({"app.py": 'subprocess.run(["tar", "-cJf", str(out), "-C", d], check=True)\n'}, "", "the program may run `xz`"),
        ({"app.py": "from sh import git\n"}, "sh==2.0.7 --hash=sha256:" + "1" * 64 + "\n", "sh needs"),
    ],
)  # fmt: skip
def test_a_tool_the_app_runs_keeps_the_full_image(
    tmp_path: Path, files: dict[str, str], requirement: str, reason: str
) -> None:
    """Built for real on python:3.12-slim: the entrypoint's `make` was not found, tar found
    no xz, and `from sh import git` failed to import (sh makes programs of names)."""
    entry = "docker-entrypoint.sh" in files
    files = {**files, "requirements.txt": LOCKED + requirement}
    new = 'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD [' if entry else "CMD ["
    out, messages = _py_split(tmp_path, "CMD [", new, files)
    assert "AS runtime" not in out
    assert reason in messages, messages


_JUDGE = 'subprocess.run(["gcc", "/tmp/hello.c", "-o", "/tmp/hello"], check=True)\n'
_GCC = "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev\n"


@pytest.mark.parametrize(
    "image, source, runs",
    [
        ("python:3.12", _JUDGE, "`gcc`"),  # built: python:3.11 printed, the split failed
        ("python:3.12-slim", _JUDGE, "`gcc`"),  # same runtime image, gcc left in the build
        ("python:3.12", 'os.system("make -s migrate")\n', None),  # the build installs no make
        ("python:3.12", "print('hello')\n", None),  # gcc for pip only: left out as before
    ],
)
def test_a_compiler_the_build_installs_and_the_program_runs_stays(
    tmp_path: Path, image: str, source: str, runs: str | None
) -> None:
    """The runtime leaves compilers and build tools (``BUILD_ONLY``) in the build stage.
    Built for real (round 26): an app that compiles C with gcc at run time, on python:3.11
    with ``apt-get install gcc``, printed its answer; the split (rated safe) failed with
    "No such file or directory: 'gcc'". The image's own make (python:3.12 has it) is
    checked as before."""
    text = PY.format(env=_GCC, install="pip install --only-binary :all: -r requirements.txt")
    text = text.replace("FROM python:3.12\n", f"FROM {image}\n")
    _write(tmp_path, {"requirements.txt": LOCKED, "app.py": source})
    out, messages, _ = _split(text, tmp_path)
    if runs is None:
        assert "which the build installs" not in messages, messages
        return
    assert "AS runtime" not in out, messages
    assert f"the program may run {runs}, which the build installs (gcc)" in messages, messages


@pytest.mark.parametrize(
    "start, runs",
    [
        ('["sh", "-c", "python setup.py build_ext --inplace && python app.py"]', "setup.py"),
        ('["python", "app.py"]', None),  # setup.py only in the context: not run
    ],
)
def test_a_start_command_building_c_extensions_keeps_the_compiler(
    tmp_path: Path, start: str, runs: str | None
) -> None:
    """``python setup.py build_ext`` runs the compiler the build installs. Built for real
    (round 26): python:3.11-slim with ``apt-get install gcc libc6-dev`` built the extension
    at start and printed its answer; the split (rated safe) failed with "command
    'x86_64-linux-gnu-gcc' failed: No such file or directory"."""
    text = PY.format(env=_GCC, install="pip install --only-binary :all: -r requirements.txt")
    text = text.replace("FROM python:3.12\n", "FROM python:3.12-slim\n")
    text = text.replace('CMD ["python", "app.py"]', f"CMD {start}")
    setup = (
        'from setuptools import setup, Extension\nsetup(ext_modules=[Extension("f", ["f.c"])])\n'
    )
    _write(tmp_path, {"requirements.txt": LOCKED, "app.py": "import f\n", "setup.py": setup})
    out, messages, _ = _split(text, tmp_path)
    if runs is None:
        assert "AS runtime" in out, messages
        return
    assert "AS runtime" not in out, messages
    assert f"the program may run `{runs}`, which runs gcc, which the build installs (gcc)" in (
        messages
    ), messages


def test_a_package_that_loads_a_system_library_brings_it(tmp_path: Path) -> None:
    """psycopg 3 is a pure-Python wheel that loads libpq at run time: the split's runtime
    installs libpq5 (and the split stays unsafe: the package is on the needs-the-full-image
    list that slim-base declines on)."""
    root = _write(tmp_path, {"requirements.txt": "psycopg==3.2.3\n", "app.py": ""})
    text = PY.format(env="", install="pip install --only-binary :all: -r requirements.txt")
    _, messages, _ = _split(text, root)
    assert "runtime packages: libpq5" in messages, messages


@pytest.mark.parametrize(
    ("requirements", "libpq"),
    [
        (
            'psycopg[binary]==3.2.3\npsycopg-binary==3.2.3 ; implementation_name != "pypy"\n'
            "typing-extensions==4.12.2\n",
            False,
        ),
        ("psycopg==3.2.3\ntyping-extensions==4.12.2\n", True),
        (  # aarch64 builds leave the binary package out: they load the system's libpq
            'psycopg==3.2.3\npsycopg-binary==3.2.3 ; platform_machine == "x86_64"\n'
            "typing-extensions==4.12.2\n",
            True,
        ),
    ],
)
def test_psycopg_beside_its_binary_package_needs_no_libpq5_in_the_runtime(
    tmp_path: Path, requirements: str, libpq: bool
) -> None:
    """psycopg loads psycopg-binary's implementation first, which brings its own libpq: a
    runtime whose every install brings it needs no libpq5 (built: uv.lock's psycopg[binary]
    and pip-compile's requirements split onto python:3.11-slim without libpq5 answered
    "binary", as python:3.11 did)."""
    header = "# This file is autogenerated by pip-compile with Python 3.12\n"
    root = _write(tmp_path, {"requirements.txt": header + requirements, "app.py": ""})
    text = PY.format(env="", install="pip install --only-binary :all: -r requirements.txt")
    out, messages, _ = _split(text, root)
    assert ("runtime packages: libpq5" in messages) is libpq, messages
    assert ("AS runtime" in out) is not libpq, messages  # safe: every package known, wheels


@pytest.mark.parametrize(("removed", "libpq"), [("six", False), ("psycopg-binary", True)])
def test_an_uninstalled_binary_package_leaves_psycopg_on_the_systems_libpq(
    tmp_path: Path, removed: str, libpq: bool
) -> None:
    """``pip uninstall -y psycopg-binary`` after the install: psycopg loads the system's
    libpq (built: python:3.11 answered "python 150020"; the split onto python:3.11-slim
    without libpq5 failed "libpq library not found", with it answered alike)."""
    header = "# This file is autogenerated by pip-compile with Python 3.12\n"
    requirements = "psycopg==3.2.3\npsycopg-binary==3.2.3\ntyping-extensions==4.12.2\n"
    root = _write(tmp_path, {"requirements.txt": header + requirements, "app.py": ""})
    install = f"pip install --only-binary :all: -r requirements.txt && pip uninstall -y {removed}"
    _, messages, _ = _split(PY.format(env="", install=install), root)
    assert ("runtime packages: libpq5" in messages) is libpq, messages


def test_a_file_the_build_writes_outside_the_copies_makes_the_split_unsafe(tmp_path: Path) -> None:
    root = _write(tmp_path, {"requirements.txt": LOCKED, "app.py": ""})
    install = (
        "pip install --only-binary :all: -r requirements.txt && mkdir -p /etc/gunicorn "
        "&& printf 'workers = 2' > /etc/gunicorn/gunicorn.conf.py"
    )
    out, messages, _ = _split(PY.format(env="", install=install), root)
    assert "AS runtime" not in out
    assert "RUN at line 4 writes /etc/gunicorn, which the runtime does not copy" in messages


def test_a_virtualenv_on_the_path_is_what_the_runtime_copies(tmp_path: Path) -> None:
    """``python -m venv /opt/venv`` with its bin on PATH: the runtime copies the venv (the
    interpreter it links to is at the same path in the slim image). Was declined as an
    unknown program `venv`; built for real, the app answers the same."""
    root = _write(tmp_path, {"requirements.txt": LOCKED, "app.py": ""})
    env = "RUN python -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
    text = PY.format(env=env, install="pip install --only-binary :all: -r requirements.txt")
    out, messages, _ = _split(text, root)
    assert "COPY --from=build /opt/venv /opt/venv" in out, messages
    assert "/usr/local" not in out


@pytest.mark.parametrize(
    "files",
    [
        {"uploads/.gitkeep": ""},
        {"uploads/cache/": ""},  # empty folders: git cannot hold them, a context can
        {"uploads/old.log": "", ".dockerignore": "uploads/*.log\n"},  # holds only ignored files
    ],
)
def test_a_folder_without_files_is_copied(tmp_path: Path, files: dict[str, str]) -> None:
    """The folder the app writes into exists in the runtime as in the original."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if not rel.endswith("/"):
            (root / rel).write_text(text)
    (root / "tsconfig.json").write_text('{"compilerOptions": {"outDir": "dist"}}')
    root.joinpath("package.json").write_text(
        json.dumps({"name": "app", "scripts": {**BUILD, "build": "tsc"}, "dependencies": DEPS})
    )
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "/app/uploads" in out or "COPY --from=build /app /app" in out, out


@pytest.mark.parametrize(
    "image, source",
    [
        ("node:20", ("server.js", "require('child_process').execSync('git rev-parse HEAD')\n")),
        ("python:3.12", ("app.py", "import subprocess\nsubprocess.run(['git', 'log'])\n")),
        ("node:20", ("entrypoint.bash", '#!/usr/bin/env bash\ncurl -fsS "$URL" -o /tmp/c\n')),
        # a config file the program takes its commands from (built for real: /status gave 500)
        ("python:3.12", ("probes.toml", '[probes.vcs]\ncmd = ["git", "--version"]\n')),
        ("python:3.12", ("jobs.yaml", "- name: rev\n  run: 'git rev-parse HEAD'\n")),
        # a shell script in a triple-quoted string (built for real: "curl: not found")
        (
            "python:3.12",
            (
                "job.py",
                'import subprocess\nSYNC = """\nset -e\ngit fetch\n"""\n'
                'subprocess.run(["sh", "-c", SYNC])\n',
            ),
        ),
        (
            "node:20",
            ("job.js", "require('child_process').execSync(`\n  cd /app &&\n  git pull\n`)\n"),
        ),
    ],
)
def test_slim_base_is_unsafe_when_the_sources_run_a_full_image_tool(
    tmp_path: Path, image: str, source: tuple[str, str]
) -> None:
    """The same evidence as split-stages: node:20-slim and python:3.12-slim have no git."""
    _write(tmp_path, {source[0]: source[1]})
    program = "node" if image.startswith("node") else "python"
    text = f'FROM {image}\nWORKDIR /app\nCOPY . .\nCMD ["{program}", "{source[0]}"]\n'
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert result.output == text
    messages = " ".join(f.message for f in result.suggestions)
    tool = "curl" if source[0].endswith(".bash") else "git"
    assert f"the sources may run `{tool}`" in messages, messages


def test_slim_base_does_not_read_ci_workflows_for_tools(tmp_path: Path) -> None:
    """A CI workflow's commands run on the CI runner, not in the image."""
    _write(tmp_path, {".github/workflows/ci.yml": "steps:\n  - run: 'git fetch --tags'\n"})
    text = 'FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD ["python", "-c", "print(1)"]\n'
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert "python:3.12-slim" in result.output, result.suggestions


@pytest.mark.parametrize(
    "main, reason",
    [
        ('exec.Command("/bin/sh", "-c", "echo hook")', "may run `sh`"),
        ('exec.Command("openssl", "version")', "may run `openssl`"),
        ('user.Lookup("www-data")', "looks up system users"),
    ],
)
def test_what_distroless_lacks_keeps_the_build_image(
    tmp_path: Path, main: str, reason: str
) -> None:
    """Distroless has no shell (``:debug``'s is /busybox/sh), no coreutils or openssl, and
    only root and nonroot as users: each broke a Go split built for real."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f'package main\nimport ("os/exec"; "os/user")\nfunc main() {{ {main} }}\n',
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert reason in messages, messages


def test_a_tool_named_in_env_is_kept(tmp_path: Path) -> None:
    """``ENV JSON_TOOL=jq`` and ``exec.Command(os.Getenv("JSON_TOOL"))``: jq stays installed."""
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="", extra="").replace(
        "WORKDIR /app\n",
        "RUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n"
        "ENV JSON_TOOL=jq\nWORKDIR /app\n",
    )
    out, messages, _ = _split(text, root)
    assert "jq left in the build stage" not in messages
    assert "jq" in out.split("AS runtime")[-1], out


@pytest.mark.parametrize(
    "unpack, tool",
    [
        ("tar -xJf seed.tar.xz -C data", "xz"),  # -J runs xz, which -slim lacks
        ("tar xjf seed.tar.bz2", "bzip2"),
        ("tar -xf seed.tar.xz", "xz"),  # GNU tar picks the compressor from the suffix
        ("tar -xzf seed.tar.gz", None),  # gzip is in every Debian image
    ],
)
def test_a_start_script_that_unpacks_with_xz_needs_the_full_image(
    tmp_path: Path, unpack: str, tool: str | None
) -> None:
    """``npm start`` runs ``bin/start`` (no suffix, a shell's ``#!`` line), which unpacks an
    archive; node:18-slim has tar and gzip but neither xz nor bzip2."""
    root = _node_app(tmp_path, {"scripts": {"start": "./bin/start"}, "dependencies": DEPS})
    _write(
        root, {"bin/start": f"#!/bin/sh\nset -e\nmkdir -p data\n{unpack}\nexec node src/index.js\n"}
    )
    text = 'FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\nCMD ["npm", "start"]\n'
    for transform in (ID, "slim-base"):
        result = rewrite(text, None, BuildContext(root), Settings(frozenset({transform})))
        messages = " ".join(f.message for f in result.suggestions)
        if tool is None:
            assert result.applied, transform
        else:
            assert not result.applied, transform
            assert f"run `{tool}`" in messages, messages


# A fourth round of apps built for real: each safe split below broke the running app.


def test_node_options_preloading_a_dev_dependency_keeps_it(tmp_path: Path) -> None:
    """``ENV NODE_OPTIONS="-r dotenv/config"`` preloads dotenv into every node process."""
    root = _node_app(
        tmp_path, {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"dotenv": "16"}}
    )
    text = NODE.format(extra='ENV NODE_OPTIONS="-r dotenv/config"\n', cmd='["npm", "start"]')
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out
    assert "the start command uses dev dependency dotenv" in messages, messages


@pytest.mark.parametrize(
    "start",
    [
        "node -r source-map-support/register dist/index.js",
        "node --require=source-map-support/register dist/index.js",
        "node --import source-map-support/register.js dist/index.js",
    ],
)
def test_a_preloaded_package_only_a_dev_dependency_brings_keeps_them(
    tmp_path: Path, start: str
) -> None:
    """terser (dev) brings source-map-support, which ``node -r`` preloads: built for real, the
    runtime of a prod-deps split failed with MODULE_NOT_FOUND (Debian's node stand-in had
    found it in /usr/share/nodejs)."""
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {},
            "node_modules/express": {"version": "4.19.2"},
            "node_modules/terser": {"version": "5.31.0", "dev": True},
            "node_modules/source-map-support": {"version": "0.5.21", "dev": True},
        },
    }
    package = {
        "scripts": {**BUILD, "start": start},
        "dependencies": DEPS,
        "devDependencies": {"terser": "5"},
    }
    root = _node_app(tmp_path, package, {"package-lock.json": json.dumps(lock)})
    out, messages, _ = _split(NODE.format(extra="", cmd='["npm", "start"]'), root)
    assert "prod-deps" not in out
    assert "the start command preloads source-map-support, which only a dev dependency" in (
        messages
    ), messages
    package["dependencies"] = {**DEPS, "source-map-support": "0.5"}  # declared: it ships
    lock["packages"]["node_modules/source-map-support"] = {"version": "0.5.21"}  # type: ignore[index]
    _node_app(tmp_path, package, {"package-lock.json": json.dumps(lock)})
    out, messages, _ = _split(NODE.format(extra="", cmd='["npm", "start"]'), root)
    assert "AS prod-deps" in out, messages


def test_a_dev_dependency_a_library_loads_by_name_is_kept(tmp_path: Path) -> None:
    """pino's transport target 'pino-pretty' is loaded by pino, not by a require."""
    source = "const pino = require('pino')\npino({transport: {target: 'pino-pretty'}})\n"
    package = {
        "scripts": BUILD,
        "dependencies": {**DEPS, "pino": "9"},
        "devDependencies": {"pino-pretty": "11"},
    }
    root = _node_app(tmp_path, package, {"src/index.js": source})
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" not in out
    assert "src/index.js names dev dependency pino-pretty" in messages, messages


@pytest.mark.parametrize(
    "prestart, source, reason",
    [
        (None, "execSync('cd /usr/src/app && git --version')\n", "may run `git`"),
        (None, "execSync(`tar -cJf /tmp/backup.tar.xz dist && echo archived`)\n", "may run `xz`"),
        (None, 'exec("GIT_DIR=/data/.git git log -1")\n', "may run `git`"),
        # every program of the packages the full image has (openssh-client: ssh-keygen too)
        (None, "execFileSync('ssh-keygen', ['-t', 'ed25519', '-f', key])\n", "may run `ssh-keygen`"),
        ("git rev-parse --short HEAD > REVISION", "", "the start command runs `git`"),
    ],
)  # fmt: skip
def test_a_tool_run_from_a_string_or_a_start_script_keeps_the_full_image(
    tmp_path: Path, prestart: str | None, source: str, reason: str
) -> None:
    """node:20-slim has neither git nor xz: the endpoints answered 'not found', and npm
    start failed in its prestart hook."""
    scripts = {**BUILD, **({"prestart": prestart} if prestart else {})}
    root = _node_app(tmp_path, {"scripts": scripts, "dependencies": DEPS}, {"src/index.js": source})
    out, messages, _ = _split(NODE.format(extra="", cmd='["npm", "start"]'), root)
    assert "AS runtime" not in out
    assert f"{reason}, which node:20 has and node:20-slim lacks" in messages, messages


@pytest.mark.parametrize(
    "run, shown",
    [
        ('python -c "import app; app.init_db()"', "python -c"),
        ("python setup_data.py", "python setup_data.py"),
    ],
)
def test_project_code_run_by_the_build_may_write_anywhere(
    tmp_path: Path, run: str, shown: str
) -> None:
    """init_db() created /var/lib/notes/notes.db, which the runtime did not have."""
    out, messages = _py_split(tmp_path, "CMD", f"RUN {run}\nCMD")
    assert "AS runtime" not in out
    assert f"runs `{shown}`, which may write files outside the copied paths" in messages, messages
    assert "AS runtime" in _py_split(tmp_path)[0]


def test_a_computed_require_may_load_any_copied_file(tmp_path: Path) -> None:
    """``require(path.join(process.cwd(), 'app.config.js'))`` loaded a root config that
    required dayjs, a dev dependency."""
    sources = {
        "src/index.js": "const cfg = require(path.join(process.cwd(), 'app.config.js'))\n",
        "app.config.js": "module.exports = require('dayjs')(0)\n",
    }
    package = {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"dayjs": "1"}}
    root = _node_app(tmp_path, package, sources)
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" not in out
    assert "app.config.js imports dev dependency dayjs" in messages, messages


def test_more_sources_than_msdfix_reads_may_run_any_tool(tmp_path: Path) -> None:
    """Unknown is never absent: past the scan limit a source may call git or curl."""
    from msdfix.model.program_calls import MAX_SCANNED

    sources = {f"src/m{i}.js": "module.exports = 1\n" for i in range(MAX_SCANNED + 1)}
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, sources)
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "AS runtime" not in out
    assert "more sources than msdfix reads" in messages, messages
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "src/m0.js"]\n'
    result = rewrite(text, None, BuildContext(root), Settings(frozenset({"slim-base"})))
    assert result.output == text
    assert "too many sources to read which tools they run" in " ".join(
        f.message for f in result.suggestions
    )


@pytest.mark.parametrize(
    "meta, kept",
    [({"dev": True}, True), ({}, False), (None, True)],  # None: the lock does not list it
)
def test_an_undeclared_import_is_kept_unless_the_lock_installs_it_for_production(
    tmp_path: Path, meta: dict[str, object] | None, kept: bool
) -> None:
    """natural-compare is not in package.json: eslint (a dev dependency) brings it, and the
    prod-deps stage's `npm ci --omit=dev` did not (built for real: MODULE_NOT_FOUND)."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {
        "src/index.js": "require('express')\nconst compare = require('natural-compare')\n",
    })  # fmt: skip
    packages: dict[str, object] = {"": {}, "node_modules/express": {}}
    if meta is not None:
        packages["node_modules/natural-compare"] = meta
    lock = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": packages}
    (root / "package-lock.json").write_text(json.dumps(lock))
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "AS runtime" in out
    assert ("prod-deps" not in out) is kept, messages
    if kept:
        why = "only a dev dependency brings" if meta else "neither package.json nor the lock names"
        assert f"imports natural-compare, which {why}" in messages


def test_a_debian_slim_runtime_gets_the_toolchain_images_ca_certificates(tmp_path: Path) -> None:
    """golang has ca-certificates, debian:bookworm-slim does not: an HTTPS call failed with
    "x509: certificate signed by unknown authority" after a split for a shell-form CMD."""
    root = _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="", extra="ENV PORT=8080\n").replace(
        'CMD ["/app/server"]', "CMD /app/server -addr :$PORT"
    )
    out, _, _ = _split(text, root)
    runtime = out.split("AS runtime", 1)[1]
    assert "debian:bookworm-slim" in out
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/" in runtime, (
        runtime
    )


@pytest.mark.parametrize(
    "package, app",
    [
        ("gnupg", "import gnupg\ngnupg.GPG()\n"),  # python-gnupg runs gpg
        ("lsb-release", "import subprocess\n"),
        ("software-properties-common", ""),
    ],
)
def test_a_repository_setup_tool_the_build_never_runs_stays(
    tmp_path: Path, package: str, app: str
) -> None:
    """Built for real: gnupg, installed for python-gnupg (which runs gpg), was dropped as a
    build-only package and the app failed with "Unable to run gpg". Installed and never run
    by the build, such a tool was installed for the image's program."""
    install = f"RUN apt-get update && apt-get install -y --no-install-recommends {package}\n"
    out, messages = _py_split(tmp_path, "WORKDIR", f"{install}WORKDIR", {"app.py": app})
    assert "AS runtime" in out, messages
    assert f"install -y --no-install-recommends {package}" in out.split("AS runtime", 1)[1]


PRE_COMMIT = (
    "FROM python:3.12\nWORKDIR /opt/lint\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir --only-binary :all: --require-hashes -r requirements.txt\n"
    "WORKDIR /src\n{start}\n"
)


@pytest.mark.parametrize(
    "start, opaque",
    [
        # pre-commit runs git: on python:3.12-slim it failed with "git failed" (built for real)
        ('ENTRYPOINT ["pre-commit", "run"]\nCMD ["--all-files"]', "pre-commit"),
        ('CMD ["/usr/local/bin/ansible-playbook", "site.yml"]', "ansible-playbook"),
        ("CMD exec tini -- dvc pull", "dvc"),
        ('CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]', None),  # runs the app's code
        ('CMD ["python", "-m", "app"]', None),  # app.py of the context
        ('CMD ["python3", "-m", "http.server"]', None),  # the standard library
        ('CMD ["python", "-m", "pre_commit", "run"]', "pre-commit"),
        ('CMD ["./run.sh"]', None),  # a file of the app: read where it runs
        # round 17: a wrapper named by its path is the wrapper (Debian's tini is /usr/bin/tini)
        ('ENTRYPOINT ["/usr/bin/tini", "-g", "--"]\nCMD ["python", "app.py"]', None),
        ('ENTRYPOINT ["/sbin/tini", "-p", "SIGTERM", "--"]\nCMD ["python", "app.py"]', None),
        ('ENTRYPOINT ["/usr/bin/dumb-init", "--"]\nCMD ["dvc", "pull"]', "dvc"),
    ],
)
def test_a_start_program_whose_code_msdfix_does_not_read_is_unsafe(
    tmp_path: Path, start: str, opaque: str | None
) -> None:
    """A program installed by pip (or npm) runs tools msdfix cannot see: whether the slim
    runtime has them is unknown, so the split and slim-base are unsafe."""
    root = _write(tmp_path, {"requirements.txt": "identify==2.6.1 --hash=sha256:00\n"})
    (root / "app.py").write_text("print('hello')\n")
    text = PRE_COMMIT.format(start=start)
    for transform in (ID, "slim-base"):
        result = rewrite(text, None, BuildContext(root), Settings(frozenset({transform})))
        messages = " ".join(f.message for f in result.applied + result.suggestions)
        if opaque:
            assert not result.changed, transform
            assert f"`{opaque}`, a program whose own code msdfix does not read" in messages
        else:
            assert "whose own code msdfix does not read" not in messages


@pytest.mark.parametrize(
    "start, opaque",
    [
        # built for real (node:8, cross-env 7.0.3 as a dev and as a production dependency):
        # the split answered as the original, NODE_ENV=production in both
        ("cross-env NODE_ENV=production node index.js", None),
        ("cross-env NODE_ENV=production PORT=80 gitbook serve", "gitbook"),
    ],
)
def test_cross_env_in_a_start_script_runs_the_command_after_it(
    tmp_path: Path, start: str, opaque: str | None
) -> None:
    """cross-env is env's form: the program the start script runs is the one after its
    variables, not cross-env (whose code msdfix does not read)."""
    package = {"scripts": {"start": start}, "dependencies": DEPS}
    root = _node_app(tmp_path, {**package, "devDependencies": {"cross-env": "^7.0.3"}})
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["npm", "start"]\n'
    out, messages, _ = _split(text, root)
    assert "`cross-env`" not in messages
    if opaque:
        assert "AS runtime" not in out
        assert f"`{opaque}`, a program whose own code msdfix does not read" in messages
    else:
        assert "FROM node:20-slim AS runtime" in out


@pytest.mark.parametrize(
    ("start", "dev"),
    [
        # built for real (node:18, typescript 5.4.5): the split and the original answered the
        # same, the same app files; 746 -> 319 MB
        ("tsc && node dist/index.js", True),
        ("npm run build && node dist/index.js", False),
        ("tsc -p tsconfig.json && node dist/index.js", True),
    ],
)
def test_tsc_in_a_start_script_runs_no_tool_of_the_full_image(
    tmp_path: Path, start: str, dev: bool
) -> None:
    """TypeScript's compiler requires no child_process (3.9 to 5.9 read): a start script
    compiling with it splits safely, keeping typescript where it is a dev dependency."""
    deps = {"typescript": "5.4.5"}
    package = {"scripts": {"build": "tsc", "start": start}, "dependencies": DEPS}
    package = (
        {**package, "devDependencies": deps}
        if dev
        else {**package, "dependencies": {**DEPS, **deps}}
    )
    root = _node_app(
        tmp_path, package, {"tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'}
    )
    text = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD ["npm", "start"]\n'
    out, messages, _ = _split(text, root)
    assert "whose own code msdfix does not read" not in messages, messages
    assert "FROM node:18-slim AS runtime" in out, messages


@pytest.mark.parametrize(
    ("setting", "cmd", "unsafe"),
    [
        ("npm config set loglevel silent", '["npm", "start"]', True),
        ("npm set loglevel=silent", '["npm", "start"]', True),
        ("npm set progress=false", '["npm", "start"]', True),
        ("yarn config set ignore-engines true", '["yarn", "start"]', True),
        ("npm config set loglevel silent", '["node", "dist/index.js"]', False),
        ("npm config set --location=project loglevel silent", '["npm", "start"]', False),
        ("npm config get loglevel", '["npm", "start"]', False),
    ],
)
def test_npm_configuration_in_home_is_not_copied_for_a_start_script(
    tmp_path: Path, setting: str, cmd: str, unsafe: bool
) -> None:
    """Round 24, built: ``RUN npm config set loglevel silent`` (as root, and as a useradd -m
    user whose home the runtime makes), then ``CMD ["npm", "start"]``: the split's runtime
    lacks ~/.npmrc, so npm printed its "> app@1.0.0 start" lines, the original did not. An
    install setting counts too: npm passes it to the start script (``npm set
    progress=false``: npm_config_progress in the original's environment only)."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd=cmd).replace("RUN npm ci\n", f"RUN npm ci && {setting}\n")
    out, messages, _ = _split(text, root)
    assert ("AS runtime" not in out) is unsafe, messages
    reason = "configuration in a file of the user's home or the global folder"
    assert (reason in messages) is unsafe


WHEELS_ONLY = (
    "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir --only-binary :all: -r requirements.txt\nCOPY . .\n"
    "{extra}CMD {cmd}\n"
)


def _both(text: str, root: Path) -> dict[str, tuple[bool, str]]:
    """split-stages and slim-base alone: (changed, every message) of each."""
    found = {}
    for transform in (ID, "slim-base"):
        result = rewrite(text, None, BuildContext(root), Settings(frozenset({transform})))
        found[transform] = (
            result.changed,
            " ".join(f.message for f in result.applied + result.suggestions),
        )
    return found


# pip-compile --generate-hashes output for pystan (round 26: all wheels), shortened.
PYSTAN = {
    "requirements.txt": "".join(
        f"{name} --hash=sha256:{'0' * 64}\n"
        for name in ("httpstan==4.13.0", "numpy==2.4.6", "pystan==3.10.0", "webargs==8.7.1")
    ),
    "app.py": "import stan\nposterior = stan.build(CODE, random_seed=1)\n",
}


@pytest.mark.parametrize("drop, kept", [(None, True), ("pystan==3.10.0", True), ("stan", False)])
def test_a_package_that_compiles_models_while_the_program_runs_keeps_the_full_image(
    tmp_path: Path, drop: str | None, kept: bool
) -> None:
    """PyStan 3's httpstan compiles each model with g++ when the program calls stan.build:
    built for real from these wheels, python:3.11 sampled the model and the split on
    python:3.11-slim (safe before) failed with "CompileError(FileNotFoundError(2, 'No such
    file or directory'))". httpstan alone keeps it too; without either, the app moves."""
    lines = PYSTAN["requirements.txt"].splitlines(keepends=True)
    if drop is not None:
        lines = [line for line in lines if drop not in line]
    root = _write(tmp_path, {**PYSTAN, "requirements.txt": "".join(lines)})
    found = _both(WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]'), root)
    for transform, (changed, messages) in found.items():
        assert changed is not kept, (transform, messages)
        assert ("httpstan" in messages) is kept, (transform, messages)
    if kept:
        assert "msdfix knows no package that brings them" in found[ID][1]


@pytest.mark.parametrize(
    "files, extra, cmd, reason",
    [
        # each broke for real on python:3.12-slim (round 7)
        (
            {"start.py": 'import subprocess\nsubprocess.run(["make", "-s", "migrate"])\n'},
            "", '["python", "start.py"]', "`make`",
        ),
        ({"start.py": 'import os\nos.system("patch -p1 < fix.diff")\n'}, "", '["python", "start.py"]', "`patch`"),
        ({"Procfile": "web: gunicorn app:app\n"}, "", '["honcho", "start"]', "`honcho`"),
        ({"deploy/supervisord.conf": "[program:x]\n"}, "", '["supervisord", "-c", "deploy/supervisord.conf"]', "`supervisord`"),
        (
            {"plugins/.keep": ""}, "ONBUILD COPY plugins/ /app/plugins/\n"
            "ONBUILD RUN pip install -r /app/plugins/requirements.txt\n",
            '["python", "app.py"]', "ONBUILD",
        ),
        ({"start.py": 'print("make sure the patch is applied")\n'}, "", '["python", "start.py"]', None),
    ],
)  # fmt: skip
def test_what_the_program_runs_on_the_smaller_image_needs_evidence(
    tmp_path: Path, files: dict[str, str], extra: str, cmd: str, reason: str | None
) -> None:
    """Argv lists and shell strings a source runs (any tool the full image has, not only the
    distinctive names), process managers whose configuration runs commands, and ONBUILD
    triggers (split-stages declines them) keep the full image or make the move unsafe."""
    root = _write(
        tmp_path, {"requirements.txt": "flask==3.0.3 --hash=sha256:00\n", "app.py": "", **files}
    )
    result = _both(WHEELS_ONLY.format(extra=extra, cmd=cmd), root)
    for transform, (changed, messages) in result.items():
        if reason is None:
            assert changed, (transform, messages)
        else:
            assert not changed and reason in messages, (transform, messages)


def test_a_package_that_compiles_at_run_time_keeps_the_full_image(tmp_path: Path) -> None:
    """pyximport compiled a .pyx at import: "command 'x86_64-linux-gnu-gcc' failed"."""
    root = _write(tmp_path, {"requirements.txt": "cython==3.0.11 --hash=sha256:00\n", "app.py": ""})
    result = _both(WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]'), root)
    for transform, (changed, messages) in result.items():
        assert not changed and "cython" in messages, (transform, messages)


# ---------------------------------------------------------------- round 7: Node and Go apps

EXPRESS_LOCK = {
    "name": "app",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {"dependencies": {"express": "4.19.2"}, "devDependencies": {"bootstrap": "5.3.3"}},
        "node_modules/express": {"version": "4.19.2", "resolved": "https://r/e.tgz", "integrity": "x"},
        "node_modules/bootstrap": {"version": "5.3.3", "resolved": "https://r/b.tgz", "integrity": "x", "dev": True},
    },
}  # fmt: skip
NODE_SERVER = (
    "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\n{before}RUN npm ci{after}\nCOPY . .\n"
    '{build}EXPOSE 3000\nCMD ["node", "server.js"]\n'
)


def _express(root: Path, files: dict[str, str], scripts: dict[str, str] | None = None) -> Path:
    package = {
        "name": "app",
        "version": "1.0.0",
        "scripts": scripts or {},
        "dependencies": {"express": "4.19.2"},
        "devDependencies": {"bootstrap": "5.3.3"},
    }
    return _write(
        root,
        {
            "package.json": json.dumps(package),
            "package-lock.json": json.dumps(EXPRESS_LOCK),
            "server.js": "require('express')\n",
            **files,
        },
    )


@pytest.mark.parametrize(
    "files, scripts, before, after, kept",
    [
        # each lost files or settings in a real build: node_modules or the app came from a
        # separate production install that did not do what the build's install did
        ({"server.js": "app.use(express.static(__dirname + '/node_modules/bootstrap/dist'))\n"}, None, "", "", "reads files of dev dependency bootstrap"),
        ({}, {"apply": "patch-package"}, "", " && npm run apply", "writes into node_modules"),
        ({}, None, "", " --ignore-scripts && npm rebuild bcrypt", "npm rebuild"),
        ({"binding.gyp": "{}", "src/x.c": ""}, None, "", "", "node-gyp rebuild of binding.gyp"),
        ({"npmrc": "legacy-peer-deps=true\n"}, None, "COPY npmrc /root/.npmrc\n", "", "puts files outside /app"),
        ({}, None, "ENV NPM_CONFIG_USERCONFIG=/app/.npmrc.docker\n", "", "NPM_CONFIG_USERCONFIG names"),
        ({}, None, "", "", None),  # the control: a deps stage
    ],
)  # fmt: skip
def test_node_modules_come_from_the_build_when_a_separate_install_would_differ(
    tmp_path: Path,
    files: dict[str, str],
    scripts: dict[str, str] | None,
    before: str,
    after: str,
    kept: str | None,
) -> None:
    root = _express(tmp_path, files, scripts)
    text = NODE_SERVER.format(before=before, after=after, build="")
    out, messages, _ = _split(text, root)
    assert (" AS prod-deps" in out) is (kept is None), messages
    if kept:
        assert kept in messages


def test_a_script_runs_with_its_pre_and_post_hooks(tmp_path: Path) -> None:
    """``prebuild`` wrote generated/openapi.json: the runtime must take it (here: the whole
    app, since msdfix cannot tell what the hook writes)."""
    root = _express(
        tmp_path,
        {"gen.js": "require('fs').writeFileSync('generated/x.json', '{}')\n", "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'},
        {"prebuild": "node gen.js", "build": "tsc"},
    )  # fmt: skip
    text = NODE_SERVER.format(before="", after="", build="RUN npm run build\n")
    out, messages, _ = _split(text, root)
    assert (
        "COPY --from=app-files /app /app" in out or "copying /app/node_modules, /app;" in messages
    )


def test_a_dependency_named_for_git_keeps_the_repository(tmp_path: Path) -> None:
    """git-repo-info read .git/HEAD: the commit went null when the split dropped .git."""
    root = _express(tmp_path, {".git/HEAD": "ref: refs/heads/main\n"})
    package = json.loads((root / "package.json").read_text())
    package["dependencies"]["git-repo-info"] = "2.1.1"
    (root / "package.json").write_text(json.dumps(package))
    out, messages, _ = _split(NODE_SERVER.format(before="", after="", build=""), root)
    assert "/app/.git" in messages, messages
    package["dependencies"].pop("git-repo-info")
    (root / "package.json").write_text(json.dumps(package))
    assert "/app/.git" not in _split(NODE_SERVER.format(before="", after="", build=""), root)[1]


def _go_app(root: Path, **files: str) -> Path:
    go_mod = "module example.com/app\n\ngo 1.19\n"
    return _write(root, {"go.mod": go_mod, "main.go": "package main\nfunc main() {}\n", **files})


@pytest.mark.parametrize(
    "files, run, reason",
    [
        ({"cmd/bundle/main.go": "package main\n"}, "go run ./cmd/bundle && go build -o /app/server .", "runs `go run`"),
        ({"main.go": 'package main\nimport "go/importer"\nfunc main() { _ = importer.Default() }\n'}, "go build -o /app/server .", "imports go/importer"),
    ],
)  # fmt: skip
def test_a_go_build_that_needs_more_than_its_binary_is_unsafe(
    tmp_path: Path, files: dict[str, str], run: str, reason: str
) -> None:
    """``go run ./cmd/bundle`` wrote public/ (404 after the split); a type checker needed
    GOROOT ("could not import fmt")."""
    root = _go_app(tmp_path, **files)
    text = f'FROM golang:1.19\nWORKDIR /app\nCOPY . .\nRUN {run}\nCMD ["/app/server"]\n'
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out and reason in messages, messages


def test_cgo_flags_from_a_variable_keep_cgo(tmp_path: Path) -> None:
    """``-ldflags "$LDFLAGS"`` with ``-linkmode external`` in the ARG: CGO_ENABLED=0 gave a
    binary that died at start (SIGTRAP)."""
    root = _go_app(tmp_path)
    text = (
        'FROM golang:1.19\nARG LDFLAGS="-linkmode external -extldflags -static"\nWORKDIR /app\n'
        'COPY . .\nRUN go build -ldflags "$LDFLAGS" -o /app/server .\nCMD ["/app/server"]\n'
    )
    out, _, _ = _split(text, root)
    assert "CGO_ENABLED=0" not in out


def test_add_of_a_local_archive_declines_the_split(tmp_path: Path) -> None:
    """ADD unpacks data.tar.gz: the runtime's COPY of the archive's name failed the build."""
    root = _go_app(tmp_path, **{"data.tar.gz": ""})
    text = 'FROM golang:1.19\nWORKDIR /app\nCOPY . .\nADD data.tar.gz data/\nRUN go build -o /app/server .\nCMD ["/app/server"]\n'
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out, messages


# ---------------------------------------------------------------- round 8: Rust apps

RUST = 'FROM rust:1.75\nWORKDIR /app\nCOPY . .\n{run}RUN cargo build --release\n{extra}CMD ["/app/target/release/{bin}"]\n'
CARGO_LOCK = 'version = 3\n[[package]]\nname = "app"\nversion = "0.1.0"\n'


def _rust_app(root: Path, toml: str = "", lock: str = "", **files: str) -> Path:
    cargo = '[package]\nname = "app"\nversion = "0.1.0"\n' + toml
    files.setdefault("src/main.rs", "fn main() {}\n")
    return _write(root, {"Cargo.toml": cargo, "Cargo.lock": CARGO_LOCK + lock, **files})


def test_a_large_cargo_lock_is_read(tmp_path: Path) -> None:
    """A Cargo.lock over 1 MiB (a large workspace's) made the split unsafe with "no
    Cargo.lock in the context", which was untrue. It is read up to 64 MiB (its libz-sys
    named), and one msdfix cannot read (a link loop) is named as such."""
    filler = "".join(f'[[package]]\nname = "c{i}"\nversion = "1.0.0"\n' for i in range(40000))
    root = _rust_app(tmp_path, lock=filler + '[[package]]\nname = "libz-sys"\nversion = "1"\n')
    assert (root / "Cargo.lock").stat().st_size > 1 << 20
    out, messages, _ = _split(RUST.format(run="", extra="", bin="app"), root)
    assert "AS runtime" not in out
    assert "libz-sys links a system library" in messages, messages
    (root / "Cargo.lock").unlink()
    (root / "Cargo.lock").symlink_to("Cargo.lock")
    out, messages, _ = _split(RUST.format(run="", extra="", bin="app"), root)
    assert "AS runtime" not in out
    assert "Cargo.lock links outside the build context or in a loop, so the shared" in messages


def test_rust_binaries_are_the_ones_cargo_builds(tmp_path: Path) -> None:
    """A [[bin]] that claims src/main.rs renames the package binary (the COPY of
    target/release/app failed), and src/bin/*.rs binaries are built and run too."""
    root = _rust_app(
        tmp_path,
        '[[bin]]\nname = "ingestd"\npath = "src/main.rs"\n',
        **{"src/bin/worker.rs": "fn main() {}\n"},
    )
    out, messages, _ = _split(RUST.format(run="", extra="", bin="ingestd"), root)
    assert "/app/target/release/ingestd" in messages and "/app/target/release/worker" in messages
    assert "/app/target/release/app," not in messages


@pytest.mark.parametrize(
    "toml, lock, files, run, reason",
    [
        # each broke a real build or app (round 8)
        ('[[bin]]\nname = "app"\nrequired-features = ["cli"]\n', "", {}, "", "features msdfix cannot tell"),
        ("", '[[package]]\nname = "libz-sys"\nversion = "1"\n', {}, "", "libz-sys links a system library"),
        ("", "", {"build.rs": "fn main() {}\n"}, "", "build.rs runs code"),
        ("", "", {}, "RUN apt-get update && apt-get install -y libsqlite3-dev\n", "no runtime library known for libsqlite3-dev"),
        ("", "", {"src/main.rs": 'fn main() { nix::unistd::User::from_name("www-data"); }\n'}, "", "looks up system users"),
    ],
)  # fmt: skip
def test_a_rust_split_needs_evidence_of_what_the_binary_needs(
    tmp_path: Path, toml: str, lock: str, files: dict[str, str], run: str, reason: str
) -> None:
    root = _rust_app(tmp_path, toml, lock, **files)
    out, messages, _ = _split(RUST.format(run=run, extra="", bin="app"), root)
    assert "AS runtime" not in out and reason in messages, messages


@pytest.mark.parametrize(
    "files, kept",
    [
        ({"content/hello.md": "# hi\n"}, "/app/content"),  # a blog's posts, not docs
        ({"src/templates/status.html": "<p>\n"}, "/app/src"),  # loaded at run time
    ],
)
def test_rust_runtime_files_are_kept(tmp_path: Path, files: dict[str, str], kept: str) -> None:
    root = _rust_app(tmp_path, **files)
    _, messages, _ = _split(RUST.format(run="", extra="", bin="app"), root)
    assert kept in messages, messages


def test_a_rust_program_that_starts_programs_gets_a_runtime_with_them(tmp_path: Path) -> None:
    """``Command::new("df")`` on distroless (no programs at all): "No such file"."""
    root = _rust_app(
        tmp_path, **{"src/main.rs": 'fn main() { std::process::Command::new("df"); }\n'}
    )
    _, messages, _ = _split(RUST.format(run="", extra="", bin="app"), root)
    assert "runtime on debian:bookworm-slim" in messages, messages


def test_a_moved_binary_named_elsewhere_declines(tmp_path: Path) -> None:
    """HEALTHCHECK CMD /usr/local/cargo/bin/app: the runtime had it in /usr/local/bin."""
    root = _rust_app(tmp_path)
    text = (
        "FROM rust:1.75\nWORKDIR /app\nCOPY . .\nRUN cargo install --path .\n"
        'HEALTHCHECK CMD ["/usr/local/cargo/bin/app", "--check"]\nCMD ["app"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out and "names /usr/local/cargo/bin/app" in messages


# ---------------------------------------------------------------- round 9: framework apps


def test_a_compiler_helper_only_dev_dependencies_install_keeps_them(tmp_path: Path) -> None:
    """tsc importHelpers made dist/ require tslib, which only a dev dependency brought:
    "Cannot find module 'tslib'" with the prod-deps stage's node_modules (built for real)."""
    lock = json.loads(json.dumps(EXPRESS_LOCK))
    lock["packages"]["node_modules/tslib"] = {"version": "2.6.2", "dev": True}
    root = _express(tmp_path, {"package-lock.json": json.dumps(lock)})
    out, messages, _ = _split(NODE_SERVER.format(before="", after="", build=""), root)
    assert " AS prod-deps" not in out and "require tslib" in messages, messages


def test_a_dependency_that_runs_git_on_the_copied_repository_keeps_git(tmp_path: Path) -> None:
    """sentry-sdk's release came from `git rev-parse HEAD`: on python:3.12-slim it was null."""
    root = _write(tmp_path, {
        "requirements.txt": "sentry-sdk==2.0.0 --hash=sha256:00\n", "app.py": "", ".git/HEAD": "ref\n",
    })  # fmt: skip
    text = WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]')
    for transform, (changed, messages) in _both(text, root).items():
        assert not changed and "a dependency may run `git`" in messages, (transform, messages)


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "setuptools-scm==8.1.0 --hash=sha256:00\n"},
        {
            "requirements.txt": "flask==3.1.0 --hash=sha256:00\n",
            "setup.cfg": "[metadata]\nname = app\n[options]\nsetup_requires = setuptools_scm\n",
        },
    ],
)
def test_a_tool_that_takes_the_version_from_git_keeps_git(
    tmp_path: Path, files: dict[str, str]
) -> None:
    """``python -m setuptools_scm > VERSION`` (a RUN, or the entrypoint at start) ran `git
    describe` on the copied repository: on python:3.12-slim the build failed with "command
    git not found" (built for real), while dockerignore already kept .git for it."""
    root = _write(tmp_path, {**files, "app.py": "", ".git/HEAD": "ref\n"})
    text = WHEELS_ONLY.format(
        extra="RUN python -m setuptools_scm > VERSION\n", cmd='["python", "app.py"]'
    )
    changed, messages = _both(text, root)["slim-base"]
    assert not changed and "a dependency may run `git`" in messages, messages
    text = WHEELS_ONLY.format(extra="", cmd='["./entrypoint.sh", "python", "app.py"]')
    _write(
        tmp_path, {"entrypoint.sh": '#!/bin/sh\npython -m setuptools_scm > VERSION\nexec "$@"\n'}
    )
    for transform, (changed, messages) in _both(text, root).items():
        assert not changed and "a dependency may run `git`" in messages, (transform, messages)


def test_files_a_wildcard_copy_brings_reach_the_runtime(tmp_path: Path) -> None:
    """``COPY go.* *.go *.json ./`` and ``COPY templates/*.html ./templates/``: a source with
    wildcards was looked up literally, so settings.json and the templates the server reads at
    start were left behind (built for real: the rewritten server exited)."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\nimport "os"\nfunc main() { os.ReadFile("settings.json") }\n',
        "settings.json": "{}\n",
        "templates/index.html": "<h1>x</h1>\n",
        "templates/notes.txt": "not copied\n",
    })  # fmt: skip
    text = (
        "FROM golang:1.22\nWORKDIR /app\nCOPY go.* *.go *.json ./\n"
        "COPY templates/*.html ./templates/\nRUN go build -o server .\n"
        'CMD ["./server"]\n'
    )
    out, _, _ = _split(text, root)
    assert "AS runtime" in out
    assert "COPY --from=build /app/settings.json /app/settings.json" in out
    assert "/app/templates/index.html" in out
    assert "notes.txt" not in out and "/app/main.go" not in out


def test_a_source_a_wildcard_copy_brings_is_read_for_the_tools_it_runs(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\nimport "os/exec"\nfunc main() { exec.Command("git", "log").Run() }\n',
    })  # fmt: skip
    text = GO.format(flags="", extra="").replace("COPY . .", "COPY go.mod *.go ./")
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "may run `git`, which golang:1.22 has" in messages


@pytest.mark.parametrize(
    "call, tool",
    [
        ('exec.Command("gofmt")', "gofmt"),
        ('exec.CommandContext(ctx, "go", "vet", "./...")', "go"),
    ],
)
def test_a_program_that_runs_the_go_toolchain_keeps_the_full_image(
    tmp_path: Path, call: str, tool: str
) -> None:
    """A gofmt-as-a-service split onto distroless answered HTTP 500 (built for real): the
    runtime of a split never has the build image's toolchain."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": f'package main\nimport "os/exec"\nfunc main() {{ {call}.Run() }}\n',
    })  # fmt: skip
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" not in out
    assert f"`{tool}`, which golang:1.22 has" in messages


def test_a_go_program_that_names_go_in_a_string_is_still_split(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": (
            'package main\nimport "fmt"\nvar langs = []string{"go", "rust"}\n'
            'func main() { if langs[0] == "go" { fmt.Println("go", langs) } }\n'
        ),
    })  # fmt: skip
    out, _, _ = _split(GO.format(flags="", extra=""), root)
    assert "AS runtime" in out


def test_a_jar_that_compiles_java_while_it_runs_keeps_the_jdk(tmp_path: Path) -> None:
    """The JRE runtime of a Maven split has no compiler: ToolProvider.getSystemJavaCompiler()
    returns null there."""
    fixture = Path(__file__).parent.parent / "fixtures/split-stages/java-maven"
    text = (fixture / "Dockerfile").read_text()
    _write(tmp_path, {"pom.xml": (fixture / "pom.xml").read_text()})
    source = tmp_path / "src/main/java/com/example/Hello.java"
    _write(tmp_path, {"src/main/java/com/example/Hello.java": "class Hello {}\n"})
    out, _, _ = _split(text, tmp_path)
    assert "eclipse-temurin:17-jre AS runtime" in out
    source.write_text(
        "class Hello { Object c = javax.tools.ToolProvider.getSystemJavaCompiler(); }\n"
    )
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out
    assert "Hello.java compiles Java or runs a JDK tool" in messages


@pytest.mark.parametrize(
    "tag, runtime",
    [
        ("1.19", "debian:bookworm-slim"),  # bookworm since 1.19.10 (June 2023)
        ("1.17", "debian:bullseye-slim"),
        ("1.19-bullseye", "debian:bullseye-slim"),
    ],
)
def test_a_cgo_binary_runs_on_the_debian_release_of_the_tags_last_image(
    tmp_path: Path, tag: str, runtime: str
) -> None:
    """golang:1.19 is built on bookworm: its cgo binaries need glibc 2.34+ symbols, which
    bullseye (2.31) lacks."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\n// #include <stdio.h>\nimport "C"\nfunc main() {}\n',
    })  # fmt: skip
    text = f"FROM golang:{tag}\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/server .\nCMD /app/server\n"
    out, _, _ = _split(text, root)
    assert f"FROM {runtime} AS runtime" in out


def test_go_files_a_program_reads_as_data_reach_the_runtime(tmp_path: Path) -> None:
    """A snippets server reads examples/*.go at run time: a copied source names a .go file,
    so the .go files are not left behind as sources only."""
    files = {
        "go.mod": "module example.com/app\n",
        "examples/hello.go": "//go:build ignore\n\npackage main\n",
        "main.go": (
            'package main\nimport ("os"; "strings")\n'
            'func main() { n := os.Args[1]; if strings.HasSuffix(n, ".go") { os.ReadFile(n) } }\n'
        ),
    }
    out, _, _ = _split(GO.format(flags="", extra=""), _write(tmp_path, files))
    assert "COPY --from=build /app/examples /app/examples" in out
    (tmp_path / "main.go").write_text('package main\nfunc main() { println("go") }\n')
    (tmp_path / "main_test.go").write_text('package main\nvar fixture = "testdata/a.go"\n')
    out, _, _ = _split(GO.format(flags="", extra=""), tmp_path)
    assert "AS runtime" in out and "/app/examples" not in out


def test_files_a_jar_reads_from_the_source_tree_reach_the_runtime(tmp_path: Path) -> None:
    """``Path.of("src/main/resources/static")``: served from the source tree at run time."""
    fixture = Path(__file__).parent.parent / "fixtures/split-stages/java-maven"
    text = (fixture / "Dockerfile").read_text()
    java = 'class Hello { Object root = java.nio.file.Path.of("src/main/resources/static"); }\n'
    _write(tmp_path, {
        "pom.xml": (fixture / "pom.xml").read_text(),
        "src/main/java/com/example/Hello.java": java,
        "src/main/resources/static/index.html": "<h1>x</h1>\n",
    })  # fmt: skip
    out, _, _ = _split(text, tmp_path)
    assert "/build/src/main/resources/static/index.html" in out


PY_SPLIT = (
    "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --only-binary=:all: -r requirements.txt\nCOPY . .\n{extra}"
)
PINNED = "# This file is autogenerated by pip-compile with Python 3.11\nflask==3.0.3\n"


@pytest.mark.parametrize(
    "extra, tool",
    [
        # built for real: the runtime on python:3.11-slim exited with "git: not found"
        (
            'CMD ["sh", "-ec", "GIT_REV=$(git rev-parse --short HEAD); export GIT_REV; '
            'exec gunicorn -b 0.0.0.0:8000 app:app"]\n',
            "git",
        ),
        ("CMD REV=`git rev-parse HEAD` gunicorn app:app\n", "git"),
        ("CMD echo start && git rev-parse HEAD > rev && exec gunicorn app:app\n", "git"),
        (
            'HEALTHCHECK CMD test "$(curl -fsS localhost:8000/health)" = ok\n'
            'CMD ["gunicorn", "app:app"]\n',
            "curl",
        ),
    ],
)
def test_a_start_command_runs_the_programs_of_its_whole_shell_script(
    tmp_path: Path, extra: str, tool: str
) -> None:
    """Every command of a shell-form CMD, and those in $(...) and backquotes, must be in the
    runtime: neither split-stages nor slim-base moves to python:3.11-slim without git/curl."""
    _write(tmp_path, {"requirements.txt": PINNED, "app.py": "app = None\n"})
    text = PY_SPLIT.format(extra=extra)
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out and f"`{tool}`" in messages, messages
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert "-slim" not in result.output, result.output


def test_slim_base_sees_a_build_run_of_a_command_substitution(tmp_path: Path) -> None:
    """`REV=$(git rev-parse HEAD) && ...` fails the build where git is missing (built for
    real on python:3.11-slim: exit code 127)."""
    _write(tmp_path, {"requirements.txt": PINNED, "app.py": "app = None\n"})
    text = PY_SPLIT.format(
        extra="RUN REV=$(git rev-parse --short HEAD) && echo $REV > REVISION\nUSER nobody\n"
        'CMD ["gunicorn", "app:app"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert result.output == text
    assert "uses git" in " ".join(f.message for f in result.suggestions)


def test_a_substituted_coreutil_keeps_the_split(tmp_path: Path) -> None:
    """`gunicorn -w $(nproc)`: nproc is in every image, and is no app of unknown code."""
    _write(tmp_path, {"requirements.txt": PINNED, "app.py": "app = None\n"})
    text = PY_SPLIT.format(extra='CMD ["sh", "-c", "exec gunicorn -w $(nproc) app:app"]\n')
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" in out, messages


def test_slim_base_reads_env_values_for_tools_as_split_stages_does(tmp_path: Path) -> None:
    """`ENV FETCH_TOOL=curl` and `subprocess.run([os.environ["FETCH_TOOL"], ...])`: split-stages
    declined its python:3.11-slim runtime on the ENV; slim-base now does the same."""
    _write(
        tmp_path,
        {
            "requirements.txt": PINNED,
            "app.py": 'import os, subprocess\nsubprocess.run([os.environ["FETCH_TOOL"], "-V"])\n',
        },
    )
    text = PY_SPLIT.replace("WORKDIR", "ENV FETCH_TOOL=curl\nWORKDIR").format(
        extra='CMD ["python", "app.py"]\n'
    )
    _, messages, _ = _split(text, tmp_path)
    assert "`curl`" in messages, messages
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert result.output == text
    assert "names `curl`" in " ".join(f.message for f in result.suggestions)


def test_a_docstring_is_no_shell_script(tmp_path: Path) -> None:
    """A docstring line that starts with a tool's name is prose, not a command."""
    source = 'def sync():\n    """Fetch the export.\n\n    git history is kept.\n    """\n'
    _write(tmp_path, {"app.py": source})
    text = 'FROM python:3.12\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert "python:3.12-slim" in result.output, result.suggestions


def test_a_dependency_reading_project_configuration_keeps_the_builds_node_modules(
    tmp_path: Path,
) -> None:
    """The build's install saw `.puppeteerrc.cjs` (`skipDownload`): puppeteer's install script
    reads it from the project. A prod-deps stage with the manifests alone would download
    Chrome (a failed build without network, 280 MB more with): node_modules stays the build's
    own."""
    lock = {
        "name": "app", "lockfileVersion": 3, "requires": True,
        "packages": {"": {}, "node_modules/puppeteer": {"version": "21.5.2", "hasInstallScript": True}},
    }  # fmt: skip
    root = _write(tmp_path, {
        "package.json": json.dumps({"name": "app", "version": "1.0.0", "scripts": BUILD,
                                    "dependencies": {**DEPS, "puppeteer": "21.5.2"}}),
        "package-lock.json": json.dumps(lock),
        ".puppeteerrc.cjs": "module.exports = { skipDownload: true };\n",
        "src/index.js": "require('express'); require('puppeteer')\n",
    })  # fmt: skip
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD ["node", "dist/index.js"]\n'
    out, messages, _ = _split(text, root)
    assert " AS prod-deps" not in out
    assert "may read .puppeteerrc.cjs (read by puppeteer's install script)" in messages


@pytest.mark.parametrize(
    ("move", "written"),
    [
        ("mv /tmp/node_modules $APP", "writes /usr/src/app, which the runtime does not copy"),
        (
            "export DEST=$APP && mv /tmp/node_modules $DEST",
            "writes $DEST, a path msdfix cannot work out",
        ),
    ],
)
def test_a_write_to_a_path_in_a_variable_is_weighed_like_one_written_out(
    tmp_path: Path, move: str, written: str
) -> None:
    """`npm install` in /tmp, then `mv /tmp/node_modules $APP`: the runtime copied /tmp and the
    app's sources but not $APP/node_modules, and the app failed with MODULE_NOT_FOUND (built
    for real: misterwil/mellow). A write target with a variable is expanded from ENV; one that
    stays unknown (a variable of the shell) makes the split unsafe too."""
    root = _write(tmp_path, {
        "package.json": json.dumps({"name": "app", "dependencies": DEPS}),
        "src/index.js": "require('express')\n",
    })  # fmt: skip
    text = (
        "FROM node:20\nENV APP /usr/src/app\nCOPY package.json /tmp/package.json\n"
        f"RUN cd /tmp && npm install && {move}\n"
        'COPY src $APP/src\nWORKDIR $APP\nCMD ["node", "src/index.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert written in messages, messages


def test_a_copied_symlink_into_a_dev_dependency_keeps_the_builds_node_modules(
    tmp_path: Path,
) -> None:
    """`public/vendor/bootstrap -> ../../node_modules/bootstrap/dist` with bootstrap a dev
    dependency: COPY keeps the link, the prod-deps stage does not install bootstrap, and the
    page's CSS answered 404 (built for real: hackundsoehne/talkit-event-app-api)."""
    root = _node_app(
        tmp_path,
        {"scripts": BUILD, "dependencies": DEPS, "devDependencies": {"bootstrap": "^5.3.2"}},
        {"public/index.html": "<link href='/vendor/bootstrap/css/bootstrap.min.css'>\n"},
    )
    (root / "public/vendor").mkdir()
    (root / "public/vendor/bootstrap").symlink_to("../../node_modules/bootstrap/dist")
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert " AS prod-deps" not in out
    assert "public/vendor/bootstrap links to ../../node_modules/bootstrap/dist" in messages


COMPILED = "# This file is autogenerated by pip-compile with Python 3.12\n"


@pytest.mark.parametrize(
    "option", ["--no-binary psutil", "--no-binary=psutil", "--prefer-binary --no-binary psutil"]
)
def test_a_no_binary_line_of_the_requirements_defeats_only_binary(
    tmp_path: Path, option: str
) -> None:
    """``--no-binary psutil`` in requirements.txt wins over ``--only-binary :all:`` on the
    command line (pip reads the file's options after it): psutil was built from its sdist,
    and on python:3.12-slim the build failed without gcc (built for real)."""
    root = _write(tmp_path, {
        "requirements.txt": f"{COMPILED}{option}\nflask==3.1.0\npsutil==6.1.0\n", "app.py": "",
    })  # fmt: skip
    text = WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]')
    for transform, (changed, messages) in _both(text, root).items():
        assert not changed and "compile" in messages, (transform, messages)
    uv = text.replace("pip install --no-cache-dir", "uv pip install --system")
    result = rewrite(uv, None, BuildContext(root), Settings(frozenset({"cache-mount"})))
    assert "/root/.cache/uv" not in result.output  # uv keeps the wheel it builds in its cache
    _write(tmp_path, {"requirements.txt": f"{COMPILED}--no-binary :none:\nflask==3.1.0\n"})
    assert _both(text, root)["slim-base"][0]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            'import ctypes, ctypes.util\nlib = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")\n',
            "loads the system library libpq by name",
        ),
        ('from ctypes import cdll\nmagic = cdll.LoadLibrary("libmagic.so.1")\n', "libmagic"),
        (
            'import ctypes, os\nxml = ctypes.CDLL(os.environ.get("XML_LIB", "libxml2.so.2"))\n',
            "libxml2",
        ),
        (  # a soname with dots
            'import ctypes, os\nldap = ctypes.CDLL(os.environ.get("LDAP", "libldap-2.5.so.0"))\n',
            "libldap-2.5",
        ),
        (
            "from cffi import FFI\nffi = FFI()\nffi.cdef('int add(int, int);')\n"
            "ffi.set_source('_fast', 'static int add(int a, int b) { return a + b; }')\n"
            "ffi.compile(tmpdir='/tmp/build')\n",
            "compiles C with cffi when it runs",
        ),
        # a source over 1 MiB (read as none: the split and -slim were safe) is unknown
        (
            'from ctypes import cdll\nmagic = cdll.LoadLibrary("libmagic.so.1")\n' + "#\n" * (1 << 19),
            "app.py is over 1 MiB, so ",
        ),
    ],
)  # fmt: skip
def test_a_source_that_loads_a_library_or_compiles_c_keeps_the_full_image(
    tmp_path: Path, source: str, reason: str
) -> None:
    """The app's own ``ctypes.CDLL("libpq.so.5")`` (gunicorn's worker failed to boot: libpq.so.5
    missing) and a cffi module compiled at import (no gcc) broke safe splits to
    python:3.12-slim, built for real; slim-base alike."""
    root = _write(tmp_path, {
        "requirements.txt": f"{COMPILED}flask==3.1.0\ncffi==1.17.1\n", "app.py": source,
    })  # fmt: skip
    text = WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]')
    for transform, (changed, messages) in _both(text, root).items():
        assert not changed and reason in messages, (transform, messages)
    _write(tmp_path, {"app.py": 'import ctypes\nlibc = ctypes.CDLL("libc.so.6")\n'})
    assert all(changed for changed, _ in _both(text, root).values())


NODE_FFI = (
    "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\n"
    'CMD ["node", "server.js"]\n'
)


@pytest.mark.parametrize(
    ("package", "source", "reason"),
    [
        (
            "koffi",
            "const koffi = require('koffi');\nconst ldap = koffi.load('libldap-2.5.so.0');\n",
            "server.js loads the system library libldap-2.5 by name",
        ),
        (
            "koffi",
            "import koffi from 'koffi';\nconst pq = koffi.load(process.env.PQ || 'libpq.so.5');\n",
            "libpq",
        ),
        (
            "ffi-napi",
            "const ffi = require('ffi-napi');\nconst c = ffi.Library('libcrypto', {});\n",
            "libcrypto",
        ),
    ],
)  # fmt: skip
def test_a_node_source_that_loads_a_library_through_ffi_keeps_the_full_image(
    tmp_path: Path, package: str, source: str, reason: str
) -> None:
    """koffi (prebuilt, nothing in the lock file says what it loads) opening
    ``libldap-2.5.so.0``, which node:18 has: the safe split's node:18-slim runtime failed at
    start with "cannot open shared object file" (built for real); slim-base alike."""
    root = _node_app(tmp_path, {"dependencies": {package: "2.9.0"}}, {"server.js": source})
    for transform, (changed, messages) in _both(NODE_FFI, root).items():
        assert not changed and reason in messages, (transform, messages)
    _write(tmp_path, {"server.js": "const k = require('koffi');\nk.load('libc.so.6');\n"})
    assert _both(NODE_FFI, root)[ID][0]


ADDON = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nCMD ["node", "server.js"]\n'


@pytest.mark.parametrize(
    ("libraries", "reason"),
    [
        ('["-l:libldap-2.5.so.0"]', "binding.gyp links the system library libldap-2.5"),
        ('["-lpq", "-lm"]', "binding.gyp links the system library libpq"),
        ('["<!@(pkg-config --libs libxml-2.0)"]', "libxml-2.0"),
    ],
)
def test_a_local_addon_linking_a_library_keeps_the_full_image(
    tmp_path: Path, libraries: str, reason: str
) -> None:
    """The project's own binding.gyp (``npm ci`` runs node-gyp rebuild) linked libldap, which
    node:18 has: on the safe split's node:18-slim runtime ``require('./build/Release/x.node')``
    failed with "libldap-2.5.so.0: cannot open shared object file" (built for real)."""
    gyp = f'{{"targets": [{{"target_name": "x", "sources": ["x.c"], "libraries": {libraries}}}]}}'
    root = _node_app(tmp_path, {"gypfile": True}, {"binding.gyp": gyp, "server.js": ""})
    out, messages, _ = _split(ADDON, root)
    assert "AS runtime" not in out and reason in messages, messages
    _write(tmp_path, {"binding.gyp": gyp.replace(libraries, '["-lm", "-lpthread"]')})
    assert "AS runtime" in _split(ADDON, root)[0]


@pytest.mark.parametrize(
    "package",
    [
        "ps-tree",
        "pidtree",
        "git-rev-sync",
        "canvas",
        "easyimage",
        "imagemagick-stream",
        "git-last-commit",
        "git-rev",
        "git-state",
        "gitlog",
        "git-promise",
        "youtube-dl-exec",
    ],
)
def test_node_packages_that_run_a_full_image_program_keep_it(tmp_path: Path, package: str) -> None:
    """ps-tree and pidtree spawn procps' ``ps`` on Linux and git-rev-sync runs ``git`` (their
    sources, read from the npm tarballs), easyimage and imagemagick-stream run ImageMagick's
    ``convert``, and git-last-commit, git-rev, git-state, gitlog and git-promise ``git``:
    youtube-dl-exec ``python3`` (its README): node:18-slim has none of them. node-canvas draws
    text with the system's fonts (fontconfig), which node:18-slim has none of: the text turns
    to boxes (Automattic/node-canvas#1780)."""
    root = _node_app(tmp_path, {"dependencies": {package: "1.0.0"}}, {"server.js": ""})
    out, messages, _ = _split(NODE_FFI, root)
    assert "AS runtime" not in out
    assert f"{package} needs libraries or programs that node:18-slim lacks" in messages


@pytest.mark.parametrize(
    ("files", "text"),
    [
        ({"lib/ldapver.node": "\x7fELF", "server.js": ""}, NODE_FFI),
        (
            {"vendor/libacme.so.1": "\x7fELF", "requirements.txt": f"{COMPILED}flask==3.1.0\n"},
            WHEELS_ONLY.format(extra="", cmd='["python", "app.py"]'),
        ),
    ],
)
def test_a_copied_compiled_file_keeps_the_full_image(
    tmp_path: Path, files: dict[str, str], text: str
) -> None:
    """A committed addon (``lib/ldapver.node``, built on node:18 against libldap) ran on
    node:18 and failed on the safe split's node:18-slim ("libldap-2.5.so.0: cannot open
    shared object file", built for real): a compiled file the stage copies from the context
    may link libraries the runtime lacks, as slim-base already said."""
    root = _node_app(tmp_path, {}) if "server.js" in files else tmp_path
    _write(root, files)
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "copies compiled code" in messages, messages


def test_node_rdkafka_keeps_the_full_image(tmp_path: Path) -> None:
    """node-rdkafka compiles librdkafka at install, linking the libssl and libsasl2 the full
    image has ("Error loading shared library libsasl2.so.2 (needed by .../librdkafka.so.1)",
    Blizzard/node-rdkafka#527); node:18-slim has neither (static: the stand-in node:18 has no
    libssl-dev)."""
    root = _node_app(tmp_path, {"dependencies": {"node-rdkafka": "^3.0.1"}}, {"server.js": ""})
    out, messages, _ = _split(NODE_FFI, root)
    assert "AS runtime" not in out
    assert "node-rdkafka needs libraries or programs that node:18-slim lacks" in messages


@pytest.mark.parametrize(
    ("cmd", "safe"),
    [('["pnpm", "--filter", "api", "start"]', False), ('["node", "dist/index.js"]', True)],
)
def test_corepack_package_managers_stay_when_the_start_command_may_run_them(
    tmp_path: Path, cmd: str, safe: bool
) -> None:
    """``corepack enable`` puts the pnpm/yarn shims in /usr/local/bin and downloads the pinned
    version at the first install: built for real (a pnpm workspace), the slim runtime had no
    ``pnpm`` and the node entrypoint ran ``node pnpm``: Cannot find module '/app/pnpm'."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd=cmd).replace("WORKDIR", "RUN corepack enable\nWORKDIR")
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is safe, messages
    if not safe:
        assert "corepack at line 2 provides the package manager" in messages, messages


def test_the_install_directory_option_names_the_project(tmp_path: Path) -> None:
    """``npm install --prefix apps/api`` installs apps/api's package.json: built for real, the
    split read the repository root's package.json, missed simple-git and moved the app onto
    node:20-slim without git; ``npm ci --prefix /opt/deps`` made it copy a missing
    /app/node_modules ("not found")."""
    _write(tmp_path, {
        "package.json": json.dumps({"name": "root", "devDependencies": {"prettier": "3.3.3"}}),
        "apps/api/package.json": json.dumps({"name": "api", "dependencies": {"simple-git": "3"}}),
        "apps/api/server.js": "require('simple-git')\n",
    })  # fmt: skip
    for install in ("npm install --omit=dev --prefix apps/api", "yarn --cwd apps/api install"):
        text = (
            f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
            'CMD ["node", "apps/api/server.js"]\n'
        )
        out, messages, _ = _split(text, tmp_path)
        assert "AS runtime" not in out, install
        assert "simple-git needs libraries or programs" in messages, messages
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY apps/api/package.json /opt/deps/\n"
        "RUN npm install --omit=dev --prefix /opt/deps\nENV NODE_PATH=/opt/deps/node_modules\n"
        'COPY apps/api/server.js .\nCMD ["node", "server.js"]\n'
    )
    (tmp_path / "apps/api/package.json").write_text(json.dumps({"dependencies": DEPS}))
    out, _, _ = _split(text, tmp_path)
    assert "COPY --from=build /opt/deps /opt/deps" in out, out
    assert "/app/node_modules" not in out, out


@pytest.mark.parametrize(
    ("root", "member_dir", "extra"),
    [
        ({"workspaces": ["packages/*", "apps/*"]}, "packages/vcs", {}),
        ({}, "packages/vcs", {"pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n"}),
        ({"dependencies": {"@acme/vcs": "file:./libs/vcs"}}, "libs/vcs", {}),
    ],
)
def test_local_packages_dependencies_count_for_the_slim_runtime(
    tmp_path: Path, root: dict[str, object], member_dir: str, extra: dict[str, str]
) -> None:
    """A workspace member's (or a ``file:`` dependency's) own package.json depends on
    simple-git; without a lock file naming it, the split read only the root package.json and
    moved the app onto node:20-slim: built for real, ``spawn git ENOENT`` (HTTP 500)."""
    _write(tmp_path, {
        "package.json": json.dumps({"name": "mono", "private": True, **root}),
        f"{member_dir}/package.json": json.dumps(
            {"name": "@acme/vcs", "dependencies": {"simple-git": "3.24.0"}}
        ),
        f"{member_dir}/index.js": "module.exports = require('simple-git')\n",
        "server.js": "require('@acme/vcs')\n",
        **extra,
    })  # fmt: skip
    text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install --omit=dev\nCMD ["node", "server.js"]\n'
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out, out
    assert "simple-git needs libraries or programs" in messages, messages


def test_a_manifest_copied_from_another_folder_keeps_the_builds_node_modules(
    tmp_path: Path,
) -> None:
    """``COPY .npmrc apps/web/package.json apps/web/package-lock.json ./``: the root .npmrc
    (``legacy-peer-deps=true``) configured the install, and the prod-deps stage, which looked
    for apps/web/.npmrc, installed without it: built for real, ``npm ci --omit=dev`` failed
    with ERESOLVE."""
    lock = {"name": "web", "lockfileVersion": 3, "requires": True, "packages": {"": {}}}
    _write(tmp_path, {
        ".npmrc": "legacy-peer-deps=true\n",
        "apps/web/package.json": json.dumps(
            {"name": "web", "scripts": BUILD, "dependencies": DEPS}
        ),
        "apps/web/package-lock.json": json.dumps(lock),
        "apps/web/src/index.js": "require('express')\n",
    })  # fmt: skip
    text = (
        "FROM node:20\nWORKDIR /app\n"
        "COPY .npmrc apps/web/package.json apps/web/package-lock.json ./\nRUN npm ci\n"
        'COPY apps/web/ ./\nRUN npm run build\nCMD ["node", "dist/index.js"]\n'
    )
    out, messages, _ = _split(text, tmp_path)
    assert " AS prod-deps" not in out, out
    assert "/app/.npmrc comes from .npmrc" in messages, messages


@pytest.mark.parametrize(
    ("build", "cmd"),
    [
        ("RUN npm run build && cp -r . /prod/api\nWORKDIR /prod/api\n", '["node", "index.js"]'),
        ("RUN npm run build\n", '["node", "/srv/web/server.js"]'),
    ],
)
def test_a_start_script_outside_the_copied_paths_keeps_the_full_image(
    tmp_path: Path, build: str, cmd: str
) -> None:
    """The file ``node`` starts must reach the runtime: built for real, ``pnpm deploy
    --filter=api --prod /prod/api`` + ``WORKDIR /prod/api`` + ``node server.js``, and an
    esbuild ``--outfile=/srv/web/server.js`` with ``CMD node /srv/web/server.js``, each got a
    runtime with only the app directory: Cannot find module."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd=cmd).replace("RUN npm run build\n", build)
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out, out
    assert "which the runtime would not have" in messages, messages


@pytest.mark.parametrize(("manifests_first", "separate"), [(False, True), (True, False)])
def test_kept_node_modules_get_a_layer_of_their_own_when_the_install_follows_the_sources(
    tmp_path: Path, manifests_first: bool, separate: bool
) -> None:
    """An npm workspace (dev dependencies kept) copied whole re-copied all of node_modules on
    every source edit: built for real, the warm rebuild went from 10 s to 15.5 s. node_modules
    now comes in a COPY of its own (unchanged after an identical install), the rest from an
    app-files stage; not when the install already runs on the manifests alone."""
    _write(tmp_path, {
        "package.json": json.dumps({"name": "mono", "workspaces": ["packages/*"],
                                    "devDependencies": {"typescript": "5.4.5"}}),
        "package-lock.json": json.dumps({"lockfileVersion": 3, "packages": {"": {}}}),
        "packages/shared/package.json": json.dumps({"name": "@acme/shared"}),
        "server.js": "require('@acme/shared')\n",
    })  # fmt: skip
    head = "COPY package*.json ./\nCOPY packages/shared/package.json packages/shared/\nRUN npm ci\n"
    body = "COPY . .\n" if manifests_first else "COPY . .\nRUN npm ci\n"
    text = (
        "FROM node:20\nWORKDIR /app\n"
        + (head if manifests_first else "")
        + body
        + 'RUN npm run build --if-present\nCMD ["node", "server.js"]\n'
    )
    out, _, _ = _split(text, tmp_path)
    assert "AS runtime" in out, out
    assert ("COPY --from=build /app/node_modules /app/node_modules" in out) is separate, out
    assert ("FROM build AS app-files" in out) is separate, out


def test_node_modules_is_not_copied_twice_when_a_folder_above_the_app_is_copied(
    tmp_path: Path,
) -> None:
    """``COPY . .`` at /repo, the app in /repo/apps/api: the runtime copied
    /repo/apps/api/node_modules and then /repo, which holds it again (two layers of the same
    files, both rebuilt after a source edit: warm rebuild 3.3 s -> 5.2 s, built for real)."""
    lock = {"name": "api", "lockfileVersion": 3, "requires": True, "packages": {"": {}}}
    _write(tmp_path, {
        "apps/api/package.json": json.dumps({"name": "api", "dependencies": DEPS}),
        "apps/api/package-lock.json": json.dumps(lock),
        "apps/api/server.js": "require('express'); require('../../packages/shared')\n",
        "packages/shared/index.js": "module.exports = 1\n",
    })  # fmt: skip
    text = (
        "FROM node:20\nWORKDIR /repo\nCOPY . .\nWORKDIR /repo/apps/api\n"
        'RUN npm ci --omit=dev\nCMD ["node", "server.js"]\n'
    )
    out, _, _ = _split(text, tmp_path)
    assert "COPY --from=build /repo/apps/api/node_modules /repo/apps/api/node_modules" in out, out
    assert "FROM build AS app-files\nRUN rm -rf /repo/apps/api/node_modules" in out, out
    assert "COPY --from=app-files /repo /repo" in out, out


@pytest.mark.parametrize("value, kept", [('"/app/offline"', True), ('"/srv/mirror"', False)])
def test_an_absolute_config_path_into_the_app_keeps_the_builds_node_modules(
    tmp_path: Path, value: str, kept: bool
) -> None:
    """An npm/yarn setting naming a path of the app (``yarn-offline-mirror "/app/offline"``,
    ``cafile=/app/...``): the prod-deps stage, which
    has the manifests only, failed offline (built for real, round 11); a path outside the
    app is not the project's."""
    root = _node_app(
        tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {".npmrc": f"cafile={value}\n"}
    )
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert ("prod-deps" not in out) is kept, messages


def test_a_plug_n_play_split_is_unsafe_unless_the_cache_is_in_the_app(tmp_path: Path) -> None:
    """yarn 4 keeps Plug'n'Play's cache in ~/.yarn/berry/cache, outside the copied app: the
    split runtime failed with "Required package missing from disk" (built for real)."""
    _write(tmp_path, {
        "package.json": json.dumps({
            "name": "b", "packageManager": "yarn@4.5.0", "dependencies": {"ms": "2.1.3"},
            "scripts": {"build": "node build.js"},
        }),
        ".yarnrc.yml": "nodeLinker: pnp\n",
        "yarn.lock": "__metadata:\n  version: 8\n",
        "build.js": "require('fs').writeFileSync('out.js', '')\n",
    })  # fmt: skip
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN corepack enable && yarn install && yarn build\n"
        'CMD ["node", "-r", "./.pnp.cjs", "out.js"]\n'
    )
    out, messages, _ = _split(text, tmp_path)
    assert out == text
    assert "~/.yarn/berry/cache" in messages, messages
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: pnp\nenableGlobalCache: false\n")
    out, messages, _ = _split(text, tmp_path)
    assert "~/.yarn/berry/cache" not in messages, messages


@pytest.mark.parametrize(
    ("rc", "env", "inside"),
    [
        ("enableGlobalCache: 0\n", "", True),
        ("enableGlobalCache: 'false'\n", "", True),
        ("", "ENV YARN_ENABLE_GLOBAL_CACHE=0\n", True),
        ("enableGlobalCache: 1\n", "", False),
        ("enableGlobalCache: false\n", "ENV YARN_ENABLE_GLOBAL_CACHE=true\n", False),
        ("enableGlobalCache: false\n", "ARG YARN_ENABLE_GLOBAL_CACHE\n", False),
        # round 26, built (yarn 4.5.0): the zips went to /yc, the split's runtime lacked them
        ("enableGlobalCache: 0\n", "ENV YARN_CACHE_FOLDER=/yc\n", False),
        ("enableGlobalCache: 0\n", "ARG YARN_CACHE_FOLDER\n", False),
        ("enableGlobalCache: 0\n", "RUN echo 'cacheFolder: /yc' > /root/.yarnrc.yml\n", False),
        ("enableGlobalCache: 0\n", "ENV YARN_RC_FILENAME=.yarnrc.docker.yml\n", False),
    ],
)
def test_a_plug_n_play_cache_is_in_the_app_as_yarn_reads_its_setting(
    tmp_path: Path, rc: str, env: str, inside: bool
) -> None:
    """Round 26 (yarn 4.5.0): yarn reads a boolean setting's ``0``/``1`` as false/true, and
    YARN_ENABLE_GLOBAL_CACHE overrides .yarnrc.yml: with ``enableGlobalCache: 0`` `yarn config
    get` said false, the zips were in .yarn/cache, and the Plug'n'Play split answered as the
    original, offline (712 -> 287 MB); only the written-out ``false`` was read."""
    _write(tmp_path, {
        "package.json": json.dumps({
            "name": "b", "packageManager": "yarn@4.5.0", "dependencies": {"ms": "2.1.3"},
            "scripts": {"build": "node build.js"},
        }),
        ".yarnrc.yml": rc,
        "yarn.lock": "__metadata:\n  version: 8\n",
        "build.js": "require('fs').writeFileSync('out.js', '')\n",
    })  # fmt: skip
    text = (
        f"FROM node:20\n{env}WORKDIR /app\nCOPY . .\n"
        "RUN corepack enable && yarn install && yarn build\n"
        'CMD ["node", "-r", "./.pnp.cjs", "out.js"]\n'
    )
    _, messages, _ = _split(text, tmp_path)
    assert ("~/.yarn/berry/cache" not in messages) is inside, messages


@pytest.mark.parametrize(
    ("env", "install"),
    [
        ("ENV YARN_NODE_LINKER=pnp\n", "yarn install --immutable"),
        ("ARG YARN_NODE_LINKER\n", "yarn install --immutable"),
        ("", "YARN_NODE_LINKER=pnp yarn install --immutable"),
        ("", "echo 'nodeLinker: pnp' >> .yarnrc.yml && yarn install --immutable"),
    ],
)
def test_a_linker_the_environment_makes_plug_n_play_is_unsafe_to_split(
    tmp_path: Path, env: str, install: str
) -> None:
    """YARN_NODE_LINKER overrides .yarnrc.yml: built with yarn 4.5.0, ``ENV
    YARN_NODE_LINKER=pnp`` over ``nodeLinker: node-modules`` made no node_modules, and the
    split failed to build ("/app/node_modules" not found)."""
    _write(tmp_path, {
        "package.json": json.dumps({
            "name": "b", "packageManager": "yarn@4.5.0", "dependencies": {"ms": "2.1.3"},
        }),
        ".yarnrc.yml": "nodeLinker: node-modules\n",
        "yarn.lock": "__metadata:\n  version: 8\n",
        "index.js": "console.log(require('ms')('1s'))\n",
    })  # fmt: skip
    text = (
        f"FROM node:20\n{env}WORKDIR /app\nCOPY package.json yarn.lock .yarnrc.yml ./\n"
        f'RUN {install}\nCOPY . .\nCMD ["yarn", "node", "index.js"]\n'
    )
    out, messages, _ = _split(text, tmp_path)
    assert out == text, messages
    assert "Plug'n'Play" in messages, messages
    plain = text.replace(env, "").replace(install, "yarn install --immutable")
    out, messages, _ = _split(plain, tmp_path)
    assert "FROM node:20-slim" in out, messages


@pytest.mark.parametrize(
    ("env", "rc"),
    [
        ("ENV YARN_NODE_LINKER=pnp\n", "nodeLinker: node-modules\n"),
        ("ENV YARN_NODE_LINKER=pnp\n", "nodeLinker: node-modules\nenableGlobalCache: false\n"),
        ("ARG YARN_NODE_LINKER\n", "nodeLinker: node-modules\nenableGlobalCache: false\n"),
    ],
)
def test_a_plug_n_play_split_copies_no_node_modules_a_deps_stage_would_lack(
    tmp_path: Path, env: str, rc: str
) -> None:
    """Round 26 (yarn 4.5.0): ``ENV YARN_NODE_LINKER=pnp`` over ``nodeLinker: node-modules``
    got a prod-deps stage, whose Plug'n'Play install made no node_modules: the split failed
    to build ("/app/node_modules" not found), unsafe, and safe with ``enableGlobalCache:
    false`` (a break). Now the app is copied whole, dev dependencies kept: the unsafe split
    built, and the safe one answered as the original (712 -> 287 MB)."""
    _write(tmp_path, {
        "package.json": json.dumps({
            "name": "b", "packageManager": "yarn@4.5.0", "dependencies": {"ms": "2.1.3"},
        }),
        ".yarnrc.yml": rc,
        "yarn.lock": "__metadata:\n  version: 8\n",
        "index.js": "console.log(require('ms')('1s'))\n",
    })  # fmt: skip
    text = (
        f"FROM node:20\nRUN corepack enable\n{env}WORKDIR /app\nCOPY . .\n"
        'RUN yarn install --immutable\nCMD ["node", "-r", "./.pnp.cjs", "index.js"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({ID}), unsafe=True))
    assert "FROM node:20-slim" in result.output, result.suggestions
    assert "node_modules" not in result.output, result.output


_WHOLE = "COPY --from=app-files /app /app"
_INDEX = {"index.html": "<script type=module src=/src/main.js></script>\n", "src/main.js": ""}
_TS_DIST = '{"compilerOptions": {"outDir": "dist"}}'
_TS_BUILD = '{"compilerOptions": {"outDir": "build"}}'
_WEBPACK_PLUGIN_PATH = (
    "const path = require('path');\nmodule.exports = {\n  plugins: [\n    new Dotenv({\n"
    "      path: './.env.production',\n    }),\n  ],\n  output: {\n"
    "    path: path.resolve(__dirname, 'build'),\n  },\n};\n"
)
_ESBUILD_WRITES = (
    "import { build } from 'esbuild';\nimport { writeFileSync } from 'fs';\n"
    "await build({ entryPoints: ['src/server.js'], outfile: 'dist/server.js' });\n"
    "writeFileSync('build-manifest.json', '{}');\n"
)
_ESBUILD_COPIES_IN = _ESBUILD_WRITES.replace(
    "writeFileSync('build-manifest.json', '{}')", "cpSync('index.html', 'dist/index.html')"
)


@pytest.mark.parametrize(
    "files, scripts, run, copied",
    [
        # round 13, each built for real: the rewrite copied a folder the build never wrote
        # ("/app/dist" not found) or left out a file it wrote (the app exited at start)
        (_INDEX, {"build": "vite build && rm -rf static && mv dist static"}, "", "static"),
        ({"a.json": "{}", "tsconfig.json": _TS_DIST}, {"build": "tsc && cp a.json settings.json"}, "", "settings.json"),
        ({"tsconfig.json": _TS_DIST}, {"build": "tsc && date -u > BUILD_TIME"}, "", "BUILD_TIME"),
        ({"web/index.html": ""}, {"build": "vite build web"}, "", None),
        ({"tsconfig.json": _TS_DIST, "tsconfig.build.json": _TS_BUILD}, {"build": "tsc -b tsconfig.build.json"}, "", "build"),
        ({**_INDEX, "config.ts": "", "tsconfig.json": '{"include": ["config.ts"]}'}, {"build": "tsc && vite build"}, "", None),
        ({"build.mjs": _ESBUILD_WRITES}, {"build": "node build.mjs"}, "", None),
        ({"build.mjs": _ESBUILD_COPIES_IN}, {"build": "node build.mjs"}, "", "dist"),
        ({"webpack.config.js": _WEBPACK_PLUGIN_PATH, ".env.production": ""}, {"build": "webpack"}, "", "build"),
        (_INDEX, {"build": "vite build"}, "RUN npm run build -- --outDir static\n", "static"),
        (_INDEX, {"build": "vite build"}, "RUN yarn build --outDir www\n", "www"),
        ({"public/index.html": ""}, {"build": "react-scripts build"}, "ENV BUILD_PATH=www\nRUN npm run build\n", None),
        ({"src/a.ts": "", "tsconfig.json": _TS_DIST}, {"build": "tsc && rm -rf src"}, "", None),
        # tsconfig extends: a local base's outDir (relative to the base), a package's unseen
        ({"tsconfig.base.json": _TS_BUILD, "tsconfig.json": '{"extends": "./tsconfig.base.json"}'}, {"build": "tsc"}, "", "build"),
        ({"cfg/ts.json": '{"compilerOptions": {"outDir": "../out"}}', "tsconfig.json": '{"extends": "./cfg/ts.json"}'}, {"build": "tsc"}, "", "out"),
        ({"tsconfig.json": '{"extends": "@tsconfig/node18/tsconfig.json"}'}, {"build": "tsc"}, "", None),
        ({"webpack.config.js": "module.exports = { output: { path: path.resolve(__dirname, 'bundle'), filename: 'main.js' } };\n"}, {"build": "webpack"}, "", "bundle"),
        # controls: the output msdfix reads
        (_INDEX, {"build": "vite build && cp dist/index.html dist/404.html"}, "", "dist"),
        ({"tsconfig.json": _TS_DIST}, {"build": "tsc && echo ok > /dev/null"}, "", "dist"),
    ],
)  # fmt: skip
def test_the_build_output_is_every_path_the_build_script_writes(
    tmp_path: Path, files: dict[str, str], scripts: dict[str, str], run: str, copied: str | None
) -> None:
    """A build's output is where its tools write, all of it: cp/mv destinations, redirects,
    a script's own fs writes, vite's root argument, the project `tsc -b` names, webpack's
    output.path (not a plugin's path), words passed to the script, and the environment; or
    unknown (the app is copied whole)."""
    root = _express(tmp_path, files, scripts)
    text = NODE_SERVER.format(before="", after="", build=run or "RUN npm run build\n")
    out, messages, _ = _split(text, root)
    assert " AS prod-deps" in out, messages
    if copied is None:
        assert _WHOLE in out, out
    else:
        runtime = out.split(" AS runtime", 1)[1]
        assert re.search(rf"COPY --from=build [^\n]*/app/{re.escape(copied)}[ \n]", runtime), out
        assert _WHOLE not in out
        if copied == "static":  # moved away: a COPY of /app/dist failed the build
            assert "/app/dist" not in runtime, out


def test_a_start_script_running_a_file_the_runtime_lacks_is_unsafe(tmp_path: Path) -> None:
    """``"start": "node build/index.js"`` while msdfix took the output to be dist/: the
    script npm runs lies in the package folder, and must be copied (it is now checked like
    a node command of CMD)."""
    root = _express(
        tmp_path,
        {"tsconfig.json": _TS_DIST, "gen.mjs": "outdir: 'dist'\n"},
        {"build": "node gen.mjs", "start": "node build/index.js"},
    )
    text = NODE_SERVER.format(before="", after="", build="RUN npm run build\n")
    text = text.replace('CMD ["node", "server.js"]', 'CMD ["npm", "start"]')
    out, messages, _ = _split(text, root)
    assert "runs /app/build/index.js, which the runtime would not have" in messages, messages
    good = text.replace("node build/index.js", "node dist/index.js")
    (root / "package.json").write_text(
        (root / "package.json").read_text().replace("build/index.js", "dist/index.js")
    )
    assert "which the runtime would not have" not in _split(good, root)[1]


@pytest.mark.parametrize("start", ["node server", "node ."])
def test_a_start_script_naming_a_module_without_its_suffix_is_found(
    tmp_path: Path, start: str
) -> None:
    """``node server`` loads server.js: the copied server.js is the script it runs (``node
    .`` loads package.json's main, which msdfix does not follow)."""
    scripts = {"build": "node gen.mjs", "start": start}
    root = _express(tmp_path, {"gen.mjs": "outdir: 'dist'\n"}, scripts)
    text = NODE_SERVER.format(before="", after="", build="RUN npm run build\n")
    text = text.replace('CMD ["node", "server.js"]', 'CMD ["npm", "start"]')
    out, messages, _ = _split(text, root)
    assert "which the runtime would not have" not in messages, messages
    assert " AS prod-deps" in out


_PEER_LOCK = {
    "name": "app",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {"dependencies": {"express": "4.19.2"}, "devDependencies": {"graphql": "16.9.0"}},
        "node_modules/express": {"version": "4.19.2", "peerDependencies": {"graphql": "^16"}},
        "node_modules/graphql": {"version": "16.9.0", "dev": True},
    },
}


@pytest.mark.parametrize(
    "npmrc, before, kept",
    [
        ("legacy-peer-deps=true\n", "", True),
        ("", "ENV npm_config_legacy_peer_deps=true\n", True),
        ("", "RUN npm config set legacy-peer-deps true\n", True),
        ("", "", False),  # npm flags a production package's peer production itself
    ],
)
def test_legacy_peer_deps_keeps_a_peer_the_lock_flags_dev(
    tmp_path: Path, npmrc: str, before: str, kept: bool
) -> None:
    """With legacy-peer-deps the lock flagged @apollo/server's peer graphql (a dev
    dependency) dev; `npm ci --omit=dev` dropped it: "Cannot find module 'graphql'"."""
    root = _express(tmp_path, {".npmrc": npmrc} if npmrc else {})
    (root / "package-lock.json").write_text(json.dumps(_PEER_LOCK))
    text = NODE_SERVER.format(before=before, after="", build="")
    out, messages, _ = _split(text, root)
    assert (" AS prod-deps" not in out) is kept, messages
    if kept:
        assert "graphql, a peer of express" in messages


@pytest.mark.parametrize("before, read", [("", False), ("COPY .npmrc ./\n", True)])
def test_the_deps_stage_reads_the_configuration_the_builds_install_read(
    tmp_path: Path, before: str, read: bool
) -> None:
    """An .npmrc with ignore-scripts=true that only `COPY . .` brings (after the install) was
    not read by the build's install, which built bcrypt; the deps stage read it and did not:
    "Cannot find module .../bcrypt_lib.node"."""
    root = _express(tmp_path, {".npmrc": "ignore-scripts=true\n"})
    out, messages, _ = _split(NODE_SERVER.format(before=before, after="", build=""), root)
    assert " AS prod-deps" in out, messages
    deps = out.split(" AS prod-deps", 1)[1].split("\nFROM ", 1)[0]
    assert ("/app/.npmrc" in deps) is read, deps


def _java_maven(tmp_path: Path, cmd: str, pom_extra: str = "") -> tuple[str, str]:
    fixture = Path(__file__).parent.parent / "fixtures/split-stages/java-maven"
    pom = (fixture / "pom.xml").read_text().replace("</project>", pom_extra + "</project>")
    _write(tmp_path, {"pom.xml": pom, "src/main/java/com/example/Hello.java": "class Hello {}\n"})
    text = (
        (fixture / "Dockerfile")
        .read_text()
        .replace('CMD ["java", "-cp", "target/hello-app.jar", "com.example.Hello"]', cmd)
    )
    out, messages, _ = _split(text, tmp_path)
    return out, messages


def test_a_classpath_wildcard_copies_its_directory(tmp_path: Path) -> None:
    """``-cp target/hello-app.jar:target/lib/*``: the JVM reads every jar of target/lib. Copied
    as the pattern, BuildKit wrote the jars onto one file named ``*`` (built for real:
    NoClassDefFoundError)."""
    cmd = 'CMD ["java", "-cp", "target/hello-app.jar:target/lib/*", "com.example.Hello"]'
    out, _ = _java_maven(tmp_path, cmd)
    assert "COPY --from=build /build/target/lib /build/target/lib\n" in out
    assert not any("*" in line for line in out.splitlines() if line.startswith("COPY --from"))


def test_a_classpath_pattern_other_than_a_directory_wildcard_is_declined(tmp_path: Path) -> None:
    cmd = 'CMD ["java", "-cp", "target/hello-*.jar", "com.example.Hello"]'
    out, messages = _java_maven(tmp_path, cmd)
    assert "AS runtime" not in out
    assert "the pattern `target/hello-*.jar`" in messages


def test_a_jar_whose_dependencies_lie_beside_it_is_unsafe_to_split_alone(tmp_path: Path) -> None:
    plugin = (
        "<build><plugins><plugin><artifactId>maven-dependency-plugin</artifactId><executions>"
        "<execution><goals><goal>copy-dependencies</goal></goals></execution></executions>"
        "</plugin></plugins></build>"
    )
    out, messages = _java_maven(tmp_path, 'CMD ["java", "-jar", "target/hello-app.jar"]', plugin)
    assert "AS runtime" not in out
    assert "puts the jar's dependencies beside it" in messages


def test_a_go_split_with_modules_outside_the_context_is_unsafe_on_distroless(
    tmp_path: Path,
) -> None:
    """A required module ran ``bash`` through os/exec: the distroless runtime failed with
    'executable file not found' (built for real)."""
    go_mod = "module x\n\ngo 1.19\n\nrequire example.com/shellout v1.0.0\n"
    _write(tmp_path, {"go.mod": go_mod, "main.go": "package main\n\nfunc main() {}\n"})
    text = (
        "FROM golang:1.19\nWORKDIR /app\nCOPY . .\n"
        'RUN CGO_ENABLED=0 go build -o server .\nCMD ["./server"]\n'
    )
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out
    assert "go.mod requires example.com/shellout, whose code is not in the build context" in (
        messages
    )


def test_a_go_service_module_in_a_subfolder_is_read_where_the_build_copies_it(
    tmp_path: Path,
) -> None:
    """A monorepo's ``COPY backend/go.mod backend/go.sum ./``: the root has no go.mod, and
    the module's requirements went unread, so the split onto distroless was safe; the
    required module ran ``bash`` and the runtime answered "executable file not found" (built
    for real, as on 1shoaibazhar/web-crawler's layout)."""
    go_mod = "module x\n\ngo 1.19\n\nrequire example.com/shellout v1.0.0\n"
    _write(tmp_path, {"backend/go.mod": go_mod, "backend/go.sum": "", "backend/main.go": "package main\n\nfunc main() {}\n"})  # fmt: skip
    text = (
        "FROM golang:1.19\nWORKDIR /app\nCOPY backend/go.mod backend/go.sum ./\n"
        "RUN go mod download\nCOPY backend/ .\n"
        'RUN CGO_ENABLED=0 go build -o server .\nCMD ["./server"]\n'
    )
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out
    assert "go.mod requires example.com/shellout, whose code is not in the build context" in (
        messages
    )
    _write(tmp_path, {"backend/go.mod": "module x\n\ngo 1.19\n"})  # requires nothing
    assert "AS runtime" in _split(text, tmp_path)[0]


@pytest.mark.parametrize("tool", ["air", "CompileDaemon"])
def test_a_live_reload_tool_at_start_keeps_the_toolchain(tmp_path: Path, tool: str) -> None:
    """air (and CompileDaemon) run ``go build`` when the container starts, on sources mounted
    then: a split copying the tool alone has no ``go``, downloaded modules or not."""
    _write(tmp_path, {"go.mod": "module x\n\ngo 1.19\n"})
    text = f'FROM golang:1.19\nRUN go install example.com/{tool}@v1.0.0\nWORKDIR /app\nCMD ["{tool}"]\n'
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out and f"the start command runs `{tool}`" in messages


def test_a_nested_module_the_build_does_not_run_in_is_not_read(tmp_path: Path) -> None:
    """``COPY . .`` brings tools/go.mod too, but ``go build`` runs at the root's module: the
    tools module's requirements are not the program's."""
    tools = "module tools\n\ngo 1.19\n\nrequire example.com/shellout v1.0.0\n"
    main = "package main\n\nfunc main() {}\n"
    _write(tmp_path, {"go.mod": "module x\n\ngo 1.19\n", "main.go": main, "tools/go.mod": tools})
    text = 'FROM golang:1.19\nWORKDIR /app\nCOPY . .\nRUN go build -o server .\nCMD ["./server"]\n'
    assert "AS runtime" in _split(text, tmp_path)[0]
    text = text.replace("RUN go build -o server .", "RUN cd tools && go build -o /app/server .")
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out and "go.mod requires example.com/shellout" in messages


def test_modules_downloaded_after_the_last_go_build_decline_the_split(tmp_path: Path) -> None:
    """A development image: ``go install`` of air, then ``go mod download`` of the app's
    go.mod and ``CMD ["air"]``, which runs ``go build`` on the mounted sources when the
    container starts. The split onto distroless copied air alone: the runtime had no ``go``
    (built for real)."""
    _write(tmp_path, {"go.mod": "module x\n\ngo 1.19\n", "go.sum": "", ".air.toml": "[build]\n"})  # fmt: skip
    head = "FROM golang:1.19\nRUN go install example.com/reload@v1.0.0\nWORKDIR /app\n"
    text = head + 'COPY go.mod go.sum ./\nRUN go mod download\nCMD ["reload"]\n'
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out
    assert "downloads the modules of go.mod after the last build" in messages
    built = text.replace('CMD ["reload"]', 'COPY . .\nRUN go build -o server .\nCMD ["./server"]')
    assert "downloads the modules" not in _split(built, tmp_path)[1]


@pytest.mark.parametrize(
    "cleanup",
    [
        "RUN rm /tmp/requirements.txt",
        "RUN rm -rf /var/lib/apt/lists/* /tmp/requirements.txt",
        "RUN rm -rf /tmp/*",
    ],
)
def test_a_copied_file_a_later_run_deletes_is_not_copied_into_the_runtime(
    tmp_path: Path, cleanup: str
) -> None:
    """micado/security-policy-manager: ``COPY requirements.txt /tmp/`` and, after the
    installs, ``rm -rf ... /tmp/requirements.txt``: ``COPY --from=build /tmp/requirements.txt``
    failed ("not found") on a python split. Any ecosystem, a plain path or a glob."""
    root = _write(tmp_path, {"requirements.txt": "flask\n", "app/__init__.py": "app = 1\n"})
    text = (
        "FROM python:3-slim\nCOPY app /spm/app\nCOPY requirements.txt /tmp/\n"
        "RUN pip install -r /tmp/requirements.txt\n"
        "RUN apt-get update && apt-get install -y apt-transport-https curl gnupg\n"
        f"{cleanup}\nWORKDIR /spm\n"
        'CMD ["gunicorn", "-b", "0.0.0.0:5003", "app:app"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "/tmp/requirements.txt /tmp/requirements.txt" not in out
    assert "AS runtime" not in out and "which the runtime stage would copy" in messages


@pytest.mark.parametrize(
    "source, deps, named",
    [
        ('require("child_process").execFileSync("python3", ["hello.py"])\n', DEPS, "python"),
        ('require("child_process").execSync("python tools/report.py")\n', DEPS, "python"),
        ('const { PythonShell } = require("python-shell")\n', {"python-shell": "5.0.0"}, "python"),
        (
            'const { YtDlpPlugin } = require("@distube/yt-dlp")\n',
            {"@distube/yt-dlp": "1.1.3"},
            "@distube/yt-dlp needs",
        ),
    ],
)
def test_a_node_program_running_python_keeps_the_full_image(
    tmp_path: Path, source: str, deps: dict[str, str], named: str
) -> None:
    """node:20 (buildpack-deps) has python3, node:20-slim has none: built for real, a split
    app failed with "spawn python3 ENOENT" (python-shell running the app's hello.py), and a
    DisTube bot's @distube/yt-dlp (it runs the yt-dlp zipapp) with "/usr/bin/env: 'python3':
    No such file or directory". slim-base already counted python3 among node's full-image
    tools; the split did not."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": deps}, {"src/index.js": source})
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "node:20-slim" not in out, out
    assert named in messages, messages


def test_a_start_command_that_installs_keeps_the_build_image(tmp_path: Path) -> None:
    """``CMD npm ci && node dist/index.js``: the original image carries npm's cache, so the
    container (re)installs offline; a split runtime has no cache (built for real: EAI_AGAIN)."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    out, messages, _ = _split(NODE.format(extra="", cmd="npm ci && node dist/index.js"), root)
    assert "AS runtime" not in out, out
    assert "the start command runs `npm ci`" in messages, messages


# Round 14 (Python apps with real dependency managers, built for real): what makes a lock
# file's wheels, or --only-binary, no evidence, and installs that land outside the copies.
UV_APP = (
    "FROM python:3.11\n{env}RUN pip install uv==0.4.30\nWORKDIR /app\nCOPY . .\n"
    'RUN uv sync --frozen --no-dev{flags}\nENV PATH="/app/.venv/bin:$PATH"\n'
    'CMD ["gunicorn", "app:app"]\n'
)


def _uv_split(root: Path, files: dict[str, str], env: str = "", flags: str = "") -> str:
    lock = UV_LOCK.format(name="flask")
    _write(root, {"pyproject.toml": "", "uv.lock": lock, "app.py": "", **files})
    out, messages, _ = _split(UV_APP.format(env=env, flags=flags), root)
    return out if "AS runtime" in out else messages


def test_a_uv_lock_with_wheels_is_split(tmp_path: Path) -> None:
    assert "AS runtime" in _uv_split(tmp_path, {})


@pytest.mark.parametrize(
    "files, env, flags",
    [
        ({"pyproject.toml": '[tool.uv]\nno-binary-package = ["flask"]\n'}, "", ""),
        ({"uv.toml": 'no-binary-package = ["flask"]\n'}, "", ""),
        ({}, "ENV UV_NO_BINARY_PACKAGE=flask\n", ""),
        ({}, "", " --no-binary-package flask"),
    ],
)
def test_a_lock_is_no_evidence_when_the_tool_builds_from_sdists(
    tmp_path: Path, files: dict[str, str], env: str, flags: str
) -> None:
    """uv.lock lists psycopg2-binary's wheels, but ``no-binary-package`` builds it against
    the full image's libpq: the split's runtime failed "libpq.so.5" (built for real)."""
    assert "may be built from source" in _uv_split(tmp_path, files, env, flags)


BUILT_PROJECT = """[project]
name = "srv"
version = "0.1.0"

[build-system]
requires = ["{requires}"]
build-backend = "{backend}"
{extra}"""


@pytest.mark.parametrize(
    "files, safe",
    [
        ({"setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=[])\n"}, False),
        ({"pyproject.toml": BUILT_PROJECT.format(requires="hatchling", backend="hatchling.build", extra="")}, True),
        ({"pyproject.toml": BUILT_PROJECT.format(requires="hatchling", backend="hatchling.build", extra="[tool.hatch.build.hooks.custom]\n")}, False),
        ({"pyproject.toml": BUILT_PROJECT.format(requires="maturin", backend="maturin", extra="")}, False),
        ({"pyproject.toml": BUILT_PROJECT.format(requires="setuptools", backend="setuptools.build_meta", extra='[tool.setuptools]\next-modules = [{name = "srv._c", sources = ["c.c"]}]\n')}, False),
    ],
)  # fmt: skip
def test_the_locked_project_built_from_the_copies_counts(
    tmp_path: Path, files: dict[str, str], safe: bool
) -> None:
    """uv builds an ``editable`` project with its backend: a setup.py Extension linked the
    full image's libpq, and the split's runtime failed "libpq.so.5" (built for real; on
    slim-base, gcc was missing)."""
    lock = UV_LOCK.format(name="flask").replace('{ virtual = "." }', '{ editable = "." }')
    result = _uv_split(tmp_path, {"uv.lock": lock, **files})
    assert ("AS runtime" in result) is safe, result


@pytest.mark.parametrize(
    "wheel, safe",
    [
        ("psycopg2_binary-2.9.9-cp311-cp311-linux_x86_64.whl", False),
        ("psycopg2_binary-2.9.9-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", True),
    ],
)
@pytest.mark.parametrize(
    "install", ["--no-index --find-links ./wheels", "-f wheels", "-f /opt/wheelhouse"]
)
def test_a_wheel_built_on_some_machine_is_no_evidence(
    tmp_path: Path, wheel: str, safe: bool, install: str
) -> None:
    """A wheelhouse with a ``linux_x86_64`` wheel (``pip wheel`` of an sdist) links the
    libraries of the machine that built it (built for real: "libpq.so.5" on slim)."""
    out, messages = _py_split(
        tmp_path, "-r requirements.txt", f"{install} -r requirements.txt", {f"wheels/{wheel}": ""}
    )
    assert ("AS runtime" in out) is safe, messages


def test_uv_symlink_mode_is_not_split(tmp_path: Path) -> None:
    """With ``UV_LINK_MODE=symlink`` the virtualenv's packages are links into uv's cache,
    which the runtime does not copy (built for real: Django's imports failed)."""
    result = _uv_split(tmp_path, {}, env="ENV UV_LINK_MODE=symlink\n")
    assert "links the packages into its cache" in result, result


@pytest.mark.parametrize(
    "files, old, new",
    [
        ({"pip.conf": "[install]\ntarget = /opt/deps\n"}, "WORKDIR /app", "COPY pip.conf /etc/pip.conf\nWORKDIR /app"),
        ({"pip.conf": "[global]\nuser = true\n"}, "WORKDIR /app", "COPY pip.conf /root/.config/pip/pip.conf\nWORKDIR /app"),
        ({}, "WORKDIR /app", "RUN pip config --global set install.target /opt/deps\nWORKDIR /app"),
    ],
)  # fmt: skip
def test_a_pip_configuration_that_moves_the_install_is_not_split(
    tmp_path: Path, files: dict[str, str], old: str, new: str
) -> None:
    """pip reads ``target``/``user``/... from pip.conf like PIP_TARGET: the packages went
    to /opt/deps, which the runtime lacked (built for real: "No module named gunicorn")."""
    out, messages = _py_split(tmp_path, old, new, files)
    assert "AS runtime" not in out, out
    assert "may go outside the interpreter's prefix" in messages, messages


@pytest.mark.parametrize(
    "create, venv",
    [
        ("uv venv /opt/venv", "/opt/venv"),
        ("uv venv --python 3.12 /opt/venv", "/opt/venv"),
        ("python -m venv /opt/venv", "/opt/venv"),
    ],
)
def test_a_virtualenv_uv_creates_is_what_the_runtime_copies(
    tmp_path: Path, create: str, venv: str
) -> None:
    """``uv venv /opt/venv`` on PATH: the runtime copied /usr/local and the app only, and
    gunicorn was not found (built for real)."""
    out, messages = _py_split(
        tmp_path,
        "WORKDIR /app",
        f'RUN pip install uv && {create}\nENV PATH="{venv}/bin:$PATH"\nWORKDIR /app',
    )
    assert f"COPY --from=build {venv} {venv}\n" in out, messages


@pytest.mark.parametrize(
    "files, env, flags, safe",
    [
        ({".python-version": "3.12\n"}, "", "", False),
        ({".python-version": "3.11\n"}, "", "", True),
        ({}, "ENV UV_PYTHON_PREFERENCE=only-managed\n", "", False),
        ({}, "", " --python 3.13", False),
    ],
)
def test_uv_with_a_managed_python_is_not_split(
    tmp_path: Path, files: dict[str, str], env: str, flags: str, safe: bool
) -> None:
    """uv downloads an interpreter other than the image's into ~/.local/share/uv/python,
    and the virtualenv points there: the runtime, which copies /usr/local and the app,
    would lack it (static: python-build-standalone is not reachable here)."""
    result = _uv_split(tmp_path, files, env, flags)
    assert ("AS runtime" in result) is safe, result


@pytest.mark.parametrize("dependency", ["@prisma/client", "prisma"])
def test_prisma_needs_the_libssl_node_slim_lacks(tmp_path: Path, dependency: str) -> None:
    """node:*-slim purges ca-certificates and with it openssl and libssl3 (nodejs/docker-node
    #1919); Prisma's query engine loads libssl.so and detects it with `openssl version`, so a
    split onto node:18-slim was rated safe where the app could not load its engine."""
    root = _node_app(
        tmp_path,
        {"scripts": {"build": "tsc", "start": "node dist/server.js"},
         "dependencies": {dependency: "5.14.0"}, "devDependencies": {"typescript": "5.4.5"}},
        {"prisma/schema.prisma": 'generator client {\n  provider = "prisma-client-js"\n}\n'},
    )  # fmt: skip
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
        'COPY . .\nRUN npx prisma generate && npm run build\nCMD ["node", "dist/server.js"]\n'
    )
    output, messages, _ = _split(text, root)
    assert "node:18-slim" not in output, messages
    assert "needs libraries or programs that node:18-slim lacks" in messages, messages


@pytest.mark.parametrize(
    ("install", "added"),
    [
        ("apt-get install -y --no-install-recommends curl", True),  # built for real
        ("apt-get install -y curl", False),  # the recommends bring ca-certificates
        ("apt-get install -y --no-install-recommends curl ca-certificates", False),
    ],
)
def test_node_slim_runtime_gets_ca_certificates_for_a_tls_client(
    tmp_path: Path, install: str, added: bool
) -> None:
    """node:18-slim has no CA certificates (nodejs/docker-node purges them): the split's
    runtime reinstalled curl without recommends, and the app's `curl https://...` failed
    (node:18-slim emulated as the official, built for real); node:18 had them."""
    root = _node_app(
        tmp_path,
        {"scripts": BUILD, "dependencies": DEPS},
        {"build.js": "require('fs').mkdirSync('dist')\n",
         "src/index.js": "require('child_process').execSync('curl -fsS https://example.com')\n"},
    )  # fmt: skip
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "WORKDIR /app\n", f"RUN apt-get update && {install}\nWORKDIR /app\n", 1
    )
    output, messages, _ = _split(text, root)
    assert "FROM node:20-slim" in output, messages
    runtime = output.split("FROM node:20-slim", 1)[1]
    assert ("ca-certificates" in runtime) is (added or "ca-certificates" in install), runtime


@pytest.mark.parametrize(
    "files, install, reason",
    [
        ({".npmrc": "virtual-store-dir=.pnpm-vs\n"}, "pnpm install --frozen-lockfile", ".npmrc virtual-store-dir=.pnpm-vs"),
        ({".npmrc": "modules-dir=deps\n"}, "pnpm install --frozen-lockfile", ".npmrc modules-dir=deps"),
        ({"pnpm-workspace.yaml": "virtualStoreDir: ../vstore\n"}, "pnpm install --frozen-lockfile", "pnpm-workspace.yaml virtualStoreDir=../vstore"),
        ({}, "pnpm install --frozen-lockfile --virtual-store-dir /opt/vs", "`pnpm --virtual-store-dir`"),
        ({".yarnrc": '--modules-folder "/opt/deps"\n'}, "yarn install --frozen-lockfile", ".yarnrc --modules-folder=/opt/deps"),
        ({}, "npm_config_virtual_store_dir=/vs pnpm install --frozen-lockfile", "$npm_config_virtual_store_dir"),
    ],
)  # fmt: skip
def test_an_install_that_puts_packages_outside_node_modules_is_not_split(
    tmp_path: Path, files: dict[str, str], install: str, reason: str
) -> None:
    """Built for real: pnpm with ``virtual-store-dir=.pnpm-vs`` in .npmrc; the runtime got the
    prod-deps stage's node_modules, whose links point into /app/.pnpm-vs, and the app failed
    with MODULE_NOT_FOUND. A renamed modules folder would make the COPY itself fail."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    _write(root, {"pnpm-lock.yaml": "lockfileVersion: '6.0'\n", "yarn.lock": "", **files})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\n", f"COPY . .\nRUN {install}\n"
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out, out
    assert f"{reason} puts the installed packages outside /app/node_modules" in messages, messages


@pytest.mark.parametrize(
    "compilers, libs, unsafe",
    [
        ("gcc libc6-dev", "libgomp1 libatomic1", None),
        # libgfortran's package is named by its soname, which changed between releases
        ("build-essential gfortran", "libgomp1 libatomic1", "may load libgfortran"),
    ],
)
def test_the_compilers_support_libraries_come_to_a_slim_runtime(
    tmp_path: Path, compilers: str, libs: str, unsafe: str | None
) -> None:
    """Built for real: a C extension compiled with -fopenmp by `pip install .` on
    python:3.12-slim with gcc; the split's runtime (python:3.12-slim) had no libgomp.so.1
    and the import failed. The compiler's support libraries now come along."""
    root = _write(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n", "app.py": ""})
    text = (
        "FROM python:3.12-slim\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {compilers}\n"
        'WORKDIR /app\nCOPY . .\nRUN pip install .\nCMD ["python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert f"runtime packages: {libs}" in messages, messages
    assert ("AS runtime" in out) is (unsafe is None), messages
    if unsafe:
        assert unsafe in messages, messages


@pytest.mark.parametrize(
    "purge, kept",
    [("apt-get purge -y --auto-remove gcc", False), ("apt-get purge -y gcc", True)],
)
def test_a_compiler_the_build_removes_brings_its_libraries_only_if_they_stay(
    tmp_path: Path, purge: str, kept: bool
) -> None:
    """--auto-remove takes libgomp1 out of the original too (the runtime stays as small);
    a plain purge leaves it installed, so code built against it still finds it."""
    root = _write(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n", "app.py": ""})
    text = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        f"RUN apt-get update && apt-get install -y gcc libpq-dev && pip install . && {purge}\n"
        'CMD ["python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    assert ("libgomp1" in out) is kept, messages


@pytest.mark.parametrize(
    "image, split",
    [
        ("python:3.9-slim-bullseye", False),  # bullseye's unixodbc-dev brings libodbc1
        ("python:3.12-slim", False),  # names no release: the default moves over time
        ("python:3.12-slim-bookworm", True),
    ],
)
def test_a_runtime_library_named_for_one_release_needs_that_release(
    tmp_path: Path, image: str, split: bool
) -> None:
    """unixodbc-dev -> libodbc2 holds on bookworm and trixie only; on bullseye the runtime's
    `apt-get install libodbc2` would fail with "Unable to locate package"."""
    root = _write(tmp_path, {"requirements.txt": "pyodbc==5.2.0\n", "app.py": ""})
    text = (
        f"FROM {image}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc unixodbc-dev\n"
        'WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    if not split:
        assert "libodbc2 exists only in Debian bookworm, trixie" in messages, messages


@pytest.mark.parametrize(
    ("package", "split"),
    [("openjdk-17-jre-headless", False), ("default-jre-headless", False), ("libpq5", True)],
)
def test_a_runtime_package_that_needs_man_pages_is_not_installed_on_a_slim_image(
    tmp_path: Path, package: str, split: bool
) -> None:
    """The JRE's postinst links its man pages into /usr/share/man/man1, which the -slim
    images lack: "update-alternatives: error: error creating symbolic link
    '/usr/share/man/man1/java.1.gz.dpkg-tmp'" (built for real with bookworm-slim's dpkg
    excludes); the full image the build runs on has it."""
    root = _write(tmp_path, {"requirements.txt": "flask==3.0.0 --hash=sha256:00\n", "app.py": ""})
    text = (
        "FROM python:3.12\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends {package}\n"
        "WORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --only-binary :all: -r requirements.txt\nCOPY . .\n"
        'CMD ["python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    if not split:
        assert f"{package}, which needs /usr/share/man/man1" in messages, messages


def test_a_python_split_onto_slim_brings_the_full_images_mime_types(tmp_path: Path) -> None:
    """python's -slim images have no /etc/mime.types (docker-library/python#254), which
    Python's mimetypes reads: built for real with it removed, ``python -m http.server`` sent
    .woff2 and .webp as application/octet-stream (font/woff2 and image/webp on python:3.12).
    The runtime copies the build image's file, unless the build installs a package for it."""
    out, messages = _py_split(tmp_path)
    assert "AS runtime" in out
    assert "COPY --from=build /etc/mime.types /etc/mime.types" in out, out
    assert "/etc/mime.types comes from python:3.12" in messages
    slim, _ = _py_split(tmp_path / "slim", "FROM python:3.12", "FROM python:3.12-slim")
    assert "/etc/mime.types" not in slim


@pytest.mark.parametrize(
    ("source", "split"),
    [
        ('font = ImageFont.truetype("DejaVuSans.ttf", 24)\n', False),
        ('font = ImageFont.truetype("fonts/Inter.ttf", 24)\n', True),
    ],
)
def test_a_python_split_onto_slim_keeps_the_system_fonts(
    tmp_path: Path, source: str, split: bool
) -> None:
    """The full python image has fontconfig and fonts-dejavu-core, python:*-slim no font:
    built for real on emulations of the official images, the split's runtime raised "OSError:
    cannot open resource" at Pillow's ``truetype("DejaVuSans.ttf")``. A font the context
    ships is no system font."""
    out, messages = _py_split(tmp_path, files={"app.py": source, "fonts/Inter.ttf": "x"})
    assert ("AS runtime" in out) is split, messages
    if not split:
        assert "python:3.12-slim has no fonts, which python:3.12 has" in messages, messages


def test_a_source_that_cannot_be_read_may_load_a_library(tmp_path: Path) -> None:
    """native_need read a Python source over 1 MiB as empty: its `cdll.LoadLibrary` went
    unseen. Unread is unknown (the split's and -slim's other checks said so only by chance)."""
    from msdfix.model.native_loads import native_need

    (tmp_path / "app.py").write_text(
        'import ctypes\nctypes.CDLL("libmagic.so.1")\n' + "#\n" * (1 << 19)
    )
    assert native_need(BuildContext(tmp_path)) == (
        "app.py is over 1 MiB, so which system libraries it loads is unknown"
    )


def test_a_large_go_mod_names_the_binary(tmp_path: Path) -> None:
    """A go.mod over 1 MiB was read as empty, so ``go build .``'s binary (named after the
    module, /app/server) was taken to be the CMD's /app/run script: the runtime got the
    script alone. go.mod is read line by line; one msdfix cannot read declines."""
    padding = "// generated\n" * (1 << 17)
    root = _write(tmp_path, {
        "go.mod": f"{padding}module example.com/server\n\ngo 1.19\n",
        "main.go": "package main\nfunc main() {}\n",
        "vendor/modules.txt": "\n",
        "run": "#!/bin/sh\nexec /app/server\n",
    })  # fmt: skip
    text = 'FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go build .\nCMD ["/app/run"]\n'
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "runs `/app/run`, which is not the built binary" in messages, messages
    (root / "go.mod").unlink()
    (root / "go.mod").symlink_to("go.mod")
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "go.mod links outside the build context or in a loop, so the binary's name" in messages


def test_a_lock_file_msdfix_cannot_read_is_not_called_missing(tmp_path: Path) -> None:
    """A package-lock.json over 1 MiB (most real apps') kept the dev dependencies with the
    reason "no package-lock.json": untrue, and users look for the file. It says why now."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    lock = {"lockfileVersion": 3, "packages": {"": {}}, "padding": "x" * (1 << 20)}
    (root / "package-lock.json").write_text(json.dumps(lock))
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "prod-deps" not in out
    assert "package-lock.json is over 1 MiB" in messages, messages
    assert "no package-lock.json" not in messages


def test_an_npmrc_msdfix_cannot_read_may_move_node_modules(tmp_path: Path) -> None:
    """An .npmrc in a link loop (or over 1 MiB) was read as empty, so a
    ``virtual-store-dir`` it sets (node_modules then holds links into another folder) went
    unseen and the runtime copied node_modules alone. Where the packages go is unknown."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    (root / ".npmrc").symlink_to(".npmrc")
    out, messages, _ = _split(NODE.format(extra="", cmd='["node", "dist/index.js"]'), root)
    assert "AS runtime" not in out
    assert ".npmrc links outside the build context or in a loop, so where the install" in messages


@pytest.mark.parametrize(
    "requirement, why",
    [
        ("GitPython==3.1.40\n", "the installed gitpython runs it"),
        ("pydriller==2.6\n", "the installs bring packages no file here lists"),
        (
            "# This file is autogenerated by pip-compile with Python 3.11\nerrbot==5.2.0\n",
            "the installed errbot runs it",
        ),
        ("# This file is autogenerated by pip-compile with Python 3.11\nsix==1.16.0\n", None),
    ],
)
def test_a_slim_split_keeps_the_tool_an_installed_package_runs(
    tmp_path: Path, requirement: str, why: str | None
) -> None:
    """python:3.11-slim with git from apt and GitPython (or pydriller, which brings it) from
    pip, built for real (twentieth round): the split's runtime left git in the build stage (no
    copied source runs it) and the app died at ``import git`` with "Bad git executable". A
    package known to run it, or packages no file lists, keep it; a closed list without one
    leaves it out."""
    root = _write(tmp_path, {"requirements.txt": requirement, "app.py": "print(1)\n"})
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\n"
        "RUN apt-get update && apt-get install -y git libffi-dev "
        "&& rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        'COPY app.py .\nCMD ["python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    runtime = out.split("AS runtime", 1)[1]
    assert ("install -y git" in runtime) is (why is not None), runtime
    if why is not None:
        assert f"git kept ({why}" in messages, messages
    else:
        assert "git left in the build stage" in messages, messages


def test_a_lock_the_build_install_never_read_stays_out_of_the_deps_stage(tmp_path: Path) -> None:
    """``COPY package.json ./`` then ``yarn install --frozen-lockfile``: yarn resolved without
    a lock; the stale yarn.lock ``COPY . .`` brings later made the deps stage's frozen install
    fail, built for real ("Your lockfile needs to be updated"); an npm app installed what its
    lock pins instead of what the build had (four packages more)."""
    package = {"name": "app", "dependencies": {"ms": "^2.1.3"}, "devDependencies": {"x": "1"}}
    root = _write(
        tmp_path,
        {"package.json": json.dumps(package), "yarn.lock": "# yarn lockfile v1\n", "app.js": ""},
    )
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY {first} ./\nRUN yarn install --frozen-lockfile\n"
        'COPY . .\nCMD ["node", "app.js"]\n'
    )
    out, messages, _ = _split(text.format(first="package.json"), root)
    assert "AS prod-deps" in out, messages
    assert "COPY --from=build /app/package.json ./\n" in out
    out, messages, _ = _split(text.format(first="package.json yarn.lock"), root)
    assert "COPY --from=build /app/package.json /app/yarn.lock ./\n" in out, messages


@pytest.mark.parametrize(
    "cleanup, gone",
    [
        ("RUN npm run build && rm -f package-lock.json\n", "/app/package-lock.json"),
        ("RUN npm run build\nRUN rm -rf src *.json\n", "/app/*.json"),
    ],
)
def test_a_manifest_a_later_run_deletes_keeps_the_build_dependencies(
    tmp_path: Path, cleanup: str, gone: str
) -> None:
    """The deps stage copies the manifests from the build stage: built for real, its
    ``COPY --from=build /app/package.json /app/package-lock.json ./`` failed ("not found")
    after ``rm -rf src *.json``; the split keeps the build's node_modules instead."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace(
        "RUN npm run build\n", cleanup
    )
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out
    assert "AS runtime" in out, messages
    assert f"deletes {gone}, which a deps stage would copy" in messages, messages


@pytest.mark.parametrize("call", ["yarn sequelize db:migrate", "yarn run knex migrate:latest"])
def test_a_dependency_program_yarn_runs_by_name_counts_as_started(
    tmp_path: Path, call: str
) -> None:
    """``yarn <name>`` runs node_modules/.bin/<name> when no script has that name: built for
    real, start.sh's ``yarn sequelize --version`` (sequelize-cli, a dev dependency) ran in
    the original and failed in the prod-deps runtime (``Command "sequelize" not found``)."""
    package = {
        "name": "app",
        "scripts": {"build": "node build.js", "start": "node dist/app.js"},
        "dependencies": {"sequelize": "^6.37.0", "ms": "^2.1.3"},
        "devDependencies": {"sequelize-cli": "^6.6.2", "knex": "^3.1.0"},
    }
    root = _write(
        tmp_path,
        {
            "package.json": json.dumps(package),
            "yarn.lock": "# yarn lockfile v1\n",
            "build.js": "",
            "start.sh": f"#!/bin/sh\nset -e\n{call}\nexec node dist/app.js\n",
        },
    )
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json yarn.lock ./\n"
        "RUN yarn install --frozen-lockfile\nCOPY . .\nRUN yarn build\n"
        'CMD ["./start.sh"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out, messages


@pytest.mark.parametrize(
    ("script", "run", "said"),
    [
        ("node build.js", "yarn patch-package && yarn build", "runs `yarn patch-package`, which may change node_modules"),
        ("npx patch-package && node build.js", "yarn build", "writes into node_modules"),
        ("yarn patch-package && node build.js", "yarn build", "writes into node_modules"),
        ("npm exec patch-package && node build.js", "yarn build", "writes into node_modules"),
    ],
)  # fmt: skip
def test_patch_package_a_runner_runs_after_the_install_keeps_the_build_modules(
    tmp_path: Path, script: str, run: str, said: str
) -> None:
    """``yarn patch-package`` runs the dependency's program (no script has the name) and
    patches node_modules in place, as ``npx patch-package`` does, in a RUN after the install
    or in the build script: built for real, the prod-deps runtime answered with the
    unpatched ms ("up 1m 5ms" against "... 5ms (patched)")."""
    package = {
        "name": "app",
        "scripts": {"build": script, "start": "node dist/app.js"},
        "dependencies": {"ms": "2.1.3"},
        "devDependencies": {"patch-package": "^8.0.0"},
    }
    root = _write(
        tmp_path,
        {"package.json": json.dumps(package), "yarn.lock": "# yarn lockfile v1\n", "app.js": ""},
    )
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json yarn.lock ./\n"
        f"RUN yarn install --frozen-lockfile\nCOPY . .\nRUN {run}\n"
        'CMD ["node", "dist/app.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "prod-deps" not in out, messages
    assert said in messages, messages


def test_a_runner_command_is_not_a_dependency_program(tmp_path: Path) -> None:
    """``yarn cache clean`` and ``yarn global add`` are yarn's own commands, not programs of
    node_modules/.bin: the production dependencies still come from a deps stage."""
    package = {"name": "app", "scripts": {"build": "node build.js"}, "dependencies": DEPS}
    root = _write(
        tmp_path,
        {"package.json": json.dumps(package), "yarn.lock": "# yarn lockfile v1\n", "app.js": ""},
    )
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json yarn.lock ./\n"
        "RUN yarn install --frozen-lockfile && yarn cache clean\nCOPY . .\n"
        'RUN yarn build && yarn cache clean\nCMD ["node", "dist/app.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS prod-deps" in out, messages


# ---- directories, modes and links (twenty-second round, built for real) -----------------------

SERVER = (
    "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\n{extra}COPY . .\n"
    'USER node\nEXPOSE 3000\nCMD ["node", "server.js"]\n'
)


@pytest.mark.parametrize(
    "extra",
    [
        "RUN mkdir -p node_modules/.cache && chmod 777 node_modules/.cache\n",
        "RUN touch /app/node_modules/.ready\n",
    ],
)
def test_a_change_inside_node_modules_keeps_the_builds_node_modules(
    tmp_path: Path, extra: str
) -> None:
    """A deps stage replays the install alone: a RUN that then makes or changes a path inside
    node_modules (built: the app's write into node_modules/.cache failed with ENOENT) keeps
    the build's own node_modules, which carries it."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "require('express')\n"})
    out, messages, _ = _split(SERVER.format(extra=extra), root)
    assert "AS prod-deps" not in out, messages
    assert "AS runtime" in out and "COPY --from=build /app /app" in out, out
    assert "which a separate install of the dependencies would not have" in messages
    same_run = SERVER.format(extra="").replace("RUN npm ci\n", f"RUN npm ci && {extra[4:]}")
    out, messages, _ = _split(same_run, root)
    assert "AS prod-deps" not in out, messages
    clean = SERVER.format(extra="RUN mkdir -p /app/data && chmod 777 /app/data\n")
    assert "AS prod-deps" in _split(clean, root)[0]


def test_a_directory_the_build_keeps_in_tmp_makes_the_split_unsafe(tmp_path: Path) -> None:
    """``mkdir -p /tmp/data && chmod 777 /tmp/data`` in a build RUN: the runtime's fresh /tmp
    lacks it (built: the app's write failed with ENOENT). Scratch work in /tmp still splits."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "require('express')\n"})
    kept = SERVER.format(extra="").replace(
        "RUN npm ci\n", "RUN npm ci && mkdir -p /tmp/data && chmod 777 /tmp/data\n"
    )
    out, messages, _ = _split(kept, root)
    assert "AS runtime" not in out
    assert "RUN at line 4 writes /tmp/data, which the runtime does not copy" in messages
    named = SERVER.format(extra="ENV DATA_DIR=/tmp/data\n").replace(
        "RUN npm ci\n", "RUN npm ci && mkdir -p /tmp/data\n"
    )
    assert "writes /tmp/data" in _split(named, root)[1]
    scratch = SERVER.format(extra="").replace(
        "RUN npm ci\n", "RUN npm ci && mkdir -p /tmp/x && chmod 1777 /tmp\n"
    )
    out, messages, _ = _split(scratch, root)
    assert "AS runtime" in out and "unsafe" not in messages, messages


@pytest.mark.parametrize(
    "mkdir",
    ["mkdir -p --mode=777 /tmp/data", "mkdir -p -m 777 /tmp/data", "mkdir -pm777 /tmp/data"],
)
def test_a_directory_mkdir_gives_a_mode_in_tmp_makes_the_split_unsafe(
    tmp_path: Path, mkdir: str
) -> None:
    """``mkdir -m``/``--mode`` gives a mode as ``chmod`` does (built: ``npm ci && mkdir -p
    --mode=777 /tmp/data`` split safely, and the app's write into /tmp/data, as node, failed
    with ENOENT in the split only); mkdir's mode word is not a directory (the reason had said
    the RUN writes /app/777)."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "require('express')\n"})
    kept = SERVER.format(extra="").replace("RUN npm ci\n", f"RUN npm ci && {mkdir}\n")
    out, messages, _ = _split(kept, root)
    assert "AS runtime" not in out
    assert "RUN at line 4 writes /tmp/data, which the runtime does not copy" in messages
    assert "777" not in messages.replace("--mode=777", "")


def test_a_directory_in_tmp_the_sources_name_makes_the_split_unsafe(tmp_path: Path) -> None:
    """A directory a build RUN makes below /tmp that a copied source names is the program's,
    not scratch work (built: ``mkdir -p /tmp/prom`` beside pip install, and a Flask app
    writing /tmp/prom/x got FileNotFoundError in the split only). One no source names, or
    whose name only starts a longer one, is still scratch."""
    run = SERVER.format(extra="").replace("RUN npm ci\n", "RUN npm ci && mkdir -p /tmp/data\n")
    source = "require('express')\nrequire('fs').writeFileSync('/tmp/data/x', 'x')\n"
    root = _node_app(tmp_path / "named", {"dependencies": DEPS}, {"server.js": source})
    out, messages, _ = _split(run, root)
    assert "AS runtime" not in out
    assert "RUN at line 4 writes /tmp/data, which the runtime does not copy" in messages
    other = source.replace("/tmp/data/x", "/tmp/database")
    root = _node_app(tmp_path / "other", {"dependencies": DEPS}, {"server.js": other})
    out, messages, _ = _split(run, root)
    assert "AS runtime" in out and "unsafe" not in messages, messages


@pytest.mark.parametrize(
    ("files", "split"),
    [
        ({"package.json": "node server.js /tmp/data"}, False),  # the start script's argument
        ({"config/default.json": '{"dir": "/tmp/data"}'}, False),
        ({".env": "DATA=/tmp/data\n"}, False),
        ({"config/default.json": '{"dir": "/tmp/database"}'}, True),
    ],
)
def test_a_directory_in_tmp_a_config_file_names_makes_the_split_unsafe(
    tmp_path: Path, files: dict[str, str], split: bool
) -> None:
    """Round 23, built: `npm ci && mkdir -p /tmp/uploads` with package.json's start script
    `node index.js /tmp/uploads` split safely (package.json was not read for paths), and the
    app's write there failed with ENOENT in the split only. Configuration files (.json,
    .env, .cfg, .properties, .xml; lock files left out) are read as sources are."""
    package: dict[str, object] = {"dependencies": DEPS}
    start = files.pop("package.json", None)
    if start is not None:
        package["scripts"] = {"start": start}
    root = _node_app(tmp_path, package, {"server.js": "require('express')\n", **files})
    run = SERVER.format(extra="").replace("RUN npm ci\n", "RUN npm ci && mkdir -p /tmp/data\n")
    out, messages, _ = _split(run, root)
    assert ("AS runtime" in out and "unsafe" not in messages) is split, messages
    assert split or "RUN at line 4 writes /tmp/data, which the runtime does not copy" in messages


def test_a_users_home_at_a_copied_directory_makes_the_split_unsafe(tmp_path: Path) -> None:
    """``useradd -m -d /app appuser`` before ``WORKDIR /app`` makes /app appuser's, with
    .bashrc, .profile and .bash_logout (built: the split's /app was root's without them; its
    runtime repeated the useradd after the copies, which leaves an existing home as it is).
    A home elsewhere (/home/appuser), or one Debian's useradd does not create (no ``-m``:
    built, /app was root's in both), still splits."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "require('express')\n"})
    home = SERVER.format(extra="").replace("WORKDIR", "RUN useradd -m -d /app appuser\nWORKDIR")
    out, messages, _ = _split(home.replace("USER node\n", ""), root)
    assert "AS runtime" not in out
    assert "RUN at line 2 makes /app the home of appuser" in messages
    for other in (home.replace(" -d /app", ""), home.replace("-m -d", "-r -d")):
        out, messages, _ = _split(other.replace("USER node\n", ""), root)
        assert "AS runtime" in out and "unsafe" not in messages, messages


@pytest.mark.parametrize(
    ("link", "said"),
    [
        ("public", "which the runtime does not copy"),
        ("big.bin", "which the runtime copies by name"),
    ],
)
def test_a_context_symlink_the_runtime_would_not_keep_makes_the_split_unsafe(
    tmp_path: Path, link: str, said: str
) -> None:
    """``COPY . .`` copies a context symlink as a link; the runtime's named copies lose a link
    to a directory (built: public/ missing, ENOENT) and follow a link to a file (built: a 3 MB
    regular file where the original had a link)."""
    root = _node_app(
        tmp_path, {"dependencies": DEPS}, {"server.js": "", "assets/big.bin": "x" * 100}
    )
    (root / link).symlink_to("assets" if link == "public" else "assets/big.bin")
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert f"/app/{link} is a symlink in the build context" in messages and said in messages
    assert "AS runtime" not in out
    (root / link).unlink()
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert "AS runtime" in out and "symlink" not in messages, messages


def test_a_copy_chown_that_creates_a_copied_directory_makes_the_split_unsafe(
    tmp_path: Path,
) -> None:
    """``COPY --chown=node:node package*.json /app/`` with no WORKDIR before it makes /app
    node's; the runtime's /app belongs to root (built: a program started as root that drops
    to node with ``runuser`` could write /app in the original only, EACCES in the split).
    With ``WORKDIR /app`` first, /app is root's in both and the split stays safe."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    (root / "src" / "index.js").unlink()  # (a folder --chown gives away: its own rule)
    (root / "src").rmdir()
    text = (
        "FROM node:18\nCOPY --chown=node:node package*.json /app/\nWORKDIR /app\nRUN npm ci\n"
        "COPY --chown=node:node . /app/\n"
        'CMD ["runuser", "-u", "node", "--", "node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "COPY at line 2 creates /app owned by node:node" in messages
    made = text.replace("FROM node:18\n", "FROM node:18\nWORKDIR /app\n")
    out, messages, _ = _split(made, root)
    assert "AS runtime" in out and "owned by" not in messages, messages
    home = text.replace("/app/", "/home/node/app/").replace(
        "WORKDIR /app", "WORKDIR /home/node/app"
    )
    assert "creates /home/node/app owned by node:node" in _split(home, root)[1]
    srv = text.replace("/app/", "/srv/app/").replace("WORKDIR /app", "WORKDIR /srv/app")
    assert "creates /srv/app owned by node:node" in _split(srv, root)[1]


def test_a_context_directory_with_another_mode_copied_by_name_makes_the_split_unsafe(
    tmp_path: Path,
) -> None:
    """COPY . . keeps a context directory's mode, and gives it the owner --chown names;
    ``COPY --from=build /app/uploads ...`` makes the runtime's uploads root's with mode 755
    (built: uploads/ with mode 777, or brought by ``COPY --chown=node:node . .``, was writable
    by node in the original, EACCES in the split). Mode 755 and root's, or a folder inside a
    directory the runtime copies whole, stays safe."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "public/a.txt": "x"})
    (root / "uploads").mkdir()
    (root / "uploads").chmod(0o755)
    (root / "public").chmod(0o755)
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert "AS runtime" in out and "unsafe" not in messages, messages
    (root / "uploads").chmod(0o775)  # a checkout under umask 002: the same as 755
    (root / "public").chmod(0o775)
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert "AS runtime" in out and "unsafe" not in messages, messages
    (root / "uploads").chmod(0o777)
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert "AS runtime" not in out
    assert "uploads has mode 777 in the build context" in messages
    (root / "uploads").chmod(0o2775)  # setgid: files made there take the folder's group
    assert "uploads has mode 2775 in the build context" in _split(SERVER.format(extra=""), root)[1]
    (root / "uploads").chmod(0o755)
    given = SERVER.format(extra="").replace("COPY . .", "COPY --chown=node:node . .")
    given = given.replace("USER node\n", "").replace(
        'CMD ["node"', 'CMD ["runuser", "-u", "node", "--", "node"'
    )
    (root / "public").chmod(0o777)
    out, messages, _ = _split(given, root)
    assert "AS runtime" not in out
    assert "COPY at line 5 gives public to node:node; the runtime copies /app/public" in messages
    (root / "public").chmod(0o755)
    (root / "public" / "inner").mkdir()
    (root / "public" / "inner").chmod(0o700)
    out, messages, _ = _split(SERVER.format(extra=""), root)
    assert "AS runtime" in out and "unsafe" not in messages, messages


def test_a_directory_a_copy_chown_gave_away_is_copied_with_that_owner(tmp_path: Path) -> None:
    """``COPY --chown=node:node . .`` gives every context file and folder to node; when that
    COPY made the folder and every COPY that brings files there names the same owner, with no
    RUN after it, ``COPY --from --chown=node:node`` gives the runtime's copy the same owners
    (built: public/, src/ and their files were node's, modes kept, in both). Another COPY
    there without the owner, a RUN after it, or a folder that existed before are not carried."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "public/a.txt": "x"})
    for folder in ("public", "src"):
        (root / folder).chmod(0o755)
    given = SERVER.format(extra="").replace("COPY . .", "COPY --chown=node:node . .")
    given = given.replace("USER node\n", "")
    out, messages, _ = _split(given, root)
    assert "COPY --from=build --chown=node:node /app/public /app/public" in out, messages
    assert "COPY --from=build --chown=node:node /app/src /app/src" in out
    assert "--chown=node:node /app/server.js" not in out and "unsafe" not in messages
    later = given.replace("EXPOSE", "COPY a.txt public/\nEXPOSE")
    (root / "a.txt").write_text("y")
    other = "carry (other COPYs bring files there with other owners)"
    assert (
        f"gives public to node:node, which COPY --from --chown would not {other}"
        in (_split(later, root)[1])
    )
    (root / "a.txt").unlink()
    built = given.replace("EXPOSE", "RUN touch public/ready\nEXPOSE")
    assert "(RUN at line 6 may make files there owned by root)" in _split(built, root)[1]
    made = given.replace("WORKDIR /app\n", "WORKDIR /app\nRUN mkdir -p public\n")
    assert "(/app/public is made before it, and COPY --from --chown keeps" in _split(made, root)[1]


def test_a_program_run_as_the_user_copy_chown_gave_files_to_splits(tmp_path: Path) -> None:
    """With a build context, what ``COPY --chown`` gives is followed folder by folder, so a
    program run as that user no longer makes the split unsafe by itself (built: ``COPY
    --chown=node:node . .`` after a root ``npm ci``, with USER node: the same owners and
    modes, node could write public/ in both; ``COPY --chown=node:node src ./src`` with the
    app copied whole, the same listing). A chown in a RUN that does more than make and give
    away folders still does."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "public/a.txt": "x"})
    for folder in ("public", "src"):
        (root / folder).chmod(0o755)
    given = SERVER.format(extra="").replace("COPY . .", "COPY --chown=node:node . .")
    out, messages, _ = _split(given, root)
    assert "COPY --from=build --chown=node:node /app/public /app/public" in out, messages
    assert "unsafe" not in messages
    chowned = given.replace("EXPOSE", "RUN touch /app/x && chown node /app/x\nEXPOSE")
    out, messages, _ = _split(chowned, root)
    assert "AS runtime" not in out and "may make files there owned by root" in messages


def test_context_files_keep_root_where_the_build_runs_as_a_user(tmp_path: Path) -> None:
    """COPY without ``--chown`` gives root what it copies, whatever USER says; ``COPY --from``
    keeps owners, so the runtime names the build user only for paths no COPY brings files
    into (built: after ``USER node`` and ``COPY . .``, ``COPY --from --chown=node`` of the app
    made server.js and public/ node's where the original's were root's)."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nUSER node\nWORKDIR /home/node/app\nCOPY package*.json ./\nRUN npm ci\n"
        'COPY . .\nUSER root\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "COPY --from=build /home/node/app /home/node/app" in out, messages
    assert "--chown" not in out.split("AS runtime")[1]


def test_a_mode_set_on_a_copied_file_is_carried(tmp_path: Path) -> None:
    """``COPY --from`` keeps the owner and mode of a file it names (built: mode 4755 and a
    mode-600 file owned by node came through); only a directory it names is made anew. So
    ``RUN chmod 755`` of an entrypoint script copied from the context leaves the split safe
    (built: the same listing of /usr/local/bin, the same answer)."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "entry.sh": 'exec "$@"\n'})
    text = SERVER.format(extra="").replace(
        "USER node\n",
        "COPY entry.sh /usr/local/bin/\nRUN chmod 755 /usr/local/bin/entry.sh\n"
        'ENTRYPOINT ["/usr/local/bin/entry.sh"]\n',
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out and "sets the owner or mode" not in messages, messages
    # round 23, built: a folder's mode set in a RUN after the last build step is set again
    # by the runtime's repeat of it (/usr/local/bin 775 in both); in a build RUN it is not
    folder = text.replace("/usr/local/bin/entry.sh\nENTRYPOINT", "/usr/local/bin\nENTRYPOINT")
    out, messages, _ = _split(folder, root)
    assert "AS runtime" in out and "sets the owner or mode" not in messages, messages
    built = text.replace("RUN npm ci\n", "RUN npm ci && chmod 775 /usr/local/bin\n")
    assert "sets the owner or mode of /usr/local/bin" in _split(built, root)[1]


@pytest.mark.parametrize(
    ("tag", "slim"),
    [("boron", "boron-slim"), ("carbon-stretch", "carbon-stretch-slim"), ("argon", "argon-slim")],
)
def test_a_node_codename_tag_splits_onto_its_slim_variant(tmp_path: Path, tag, slim) -> None:
    """Node's LTS codenames name one major version each and the official library publishes
    their -slim variants (argon-slim, boron-jessie-slim, ...); built: node:boron and
    node:dubnium-buster split onto -slim answered the same, 708 MB -> 286 MB."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace("node:20", f"node:{tag}")
    out, messages, _ = _split(text, root)
    assert f"FROM node:{slim} AS runtime" in out, messages
    assert "no slim variant" not in messages


@pytest.mark.parametrize("user", ["www-data", "nobody"])
def test_a_debian_system_user_exists_on_the_slim_runtime(tmp_path: Path, user) -> None:
    """base-passwd puts www-data (33) and nobody (65534) in every Debian image, -slim included;
    built: node:14 with USER www-data and node:dubnium-buster with USER nobody split onto -slim
    answered with the same uid. A RUN that edits the account still declines the split."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra=f"USER {user}\n", cmd='["node", "dist/index.js"]')
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out and "not split" not in messages, messages
    edited = text.replace("RUN npm run build\n", f"RUN npm run build && usermod -u 1001 {user}\n")
    out, messages, _ = _split(edited, root)
    assert "AS runtime" not in out
    assert f"USER {user} is created together with build steps" in messages
    alpine = text.replace("node:20", "node:20-alpine")
    assert "AS runtime" not in _split(alpine, root)[0]


@pytest.mark.parametrize(
    ("user", "split"),
    [("nobody:65534", True), ("daemon:1", True), ("irc:list", True), ("nobody:ghosts", False)],
)
def test_a_debian_system_user_with_a_numeric_group_splits(tmp_path: Path, user, split) -> None:
    """Round 23: a numeric group needs no /etc/group entry; built: node:18 with USER
    nobody:65534, daemon, irc:list and 65534 split onto -slim answered with the same uid, gid
    and home, and /app had the same owners and modes."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra=f"USER {user}\n", cmd='["node", "dist/index.js"]')
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages


@pytest.mark.parametrize("user", ["1001", "1001:1001", "1000"])
def test_a_numeric_user_is_declined_where_a_build_step_adds_accounts(tmp_path: Path, user) -> None:
    """Round 23, built: `npm ci && useradd -m -u 1001 app` with USER 1001 split safely; the
    original ran as app (gid 1001, HOME /home/app), the split's runtime, which does not repeat
    that RUN, as uid 1001 with gid 0, HOME / and no passwd entry (os.userInfo() threw). A
    useradd in a RUN of its own is repeated in the runtime, and the split stays."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra=f"USER {user}\n", cmd='["node", "dist/index.js"]')
    assert "AS runtime" in _split(text, root)[0]
    mixed = text.replace("RUN npm run build\n", "RUN npm run build && useradd -m -u 1001 app\n")
    out, messages, _ = _split(mixed, root)
    assert "AS runtime" not in out
    assert f"USER {user} may name an account that RUN at line" in messages
    alone = text.replace("RUN npm run build\n", "RUN npm run build\nRUN useradd -m -u 1001 app\n")
    out, messages, _ = _split(alone, root)
    assert "RUN useradd -m -u 1001 app\nUSER" in out, messages


@pytest.mark.parametrize(
    ("setup", "split"),
    [
        ("RUN mkdir -p /app\n", False),  # names app as a word, creates no account
        ("RUN useradd --create-home app\n", True),
        ("RUN groupadd -r app && useradd -r -g app app\n", True),
        ("RUN echo 'app:x:1001:1001::/home/app:/bin/sh' >> /etc/passwd\n", True),
        ("RUN echo 'app:x:1001:1001::/home/app:/bin/sh' > /tmp/passwd\n", False),
        ('RUN useradd -m "$(echo app)"\n', False),  # unknown: not counted, said
    ],
)
def test_a_repeated_run_gives_the_runtime_only_the_accounts_it_creates(
    tmp_path: Path, setup: str, split: bool
) -> None:
    """Round 24, built: node:18 with `RUN mkdir -p /app` (repeated in the runtime) and `npm
    ci && useradd --create-home app` (not repeated), then USER app: the original ran as uid
    1001 with HOME /home/app, the split did not start ("unable to find user app") because
    the word app in /app counted as the account; a chat app's unsafe split repeated `chown -R
    app:app $HOME/*` on a runtime without app and failed to build. Only a command that
    creates the account (useradd, adduser, groupadd, addgroup, a line appended to
    /etc/passwd) counts."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="USER app\n", cmd='["node", "dist/index.js"]')
    text = text.replace("WORKDIR /app\n", "WORKDIR /app\n" + setup)
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    if not split and "useradd" not in setup:
        assert "USER app is not an account msdfix knows node:20-slim to have" in messages
    if "useradd" in setup and not split:
        assert "USER app may be an account RUN at line 3 creates in a way msdfix" in messages
    built = text.replace("RUN npm ci\n", "RUN npm ci && useradd --create-home app\n")
    if not split:
        out, messages, _ = _split(built, root)
        assert "AS runtime" not in out
        assert "USER app is created together with build steps" in messages


@pytest.mark.parametrize(
    ("setup", "user", "said"),
    [
        ("RUN npm ci && groupadd -r web\n", "node:web", "is created together with build steps"),
        ("RUN npm ci\n", "node:ghosts", "is not one msdfix knows node:20-slim to have"),
        ("RUN groupadd -r web\nRUN npm ci\n", "node:web", None),
        ("RUN npm ci\n", "node:node", None),
        ("RUN npm ci\n", "node:staff", None),
        ("RUN npm ci\n", "node:1234", None),
    ],
)
def test_the_final_users_group_must_be_one_the_runtime_has(
    tmp_path: Path, setup: str, user: str, said: str | None
) -> None:
    """Round 25, built: node:18 with `RUN npm ci && groupadd -r web` (a build step, not
    repeated) and `USER node:web`: the original ran as uid 1000, gid 999; the safe split did
    not start ("unable to find group web: no matching entries in group file"). Only the
    user's name had been looked up; the group must be created by a repeated RUN or shipped by
    the runtime image too."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra=f"USER {user}\n", cmd='["node", "dist/index.js"]')
    out, messages, _ = _split(text.replace("RUN npm ci\n", setup), root)
    assert ("AS runtime" in out) is (said is None), messages
    if said is not None:
        assert f"USER {user}: the group {user.partition(':')[2]} {said}" in messages


@pytest.mark.parametrize(
    ("first", "maker"),
    [
        ("COPY package*.json /app/\n", "COPY at line 2"),
        ("RUN mkdir -p /app\n", "RUN at line 2"),
        ("RUN mkdir -p /app && chmod 1777 /app\n", None),  # repeated in its place
        ("WORKDIR /app\n", None),
        ("", None),
    ],
)
def test_a_user_workdir_over_a_folder_the_build_made_first_is_unsafe(
    tmp_path: Path, first: str, maker: str | None
) -> None:
    """Round 25, built: node:18 with `COPY package*.json /app/` (or `RUN mkdir -p /app`),
    then `USER node`, `WORKDIR /app`, a root `npm ci` and `COPY . /app/`: /app was root's in
    the original and node's writes there failed with EACCES; the safe split repeated `USER
    node` and `WORKDIR /app` before its copies, which made /app node's, and COPY --from kept
    that owner (node's writes succeeded). With `mkdir -p /app && chmod 1777 /app` repeated
    in its place the split built the same listing and writes."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        f"FROM node:18\n{first}USER node\nWORKDIR /app\nUSER root\nCOPY package*.json ./\n"
        'RUN npm ci\nCOPY . .\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is (maker is None), messages
    if maker is not None:
        assert f"WORKDIR at line 4 makes /app node's in the runtime, where {maker} made" in messages


def test_an_unknown_user_is_declined_with_a_reason_that_says_so(tmp_path: Path) -> None:
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="USER ghost\n", cmd='["node", "dist/index.js"]')
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "USER ghost is not an account msdfix knows node:20-slim to have" in messages


@pytest.mark.parametrize("image", ["node", "node:latest", "node:stretch"])
def test_a_tag_without_a_version_says_why_it_is_not_split(tmp_path: Path, image) -> None:
    """node:latest and node:slim move independently (the builder keeps a cached latest unless
    --pull): the split is still declined, with that reason instead of 'no slim variant'."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["node", "dist/index.js"]').replace("node:20", image)
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert f"{image} names no version: a slim tag, pulled on its own, may hold another" in messages


@pytest.mark.parametrize(
    ("user", "split"),
    [("nobody", True), ("nobody:nogroup", False), ("www-data", False), ("nobody:65534", True)],
)
def test_nobody_exists_on_distroless_with_debians_id(tmp_path: Path, user, split) -> None:
    """distroless has nobody (65534, home /nonexistent, as Debian's) but no nogroup and no
    www-data; built: golang:1.19 with USER nobody split onto distroless/static answered as
    uid 65534 like the original (round 23: and USER nobody:65534, a numeric group, uid and gid
    65534 and HOME /nonexistent in both)."""
    _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="CGO_ENABLED=0 ", extra=f"USER {user}\n").replace(
        "RUN go build CGO_ENABLED=0 ", "RUN CGO_ENABLED=0 go build "
    )
    out, messages, _ = _split(text, tmp_path)
    assert ("AS runtime" in out) is split, messages
    if not split and ":" not in user:
        assert f"USER {user} is not an account msdfix knows gcr.io/distroless/" in messages
    elif not split:
        assert "USER nobody:nogroup: the group nogroup is not one msdfix knows gcr.io/" in messages


@pytest.mark.parametrize(("where", "split"), [(" && useradd -m nonroot", False), ("", False)])
def test_a_user_only_the_runtime_image_ships_is_not_the_builds(
    tmp_path: Path, where: str, split: bool
) -> None:
    """Round 24, built: golang:1.22 with `go build ... && useradd -m nonroot` and USER nonroot
    ran as uid 1000; its split onto distroless:nonroot ran as 65532 (the same name, HOME
    /home/nonroot). A name the runtime image ships counts only where no RUN of the build makes
    or changes an account of that name; without one the split is unsafe, not safe (built:
    golang with USER nonroot:nonroot did not start, "unable to find user nonroot", the split
    ran as 65532)."""
    _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="", extra="USER nonroot\n").replace(
        "RUN go build -o /app/server .", f"RUN CGO_ENABLED=0 go build -o /app/server .{where}"
    )
    out, messages, _ = _split(text, tmp_path)
    assert ("AS runtime" in out) is split, messages
    if where:
        assert "USER nonroot is created together with build steps" in messages
    else:
        assert "nonroot is not an account msdfix knows golang:1.22 to have" in messages


def test_alpine_nobody_has_another_home_than_distroless(tmp_path: Path) -> None:
    """Round 24, built: `docker run --user nobody` gives HOME / on alpine and HOME
    /nonexistent on distroless (uid and gid 65534 in both): a golang:alpine build with USER
    nobody is not split onto distroless, and the reason names the two homes."""
    _write(tmp_path, {"go.mod": "module example.com/app\n", "main.go": "package main\n"})
    text = GO.format(flags="", extra="USER nobody\n").replace("golang:1.22", "golang:1.22-alpine")
    text = text.replace("RUN go build", "RUN CGO_ENABLED=0 go build")
    out, messages, _ = _split(text, tmp_path)
    assert "AS runtime" not in out
    assert "nobody is 65534:65534 with HOME / on golang:1.22-alpine, 65534:65534 with HOME" in (
        messages
    )


# A uv.lock of a project that requires six, as uv 0.13.9 wrote it (wheel URL shortened).
SIX_LOCK = """version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "pg-app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "six" }]

[package.metadata]
requires-dist = [{ name = "six", marker = "python_full_version >= '3.8'", specifier = ">=1.10" }]

[[package]]
name = "six"
version = "1.17.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.pythonhosted.org/six-1.17.0-py2.py3-none-any.whl" }]
"""


@pytest.mark.parametrize(
    ("dependencies", "env", "sync", "why"),
    [
        ("\"six>=1.10; python_version >= '3.8'\"", "", "uv sync", None),
        ('"six>=1.10; python_version >= \'3.8\'", "psycopg2==2.9.10"', "", "uv sync", "other"),
        (
            '"six>=1.10; python_version >= \'3.8\'", "psycopg2==2.9.10"',
            "",
            "uv sync --frozen",
            None,
        ),
        (
            "\"six>=1.10; python_version >= '3.8'\"",
            "ENV UV_RESOLUTION=lowest\n",
            "uv sync",
            "resol",
        ),
        ("\"six>=1.10; python_version >= '3.8'\"", "", "uv sync -U", "upgraded by `-U`"),
    ],
)
def test_a_lock_the_install_replaces_is_no_evidence(
    tmp_path: Path, dependencies: str, env: str, sync: str, why: str | None
) -> None:
    """A plain ``uv sync`` locks again where uv.lock is out of step with pyproject.toml or
    the settings it runs with, and installs what the new lock lists: a uv.lock listing six
    alone, pyproject.toml adding psycopg2 (built with uv 0.13.9: the install built psycopg2
    from its sdist against the full image's libpq, and the split's runtime failed
    "libpq.so.5: cannot open shared object file" where the original answered). A lock in
    step (its marker as uv rewrites it) or ``--frozen`` still splits."""
    pyproject = '[project]\nname = "pg-app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
    pyproject += f"dependencies = [{dependencies}]\n"
    root = _write(tmp_path, {"pyproject.toml": pyproject, "uv.lock": SIX_LOCK, "app.py": ""})
    text = (
        f"FROM python:3.11\nRUN pip install uv==0.13.9\n{env}WORKDIR /app\nCOPY . .\n"
        f'RUN {sync} --no-install-project\nCMD [".venv/bin/python", "app.py"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is (why is None), messages
    if why is not None:
        assert "the install locks again (uv.lock " in messages and why in messages, messages


@pytest.mark.parametrize(
    "files",
    [
        {"uploads/": ""},  # an empty folder: a COPY of its parent still creates it
        {"uploads/cache/": ""},
        {"uploads/old.log": "", ".dockerignore": "uploads/*.log\n"},  # holds only ignored files
    ],
)
def test_a_go_programs_folder_without_files_is_copied(
    tmp_path: Path, files: dict[str, str]
) -> None:
    """``COPY . .`` brings an empty ``uploads/`` the program writes into; the runtime copied
    only the top entries that hold files (built: a Go app's ``os.WriteFile("uploads/x")``
    answered nil in the original and "no such file or directory" in the split)."""
    root = _write(tmp_path, {"go.mod": "module app\n\ngo 1.22\n", "main.go": "package main\n"})
    (root / "static").mkdir()
    (root / "static" / "index.html").write_text("hi")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if not rel.endswith("/"):
            (root / rel).write_text(text)
        else:
            (root / rel).mkdir(parents=True, exist_ok=True)
    out, messages, _ = _split(GO.format(flags="", extra=""), root)
    assert "COPY --from=build /app/static /app/static" in out, messages
    assert "COPY --from=build /app/uploads /app/uploads" in out, out


def test_a_go_programs_folder_copied_by_name_keeps_its_empty_folders(tmp_path: Path) -> None:
    """``COPY uploads /srv/uploads`` of an empty folder, and ``COPY static /srv/static`` of one
    that holds an empty ``cache/``: the runtime creates both, as the original's COPYs do."""
    root = _write(tmp_path, {"go.mod": "module app\n\ngo 1.22\n", "main.go": "package main\n"})
    (root / "uploads").mkdir()
    (root / "static" / "cache").mkdir(parents=True)
    (root / "static" / "index.html").write_text("hi")
    extra = "COPY uploads /srv/uploads\nCOPY static /srv/static\n"
    text = GO.format(flags="", extra="").replace("COPY . .\n", "COPY go.mod main.go ./\n" + extra)
    out, messages, _ = _split(text, root)
    assert "COPY --from=build /srv/uploads /srv/uploads" in out, messages
    assert "COPY --from=build /srv/static/cache /srv/static/cache" in out, out
    assert "/srv/static/index.html" in out, out


@pytest.mark.parametrize(
    ("chown", "split"),
    [
        ("RUN chown -R node:node /app\n", True),
        ("RUN chown -R node:node .\n", True),
        ("RUN chown -R node:node /app/dist\n", True),
        ("RUN chown node /app\n", True),
        ("RUN npm prune && chown -R node:node /app\n", False),  # a build step, not repeated
    ],
)
def test_a_chown_r_after_the_last_build_step_is_repeated_over_the_same_files(
    tmp_path: Path, chown: str, split: bool
) -> None:
    """Round 23, built: `RUN chown -R node:node /app` after `npm ci && npm run build`, then
    USER node, had been unsafe ("the runtime's WORKDIR and the directories COPY --from creates
    belong to root"); the runtime repeats that RUN after its copies and nothing is built
    after it, so the split's /app tree had the original's owners and modes (26 paths) and
    the same answer (built too with `/app/dist`). With the merge of the folder-RUN rule the
    same chown before the build is repeated before the copies instead, and COPY --chown of
    the tree beside it is carried too (both built at the merge: owners and modes of /app and
    node_modules identical, the same answer). A chown in a build step's RUN stays unsafe."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra=f"{chown}USER node\n", cmd='["node", "dist/index.js"]')
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    if not split:
        return
    assert "is repeated after the copies" in messages, messages
    before = text.replace(chown, "").replace("RUN npm run build\n", f"{chown}RUN npm run build\n")
    out, messages, _ = _split(before, root)
    if "/app/dist" not in chown:  # (before the build there is no /app/dist to give away)
        assert "AS runtime" in out and "is repeated before the copies" in messages, messages
    given = text.replace("COPY . .", "COPY --chown=node:node . .")
    assert "AS runtime" in _split(given, root)[0]


DOCUMENTED = (
    "FROM node:18\n{run}\nWORKDIR /home/node/app\nCOPY package*.json ./\nUSER node\n"
    'RUN npm install\nCOPY --chown=node:node . .\nEXPOSE 8080\nCMD ["node", "server.js"]\n'
)


def test_nodes_documented_folder_run_is_repeated_before_the_copies(tmp_path: Path) -> None:
    """Node's documented ``mkdir -p /home/node/app/node_modules && chown -R node:node
    /home/node/app`` RUN only makes and gives away the folder the runtime copies: repeated
    before the copies it makes /home/node/app node's again, and COPY --from keeps an existing
    folder's owner (built: without it /home/node/app was root's and node's write there failed
    with EACCES; with it the listings, the answer and node's writes were the original's; and
    with ``chown -R node $SEC_BELT_HOME`` of an ENV after ``COPY .``, the same listing)."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "public/a.txt": "x"})
    (root / "public").chmod(0o755)
    run = "RUN mkdir -p /home/node/app/node_modules && chown -R node:node /home/node/app"
    out, messages, _ = _split(DOCUMENTED.format(run=run), root)
    runtime = out[out.index("AS runtime") :]
    assert runtime.index(run) < runtime.index("WORKDIR") < runtime.index("COPY --from=build")
    assert "RUN at line 2 is repeated before the copies, so /home/node/app gets" in messages
    assert "unsafe" not in messages, messages
    mixed = run + " && npm install -g nodemon"  # (more than folders: not repeated)
    messages = _split(DOCUMENTED.format(run=mixed), root)[1]
    assert "unsafe: the program runs as node and the build gives it files" in messages
    assert "(RUN at line 2 runs chown, and the owners a chown gives are carried only" in messages
    by_env = "RUN mkdir -p $APP/node_modules && chown -R node:node $APP"  # (built: same)
    messages = _split(DOCUMENTED.format(run="ENV APP=/home/node/app\n" + by_env), root)[1]
    assert "RUN at line 3 is repeated before the copies" in messages
    assert "unsafe" not in messages, messages
    by_arg = "ARG APP=/home/node/app\n" + by_env  # (--build-arg may name another folder)
    assert "is repeated" not in _split(DOCUMENTED.format(run=by_arg), root)[1]
    elsewhere = run.replace("chown -R", "chown -R node:node /data && chown -R")
    messages = _split(DOCUMENTED.format(run=elsewhere), root)[1]
    assert "is repeated before the copies" not in messages and "unsafe" in messages


def test_a_folder_run_of_a_path_only_a_copy_brings_is_not_repeated_before_the_copies(
    tmp_path: Path,
) -> None:
    """Before the copies the runtime has only what its WORKDIRs and folder RUNs made: a
    ``chmod +x`` of a file an earlier COPY brought, repeated there, failed (harness, bulk
    precon: ``COPY start.sh /opt``, ``RUN chmod +x /opt/start.sh``: "No such file or
    directory"); COPY --from carries the mode, so the split leaves that RUN out. A folder a
    WORKDIR made, or the RUN's own mkdir, is still set before the copies."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "start.sh": ""})
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nCOPY start.sh /opt/\n"
        "RUN chmod +x /opt/start.sh\nRUN npm install\nCOPY . .\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    runtime = out[out.index("AS runtime") :]
    assert "chmod" not in runtime and "COPY --from=build /opt/start.sh" in runtime, out
    workdir = text.replace("RUN chmod +x /opt/start.sh", "RUN chmod 0755 /app")
    messages = _split(workdir, root)[1]
    assert "RUN at line 5 is repeated before the copies, so /app gets" in messages, messages


def test_a_folder_run_after_the_copies_is_repeated_on_the_same_files(tmp_path: Path) -> None:
    """``COPY . .``, then ``RUN chown -R app:app /app`` and ``USER app``: the runtime repeats
    the RUN after its copies, on the files the build gave it, so everything it names gets the
    same owner (built: /app and all in it app's in the original and in the split); there the
    RUN may also make the accounts it names (built: ``groupadd``, ``useradd -r`` and ``chown
    -R`` in one RUN: uid 999, the same listing). A folder RUN naming an owner the runtime may
    lack (no RUN it repeats makes it) is not."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": "", "public/a.txt": "x"})
    (root / "public").chmod(0o755)
    text = (
        "FROM node:18\nRUN groupadd -r app && useradd -r -g app app\nWORKDIR /app\n"
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN chown -R app:app /app\nUSER app\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    runtime = out[out.index("AS runtime") :]
    assert runtime.index("COPY --from=build") < runtime.index("RUN chown -R app:app /app")
    assert "RUN at line 7 is repeated after the copies" in messages
    assert "unsafe" not in messages, messages
    other = text.replace("chown -R app:app", "chown -R ghost:app")  # (no RUN makes it)
    assert "is repeated after the copies" not in _split(other, root)[1]
    made = "RUN groupadd -r app && useradd -r -g app -d /app -M app && chown -R app:app /app"
    text = text.replace("RUN groupadd -r app && useradd -r -g app app\n", "")
    out, messages, _ = _split(text.replace("RUN chown -R app:app /app", made), root)
    assert "RUN at line 6 is repeated after the copies" in messages
    assert "unsafe" not in messages, messages
    half = made.replace("app:app", "app:web")  # (group web made by no RUN)
    assert "is repeated" not in _split(text.replace("RUN chown -R app:app /app", half), root)[1]


def test_a_folder_run_gives_folders_only_to_accounts_the_runtime_has(tmp_path: Path) -> None:
    """The owner of a repeated folder RUN's chown must exist in the runtime: shipped by its
    image or created by a RUN it repeats. A word in an earlier RUN (``mkdir -p /app/data``
    names "app") is no account: the useradd beside apt-get is not repeated, and the
    runtime's ``chown app /app`` would fail."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nRUN apt-get update && apt-get install -y curl && useradd app\n"
        "WORKDIR /app\nRUN mkdir -p /app/data\nRUN chown app /app\nCOPY package*.json ./\n"
        'RUN npm ci\nCOPY . .\nCMD ["node", "server.js"]\n'
    )
    assert "is repeated before the copies" not in _split(text, root)[1]
    made = text.replace("RUN mkdir -p /app/data", "RUN useradd app")
    made = made.replace(" && useradd app", "")
    assert "RUN at line 5 is repeated before the copies" in _split(made, root)[1]


def test_a_folder_run_a_later_copy_remakes_is_not_repeated_before_the_copies(
    tmp_path: Path,
) -> None:
    """``WORKDIR /app/data`` and ``RUN chown node .``, then ``COPY . .`` into /app: that COPY
    brings data/ as a folder of what it copies and gives it the context's owner and mode, so
    the original's /app/data is root's; repeated before the copies, the RUN made the split's
    node's, as ``COPY --from`` naming /app/data keeps an existing folder's (built: node could
    write in /app/data only in the split; also with an empty uploads/). The RUN is not
    repeated, and the split is unsafe, the reason said (a COPY that names the folder keeps
    what the RUN set there: ``test_nodes_documented_folder_run_is_repeated_before_the_copies``)."""
    files = {"server.js": "", "data/a.txt": "x", "public/b.txt": "y"}
    root = _node_app(tmp_path, {"dependencies": DEPS}, files)
    text = (
        "FROM node:18\nWORKDIR /app/data\nRUN chown node .\nWORKDIR /app\n"
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "RUN at line 3 is not repeated: COPY at line 7 copies a folder it sets" in messages
    assert "unsafe: the program runs as node" in messages, messages
    (root / "uploads").mkdir()  # (a folder without files: COPY makes it all the same)
    messages = _split(text.replace("/app/data", "/app/uploads"), root)[1]
    assert "RUN at line 3 is not repeated: COPY at line 7 copies a folder it sets" in messages


def test_a_late_chown_to_an_account_only_a_build_step_made_declines(tmp_path: Path) -> None:
    """The runtime repeats the RUNs after the last build step but not the build steps: a
    ``chown -R app:web /app`` there, with app and web made beside ``npm ci``, failed the
    split's build ("chown: invalid user: 'app:web'"), so the split is declined, the account
    named. Made by a RUN the runtime repeats, or root's, the RUN still splits."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\n"
        "RUN npm ci && groupadd -r web && useradd -r -g web app\nCOPY . .\n"
        'RUN chown -R app:web /app\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "not split: RUN at line 6 gives files to app, an account no RUN" in messages
    group = text.replace("app:web", "node:web")
    assert "RUN at line 6 gives files to web, an account" in _split(group, root)[1]
    made = text.replace("RUN npm ci && ", "RUN npm ci\nRUN ")  # (a setup RUN: repeated)
    assert "AS runtime" in _split(made, root)[0]
    owned = text.replace("app:web", "root:root")
    assert "AS runtime" in _split(owned, root)[0]


@pytest.mark.parametrize(
    ("join", "lacks"),
    [
        ("useradd -r -g web app", True),
        ("useradd -r -G web,staff app", True),
        ("useradd -r --groups=web app", True),
        ("useradd -r app && usermod -aG web app", True),
        ("adduser --system --ingroup web app", True),
        ("useradd -r -g staff app", False),  # Debian's own group
        ("groupadd web && useradd -r -g web app", False),  # made in the same RUN
        ("useradd -r -g 1500 app", False),  # (a number: not read)
    ],
)
def test_a_repeated_run_putting_a_user_in_a_group_only_the_build_made_declines(
    tmp_path: Path, join: str, lacks: bool
) -> None:
    """Round 25, built: node:18 with ``RUN npm ci && groupadd -r web`` (a build step, not
    repeated), ``COPY . .``, then ``RUN useradd -r -g web app`` and USER app: the original
    ran as app; the safe split repeated the useradd after its copies, on a runtime without
    the group, and failed to build ("useradd: group 'web' does not exist"; ``-G web`` the
    same). The groups useradd, usermod and adduser join are needed like chown's."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci && groupadd -r web\n"
        f'COPY . .\nRUN {join}\nUSER app\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is not lacks, messages
    if lacks:
        assert "RUN at line 6 puts a user in the group web, which no RUN the runtime" in messages


def test_a_useradd_repeated_before_the_copies_needs_its_group_too(tmp_path: Path) -> None:
    """Round 25, built: ``RUN npm ci && groupadd -r web``, then ``RUN useradd -r -g web app``
    before ``COPY . .`` and ``npm run build``: the runtime repeats the useradd in its place,
    before its copies, and the split failed to build ("group 'web' does not exist")."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci && groupadd -r web\n"
        "RUN useradd -r -g web app\nCOPY . .\nRUN npm run build\nUSER app\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "RUN at line 5 puts a user in the group web, which no RUN the runtime" in messages
    made = text.replace("RUN npm ci && groupadd -r web\n", "RUN groupadd -r web\nRUN npm ci\n")
    out, messages, _ = _split(made, root)
    assert "AS runtime" in out, messages


@pytest.mark.parametrize(
    ("run", "unsafe"),
    [
        ("RUN mkdir -p /app && chgrp node /app && chmod 2775 /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod g+s /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod u+x,g+s /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod g+s-w /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod ug=rws /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod u+s /app\n", False),
        ("RUN mkdir -p /app && chgrp node /app && chmod a+s /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod +s /app\n", True),
        ("RUN mkdir -p /app && chgrp node /app && chmod 775 /app\n", False),
        ("RUN mkdir -p /app/uploads && chmod 2775 /app/uploads\n", False),  # names none below
    ],
)
def test_a_setgid_folder_above_a_copied_folder_makes_the_split_unsafe(
    tmp_path: Path, run: str, unsafe: bool
) -> None:
    """Round 25, built: node:18 with ``RUN mkdir -p /app && chgrp node /app && chmod 2775
    /app`` before ``WORKDIR /app``, ``npm ci`` and ``COPY . .``, USER node: npm's
    node_modules took /app's group and setgid bit (root:node 2755) in the original; the
    prod-deps split named /app/node_modules in COPY --from, which made it root:root 755."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        f"FROM node:18\n{run}WORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        'USER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is not unsafe, messages
    if unsafe:
        assert "RUN at line 2 gives /app the setgid bit, so the folders the build" in messages


def test_a_long_chmod_word_is_read_in_linear_time(tmp_path: Path) -> None:
    """A chmod mode of 120,000 ``g``: the single regex of setgid modes took quadratic time
    on it (``[ugoa]*g[ugoa]*``: 40,000 took 8 s, a megabyte over an hour); now one pass over
    its clauses."""
    from support.fold import fold

    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = fold(
        f"FROM node:18\nRUN mkdir -p /app && chmod {'g' * 120_000}+w /app\nWORKDIR /app\n"
        'COPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER node\nCMD ["node", "server.js"]\n'
    )
    start = time.process_time()
    _split(text, root)
    assert time.process_time() - start < 10


@pytest.mark.parametrize(("mode", "split"), [(0o755, True), (0o777, False)])
def test_a_folder_a_later_copy_brings_anew_keeps_the_contexts_owner_and_mode(
    tmp_path: Path, mode: int, split: bool
) -> None:
    """Round 25, built: ``RUN mkdir -p /app/uploads && chgrp node /app/uploads && chmod 2775
    /app/uploads``, then ``COPY . .`` with an uploads/ of mode 755 in the context, USER node:
    the COPY made uploads root's 755 again in the original, and the prod-deps split that
    names /app/uploads in COPY --from had the same listing, writes and answer; it had been
    unsafe ("sets the owner or mode of /app/uploads, which COPY --from does not carry"). A
    context folder of another mode stays unsafe (``copied_dir_modes``)."""
    files = {"server.js": "", "uploads/.gitkeep": "keep"}
    root = _node_app(tmp_path, {"dependencies": DEPS}, files)
    (root / "uploads").chmod(mode)
    run = "RUN mkdir -p /app/uploads && chgrp node /app/uploads && chmod 2775 /app/uploads\n"
    text = (
        f"FROM node:18\nWORKDIR /app\n{run}COPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        'USER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    if split:
        assert "COPY --from=build /app/uploads" in out or "/app/uploads " in out, out
    else:
        assert "uploads has mode 777 in the build context" in messages


@pytest.mark.parametrize(("mode", "split"), [(0o755, True), (0o777, False)])
def test_a_folder_dockerignore_ignores_but_holding_a_kept_file_is_brought_anew(
    tmp_path: Path, mode: int, split: bool
) -> None:
    """Round 25, built: .dockerignore of ``*`` with ``!uploads/.gitkeep`` (and the app's
    files): Docker sends uploads/ with its context mode, so ``COPY . .`` made the build's
    /app/uploads root's again (755: node's write failed EACCES; 777 from a 777 folder).
    msdfix had counted the ignored folder as not brought and repeated ``chgrp node`` and
    ``chmod 2775`` before the copies: the split's uploads was root:node 2775 and node's write
    succeeded. A 777 folder is unsafe, as where .dockerignore keeps it."""
    files = {"server.js": "", "uploads/.gitkeep": "keep"}
    ignore = "*\n!server.js\n!package*.json\n!uploads/.gitkeep\n"
    root = _node_app(tmp_path, {"dependencies": DEPS}, {**files, ".dockerignore": ignore})
    (root / "uploads").chmod(mode)
    run = "RUN mkdir -p /app/uploads && chgrp node /app/uploads && chmod 2775 /app/uploads\n"
    text = (
        f"FROM node:18\nWORKDIR /app\n{run}COPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        'USER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert ("AS runtime" in out) is split, messages
    assert "RUN at line 3 is not repeated: COPY at line 6 copies a folder" in messages
    assert "chmod 2775" not in out.partition("AS runtime")[2], out
    if not split:
        assert "uploads has mode 777 in the build context" in messages


def test_a_mkdir_with_a_mode_of_a_copied_folder_is_repeated_before_the_copies(
    tmp_path: Path,
) -> None:
    """Round 24, built: ``RUN mkdir -p -m 777 /app`` before ``WORKDIR /app``, then USER node:
    the split left the RUN out (a mkdir, carried by COPY --from), and the runtime's /app was
    755 where the original's was 777: node's writes in /app failed with EACCES. The RUN sets
    the mode of the folder the runtime copies, so it is repeated before the copies (built:
    /app 777 in both, the same listing and writes). ``-m`` of a folder above the copies, which
    ``mkdir -p`` after the copies would leave as it finds it, is unsafe."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nRUN mkdir -p -m 777 /app\nWORKDIR /app\nCOPY package*.json ./\n"
        'RUN npm ci\nCOPY . .\nRUN npm run build\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    runtime = out[out.index("AS runtime") :]
    assert runtime.index("RUN mkdir -p -m 777 /app") < runtime.index("COPY --from=build")
    assert "RUN at line 2 is repeated before the copies, so /app gets" in messages, messages
    above = text.replace("/app", "/srv/app").replace("-m 777 /srv/app", "-m 777 /srv")
    out, messages, _ = _split(above, root)
    assert "AS runtime" not in out
    assert "unsafe: RUN at line 2 sets the owner or mode of /srv, which COPY --from" in messages
    by_name = text.replace("RUN npm run build\n", "")  # (prod-deps: /app's files by name)
    out, messages = _split(by_name, root)[:2]
    assert "AS runtime" not in out
    assert "of /app, which COPY --from does not carry, and `mkdir -p`" in messages, messages
    plain = text.replace("-m 777 ", "")  # (root's, 755: what COPY --from makes)
    out, messages = _split(plain, root)[:2]
    assert "AS runtime" in out and "mkdir" not in out[out.index("AS runtime") :], messages


def test_a_mkdir_with_a_mode_of_a_folder_that_exists_is_not_repeated_before_the_copies(
    tmp_path: Path,
) -> None:
    """Round 24, built: ``COPY package*.json /app/`` or ``RUN mkdir -p /app/logs``, then
    ``RUN mkdir -p -m 777 /app``: mkdir -p leaves the folder that exists 755, but the split
    repeated the RUN before its copies without what made /app first, so it made /app 777
    (the original's /app 755, the split's 777, both ways). A ``mkdir -m`` of a copied folder
    an earlier COPY or setup RUN makes is no folder RUN for the runtime to repeat."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nCOPY package*.json /app/\nRUN mkdir -p -m 777 /app\nWORKDIR /app\n"
        'RUN npm ci\nCOPY . .\nRUN npm run build\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out
    assert "RUN at line 3 sets the owner or mode of /app, which COPY --from" in messages
    below = text.replace("COPY package*.json /app/\n", "RUN mkdir -p /app/logs\n").replace(
        "RUN npm ci\n", "COPY package*.json ./\nRUN npm ci\n"
    )  # (the first RUN, below /app, is carried by COPY --from: not repeated)
    out, messages, _ = _split(below, root)
    assert "AS runtime" not in out
    assert "RUN at line 3 sets the owner or mode of /app, which COPY --from" in messages
    first = text.replace("COPY package*.json /app/\n", "").replace(
        "RUN npm ci\n", "COPY package*.json ./\nRUN npm ci\n"
    )  # (the mkdir makes /app: repeated before the copies, as the test above has it)
    out, messages, _ = _split(first, root)
    runtime = out[out.index("AS runtime") :]
    assert runtime.index("RUN mkdir -p -m 777 /app") < runtime.index("COPY --from=build")


@pytest.mark.parametrize(
    "setting", ["RUN chown node:node /app\n", "RUN chmod 775 /app && chgrp node /app\n"]
)
def test_a_folder_run_after_one_the_runtime_leaves_out_is_not_repeated_before_the_copies(
    tmp_path: Path, setting: str
) -> None:
    """Round 24, built: ``RUN mkdir -p /app/logs`` (left out: COPY --from carries logs/),
    then ``RUN chown node:node /app`` before ``WORKDIR /app``: the split repeated the chown
    before its copies, where nothing had made /app, and failed to build ("chown: cannot
    access '/app'"). A folder only a RUN the runtime leaves out makes does not exist there."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        f"FROM node:18\nRUN mkdir -p /app/logs\n{setting}WORKDIR /app\nCOPY package*.json ./\n"
        'RUN npm ci\nCOPY . .\nRUN npm run build\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages, _ = _split(text, root)
    assert "AS runtime" not in out, messages
    made = text.replace("mkdir -p /app/logs", "mkdir -p /app && mkdir -p /app/logs")
    out, messages, _ = _split(made, root)  # (the first RUN sets nothing of /app: left out)
    assert "AS runtime" not in out, messages


def test_a_workdir_made_under_a_non_root_user_is_that_users_in_the_runtime_too(
    tmp_path: Path,
) -> None:
    """Round 24, built: ``USER node``, ``WORKDIR /home/node/app``, ``npm ci`` and ``COPY
    --chown=node:node . .`` had been unsafe ("the runtime's WORKDIR ... belong to root"), but
    BuildKit makes a WORKDIR's folder the USER's, and the runtime repeats the USER before the
    WORKDIR: /home/node/app was node's in both, the same listing and writes. A WORKDIR made
    as root, or of a folder that existed (node's home), still leaves the split unsafe."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nUSER node\nWORKDIR /home/node/app\n"
        "COPY --chown=node:node package*.json ./\nRUN npm ci\nCOPY --chown=node:node . .\n"
        'RUN npm run build\nCMD ["node", "server.js"]\n'
    )
    out, messages = _split(text, root)[:2]
    runtime = out[out.index("AS runtime") :]
    assert runtime.index("USER node") < runtime.index("WORKDIR /home/node/app"), out
    assert "unsafe" not in messages, messages
    as_root = text.replace(
        "USER node\nWORKDIR /home/node/app\n", "WORKDIR /home/node/app\nUSER node\n"
    )
    assert "unsafe: the program runs as node" in _split(as_root, root)[1]
    home = text.replace("/home/node/app", "/home/node")  # (the image has it: no WORKDIR made it)
    assert "unsafe: the program runs as node" in _split(home, root)[1]
    made = text.replace("USER node\n", "RUN npx degit user/app /home/node/app\nUSER node\n")
    assert "unsafe: the program runs as node" in _split(made, root)[1]  # (a RUN may make it)
    apt = "RUN apt-get update\nRUN apt-get install -y curl\n"  # (packages: not /home/node/app)
    assert "unsafe" not in _split(text.replace("USER node\n", apt + "USER node\n"), root)[1]


def test_a_folder_run_below_the_copied_folders_is_carried_by_copy_from(tmp_path: Path) -> None:
    """Round 24, built: ``RUN mkdir -p /app/uploads && chown node:node /app/uploads && chmod
    2775 /app/uploads`` before ``COPY . .``, then USER node, had been unsafe ("RUN at line 3
    runs chown"): the runtime leaves it out and ``COPY --from=build /app /app`` carries
    uploads/ node's with mode 2775, the same listing and writes; so was ``touch
    /app/logs/app.log && chown node:node /app/logs/app.log`` after ``COPY . .`` (built: the
    file node's in both). A RUN doing more than that, or naming the copied folder, is still
    unsafe."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    run = "RUN mkdir -p /app/uploads && chown node:node /app/uploads && chmod 2775 /app/uploads"
    text = NODE.format(extra="USER node\n", cmd='["node", "server.js"]').replace(
        "WORKDIR /app\n", f"WORKDIR /app\n{run}\n"
    )
    out, messages = _split(text, root)[:2]
    assert "AS runtime" in out and "unsafe" not in messages, messages
    assert "chown" not in out[out.index("AS runtime") :], out
    mixed = text.replace(run, run + " && npm install -g nodemon")  # (more than folders)
    assert "unsafe: the program runs as node" in _split(mixed, root)[1]
    relative = text.replace(run, "RUN mkdir uploads && chown node uploads")  # (words alone)
    assert "unsafe" not in _split(relative, root)[1]
    touched = "RUN touch /app/logs/app.log && chown node:node /app/logs/app.log\n"
    files = NODE.format(extra="USER node\n", cmd='["node", "server.js"]')
    files = files.replace("RUN npm run build\n", touched + "RUN npm run build\n")
    out, messages = _split(files, root)[:2]
    assert "AS runtime" in out and "unsafe" not in messages, messages
    assert "touch" not in out[out.index("AS runtime") :], out
    top = files.replace("chown node:node /app/logs/app.log", "chown node:node /app")
    assert "unsafe" in _split(top, root)[1]  # (the copied folder itself)


def test_chgrp_is_a_setup_step_like_chown(tmp_path: Path) -> None:
    """Round 24, built: OpenShift's ``RUN chgrp -R 0 /app && chmod -R g=u /app`` after the
    build, then ``USER 1000:0``, was declined ("runs `chgrp`, which may create files the
    runtime needs"); chgrp only sets a group, and repeated after the copies it sets the same
    groups on the same files (built: the same listing, writes as 1000:0, 708 -> 286 MB).
    Before the copies, of the copied folder itself, it is a folder RUN repeated there."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    late = "RUN chgrp -R 0 /app && chmod -R g=u /app\nUSER 1000:0\n"
    text = NODE.format(extra=late, cmd='["node", "server.js"]')
    out, messages = _split(text, root)[:2]
    runtime = out[out.index("AS runtime") :]
    assert runtime.index("COPY --from=build") < runtime.index("RUN chgrp -R 0 /app"), messages
    assert "RUN at line 7 is repeated after the copies" in messages, messages
    early = text.replace(late, "USER 1000:0\n").replace(
        "WORKDIR /app\n", "WORKDIR /app\nRUN chgrp 0 /app && chmod g=u /app\n"
    )
    messages = _split(early, root)[1]
    assert "RUN at line 3 is repeated before the copies, so /app gets" in messages, messages


def test_a_home_a_setup_run_makes_before_the_copies_is_made_in_the_runtime_too(
    tmp_path: Path,
) -> None:
    """Round 24, built: ``useradd -m -u 1200 app``, ``USER app``, ``WORKDIR /home/app/web``
    (or ``/home/app``) and ``COPY --chown=app . .`` had been unsafe ("makes /home/app the
    home of app"), but the runtime repeats that RUN in its place, before its copies: the
    home and its skeleton files are made there as in the build (the same listing and
    writes). A useradd naming the copied folder (``-d``) is repeated after the copies, where
    it leaves the home COPY --from made root's: still unsafe."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nRUN useradd -m -u 1200 app\nUSER app\nWORKDIR /home/app/web\n"
        "COPY --chown=app package*.json ./\nRUN npm ci\nCOPY --chown=app . .\n"
        'RUN npm run build\nCMD ["node", "server.js"]\n'
    )
    for workdir in ("/home/app/web", "/home/app"):
        out, messages = _split(text.replace("/home/app/web", workdir), root)[:2]
        runtime = out[out.index("AS runtime") :]
        assert runtime.index("RUN useradd") < runtime.index("COPY --from=build"), messages
        assert "unsafe" not in messages, messages
    named = text.replace("useradd -m", "useradd -m -d /home/app/web")  # (after the copies)
    assert "unsafe" in _split(named, root)[1]


@pytest.mark.parametrize(
    ("first", "maker"),
    [
        ("COPY package*.json /home/app/\n", "COPY at line 2"),
        ("RUN mkdir -p /home/app/web\n", "RUN at line 2"),
        ("WORKDIR /home/app\n", None),  # repeated in its place too
        ("", None),
    ],
)
def test_a_home_the_build_made_before_a_repeated_useradd_is_not_the_users(
    tmp_path: Path, first: str, maker: str | None
) -> None:
    """Round 25, built: node:18 with ``COPY package*.json /home/app/`` (or ``RUN mkdir -p
    /home/app/web``) before ``RUN useradd -m app``, then ``WORKDIR``, ``npm ci``, ``COPY .
    .`` and ``USER app``: useradd found the home there and left it root's, without the
    skeleton files (app's writes there EACCES); the safe split repeated the useradd before
    its copies, where no home existed yet: /home/app app's with .bashrc, .profile and
    .bash_logout, and app's writes there worked."""
    root = _node_app(tmp_path, {"dependencies": DEPS}, {"server.js": ""})
    text = (
        f"FROM node:18\n{first}RUN useradd -m app\nWORKDIR /home/app/web\n"
        "COPY package*.json ./\nRUN npm ci\nCOPY . .\nUSER app\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages = _split(text, root)[:2]
    if maker is None:
        assert "unsafe" not in messages and "AS runtime" in out, messages
        return
    assert "AS runtime" not in out
    assert f"makes /home/app the home of app in the runtime, where {maker} made" in messages


def test_copy_chmod_gives_the_folders_it_brings_its_mode(tmp_path: Path) -> None:
    """Round 24, built: ``COPY --chmod=777 . .`` then USER node, split with prod-deps, which
    copies logs/ and public/ by name: they were 777 and node's writes there worked in the
    original, 755 and EACCES in the split (COPY --from makes a folder it names root's, 755),
    while the context's 755 had read as safe. --chmod is that folder's mode; one msdfix
    cannot read (``u+rwx``) counts as another; ``--chmod=755`` still splits."""
    files = {"server.js": "", "public/a.txt": "x", "logs/.keep": ""}
    root = _node_app(tmp_path, {"dependencies": DEPS}, files)
    for folder in ("public", "logs"):
        (root / folder).chmod(0o755)
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\n"
        'COPY --chmod=777 . .\nUSER node\nCMD ["node", "server.js"]\n'
    )
    out, messages = _split(text, root)[:2]
    assert "AS runtime" not in out
    assert "unsafe: COPY at line 5 gives logs mode 777 (--chmod); the runtime copies" in messages
    assert "mode u+rwx (--chmod)" in _split(text.replace("777", "u+rwx"), root)[1]
    out, messages = _split(text.replace("777", "755"), root)[:2]
    assert "AS runtime" in out and "unsafe" not in messages, messages


def test_ln_f_over_a_copied_link_needs_no_dereference_to_be_repeated(tmp_path: Path) -> None:
    """Round 24, built: ``RUN mkdir -p /data && ln -sf /data /app/storage`` after ``COPY . .``
    split safely and was repeated after the copies, where /app/storage was already the
    build's link to /data: ``ln -sf`` followed it and made /data/data, a link the original
    lacks. ``ln -sfn`` (or ``-T``) replaces the link itself (built: the same listing); ``ln
    -sf`` declines, as ``ln -s`` did."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS}, {"server.js": ""})
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        "RUN mkdir -p /data && ln -sf /data /app/storage\nRUN npm run build\n"
        'CMD ["node", "server.js"]\n'
    )
    out, messages = _split(text, root)[:2]
    assert "AS runtime" not in out
    assert "RUN at line 6 runs `ln` on /app/storage again after the runtime copies" in messages
    for flags in ("-sfn", "-sfT", "-sf --no-dereference"):
        out, messages = _split(text.replace("-sf", flags), root)[:2]
        assert "AS runtime" in out and "unsafe" not in messages, messages


@pytest.mark.parametrize("flag", ["--network=host", "--security=insecure", "--device=/dev/fuse"])
def test_a_run_flag_of_the_install_keeps_dev_dependencies(tmp_path: Path, flag: str) -> None:
    """Round 28: ``RUN --network=host npm ci`` got a prod-deps stage whose ``RUN npm ci
    --omit=dev`` lacked the flag (a registry reached through the host's network, a build
    needing --security=insecure): the deps stage's install is msdfix's own RUN, so the app is
    copied whole, dev dependencies kept, with the flag said (this daemon's frontend rejects
    these flags: read from msdfix's output only)."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["npm", "start"]').replace("RUN npm ci", f"RUN {flag} npm ci")
    out, messages, _ = _split(text, root)
    assert "AS runtime" in out, messages
    assert "prod-deps" not in out, out
    assert f"runs with {flag}, which the deps stage's install" in messages, messages
    plain, _, _ = _split(NODE.format(extra="", cmd='["npm", "start"]'), root)
    assert "prod-deps" in plain


@pytest.mark.parametrize(
    ("flags", "unsafe"),
    [
        ("--network=host ", True),
        ("--mount=type=bind,source=extra.list,target=/etc/apt/sources.list.d/extra.list ", True),
        ("--mount=type=secret,id=auth,target=/etc/apt/auth.conf ", True),
        ("--mount=type=cache,target=/var/cache/apt --mount=type=tmpfs,target=/tmp ", False),
        ("", False),
    ],
)
def test_the_runtimes_package_install_lacking_a_flag_of_the_builds_is_unsafe(
    tmp_path: Path, flags: str, unsafe: bool
) -> None:
    """Round 28: the runtime's ``apt-get install`` is written by msdfix from the build's
    packages, without the flags of the build's RUN: a host-network proxy, a bind-mounted
    sources list or a secret apt login made the build's install work, and the runtime's
    would lack them. Built: ``RUN --mount=type=bind,source=nonfree.sources,...`` then
    ``apt-get install unrar`` on golang:1.19 answered; the split's runtime failed "Package
    'unrar' has no installation candidate". Cache and tmpfs mounts change no answer."""
    root = _write(tmp_path, {
        "go.mod": "module example.com/app\n",
        "main.go": 'package main\nimport "os/exec"\nfunc main() { exec.Command("jq").Run() }\n',
        "extra.list": "deb http://deb.debian.org/debian bookworm main\n",
    })  # fmt: skip
    install = f"RUN {flags}apt-get update && apt-get install -y --no-install-recommends jq\n"
    text = GO.format(flags="", extra="").replace("WORKDIR /app\n", f"{install}WORKDIR /app\n")
    out, messages, _ = _split(text, root)
    assert ("AS runtime" not in out) is unsafe, messages
    assert ("the runtime installs its packages without --" in messages) is unsafe, messages
    assert "runtime packages: jq" in messages, messages


@pytest.mark.parametrize(
    ("volume", "where", "unsafe"),
    [
        ("VOLUME /app\n", "FROM node:20\n", True),  # before the install: legacy drops it
        ('VOLUME ["/app/node_modules"]\n', "FROM node:20\n", True),
        ("VOLUME /\n", "FROM node:20\n", True),
        ("VOLUME /app\n", "EXPOSE 3000\n", False),  # after every RUN: nothing dropped
        ("VOLUME /data\n", "FROM node:20\n", False),  # not over what the runtime copies
    ],
)
def test_a_volume_before_a_run_over_the_copied_app_is_unsafe(
    tmp_path: Path, volume: str, where: str, unsafe: bool
) -> None:
    """Round 28, built on the legacy builder (``DOCKER_BUILDKIT=0``): ``VOLUME /app`` then
    ``RUN npm ci``: the original's node_modules was dropped ("Cannot find module 'ms'"), the
    split's runtime got it by COPY and answered. BuildKit keeps the RUN's writes (both
    answered there), so the split is unsafe, with the reason, not declined."""
    root = _node_app(tmp_path, {"scripts": BUILD, "dependencies": DEPS})
    text = NODE.format(extra="", cmd='["npm", "start"]').replace(where, where + volume, 1)
    out, messages, _ = _split(text, root)
    assert ("AS runtime" not in out) is unsafe, messages
    assert ("the legacy builder drops a RUN's writes under a volume" in messages) is unsafe
