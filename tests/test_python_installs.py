"""Lock entries no Linux install of CPython uses are no evidence of a source build."""

from __future__ import annotations

from pathlib import Path

import pytest

from msdfix.ecosystems.python import install_evidence, wheel_evidence
from msdfix.ecosystems.python_markers import holds_on_every_linux, holds_on_linux
from msdfix.model import BuildContext

WHEEL = "{ url = 'https://x/%s-1-py3-none-any.whl' }"
SDIST = "sdist = { url = 'https://x/%s-1.tar.gz' }\n"


def _uv_package(name: str, deps: str = "", wheel: bool = True) -> str:
    """One uv.lock package: a pure wheel, or an sdist alone (built from source)."""
    files = f"wheels = [{WHEEL % name}]\n" if wheel else SDIST % name
    return (
        f'[[package]]\nname = "{name}"\nversion = "1"\n'
        f"source = {{ registry = 'https://pypi.org/simple' }}\n"
        f"dependencies = [{deps}]\n{files}\n"
    )


def _uv_builds(
    tmp_path: Path, root_deps: str, *packages: str, version: tuple[int, int] = (3, 11)
) -> tuple[str, ...]:
    """The packages a uv.lock of a virtual project ``root_deps`` says may build."""
    root = '[[package]]\nname = "app"\nversion = "0"\nsource = { virtual = "." }\n'
    root += f"dependencies = [{root_deps}]\n\n"
    text = 'version = 1\nrequires-python = ">=3.9"\n\n' + root + "".join(packages)
    (tmp_path / "uv.lock").write_text(text)
    return wheel_evidence(BuildContext(tmp_path), "uv", version).builds


def test_uv_windows_only_edge_is_not_installed(tmp_path: Path) -> None:
    """docker-py's ``pywin32; sys_platform == 'win32'``: pywin32 has Windows wheels only."""
    builds = _uv_builds(
        tmp_path,
        '{ name = "docker" }',
        _uv_package("docker", '{ name = "pywin32", marker = "sys_platform == \'win32\'" }'),
        _uv_package("pywin32", wheel=False),
    )
    assert builds == ()


def test_uv_only_macos_paths_reach_nothing(tmp_path: Path) -> None:
    """A package below a macOS-only one is not installed either; one another way reaches
    on Linux is."""
    builds = _uv_builds(
        tmp_path,
        '{ name = "pyobjc", marker = "platform_system == \'Darwin\'" }, { name = "shared" }',
        _uv_package("pyobjc", '{ name = "pyobjc-core" }, { name = "shared" }', wheel=False),
        _uv_package("pyobjc-core", wheel=False),
        _uv_package("shared", wheel=False),
    )
    assert builds == ("shared",)


@pytest.mark.parametrize(
    "marker",
    [
        "sys_platform == 'linux' or sys_platform == 'win32'",
        "platform_machine == 'aarch64'",
        "python_full_version >= '3.11.4'",
        "extra == 'gpu'",  # msdfix cannot evaluate an extra: it holds
        "platform_release >= '5'",  # a variable msdfix does not sample: it holds
        "sys_platform === 'win32'",  # invalid: it holds
    ],
)
def test_uv_edge_that_may_hold_keeps_its_package(tmp_path: Path, marker: str) -> None:
    """An edge true on Linux, or one msdfix cannot read, keeps its package."""
    builds = _uv_builds(
        tmp_path,
        '{ name = "lib", marker = "' + marker.replace('"', '\\"') + '" }',
        _uv_package("lib", wheel=False),
    )
    assert builds == ("lib",)


def test_uv_python_version_edges_follow_the_minor_version(tmp_path: Path) -> None:
    """``python_full_version < '3.11'`` holds for 3.10, never for 3.11."""
    args = (
        '{ name = "tomli", marker = "python_full_version < \'3.11\'" }',
        _uv_package("tomli", wheel=False),
    )
    assert _uv_builds(tmp_path, *args) == ()
    assert _uv_builds(tmp_path, *args, version=(3, 10)) == ("tomli",)


def test_uv_forks_lead_to_the_version_an_edge_names(tmp_path: Path) -> None:
    """A lock forked by Python version holds two numpys; each edge names its version, so the
    old one's sdist is no evidence for 3.11 (an edge without a version reaches both)."""
    old = _uv_package("numpy", wheel=False).replace('version = "1"', 'version = "1.24.4"')
    new = _uv_package("numpy").replace('version = "1"', 'version = "2.1.0"')
    edges = (
        '{ name = "numpy", version = "1.24.4", marker = "python_full_version < \'3.9\'" },'
        ' { name = "numpy", version = "2.1.0", marker = "python_full_version >= \'3.9\'" }'
    )
    assert _uv_builds(tmp_path, edges, old, new) == ()
    assert _uv_builds(tmp_path, edges, old, new, version=(3, 8)) == ("numpy",)
    assert _uv_builds(tmp_path, '{ name = "numpy" }', old, new) == ("numpy",)


def test_uv_groups_and_extras_count(tmp_path: Path) -> None:
    """Every optional dependency and group of uv.lock counts as a way to a package."""
    root = (
        '[[package]]\nname = "app"\nversion = "0"\nsource = { editable = "." }\n'
        '[package.optional-dependencies]\ngpu = [{ name = "cuda" }]\n'
        '[package.dev-dependencies]\ndev = [{ name = "pytest" }]\n\n'
    )
    text = "version = 1\n\n" + root + _uv_package("cuda", wheel=False)
    (tmp_path / "uv.lock").write_text(text + _uv_package("pytest", wheel=False))
    (tmp_path / "pyproject.toml").write_text("[build-system]\n")
    builds = wheel_evidence(BuildContext(tmp_path), "uv", (3, 11)).builds
    assert {"cuda", "pytest"} <= set(builds)


POETRY_21 = """
[[package]]
name = "jupyter-core"
version = "5.7.2"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [{file = "jupyter_core-5.7.2-py3-none-any.whl", hash = "sha256:0"}]

[package.dependencies]
pywin32 = {version = ">=300", markers = "sys_platform == \\"win32\\""}

[[package]]
name = "pywin32"
version = "312"
optional = false
python-versions = "*"
groups = ["main"]
%s
files = [{file = "pywin32-312-cp311-cp311-win_amd64.whl", hash = "sha256:0"}]

[metadata]
lock-version = "%s"
python-versions = "^3.11"
content-hash = "0"
"""


@pytest.mark.parametrize(
    ("markers", "builds"),
    [
        ('markers = "sys_platform == \\"win32\\" and platform_python_implementation != \\"PyPy\\""', ()),
        ('markers = {main = "sys_platform == \\"win32\\"", dev = "os_name == \\"nt\\""}', ()),
        ('markers = {main = "sys_platform == \\"win32\\"", dev = "os_name == \\"posix\\""}', ("pywin32",)),
        ("", ("pywin32",)),  # no markers: every environment
    ],
)  # fmt: skip
def test_poetry_21_reads_each_package_markers(
    tmp_path: Path, markers: str, builds: tuple[str, ...]
) -> None:
    """poetry 2.x's lock-version 2.1 ``markers``: one, or one per group (absent: ``*``)."""
    text = POETRY_21 % (markers, "2.1")
    if "dev" in markers:
        text = text.replace('groups = ["main"]\n' + markers, 'groups = ["main", "dev"]\n' + markers)
    (tmp_path / "poetry.lock").write_text(text)
    assert wheel_evidence(BuildContext(tmp_path), "poetry", (3, 11)).builds == builds


def test_older_poetry_lock_follows_dependency_markers(tmp_path: Path) -> None:
    """A lock-version 2.0 lock: the edge's ``markers``; a package pyproject.toml names, or
    a lock without pyproject.toml, counts as installed."""
    (tmp_path / "poetry.lock").write_text(POETRY_21 % ("", "2.0"))
    ctx = BuildContext(tmp_path)
    assert wheel_evidence(ctx, "poetry", (3, 11)).builds == ("pywin32",)
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\njupyter-core = "5.7.2"\n'
    (tmp_path / "pyproject.toml").write_text(pyproject)
    assert wheel_evidence(BuildContext(tmp_path), "poetry", (3, 11)).builds == ()
    (tmp_path / "pyproject.toml").write_text(pyproject + 'pywin32 = "*"\n')
    assert wheel_evidence(BuildContext(tmp_path), "poetry", (3, 11)).builds == ("pywin32",)


PDM = """
[metadata]
groups = ["default"]
strategy = [%s]
lock_version = "4.5.0"
content_hash = "sha256:0"

[[package]]
name = "docker"
version = "7.1.0"
groups = ["default"]
dependencies = ["pywin32>=304; sys_platform == \\"win32\\"", "requests>=2.26.0"]
files = [{file = "docker-7.1.0-py3-none-any.whl", hash = "sha256:0"}]

[[package]]
name = "pywin32"
version = "312"
groups = ["default"]
marker = "%s"
files = [{file = "pywin32-312-cp311-cp311-win_amd64.whl", hash = "sha256:0"}]

[[package]]
name = "requests"
version = "2.32.3"
groups = ["default"]
files = [{file = "requests-2.32.3.tar.gz", hash = "sha256:0"}]
"""


@pytest.mark.parametrize(
    ("strategy", "marker", "builds"),
    [
        ('"inherit_metadata"', 'sys_platform == \\"win32\\"', ("requests",)),
        ('"inherit_metadata"', 'sys_platform == \\"linux\\"', ("pywin32", "requests")),
        ('"inherit_metadata"', 'platform_version >= \\"1\\"', ("pywin32", "requests")),
        ("", "", ("requests",)),  # an older lock: the markers of ``dependencies``
    ],
)
def test_pdm_reads_package_markers(
    tmp_path: Path, strategy: str, marker: str, builds: tuple[str, ...]
) -> None:
    """pdm's ``inherit_metadata`` ``marker`` of each package, else its dependencies'."""
    (tmp_path / "pdm.lock").write_text(PDM % (strategy, marker))
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["docker"]\n')
    assert wheel_evidence(BuildContext(tmp_path), "pdm", (3, 11)).builds == builds


@pytest.mark.parametrize(
    ("marker", "holds"),
    [
        ("os_name == 'nt'", False),
        ("implementation_name == 'pypy'", False),
        ("platform_machine == 'arm64'", False),  # macOS's name for it
        ("platform_machine == 'x86_64' and python_full_version == '3.11.7'", True),
        ("python_version < '3.11' or sys_platform == 'darwin'", False),
        ("'linux' in sys_platform", True),
        ("platform_release >= '5'", True),
        ("extra == 'x'", True),
        ("not a marker", True),
    ],
)
def test_holds_on_linux(marker: str, holds: bool) -> None:
    """Linux CPython 3.11 on either arch at any patch release; unknown holds."""
    assert holds_on_linux(marker, (3, 11)) is holds


@pytest.mark.parametrize(
    ("root", "sure"),
    [
        ('{ name = "psycopg" }, { name = "psycopg-binary" }', True),
        ('{ name = "psycopg" }', False),  # built: the extra left out, -slim lacked libpq
        (
            '{ name = "psycopg" }, { name = "psycopg-binary", marker = "sys_platform == \'win32\'" }',
            False,
        ),
        (
            '{ name = "psycopg" }, { name = "psycopg-binary", marker = "platform_machine == \'aarch64\'" }',
            False,
        ),
        (
            '{ name = "psycopg" }, { name = "psycopg-binary", marker = "implementation_name != \'pypy\'" }',
            True,
        ),
    ],
)
def test_uv_surely_installed_follows_plain_dependencies_that_hold_everywhere(
    tmp_path: Path, root: str, sure: bool
) -> None:
    """A package every Linux install installs: not one of an extra (a plain ``uv sync``
    leaves it out) nor one behind a marker some Linux build fails."""
    text = (
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "0"\n'
        f'source = {{ virtual = "." }}\ndependencies = [{root}]\n\n'
        '[package.optional-dependencies]\nbinary = [{ name = "psycopg-binary" }]\n\n'
        + _uv_package("psycopg")
        + _uv_package("psycopg-binary")
    )
    (tmp_path / "uv.lock").write_text(text)
    assert ("psycopg-binary" in wheel_evidence(BuildContext(tmp_path), "uv", (3, 11)).sure) is sure


@pytest.mark.parametrize(
    ("marker", "holds"),
    [
        ("implementation_name != 'pypy'", True),
        ("platform_machine == 'x86_64'", False),
        ("python_full_version >= '3.11.4'", False),  # not at 3.11.0
        ("python_version >= '3.9'", True),
        ("extra == 'binary'", False),
        ("not a marker", False),
    ],
)
def test_holds_on_every_linux(marker: str, holds: bool) -> None:
    """Every Linux CPython 3.11 on both arches at any patch release; unknown does not."""
    assert holds_on_every_linux(marker, (3, 11)) is holds


def test_a_workspace_members_dependencies_are_not_sure(tmp_path: Path) -> None:
    """A plain ``uv sync`` at the root installs the root project, not every member."""
    text = (
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "0"\n'
        'source = { virtual = "." }\ndependencies = [{ name = "psycopg" }]\n\n'
        '[[package]]\nname = "worker"\nversion = "0"\nsource = { editable = "worker" }\n'
        'dependencies = [{ name = "psycopg-binary" }]\n\n'
        + _uv_package("psycopg")
        + _uv_package("psycopg-binary")
    )
    (tmp_path / "uv.lock").write_text(text)
    assert wheel_evidence(BuildContext(tmp_path), "uv", (3, 11)).sure == {"app", "psycopg"}


@pytest.mark.parametrize(
    ("entry", "optional", "sure"),
    [
        ('{ name = "psycopg", extra = ["binary"] }', '{ name = "psycopg-binary" }', True),
        (  # uv 0.8.22 writes this marker for psycopg[binary]
            '{ name = "psycopg", extra = ["binary"] }',
            '{ name = "psycopg-binary", marker = "implementation_name != \'pypy\'" }',
            True,
        ),
        ('{ name = "psycopg", extra = ["c"] }', '{ name = "psycopg-binary" }', False),
        (
            '{ name = "psycopg", extra = ["binary"], marker = "sys_platform == \'win32\'" }',
            '{ name = "psycopg-binary" }',
            False,
        ),
        (
            '{ name = "psycopg", extra = ["binary"] }',
            '{ name = "psycopg-binary", marker = "platform_machine == \'aarch64\'" }',
            False,
        ),
    ],
)
def test_uv_surely_installed_follows_the_extras_a_dependency_names(
    tmp_path: Path, entry: str, optional: str, sure: bool
) -> None:
    """``psycopg[binary]`` in the project's dependencies: uv installs psycopg's ``binary``
    extra with it wherever the edge and the extra's own marker hold (built: -slim answered
    "binary" without libpq); another extra, or a marker some Linux fails, is not sure."""
    text = (
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "0"\n'
        f'source = {{ virtual = "." }}\ndependencies = [{entry}]\n\n'
        + _uv_package("psycopg")
        + f"[package.optional-dependencies]\nbinary = [{optional}]\n\n"
        + _uv_package("psycopg-binary")
    )
    (tmp_path / "uv.lock").write_text(text)
    assert ("psycopg-binary" in wheel_evidence(BuildContext(tmp_path), "uv", (3, 11)).sure) is sure


@pytest.mark.parametrize(
    ("options", "own"),
    [
        ([], True),
        (["--no-install-package", "psycopg-binary"], False),
        (["--no-install-package=Psycopg_Binary"], False),
        (["--no-install-package", "six"], True),
        (["--package", "member"], False),  # a member's dependencies, which are not read
    ],
)
def test_uv_sync_leaves_out_the_packages_it_is_told_to(
    tmp_path: Path, options: list[str], own: bool
) -> None:
    """``uv sync --no-install-package psycopg-binary`` installs psycopg[binary] without its
    libpq (built: uv 0.8.22; the split onto python:3.11-slim failed "libpq library not
    found" where python:3.11 answered "python"): psycopg then needs the system's libpq."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["psycopg[binary]"]\n'
    )
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "0"\n'
        'source = { virtual = "." }\ndependencies = [{ name = "psycopg", extra = ["binary"] }]\n'
        '\n[package.metadata]\nrequires-dist = [{ name = "psycopg", extras = ["binary"] }]\n\n'
        + _uv_package("psycopg")
        + '[package.optional-dependencies]\nbinary = [{ name = "psycopg-binary" }]\n\n'
        + _uv_package("psycopg-binary")
    )
    install = ("uv", ["sync", "--frozen", *options])
    evidence = install_evidence(BuildContext(tmp_path), [install], (3, 11), {})
    assert bool(evidence.own.get("psycopg")) is own, evidence  # False: libpq5 in the runtime
