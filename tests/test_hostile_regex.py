"""Regular expressions over hostile context files and RUN words run in linear time.

Each shape below took minutes before (a pattern that scanned the rest of the file from every
line, or backtracked over every split of a long word) and takes well under a second now.
"""

from __future__ import annotations

import time
from pathlib import Path

from msdfix.ecosystems.go import cgo_free, unseen_go_modules
from msdfix.ecosystems.node.managers import MANAGERS
from msdfix.ecosystems.node.npm_lock import npm_keeps_v1_lock
from msdfix.ecosystems.node.pnpm_lock import may_run_install_scripts, pnpm_lock_format
from msdfix.model.context import BuildContext
from msdfix.transforms.cache_mount.steps import brace_words
from support.deadline import deadline

LINES = 200_000
BUDGET = 5.0  # seconds of CPU; each shape took minutes before


def _context(root: Path, files: dict[str, str]) -> BuildContext:
    for name, text in files.items():
        (root / name).write_text(text)
    return BuildContext(root)


def test_go_mod_blank_lines_and_unclosed_require_blocks_are_read_in_linear_time(
    tmp_path: Path,
) -> None:
    """``^\\s*`` ran over every blank line after each blank line, and ``require\\s*\\((.*?)^\\)``
    scanned to the end of the file from each unclosed block."""
    go_mod = (
        "module x\n\ngo 1.21\n" + "\n" * LINES + "require (\n\ta.b/c v1.0.0\n)\n"
        "replace a.b/c => ./c\nrequire d.e/f v1.0.0\n" + "require (\n" * (LINES // 10)
    )
    ctx = _context(tmp_path, {"go.mod": go_mod, "go.work": "go 1.21\n" + "\n" * LINES})
    start = time.process_time()
    unseen = unseen_go_modules(ctx)
    assert "d.e/f" in unseen and "a.b/c" not in unseen
    assert time.process_time() - start < BUDGET


def test_a_require_block_is_read_up_to_its_own_closing_line(tmp_path: Path) -> None:
    """Two blocks, each closed, list the modules of both and nothing between them."""
    go_mod = (
        "module x\nrequire (\n\ta/b v1\n)\nreplace a/b => ../b\nexclude g/h v1\n"
        "require (\n\tc/d v1\n)\n"
    )
    unseen = unseen_go_modules(_context(tmp_path, {"go.mod": go_mod}))
    assert "c/d" in unseen and "a/b" not in unseen and "g/h" not in unseen


def test_a_pnpm_lock_of_blank_lines_is_read_in_linear_time(tmp_path: Path) -> None:
    """A lock whose packages cannot be listed is searched for a dependencies key; ``^\\s*``
    ran over every blank line after each blank line."""
    pnpm = next(m for m in MANAGERS if m.id == "pnpm")
    lock = "lockfileVersion: '6.0'\n" + "\n" * LINES
    ctx = _context(tmp_path, {"pnpm-lock.yaml": lock})
    start = time.process_time()
    assert may_run_install_scripts(ctx, pnpm, ["install", "--frozen-lockfile"]) is False
    assert time.process_time() - start < BUDGET


def test_a_word_of_many_commas_after_a_brace_is_expanded_in_linear_time() -> None:
    """``\\{([^{}]*,[^{}]*)\\}`` backtracked over every comma of an unclosed brace."""
    start = time.process_time()
    assert brace_words("/root/.cache/{" + "," * LINES) == ["/root/.cache/{" + "," * LINES]
    assert time.process_time() - start < BUDGET
    assert brace_words("/var/{tmp,cache}/x") == ["/var/tmp/x", "/var/cache/x"]
    assert brace_words("/a/{b,c,d}") == ["/a/b", "/a/c", "/a/d"]


def test_a_go_mod_of_blank_lines_is_checked_for_requirements_in_linear_time(
    tmp_path: Path,
) -> None:
    """split-stages' cgo check looked for a ``require`` line with ``^\\s*``, which ran over
    every blank line after each one (200,000 blank lines: minutes)."""
    (tmp_path / "main.go").write_text("package main\n")
    with deadline(20):
        ctx = _context(tmp_path, {"go.mod": "module x\n" + "\n" * LINES + "require a.b/c v1\n"})
        assert cgo_free(ctx, [], "") is False  # a module from the proxy: not readable
        ctx = _context(tmp_path, {"go.mod": "module x\n" + "\n \t" * LINES + "go 1.21\n"})
        assert cgo_free(ctx, [], "") is True


RUN_WORDS = 250_000  # a RUN of 1 MB, written on continuation lines


def test_a_long_run_is_read_for_an_npm_upgrade_in_linear_time() -> None:
    """``\\bnpm\\b[^\\n;&|]*[ \\t]npm`` was tried from every ``npm`` of a command: ``npm-``
    250,000 times (1 MB) took minutes; the answer is read from the first ``npm``."""
    with deadline(20):
        assert npm_keeps_v1_lock("node", "14", ["npm-" * RUN_WORDS]) is True
        assert npm_keeps_v1_lock("node", "14", ["npm-" * RUN_WORDS + " npm"]) is False
    assert npm_keeps_v1_lock("node", "14", ["npm ci; echo npm"]) is True
    assert npm_keeps_v1_lock("node", "14", ["npm i -g npm", "true"]) is False
    assert npm_keeps_v1_lock("node", "14", ["x; npm i -g yarn npm"]) is False


def test_a_long_run_is_read_for_the_pnpm_it_installs_in_linear_time() -> None:
    """A manager, a verb and ``pnpm`` were tried from each manager and each verb of a command:
    ``pnpm/`` 200,000 times took minutes (cubic); the first manager and verb decide."""
    with deadline(20):
        assert pnpm_lock_format(["pnpm/" * (RUN_WORDS // 5 * 4)], None) is None
        assert pnpm_lock_format(["npm i " * RUN_WORDS + "-g pnpm@8"], None) == "6.0"
    assert pnpm_lock_format(["npm i -g pnpm@9 && corepack use pnpm"], None) is None
    assert pnpm_lock_format(["echo x; corepack prepare pnpm@9.1.0 --activate"], None) == "9.0"
    assert pnpm_lock_format(["echo npm; pnpm add -g pnpm@7"], None) == "5.4"


def test_a_binding_gyp_of_many_pkg_config_words_is_read_in_linear_time(tmp_path: Path) -> None:
    """The search for ``--libs`` after a ``pkg-config`` ran to the line's end from each one:
    a binding.gyp line of ``pkg-config`` 90,000 times (1 MB) took minutes."""
    from msdfix.model.native_loads import SUFFIXES, native_need

    gyp = '{"libraries": ["' + "pkg-config " * 90_000 + '"]}\n'
    with deadline(20):
        ctx = _context(tmp_path, {"binding.gyp": gyp})
        assert native_need(ctx, patterns=SUFFIXES["node"]) is None
    gyp = '{"libraries": ["<!@(pkg-config pkg-config --libs gtk+-3.0)"]}\n'
    need = native_need(_context(tmp_path, {"binding.gyp": gyp}), patterns=SUFFIXES["node"])
    assert need is not None and "gtk" in need


def test_an_npmrc_of_blank_lines_is_read_for_legacy_peer_deps_in_linear_time(
    tmp_path: Path,
) -> None:
    """split-stages' prod-deps check looked for ``legacy-peer-deps`` with ``^\\\\s*``, which ran
    over every blank line after each one: 40,000 took 5 s, 200,000 over a minute."""
    from msdfix.engine import Settings, rewrite

    lock = (
        '{"name": "a", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "a", '
        '"dependencies": {"ms": "2.1.3"}}, "node_modules/ms": {"version": "2.1.3"}}}'
    )
    files = {
        "package.json": '{"name": "a", "dependencies": {"ms": "2.1.3"}}',
        "package-lock.json": lock, "index.js": "console.log(1)\n", ".npmrc": "\n" * LINES,
    }  # fmt: skip
    text = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
    with deadline(20):
        result = rewrite(
            text, None, _context(tmp_path, files), Settings(frozenset({"split-stages"}))
        )
    assert "prod-deps" in result.output


def test_a_run_of_many_config_verbs_is_read_for_cache_settings_in_linear_time() -> None:
    """cache-mount's ``npm config set cache ...`` pattern was tried from each program and each
    verb of a command: ``npm set `` 500 times (4 kB) took 67 s (cubic in the command)."""
    from msdfix.engine import Settings, rewrite

    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json package-lock.json ./\n"
        f"RUN echo cache; {'npm set ' * 2_000}\nRUN npm ci\n"
    )
    with deadline(20):
        result = rewrite(text, None, None, Settings(frozenset({"cache-mount"})))
    assert "--mount=type=cache" in result.output
    moved = text.replace("echo cache; ", "npm config set cache /tmp/c; ")
    assert (
        "--mount=type=cache"
        not in rewrite(moved, None, None, Settings(frozenset({"cache-mount"}))).output
    )


def test_a_run_of_many_mkdir_words_is_read_for_the_copy_destination_in_linear_time(
    tmp_path: Path,
) -> None:
    """Whether a RUN's ``mkdir`` makes a COPY's destination a directory was tried from each
    ``mkdir`` of the command: 20,000 of them in one RUN (120 kB) took 80 s."""
    from msdfix.engine import Settings, rewrite

    words = ["mkdir"] * 20_000
    lines = [" ".join(words[i : i + 5_000]) for i in range(0, len(words), 5_000)]
    run = "RUN " + " \\\n ".join(lines)
    text = f"FROM node:18\n{run}\nCOPY package.json /app\nRUN npm install\n"
    ctx = _context(tmp_path, {"package.json": "{}"})
    with deadline(30):
        rewrite(text, None, ctx, Settings(frozenset({"split-stages"})))
