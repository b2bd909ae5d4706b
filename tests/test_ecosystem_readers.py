"""The per-ecosystem build-context readers: one reader per ecosystem, used by every transform."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from msdfix.ecosystems.accounts import account_change, created_account, made_name, uid_change
from msdfix.ecosystems.go import unseen_go_modules
from msdfix.ecosystems.node.dependencies import read_dependencies
from msdfix.ecosystems.node.installs import lock_problem
from msdfix.ecosystems.node.local_packages import local_dependency, locked_local
from msdfix.ecosystems.node.managers import NPM, PNPM, YARN
from msdfix.ecosystems.node.npm_lock import dev_flagged_peer, npm_lock_invalid, npm_override_unmet
from msdfix.ecosystems.node.pnpm_lock import pnpm_lock_stale
from msdfix.ecosystems.node.scripts import script_name
from msdfix.ecosystems.node.semver import semver_satisfies
from msdfix.ecosystems.node.yarn import plug_n_play, yarn_berry
from msdfix.ecosystems.python import install_evidence
from msdfix.ecosystems.python.requirements import read_requirements
from msdfix.model import BuildContext


def _context(tmp_path: Path, files: dict[str, str]) -> BuildContext:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return BuildContext(tmp_path)


PACKAGE = json.dumps(
    {
        "dependencies": {"express": "^4", "lib": "github:me/lib"},
        "optionalDependencies": {"fsevents": "*"},
        "devDependencies": {"esbuild": "0.21.5"},
    }
)


def test_node_reader_reads_package_json_and_every_lock(tmp_path: Path) -> None:
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {},
            "node_modules/express": {},
            "node_modules/express/node_modules/bcrypt": {"hasInstallScript": True},
            "node_modules/lib": {"resolved": "git+ssh://git@github.com/me/lib.git"},
        },
    }
    yarn = '"@babel/core@^7.0.0", "@babel/core@^7.1":\n  version "7.1.0"\nlodash@^4:\n'
    pnpm = "packages:\n\n  /sharp@0.33.0:\n    resolution: {}\n  left-pad@1.3.0:\n"
    ctx = _context(
        tmp_path,
        {
            "package.json": PACKAGE,
            "package-lock.json": json.dumps(lock),
            "yarn.lock": yarn,
            "pnpm-lock.yaml": pnpm,
        },
    )
    deps = read_dependencies(ctx)
    assert deps is not None
    assert set(deps.production) == {"express", "lib", "fsevents"}
    assert set(deps.dev) == {"esbuild"}
    assert deps.scripts_known and deps.install_scripts == {"bcrypt"}
    assert deps.locked_git == ("lib",)
    assert {"bcrypt", "@babel/core", "lodash", "sharp", "left-pad"} <= deps.locked
    assert "esbuild" in deps.names and deps.unknown is None


def test_node_lock_entries_after_long_runs_of_blank_lines(tmp_path: Path) -> None:
    """From every line start the entry regex's ``^\\s*`` ran over all the blank lines below:
    quadratic (300,000 blank lines in a yarn.lock took minutes). Entries are read as before."""
    from support.deadline import deadline

    blank = "\n" * 300_000
    yarn = f'{blank}lodash@^4:\n  version "4.17.21"\n{blank}  left-pad@1.3.0:\n{blank}'
    ctx = _context(tmp_path, {"package.json": "{}", "yarn.lock": yarn})
    with deadline():
        deps = read_dependencies(ctx)
    assert deps is not None and deps.locked == {"lodash", "left-pad"}


def test_node_reader_v1_lock_and_unreadable_package(tmp_path: Path) -> None:
    v1 = {"lockfileVersion": 1, "dependencies": {"a": {"dependencies": {"canvas": {}}}}}
    ctx = _context(tmp_path, {"app/package.json": "{}", "app/package-lock.json": json.dumps(v1)})
    deps = read_dependencies(ctx, "app")
    assert deps is not None and deps.locked == {"a", "canvas"} and not deps.scripts_known
    assert read_dependencies(_context(tmp_path / "x", {"package.json": "{"})) is None


def test_script_name_follows_each_runner_grammar() -> None:
    assert script_name(["npm", "run", "build"]) == "build"
    assert script_name(["/usr/bin/yarn", "--silent", "build"]) == "build"
    assert script_name(["npm", "start"]) == "start"
    assert script_name(["bun", "run", "build"]) == "build"
    assert script_name(["bun", "dev"]) == "dev"
    assert script_name(["bun", "build", "./src/index.ts"]) is None  # bun's bundler, no script
    assert script_name(["npm"]) is None
    assert script_name(["ng", "build"]) is None


def test_requirements_reader_follows_includes_and_classifies_lines(tmp_path: Path) -> None:
    ctx = _context(
        tmp_path,
        {
            "requirements.txt": "-r req/base.txt\nZope.Interface[x]>=5 ; python_version>'3'\n"
            "git+https://github.com/me/lib.git#egg=lib\n--index-url https://x\n",
            "req/base.txt": "# base\nPyYAML==6.0  # yaml\n-c ../constraints.txt\n",
            "constraints.txt": "psycopg2==2.9.9\n",
        },
    )
    found = read_requirements(ctx, ["requirements.txt"])
    assert found.files == ["requirements.txt", "req/base.txt", "constraints.txt"]
    assert found.names == ["zope-interface", "pyyaml", "psycopg2"]  # PEP 503 names
    assert found.git == ["git+https://github.com/me/lib.git#egg=lib"]
    assert not found.local and found.missing is None
    local = _context(tmp_path / "l", {"r.txt": "-e .\n./wheels/x.whl\n-r gone.txt\n"})
    found = read_requirements(local, ["r.txt"])
    assert [line for _, line in found.local] == ["-e .", "./wheels/x.whl"]
    assert found.missing == "gone.txt"


HASH = " --hash=sha256:" + "0" * 64


def test_install_evidence_is_proven_only_by_wheels(tmp_path: Path) -> None:
    files = {
        "requirements.txt": f"flask==3.0.3 \\\n   {HASH}\n",
        "pg.txt": "psycopg2\n",
        "open.txt": "flask==3.0.3\n",
        "extra.txt": "sqlalchemy[postgresql_psycopg]==2.0.36\n",
        "compiled.txt": "# This file is autogenerated by pip-compile with Python 3.12\nflask==3.0.3\n",
    }
    ctx = _context(tmp_path, files)
    scope: dict[str, str | None] = {}

    def status(*args: str) -> str:
        return install_evidence(ctx, [("pip", ["install", *args])], (3, 12), scope).status

    assert status("-r", "requirements.txt") == "unproven"
    assert status("--only-binary", ":all:", "-r", "requirements.txt") == "none"
    assert status("--only-binary", ":all:", "-r", "compiled.txt") == "none"
    # from wheels, but their dependencies are not listed: one may load a system library
    assert status("--only-binary", ":all:", "-r", "open.txt") == "open"
    assert status("--only-binary", ":all:", "-r", "extra.txt") == "open"
    assert status("--only-binary", ":all:", "flask") == "open"
    assert status("pip==24.0", "setuptools") == "none"  # packaging tools ship wheels
    assert status("-r", "pg.txt") == "native"
    assert status(".") == "unknown"
    assert status("-r", "missing.txt") == "unknown"
    evidence = install_evidence(ctx, [("pip", ["install", "-r", "pg.txt"])], (3, 12), scope)
    assert evidence.packages == {"psycopg2"}


@pytest.mark.parametrize(
    ("installs", "own"),
    [
        ([["-r", "pg.txt"]], True),
        ([["-r", "pg.txt", "-r", "c.txt"]], False),
        ([["psycopg-c==3.2.3"], ["-r", "pg.txt"]], False),  # another RUN built it first
        ([["-r", "pg.txt"], ["psycopg-c==3.2.3"]], False),
    ],
)
def test_psycopg_c_is_loaded_before_psycopg_binary(
    tmp_path: Path, installs: list[list[str]], own: bool
) -> None:
    """psycopg tries its c implementation first, which links the system's libpq (built:
    psycopg[binary,c] answered "c 150020" on python:3.11; the split onto python:3.11-slim
    without libpq5 answered "binary 170000"): psycopg-binary's own libpq is not the one used."""
    header = "# This file is autogenerated by pip-compile with Python 3.12\n"
    ctx = _context(
        tmp_path,
        {
            "pg.txt": header + "psycopg==3.2.3\npsycopg-binary==3.2.3\ntyping-extensions==4.12.2\n",
            "c.txt": header + "psycopg-c==3.2.3\n",
        },
    )
    runs = [("pip", ["install", "--only-binary", ":all:", *args]) for args in installs]
    evidence = install_evidence(ctx, runs, (3, 12), {})
    assert evidence.own.get("psycopg") is own, evidence


@pytest.mark.parametrize(
    ("include", "own"),
    [("-r pins.txt", True), ("-c pins.txt", False), ("--constraint=pins.txt", False)],
)
def test_a_constraint_is_not_an_install(tmp_path: Path, include: str, own: bool) -> None:
    """pip installs a name a constraints file lists only where a requirement asks for it
    (built: psycopg-binary in ``-c constraints.txt`` beside psycopg was not installed,
    python:3.11 answered "python 150020" with its libpq, and the split onto
    python:3.11-slim without libpq5 failed "libpq library not found")."""
    header = "# This file is autogenerated by pip-compile with Python 3.12\n"
    ctx = _context(
        tmp_path,
        {
            "requirements.txt": f"{header}{include}\npsycopg==3.2.3\ntyping-extensions==4.12.2\n",
            "pins.txt": header + "psycopg-binary==3.2.3\n",
        },
    )
    install = ("pip", ["install", "--only-binary", ":all:", "-r", "requirements.txt"])
    evidence = install_evidence(ctx, [install], (3, 12), {})
    assert bool(evidence.own.get("psycopg")) is own, evidence  # False: libpq5 in the runtime


@pytest.mark.parametrize(
    ("uninstall", "own"),
    [
        (["-y", "six"], True),
        (["-y", "psycopg-binary"], False),
        (["-y", "Psycopg_Binary==3.2.3"], False),
        (["-y", "-r", "gone.txt"], False),  # a file msdfix does not read here
    ],
)
def test_an_uninstall_takes_the_own_library_away(
    tmp_path: Path, uninstall: list[str], own: bool
) -> None:
    """``pip uninstall -y psycopg-binary`` leaves psycopg on the system's libpq (built:
    the split onto python:3.11-slim without libpq5 failed "libpq library not found")."""
    header = "# This file is autogenerated by pip-compile with Python 3.12\n"
    ctx = _context(
        tmp_path,
        {"pg.txt": header + "psycopg==3.2.3\npsycopg-binary==3.2.3\ntyping-extensions==4.12.2\n"},
    )
    runs = [
        ("pip", ["install", "--only-binary", ":all:", "-r", "pg.txt"]),
        ("pip", ["uninstall", *uninstall]),
    ]
    evidence = install_evidence(ctx, runs, (3, 12), {})
    assert evidence.own.get("psycopg") is own, evidence


def test_node_reader_calls_an_unreadable_lock_unknown(tmp_path: Path) -> None:
    """A lock file that is there but cannot be read hides the transitive packages."""
    ctx = _context(tmp_path, {"package.json": "{}", "package-lock.json": '{"truncated'})
    deps = read_dependencies(ctx)
    assert deps is not None and deps.unknown is not None and "package-lock.json" in deps.unknown
    ok = read_dependencies(_context(tmp_path / "ok", {"package.json": "{}", "yarn.lock": ""}))
    assert ok is not None and ok.unknown is None


@pytest.mark.parametrize(
    "program, files, problem",
    [
        ("yarn", {}, "no yarn.lock"),
        ("yarn", {"yarn.lock": ""}, "yarn.lock is empty"),
        ("npm", {"package-lock.json": ""}, "package-lock.json is empty"),
        ("npm", {"package-lock.json": '{"lockfileVersion": 3}'}, None),
    ],
)
def test_a_lock_file_that_is_empty_is_told_apart_from_a_missing_one(
    program: str, files: dict[str, str], problem: str | None
) -> None:
    """An empty lock file is reported as empty, not as missing (users look for the file)."""

    assert lock_problem(program, files.get, lambda rel: rel in files, {}) == problem


def test_local_dependency_reads_override_tables_to_the_bottom() -> None:
    """npm's nested overrides (with the "." key), pnpm.overrides and pnpm.packageExtensions:
    a local spec anywhere in them means the manifests alone cannot install."""
    assert local_dependency({"overrides": {"express": {"qs": "file:./q.tgz"}}}) == (
        "express > qs",
        "file:./q.tgz",
    )
    assert local_dependency({"overrides": {"qs": {".": "./q.tgz", "x": "1"}}}) == ("qs", "./q.tgz")
    assert local_dependency({"pnpm": {"overrides": {"qs": "link:../qs"}}}) == ("qs", "link:../qs")
    extensions = {"pnpm": {"packageExtensions": {"a@1": {"dependencies": {"b": "file:b"}}}}}
    assert local_dependency(extensions) == ("a@1 > dependencies > b", "file:b")
    plain = {"overrides": {"qs": {".": "6.11.0"}}, "pnpm": {"overrides": {"ms": "^2"}}}
    assert local_dependency(plain) is None


def test_locked_local_reads_the_locks_of_the_install_only(tmp_path: Path) -> None:
    ctx = _context(
        tmp_path,
        {
            "yarn.lock": '"qs@file:./vendor/qs.tgz":\n  version "6.11.0"\n',
            "pnpm-lock.yaml": "lockfileVersion: '6.0'\ndependencies:\n  link:\n    version: 1.0.0\n",
            "sub/pnpm-lock.yaml": "packages:\n  /a@1.0.0:\n    resolution: {tarball: file:a.tgz}\n",
        },
    )
    assert locked_local(ctx, "", NPM) is None  # no npm lock: yarn.lock is not npm's
    assert "qs@file:./vendor/qs.tgz" in str(locked_local(ctx, "", YARN))
    assert locked_local(ctx, "", PNPM) is None  # a package named link
    assert "tarball: file:a.tgz" in str(locked_local(ctx, "sub", PNPM))


def test_locked_local_reads_a_lock_over_the_manifest_limit(tmp_path: Path, monkeypatch) -> None:
    """Lock files outgrow read_text's 1 MiB; one that cannot be read at all is unknown."""
    import msdfix.model.context as context_module

    filler = "".join(f'    "node_modules/p{i}": {{"version": "1.0.0"}},\n' for i in range(40000))
    lock = '{"packages": {\n' + filler + '    "node_modules/qs": {"link": true}\n}}\n'
    ctx = _context(tmp_path, {"package-lock.json": lock})
    assert len(lock) > 1 << 20 and ctx.read_text("package-lock.json") is None
    assert '"link": true' in str(locked_local(ctx, "", NPM))
    monkeypatch.setattr(context_module, "MAX_SCANNED_BYTES", 1 << 20)
    assert "could not be read" in str(locked_local(ctx, "", NPM))


@pytest.mark.parametrize(
    ("files", "package", "berry"),
    [
        ({}, {"packageManager": "yarn@1.22.19"}, False),
        ({}, {"packageManager": "yarn@4.1.0"}, True),
        ({}, {"packageManager": "yarn@10.0.0"}, True),  # not yarn 1 because it starts with 1
        ({}, {"packageManager": "pnpm@9.0.0"}, False),
        ({"web/.yarnrc.yml": "nodeLinker: pnp\n"}, {}, False),  # another folder's settings
        ({".yarnrc.yml": "nodeLinker: pnp\n"}, {}, True),
    ],
)
def test_yarn_berry_is_read_one_way_by_every_transform(
    tmp_path: Path, files: dict[str, str], package: dict[str, str], berry: bool
) -> None:
    assert yarn_berry(_context(tmp_path, files), "", package) is berry


@pytest.mark.parametrize(
    ("rc", "pnp"),
    [
        (None, True),
        ("enableGlobalCache: false\n", True),
        ("nodeLinker: node-modules\n", False),
        ("nodeLinker: 'pnpm'\n", False),
        ("nodeLinker: node-modules-x\n", True),
        ("# nodeLinker: node-modules\n", True),
    ],
)
def test_plug_n_play_unless_the_linker_makes_node_modules(rc: str | None, pnp: bool) -> None:
    assert plug_n_play(rc) is pnp


@pytest.mark.parametrize(
    ("rc", "env", "pnp"),
    [
        ("nodeLinker: node-modules\n", {"YARN_NODE_LINKER": "pnp"}, True),
        ("nodeLinker: node-modules\n", {"YARN_NODE_LINKER": None}, True),  # a build argument
        ("nodeLinker: pnp\n", {"YARN_NODE_LINKER": "node-modules"}, False),
        ("nodeLinker: node-modules\n", {"YARN_CACHE_FOLDER": "/c"}, False),
    ],
)
def test_the_environment_linker_overrides_the_yarnrc(
    rc: str, env: dict[str, str | None], pnp: bool
) -> None:
    assert plug_n_play(rc, env) is pnp


def test_a_uv_settings_file_nested_too_deep_is_unreadable_not_an_internal_error() -> None:
    """``uv.toml`` of 5,000 nested arrays: tomllib's RecursionError was exit 123 (every other
    context TOML read counts it as unreadable)."""
    from msdfix.ecosystems.python.requirements import uv_local_location

    deep = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    assert uv_local_location(deep, "uv.toml") == "uv.toml could not be read"


@pytest.mark.parametrize(
    "key", ["[" + ".".join(["a"] * 200_000) + "]", "x = {" + ".".join(["a"] * 200_000) + " = 1}"]
)
def test_a_toml_key_of_many_parts_is_unreadable_in_linear_time(key: str) -> None:
    """tomllib takes time quadratic in a dotted key's parts (200,000: about 40 s of CPU); a
    key of more than 1,000 parts is read as nested too deep, and fewer still read."""
    from msdfix.ecosystems.python.requirements import uv_local_location
    from support.deadline import deadline

    with deadline(5, cpu=True):
        assert uv_local_location(key + "\nx = 1\n", "uv.toml") == "uv.toml could not be read"
    from msdfix.files import load_toml

    assert load_toml("[" + ".".join(["a"] * 1000) + "]\nx = 1\n")["a"]["a"]["a"]


@pytest.mark.parametrize("meta", [5, [], "optional", None])
def test_a_peer_meta_that_is_not_an_object_marks_nothing_optional(meta: object) -> None:
    """A lock's ``peerDependenciesMeta`` entry of another type (``"x": 5``) was an internal
    error (exit 123); it marks nothing optional, so a dev-only peer is still found."""
    lock = {
        "packages": {
            "": {},
            "node_modules/a": {"peerDependencies": {"x": "1"}, "peerDependenciesMeta": {"x": meta}},
            "node_modules/x": {"dev": True},
        }
    }
    assert dev_flagged_peer(lock) == "x, a peer of a"


def test_a_long_chain_of_requirement_includes_is_read_in_linear_time(tmp_path: Path) -> None:
    """Each `-r` include was looked up in the list of files read so far: 4,000 chained files
    took 14 s (40,000: 30 s more). Files read are kept in a set."""
    from support.deadline import deadline

    count = 40_000
    for i in range(count):
        (tmp_path / f"r{i}.txt").write_text(f"-r r{i + 1}.txt\n")
    with deadline(20, cpu=True):  # about 5 s; the list took 30 s and more
        found = read_requirements(BuildContext(tmp_path), ["r0.txt"])
    assert len(found.files) == count and found.missing == f"r{count}.txt"


@pytest.mark.parametrize(
    "command, account",
    [
        ("useradd -m app", ("app", "/home/app", None)),  # the uid: the first free one
        ("useradd -m -u 1001 app", ("app", "/home/app", "1001:1001")),
        ("useradd --uid=1001 --gid 2000 -d /srv/app app", ("app", "/srv/app", "1001:2000")),
        ("useradd -u 1001 -g app app", ("app", "/home/app", None)),  # a group by name
        ("useradd -u 1001 -N app", ("app", "/home/app", None)),  # GROUP of useradd's defaults
        ("useradd -b /opt -u 7 app", ("app", "/opt/app", "7:7")),
        ("useradd -R /rootfs app", None),  # another root
        ("useradd -D -b /srv", None),  # changes the defaults
        ("adduser --disabled-password --gecos '' app", ("app", "/home/app", None)),
        ("adduser --uid 1001 --home /app app", ("app", "/app", "1001:1001")),
        ("adduser --system --uid 999 app", ("app", None, None)),  # Debian's or busybox's
        ("adduser app sudo", None),  # adds an existing user to a group
        ("adduser -D -u 1001 app", ("app", "/home/app", "1001:1001")),  # busybox
        ("adduser -D -h /srv/app -G www app", ("app", "/srv/app", None)),
        ("useradd -m $APP_USER", None),
        # getopt: bundled short options, a value glued to its letter, long abbreviations
        # (checked in debian:12: /home/a1, /srv/a2 uid 1234, /opt/a3; --ba is ambiguous)
        ("useradd -ms /bin/bash app", ("app", "/home/app", None)),
        ("useradd -d/srv/app -mu1234 app", ("app", "/srv/app", "1234:1234")),
        ("useradd --home=/opt/app app", ("app", "/opt/app", None)),
        ("useradd --home /opt/app -m app", ("app", "/opt/app", None)),
        ("useradd -mUu 1500 app", ("app", "/home/app", "1500:1500")),
        ("useradd -mNu 1500 app", ("app", "/home/app", None)),
        ("useradd --ba=/data app", None),
        ("useradd -mR/rootfs app", None),
        ("adduser -Dh/srv/app app", ("app", "/srv/app", None)),  # busybox's getopt32
        ("adduser -DHu 1234 app", ("app", "/home/app", "1234:1234")),
        # busybox's long options (adduser.c), mixed with its letters (round 24: lidarr)
        ("adduser --system -u $UID metadata", ("metadata", "/home/metadata", None)),
        ("adduser -D --home /srv/app --uid=1001 app", ("app", "/srv/app", "1001:1001")),
        ("adduser -D --bogus app", None),
    ],
)
def test_created_account_reads_what_useradd_and_adduser_document(
    command: str, account: tuple[str, str | None, str | None] | None
) -> None:
    program, *args = shlex.split(command)
    assert created_account(program, args) == account


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("useradd -m -u 1001 app", "app"),
        ("adduser --system --group web", "web"),
        ("adduser --group web", "web"),  # Debian: adds a group
        ("adduser -D -S -G web app", "app"),
        ("addgroup -S -g 1001 web", "web"),
        ("addgroup --system web", "web"),
        ("addgroup app wheel", None),  # adds the user app to wheel
        ("adduser app wheel", None),
        ("groupadd -r -g 1000 web", "web"),
        ("groupadd --root /mnt web", None),  # another root's /etc/group
        ("useradd -m $USERNAME", None),  # unknown, not absent
        ("echo app:x:1001:1001::/home/app:/bin/sh", None),  # to stdout
        ("mkdir -p /app", None),
        ("chown -R app:app /app", None),
    ],
)
def test_made_name_reads_what_each_command_creates(command: str, name: str | None) -> None:
    program, *args = shlex.split(command)
    assert made_name(program, args) == name


@pytest.mark.parametrize(
    ("redirect", "name"),
    [(">> /etc/passwd", "app"), (">>/etc/group", "app"), ("> /tmp/passwd", None)],
)
def test_a_line_appended_to_the_account_files_creates_its_name(
    redirect: str, name: str | None
) -> None:
    assert made_name("echo", ["app:x:1001:1001::/home/app:/bin/sh"], [redirect]) == name


@pytest.mark.parametrize(
    ("build", "runtime", "name", "same"),
    [
        ("node:18", "node:18-slim", "node", True),
        ("python:3.11", "python:3.11-slim", "www-data", True),
        ("golang:1.22", "gcr.io/distroless/static-debian12", "nobody", True),
        ("golang:1.22-alpine", "gcr.io/distroless/static-debian12", "nobody", False),  # HOME
        ("golang:1.22", "gcr.io/distroless/static-debian12", "www-data", False),
        ("python:3.11", "python:3.11-slim", "_apt", False),  # uid given at install
        ("ghcr.io/acme/base:1", "debian:12-slim", "nobody", False),  # unknown image
        ("nginx:1.25", "nginx:1.25-alpine", "nginx", False),  # HOME /var/cache/nginx
        ("nginx:1.25", "nginx:1.25-bookworm", "nginx", True),
        ("node:18", "node:18-alpine", "node", True),
        ("openjdk:17-slim", "openjdk:11-jre-slim", "www-data", True),
        ("openjdk:17-slim", "openjdk:17", "www-data", False),  # Oracle Linux: no base-passwd
        ("eclipse-temurin:17-jdk", "eclipse-temurin:17-jre-ubi9-minimal", "nobody", False),
    ],
)
def test_account_change_compares_the_images_own_accounts(
    build: str, runtime: str, name: str, same: bool
) -> None:
    """From the images' /etc/passwd (round 24: read in each stand-in; ``docker run --user
    nobody`` gave HOME / on alpine, /nonexistent on Debian and distroless)."""
    assert (account_change(build, runtime, name) is None) is same


@pytest.mark.parametrize(
    ("build", "runtime", "uid", "same"),
    [
        ("golang:1.22", "gcr.io/distroless/static-debian12:nonroot", "65532", False),
        ("golang:1.22", "gcr.io/distroless/static-debian12", "65534", True),
        ("golang:1.22", "gcr.io/distroless/static-debian12", "1000", True),  # neither known
        ("node:18", "node:18-slim", "1000", True),
        ("node:18", "gcr.io/distroless/nodejs18-debian12", "1000", False),
        # Ubuntu 23.04+ ships ubuntu 1000:1000 (built on a stand-in with noble's account:
        # USER 1000 ran as gid 1000 with HOME /home/ubuntu, gid 0 and HOME / without it)
        ("ubuntu:24.04", "debian:12-slim", "1000", False),
        ("ubuntu:22.04", "debian:12-slim", "1000", True),
        ("maven:3.8.6-eclipse-temurin-17", "eclipse-temurin:17-jre", "1000", False),  # unknown
        ("maven:3-eclipse-temurin-17", "eclipse-temurin:17-jre", "1000", True),  # both move
        ("eclipse-temurin:17-jdk-jammy", "eclipse-temurin:17-jre", "1000", False),
        ("eclipse-temurin:17-jdk-jammy", "eclipse-temurin:17-jre-jammy", "1000", True),
        ("eclipse-temurin:21-jdk-noble", "eclipse-temurin:21-jre", "1000", True),
        ("eclipse-temurin:17-jdk-jammy", "gcr.io/distroless/java17-debian12", "1000", True),
        ("maven:3.8.6-eclipse-temurin-17", "eclipse-temurin:17-jre", "1001", True),
    ],
)
def test_uid_change_compares_the_account_each_image_gives_a_numeric_user(
    build: str, runtime: str, uid: str, same: bool
) -> None:
    """Docker takes a numeric USER's group and HOME from the image's /etc/passwd (built, round
    24: USER 65532 ran in golang as gid 0 with HOME /, on distroless:nonroot with 65532 and
    /home/nonroot; USER 65532:65532 kept HOME / and /home/nonroot)."""
    assert (uid_change(build, runtime, uid) is None) is same


@pytest.mark.parametrize(
    "text, closed",
    [
        ("click==8.1.7\n    # via flask\nflask==3.0.3\n    # via -r requirements.in\n", True),
        ("click==8.1.7  # via flask\nflask==3.0.3  # via -r requirements.in\n", True),
        (f"flask==3.0.3 \\\n   {HASH.strip()}\n    # via -r requirements.in\n", True),
        ("flask==3.0.3\n    # via -r requirements.in\nclick==8.1.7\n", False),  # one without
        ("flask==3.0.3  # the web framework\n", False),
        # built: the extra's psycopg installed unlisted; the split lacked libpq
        (
            "greenlet==3.1.1\n    # via sqlalchemy\nsqlalchemy[postgresql_psycopg]==2.0.36\n"
            "    # via -r requirements.in\n",
            False,
        ),
    ],
)
def test_pip_compile_output_without_its_header_lists_every_dependency(
    tmp_path: Path, text: str, closed: bool
) -> None:
    """``pip-compile --no-header`` (and ``uv pip compile --no-header``) leave out the
    "autogenerated by" line but annotate every package with ``# via``: the list is complete
    (built: a Flask app from such a file split onto python:3-slim answered the same)."""
    ctx = _context(tmp_path, {"requirements.txt": text})
    assert read_requirements(ctx, ["requirements.txt"]).closed is closed


@pytest.mark.parametrize(
    ("version", "spec", "met"),
    [
        ("1.2.3", "^1.2", True),
        ("2.0.0", "^1.2", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.4", "^0.0.3", False),
        ("0.9.0", "^0.x", True),
        ("0.1.5", "^0.0", False),
        ("1.2.9", "~1.2", True),
        ("1.3.0", "~1", True),
        ("2.0.0", "~1", False),
        ("1.3.0", ">1.2", True),
        ("1.2.9", ">1.2", False),
        ("1.2.9", "<=1.2", True),
        ("1.3.0", "<=1.2", False),
        ("1.9.9", "1.2.3 - 1", True),
        ("2.0.0", "1.2.3 - 1", False),
        ("2.0.0", "1.x || >=2.0.0 <2.0.1", True),
        ("1.0.0", ">= 1.0.0", True),
        ("5.0.0", "*", True),
        ("1.0.0", ">*", False),
        ("1.0.0", "latest", None),
        # round 24: prereleases as node-semver 7.6.2 (npm 10.8.2's) reads them
        ("1.0.0", "1.0.0-beta", False),
        ("1.0.0-beta.2", "1.0.0-beta", False),
        ("1.0.0-rc.1", "*", True),  # npm's dep-valid: `*` takes any version
        ("1.0.0-rc.1", "x", False),
        ("1.2.3-rc.2", "^1.2.3-rc.1", True),
        ("1.2.4-rc.1", "^1.2.3-rc.1", False),  # no comparator with a 1.2.4 prerelease
        ("1.2.4", "^1.2.3-rc.1", True),
        ("1.2.3-rc.10", ">1.2.3-rc.9", True),  # numeric identifiers compare as numbers
        ("1.2.3-rc.a", ">1.2.3-rc.9", True),  # words after numbers
        ("1.2.3-rc", ">=1.2.3-rc.1", False),  # fewer identifiers first
        ("2.0.0-0", "<2.0.0", False),  # no comparator with a 2.0.0 prerelease
        ("2.0.0-0", "<2.0.0 >=2.0.0-0", True),
        ("2.0.0-0", "1.2.3-0 - 2.0.0", False),
        ("2.0.0-beta", "2.0.0-alpha - 2", True),
        ("3.0.0-canary.1", "^2.1.0", False),
        ("v1.2.3", "^1.2", True),
        ("1.2.3+build.5", "=1.2.3", True),
        ("1.2.3", "^1.2.3+build", True),
        ("1.2.3", "1.2-1", None),  # not a node-semver range (npa: a tag)
    ],
)
def test_semver_ranges_are_read_as_node_semver_reads_them(
    version: str, spec: str, met: bool | None
) -> None:
    """Round 23: npm's overrides take node-semver ranges; the examples of its README."""
    assert semver_satisfies(version, spec) is met


def test_a_pnpm_lock_value_with_a_long_run_of_blanks_is_read_in_linear_time() -> None:
    """Round 25: the key regex's lazy value before ``[ \\t]*`` backtracked over each blank of
    a run inside the value (200 kB: minutes). Blanks after a value are still not part of it."""
    from support.deadline import deadline

    package = {"dependencies": {"ms": "^2.1.0"}}
    lock = "lockfileVersion: '6.0'\ndependencies:\n  ms:\n    specifier: {}\n    version: 2.1.2\n"
    with deadline(5, cpu=True):
        stale = pnpm_lock_stale(lock.format("x" + " " * 400_000 + "y"), package, "6.0")
    assert stale == "its specifiers are not package.json's"
    assert pnpm_lock_stale(lock.format("^2.1.0 \t "), package, "6.0") is None


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_many_overrides_over_a_long_lock_are_read_in_linear_time(shape: str) -> None:
    """Round 25: each nested override object walked the lock from its entries, and each key
    scanned every entry for its name: 900 levels over a chain of 8,000 entries took 27 s of
    CPU. Past MAX_NESTED_OVERRIDES objects the lock counts as not following them."""
    from support.deadline import deadline

    count = 20_000
    packages: dict[str, object] = {"": {"dependencies": {"a0": "^1.0.0"}}}
    for i in range(count):
        packages[f"node_modules/a{i}"] = {"version": "1.0.0", "dependencies": {f"a{i + 1}": "^1"}}
    if shape == "nested":
        overrides: dict[str, object] = {"a900": "1.0.0"}
        for i in reversed(range(900)):
            overrides = {f"a{i}": overrides}
    else:
        overrides = {f"a{i}": "1.0.0" for i in range(count)}
    with deadline(10, cpu=True):
        unmet = npm_override_unmet(packages, {"overrides": overrides})
        assert npm_lock_invalid(packages, {"overrides": overrides}) is None
    if shape == "nested":
        assert unmet == "overrides nest more than 32 objects, more than msdfix follows"
    else:
        assert unmet is None


@pytest.mark.parametrize(
    "go_work, local",
    [
        pytest.param("use ../x\n", set(), id="use-above-the-context"),
        pytest.param("use (\n\t./a\n\t../b\n)\n", {"a"}, id="block-inside-and-above"),
        pytest.param("use ./a // ./b\n// use ./c\n", {"a"}, id="comments"),
        pytest.param('use (\n\tlib\n\t"./c"\n)\n', {"lib", "c"}, id="bare-and-quoted"),
    ],
)
def test_go_work_uses_only_folders_of_the_context(
    tmp_path: Path, go_work: str, local: set[str]
) -> None:
    """go.work's ``use`` folders are relative to go.work and read with the go.mod lexer: one
    above the context holds code the build cannot see, even where the context has a folder
    of the same name (``rel.strip('./')`` read ``../x`` as ``x``)."""
    names = ["a", "b", "c", "x", "lib"]
    folders = {f"{name}/go.mod": f"module example.com/{name}\n" for name in names}
    _context(tmp_path, folders)  # above the context
    required = "".join(f"\texample.com/{name} v1.0.0\n" for name in names)
    files = {"go.mod": f"module m\n\nrequire (\n{required})\n", "go.work": f"go 1.21\n\n{go_work}"}
    unseen = unseen_go_modules(_context(tmp_path / "ctx", folders | files))
    assert unseen == [f"example.com/{name}" for name in names if name not in local]
