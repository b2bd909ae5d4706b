"""The YAML files of the build context msdfix reads (pnpm-lock.yaml, compose files,
heroku.yml, render.yaml) are read with PyYAML's safe loader through ``load_yaml``, which
refuses what the tools refuse and bounds what hostile input costs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from msdfix.ecosystems.node.local_packages import local_package_names, patched_dependencies
from msdfix.ecosystems.node.pnpm_lock import pnpm_lock_stale
from msdfix.ecosystems.node.project_layout import modules_elsewhere
from msdfix.ecosystems.node.yarn import plug_n_play, yarn_env_files
from msdfix.files import YamlError, load_yaml
from msdfix.model import BuildContext
from msdfix.model.compose import UNKNOWN, compose_runs
from msdfix.model.platforms import platform_runs

# one 100 KB string aliased 20,000 times: 20,000 values, 2 GB as text (json.dumps of a command)
_LONG_ALIASED = f"s: &s {'x' * 100_000}\nc: [{', '.join(['*s'] * 20_000)}]\n"
_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a: 1\na: 2\n", "twice"),
        ("a:\n\tb: 1\n", "cannot start any token"),
        ("a: 1\n---\nb: 2\n", "single document"),
        ("a: !!python/object/apply:os.system [true]\n", "constructor"),
        (_LAUGHS, "expand"),
        ("a: &a [*a]\n", "expand"),
        (_LONG_ALIASED, "expand"),
        ("[" * 1200 + "]" * 1200, "depth"),
        ("? [a]\n: b\n", "unhashable"),
        ("a: 1\n" + "#" * (8 << 20), "over 8 MiB"),
    ],
    ids=["duplicate-key", "tab", "two-documents", "python-tag", "laughs", "cycle", "long-aliased", "deep",
         "list-key", "large"],
)  # fmt: skip
def test_yaml_msdfix_does_not_read_is_refused(text: str, why: str) -> None:
    """Each is unknown to callers, never an empty file: a key twice (js-yaml, pnpm's reader,
    refuses it), tabs, two documents, a tag safe_load does not build, aliases expanding a
    1 KiB file to 387 million values (safe_load shares them; a walk does not) or in a
    cycle, or a 100 KB string 20,000 times (few values, 2 GB of text), nesting deeper than libyaml's 1,000 levels, a list as a key; a text over 8 MiB is
    not parsed (a 7 MB pnpm-lock.yaml took 23 s on a loaded 2-core machine)."""
    started = time.monotonic()
    with pytest.raises(YamlError, match=why):
        load_yaml(text)
    assert time.monotonic() - started < 5


def test_yaml_merge_keys_and_plain_documents_read() -> None:
    """``<<`` merges (compose files use them) are not a key written twice; an empty file is
    a document of nothing; a large file without aliases is within the budget."""
    assert load_yaml("x: &x {k: 1, j: 2}\ny:\n  <<: *x\n  k: 3\n") == {
        "x": {"k": 1, "j": 2},
        "y": {"k": 3, "j": 2},
    }
    assert load_yaml("") is None
    many = "- [a, b, c, {d: e}]\n" * 5_000
    assert len(load_yaml(many)) == 5_000


_PNPM9 = """lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      ms:
        specifier: 2.1.2
        version: 2.1.2

packages:

  ms@2.1.2:
    resolution: {integrity: sha512-abc}

snapshots:

  ms@2.1.2: {}
"""
_MS = "      ms:\n        specifier: 2.1.2\n        version: 2.1.2"


@pytest.mark.parametrize(
    ("lock", "stale"),
    [
        (_PNPM9, None),
        (_PNPM9.replace("specifier: 2.1.2", "specifier: 2.1.2  # pinned"), None),
        (_PNPM9.replace(_MS, "      ms: {specifier: 2.1.2, version: 2.1.2}"), None),
        (_PNPM9.replace("specifier: 2.1.2", 'specifier: "2.1.\\x32"'), None),
        (_PNPM9.replace("specifier: 2.1.2\n", "specifier: 2.1.2\n        specifier: 2.1.3\n"),
         "twice"),
        ("---\nlockfileVersion: '9.0'\nimporters:\n  .:\n    configDependencies: {}\n---\n"
         + _PNPM9, "single document"),
        (_PNPM9.replace("\n  .:\n    dependencies:", "\n  .:\n\tdependencies:"), "token"),
        ("lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      ms: *x\n",
         "alias"),
        (_PNPM9.replace("specifier: 2.1.2", "specifier: catalog:"), "mapping values"),
    ],
    ids=["block", "comment", "flow", "escaped", "duplicate-key", "two-documents", "tab",
         "unknown-alias", "unquoted-catalog"],
)  # fmt: skip
def test_a_pnpm_lock_reads_as_pnpm_reads_it(lock: str, stale: str | None) -> None:
    """Built with pnpm 9.15.9 in node:18 over a lock it wrote: a specifier with a comment,
    a flow-style entry and an escaped double-quoted specifier were kept byte for byte by
    ``pnpm install`` (the hand-written reader called them stale); a key written twice, a
    second YAML document before the lock and a tab in the indentation made pnpm warn
    "Ignoring broken lockfile" and write a new one (the hand-written reader took the second
    document's importers as in step). pnpm 10.34.9 writes ``specifier: 'catalog:'`` quoted,
    and called the lock with it unquoted broken ("bad indentation of a mapping entry")."""
    package = {"name": "p", "version": "1.0.0", "dependencies": {"ms": "2.1.2"}}
    why = pnpm_lock_stale(lock, package, "9.0")
    if stale is None:
        assert why is None
    else:
        assert why is not None and why.startswith("pnpm ignores a lock") and stale in why


def _context(tmp_path: Path, files: dict[str, str]) -> BuildContext:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return BuildContext(tmp_path, tmp_path / "Dockerfile")


_TEST = 'command: ["go", "test"]'


@pytest.mark.parametrize(
    "compose",
    [
        "x-app: &app\n  build: .\n  " + _TEST + "\nservices:\n  test:\n    <<: *app\n",
        '{"services": {"test": {"build": ".", "command": ["go", "test"]}}}\n',
        "services: {test: {build: ., command: [go, test]}}\n",
        '"services":\n  test:\n    build: .\n    ' + _TEST + "\n",
        "services: &all\n  test:\n    build: .\n    " + _TEST + "\n",
        "\ufeffservices:\n  test:\n    build: .\n    " + _TEST + "\n",
        "services:\n  test:\n    build: .\n    command:\n      - go\n      - test\n",
    ],
    ids=["merge-key", "json", "flow", "quoted-key", "anchored", "bom", "block-list"],
)
def test_compose_files_in_every_yaml_form_read_their_services(tmp_path: Path, compose: str) -> None:
    """Valid compose files the hand-written reader called unknown (a service taking its
    build and command from an anchor, JSON, flow style, a quoted or anchored ``services``)
    or read as an empty command (a block list) read as the service's command."""
    runs = compose_runs(_context(tmp_path, {"compose.yaml": compose}))
    assert [(r.service, r.key, r.text) for r in runs] == [("test", "command", '["go", "test"]')]


@pytest.mark.parametrize(
    ("compose", "why"),
    [
        ("services:\n  test:\n    build: .\n    build: ./web\n", "twice"),
        (_LAUGHS + "services:\n  test:\n    build: .\n", "expand"),
        ("services:\n  test:\n    build: .\n\tcommand: go test\n", "tab"),
        ("services:\n  - test\n", "not a mapping"),
        ("include:\n  - other.yaml\n", "includes"),
    ],
    ids=["duplicate-key", "laughs", "tab", "services-list", "include"],
)
def test_a_compose_file_msdfix_cannot_read_is_unknown(
    tmp_path: Path, compose: str, why: str
) -> None:
    """What such a file's services run is unknown, not none (Compose's YAML reader refuses
    a key written twice and tabs)."""
    runs = compose_runs(_context(tmp_path, {"compose.yaml": compose}))
    assert [r.key for r in runs] == [UNKNOWN] and why in runs[0].text


def test_a_compose_service_reports_its_entrypoint_after_its_command(tmp_path: Path) -> None:
    """The hand-written reader took only the first of ``command`` and ``entrypoint``, so a
    service whose command was the image's CMD hid its own entrypoint."""
    compose = "services:\n  api:\n    build: .\n    command: app\n    entrypoint: sh -c\n"
    runs = compose_runs(_context(tmp_path, {"compose.yaml": compose}))
    assert [(r.key, r.text) for r in runs] == [("command", "app"), ("entrypoint", "sh -c")]


@pytest.mark.parametrize(
    ("name", "text", "found"),
    [
        ("heroku.yml", "build:\n  docker:\n    web: Dockerfile\nrun:\n  worker: app work\n",
         [("worker", "run", "app work")]),
        ("heroku.yml", "run:\n  worker:\n    command:\n      - app work\n    image: web\n"
         "release:\n  image: web\n  command:\n    - app migrate\n",
         [("worker", "run", '["app work"]'), ("release", "release", '["app migrate"]')]),
        ("heroku.yml", "run: {web: app}\n", [("web", "run", "app")]),
        ("heroku.yml", "run:\n  web: app\n  web: app work\n", [("", UNKNOWN, "twice")]),
        ("render.yaml", "services:\n  - type: web\n    preDeployCommand: app migrate\n",
         [("service", "preDeployCommand", "app migrate")]),
        ("render.yaml", "previews:\n  generation: auto\nservices: [{type: web, "
         "dockerCommand: app serve}]\n", [("service", "dockerCommand", "app serve")]),
        ("render.yaml", _LAUGHS, [("", UNKNOWN, "expand")]),
    ],
)  # fmt: skip
def test_platform_yaml_files_read_their_commands(
    tmp_path: Path, name: str, text: str, found: list[tuple[str, str, str]]
) -> None:
    """heroku.yml's processes and release command and render.yaml's commands, in flow style
    too; a file its own platform would refuse is unknown."""
    runs = platform_runs(_context(tmp_path, {name: text}))
    got = [(r.service, r.key, r.text) for r in runs]
    assert len(got) == len(found)
    for (service, key, said), (want_service, want_key, want) in zip(got, found, strict=True):
        assert (service, key) == (want_service, want_key) and want in said


@pytest.mark.parametrize(
    ("rc", "pnp"),
    [
        ("nodeLinker: node-modules # note\n", False),
        ('nodeLinker: "node-modules"\n', False),
        ("{nodeLinker: node-modules}\n", False),
        ("nodeLinker: pnp\nnodeLinker: node-modules\n", False),
        ("nodeLinker: node-modules\npackageExtensions:\n\tx: 1\n", True),
        ("nodeLinker: pnpm\n", False),
        ("", True),
    ],
    ids=["comment", "quoted", "flow", "twice", "tab", "pnpm", "empty"],
)
def test_yarnrc_settings_read_as_yarn_reads_them(rc: str, pnp: bool) -> None:
    """Built with yarn 4.5.0 (``yarn config get nodeLinker``): node-modules for a comment,
    quotes, flow style (the hand-written regex called it Plug'n'Play) and a key written
    twice (the last); with a tab yarn failed, and a file that does not read is taken as
    Plug'n'Play, the linker that keeps no node_modules, as unknown."""
    assert plug_n_play(rc) is pnp


@pytest.mark.parametrize(
    ("rc", "files"),
    [
        ("", [".env.yarn?"]),
        ('injectEnvironmentFiles: [".env", "a,b"]\n', [".env", "a,b"]),
        ("injectEnvironmentFiles:\n  - .env # local\n  - .env.ci?\n", [".env", ".env.ci?"]),
        ("injectEnvironmentFiles: []\n", []),
        ("injectEnvironmentFiles: .env\n", None),
        ("injectEnvironmentFiles:\n\t- .env\n", None),
    ],
)
def test_yarn_env_files_read_the_yaml_list(rc: str, files: list[str] | None) -> None:
    """A quoted item with a comma is one file (the hand-written reader split it in two)."""
    assert yarn_env_files(rc) == files


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("pnpm-workspace.yaml", 'modulesDir: "my modules"\n', "modulesDir=my modules"),
        ("pnpm-workspace.yaml", "modulesDir: node_modules\n", None),
        ("pnpm-workspace.yaml", "packages:\n  - a\nmodulesDir: x\nmodulesDir: y\n", "twice"),
        ("pnpm-workspace.yaml", "{virtualStoreDir: .vs}\n", "virtualStoreDir=.vs"),
        (".yarnrc.yml", "pnpmStoreFolder: .store # here\n", "pnpmStoreFolder=.store"),
        (".yarnrc.yml", "pnpmStoreFolder:\n\t.store\n", "cannot read as YAML"),
    ],
)
def test_layout_settings_of_yaml_files_are_read_as_yaml(
    tmp_path: Path, name: str, text: str, said: str | None
) -> None:
    """pnpm-workspace.yaml's and .yarnrc.yml's top-level keys, in flow style and with
    quotes too; a file that does not read as YAML may set one."""
    why = modules_elsewhere(_context(tmp_path, {name: text}), "")
    assert (why is None) if said is None else (why is not None and said in why)


@pytest.mark.parametrize(
    ("workspace", "names"),
    [
        ("packages:\n  - 'libs/*' # members\n", {"sharp"}),
        ("packages: [libs/*]\nonlyBuiltDependencies: [esbuild]\n", {"sharp"}),
        ("onlyBuiltDependencies:\n  - libs/*\n", set()),
        ("packages:\n\t- libs/*\n", None),
    ],
    ids=["block", "flow", "other-list", "tab"],
)
def test_pnpm_workspace_members_are_its_packages_list(
    tmp_path: Path, workspace: str, names: set[str] | None
) -> None:
    """pnpm's workspace members are the globs of ``packages`` (flow style too, which the
    hand-written reader missed, so a member's sharp went unseen); another list is not; a
    file that does not read leaves the members unknown."""
    (tmp_path / "libs" / "a").mkdir(parents=True)
    (tmp_path / "libs" / "a" / "package.json").write_text(
        '{"name": "a", "dependencies": {"sharp": "0.33.0"}}'
    )
    context = _context(
        tmp_path, {"package.json": '{"name": "r"}', "pnpm-workspace.yaml": workspace}
    )
    assert local_package_names(context, "") == names


@pytest.mark.parametrize(
    ("workspace", "said"),
    [
        ("patchedDependencies:\n  ms@2.1.3: patches/ms.patch\n", "patchedDependencies"),
        ("{patchedDependencies: {ms@2.1.3: patches/ms.patch}}\n", "patchedDependencies"),
        ("packages: ['.']\n", None),
        ("patchedDependencies:\n\tms@2.1.3: patches/ms.patch\n", "unreadable"),
    ],
    ids=["block", "flow", "none", "tab"],
)
def test_pnpm_workspace_patched_dependencies_are_read_as_yaml(
    tmp_path: Path, workspace: str, said: str | None
) -> None:
    """pnpm-workspace.yaml's ``patchedDependencies`` in flow style (the line search missed
    it, and the manifests-first install lacked the patch file: pnpm 10 failed with ENOENT);
    a file that does not read may declare some."""
    context = _context(tmp_path, {"pnpm-workspace.yaml": workspace})
    why = patched_dependencies(context, "", {"name": "p"})
    assert (why is None) if said is None else (why is not None and said in why)


_CHECK = 'healthcheck:\n      test: ["CMD", "curl", "-f", "http://localhost:3000/"]\n'


@pytest.mark.parametrize(
    ("files", "found"),
    [
        ({"compose.yaml": "services:\n  web:\n    build: .\n",
          "compose.override.yaml": "services:\n  web:\n    " + _CHECK},
         [("compose.override.yaml", "web", "healthcheck")]),
        ({"compose.yaml": "services:\n  web:\n    image: app\n    command: npm run dev\n",
          "docker-compose.override.yml": "services:\n  web:\n    build: .\n"},
         [("compose.yaml", "web", "command")]),
        ({"compose.yaml": "services:\n  web:\n    build: .\n    image: app\n"
          "  worker:\n    image: app:latest\n    command: npm run worker\n"},
         [("compose.yaml", "worker", "command")]),
        ({"compose.yaml": "services:\n  web:\n    build: ./web\n    image: app\n"
          "  worker:\n    image: app\n    command: npm run worker\n",
          "compose.override.yaml": "services:\n  web:\n    " + _CHECK},
         []),
        ({"compose.yaml": "services:\n  web:\n    build: .\n    image: app\n"
          "  db:\n    image: postgres\n    command: -c fsync=off\n"},
         []),
    ],
    ids=["override-healthcheck", "override-build", "same-image", "built-elsewhere", "other-image"],
)  # fmt: skip
def test_a_service_merged_from_another_compose_file_or_naming_the_image_counts(
    tmp_path: Path, files: dict[str, str], found: list[tuple[str, str, str]]
) -> None:
    """Round 25, built: compose.yaml's web built ./api with the image's CMD as its command,
    and compose.override.yaml (which ``docker compose`` reads with it unasked) gave web a
    healthcheck of ``curl -f``: the service had no ``build`` in that file, so it was not
    read, and the split stayed safe; in the split's node:18-slim runtime the check failed,
    "exec: curl: executable file not found", in the original it answered. A service of
    another compose file of the folder with the same name, or naming the image the build
    tags, runs in this image; one of another build's does not."""
    runs = compose_runs(_context(tmp_path, files))
    assert [(r.path, r.service, r.key) for r in runs] == found
