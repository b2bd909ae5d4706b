"""Differential build harness (bench/differential.py): the pure parts, and a fixed sample of
Dockerfiles built as written and as msdfix rewrites them (real builds when Docker is reachable).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.verify.differential import (
    BUST_ARG,
    bust_points,
    classify_fs,
    insert_bust,
    make_context,
    normalise_image,
    private_mounts,
    screen,
)
from support import docker as support

BENCH = Path(__file__).resolve().parent.parent / "bench"
SAMPLE = BENCH / "differential" / "sample"
SAMPLES = sorted(p.name for p in SAMPLE.iterdir() if (p / "Dockerfile").is_file())
BASES = frozenset({"debian:bookworm", "debian:bookworm-slim", "python:3.12-slim", "node:18-slim"})


def _bench():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        import differential  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCH))
    return differential


# ---- selection ---------------------------------------------------------------------------------


def test_normalise_image():
    assert normalise_image("python") == "python:latest"
    assert normalise_image("docker.io/library/node:18") == "node:18"
    assert normalise_image("library/debian:bookworm") == "debian:bookworm"


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_pass_the_screen(name):
    assert screen((SAMPLE / name / "Dockerfile").read_text(), BASES).ok


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# syntax=docker/dockerfile:1\nFROM debian:bookworm\nRUN apt-get update\n", "syntax"),
        ("FROM centos:7\nRUN yum install -y jq\n", "base centos:7"),
        ("ARG V=12\nFROM debian:$V\nRUN apt-get update\n", "variable"),
        ("FROM debian:bookworm\nRUN curl -fsSL https://x.example/i.sh | sh\n", "curl"),
        ("FROM debian:bookworm\nRUN apt-get update && apt-get install jq\n", "without -y"),
        ("FROM debian:bookworm\nRUN apt-get install -y jq=1.5-1\n", "pins"),
        ("FROM debian:bookworm\nRUN apt-get install -y python-pip\n", "no longer"),
        ("FROM debian:bookworm\nCOPY --from=nginx:1 /etc/nginx /etc/nginx\n", "--from an image"),
        ("FROM debian:bookworm\nADD https://x.example/a.tgz /a\nRUN apt-get update\n", "ADD"),
        ("FROM python:3.12-slim\nRUN pip install -e .\n", "local path"),
        ("FROM node:18-slim\nRUN npm install && npm run build\n", "npm run"),
        ("FROM debian:bookworm\nRUN mkdir /app\n", "no apt, pip or npm"),
        ("FROM debian:bookworm\nRUN --mount=type=cache,target=/x apt-get update\n", "flags"),
    ],
)
def test_screen_rejects(text, reason):
    result = screen(text, BASES)
    assert not result.ok
    assert reason in result.reason


def test_screen_reads_a_long_flag_of_ys_in_linear_time():
    """``-[a-z]*y[a-z]*`` tried every "y" of a flag and scanned on from each before failing on
    the "Y": quadratic (200,000 took minutes)."""
    from support.deadline import deadline
    from support.fold import fold

    with deadline():
        text = fold(f"FROM debian:bookworm\nRUN apt-get install -{'y' * 200_000}Y jq\n")
        result = screen(text, BASES)
    assert not result.ok and "without -y" in result.reason


def test_screen_looks_into_sh_c_and_ranks_heavy_installs_last():
    light = screen(
        'FROM debian:bookworm\nRUN sh -c "apt-get update && apt-get install -y jq"\n', BASES
    )
    heavy = screen(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y build-essential\n", BASES
    )
    assert light.ok and heavy.ok
    assert light.cost < heavy.cost
    assert (light.manager_runs, heavy.manager_runs) == (1, 1)
    two = screen(
        "FROM debian:bookworm\nRUN apt-get update\nRUN mkdir /a\nRUN apt-get install -y jq\n", BASES
    )
    assert two.manager_runs == 2
    bad = screen('FROM debian:bookworm\nRUN bash -c "wget -q http://x.example/"\n', BASES)
    assert "wget" in bad.reason


def test_selection_is_ordered_and_matches_the_corpus():
    data = json.loads((BENCH / "differential" / "selection.json").read_text())
    files = data["files"]
    assert files == _bench().interleave(files)
    assert files[0]["runs"] > 1 and files[1]["runs"] == 1
    corpus = [e for e in files if e["file"].startswith("corpus/")]
    root = BENCH.parent.parent / "shared"
    if not corpus or not (root / "corpus").is_dir():
        pytest.skip("../shared/corpus is absent")
    from msdfix.verify.diffbuild import digest

    for entry in corpus:
        text = (root / entry["file"]).read_bytes().decode()
        assert digest(text) == entry["sha"], entry["file"]
        assert screen(text, frozenset(data["bases"])).ok


def test_a_result_of_another_rewrite_needs_a_build():
    """A recorded result counts only for the rewrite msdfix makes today (or `stale` and `run`
    would trust builds of older code)."""
    bench = _bench()
    data = json.loads((BENCH / "differential" / "selection.json").read_text())
    key = next(e["file"] for e in data["files"] if e["file"].startswith("corpus/"))
    if not (BENCH.parent.parent / "shared" / "corpus").is_dir():
        pytest.skip("../shared/corpus is absent")
    text = bench.source_text(key)
    today = {"input": bench.digest(text), "rewrite": bench.current_rewrite(key, text)}
    assert bench.needs_build([key], {key: today}) == []
    assert bench.needs_build([key], {key: today}, force=True) == [(key, text)]
    older = {**today, "rewrite": "0" * 16}
    assert bench.needs_build([key], {key: older}) == [(key, text)]
    assert bench.needs_build([key], {}) == [(key, text)]


# ---- build context -----------------------------------------------------------------------------


def test_make_context_files_dirs_and_manifests(tmp_path):
    text = (
        "FROM node:18-slim\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
        "COPY src/ /app/src\nCOPY *.conf /etc/\nCOPY . /app\n"
        "RUN pip install -r /app/requirements.txt\n"
    )
    made = make_context(text, tmp_path)
    assert json.loads((tmp_path / "package.json").read_text())["name"] == "app"
    assert json.loads((tmp_path / "package-lock.json").read_text())["lockfileVersion"] == 3
    assert (tmp_path / "src").is_dir()
    assert (tmp_path / "x.conf").is_file()
    assert (tmp_path / "requirements.txt").read_text() == ""  # valid for pip -r
    assert "src" in made and "x.conf" in made


def test_make_context_manifests_go_into_copied_directories(tmp_path):
    make_context(
        "FROM python:3.12-slim\nCOPY app/ /app\nRUN pip install -r /app/req.txt\n", tmp_path
    )
    assert (tmp_path / "app" / "req.txt").is_file()


# ---- cache busting -----------------------------------------------------------------------------

MOUNT = "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked "


def test_bust_points_skip_the_first_mounted_run_of_a_single_stage():
    text = (
        f"FROM debian:bookworm\n{MOUNT}apt-get update\nRUN echo hi\n{MOUNT}apt-get install -y jq\n"
    )
    assert bust_points(text) == [4]


def test_bust_points_keep_every_mounted_run_across_stages():
    text = f"FROM debian:bookworm AS a\n{MOUNT}apt-get update\nFROM debian:bookworm\n{MOUNT}apt-get update\n"
    assert bust_points(text) == [2, 4]


def test_insert_bust_is_a_pure_insertion_and_keeps_crlf():
    text = "FROM debian:bookworm\r\n# refresh\r\n  RUN apt-get update \\\r\n    && true\r\n"
    out = insert_bust(text, 3)
    assert out == text.replace("  RUN", f"ARG {BUST_ARG}\r\n  RUN", 1)


def test_private_mounts_give_each_mount_its_own_id():
    text = (
        "FROM debian:bookworm\n"
        "RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update\n"
        "RUN --mount=type=bind,source=.,target=/src \\\n"
        "    --mount=type=cache,id=apt,target=/var/cache/apt apt-get install -y jq\n"
    )
    out = private_mounts(text, lambda line: f"n{line}")
    assert out == text.replace(
        "sharing=locked ", "sharing=locked,id=/var/lib/apt/lists-n2 "
    ).replace("id=apt,", "id=apt-n3,")


# ---- filesystem differences --------------------------------------------------------------------


def test_classify_fs():
    original = {
        "etc/passwd": ("file", 900),
        "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease": ("file", 10),
        "etc/apt/apt.conf.d/docker-clean": ("file", 300),
        "usr/bin/jq": ("file", 30000),
        "srv": ("dir", 0),
        "root/.cache/pip/http/x": ("file", 5),
        "app/.npm/_logs/1.log": ("file", 5),
        "etc/ssl/private/ssl-cert-snakeoil.key": ("file", 1704),
    }
    rewrite_fs = {
        "etc/ssl/private/ssl-cert-snakeoil.key": ("file", 1708),
        "etc/passwd": ("file", 950),
        "usr/bin/jq": ("file", 30000),
        "srv": ("dir", 0),
        "usr/lib/x.so": ("link:y.so", 0),
    }
    diff = classify_fs(original, rewrite_fs)
    assert diff.expected == [
        "- app/.npm/_logs/1.log",
        "~ etc/ssl/private/ssl-cert-snakeoil.key",
        "- root/.cache/pip/http/x",
        "- var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
    ]
    assert diff.apt_config == ["- etc/apt/apt.conf.d/docker-clean"]
    assert diff.unexpected == ["~ etc/passwd", "+ usr/lib/x.so"]
    assert classify_fs(original, original).to_dict()["unexpected_count"] == 0


def test_classify_fs_compares_owners_modes_links_and_empty_directories():
    """What ``COPY --from`` may lose besides files: a directory's owner and mode, a symlink's
    target, an empty directory, a setuid bit."""
    original = {
        "app": ("dir", 0, "1000:1000 755"),
        "app/uploads": ("dir", 0, "0:0 777"),
        "app/public": ("link:assets", 0, "0:0"),
        "app/tool": ("file", 10, "0:0 4755"),
        "app/key": ("file", 3, "1000:0 600"),
        "tmp": ("dir", 0, "0:0 1777"),
        "root/.cache": ("dir", 0, "0:0 755"),
    }
    rewrite_fs = {
        "app": ("dir", 0, "0:0 755"),
        "app/public": ("dir", 0, "0:0 755"),
        "app/tool": ("file", 10, "0:0 755"),
        "app/key": ("file", 3, "1000:0 600"),
        "tmp": ("dir", 0, "0:0 1777"),
        "root/.cache": ("dir", 0, "0:0 700"),
    }
    diff = classify_fs(original, rewrite_fs)
    assert diff.unexpected == [
        "~ app (1000:1000 755 -> 0:0 755)",
        "~ app/public",
        "~ app/tool (0:0 4755 -> 0:0 755)",
        "- app/uploads",
    ]
    assert diff.expected == ["~ root/.cache (0:0 755 -> 0:0 700)"]
    assert diff.to_dict()["owner_mode"] == [diff.unexpected[0], diff.unexpected[2]]
    assert diff.to_dict()["owner_mode_count"] == 2
    assert classify_fs(original, dict(original)).unexpected == []


def test_classify_fs_expects_what_a_slim_base_leaves_out():
    """slim-base's debian -> debian-slim: docs, man pages and translations are missing from the
    rewrite (debuerreotype's path-excludes, its marker file new), as README's rule says; the
    same paths missing without a slimmed rewrite, or a program missing, stay unexpected."""
    full = {
        "usr/bin/file": ("file", 9, "0:0 755"),
        "usr/share/doc/file/changelog.gz": ("file", 5, "0:0 644"),
        "usr/share/doc/file/copyright": ("file", 5, "0:0 644"),
        "usr/share/man/man1/file.1.gz": ("file", 5, "0:0 644"),
        "usr/share/locale/de/LC_MESSAGES/file.mo": ("file", 5, "0:0 644"),
    }
    slim = {
        "usr/share/doc/file/copyright": ("file", 5, "0:0 644"),
        "etc/dpkg/dpkg.cfg.d/docker": ("file", 7, "0:0 644"),
    }
    diff = classify_fs(full, slim)
    assert diff.unexpected == ["- usr/bin/file"]
    assert len(diff.expected) == 4 and "+ etc/dpkg/dpkg.cfg.d/docker" in diff.expected
    unslimmed = classify_fs(full, {k: v for k, v in slim.items() if "dpkg" not in k})
    assert "- usr/share/man/man1/file.1.gz" in unslimmed.unexpected


def test_listing_entries_carry_owner_mode_and_link_target():
    import tarfile

    from msdfix.verify.diffbuild import entry

    def member(kind: bytes, **kw: object) -> tarfile.TarInfo:
        info = tarfile.TarInfo("x")
        info.type = kind
        for key, value in kw.items():
            setattr(info, key, value)
        return info

    assert entry(member(tarfile.DIRTYPE, uid=1000, gid=1000, mode=0o1777)) == (
        "dir", 0, "1000:1000 1777"
    )  # fmt: skip
    assert entry(member(tarfile.SYMTYPE, linkname="assets", mode=0o777)) == (
        "link:assets", 0, "0:0"
    )  # fmt: skip
    assert entry(member(tarfile.REGTYPE, size=5, mode=0o4755)) == ("file", 5, "0:0 4755")
    assert entry(member(tarfile.LNKTYPE, linkname="usr/bin/a", mode=0o755))[0] == "hardlink"


# ---- rendering ---------------------------------------------------------------------------------


def _record(**safe):  # type: ignore[no-untyped-def]
    base = {"builds": True, "changed": True, "size_ratio": 0.9, "config_diffs": [],
            "fs": {"expected": 1, "apt_config": [], "unexpected": [], "unexpected_count": 0},
            "bust": [], "cache_independent": True}  # fmt: skip
    return {"original": {"builds": True}, "safe": {**base, **safe}, "unsafe": {"changed": False}}


def test_render_counts_and_markers(tmp_path):
    bench = _bench()
    results = {
        "a": _record(),
        "b": _record(cache_independent=False, bust=[{"line": 3, "builds": False}]),
        "c": _record(size_ratio=1.2),
        "d": {"original": {"builds": False}},
    }
    lines = bench.summary_lines(results)
    assert lines[0].startswith("3 of 4 files built as written")
    assert "cache-independent: 2/3 (67%)" in lines[1]
    assert "more than 1% larger: 1" in lines[1]
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nintro\n")
    bench.write_section(readme, bench.render(results))
    once = readme.read_text()
    bench.write_section(readme, bench.render(results))
    assert readme.read_text() == once
    assert once.count(bench.START) == 1 and "- `b`: not cache-independent" in once
    assert "| `b` | yes | **no** |" in bench.render_table(results)


# ---- real builds -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harness():  # type: ignore[no-untyped-def]
    support.require_images(
        "debian:bookworm", "debian:bookworm-slim", "python:3.12-slim", "node:18-slim"
    )
    from msdfix.verify.diffbuild import Harness
    from msdfix.verify.docker import detect_client

    return Harness(detect_client(), timeout=300)


@pytest.mark.docker
@pytest.mark.parametrize("name", SAMPLES)
def test_sample_safe_rewrite_meets_the_targets(harness, tmp_path, name):
    text = (SAMPLE / name / "Dockerfile").read_text()
    record = harness.run_file(f"sample/{name}", text, tmp_path / name)
    assert record["original"]["builds"], record["original"].get("error")
    safe = record["safe"]
    assert safe["changed"], "the sample must exercise a rewrite"
    assert safe["builds"], safe.get("error")
    assert safe["cache_independent"], safe["bust"]
    assert safe["size_ratio"] <= 1.01
    assert safe["config_diffs"] == []
    assert safe["fs"]["unexpected"] == [] and safe["fs"]["apt_config"] == []
    unsafe = record["unsafe"]
    if unsafe.get("changed") and not unsafe.get("same_as_safe") and "skipped" not in unsafe:
        assert unsafe["builds"], unsafe.get("error")


@pytest.mark.docker
def test_harness_catches_lists_that_live_only_in_the_mount(harness, tmp_path):
    """A hand-written bad rewrite: builds cold, fails once the install RUN runs on empty mounts."""
    original = "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends jq\n"
    lists = "RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked "
    bad = f"FROM debian:bookworm-slim\n{lists}apt-get update\n{lists}apt-get install -y --no-install-recommends jq\n"
    make_context(original, tmp_path / "context")
    tag, info = harness.build(tmp_path, "original", original)
    try:
        assert info["builds"], info.get("error")
        orig = (tag, harness.listing(tag), support.inspect(tag))
        record = harness.rewrite_checks(tmp_path, "bad", bad, original, orig, bust=True)
    finally:
        support.remove_image(tag)
    assert record["builds"]
    assert record["cache_independent"] is False
    assert [b["line"] for b in record["bust"]] == [3]


def test_msdfix_rewrites_every_sample():
    for name in SAMPLES:
        text = (SAMPLE / name / "Dockerfile").read_text()
        out = rewrite(text, name, BuildContext(None), Settings()).output
        assert out != text, name
