"""Markers of pyproject.toml against uv.lock's, as uv's ``satisfies`` compares them."""

from __future__ import annotations

import pytest

from msdfix.ecosystems.python.locks import uv_lock_stale
from msdfix.ecosystems.python_markers import markers_agree

# (requires-python, pyproject.toml's marker, uv.lock's marker or None, whether `uv lock
# --locked --offline` passed): each row run with uv 0.13.9 on a project depending on six.
UV_VERDICTS = [
    (">=3.9", "python_version >= '3.8'", "python_full_version >= '3.8'", True),
    (">=3.9", "python_version >= '3.8'", None, True),
    (">=3.9", "python_version >= '3.10'", None, False),
    (">=3.9", "python_version > '3.8'", "python_full_version >= '3.9'", True),
    (">=3.9", "python_version > '3.8'", None, True),
    (">=3.8", "python_version > '3.8'", "python_full_version >= '3.9'", True),
    (">=3.8", "python_version > '3.8'", None, False),
    (">=3.8", "python_version <= '3.9'", "python_full_version < '3.10'", True),
    (">=3.8", "python_version == '3.9'", "python_full_version == '3.9.*'", True),
    (
        ">=3.8",
        "python_version == '3.9'",
        "python_full_version >= '3.9' and python_full_version < '3.10'",
        True,
    ),
    (
        ">=3.8",
        "python_version < '3.12' and sys_platform == 'linux'",
        "sys_platform == 'linux' and python_full_version < '3.12'",
        True,
    ),
    (
        ">=3.8",
        "python_version < '3.12' or sys_platform == 'linux'",
        "python_full_version < '3.12' or sys_platform == 'linux'",
        True,
    ),
    (
        ">=3.8",
        "python_version < '3.12' or sys_platform == 'linux'",
        "python_full_version < '3.12'",
        False,
    ),
    (">=3.8,<4", "python_version < '4'", None, True),
    (">=3.8", "python_version < '4'", None, False),
    (
        ">=3.10",
        "python_version >= '3.8' and platform_machine == 'x86_64'",
        "platform_machine == 'x86_64'",
        True,
    ),
    (
        ">=3.10",
        "python_version >= '3.8' and platform_machine == 'x86_64'",
        "platform_machine != 'aarch64'",
        False,
    ),
    (">=3.10", "python_full_version > '3.10.0'", "python_full_version >= '3.10.1'", False),
    (">=3.10", "python_full_version > '3.10.0'", "python_full_version > '3.10.0'", True),
    (
        ">=3.10",
        "python_version >= '3.8' and python_version < '3.9'",
        "python_version < '3.8'",
        True,
    ),
    (">=3.10", "os_name == 'nt' and python_version >= '3.8'", "os_name == 'nt'", True),
    (
        ">=3.10",
        "implementation_name == 'cpython'",
        "implementation_name == 'cpython' and python_version >= '3.6'",
        True,
    ),
    (
        ">=3.10",
        "sys_platform != 'win32'",
        "sys_platform != 'win32' and sys_platform != 'darwin'",
        False,
    ),
    (">=3.9,!=3.9.1", "python_full_version != '3.9.1'", None, False),
    (">=3.9", "python_version != '3.9'", "python_full_version >= '3.10'", True),
    ("==3.11.*", "python_version == '3.11'", None, True),
    ("==3.11.*", "python_version >= '3.12'", None, False),
    (">=3.9", "platform_system == 'Linux'", "sys_platform == 'linux'", True),
    (
        ">=3.9",
        "platform_system != 'Windows' and python_version >= '3.8'",
        "sys_platform != 'win32'",
        True,
    ),
    (">=3.9", "platform_system == 'FreeBSD'", "sys_platform == 'freebsd'", False),
    (
        ">=3.9",
        "platform_system == 'Darwin' or platform_system == 'Linux'",
        "sys_platform == 'darwin' or sys_platform == 'linux'",
        True,
    ),
    (">=3.9", "extra == 'x'", "extra == 'X'", True),
    (
        ">=3.9",
        "sys_platform == 'linux' and os_name == 'posix'",
        "os_name == 'posix' and sys_platform == 'linux'",
        True,
    ),
    (">=3.9", "sys_platform == 'linux' and os_name == 'posix'", "sys_platform == 'linux'", False),
    # round 24: `~=` sampled at its release and the next major (uv 0.13.9, 48 x 48 markers)
    (
        ">=3.8",
        "python_version ~= '3.10'",
        "python_full_version >= '3.10' and python_full_version < '4'",
        True,
    ),
    (
        ">=3.10",
        "python_version ~= '3.10'",
        "python_full_version >= '3.10' and python_full_version < '4'",
        True,
    ),
    (">=3.10", "python_version ~= '3.10'", "python_full_version >= '3.10'", False),
    (">=3.10", "python_version ~= '3.10'", None, False),
    (
        ">=3.8",
        "python_version ~= '3.10'",
        "python_full_version >= '3.10' and python_full_version < '3.12'",
        False,
    ),
]


def _project(python: str, marker: str) -> dict[str, object]:
    """A parsed pyproject.toml depending on six under ``marker``."""
    return {
        "project": {
            "name": "app",
            "version": "0.1.0",
            "requires-python": python,
            "dependencies": [f"six; {marker}"],
        }
    }


def _lock(python: str, marker: str | None) -> dict[str, object]:
    """A parsed uv.lock whose project requires six under ``marker``."""
    entry = {"name": "six"} if marker is None else {"name": "six", "marker": marker}
    return {
        "requires-python": python,
        "package": [{"name": "app", "version": "0.1.0", "metadata": {"requires-dist": [entry]}}],
    }


@pytest.mark.parametrize(("python", "wanted", "locked", "in_step"), UV_VERDICTS)
def test_markers_agree_as_uv_decides(
    python: str, wanted: str, locked: str | None, in_step: bool
) -> None:
    """A marker uv rewrote (``python_version`` as ``python_full_version``, a bound
    requires-python implies dropped, ``platform_system == 'Linux'`` as ``sys_platform ==
    'linux'``) read as out of step,
    so a plain ``uv sync`` moved before the full COPY was rated unsafe where uv kept the
    lock; a marker that selects other environments is still out of step."""
    assert markers_agree(wanted, locked or "", python) is in_step
    stale = uv_lock_stale(_project(python, wanted), _lock(python, locked))
    assert (stale is None) is in_step, stale


# Round 25, uv 0.13.9's ``uv lock --locked`` on a lock it wrote from ``python_version in '3.11
# 3.12'`` (as the bounds below) under requires-python ``>=3.11``, pyproject.toml's marker varied.
_IN_LOCKED = "python_full_version >= '3.11' and python_full_version < '3.13'"


@pytest.mark.parametrize(
    ("wanted", "in_step"),
    [
        ("python_version in '3.11 3.12'", True),
        ("python_version in '3.12 3.11'", True),
        ("python_version in '3.10 3.11 3.12'", True),
        ("python_version in '3.11'", False),
        ("python_version in '3.11 3.12 3.13'", False),
        ("python_version not in '3.13'", False),
        ("python_version not in '3.10'", False),
    ],
)
def test_python_version_in_is_a_list_of_releases_as_uv_reads_it(wanted: str, in_step: bool) -> None:
    """uv reads ``python_version in '3.11 3.12'`` as a list of releases (packaging as a
    substring test), and wrote it as the bounds: the pair had read as unknown, out of step,
    so a plain ``uv sync`` moved before the full COPY was unsafe where uv kept the lock."""
    assert markers_agree(wanted, _IN_LOCKED, ">=3.11") is in_step
    stale = uv_lock_stale(_project(">=3.11", wanted), _lock(">=3.11", _IN_LOCKED))
    assert (stale is None) is in_step, stale


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("'linux' in sys_platform", "sys_platform == 'linux'"),
        ("sys_platform in 'linux darwin'", "sys_platform == 'linux' or sys_platform == 'darwin'"),
        ("platform_release >= '5.4'", "platform_release > '5.3'"),
        ("python_version >= '3.9rc1'", "python_full_version >= '3.9'"),
    ],
)
def test_markers_msdfix_cannot_sample_agree_only_with_their_own_text(
    first: str, second: str
) -> None:
    """A comparison msdfix does not sample (``in``, an ordering of another variable,
    a pre-release literal) is unknown: the pair reads as differing, the same text agrees."""
    assert not markers_agree(first, second, ">=3.8")
    assert markers_agree(first, first, ">=3.8")
